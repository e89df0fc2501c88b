"""Own shape handlers for the ops the rules reason about and the common cheap ones; each returns an Out
(dims per output, dtypes, typed facts, a contradiction) and writes nothing. Every other op goes to onnx's
per-op inference (onnx_infer.py)."""
from __future__ import annotations

import math
import struct

from onnxlint.graph import Node
from onnxlint.lookthrough import NO_OPS, POINTWISE, walk_back
from onnxlint.proto import TensorProto
from onnxlint.shapes.facts import MatmulFacts, Numbers, Out, Shapes
from onnxlint.shapes.inputs import fmt_dims
from onnxlint.shapes.windows import MS, pads_per_axis

INT64, INT32 = TensorProto.INT64, TensorProto.INT32
FLOAT, BOOL = TensorProto.FLOAT, TensorProto.BOOL


def _prod(dims):
    return None if dims is None or None in dims else math.prod(dims)


def _n(value: int) -> str:
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


def _clash(shapes_) -> bool:
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
    flat = walk_back(shapes.producer.get, tensor, NO_OPS)
    if flat is not None and flat.op_type in ("Flatten", "Reshape"):
        source = shapes.shape(flat.inputs[0])
        if source is not None and len(source) >= 3 and None not in source and math.prod(source[1:]) == count:
            return f"{_n(count)} = {'×'.join(map(str, source[1:]))}"
    return _n(count)


def _inner_mismatch(node: Node, shapes: Shapes, a: str, b: str, k_a, k_b) -> str | None:
    if k_a is None or k_b is None or k_a == k_b:
        return None
    if b in shapes.constants:
        return f"its input has {features(shapes, a, k_a)} features, its weight expects {_n(k_b)}"
    return f"the inner dimensions differ: {_n(k_a)} (input A) vs {_n(k_b)} (input B)"


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


def gemm(node: Node, shapes: Shapes) -> Out | None:
    ai, bi, ci, zi = _GEMMS[(node.domain, node.op_type)]
    a_name, b_name = node.inputs[ai], node.inputs[bi]
    a, b = shapes.shape(a_name), shapes.shape(b_name)
    ta, tb = bool(node.attrs.get("transA", 0)), bool(node.attrs.get("transB", 0))
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
    if problem is None and _clash([a[:-2], b[:-2]]):
        problem = f"the batch dims of {fmt_dims(a)} and {fmt_dims(b)} cannot broadcast"
    return Out([None if problem else matmul_shape(a, b)], dtypes, facts, problem)


# --- layout ---------------------------------------------------------------------------------------------------

def flatten(node: Node, shapes: Shapes) -> Out | None:
    x = shapes.shape(node.inputs[0])
    if x is None:
        return None
    axis = int(node.attrs.get("axis", 1))
    axis = axis + len(x) if axis < 0 else axis
    return Out([(_prod(x[:axis]), _prod(x[axis:]))])


def reshape(node: Node, shapes: Shapes) -> Out | None:
    x, target = shapes.shape(node.inputs[0]), shapes.ints(node.inputs[1])
    if target is None:
        return None
    out = list(target)
    shown = f"[{','.join(map(str, target))}]"
    if out.count(-1) > 1:
        return Out([None], problem=f"the target shape {shown} has more than one -1")
    if not node.attrs.get("allowzero", 0):  # 0 copies the input's dim
        if x is not None and any(d == 0 and i >= len(x) for i, d in enumerate(out)):
            return Out([None], problem=f"the target shape {shown} copies a dim (0) that the input "
                                       f"{fmt_dims(x)} does not have")
        out = [(x[i] if x is not None and i < len(x) else None) if d == 0 else d for i, d in enumerate(out)]
    total = _prod(x) if x is not None else None
    if -1 in out:
        known = _prod([d for d in out if d != -1])
        if total is not None and known:
            if total % known:
                return Out([None], problem=f"cannot reshape {fmt_dims(x)} ({_n(total)} elements) to {shown}: "
                                           f"{_n(total)} is not divisible by {_n(known)}")
            out[out.index(-1)] = total // known
        else:
            out[out.index(-1)] = None
    elif total is not None and None not in out and math.prod(out) != total:
        return Out([None], problem=f"cannot reshape {fmt_dims(x)} ({_n(total)} elements) to {shown} "
                                   f"({_n(math.prod(out))} elements)")
    return Out([tuple(out)])


