"""Own shape handlers for the ops the rules reason about and the common cheap ones — matrix products,
element-wise and per-channel ops, shape arithmetic (layout.py: reshapes, slices, pads; windows.py: convs and
pools) — and the helpers they share. Each handler returns an Out (dims per output, dtypes, typed facts, a
contradiction) and writes nothing; its entry in its module's HANDLERS is all it takes. Every other op goes to
onnx's per-op inference (onnx_infer.py)."""
from __future__ import annotations

import math

from onnxlint.graph import Node
from onnxlint.lookthrough import NO_OPS, POINTWISE, walk_back
from onnxlint.proto import TensorProto
from onnxlint.shapes.facts import MatmulFacts, Out, Shapes
from onnxlint.shapes.inputs import fmt_dims
from onnxlint.shapes.values import Numbers
from onnxlint.shapes.windows import MS

INT64, INT32 = TensorProto.INT64, TensorProto.INT32
FLOAT, BOOL = TensorProto.FLOAT, TensorProto.BOOL


def known_prod(dims):
    return None if dims is None or None in dims else math.prod(dims)


def thousands(value: int) -> str:
    return f"{value:,}"


def broadcast(*shapes_: tuple) -> tuple | None:
    """numpy broadcasting of known-rank shapes; None when two fixed dims clash."""
    rank = max(len(s) for s in shapes_)
    out = []
    for i in range(rank):
        dims = {s[len(s) - rank + i] for s in shapes_ if len(s) - rank + i >= 0}
        dims.discard(1)
        if len(dims) <= 1:
            out.append(dims.pop() if dims else 1)
        elif None in dims and len(dims) == 2:
            out.append(max(d for d in dims if d is not None))
        else:
            return None
    return tuple(out)


def clash(shapes_) -> bool:
    """Two fixed dims that differ and neither is 1: the broadcast cannot work."""
    rank = max(len(s) for s in shapes_)
    for i in range(rank):
        fixed = {s[len(s) - rank + i] for s in shapes_ if len(s) - rank + i >= 0} - {1, None}
        if len(fixed) > 1:
            return True
    return False


def matmul_shape(a: tuple, b: tuple) -> tuple | None:
    """numpy.matmul broadcasting: 1-D operands are promoted then squeezed."""
    if not a or not b:
        return None
    pa, pb = (1,) + a if len(a) == 1 else a, b + (1,) if len(b) == 1 else b
    batch = broadcast(pa[:-2], pb[:-2]) if len(pa) > 2 or len(pb) > 2 else ()
    if batch is None:
        return None
    out = batch + (pa[-2], pb[-1])
    if len(a) == 1:
        out = out[:-2] + out[-1:]
    if len(b) == 1:
        out = out[:-1]
    return out


def features(shapes: Shapes, tensor: str, count: int) -> str:
    """'6,912 = 192×6×6' when `tensor` is a flattened feature map, else '6,912'."""
    flat = walk_back(shapes.graph.producer.get, tensor, NO_OPS)
    if flat is not None and flat.op_type in ("Flatten", "Reshape"):
        source = shapes.shape(flat.inputs[0])
        if source is not None and len(source) >= 3 and None not in source and math.prod(source[1:]) == count:
            return f"{thousands(count)} = {'×'.join(map(str, source[1:]))}"
    return thousands(count)


def _inner_mismatch(node: Node, shapes: Shapes, a: str, b: str, k_a, k_b) -> str | None:
    if k_a is None or k_b is None or k_a == k_b:
        return None
    if b in shapes.constants:
        return f"its input has {features(shapes, a, k_a)} features, its weight expects {thousands(k_b)}"
    return f"the inner dimensions differ: {thousands(k_a)} (input A) vs {thousands(k_b)} (input B)"


# --- matrix products -------------------------------------------------------------------------------------------

# (a, b, bias, zero point giving the output dtype) input positions
_GEMMS = {("", "Gemm"): (0, 1, 2, None), (MS, "FusedGemm"): (0, 1, 2, None), (MS, "QGemm"): (0, 3, 6, 8)}
_MATMULS = {("", "MatMul"): (0, 1, None), ("", "MatMulInteger"): (0, 1, None), ("", "QLinearMatMul"): (0, 3, 7),
            (MS, "FusedMatMul"): (0, 1, None)}


