"""`onnxlint fix`: a driver over the rules' fixes, whose written files are verified by onnxruntime before
they are moved into place.

A rule that can fix what it finds defines `fix(self, rewriter, diagnostic)` (and says how safe it is in
`applicability`); this module gives it the Rewriter (onnxlint/rewriter.py), writes the result beside its
target (onnxlint/write.py), has the sandboxed child check and run exactly those files beside the original
on the same inputs, and moves them into place only when their outputs agree.
"""
from __future__ import annotations

import math
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import onnx

from onnxlint.api import lint
from onnxlint.diagnostics import Severity
from onnxlint.graph import MAIN
from onnxlint.loader import load, weights_missing
from onnxlint.proto import display_name
from onnxlint.report import Report
from onnxlint.rewriter import Rewriter
from onnxlint.verify import Limits, referencing_the_file, run_child
from onnxlint.write import embedded_size, external_files, files_read_by, stage, with_data, write_model


class FixError(Exception):
    """A rewrite that could not be verified; nothing was written."""


@dataclass
class FixResult:
    # the rewritten model with its weights; None when nothing was rewritten, or when it was written to `output`
    model: onnx.ModelProto | None
    changes: list[str] = field(default_factory=list)  # one line per rewrite
    skipped: list[str] = field(default_factory=list)  # rewrites left out, and why
    max_abs_error: float = 0.0
    max_rel_error: float = 0.0
    tolerance: float = 0.0
    before: Report | None = None
    after: Report | None = None
    written: list[Path] = field(default_factory=list)  # the files delivered (model first), when an output was given
    notes: list[str] = field(default_factory=list)  # what the user should know about how they were written
    score_maps: dict = field(default_factory=dict)  # new score-map output → (the larger input, its executed shape)


def fixable_rules() -> dict:
    """Code → rule class of every rule (built-in or plugin) that declares a fix."""
    from onnxlint.catalog import all_rules
    from onnxlint.rule import Rule

    return {r.code: r for r in all_rules() if r.fix is not Rule.fix}


def fix(source, *, output: str | os.PathLike | None = None, select=None, limits: Limits = Limits(),
        scale_memory: bool = True, keep_model: bool = True, **lint_options) -> FixResult:
    """Rewrite a copy of the model with every selected rule's fix (by default the fixable rules on by default),
    write it,
    and verify the written files with onnxruntime. With `output` (which may be the source itself, for an
    in-place rewrite) they are then moved there; without it they are verified in a temporary folder and
    removed, and `result.model` holds the rewritten model with its weights (unless `keep_model` is false).
    Each rule's `fix` rewrites the findings it reported, through a Rewriter. `scale_memory`: the onnxruntime
    runs may use the memory limit plus twice the model's files (a session holds the weights)."""
    from onnxlint.api import analyse, make_settings

    rules = fixable_rules()
    select = tuple(select) if select is not None else tuple(code for code, r in rules.items() if r.default_enabled)
    # the deployment view too: a fix may make a layer run in int8 on onnxruntime's CPU provider (OL601)
    lint_options = {"target": "ort-cpu", **lint_options}
    lint_options["extend_select"] = [*lint_options.get("extend_select", ()), *select]  # an opt-in fix (OL402) too
    settings = make_settings(**lint_options)
    before, ctx = analyse(load(source, max_size=settings.max_size), settings)
    if ctx.loaded.unsafe_external:  # the same refusal as --verify: nothing outside the model's folder is read
        raise FixError(f"refused: the model has unsafe external data (OL003: {ctx.loaded.unsafe_external[0]}); "
                       "nothing was read or written")
    shapeless = [name for name, dims in ctx.shapes.input_dims.items() if dims is None]
    if shapeless:  # no dense tensor to feed it: no run, so no rewrite could be verified
        raise FixError(f"input '{display_name(shapeless[0])}' has no dense shape to feed (a sparse tensor, no type, "
                       "or no dims: --input-shape gives them), so the fix cannot be verified by running the model; "
                       "nothing was written")
    instances = {code: rules[code](settings.options.get(code)) for code in select if code in rules}
    findings = [d for d in before.diagnostics if d.code in instances and d.location == MAIN]  # not in subgraphs
    if not findings:
        return FixResult(None, before=before)
    # weights stay in the original's files, referenced, until the writer copies them: only what a rewrite
    # changes is read into memory
    model = ctx.loaded.copy_with_references() or ctx.loaded.copy_with_weights()
    _refuse_unfixable(before, model)
    rewriter = Rewriter(model, ctx)
    for d in findings:
        instances[d.code].fix(rewriter, d.match)
    result = FixResult(None, rewriter.changes, rewriter.skipped, before=before)  # None: nothing was rewritten
    if rewriter.changes:
        rewriter.prune()
        original = _original_files(ctx.loaded)
        if scale_memory:
            size = sum(p.stat().st_size for p in original) if original else embedded_size(ctx.loaded.model)
            limits = Limits(limits.seconds, limits.memory + 2 * size)
        _deliver(rewriter, result, output, original, limits, lint_options)
        if output is None and keep_model:
            _read_weights_in(model, ctx.loaded.base_dir)
        result.model = model if output is None and keep_model else None
    return result


