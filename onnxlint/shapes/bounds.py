"""Upper bounds on the sizes the data decides: the rows that NonZero, NonMaxSuppression,
TopK with a computed k, Compress and Unique return, and a Loop's trip count, carried through the ops
downstream of them.

The bound pass is a second shape pass, run only when the exact one left such an op's output unknown. Each
source takes its largest possible size; every node that reads a bounded tensor is inferred again; the other
nodes keep the exact pass' result. A tensor the exact pass left unknown and this pass knows is *bounded*:
no run can make it larger. That holds because every step on the way grows with the sizes it reads: where a
larger input could give a smaller result (a subtrahend, a divisor, a Slice start, a comparison, an index),
the value is dropped here, and what depends on it stays unknown rather than wrongly bounded."""
from __future__ import annotations

import math

from onnxlint.graph import AttributeRef, Graph, Node
from onnxlint.shapes.facts import Shapes


def _dims(shapes: Shapes, name: str) -> tuple | None:
    dims = shapes.dims.get(name) if name else None
    return None if dims is None or None in dims else dims


def unknown(shapes: Shapes, name: str) -> bool:
    return _dims(shapes, name) is None


def _axis(node: Node, rank: int, default: int = -1) -> int:
    axis = int(node.attrs.get("axis", default))
    return axis + rank if axis < 0 else axis


def _nonzero(node: Node, shapes: Shapes) -> list | None:
    x = _dims(shapes, node.inputs[0])
    return None if x is None else [(len(x), math.prod(x))]


def _nms(node: Node, shapes: Shapes) -> list | None:
    """At most batches × classes × min(boxes, max_output_boxes_per_class) selected rows."""
    boxes, scores = (_dims(shapes, n) for n in node.inputs[:2])
    if boxes is None or scores is None or len(boxes) != 3 or len(scores) != 3:
        return None
    most = None
    if len(node.inputs) > 2 and node.inputs[2]:
        most = shapes.ints(node.inputs[2])
        most = most[0] if most and len(most) == 1 else None
    per_class = boxes[1] if most is None else min(boxes[1], max(most, 0))
    return [(scores[0] * scores[1] * per_class, 3)]


def _topk(node: Node, shapes: Shapes) -> list | None:
    """k ≤ the axis' size."""
    x = _dims(shapes, node.inputs[0])
    return None if x is None else [x, x]


def _compress(node: Node, shapes: Shapes) -> list | None:
    x, condition = _dims(shapes, node.inputs[0]), _dims(shapes, node.inputs[1])
    if x is None or condition is None or len(condition) != 1:
        return None
    if "axis" not in node.attrs:
        return [(min(math.prod(x), condition[0]),)]
    axis = _axis(node, len(x))
    return [x[:axis] + (min(x[axis], condition[0]),) + x[axis + 1:]] if 0 <= axis < len(x) else None


def _unique(node: Node, shapes: Shapes) -> list | None:
    x = _dims(shapes, node.inputs[0])
    if x is None:
        return None
    if "axis" not in node.attrs:
        n = math.prod(x)
        return [(n,), (n,), (n,), (n,)]
    axis = _axis(node, len(x), 0)
    return [x, (x[axis],), (x[axis],), (x[axis],)] if 0 <= axis < len(x) else None


def _loop(node: Node, shapes: Shapes) -> list | None:
    """The scan outputs stack one slice per iteration: at most the trip count of them (the condition can only
    end the loop early)."""
    trips = shapes.ints(node.inputs[0]) if node.inputs and node.inputs[0] else None
    body = shapes.attribute(node, "body")
    if not trips or len(trips) != 1 or body is None:
        return None
    carried = len(node.inputs) - 2
    found: list = [_accumulated(node, shapes, body, k, max(trips[0], 0)) for k in range(carried)]
    for out in body.output[1 + carried:]:
        dims = _dims(shapes, out.name)
        found.append(None if dims is None else (max(trips[0], 0), *dims))
    return found


