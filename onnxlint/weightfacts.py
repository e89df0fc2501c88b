"""Facts the weight rules compute from a layer's weights: the weight as onnxruntime's quantizer or cast will see
it (what its level-1 fusions fold into a conv first), read through Context.weight one tensor at a time."""
from __future__ import annotations

from onnxlint.lookthrough import norm_epsilon

_FOLDED = ("BatchNormalization", "Mul", "Add")  # what onnxruntime's level-1 fusions fold into a Conv


def conv_weight(ctx, layer):
    """A Conv's weight as a float32 numpy array (dims [C_out, C_in/g, k...]), None when the file holds none or it
    is computed; a QDQ model's stored int8 weight as it is (integer dtype)."""
    if layer.op_type != "Conv" or len(layer.inputs) < 2 or ctx.invalid(layer):
        return None
    stored = ctx.stored(layer.inputs[1])
    weight = ctx.weight(stored) if stored is not None else None
    if weight is None or weight.ndim < 3:
        return None
    return weight if weight.dtype.kind in "iu" else weight.astype("float32")


def as_onnxruntime_folds(ctx, layer, weight):
    """The conv's weight as onnxruntime's quantizer sees it, after its level-1 fusions fold what follows the conv
    (ConvBNFusion, ConvMulFusion, ConvAddFusion: a BatchNorm, a Mul and an Add by per-channel constants, each
    the only reader of the conv's output): (the folded weight, a note of what was folded, the folded bias, the
    tensor the folded conv makes). The first op whose constant is unknown ends the folding, as it ends
    onnxruntime's; the folded bias is None when the conv's own is unknown."""
    import numpy as np

    channels, folded = weight.shape[0], []
    scale = np.ones(channels, np.float32)
    shift = _conv_bias(ctx, layer, channels)
    bias_known = shift is not None
    shift = shift if bias_known else np.zeros(channels, np.float32)
    tensor = layer.outputs[0]
    while True:
        readers = ctx.consumers(tensor)
        if len(readers) != 1 or tensor in ctx.graph.outputs or readers[0].op_type not in _FOLDED:
            break
        node = readers[0]
        if node.op_type == "BatchNormalization":
            parts = [_vector(ctx, n, channels, None) for n in node.inputs[1:5]]
            if any(p is None for p in parts) or ctx.shapes.training.get(node.node) is not False:
                break
            gamma, beta, mean, var = parts
            factor = gamma / np.sqrt(var + np.float32(norm_epsilon(node)))
            scale, shift = scale * factor, (shift - mean) * factor + beta
        else:
            other = [n for n in node.inputs if n != tensor]
            value = _vector(ctx, other[0], channels, ctx.shapes.dims.get(tensor)) if len(other) == 1 else None
            if value is None:
                break
            if node.op_type == "Mul":
                scale, shift = scale * value, shift * value
            else:
                shift = shift + value
        folded.append(node.op_type)
        tensor = node.outputs[0]
    how = f", after folding the {' → '.join(folded)} after it" if any(op != "Add" for op in folded) else ""
    folded_weight = (weight * scale.reshape(-1, *([1] * (weight.ndim - 1)))).astype(np.float32)
    return folded_weight, how, shift if bias_known else None, tensor


def _conv_bias(ctx, layer, channels):
    import numpy as np

    if len(layer.inputs) > 2 and layer.inputs[2]:
        bias = _vector(ctx, layer.inputs[2], channels, None)
        return None if bias is None else bias.astype(np.float32)
    return np.zeros(channels, np.float32)


def _vector(ctx, name, channels, out):
    """A constant per-channel (or one-value) vector of `channels` float32 values, or None; `out`: the dims of the
    tensor it scales, when it broadcasts against one (a [1,C,1,1] constant, never a [1,1,1,W] one)."""
    import numpy as np

    dims = ctx.shapes.dims.get(name)
    if out is not None and (dims is None or len(dims) > len(out) or any(
            d != 1 for i, d in enumerate((1,) * (len(out) - len(dims)) + tuple(dims)) if i != 1)):
        return None
    value = ctx.shapes.value(name)
    if value is None:
        stored = ctx.stored(name)
        value = ctx.weight(stored) if stored is not None else None
    if value is None or value.size not in (1, channels) or value.dtype.kind != "f":
        return None
    return np.broadcast_to(value.astype(np.float32).reshape(-1), (channels,))


def int8_scale(peak):
    """onnxruntime's symmetric int8 scale for the range [-peak, peak]: peak/127 in float32, or 1.0 when that is
    below float32's smallest normal (its quant_utils.compute_scale_zp)."""
    import numpy as np

    scale = np.float32(np.float32(peak) / np.float32(127))
    return scale if scale >= np.finfo(np.float32).tiny else np.float32(1.0)


def per_tensor_zeroed(weight):
    """Which output channels symmetric per-tensor int8 rounds to all zeros (a bool per channel)."""
    import numpy as np

    rows = weight.reshape(weight.shape[0], -1)
    return np.all(np.round(rows / int8_scale(np.max(np.abs(rows)))) == 0, axis=1)


def range_spread(ranges) -> float | None:
    """max r / min r over the non-zero ranges; None with fewer than two."""
    ranges = ranges[ranges > 0]
    return float(ranges.max() / ranges.min()) if len(ranges) > 1 else None


def chain_affine(chain, channels: int, value, constants):
    """(scale, shift), in float64, of the per-channel affine y = scale·x + shift that a chain of BatchNormalization,
    Mul, Div, Add and Sub layers computes on a conv's output x (a Sub or Div by its constant). `value(name)` reads
    a constant (the Rewriter's, in a fix); `constants`: the tensors that do not depend on the input."""
    import numpy as np

    scale, shift = np.ones(channels), np.zeros(channels)
    for link in chain:
        if link.op_type == "BatchNormalization":
            gamma, beta, mean, var = (value(n).astype(np.float64) for n in link.inputs[1:5])
            factor = gamma / np.sqrt(var + norm_epsilon(link))
            scale, shift = scale * factor, (shift - mean) * factor + beta
            continue
        constant = next(n for n in link.inputs if n in constants)
        v = np.broadcast_to(value(constant).astype(np.float64).reshape(-1), (channels,))
        if link.op_type == "Mul":
            scale, shift = scale * v, shift * v
        elif link.op_type == "Div":
            scale, shift = scale / v, shift / v
        else:
            shift = shift + v if link.op_type == "Add" else shift - v
    return scale, shift