def _deliver(rewriter: Rewriter, result: FixResult, output, original: set[Path], limits: Limits,
             lint_options: dict) -> None:
    """Write the rewritten model beside `output` (or in a temporary folder), verify those files, and move them
    into place: the weights first, then the model. Nothing is left behind when verification fails."""
    ctx = rewriter.ctx
    with tempfile.TemporaryDirectory(prefix="onnxlint-fix-") as tmp:
        target = Path(output) if output is not None else Path(tmp) / "fixed.onnx"
        replaced = files_read_by(target)
        staged = stage(rewriter.model, target, external=ctx.loaded.external_data, avoid=original | replaced,
                       base_dir=ctx.loaded.base_dir)
        try:
            designed = {**{n: tuple(d) for n, d in ctx.shapes.input_dims.items()},
                        **(lint_options.get("input_shapes") or {})}
            options = {**lint_options, "input_shapes": designed}  # the inputs' height and width may be free now
            maps = _larger_run(staged.model_path, rewriter.maps, designed, rewriter.spatial, options) \
                if rewriter.maps else None
            # what is verified is what is delivered: the files written, read back from disk
            run = _verify_equal(ctx, staged.model_path, result, limits, Path(tmp), maps)
            if maps:
                _check_maps(maps, run, result)
            result.after = lint(str(staged.model_path), **options)
            result.notes[:0] = staged.notes
            if output is None:
                return
            mode = os.stat(target).st_mode & 0o7777 if target.is_file() else None
            result.written = staged.commit(mode)
            left = sorted(p.name for p in replaced - {f.resolve() for f in result.written} - {target.resolve()})
            if left:  # never deleted: another model may read it too
                result.notes.append(f"{', '.join(left)} {'is' if len(left) == 1 else 'are'} no longer read by "
                                    f"{target.name} (left in place: delete {'it' if len(left) == 1 else 'them'} "
                                    "if no other model reads it)")
        finally:
            staged.discard()


def _refuse_unfixable(report: Report, model: onnx.ModelProto) -> None:
    """Refuse, in one line, a model that cannot be rewritten and verified."""
    errors = [d for d in report.diagnostics if d.severity == Severity.ERROR]
    if errors:  # onnxruntime could not run it, so no rewrite of it could be verified
        first = errors[0]
        more = f" (and {len(errors) - 1} more error{'s' if len(errors) > 2 else ''})" if len(errors) > 1 else ""
        raise FixError(f"refused: lint reports error {first.code} at {first.node or 'the model'}: "
                       f"{first.message}{more}; nothing was written")
    missing = weights_missing(model)
    if missing:
        raise FixError(f"{missing}, so no fix can be verified; nothing was written")


def _read_weights_in(model: onnx.ModelProto, base_dir) -> None:
    """Give the rewritten model every weight it still references in the original's files: the library's
    `result.model` stands alone."""
    for index, tensor in enumerate(model.graph.initializer):
        loaded = with_data(tensor, base_dir)
        if loaded is not tensor:
            model.graph.initializer[index].CopyFrom(loaded)


def _original_files(loaded) -> set[Path]:
    """The files the original model is read from: never written over."""
    if loaded.source in ("<bytes>", "<model>", "-") or loaded.base_dir is None:
        return set()
    return {Path(loaded.source).resolve()} | external_files(loaded.model, loaded.base_dir)


