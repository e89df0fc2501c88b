"""`onnxlint fix`: a driver over the rules' fixes, verified by onnxruntime before anything is written.

A rule that can fix what it finds defines `fix(self, rewriter, diagnostic)` (and says how safe it is in
`applicability`); this module gives it the Rewriter (the model's copy with producer/consumer maps), runs
the original and the rewritten model on the same inputs, and writes nothing unless their outputs agree.
"""
from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import onnx
from onnx import helper, numpy_helper

from onnxlint.api import lint
from onnxlint.graph import MAIN
from onnxlint.loader import load
from onnxlint.report import Report
from onnxlint.verify import Limits, run_child


class FixError(Exception):
    """A rewrite that could not be verified; nothing was written."""


@dataclass
class FixResult:
    model: onnx.ModelProto
    changes: list[str] = field(default_factory=list)  # one line per rewrite
    skipped: list[str] = field(default_factory=list)  # rewrites left out, and why
    max_abs_error: float = 0.0
    max_rel_error: float = 0.0
    tolerance: float = 0.0
    before: Report | None = None
    after: Report | None = None


def fixable_rules() -> dict:
    """Code → rule class of every rule (built-in or plugin) that declares a fix."""
    from onnxlint.engine import Rule, all_rules

    return {r.code: r for r in all_rules() if r.fix is not Rule.fix}


def fix(source, *, select=None, limits: Limits = Limits(), **lint_options) -> FixResult:
    """Rewrite a copy of the model with every selected rule's fix (all fixable rules by default) and verify
    it with onnxruntime. Each rule's `fix` rewrites the findings it reported, through a Rewriter."""
    from onnxlint.api import analyse, make_settings

    rules = fixable_rules()
    select = tuple(select) if select is not None else tuple(rules)
    settings = make_settings(**lint_options)
    before, ctx = analyse(load(source, max_size=settings.max_size), settings)
    if ctx.loaded.unsafe_external:  # the same refusal as --verify: nothing outside the model's folder is read
        raise FixError(f"refused: the model has unsafe external data (OL003: {ctx.loaded.unsafe_external[0]}); "
                       "nothing was read or written")
    model = ctx.loaded.copy_with_weights()
    rewriter = Rewriter(model, ctx)
    instances = {code: rules[code](settings.options.get(code)) for code in select if code in rules}
    for d in before.diagnostics:
        if d.code in instances and d.location == MAIN:  # subgraph and function bodies are left as they are
            instances[d.code].fix(rewriter, d)
    result = FixResult(model, rewriter.changes, rewriter.skipped, before=before)
    if not rewriter.changes:
        return result
    rewriter.prune()
    onnx.checker.check_model(model)
    _verify_equal(ctx, model, result, limits)
    result.after = lint(model, **lint_options)
    return result