def transpose(node: Node, shapes: Shapes) -> Out | None:
    x = shapes.shape(node.inputs[0])
    if x is None:
        return None
    perm = node.attrs.get("perm")
    perm = list(range(len(x)))[::-1] if perm is None else [int(p) for p in perm]
    return Out([tuple(x[p] for p in perm)])


def _axes(node: Node, shapes: Shapes):
    if "axes" in node.attrs:
        return [int(a) for a in node.attrs["axes"]]
    return shapes.ints(node.inputs[1]) if len(node.inputs) > 1 and node.inputs[1] else None


def unsqueeze(node: Node, shapes: Shapes) -> Out | None:
    x, axes = shapes.shape(node.inputs[0]), _axes(node, shapes)
    if x is None or axes is None:
        return None
    rank = len(x) + len(axes)
    out = list(x)
    for a in sorted(a + rank if a < 0 else a for a in axes):
        out.insert(a, 1)
    return Out([tuple(out)])


def squeeze(node: Node, shapes: Shapes) -> Out | None:
    x, axes = shapes.shape(node.inputs[0]), _axes(node, shapes)
    if x is None:
        return None
    given = "axes" in node.attrs or (len(node.inputs) > 1 and bool(node.inputs[1]))
    if axes is None and given:  # axes known only at run time: the rank is known from their count, no dim is
        count = shapes.dims.get(node.inputs[1])
        return Out([(None,) * (len(x) - count[0])] if count and len(count) == 1 and count[0] is not None else [None])
    if axes is None:
        if None in x:
            return None
        axes = [i for i, d in enumerate(x) if d == 1]
    axes = {a + len(x) if a < 0 else a for a in axes}
    return Out([tuple(d for i, d in enumerate(x) if i not in axes)])


def gather(node: Node, shapes: Shapes) -> Out | None:
    x, idx = shapes.shape(node.inputs[0]), shapes.shape(node.inputs[1])
    if x is None or idx is None:
        return None
    axis = int(node.attrs.get("axis", 0))
    axis = axis + len(x) if axis < 0 else axis
    return Out([tuple(x[:axis]) + tuple(idx) + tuple(x[axis + 1:])])


def concat(node: Node, shapes: Shapes) -> Out | None:
    names = [n for n in node.inputs if n]
    ins = [shapes.shape(n) for n in names]
    if not ins or None in ins or len({len(s) for s in ins}) != 1:
        return None
    axis = int(node.attrs.get("axis", 0))
    axis = axis + len(ins[0]) if axis < 0 else axis
    out = []
    for i in range(len(ins[0])):
        fixed = {s[i] for s in ins} - {None}
        if i != axis and len(fixed) > 1:
            known = [s for s in ins if s[i] is not None]
            other = next(s for s in known if s[i] != known[0][i])
            return Out([None], problem=f"its inputs differ outside the concat axis {axis}: {fmt_dims(known[0])} "
                                       f"and {fmt_dims(other)}")
        out.append(next(iter(fixed)) if len(fixed) == 1 else None)
    out[axis] = None if any(s[axis] is None for s in ins) else sum(s[axis] for s in ins)
    return Out([tuple(out)])


def _operand_ints(node: Node, shapes: Shapes, position: int | None, attr: str | None = None):
    """An int-list operand that moved from an attribute to an input over the opsets: the attribute when the
    node has it, else input `position` ("..." when that input is given but its value unknown, None when absent)."""
    if attr is not None and attr in node.attrs:
        return [int(v) for v in node.attrs[attr]]
    if position is not None and position < len(node.inputs) and node.inputs[position]:
        found = shapes.ints(node.inputs[position])
        return ... if found is None else found
    return None