def _verify_equal(ctx, fixed: Path, result: FixResult, limits: Limits, tmp: Path, maps: dict | None) -> dict:
    """Check the written, rewritten model (`fixed`, opened from disk by the child) with onnx.checker and run it
    and the original on the same random inputs in the sandbox; with `maps`, the fixed model's session runs at
    the larger input too. The fixed model's run."""
    inputs = [{"name": n, "dims": list(d), "elem_type": ctx.shapes.dtype.get(n, 1)}
              for n, d in ctx.shapes.input_dims.items()]
    unresolved = [f"{spec['name']}: [{', '.join('?' if d is None else str(d) for d in spec['dims'])}]"
                  for spec in inputs if None in spec["dims"]]
    if unresolved:  # a symbolic batch is already 1, as in lint; other symbolic dims need a size
        raise FixError(f"the fix cannot be verified with symbolic input dims ({'; '.join(unresolved)}): pass "
                       "--input-shape NAME=DIMS")
    outputs = {}
    original = _original_path(ctx.loaded, tmp)
    for label, path in (("fixed", fixed), ("original", original)):
        job = {"model": str(path), "tmp": str(tmp), "inputs": inputs, "outputs": [], "profile_runs": 0,
               "save_outputs": label, "check_model": label == "fixed",
               "more_runs": [{"inputs": maps["inputs"], "outputs": maps["outputs"]}] if maps and label == "fixed"
               else []}
        run, problem = run_child(job, limits)
        if problem:
            raise FixError(f"{label} model: {problem}; nothing written")
        if "checker" in run:  # whose fault: the original's own check says
            own, _ = run_child({**job, "model": str(original), "check_only": True}, limits)
            whose = "the model fails, before any rewrite," if own and "checker" in own else "the rewritten model fails"
            raise FixError(f"{whose} onnx.checker ({run['checker']}); nothing written")
        if label == "fixed":
            fixed_run = run
        with np.load(tmp / f"{label}.npz") as saved:
            outputs[label] = dict(saved)
    floor = _rounding_floor(ctx)
    for name in outputs["original"]:
        ref, got = outputs["original"][name].astype(np.float64), outputs["fixed"][name].astype(np.float64)
        if ref.shape != got.shape:
            raise FixError(f"output '{name}' changed shape: {ref.shape} → {got.shape}; nothing written")
        magnitude = float(np.max(np.abs(ref))) if ref.size else 0.0
        tolerance = max(1e-4 * magnitude, floor)  # float32 reassociation: relative, or the absolute floor
        error = float(np.max(np.abs(ref - got))) if ref.size else 0.0
        result.max_abs_error = max(result.max_abs_error, error)
        result.max_rel_error = max(result.max_rel_error, error / magnitude if magnitude else 0.0)
        result.tolerance = max(result.tolerance, tolerance)
        if error > tolerance:
            raise FixError(f"output '{name}' differs by {error:.3g} (tolerance {tolerance:.3g}); nothing written")
    return fixed_run


_FLOAT32_EPSILON = 2.0 ** -23


def _rounding_floor(ctx) -> float:
    """The absolute error a float32 reassociation can reach at an output: ε·K, K the deepest accumulation in the
    model (a conv's k_h·k_w·C_in/g, a matmul's K: MACs per output element), on normalized (order-1) activations.
    An output squashed after its last layer (a sigmoid map peaking at 1e-3) keeps the absolute rounding of
    the logits before it, not a share of its own small values; an exact rewrite reassociates as ORT's own
    fusions do."""
    depth = max((layer.macs // max(1, math.prod(layer.output_shape)) for layer in ctx.layers
                 if layer.macs and layer.output_shape and None not in layer.output_shape), default=1)
    return _FLOAT32_EPSILON * max(depth, 1)


def _larger_run(path: Path, maps: list[str], designed: dict, spatial: dict, options: dict) -> dict:
    """A run at twice the designed height and width (`spatial`: each freed input's axes, NCHW's or NHWC's), for
    the fully convolutional model: its inputs, and the shape onnxlint's own conv arithmetic gives each score
    map there."""
    larger = {name: tuple(2 * d if axis in spatial.get(name, ()) else d for axis, d in enumerate(dims))
              for name, dims in designed.items()}
    report = lint(str(path), **{**options, "input_shapes": larger})
    predicted = {o: layer.output_shape for layer in report.layers for o in layer.outputs[:1] if o in maps}
    return {"inputs": [{"name": n, "dims": list(d), "elem_type": 1} for n, d in larger.items()], "outputs": maps,
            "predicted": predicted, "shown": ", ".join(f"{n} {'×'.join(map(str, d))}" for n, d in larger.items())}


def _check_maps(maps: dict, run: dict, result: FixResult) -> None:
    """Every score map came out of the larger run with the shape the conv arithmetic gives."""
    for name in maps["outputs"]:
        executed, predicted = tuple(run["more_runs"][0][name]), maps["predicted"].get(name)
        if executed != tuple(predicted or ()):
            raise FixError(f"at twice the input size ({maps['shown']}) the score map '{name}' is "
                           f"{'×'.join(map(str, executed))}, the conv arithmetic gives {predicted}; nothing written")
        result.score_maps[name] = (maps["shown"], executed)


def _original_path(loaded, tmp: Path) -> Path:
    """The original as onnxruntime reads it: the user's own file (its external data beside it, references
    already checked; a large embedded one through external references into it, mapped by onnxruntime), or,
    for an in-memory model, a copy written to `tmp`."""
    if loaded.source not in ("<bytes>", "<model>", "-") and os.path.isfile(loaded.source):
        referencing = referencing_the_file(loaded, tmp)  # a large file: its weights mapped, not parsed
        if referencing is None:
            return Path(os.path.abspath(loaded.source))
        path = tmp / "original.onnx"
        path.write_bytes(referencing.SerializeToString())  # no payloads: small
        return path
    path = tmp / "original.onnx"  # write_model never modifies the model, and copies external data in
    write_model(loaded.model, path, "original.onnx.data" if embedded_size(loaded.model) > 64 * 1024**2 else None,
                loaded.base_dir)
    return path
