"""Value propagation: small tensors that do not depend on the input data (shape arithmetic, pads, scales,
axes...), computed when a consumer asks: in plain Python by the rules of `numbers` for the ops exporters
write for shape arithmetic, with onnx's reference implementation of each op for any other."""
from __future__ import annotations

import array
import itertools
import math
import sys
from dataclasses import dataclass

from onnxlint import weights
from onnxlint.graph import Node
from onnxlint.proto import TensorProto

MAX_ELEMENTS = 4096  # larger tensors are never evaluated: weights and activations only need their dims
# ops whose output can be far larger than their inputs: evaluated only once their output dims are known
_EXPANDING = {"ConstantOfShape", "Expand", "Tile", "Range", "Resize", "Upsample", "Pad", "OneHot", "EyeLike"}
NONDETERMINISTIC = {"RandomNormal", "RandomUniform", "RandomNormalLike", "RandomUniformLike", "Multinomial",
                    "Bernoulli"}
_ops: dict = {}


@dataclass(frozen=True, slots=True)
class Numbers:
    """A small tensor's value as a flat tuple of Python numbers, computed without numpy (shape arithmetic:
    Shape, Gather, Concat, Add...); turned into a numpy array only when something asks for one."""
    flat: tuple
    dtype: int  # ONNX element type
    dims: tuple

    def array(self):
        import numpy as np

        from onnxlint.proto import full
        return np.array(self.flat, dtype=full().helper.tensor_dtype_to_np_dtype(self.dtype)).reshape(self.dims)


def slice_bounds(d: int, start: int, end: int, step: int) -> tuple[int, int]:
    """start and end on an axis of extent d, made positive and clamped as the ONNX spec says (an end of −1
    with a negative step: past index 0)."""
    start, end = start + d if start < 0 else start, end + d if end < 0 else end
    if step > 0:
        return min(max(start, 0), d), min(max(end, 0), d)
    return min(max(start, 0), d - 1), min(max(end, -1), d - 1)


def small(tensor: TensorProto, dims: tuple | None = None) -> bool:
    """Whether an embedded tensor is small enough that its value may be read (`dims`: its dims, if read)."""
    return math.prod(tensor.dims if dims is None else dims) <= MAX_ELEMENTS \
        and tensor.data_location != TensorProto.EXTERNAL \
        and tensor.data_type not in (TensorProto.STRING, TensorProto.UNDEFINED)


# element types read without numpy: (array typecode, typed field)
_PLAIN_CODES = {TensorProto.INT64: ("q", "int64_data"), TensorProto.INT32: ("i", "int32_data"),
                TensorProto.FLOAT: ("f", "float_data"), TensorProto.DOUBLE: ("d", "double_data")}


def tensor_numbers(tensor: TensorProto) -> list | None:
    """A small embedded int64/int32/float/double tensor's values as a flat list, read without numpy (shapes,
    axes, pads and scales are such tensors: the plain lint path need not import numpy for them); None for
    anything else."""
    code = _PLAIN_CODES.get(tensor.data_type)
    if code is None or not small(tensor):
        return None
    count = math.prod(tensor.dims)
    if not tensor.raw_data:
        values = list(getattr(tensor, code[1]))
        return values if len(values) == count else None
    values = array.array(code[0])
    if values.itemsize * count != len(tensor.raw_data):
        return None
    values.frombytes(tensor.raw_data)
    if sys.byteorder == "big":  # ONNX stores raw data little-endian
        values.byteswap()
    return values.tolist()


def stored_numbers(source, shapes) -> list | None:
    """The flat values of a pending source that is stored, not computed: an initializer, or a Constant node's
    value (tensor, ints, floats); None otherwise."""
    if isinstance(source, TensorProto):
        return tensor_numbers(source)
    if getattr(source, "op_type", None) != "Constant" or source.domain not in ("", "ai.onnx"):
        return None
    attrs = source.attrs
    if "value" in attrs:
        value = shapes.attribute(source, "value")
        return tensor_numbers(value) if isinstance(value, TensorProto) else None
    for key in ("value_ints", "value_floats"):
        if key in attrs:
            return list(attrs[key])
    for key in ("value_int", "value_float"):
        if key in attrs:
            return [attrs[key]]
    return None