def _accumulated(node: Node, shapes: Shapes, body, k: int, trips: int) -> tuple | None:
    """A loop-carried tensor that each iteration extends by a Concat (torch's `out = cat([out, row])`): at most
    its initial size plus `trips` times what one iteration adds."""
    start = _dims(shapes, node.inputs[2 + k])
    concat = shapes.graph.producer.get(body.output[1 + k].name)
    if start is None or concat is None or concat.op_type != "Concat":
        return None
    axis = _axis(concat, len(start), 0)
    carried, added, extends = body.input[2 + k].name, 0, False
    for name in concat.inputs:
        source = shapes.graph.producer.get(name)
        while source is not None and source.op_type in ("Cast", "Identity") and name != carried:
            name = source.inputs[0]
            source = shapes.graph.producer.get(name)
        if name == carried:
            extends = True
            continue
        dims = _dims(shapes, name)
        if dims is None or len(dims) != len(start) or not 0 <= axis < len(dims):
            return None
        added += dims[axis]
    return start[:axis] + (start[axis] + trips * added,) + start[axis + 1:] if extends else None


SOURCES = {"NonZero": _nonzero, "NonMaxSuppression": _nms, "TopK": _topk, "Compress": _compress,
           "Unique": _unique, "Loop": _loop}
# The inputs through which an op's result can only grow with the sizes it reads (None: every input); a
# bounded value reaching another input, or another op, is not carried.
_GROWING = {op: None for op in (
    "Shape Size Identity Cast Concat Unsqueeze Squeeze Flatten Expand Tile Transpose Add Mul Max Min Sum Ceil "
    "Floor Round Sqrt Abs Relu ReduceMax ReduceMin ReduceSum ReduceProd ConstantOfShape If Loop").split()}
_GROWING.update({"Sub": {0}, "Div": {0}, "Gather": {0}, "Slice": {0, 2}, "Range": {1}, "Resize": {0}, "Pad": {0},
                 "Clip": {0}, "Where": {1, 2}})
# ops whose output size reads an input's value (a Slice's ends, a Reshape's target, TopK's k...)
_VALUE_SIZED = set("Slice Range Reshape ConstantOfShape Expand Tile Resize Upsample Pad CenterCropPad OneHot TopK "
                   "Split Squeeze Unsqueeze ReduceMax ReduceMin ReduceSum ReduceProd ReduceMean".split())
_COMPARE = {"Equal": lambda a, b: a == b, "Less": lambda a, b: a < b, "Greater": lambda a, b: a > b,
            "LessOrEqual": lambda a, b: a <= b, "GreaterOrEqual": lambda a, b: a >= b}
# ops that keep a value of sizes ≥ 0 when every operand is (a bounded size can then lie anywhere in [0, bound])
_KEEPS_SIGN = set("Gather Concat Unsqueeze Squeeze Reshape Cast Slice Identity Max Min Mul Add Expand Tile Ceil "
                  "Floor ReduceMax ReduceMin ReduceSum ReduceProd Flatten".split())


def reads(node: Node, graph: Graph) -> list[str]:
    """Every tensor a node's result depends on: its inputs and, for If/Loop/Scan, what its bodies read and
    return."""
    if not node.attrs or node.op_type not in ("If", "Loop", "Scan"):
        return node.inputs
    returned = [o.name for key in ("then_branch", "else_branch", "body")
                if isinstance(node.attrs.get(key), AttributeRef)  # a body that is no graph: the schema check's
                for o in graph.attribute(node.attrs[key]).output]
    return [*node.inputs, *graph.outer_names(node), *returned]


def sources_in(graph_nodes, exact: Shapes) -> bool:
    """Whether some live op the exact pass could not size is one whose output has a bound."""
    return any(node.op_type in SOURCES and node not in exact.dead and not node.domain
               and any(unknown(exact, o) for o in node.outputs if o) for node in graph_nodes)