class Rewriter:
    """What a rule's fix works with: the copy of the model, its producer/consumer maps kept current by every
    rewrite, the analysis it was linted with (`ctx`), and the record of what was changed or left out."""
    def __init__(self, model: onnx.ModelProto, ctx) -> None:
        self.model, self.ctx, self.changes, self.skipped = model, ctx, [], []
        self.graph = model.graph
        # the engine's nodes are views of the original: the copy's node sits at the same file position
        self.nodes = {n.name: self.graph.node[n.index] for n in ctx.graph.nodes
                      if n.location == MAIN and n.function is None}
        self.inits = {t.name: t for t in self.graph.initializer}
        # producer/consumer maps of the copy, kept current by every rewrite: no rewrite scans the graph
        self.producers = {o: n for n in self.graph.node for o in n.output if o}
        self.users: dict[str, list] = {}
        for n in self.graph.node:
            for name in n.input:
                self.users.setdefault(name, []).append(n)
        # nodes to drop, by identity: protobuf (upb) hands out one wrapper per live message, and the maps above
        # keep every wrapper alive
        self.removed: set[int] = set()
        self.stale: set[str] = set()  # tensors whose declared shape the rewrites made wrong

    # -- helpers --------------------------------------------------------------------------------
    def changed(self, what: str) -> None:
        self.changes.append(what)

    def skip(self, what: str) -> None:
        self.skipped.append(what)

    def layer(self, name: str):
        """The analysis' Layer of a main-graph node (not one inlined from a function)."""
        return next(n for n in self.ctx.graph.nodes if n.name == name and n.location == MAIN and n.function is None)

    def producer(self, name: str) -> onnx.NodeProto | None:
        node = self.producers.get(name)
        return None if node is None or id(node) in self.removed else node

    def value(self, name: str) -> np.ndarray:
        """The value of a constant tensor: initializer, Constant or ConstantOfShape of a constant."""
        if name in self.inits:
            return numpy_helper.to_array(self.inits[name])
        producer = self.producer(name)
        if producer is None:
            raise ValueError(f"'{name}' is a model input, not a constant: it cannot be rewritten")
        if producer.op_type == "Constant":
            return numpy_helper.to_array(producer.attribute[0].t)
        if producer.op_type == "ConstantOfShape":
            fill = next((numpy_helper.to_array(a.t) for a in producer.attribute if a.name == "value"),
                        np.zeros(1, np.float32))
            return np.full(self.value(producer.input[0]).astype(np.int64), fill.reshape(-1)[0], fill.dtype)
        raise ValueError(f"'{name}' is not a constant")

    def fill(self, name: str) -> tuple[np.ndarray, list[int]] | None:
        """(the fill value, dims) when `name` is a ConstantOfShape placeholder weight (as in the onnx package's
        light models): rewritten weights then stay placeholders instead of megabytes of real data."""
        producer = self.producer(name)
        if producer is None or producer.op_type != "ConstantOfShape":
            return None
        value = next((numpy_helper.to_array(a.t) for a in producer.attribute if a.name == "value"),
                     np.zeros(1, np.float32))
        return value.reshape(-1)[:1], [int(d) for d in self.value(producer.input[0])]

    def add_node(self, node: onnx.NodeProto, position: int) -> onnx.NodeProto:
        self.graph.node.insert(position, node)
        added = self.graph.node[position]
        for name in added.output:
            self.producers[name] = added
        for name in added.input:
            self.users.setdefault(name, []).append(added)
        return added

    def add_fill(self, fill: np.ndarray, dims: list[int], name: str) -> str:
        shape = self.add_initializer(np.array(dims, dtype=np.int64), f"{name}_shape")
        self.add_node(helper.make_node("ConstantOfShape", [shape], [name], name=f"{name}_fill",
                                       value=numpy_helper.from_array(fill.reshape(1))), 0)
        return name

    def add_initializer(self, array: np.ndarray, name: str) -> str:
        tensor = numpy_helper.from_array(array, name)
        self.graph.initializer.append(tensor)
        self.inits[name] = tensor
        if self.model.ir_version < 4:  # before IR 4 every initializer is also a graph input
            self.graph.input.append(helper.make_tensor_value_info(name, tensor.data_type, array.shape))
        return name

    def consumers(self, tensor: str) -> list[onnx.NodeProto]:
        return [n for n in self.users.get(tensor, ()) if id(n) not in self.removed and tensor in n.input]

    def rename_input(self, old: str, new: str) -> None:
        for node in self.consumers(old):
            for i, name in enumerate(node.input):
                if name == old:
                    node.input[i] = new
            self.users.setdefault(new, []).append(node)

    def rename_output(self, node: onnx.NodeProto, old: str, new: str) -> None:
        node.output[list(node.output).index(old)] = new
        self.producers[new] = node

    def remove(self, node: onnx.NodeProto) -> None:
        self.removed.add(id(node))

    def forget_shape(self, tensor: str) -> None:
        self.stale.add(tensor)

    def position(self, node: onnx.NodeProto) -> int:
        return next(i for i, n in enumerate(self.graph.node) if n is node)

    # -- cleanup --------------------------------------------------------------------------------
    def prune(self) -> None:
        """Apply the removals, then drop the nodes (ONNX ops have no side effects) and initializers that nothing
        reads any more, and the declarations the rewrites made stale: one backward walk from the outputs."""
        from onnxlint.graph import _outer_names, subgraphs

        alive, stack = set(), [o.name for o in self.graph.output]
        while stack:
            node = self.producer(stack.pop())
            if node is not None and id(node) not in alive:
                alive.add(id(node))
                stack.extend(node.input)
                stack.extend(_outer_names(subgraphs(node)) if node.attribute else ())
        kept = [n for n in self.graph.node if id(n) in alive]
        used = {o.name for o in self.graph.output} | {i for n in kept for i in n.input}
        used |= {i for n in kept if n.attribute for i in _outer_names(subgraphs(n))}
        nodes = [type(n)() for n in kept]  # node protos are small; weights are never copied
        for copy, node in zip(nodes, kept):
            copy.CopyFrom(node)
        self.graph.ClearField("node")
        self.graph.node.extend(nodes)
        for items, drop in ((self.graph.initializer, lambda t: t.name not in used),
                            (self.graph.input, lambda v: v.name not in used and v.name in self.inits),
                            (self.graph.value_info, lambda v: v.name in self.stale)):
            for index in reversed([i for i, item in enumerate(items) if drop(item)]):
                del items[index]


