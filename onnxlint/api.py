"""The pipeline: load → graph → shapes → cost → rules → Report."""
from __future__ import annotations

import fnmatch
import gc
import os
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from onnxlint.config import Settings, settings_from
from onnxlint.cost import compute_costs
from onnxlint.diagnostics import Severity
from onnxlint.dtypes import dtype_name
from onnxlint.engine import run_rules, selected_rules
from onnxlint.graph import build_graph
from onnxlint.loader import LoadedModel, LoadError, load
from onnxlint.proto import ModelProto, display_name
from onnxlint.report import Report
from onnxlint.rule import Context
from onnxlint.shapes import InputShapeError, bound_shapes, infer_shapes
from onnxlint.weights import WeightReader
from onnxlint.worstcase import worst_case

Source = str | os.PathLike | bytes | ModelProto


class LintError(Exception):
    """Raised by check() when findings reach `fail_on`; carries the report."""

    def __init__(self, report: Report, fail_on: Severity) -> None:
        self.report = report
        found = report.failing(fail_on)
        lines = [f"onnxlint: {report.count_text(found)} at or above {fail_on} in {report.path}:"]
        lines += [f"  {getattr(item, 'node', None) or '-'}: {item.code} {item.message}"
                  for item in report.findings() if item.severity >= fail_on]
        super().__init__("\n".join(lines))


def make_settings(settings: Settings | None = None, **options: Any) -> Settings:
    """Settings from keyword options named like the config keys (fail_on, select, memory_budget...)."""
    settings = settings or Settings()
    table = {}
    for key, value in options.items():
        if key == "input_shapes" and value:
            value = {k: list(v) for k, v in value.items()}
        if key in ("select", "extend_select", "ignore") and isinstance(value, str):
            value = [value]
        if value is not None:
            table[key.replace("_", "-")] = value
    if table:
        settings = settings_from(table, "lint() arguments", settings)
    return settings


def lint(model: Source, *, settings: Settings | None = None, base_dir: str | os.PathLike | None = None,
         verify: bool = False, profile: int = 0, what_if: int = 0, limits=None, **options: Any) -> Report:
    """Lint one model (a path, serialized bytes or an in-memory ModelProto) and return its Report.

    Keyword options mirror the config keys: select, extend_select, ignore, input_shapes
    ({"input": (1, 3, 224, 224)}), memory_budget ("512MB"), training, options ({"OL201": {...}}).
    verify=True runs the model once in a sandboxed onnxruntime child and checks every shape;
    profile=N also times N runs per node; what_if=N builds and times (N runs) the replacement each
    OL201/OL202/OL204 suggests. Raises LoadError when the model cannot be read, ValueError on bad
    options.
    """
    settings = make_settings(settings, **options)
    with gc_paused():
        loaded = load(model, base_dir=base_dir, max_size=settings.max_size)
        return analyse(loaded, settings, verify=verify or bool(profile), profile=profile, what_if=what_if,
                       limits=limits)[0]