def after(node: Node, shapes: Shapes, exact: Shapes) -> None:
    """Once the bound pass has inferred `node`: drop the bounded values it cannot carry, bound a source's
    unknown sizes, and mark as bounded the outputs the exact pass did not know."""
    bounded = shapes.bounded
    origin = max((bounded[n] for n in reads(node, shapes.graph) if n in bounded), default=None, key=_order)
    if origin is not None and node.op_type in _COMPARE and _decided(node, shapes):
        origin = None  # the same answer for every size up to the bound: exact
    elif origin is not None:
        growing = _GROWING.get(node.op_type, set())
        if node.op_type == "Reshape":  # a -1 computed from bounded target dims alone would shrink as they grow
            target = shapes.ints(node.inputs[1]) if len(node.inputs) > 1 else None
            growing = None if node.inputs[0] in bounded or (target is not None and -1 not in target) else {0}
        carried = [n for i, n in enumerate(node.inputs) if growing is None or i in growing]
        if any(n in bounded and n not in carried and shapes.known(n) for n in node.inputs):
            for name in node.outputs:
                shapes.values.pop(name, None)
                shapes.pending.pop(name, None)
                if node.op_type in _VALUE_SIZED:
                    shapes.dims[name] = None  # its size read the dropped value
    source = SOURCES.get(node.op_type) if not node.domain and node not in exact.invalid else None
    if source is not None and any(_dims(shapes, o) is None for o in node.outputs if o):
        found = source(node, shapes)
        if found:
            for name, bound in zip(node.outputs, found):
                if name and bound is not None and _dims(shapes, name) is None:
                    have = shapes.dims.get(name)
                    if have is not None and len(have) == len(bound):  # keep what is exact, bound the rest
                        bound = tuple(b if h is None else h for h, b in zip(have, bound))
                    shapes.dims[name] = bound
            origin = (len(bounded), node)  # the latest op to decide a size is what bounds it from here
    if origin is None:
        return
    for name in node.outputs:
        if not name:
            continue
        if _dims(exact, name) is not None and (exact.known(name) or not shapes.known(name)):
            shapes.dims[name] = exact.dims[name]  # exact either way
        else:
            bounded[name] = origin


def _order(origin: tuple) -> int:
    return origin[0]


def _decided(node: Node, shapes: Shapes) -> bool:
    """Whether a comparison of a bounded size with a known value gives the same answer for every size from 0
    to its bound (torch's `size == -1` tests, for one): then the answer is exact."""
    if len(node.inputs) != 2 or not all(shapes.known(n) for n in node.inputs):
        return False
    sized, other = node.inputs if node.inputs[0] in shapes.bounded else node.inputs[::-1]
    if other in shapes.bounded or not _nonnegative(shapes, sized, 8):
        return False
    upper, fixed = shapes.value(sized), shapes.value(other)
    if upper is None or fixed is None:
        return False
    import numpy as np

    compare = _COMPARE[node.op_type]
    at = (lambda v: compare(v, fixed)) if sized == node.inputs[0] else (lambda v: compare(fixed, v))
    if node.op_type == "Equal":  # constant over [0, bound] only when the other value lies outside it
        return bool(np.all((fixed < 0) | (fixed > upper)))
    return bool(np.all(at(np.zeros_like(upper)) == at(upper)))  # the others are monotone in the size


def _nonnegative(shapes: Shapes, name: str, depth: int) -> bool:
    """Whether a bounded value is made of sizes (Shape, Size) by ops that keep them ≥ 0."""
    node = shapes.graph.producer.get(name)
    if node is None or depth == 0:
        return False
    if node.op_type in ("Shape", "Size"):
        return True
    if node.op_type not in _KEEPS_SIGN:
        return False
    data = node.inputs[:1] if node.op_type in ("Gather", "Slice", "Reshape", "Expand", "Tile", "Squeeze",
                                               "Unsqueeze", "ReduceMax", "ReduceMin", "ReduceSum",
                                               "ReduceProd") else node.inputs
    for n in data:
        if n in shapes.bounded:
            if not _nonnegative(shapes, n, depth - 1):
                return False
        else:
            found = shapes.ints(n)
            if found is None or min(found, default=0) < 0:
                return False
    return True
