"""Sliding-window ops: Conv, ConvTranspose and the pools, with their quantized and fused forms.
One attribute parser and one validity guard serve them all (DOMAIN.md §1, §2, §10)."""
from __future__ import annotations

from onnxlint.graph import Node
from onnxlint.lookthrough import PAD_PLUMBING
from onnxlint.proto import TensorProto
from onnxlint.shapes.facts import AxisWindow, Out, Shapes, WindowFacts, axis_window

MS = "com.microsoft"
# (x, weight, bias) input positions of the convolutions, by (domain, op type); None: no such input
CONV_OPERANDS = {("", "Conv"): (0, 1, 2), ("", "ConvInteger"): (0, 1, None), ("", "QLinearConv"): (0, 3, 8),
                 (MS, "FusedConv"): (0, 1, 2)}
TRANSPOSE_OPERANDS = {("", "ConvTranspose"): (0, 1, 2)}
POOLS = {("", "MaxPool"), ("", "AveragePool"), ("", "LpPool"), (MS, "QLinearAveragePool")}
# the output dtype, where it is not the input's: the zero point's type, or int32 accumulators
_OUTPUT_DTYPE_FROM = {"QLinearConv": 7}
_INT32_OUTPUT = {"ConvInteger"}


def _ints(node: Node, name: str, default):
    value = node.attrs.get(name)
    return list(map(int, value)) if value is not None else default


def _auto_pad(node: Node) -> str:
    value = node.attrs.get("auto_pad", b"NOTSET")
    return value.decode("utf-8", "backslashreplace") if isinstance(value, bytes) else str(value)


_AUTO_PADS = ("NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID")
_FLOATS = {TensorProto.FLOAT, TensorProto.FLOAT16, TensorProto.DOUBLE, TensorProto.BFLOAT16}


def attribute_problem(node: Node, shapes: Shapes, x_name: str, w, kernel) -> str | None:
    """What makes a default-domain Conv/ConvTranspose/pool impossible before any arithmetic: an auto_pad ONNX
    does not define, a kernel_shape its weight contradicts, a non-float input (onnxruntime refuses each)."""
    auto_pad = _auto_pad(node)
    if auto_pad not in _AUTO_PADS:
        return f"auto_pad '{auto_pad}' is none of {', '.join(_AUTO_PADS)}"
    if node.domain not in ("", "ai.onnx"):
        return None
    if w is not None and len(w) == len(kernel) + 2 and None not in w[2:] and list(w[2:]) != list(kernel):
        return (f"kernel_shape {'×'.join(map(str, kernel))} contradicts its weight's "
                f"{'×'.join(map(str, w[2:]))} (weight {list(w)})")
    dtype = shapes.dtype.get(x_name)
    if dtype and dtype not in _FLOATS and node.op_type in ("Conv", "ConvTranspose", "AveragePool", "MaxPool",
                                                          "LpPool"):
        from onnxlint.dtypes import dtype_name

        if not (node.op_type == "MaxPool" and dtype in (TensorProto.INT8, TensorProto.UINT8)):
            return f"{node.op_type} takes a float input; '{x_name}' is {dtype_name(dtype)}"
    return None


def _window_attrs(node: Node, rank: int):
    """strides, dilations, pads (begin…, end…), auto_pad, with ONNX's defaults; ValueError on wrong lengths."""
    strides = _ints(node, "strides", [1] * rank)
    dilations = _ints(node, "dilations", [1] * rank)
    pads = _ints(node, "pads", [0] * (2 * rank))
    if len(strides) != rank or len(dilations) != rank or len(pads) != 2 * rank:
        raise ValueError(f"{node.name}: window attributes do not match the kernel's rank {rank}")
    return strides, dilations, pads, _auto_pad(node)


def padded_by(shapes: Shapes, tensor: str, rank: int) -> Node | None:
    """The Pad node that made `tensor`'s last `rank` axes, directly or through ops that only add or drop
    leading axes (the Unsqueeze before a 1-D STFT conv) or quantize (a QDQ graph's Q → DQ), else None."""
    node = shapes.graph.producer.get(tensor)
    while node is not None and node.op_type in PAD_PLUMBING and node.inputs and node.inputs[0]:
        before, after = shapes.shape(node.inputs[0]), shapes.shape(tensor)
        if before is None or after is None or len(before) < rank or before[-rank:] != after[-rank:]:
            return None
        tensor = node.inputs[0]
        node = shapes.graph.producer.get(tensor)
    return node if node is not None and node.op_type == "Pad" and node.domain in ("", "ai.onnx") else None


def outer_pad_end(shapes: Shapes, tensor: str, rank: int) -> list[int | None]:
    """Per spatial axis, the rows a Pad node producing `tensor` added at the end: 0 without a Pad, None where a
    Pad's pads (computed in the graph from what is known only at run time) cannot be known."""
    pad = padded_by(shapes, tensor, rank)
    if pad is None:
        return [0] * rank
    per_axis = pads_per_axis(pad, shapes)
    if per_axis is None or len(per_axis) < rank:
        return [None] * rank
    return [max(0, end) for _, end in per_axis[-rank:]]


