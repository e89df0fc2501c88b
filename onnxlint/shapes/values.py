"""Value propagation: small tensors that do not depend on the input data (shape arithmetic, pads, scales,
axes...) are evaluated with onnx's reference implementation of each op, whatever op computes them."""
from __future__ import annotations

import math

import onnx

from onnxlint.graph import Node

MAX_ELEMENTS = 4096  # larger tensors are never evaluated: weights and activations only need their dims
# ops whose output can be far larger than their inputs: evaluated only once their output dims are known
_EXPANDING = {"ConstantOfShape", "Expand", "Tile", "Range", "Resize", "Upsample", "Pad", "OneHot", "EyeLike"}
NONDETERMINISTIC = {"RandomNormal", "RandomUniform", "RandomNormalLike", "RandomUniformLike", "Multinomial",
                    "Bernoulli"}
_ops: dict = {}


def small(tensor: onnx.TensorProto) -> bool:
    """Whether an embedded tensor is small enough that its value may be read."""
    return math.prod(tensor.dims) <= MAX_ELEMENTS and tensor.data_location != onnx.TensorProto.EXTERNAL \
        and tensor.data_type not in (onnx.TensorProto.STRING, onnx.TensorProto.UNDEFINED)


def tensor_value(tensor: onnx.TensorProto):
    """The value of a small embedded tensor, or None (large, external, string or malformed)."""
    if not small(tensor):
        return None
    from onnx import numpy_helper

    try:
        return numpy_helper.to_array(tensor)
    except Exception:  # malformed data: the value stays unknown (the loader reports what it can)
        return None


def evaluable(node: Node, inputs: list, out_dims: list) -> bool:
    """Whether `node` can be evaluated here: every input known, deterministic, no subgraph, and outputs
    that are known to be small (or, for ops that never grow their input, small inputs)."""
    if node.op_type in NONDETERMINISTIC or node.domain not in ("", "ai.onnx") or node.op_type in ("If", "Loop", "Scan"):
        return False
    if any(value is None for value in inputs):
        return False
    if out_dims and all(d is not None and None not in d for d in out_dims[:1]):
        return math.prod(out_dims[0]) <= MAX_ELEMENTS
    return node.op_type not in _EXPANDING and sum(v.size for v in inputs) <= MAX_ELEMENTS


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