def _input(node: Node, position: int | None) -> str | None:
    if position is None or position >= len(node.inputs) or not node.inputs[position]:
        return None
    return node.inputs[position]


def _dtype_of(node: Node, shapes: Shapes, position: int | None, default: int) -> int:
    name = _input(node, position)
    return shapes.dtype.get(name, default) if name else default


def _flag(value) -> bool:
    """An INT attribute read as onnx's inference reads it, through a C++ int: 2^32 and -2^63 are 0."""
    return isinstance(value, int) and (value + 2**31) % 2**32 - 2**31 != 0


def gemm(node: Node, shapes: Shapes) -> Out | None:
    ai, bi, ci, zi = _GEMMS[(node.domain, node.op_type)]
    a_name, b_name = node.inputs[ai], node.inputs[bi]
    a, b = shapes.shape(a_name), shapes.shape(b_name)
    ta, tb = _flag(node.attrs.get("transA", 0)), _flag(node.attrs.get("transB", 0))
    k = None
    if a is not None and len(a) == 2:
        k = a[0] if ta else a[1]
    facts = MatmulFacts(a_name, b_name, _input(node, ci), k, ta, tb)
    dtypes = None if zi is None else [_dtype_of(node, shapes, zi, FLOAT)]
    if a is None or b is None:
        return Out([None], dtypes, facts)
    if len(a) != 2 or len(b) != 2:
        return Out([None], dtypes, facts, f"Gemm needs 2-D operands, got {fmt_dims(a)} and {fmt_dims(b)}")
    problem = _inner_mismatch(node, shapes, a_name, b_name, k, b[1] if tb else b[0])
    return Out([None if problem else (a[1] if ta else a[0], b[0] if tb else b[1])], dtypes, facts, problem)


def matmul(node: Node, shapes: Shapes) -> Out | None:
    ai, bi, zi = _MATMULS[(node.domain, node.op_type)]
    a_name, b_name = node.inputs[ai], node.inputs[bi]
    a, b = shapes.shape(a_name), shapes.shape(b_name)
    if node.op_type == "FusedMatMul":
        a = a[:-2] + (a[-1], a[-2]) if a and len(a) >= 2 and node.attrs.get("transA", 0) else a
        b = b[:-2] + (b[-1], b[-2]) if b and len(b) >= 2 and node.attrs.get("transB", 0) else b
    facts = MatmulFacts(a_name, b_name, None, a[-1] if a else None)
    dtypes = [INT32] if node.op_type == "MatMulInteger" else (
        [_dtype_of(node, shapes, zi, TensorProto.UINT8)] if zi is not None else None)
    if a is None or b is None or not a or not b:
        return Out([None], dtypes, facts)
    problem = _inner_mismatch(node, shapes, a_name, b_name, a[-1], b[-2] if len(b) > 1 else b[0])
    if problem is None and clash([a[:-2], b[:-2]]):
        problem = f"the batch dims of {fmt_dims(a)} and {fmt_dims(b)} cannot broadcast"
    return Out([None if problem else matmul_shape(a, b)], dtypes, facts, problem)


# --- element-wise and per-channel -------------------------------------------------------------------------------

def same(node: Node, shapes: Shapes) -> Out | None:
    """The first output is shaped as the input; any other (LayerNormalization's Mean and InvStdDev) is left to
    onnx's per-op inference."""
    x = shapes.shape(node.inputs[0])
    return Out([x] + [None] * (len(node.outputs) - 1))


def elementwise(node: Node, shapes: Shapes) -> Out | None:
    ins = [shapes.shape(n) for n in node.inputs if n]
    if not ins or None in ins:
        return None
    if clash(ins):
        return Out([None], problem=f"its inputs {' and '.join(fmt_dims(s) for s in ins)} cannot broadcast")
    dtypes = [BOOL] if node.op_type in _COMPARE else None
    return Out([broadcast(*ins)], dtypes)