def split(node: Node, shapes: Shapes) -> Out | None:
    """Each output: the input with the axis cut to its share (the `split` sizes, else equal parts; opset 18's
    num_outputs gives the last part the remainder)."""
    x = shapes.shape(node.inputs[0])
    if x is None:
        return None
    axis = int(node.attrs.get("axis", 0))
    axis = axis + len(x) if axis < 0 else axis
    count, size = len(node.outputs), x[axis]
    sizes = _operand_ints(node, shapes, 1, "split")
    if sizes is ...:
        return Out([x[:axis] + (None,) + x[axis + 1:]] * count)
    if sizes is None:
        if size is None:
            sizes = [None] * count
        elif "num_outputs" in node.attrs:
            part = -(-size // count)
            sizes = [part] * (count - 1) + [size - part * (count - 1)]
        elif shapes.opset >= 18:
            return None  # neither sizes nor num_outputs: onnx's inference says what is wrong
        elif size % count:
            return Out([None] * count, problem=f"its axis {axis} of {size} cannot split into {count} equal parts")
        else:
            sizes = [size // count] * count
    if len(sizes) != count or (size is not None and None not in sizes and sum(sizes) != size):
        return Out([None] * count, problem=f"split sizes {sizes} do not cut axis {axis} of {size} into {count}")
    return Out([x[:axis] + (part,) + x[axis + 1:] for part in sizes], [shapes.dtype.get(node.inputs[0], 0)] * count)


def slice_(node: Node, shapes: Shapes) -> Out | None:
    """Per sliced axis: start and end made positive and clamped as the ONNX spec says, ⌈(end − start) / step⌉."""
    x = shapes.shape(node.inputs[0])
    if x is None:
        return None
    if shapes.opset < 10:
        starts, ends = _operand_ints(node, shapes, None, "starts"), _operand_ints(node, shapes, None, "ends")
        axes, steps = _operand_ints(node, shapes, None, "axes"), None
    else:
        starts, ends = _operand_ints(node, shapes, 1), _operand_ints(node, shapes, 2)
        axes, steps = _operand_ints(node, shapes, 3), _operand_ints(node, shapes, 4)
    if starts is None or ends is None or axes is ... or steps is ...:
        return None
    axes = list(range(len(starts))) if axes is None else [a + len(x) if a < 0 else a for a in axes]
    out = list(x)
    if starts is ... or ends is ...:  # the axes are known, their extents are not
        for a in axes:
            out[a] = None
        return Out([tuple(out)])
    steps = [1] * len(starts) if steps is None else steps
    if not len(starts) == len(ends) == len(axes) == len(steps) or 0 in steps or any(a >= len(x) for a in axes):
        return None
    for a, start, end, step in zip(axes, starts, ends, steps):
        if x[a] is not None:
            start, end = slice_bounds(x[a], start, end, step)
            out[a] = max(0, -(-(end - start) // step))
    return Out([tuple(out)])


def slice_bounds(d: int, start: int, end: int, step: int) -> tuple[int, int]:
    """start and end on an axis of extent d, made positive and clamped as the ONNX spec says (an end of −1
    with a negative step: past index 0)."""
    start, end = start + d if start < 0 else start, end + d if end < 0 else end
    if step > 0:
        return min(max(start, 0), d), min(max(end, 0), d)
    return min(max(start, 0), d - 1), min(max(end, -1), d - 1)


_REDUCE = ("ReduceMean ReduceSum ReduceMax ReduceMin ReduceProd ReduceL1 ReduceL2 ReduceLogSum ReduceLogSumExp "
           "ReduceSumSquare").split()


def reduce(node: Node, shapes: Shapes) -> Out | None:
    x = shapes.shape(node.inputs[0])
    if x is None:
        return None
    axes = _operand_ints(node, shapes, 1, "axes")
    if axes is ...:
        return None
    if not axes:
        if node.attrs.get("noop_with_empty_axes", 0):
            return Out([x])
        axes = range(len(x))
    axes = {a + len(x) if a < 0 else a for a in axes}
    if node.attrs.get("keepdims", 1):
        return Out([tuple(1 if i in axes else d for i, d in enumerate(x))])
    return Out([tuple(d for i, d in enumerate(x) if i not in axes)])


def resize(node: Node, shapes: Shapes) -> Out | None:
    """Resize (opset 11+) by `sizes`, or by `scales`: ⌊I × scale⌋ in float32, as onnx and onnxruntime compute it."""
    x = shapes.shape(node.inputs[0])
    if x is None or shapes.opset < 11 or "axes" in node.attrs \
            or node.attrs.get("keep_aspect_ratio_policy", b"stretch") not in (b"stretch", "stretch"):
        return None
    sizes = _operand_ints(node, shapes, 3)
    if sizes is ...:
        return Out([(None,) * len(x)])
    if sizes:
        return Out([tuple(sizes)]) if len(sizes) == len(x) else None
    scales = shapes.floats(node.inputs[2]) if len(node.inputs) > 2 and node.inputs[2] else None
    if scales is None or len(scales) != len(x):
        return Out([(None,) * len(x)]) if len(node.inputs) > 2 and node.inputs[2] else None
    return Out([tuple(None if d is None else math.floor(_f32(_f32(d) * s)) for d, s in zip(x, scales))])


def _f32(value: float) -> float:
    return struct.unpack("f", struct.pack("f", value))[0]


def pad(node: Node, shapes: Shapes) -> Out | None:
    x, per_axis = shapes.shape(node.inputs[0]), pads_per_axis(node, shapes)
    if per_axis is None:
        return None
    return Out([tuple(None if d is None else d + begin + end for d, (begin, end) in zip(x, per_axis))])


def expand(node: Node, shapes: Shapes) -> Out | None:
    x, target = shapes.shape(node.inputs[0]), shapes.ints(node.inputs[1])
    if x is None:
        return None
    if target is None:  # the rank is known from the shape operand's length
        length = shapes.shape(node.inputs[1])
        return Out([(None,) * max(len(x), length[0])]) if length and length[0] is not None else None
    if _clash([x, tuple(target)]):
        return Out([None], problem=f"its input {fmt_dims(x)} cannot broadcast to {list(target)}")
    return Out([broadcast(x, tuple(target))])


def range_(node: Node, shapes: Shapes) -> Out | None:
    """Range over integers: max(⌈(limit − start) / delta⌉, 0) elements."""
    start, limit, delta = (shapes.ints(n) for n in node.inputs[:3])
    if not (start and limit and delta) or len(start) != 1 or len(limit) != 1 or len(delta) != 1 or not delta[0]:
        return None
    return Out([(max(-(-(limit[0] - start[0]) // delta[0]), 0),)])


def where(node: Node, shapes: Shapes) -> Out | None:
    ins = [shapes.shape(n) for n in node.inputs]
    if None in ins or len(ins) != 3:
        return None
    if _clash(ins):
        return Out([None], problem=f"its inputs {' and '.join(fmt_dims(s) for s in ins)} cannot broadcast")
    return Out([broadcast(*ins)], [shapes.dtype.get(node.inputs[1], 0)])


def qlinear_concat(node: Node, shapes: Shapes) -> Out | None:
    """com.microsoft QLinearConcat: Y_scale, Y_zero_point, then (X, X_scale, X_zero_point) per input."""
    ins = [shapes.shape(n) for n in node.inputs[2::3]]
    if not ins or None in ins or len({len(s) for s in ins}) != 1:
        return None
    axis = int(node.attrs.get("axis", 0))
    axis = axis + len(ins[0]) if axis < 0 else axis
    out = list(ins[0])
    out[axis] = None if any(s[axis] is None for s in ins) else sum(s[axis] for s in ins)
    return Out([tuple(out)], [shapes.dtype.get(node.inputs[1], TensorProto.UINT8)])


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
    if _clash(ins):
        return Out([None], problem=f"its inputs {' and '.join(fmt_dims(s) for s in ins)} cannot broadcast")
    dtypes = [BOOL] if node.op_type in _COMPARE else None
    return Out([broadcast(*ins)], dtypes)


def qlinear_binary(node: Node, shapes: Shapes) -> Out | None:
    """com.microsoft QLinearAdd/QLinearMul: A, A_scale, A_zp, B, B_scale, B_zp, C_scale, C_zp."""
    a, b = shapes.shape(node.inputs[0]), shapes.shape(node.inputs[3])
    if a is None or b is None:
        return None
    if _clash([a, b]):
        return Out([None], problem=f"its inputs {fmt_dims(a)} and {fmt_dims(b)} cannot broadcast")
    return Out([broadcast(a, b)], [shapes.dtype.get(node.inputs[0], 0)])


def batchnorm(node: Node, shapes: Shapes) -> Out | None:
    x = shapes.shape(node.inputs[0])
    channel = (x[1],) if x is not None and len(x) > 1 else None
    return Out([x] + [channel] * (len(node.outputs) - 1), training=bool(node.attrs.get("training_mode", 0)))


def dropout(node: Node, shapes: Shapes) -> Out | None:
    x = shapes.shape(node.inputs[0])
    mask = BOOL if shapes.opset >= 10 else shapes.dtype.get(node.inputs[0], 0)  # before opset 10 the mask has T
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
    count = _prod(shapes.shape(node.inputs[0]))
    return Out([()], [INT64], values=[Numbers((count,), INT64, ()) if count is not None else None])


def constant(node: Node, shapes: Shapes) -> Out | None:
    for key, dtype, rank in (("value_int", INT64, 0), ("value_ints", INT64, 1), ("value_float", FLOAT, 0),
                             ("value_floats", FLOAT, 1)):
        if key in node.attrs:
            return Out([(len(node.attrs[key]),) if rank else ()], [dtype])
    t = node.attrs.get("value")
    if t is None or not isinstance(t, TensorProto):
        return None
    return Out([tuple(t.dims)], [t.data_type])


def constant_of_shape(node: Node, shapes: Shapes) -> Out | None:
    value = node.attrs.get("value")
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
    branches = [node.attrs.get("then_branch"), node.attrs.get("else_branch")]
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
    ("", "Flatten"): flatten, ("", "Reshape"): reshape, ("", "Transpose"): transpose,
    ("", "Unsqueeze"): unsqueeze, ("", "Squeeze"): squeeze, ("", "Gather"): gather, ("", "Concat"): concat,
    ("", "BatchNormalization"): batchnorm, ("", "Dropout"): dropout, ("", "Identity"): identity,
    ("", "GlobalAveragePool"): global_pool, ("", "GlobalMaxPool"): global_pool, ("", "GlobalLpPool"): global_pool,
    (MS, "QLinearGlobalAveragePool"): global_pool,
    ("", "QuantizeLinear"): quantize, ("", "DequantizeLinear"): quantize,
    ("", "Shape"): shape, ("", "Size"): size, ("", "Constant"): constant, ("", "ConstantOfShape"): constant_of_shape,
    ("", "Cast"): cast, ("", "If"): if_,
    (MS, "QLinearAdd"): qlinear_binary, (MS, "QLinearMul"): qlinear_binary, (MS, "QLinearConcat"): qlinear_concat,
    **{("", op): same for op in UNARY}, **{(MS, op): same for op in _MS_UNARY},
    ("", "CumSum"): same, ("", "ScatterND"): same, ("", "ScatterElements"): same,
    ("", "Split"): split, ("", "Slice"): slice_, **{("", op): reduce for op in _REDUCE}, ("", "Resize"): resize,
    ("", "Pad"): pad, ("", "Expand"): expand, ("", "Where"): where, ("", "Range"): range_,
    **{("", op): elementwise for op in _BROADCAST},
}