def tensor_value(tensor: TensorProto):
    """The value of a small embedded tensor, or None (large, external, string or malformed)."""
    if not small(tensor):
        return None
    try:
        return weights.values(tensor)
    except Exception:  # malformed data: the value stays unknown (the loader reports what it can)
        return None


def _pure(node: Node) -> bool:
    return node.op_type not in NONDETERMINISTIC and node.domain in ("", "ai.onnx") and node.op_type not in (
        "If", "Loop", "Scan")


def deferrable(node: Node, out_dims: list) -> bool:
    """Whether `node` (every input known) can wait to be evaluated until a value is asked for: its outputs'
    dims are known and small."""
    return _pure(node) and bool(out_dims) and all(
        d is not None and None not in d and math.prod(d) <= MAX_ELEMENTS for d in out_dims)


def evaluable(node: Node) -> bool:
    """Whether `node`, whose output dims are not known, may be evaluated to learn them (once its inputs are
    known and small): an op that never grows its input (ConstantOfShape of a huge shape is not evaluated)."""
    return _pure(node) and node.op_type not in _EXPANDING


def small_values(inputs: list) -> bool:
    return all(v is not None for v in inputs) and sum(v.size for v in inputs) <= MAX_ELEMENTS


def numbers(shapes, name: str, depth: int = 0) -> list | None:
    """The flat value of a pending tensor computed in plain Python — a stored tensor, a Constant, Numbers, or
    shape arithmetic over them (Shape → Gather → Unsqueeze → Concat...) by the rules below, each result kept
    as Numbers — or None where a rule is missing (then the caller asks for the numpy value)."""
    if name in shapes.values:  # already a numpy array (numpy is loaded): its elements as Python numbers
        return shapes.values[name].reshape(-1).tolist()
    source = shapes.source(name)
    if isinstance(source, Numbers):
        return list(source.flat)
    if source is None or depth > 64:
        return None
    if not isinstance(source, Node) or source.op_type == "Constant":
        return stored_numbers(source, shapes)
    rule = _RULES.get(source.op_type) if source.domain in ("", "ai.onnx") else None
    if rule is None:
        return None
    inputs = []
    for n in source.inputs:
        found = numbers(shapes, n, depth + 1) if n else None
        if n and found is None:
            return None
        inputs.append(found)
    try:
        flat = rule(source, inputs, shapes)
    except (ValueError, TypeError, IndexError, ZeroDivisionError, OverflowError):
        flat = None
    out = source.outputs[0]
    dims = shapes.dims.get(out)
    if flat is None or dims is None or None in dims or len(flat) != math.prod(dims):
        return None
    shapes.pending[out] = Numbers(tuple(flat), shapes.dtype.get(out, 0), dims)
    return flat


def _same(node, ins, shapes):
    return ins[0]


def _elementwise(node, ins, shapes, op):
    """op over the inputs' elements where broadcasting is trivial: equal shapes, or one-element operands;
    None otherwise."""
    ranks = [len(shapes.dims.get(n) or ()) for n in node.inputs]
    full = [i for i, flat in enumerate(ins) if len(flat) != 1]
    if len({shapes.dims.get(node.inputs[i]) for i in full}) > 1 or (full and max(ranks) > ranks[full[0]]):
        return None
    count = len(ins[full[0]]) if full else 1
    return [op(*args) for args in zip(*(flat * count if len(flat) == 1 else flat for flat in ins))]


def _arithmetic(int_op, float_op=None):
    """An element-wise op on int64/int32 (exact in Python) or float/double operands: a float32 result is the
    double result rounded to float32, which is the correctly rounded float32 result for + − × ÷."""
    float_op = float_op or int_op

    def rule(node, ins, shapes):
        kinds = {shapes.dtype.get(n) for n in node.inputs if n}
        if kinds <= _INTS:
            return _elementwise(node, ins, shapes, int_op)
        if kinds == {TensorProto.DOUBLE}:
            return _elementwise(node, ins, shapes, float_op)
        if kinds == {TensorProto.FLOAT}:
            return _elementwise(node, ins, shapes, lambda *args: _f32(float_op(*args)))
        return None
    return rule