def qlinear_binary(node: Node, shapes: Shapes) -> Out | None:
    """com.microsoft QLinearAdd/QLinearMul: A, A_scale, A_zp, B, B_scale, B_zp, C_scale, C_zp."""
    a, b = shapes.shape(node.inputs[0]), shapes.shape(node.inputs[3])
    if a is None or b is None:
        return None
    if clash([a, b]):
        return Out([None], problem=f"its inputs {fmt_dims(a)} and {fmt_dims(b)} cannot broadcast")
    return Out([broadcast(a, b)], [shapes.dtype.get(node.inputs[0], 0)])


def batchnorm(node: Node, shapes: Shapes) -> Out | None:
    x = shapes.shape(node.inputs[0])
    channel = (x[1],) if x is not None and len(x) > 1 else None
    for name in node.inputs[1:5]:  # scale, bias, mean, variance: one per channel (onnxruntime: "Dimension mismatch")
        dims = shapes.dims.get(name) if name else None
        if channel is not None and channel[0] is not None and dims is not None and len(dims) == 1 \
                and dims[0] is not None and dims[0] != channel[0]:
            return Out([None] * len(node.outputs), problem=f"'{name}' holds {dims[0]:,} values for {channel[0]:,} "
                                                             "channels")
    return Out([x] + [channel] * (len(node.outputs) - 1), training=bool(node.attrs.get("training_mode", 0)))


def dropout(node: Node, shapes: Shapes) -> Out | None:
    x = shapes.shape(node.inputs[0])
    mask = BOOL if shapes.opset >= 10 else shapes.dtype.get(node.inputs[0], 0)  # before opset 10 the mask has T
    ratio = shapes.dims.get(node.inputs[1]) if len(node.inputs) > 1 and node.inputs[1] else ()
    if ratio is not None and len(ratio) > 0 and shapes.opset >= 12:  # onnxruntime: "Ratio of Dropout must be a scalar"
        return Out([None] * len(node.outputs), problem=f"its ratio '{node.inputs[1]}' is not a scalar")
    training = False
    if len(node.inputs) > 2 and node.inputs[2]:  # training_mode as an input (opset 12): known only as a value
        value = shapes.value(node.inputs[2])
        training = None if value is None or value.size != 1 else bool(value.reshape(-1)[0])
    return Out([x] * len(node.outputs), [shapes.dtype.get(node.inputs[0], 0), mask][:len(node.outputs)],
               training=training)


def global_pool(node: Node, shapes: Shapes) -> Out | None:
    x = shapes.shape(node.inputs[0])
    if x is None:
        return None
    if node.attrs.get("channels_last", 0):  # com.microsoft QLinearGlobalAveragePool on NHWC
        return Out([(x[0], *([1] * (len(x) - 2)), x[-1])])
    return Out([(x[0], x[1], *([1] * (len(x) - 2)))])


def quantize(node: Node, shapes: Shapes) -> Out | None:
    """QuantizeLinear → the zero point's type (uint8 without one); DequantizeLinear → the scale's type."""
    x = shapes.shape(node.inputs[0])
    if node.op_type == "QuantizeLinear":
        dtype = node.attrs.get("output_dtype") or _dtype_of(node, shapes, 2, TensorProto.UINT8)
    else:
        dtype = _dtype_of(node, shapes, 1, FLOAT)
    return Out([x], [int(dtype)])


# --- shape arithmetic ------------------------------------------------------------------------------------------

def shape(node: Node, shapes: Shapes) -> Out | None:
    x = shapes.shape(node.inputs[0])
    if x is None:
        return Out([None], [INT64])
    start, end = int(node.attrs.get("start", 0)), int(node.attrs.get("end", len(x)))
    sliced = x[slice(start, end)]
    value = Numbers(tuple(sliced), INT64, (len(sliced),)) if None not in sliced else None
    return Out([(len(sliced),)], [INT64], values=[value])


def size(node: Node, shapes: Shapes) -> Out | None:
    count = known_prod(shapes.shape(node.inputs[0]))
    return Out([()], [INT64], values=[Numbers((count,), INT64, ()) if count is not None else None])


