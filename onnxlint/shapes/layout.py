"""Own shape handlers of the layout ops: reshapes, transposes, slices, concatenation, reductions, resizing,
padding, broadcasting to a target (ops.py holds the rest and the helpers)."""
from __future__ import annotations

import math
import struct

from onnxlint.graph import Node
from onnxlint.proto import TensorProto
from onnxlint.shapes.facts import Out, Shapes
from onnxlint.shapes.inputs import fmt_dims
from onnxlint.shapes.ops import broadcast, clash, known_prod, thousands
from onnxlint.shapes.values import slice_bounds
from onnxlint.shapes.windows import MS, pads_per_axis


def flatten(node: Node, shapes: Shapes) -> Out | None:
    x = shapes.shape(node.inputs[0])
    if x is None:
        return None
    axis = int(node.attrs.get("axis", 1))
    axis = axis + len(x) if axis < 0 else axis
    return Out([(known_prod(x[:axis]), known_prod(x[axis:]))])


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
    total = known_prod(x) if x is not None else None
    if -1 in out:
        known = known_prod([d for d in out if d != -1])
        if known == 0:  # onnx's inference and onnxruntime refuse it: nothing can size the -1
            given = f" for the input {fmt_dims(x)}" if x is not None else ""
            return Out([None], problem=f"the target shape {shown}{given} has a -1 beside a dim of 0: its other "
                                       f"dims' product is 0, which cannot size the -1")
        if total is not None and known:
            if total % known:
                return Out([None], problem=f"cannot reshape {fmt_dims(x)} ({thousands(total)} elements) to {shown}: "
                                           f"{thousands(total)} is not divisible by {thousands(known)}")
            out[out.index(-1)] = total // known
        else:
            out[out.index(-1)] = None
    elif total is not None and None not in out and math.prod(out) != total:
        return Out([None], problem=f"cannot reshape {fmt_dims(x)} ({thousands(total)} elements) to {shown} "
                                   f"({thousands(math.prod(out))} elements)")
    return Out([tuple(out)])


def transpose(node: Node, shapes: Shapes) -> Out | None:
    x = shapes.shape(node.inputs[0])
    if x is None:
        return None
    perm = node.attrs.get("perm")
    perm = list(range(len(x)))[::-1] if perm is None else [int(p) for p in perm]
    if sorted(perm) != list(range(len(x))):  # onnxruntime: "Attribute perm for Transpose has repeated value"
        return Out([None], problem=f"perm {perm} is not a permutation of the {len(x)} axes of its input")
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
    wanted, count = node.attrs.get("num_outputs"), len(node.outputs)
    if type(wanted) is int and wanted != count:  # onnx's inference: 'cannot be lower than 1', 'Mismatch', bad_alloc
        return Out([None] * count, problem=f"num_outputs = {wanted} for its {count} outputs (onnxruntime: 'Number of "
                                           f"outputs ({count}) does not match num_outputs ({wanted})', or it aborts)")
    x = shapes.shape(node.inputs[0])
    if x is None:
        return None
    axis = int(node.attrs.get("axis", 0))
    axis = axis + len(x) if axis < 0 else axis
    size = x[axis]
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
    if node.attrs.get("keepdims", 1) == 1:  # as onnx and onnxruntime read it: any other value drops the axes
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
    if clash([x, tuple(target)]):
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
    if clash(ins):
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



HANDLERS = {
    ("", "Flatten"): flatten, ("", "Reshape"): reshape, ("", "Transpose"): transpose,
    ("", "Unsqueeze"): unsqueeze, ("", "Squeeze"): squeeze, ("", "Gather"): gather, ("", "Concat"): concat,
    ("", "Split"): split, ("", "Slice"): slice_, **{("", op): reduce for op in _REDUCE}, ("", "Resize"): resize,
    ("", "Pad"): pad, ("", "Expand"): expand, ("", "Where"): where, ("", "Range"): range_,
    (MS, "QLinearConcat"): qlinear_concat,
}
