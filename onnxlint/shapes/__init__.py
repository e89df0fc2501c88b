"""The shape stage: every tensor's dims and dtype, the small values that shape arithmetic computes, and the
typed facts the rules read (window arithmetic, matrix-product operands, contradictions).

Per node, in execution order: the own handler (ops.py, windows.py) where there is one; onnx's per-op
inference (onnx_infer.py), fed with the types and values held here, for whatever is still unknown; the
file's declared shape for an op no schema knows; and, for small input-independent tensors, the value
computed by onnx's reference implementation (values.py). Dims are ints, an unknown dim is None, an
unknown rank a None shape.
"""
from __future__ import annotations

import math
from dataclasses import replace

from onnxlint.graph import Graph, Node
from onnxlint.proto import ModelProto, TensorProto, full
from onnxlint.shapes import bounds
from onnxlint.shapes.facts import STORED, AxisWindow, MatmulFacts, Out, Shapes, WindowFacts
from onnxlint.shapes.inputs import InputShapeError, concrete, fmt_dims, resolve_input_shapes
from onnxlint.shapes.layout import HANDLERS as _LAYOUT_HANDLERS
from onnxlint.shapes.onnx_infer import has_schema, infer
from onnxlint.shapes.ops import HANDLERS, UNARY, broadcast, matmul_shape
from onnxlint.shapes.schema import container_type_problems, schema_problems, unknown_elem_types
from onnxlint.shapes.values import (
    MAX_ELEMENTS,
    NONDETERMINISTIC,
    Numbers,
    deferrable,
    evaluable,
    evaluate,
    small_values,
)
from onnxlint.shapes.windows import HANDLERS as _WINDOW_HANDLERS

__all__ = ["AxisWindow", "InputShapeError", "MatmulFacts", "Shapes", "WindowFacts", "bound_shapes", "broadcast",
           "fmt_dims", "infer_shapes", "matmul_shape"]

_HANDLERS = {**HANDLERS, **_LAYOUT_HANDLERS, **_WINDOW_HANDLERS}
# ops whose onnx inference needs the first input's shape: without it, onnx cannot know more than the handler
_FROM_FIRST_SHAPE = UNARY | {"Gemm", "MatMul", "Dropout", "Flatten", "Identity", "BatchNormalization", "Conv",
                             "ConvTranspose", "MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool",
                             "Transpose", "Cast"}
_MALFORMED = (ValueError, TypeError, IndexError, ZeroDivisionError, KeyError, AttributeError, OverflowError)


def infer_shapes(model: ModelProto, graph: Graph, input_shapes: dict | None = None,
                 executed: dict | None = None, base: Shapes | None = None, exact: Shapes | None = None) -> Shapes:
    """`executed`: shapes onnxruntime produced (--verify), for the tensors the analysis alone cannot know.
    `base`: the shapes at other input sizes, whose input-independent tensors are taken as they are.
    `exact`: this pass' own result at the same input; given, this is the bound pass (bound_shapes)."""
    opsets = {("" if o.domain == "ai.onnx" else o.domain): o.version for o in model.opset_import}
    shapes = Shapes(opset=opsets.get("", 0), graph=graph, opsets=opsets,
                    bounded=None if exact is None else {})
    resolve_input_shapes(graph, input_shapes, shapes)
    dims, dtype, known, pending, constants = shapes.dims, shapes.dtype, shapes.values, shapes.pending, shapes.constants
    if base is not None:
        for name in graph.initializers:
            _take_tensor(name, base, shapes)
    else:
        for name, (shape, elem, external, _, _) in graph.initializers.items():
            dims[name], dtype[name] = shape, elem
            if not external and elem and elem != TensorProto.STRING and math.prod(shape) <= MAX_ELEMENTS:
                pending[name] = STORED  # read when some handler asks for the value
    constants.update(graph.initializers)
    for node in graph.nodes:
        if node.parent is not None and (node.parent in shapes.dead or _not_taken(node, shapes)):
            shapes.dead.add(node)  # an If branch that never runs: no shapes, no costs, no findings
            continue
        inputs, outputs = node.inputs, node.outputs
        for name in node.inputs:
            if name and name not in shapes.dims and name in graph.declared:  # subgraph inputs
                declared = graph.declared[name]
                shapes.dims[name] = concrete(declared.dims)
                shapes.dtype[name] = declared.elem_type
        if exact is not None:
            if not any(n in shapes.bounded for n in bounds.reads(node, graph)) and not (
                    node.op_type in bounds.SOURCES and any(bounds.unknown(exact, o) for o in outputs if o)):
                _take(node, exact, shapes)  # nothing bounded reaches it: what the exact pass found
            else:
                _infer_node(node, shapes, graph, opsets, model.ir_version, {})
                bounds.after(node, shapes, exact)
            continue
        if base is not None and outputs and all(o in base.constants for o in outputs if o):
            _take(node, base, shapes)  # a weight, or shape arithmetic on weights: the same at any input size
            continue
        if node.op_type in UNARY and len(inputs) == 1 and len(node.outputs) == 1 and not node.domain:
            # the common case, without the general path's bookkeeping: an activation of a known tensor
            x, out = inputs[0], node.outputs[0]
            shape, elem = dims.get(x), dtype.get(x, 0)
            if shape is not None and elem and None not in shape and x not in known and x not in pending and out:
                dims[out], dtype[out] = shape, elem
                if x in constants:
                    constants.add(out)
                continue
        _infer_node(node, shapes, graph, opsets, model.ir_version, executed or {})
    if base is None and exact is None:  # the main pass: each node against its schema, once
        shapes.invalid, shapes.no_kernel = schema_problems(graph, shapes)
        shapes.invalid_types = unknown_elem_types(graph, shapes)
        if not shapes.invalid and not shapes.invalid_types:  # one root cause, one finding
            shapes.invalid_types = container_type_problems(model, graph)
    return shapes