def _div(x: int, y: int) -> int:
    """ONNX integer division: truncated toward zero (C, onnxruntime, onnx.reference)."""
    q = abs(x) // abs(y)
    return q if (x >= 0) == (y > 0) else -q


def _unary(op):
    def rule(node, ins, shapes):
        kind = shapes.dtype.get(node.inputs[0])
        if kind in _INTS:
            return [op(v) for v in ins[0]]
        return [float(op(v)) for v in ins[0]] if kind in (TensorProto.FLOAT, TensorProto.DOUBLE) else None
    return rule


def _where(node, ins, shapes):
    return _elementwise(node, ins, shapes, lambda c, x, y: x if c else y)


def _equal(node, ins, shapes):
    return _elementwise(node, ins, shapes, lambda x, y: x == y) if {
        shapes.dtype.get(n) for n in node.inputs} <= _INTS else None


def _mod(node, ins, shapes):
    if node.attrs.get("fmod", 0) or not {shapes.dtype.get(n) for n in node.inputs} <= _INTS:
        return None
    return _elementwise(node, ins, shapes, lambda x, y: x % y)  # the divisor's sign, as numpy.mod


def _clip(node, ins, shapes):
    low, high = (ins[1] if len(ins) > 1 and ins[1] else [None]), (ins[2] if len(ins) > 2 and ins[2] else [None])
    if "min" in node.attrs or "max" in node.attrs:  # opset < 11: attributes
        low, high = [node.attrs.get("min")], [node.attrs.get("max")]
    if len(low) != 1 or len(high) != 1:
        return None
    return [min(max(v, low[0]) if low[0] is not None else v, high[0]) if high[0] is not None else
            (max(v, low[0]) if low[0] is not None else v) for v in ins[0]]


def _concat(node, ins, shapes):
    rank = len(shapes.dims.get(node.inputs[0]) or ())
    axis = int(node.attrs.get("axis", 0))
    return [v for flat in ins for v in flat] if rank and axis % rank == 0 else None


def _gather(node, ins, shapes):
    data, idx = ins
    if len(shapes.dims.get(node.inputs[0]) or ()) != 1 or int(node.attrs.get("axis", 0)) not in (0, -1):
        return None
    if not all(-len(data) <= i < len(data) for i in idx):
        return None
    return [data[i] for i in idx]  # a negative index counts from the end, in ONNX as in Python


def _cast(node, ins, shapes):
    to = int(node.attrs.get("to", 0))
    if to in _INTS:
        return [int(v) for v in ins[0]] if all(math.isfinite(v) for v in ins[0]) else None
    if to == TensorProto.DOUBLE:
        return [float(v) for v in ins[0]]
    if to == TensorProto.FLOAT:
        return [_f32(float(v)) for v in ins[0]]
    return None


def _strides(dims) -> list[int]:
    strides, step = [], 1
    for d in reversed(dims):
        strides.append(step)
        step *= d
    return strides[::-1]


def _pick(flat: list, dims, ranges) -> list:
    """The elements of a row-major tensor at every index of the product of `ranges`, in row-major order."""
    strides = _strides(dims)
    return [flat[sum(i * s for i, s in zip(index, strides))] for index in itertools.product(*ranges)]


def _slice(node, ins, shapes):
    dims = shapes.dims[node.inputs[0]]
    if len(ins) < 3 or shapes.opset < 10:
        return None
    starts, ends = ins[1], ins[2]
    axes = ins[3] if len(ins) > 3 and ins[3] is not None else list(range(len(starts)))
    steps = ins[4] if len(ins) > 4 and ins[4] is not None else [1] * len(starts)
    if not len(starts) == len(ends) == len(axes) == len(steps) or 0 in steps:
        return None
    ranges = [range(d) for d in dims]
    for axis, start, end, step in zip(axes, starts, ends, steps):
        axis %= len(dims)
        ranges[axis] = range(*slice_bounds(dims[axis], start, end, step), step)
    return _pick(ins[0], dims, ranges)