def constant(node: Node, shapes: Shapes) -> Out | None:
    for key, dtype, rank in (("value_int", INT64, 0), ("value_ints", INT64, 1), ("value_float", FLOAT, 0),
                             ("value_floats", FLOAT, 1)):
        if key in node.attrs:
            return Out([(len(node.attrs[key]),) if rank else ()], [dtype])
    t = shapes.attribute(node, "value")
    if t is None or not isinstance(t, TensorProto):
        return None
    return Out([tuple(t.dims)], [t.data_type])


def constant_of_shape(node: Node, shapes: Shapes) -> Out | None:
    value = shapes.attribute(node, "value")
    dtype = value.data_type if value is not None else FLOAT
    target = shapes.ints(node.inputs[0])
    return Out([None if target is None else tuple(target)], [dtype])


def cast(node: Node, shapes: Shapes) -> Out | None:
    return Out([shapes.shape(node.inputs[0])], [int(node.attrs.get("to", 0))])


def identity(node: Node, shapes: Shapes) -> Out | None:
    return Out([shapes.shape(node.inputs[0])])


def if_(node: Node, shapes: Shapes) -> Out | None:
    """A known condition takes its branch; otherwise what both branches agree on (in the bound pass, the larger
    of the two)."""
    upper = shapes.bounded is not None
    cond = None if upper and node.inputs[0] in shapes.bounded else shapes.value(node.inputs[0])
    branches = [shapes.attribute(node, "then_branch"), shapes.attribute(node, "else_branch")]
    if None in branches:
        return None
    outs = [[o.name for o in b.output] for b in branches]
    if cond is not None and cond.size == 1:
        taken = outs[0] if bool(cond.reshape(-1)[0]) else outs[1]
        return Out([shapes.dims.get(n) for n in taken], [shapes.dtype.get(n, 0) for n in taken],
                   values=[shapes.value(n) for n in taken])
    dims = []
    for a, b in zip(*outs):
        da, db = shapes.dims.get(a), shapes.dims.get(b)
        dims.append(da if da == db else None if da is None or db is None or len(da) != len(db) else
                    tuple(x if x == y else max(x, y) if upper and None not in (x, y) else None
                          for x, y in zip(da, db)))
    return Out(dims, [shapes.dtype.get(a) or shapes.dtype.get(b, 0) for a, b in zip(*outs)])


# default-domain ops whose one output has the shape and dtype of their first input
UNARY = frozenset(sorted(POINTWISE) + ("PRelu Softmax LogSoftmax Hardmax LRN InstanceNormalization LayerNormalization "
                              "MeanVarianceNormalization GroupNormalization Not").split())
_COMPARE = {"Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual", "And", "Or", "Xor"}
_BROADCAST = ["Add", "Sub", "Mul", "Div", "Pow", "Max", "Min", "Sum", "Mean", "Mod", "BitShift", *_COMPARE]
_MS_UNARY = "Gelu FastGelu BiasGelu QuickGelu QLinearSigmoid QLinearLeakyRelu QLinearSoftmax".split()

HANDLERS = {
    **{key: gemm for key in _GEMMS}, **{key: matmul for key in _MATMULS},
    ("", "BatchNormalization"): batchnorm, ("", "Dropout"): dropout, ("", "Identity"): identity,
    ("", "GlobalAveragePool"): global_pool, ("", "GlobalMaxPool"): global_pool, ("", "GlobalLpPool"): global_pool,
    (MS, "QLinearGlobalAveragePool"): global_pool,
    ("", "QuantizeLinear"): quantize, ("", "DequantizeLinear"): quantize,
    ("", "Shape"): shape, ("", "Size"): size, ("", "Constant"): constant, ("", "ConstantOfShape"): constant_of_shape,
    ("", "Cast"): cast, ("", "If"): if_,
    (MS, "QLinearAdd"): qlinear_binary, (MS, "QLinearMul"): qlinear_binary,
    **{("", op): same for op in UNARY}, **{(MS, op): same for op in _MS_UNARY},
    ("", "CumSum"): same, ("", "ScatterND"): same, ("", "ScatterElements"): same,
    **{("", op): elementwise for op in _BROADCAST},
}
