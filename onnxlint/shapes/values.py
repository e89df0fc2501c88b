"""Value propagation: small tensors that do not depend on the input data (shape arithmetic, pads, scales,
axes...) are evaluated with onnx's reference implementation of each op, whatever op computes them."""
from __future__ import annotations

import array
import math
import sys

from onnxlint.graph import Node
from onnxlint.proto import TensorProto

MAX_ELEMENTS = 4096  # larger tensors are never evaluated: weights and activations only need their dims
# ops whose output can be far larger than their inputs: evaluated only once their output dims are known
_EXPANDING = {"ConstantOfShape", "Expand", "Tile", "Range", "Resize", "Upsample", "Pad", "OneHot", "EyeLike"}
NONDETERMINISTIC = {"RandomNormal", "RandomUniform", "RandomNormalLike", "RandomUniformLike", "Multinomial",
                    "Bernoulli"}
_ops: dict = {}


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


def stored_numbers(source) -> list | None:
    """The flat values of a pending source that is stored, not computed: an initializer, or a Constant node's
    value (tensor, ints, floats); None otherwise."""
    if isinstance(source, TensorProto):
        return tensor_numbers(source)
    if getattr(source, "op_type", None) != "Constant" or source.domain not in ("", "ai.onnx"):
        return None
    attrs = source.attrs
    if "value" in attrs:
        return tensor_numbers(attrs["value"]) if isinstance(attrs["value"], TensorProto) else None
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
    from onnx import numpy_helper

    try:
        return numpy_helper.to_array(tensor)
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


def materialize(shapes, name: str):
    """Compute a pending value (and, first, the pending values it depends on), without recursion."""
    values, pending, stack = shapes.values, shapes.pending, [name]
    while stack:
        source = pending.get(stack[-1])
        if source is None:
            stack.pop()
            continue
        if isinstance(source, TensorProto):
            key = stack.pop()
            del pending[key]
            value = tensor_value(source)
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
            for out, value in zip(source.outputs, evaluate(source, inputs, shapes.opsets) or ()):
                if out and hasattr(value, "shape") and value.size <= MAX_ELEMENTS:
                    values[out] = value
        stack.pop()
    return values.get(name)


def evaluate(node: Node, inputs: list, opsets: dict[str, int]) -> list | None:
    """The node's outputs computed by onnx.reference, or None when it cannot say."""
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
    try:
        op = cls(node.proto, {"opsets": opsets, "verbose": 0, "new_ops": None, "log": _quiet})
        results = op.run(*inputs)
    except Exception:  # the reference implementation refuses: the value stays unknown
        return None
    return list(results) if isinstance(results, (tuple, list)) else [results]


def _quiet(*_args) -> None:
    pass