@contextmanager
def gc_paused():
    """The cyclic garbage collector paused for one analysis, then restored as it was. An analysis allocates
    an object per node and frees almost none until it returns: collections in the middle find nothing to free
    and walk every node again (at 50k nodes, ~18% of lint). What becomes garbage meanwhile is collected after."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def lint_safely(model: Source, settings: Settings, *, name: str | None = None, **run: Any) -> Report:
    """lint() for the CLI: an unreadable model becomes a Report carrying the error. `name`: what to call
    serialized bytes (`-` for stdin); `run` holds the execution flags: verify, profile, what_if, limits."""
    name = name or (os.fspath(model) if isinstance(model, (str, os.PathLike)) else "<model>")
    try:
        with gc_paused():
            loaded = load(model, max_size=settings.max_size, name=name)
            return analyse(loaded, settings, **run)[0]
    except LoadError as exc:
        return Report(path=exc.source, error=exc.problem, error_class="LFSPointer" if exc.lfs_pointer else "LoadError")
    except InputShapeError as exc:
        return Report(path=name, error=str(exc), error_class="InputShapeError")
    except RecursionError:
        return Report(path=name, error="nesting too deep to analyse", error_class="LoadError")
    except Exception as exc:  # a bug on input we did not foresee: still one line, and the other models go on
        return Report(path=name, error=f"internal error ({type(exc).__name__}: {exc}); please report it with the model",
                      error_class="InternalError")


def analyse(loaded: LoadedModel, settings: Settings, *, verify: bool = False, profile: int = 0, what_if: int = 0,
            limits=None) -> tuple[Report, Context]:
    """The pipeline: graph → shapes → (execution) → costs → rules → one Report of plain data, with every
    result merged in before it is returned; and the rules' Context, for `onnxlint fix`."""
    active = active_rules(settings, loaded.source)
    graph = build_graph(loaded.model, loaded.source)
    shapes = infer_shapes(loaded.model, graph, settings.input_shapes)
    upper = bound_shapes(loaded.model, graph, shapes, settings.input_shapes)
    static = shapes  # what is known before the model runs: what a runtime's optimizer and providers know too
    executed = None
    if verify or profile:  # before costs: the shapes execution fills in reach every total and rule
        from onnxlint.loader import weights_missing
        from onnxlint.verify import Limits, verify

        missing = weights_missing(loaded.model)
        if missing:  # refused here, in one line, as `onnxlint fix` refuses it: onnxruntime cannot run it
            raise LoadError(loaded.source, f"{missing}, so --verify cannot run it; nothing was run")

        executed = verify(loaded, graph, shapes, upper=upper, profile_runs=profile,
                                    limits=limits or Limits())
        if executed.filled:  # infer again with what execution knew: facts downstream of those tensors follow
            shapes = infer_shapes(loaded.model, graph, settings.input_shapes, executed.filled)
            upper = bound_shapes(loaded.model, graph, shapes, settings.input_shapes)
    layers, totals = compute_costs(graph, shapes, executed.node_ms if executed is not None else None)
    totals.bounds = worst_case(graph, shapes, upper, totals, layers)
    deployment = None
    if settings.target:  # a stage of facts like execution: how the target will run each layer
        from onnxlint.deploy import deployment as predict
        from onnxlint.deploy import prove

        deployment = predict(graph, static, settings.target, loaded.model)
        if verify:  # proved by the target itself where it runs here (ort-cpu: onnxruntime's optimized graph)
            from onnxlint.verify import Limits

            prove(deployment, loaded, static, limits or Limits())
    measure = None
    if what_if:
        from onnxlint.whatif import measurer

        measure = measurer(what_if)
    ctx = Context(loaded.source, graph, shapes, layers, totals, settings, loaded.unsafe_external,
                  reinfer=lambda overrides: infer_shapes(loaded.model, graph, overrides, base=shapes), loaded=loaded,
                  execution=executed, measure=measure, deployment=deployment, weights=WeightReader(loaded, graph))
    rules = [rule(settings.options.get(rule.code)) for rule in active]
    diagnostics, groups, suppressed = run_rules(ctx, rules)
    report = Report(path=loaded.source, opset=shapes.opset or None, totals=totals,
                    layers=layers, diagnostics=diagnostics, groups=groups,
                    notes=loaded.notes + shapes.notes + _metadata_note(graph) + _domain_note(loaded.model, totals)
                    + _unplaced_note(totals), info=shapes.info,
                    memory_budget=settings.memory_budget,
                    verification=executed.summary if executed is not None else None,
                    external_data=loaded.external_data, suppressed=suppressed,
                    deployment=deployment.summary(layers) if deployment is not None else None)
    report.inputs = [{"name": name, "shape": list(dims) if dims is not None else None,
                      "dtype": dtype_name(graph.inputs[name].elem_type)}
                     for name, dims in shapes.input_dims.items()]
    return report, ctx


def active_rules(settings: Settings, source: str):
    ignore = list(settings.ignore)
    names = {source, Path(source).name}
    if settings.root is not None:  # the path relative to the config's folder, however it was typed
        try:
            names.add(Path(source).resolve().relative_to(settings.root).as_posix())
        except (ValueError, OSError):
            pass
    for pattern, codes in settings.per_file_ignores.items():
        if any(fnmatch.fnmatch(name, pattern) for name in names):
            ignore.extend(codes)
    return selected_rules(settings.select, settings.extend_select, ignore)


def _metadata_note(graph) -> list[str]:
    count = graph.malformed_metadata
    return [f"the exporter metadata of {count:,} node{'s' if count > 1 else ''} is malformed or oversized and was "
            "ignored (module paths from node names instead)"] if count else []


def _unplaced_note(totals) -> list[str]:
    if not totals.unplaced:
        return []
    shown = ", ".join(f"{name} ({n:,}{f' ×{1 + copies}' if copies else ''})"
                      for name, n, copies in totals.unplaced[:3])
    more = f" and {len(totals.unplaced) - 3:,} more" if len(totals.unplaced) > 3 else ""
    count = sum(n * (1 + copies) for _, n, copies in totals.unplaced)
    return [f"{count:,} values in floating-point initializers read outside every counted layer are not in "
            f"the params: {shown}{more}; learned (an embedding, a scale) or folded constants, onnxlint cannot "
            "tell which"]


def _domain_note(model, totals) -> list[str]:
    """Say so when a model of other domains only (ai.onnx.ml, training) holds nothing onnxlint counts."""
    domains = sorted({display_name(o.domain) for o in model.opset_import})
    if "" in domains or "ai.onnx" in domains or totals.params or totals.macs:
        return []
    return [f"the model imports no default ONNX opset (only {', '.join(domains)}): none of its ops is a layer "
            "whose parameters or MACs onnxlint counts"]


def check(model: Source, fail_on: str | Severity = "warning", **options: Any) -> Report:
    """Lint and raise LintError when a finding reaches `fail_on`: one line at the end of an export script."""
    report = lint(model, **options)
    severity = Severity.parse(fail_on)
    if report.failing(severity):
        raise LintError(report, severity)
    return report