def bound_shapes(model: ModelProto, graph: Graph, exact: Shapes, input_shapes: dict | None = None) -> Shapes | None:
    """The upper bounds of the sizes the data decides (shapes/bounds.py), or None when the exact pass left no
    such size unknown."""
    if not bounds.sources_in(graph.nodes, exact):
        return None
    return infer_shapes(model, graph, input_shapes, exact=exact)


def _take_tensor(name: str, base: Shapes, shapes: Shapes) -> None:
    shapes.dims[name], shapes.dtype[name] = base.dims.get(name), base.dtype.get(name, 0)
    if name in base.constants:
        shapes.constants.add(name)
    if name in base.values:
        shapes.values[name] = base.values[name]
    elif name in base.pending:
        shapes.pending[name] = base.pending[name]


def _take(node: Node, base: Shapes, shapes: Shapes) -> None:
    for name in node.outputs:
        if name:
            _take_tensor(name, base, shapes)
    for table in ("windows", "matmuls", "training", "problems"):
        if node in getattr(base, table):
            getattr(shapes, table)[node] = getattr(base, table)[node]


def _overflows(dims) -> bool:
    """A size past int64, which no runtime can hold (a pad of 2^63 − 1)."""
    return dims is not None and None not in dims and math.prod(dims) >= 2**63


def _not_taken(node: Node, shapes: Shapes) -> bool:
    parent = node.parent
    if parent.op_type != "If" or not parent.inputs or (shapes.bounded and parent.inputs[0] in shapes.bounded):
        return False  # a condition on a bounded value is not known: either branch may run
    cond = shapes.value(parent.inputs[0])
    if cond is None or cond.size != 1:
        return False
    return node.branch != ("then_branch" if bool(cond.reshape(-1)[0]) else "else_branch")