def _verify_equal(ctx, fixed: onnx.ModelProto, result: FixResult, limits: Limits) -> None:
    """Run the original and the rewritten model on the same random inputs in the sandbox."""
    inputs = [{"name": n, "dims": list(d), "elem_type": ctx.shapes.dtype.get(n, 1)}
              for n, d in ctx.shapes.input_dims.items()]
    unresolved = [f"{spec['name']}: [{', '.join('?' if d is None else str(d) for d in spec['dims'])}]"
                  for spec in inputs if None in spec["dims"]]
    if unresolved:  # a symbolic batch is already 1, as in lint; other symbolic dims need a size
        raise FixError(f"the fix cannot be verified with symbolic input dims ({'; '.join(unresolved)}): pass "
                       "--input-shape NAME=DIMS")
    with tempfile.TemporaryDirectory(prefix="onnxlint-fix-") as tmp:
        outputs = {}
        for label, model in (("original", None), ("fixed", fixed)):
            path = Path(tmp) / f"{label}.onnx"
            if model is None and _runs_as_is(ctx.loaded):  # the user's own file: no copy of its weights here
                path = Path(os.path.abspath(ctx.loaded.source))
            else:
                model = model if model is not None else ctx.loaded.copy_with_weights()
                big = model.ByteSize() > 64 * 1024**2  # written tensor by tensor, not as one serialized copy
                onnx.save(model, path, save_as_external_data=big, location=f"{label}.weights" if big else None)
                del model
            job = {"model": str(path), "tmp": tmp, "inputs": inputs, "outputs": [], "profile_runs": 0,
                   "save_outputs": label}
            run, problem = run_child(job, limits)
            if problem:
                raise FixError(f"{label} model: {problem}")
            outputs[label] = dict(np.load(Path(tmp) / f"{label}.npz"))
    names = [o.name for o in fixed.graph.output]
    for name in names:
        ref, got = outputs["original"][name].astype(np.float64), outputs["fixed"][name].astype(np.float64)
        if ref.shape != got.shape:
            raise FixError(f"output '{name}' changed shape: {ref.shape} → {got.shape}; nothing written")
        magnitude = float(np.max(np.abs(ref))) if ref.size else 0.0
        tolerance = 1e-4 * max(magnitude, 1e-3)  # float32 reassociation, scaled to the output's magnitude
        error = float(np.max(np.abs(ref - got))) if ref.size else 0.0
        result.max_abs_error = max(result.max_abs_error, error)
        result.max_rel_error = max(result.max_rel_error, error / magnitude if magnitude else 0.0)
        result.tolerance = max(result.tolerance, tolerance)
        if error > tolerance:
            raise FixError(f"output '{name}' differs by {error:.3g} (tolerance {tolerance:.3g}); nothing written")


def _runs_as_is(loaded) -> bool:
    """Whether onnxruntime can read the user's file itself: a path with every weight embedded."""
    return loaded.source not in ("<bytes>", "<model>", "-") and os.path.isfile(loaded.source) and not any(
        t.data_location == onnx.TensorProto.EXTERNAL for t in loaded.model.graph.initializer)


def save(model: onnx.ModelProto, path: Path, *, external: bool) -> None:
    """Write the rewritten model; weights go to `<name>.data` beside it when the original kept them apart."""
    if external:
        onnx.save(model, path, save_as_external_data=True, location=f"{path.name}.data", size_threshold=1024)
    else:
        onnx.save(model, path)