def _transpose(node, ins, shapes):
    dims = shapes.dims[node.inputs[0]]
    perm = [int(p) for p in node.attrs["perm"]] if "perm" in node.attrs else list(range(len(dims)))[::-1]
    strides = _strides(dims)
    return [ins[0][sum(i * strides[p] for i, p in zip(index, perm))]
            for index in itertools.product(*(range(dims[p]) for p in perm))]


def _constant_of_shape(node, ins, shapes):
    value = shapes.attribute(node, "value")
    fill = stored_numbers(value, shapes) if value is not None else [0.0]
    if not fill or len(fill) != 1 or math.prod(ins[0]) > MAX_ELEMENTS:
        return None
    return fill * math.prod(ins[0])


def _range(node, ins, shapes):
    (start,), (limit,), (delta,) = ins
    return list(range(start, limit, delta)) if all(type(v) is int for v in (start, limit, delta)) and delta else None


def _f32(value: float) -> float:
    import struct

    return struct.unpack("f", struct.pack("f", value))[0]


_INTS = {TensorProto.INT64, TensorProto.INT32}
# op → rule(node, flat inputs, shapes) → flat output: the shape arithmetic exporters write, in plain Python
_RULES = {
    **{op: _same for op in ("Identity", "Reshape", "Squeeze", "Unsqueeze", "Flatten")},
    "Add": _arithmetic(lambda x, y: x + y), "Sub": _arithmetic(lambda x, y: x - y),
    "Mul": _arithmetic(lambda x, y: x * y), "Div": _arithmetic(_div, lambda x, y: x / y),
    "Max": _arithmetic(max), "Min": _arithmetic(min), "Neg": _unary(lambda v: -v), "Abs": _unary(abs),
    "Ceil": _unary(math.ceil), "Floor": _unary(math.floor), "Clip": _clip, "Where": _where, "Equal": _equal,
    "Mod": _mod, "Concat": _concat, "Gather": _gather,
    "Cast": _cast, "Slice": _slice, "Transpose": _transpose, "ConstantOfShape": _constant_of_shape, "Range": _range,
}


def materialize(shapes, name: str):
    """Compute a pending value (and, first, the pending values it depends on), without recursion."""
    values, pending, stack = shapes.values, shapes.pending, [name]
    while stack:
        source = shapes.source(stack[-1])
        if source is None:
            stack.pop()
            continue
        if isinstance(source, (TensorProto, Numbers)):
            key = stack.pop()
            del pending[key]
            value = tensor_value(source) if isinstance(source, TensorProto) else source.array()
            if value is not None:
                values[key] = value
            continue
        waiting = [n for n in source.inputs if n and n not in values and n in pending]
        if waiting:
            stack.extend(waiting)
            continue
        for out in source.outputs:
            pending.pop(out, None)
        inputs = [values.get(n) if n else None for n in source.inputs]
        if all(v is not None for n, v in zip(source.inputs, inputs) if n):
            for out, value in zip(source.outputs, evaluate(source, inputs, shapes) or ()):
                if out and hasattr(value, "shape") and value.size <= MAX_ELEMENTS:
                    values[out] = value
        stack.pop()
    return values.get(name)


def evaluate(node: Node, inputs: list, shapes) -> list | None:
    """The node's outputs computed by onnx.reference, or None when it cannot say."""
    opsets = shapes.opsets
    key = (node.op_type, opsets.get("", 0))
    if key not in _ops:
        from onnx.reference.ops import load_op

        try:
            _ops[key] = load_op("", node.op_type, key[1] or None)
        except Exception:
            _ops[key] = None
    cls = _ops[key]
    if cls is None:
        return None
    import warnings

    import numpy as np

    try:  # numpy's warnings (an invalid cast, an overflow) are the reference code's, not the user's: never on stderr
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            op = cls(shapes.graph.proto(node), {"opsets": opsets, "verbose": 0, "new_ops": None, "log": _quiet})
            results = op.run(*inputs)
    except Exception:  # the reference implementation refuses: the value stays unknown
        return None
    return list(results) if isinstance(results, (tuple, list)) else [results]


def _quiet(*_args) -> None:
    pass