def _infer_node(node: Node, shapes: Shapes, graph: Graph, opsets: dict, ir_version: int, executed: dict) -> None:
    inputs, outputs = node.inputs, node.outputs
    count = len(outputs)
    handler = _HANDLERS.get(("" if node.domain == "ai.onnx" else node.domain, node.op_type))
    out = None
    if handler is not None:
        try:
            out = handler(node, shapes)
        except _MALFORMED:
            out = None  # malformed attributes: OL002 reports them, the walk goes on
        if out is not None and any(_overflows(d) for d in out.dims):
            out = replace(out, dims=(None,) * len(out.dims),
                          problem="its output would hold 2^63 elements or more, past int64 (onnxruntime refuses it: "
                                  "integer overflow); its attributes or input sizes are wrong")
    if out is None:
        out = _NOTHING
    elif count == 1 and len(out.dims) == 1 and out.problem is None and out.values is None and out.training is ... \
            and outputs[0] and inputs and inputs[0] not in shapes.constants and inputs[0] not in shapes.pending \
            and inputs[0] not in shapes.values:
        # the common case, without the general path's bookkeeping: a conv, pool or matrix product of an
        # activation, its output complete
        shape, facts = out.dims[0], out.facts
        elem = out.dtypes[0] if out.dtypes else shapes.dtype.get(inputs[0], 0)
        if shape is not None and None not in shape and elem and (facts is None or type(facts) is MatmulFacts
                                                                 or facts.valid):
            if facts is not None:
                (shapes.windows if type(facts) is WindowFacts else shapes.matmuls)[node] = facts
            shapes.dims[outputs[0]], shapes.dtype[outputs[0]] = shape, elem
            return
    dims = list(out.dims[:count])
    if len(dims) < count:
        dims += [None] * (count - len(dims))
    if out.dtypes:
        dtypes = list(out.dtypes[:count])
        dtypes += [0] * (count - len(dtypes))
    else:
        dtypes = [shapes.dtype.get(inputs[0], 0) if handler is not None and inputs else 0] + [0] * (count - 1)
    facts = out.facts
    if facts is not None:
        (shapes.windows if isinstance(facts, WindowFacts) else shapes.matmuls)[node] = facts
    if out.training is not ...:
        shapes.training[node] = out.training
    problem = out.problem
    invalid = isinstance(facts, WindowFacts) and not facts.valid  # OL002's to report, not a contradiction
    complete = all(t and d is not None and None not in d for d, t in zip(dims, dtypes))
    if problem is None and not invalid and not complete and not (
            node.op_type in _FROM_FIRST_SHAPE and inputs and shapes.dims.get(inputs[0]) is None):
        problem = _onnx_inference(node, shapes, graph, opsets, ir_version, dims, dtypes)
    if problem is not None:
        shapes.problems[node] = problem
        dims = [None] * count
    values, known, pending, constants = out.values, shapes.values, shapes.pending, shapes.constants
    if values is None and all(n in known or n in pending for n in inputs if n):
        if deferrable(node, dims):  # computed if and when some consumer asks for the value
            pending.update((name, node) for name in outputs if name)
        elif evaluable(node) and not all(d is not None and None not in d for d in dims) \
                and _small_inputs(node, shapes):  # evaluated to learn its dims
            given = [shapes.value(n) if n else None for n in inputs]
            if small_values([v for n, v in zip(inputs, given) if n]):
                values = evaluate(node, given, shapes)
    for i, name in enumerate(outputs):
        if not name:
            continue
        value = values[i] if values and i < len(values) else None
        if isinstance(value, Numbers):  # shape arithmetic in plain Python: numpy only if someone asks
            pending[name] = value
        elif value is not None and hasattr(value, "shape") and value.size <= MAX_ELEMENTS:
            known[name] = value
            dims[i] = tuple(int(d) for d in value.shape)
            dtypes[i] = dtypes[i] or full().helper.np_dtype_to_tensor_dtype(value.dtype)
        if executed and (dims[i] is None or None in dims[i]) and name in executed:
            dims[i] = executed[name]
        shapes.dims[name] = dims[i]
        shapes.dtype[name] = dtypes[i]
    if node.op_type in ("Constant", "ConstantOfShape") or (
            inputs and all(not n or n in constants for n in inputs) and node.op_type not in NONDETERMINISTIC):
        constants.update(o for o in outputs if o)


def _small_inputs(node: Node, shapes: Shapes) -> bool:
    """Whether the inputs' known dims leave them small enough to evaluate (unknown dims: find out)."""
    sizes = [shapes.dims.get(n) for n in node.inputs if n]
    return any(d is None or None in d for d in sizes) or sum(math.prod(d) for d in sizes) <= MAX_ELEMENTS


_NOTHING = Out([])  # what a node without a handler (or whose handler gave up) is known by, before onnx's inference


def _onnx_inference(node: Node, shapes: Shapes, graph: Graph, opsets: dict, ir_version: int, dims: list,
                    dtypes: list) -> str | None:
    """Complete `dims` and `dtypes` in place with onnx's per-op inference (or, for an op no schema knows, the
    file's declarations); return the contradiction onnx found, if any."""
    outer = graph.outer_names(node) if node.op_type in ("Loop", "Scan") else ()
    found = infer(node, shapes, opsets, ir_version, outer)
    if isinstance(found, str):
        return found
    if found:
        for i, (d, t) in enumerate(found):
            dims[i] = _merge(dims[i], d)
            dtypes[i] = dtypes[i] or t
        if any(_overflows(d) for d in dims):
            return "its output would hold 2^63 elements or more, past int64 (onnxruntime refuses it: " \
                   "narrowing_error); its attributes or input sizes are wrong"
    elif not has_schema(node, opsets):  # a custom op: the file's own declaration is all there is
        for i, name in enumerate(node.outputs):
            declared = graph.declared.get(name)
            if dims[i] is None and declared is not None and declared.dims is not None:
                dims[i] = concrete(declared.dims)
                dtypes[i] = dtypes[i] or declared.elem_type
    return None


def _merge(mine: tuple | None, theirs: tuple | None) -> tuple | None:
    """Per axis, what either side knows (mine first); ranks that differ keep mine."""
    if mine is None:
        return theirs
    if theirs is None or len(theirs) != len(mine):
        return mine
    return tuple(a if a is not None else b for a, b in zip(mine, theirs))