def pads_per_axis(pad: Node, shapes: Shapes) -> list[tuple[int, int]] | None:
    """(rows added at the start, at the end) on each axis of a Pad node's input, from its `pads` attribute
    (opset < 11) or input and its `axes` input; None when they cannot be known."""
    x = shapes.shape(pad.inputs[0])
    pads = _ints(pad, "pads", None) if "pads" in pad.attrs else (
        shapes.ints(pad.inputs[1]) if len(pad.inputs) > 1 and pad.inputs[1] else None)
    if pads is None or x is None:
        return None
    axes = shapes.ints(pad.inputs[3]) if len(pad.inputs) > 3 and pad.inputs[3] else list(range(len(x)))
    if axes is None or len(pads) != 2 * len(axes) or not all(-len(x) <= a < len(x) for a in axes):
        return None
    found = [(0, 0)] * len(x)
    for i, axis in enumerate(axes):
        found[axis % len(x)] = (pads[i], pads[i + len(axes)])
    return found


def window_axes(node: Node, sizes, kernel, *, ceil_mode: bool = False, outer_end=None) -> list[AxisWindow]:
    """Per-axis arithmetic of Conv and pooling (DOMAIN.md §1): O = floor((I + P − k_eff) / s) + 1."""
    rank = len(kernel)
    strides, dilations, pads, auto_pad = _window_attrs(node, rank)
    outer_end = outer_end or [0] * rank
    axes = []
    for i in range(rank):
        size, k, s, d = sizes[i], kernel[i], strides[i], dilations[i]
        pb, pe, out = pads[i], pads[i + rank], None
        if size is not None and s > 0 and d > 0 and k > 0:
            k_eff = d * (k - 1) + 1
            if auto_pad in ("SAME_UPPER", "SAME_LOWER"):
                out = -(-size // s)
                total = max((out - 1) * s + k_eff - size, 0)
                pb, pe = (total // 2, total - total // 2) if auto_pad == "SAME_UPPER" else (total - total // 2,
                                                                                            total // 2)
            else:
                if auto_pad == "VALID":
                    pb = pe = 0
                span = size + pb + pe - k_eff
                if span >= 0 and pb >= 0 and pe >= 0:
                    out = (-(-span // s) if ceil_mode else span // s) + 1
                    if ceil_mode and (out - 1) * s >= size + pb:
                        out -= 1  # the last window must start inside the input or its begin padding
        axes.append(axis_window(size, k, s, d, pb, pe, out, ceil_mode, outer_end[i]))
    return axes


def _operand(node: Node, position: int | None) -> str | None:
    if position is None or position >= len(node.inputs) or not node.inputs[position]:
        return None
    return node.inputs[position]


def _out_dtypes(node: Node, shapes: Shapes, count: int) -> list | None:
    if node.op_type in _OUTPUT_DTYPE_FROM:
        source = _operand(node, _OUTPUT_DTYPE_FROM[node.op_type])
        return [shapes.dtype.get(source, TensorProto.UINT8) if source else TensorProto.UINT8] * count
    if node.op_type in _INT32_OUTPUT:
        return [TensorProto.INT32] * count
    return None


def _spatial(x, rank: int) -> list:
    return list(x[2:]) if x is not None and len(x) == rank + 2 else [None] * rank


def conv(node: Node, shapes: Shapes) -> Out | None:
    xi, wi, bi = CONV_OPERANDS[(node.domain, node.op_type)]
    x_name, w_name = node.inputs[xi], node.inputs[wi]
    x, w = shapes.dims.get(x_name), shapes.dims.get(w_name)
    has_bias = _operand(node, bi) is not None
    pad = padded_by(shapes, x_name, len(w) - 2) if w is not None and len(w) > 2 else None
    try:  # a conv like an earlier one (same attributes and shapes, no Pad before it): the same facts
        key = (node.op_type, x, w, has_bias, tuple(node.attrs.items())) if pad is None else None
        found = _CONVS.get(key) if key is not None else None
    except TypeError:  # an unhashable attribute (a tensor): worked out afresh
        key = found = None
    if found is None:
        kernel = _ints(node, "kernel_shape", list(w[2:]) if w else None)
        if kernel is None or None in kernel:
            return None
        rank = len(kernel)
        if x is not None and len(x) != rank + 2:
            return Out([None], problem=f"its input has rank {len(x)} {list(x)}, a kernel of {rank} spatial dims needs "
                                       f"rank "
                                       f"{rank + 2}")
        problem = attribute_problem(node, shapes, x_name, w, kernel)
        if problem is not None:
            return Out([None], problem=problem)
        group = int(node.attrs.get("group", 1))  # a corrupt attribute raises here, not in a rule
        axes = window_axes(node, _spatial(x, rank), kernel, outer_end=outer_pad_end(shapes, x_name, rank))
        out = (x[0] if x else None, w[0] if w else None, *(a.output for a in axes))
        found = (WindowFacts("conv", axes, group, x[1] if x else None, out[1], w, has_bias), out)
        if key is not None:
            if len(_CONVS) >= 4096:  # a long-lived process linting many models: stay bounded
                _CONVS.clear()
            _CONVS[key] = found
    facts, out = found
    return Out([out], _out_dtypes(node, shapes, 1), facts)


_CONVS: dict = {}  # (op, input dims, weight dims, bias or not, attributes) → (WindowFacts, output dims)


def weight_and_bias(node: Node) -> list[str]:
    """The weight and bias a convolution reads (the tensors its parameters are counted from); none for a pool."""
    key = ("" if node.domain == "ai.onnx" else node.domain, node.op_type)
    positions = CONV_OPERANDS.get(key) or TRANSPOSE_OPERANDS.get(key)
    if positions is None:
        return []
    return [name for name in (_operand(node, positions[1]), _operand(node, positions[2])) if name]


def conv_transpose(node: Node, shapes: Shapes) -> Out | None:
    """O = s·(I − 1) + output_padding + k_eff − p_begin − p_end (DOMAIN.md §2)."""
    xi, wi, bi = TRANSPOSE_OPERANDS[(node.domain, node.op_type)]
    x, w = shapes.shape(node.inputs[xi]), shapes.shape(node.inputs[wi])
    kernel = _ints(node, "kernel_shape", list(w[2:]) if w else None)
    if kernel is None or None in kernel:
        return None
    rank = len(kernel)
    strides, dilations, pads, auto_pad = _window_attrs(node, rank)
    output_padding = _ints(node, "output_padding", [0] * rank)
    output_shape = _ints(node, "output_shape", None)
    problem = attribute_problem(node, shapes, node.inputs[xi], w, kernel) or _transpose_problem(
        strides, dilations, output_padding, output_shape)
    if problem is not None:
        return Out([None], problem=problem)
    group = int(node.attrs.get("group", 1))
    sizes = _spatial(x, rank)
    axes = []
    for i in range(rank):
        size, s, d, k = sizes[i], strides[i], dilations[i], kernel[i]
        pb, pe, out = pads[i], pads[i + rank], None
        if output_shape:
            out = output_shape[-rank:][i]
        elif size is not None and s > 0 and d > 0 and k > 0:
            if auto_pad in ("SAME_UPPER", "SAME_LOWER"):
                out = size * s
            else:
                if auto_pad == "VALID":
                    pb = pe = 0
                out = s * (size - 1) + output_padding[i] + d * (k - 1) + 1 - pb - pe
        axes.append(axis_window(size, k, s, d, pb, pe, out))
    c_out = w[1] * group if w and w[1] is not None else None
    facts = WindowFacts("transpose", axes, group, x[1] if x else None, c_out, w, _operand(node, bi) is not None,
                        tuple(output_padding), bool(output_shape))
    return Out([(x[0] if x else None, c_out, *(a.output for a in axes))], None, facts)


def _transpose_problem(strides, dilations, output_padding, output_shape) -> str | None:
    """onnxruntime's own checks of a ConvTranspose: output_padding below its stride or dilation, positive sizes."""
    for i, (p, s, d) in enumerate(zip(output_padding, strides, dilations)):
        if p < 0 or (p >= s and p >= d):
            return f"output_padding {p} on axis {i} is not in [0, max(stride {s}, dilation {d}))"
    if output_shape and any(o <= 0 for o in output_shape):
        return f"output_shape {output_shape} holds a size ≤ 0"
    return None


def pool(node: Node, shapes: Shapes) -> Out | None:
    x = shapes.shape(node.inputs[0])
    kernel = _ints(node, "kernel_shape", None)
    if x is None or kernel is None:
        return None
    rank = len(kernel)
    if len(x) != rank + 2:
        return Out([None] * len(node.outputs),
                   problem=f"its input has rank {len(x)} {list(x)}, a window of {rank} spatial dims needs rank "
                           f"{rank + 2}")
    problem = attribute_problem(node, shapes, node.inputs[0], None, kernel)
    if problem is not None:
        return Out([None] * len(node.outputs), problem=problem)
    axes = window_axes(node, list(x[2:]), kernel, ceil_mode=bool(node.attrs.get("ceil_mode", 0)),
                       outer_end=outer_pad_end(shapes, node.inputs[0], rank))
    out = (x[0], x[1], *(a.output for a in axes))
    dtypes = [shapes.dtype.get(node.inputs[0], 0), TensorProto.INT64]  # MaxPool's indices
    return Out([out, out][:len(node.outputs)], dtypes[:len(node.outputs)], WindowFacts("pool", axes, 1, x[1], x[1]))


HANDLERS = {**{key: conv for key in CONV_OPERANDS}, **{key: conv_transpose for key in TRANSPOSE_OPERANDS},
            **{key: pool for key in POOLS}}
