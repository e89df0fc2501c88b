from onnxlint.diagnostics import Severity
from onnxlint.rule import Rule
from onnxlint.units import layer_label, num
from onnxlint.weightfacts import as_onnxruntime_folds, conv_weight, int8_scale, per_tensor_zeroed

_NEAR_DEAD = 1e-4  # a channel whose largest weight is below this share of the layer's largest does next to nothing


class PerTensorInt8ZeroesChannels(Rule):
    """Output channels of a conv that symmetric per-tensor int8 weights round to all zeros, read from the
    weights themselves before quantization.

    What it checks
        Every Conv whose weight the file holds, as onnxruntime's quantizer will see it: after its
        level-1 fusions fold the BatchNorm, per-channel Mul and Add that follow the conv into its
        weight (W·γ/√(σ²+ε)). With symmetric per-tensor int8 (onnxruntime's `quantize_static`
        default: scale = max|W|/127, round to nearest), output channel c becomes all zeros exactly
        when every |w_c| rounds to 0, that is max|w_c| ≤ max|W|/254. It counts those channels per
        layer, the share of the layer's weight norm they carry, how many are near-dead anyway (their
        largest weight below 1e-4 of the layer's), and how many per-channel int8 would keep. On a QDQ
        model it reads the same fact from the stored int8 weight: its all-zero channels.

    Why it matters
        A zeroed channel outputs only its bias: the feature is gone, and the next layer reads a
        constant. Nagel et al. (2019) report MobileNetV2 at 0.1% top-1 with per-tensor int8 after
        BatchNorm folding (69.9% after cross-layer equalization); Sheng et al. (2018) MobileNetV1
        falling from 70.5% to 1.8%. Depthwise convs, whose channels do not share a range, are hit
        first. Some accelerators offer only per-tensor int8. These are exact facts about what the
        quantizer will write, not an accuracy estimate: data-free proxies do not predict accuracy.

    Example
        dw3 (Conv 3×3 depthwise, 32 channels): per-tensor int8 (scale 0.0031) zeroes 5 of 32 output
        channels (max|w_c| ≤ 0.00155), carrying 0.4% of the layer's weight norm; per-channel keeps them.

    What to do
        Quantize with per-channel weights (`quantize_static(..., per_channel=True)`), or equalize the
        channel ranges first (cross-layer equalization), or keep the layer in float. Opt-in:
        `--select OL701` reads every conv weight (one at a time).
    """
    code = "OL701"
    name = "int8-zeroed-channels"
    severity = Severity.SUGGESTION
    summary = "symmetric per-tensor int8 rounds whole output channels of a conv to zero (read from the weights)"
    op_types = ("Conv",)
    default_enabled = False  # reads weights: never on the plain path
    group_advice = "quantize with per-channel weights, or equalize the channel ranges first"

    def check_node(self, ctx, layer):
        import numpy as np

        weight = conv_weight(ctx, layer)
        if weight is None:
            return
        if weight.dtype.kind in "iu":  # a QDQ model: the quantizer already wrote it
            rows = weight.reshape(weight.shape[0], -1)
            zero = np.all(rows == 0, axis=1)
            if zero.any():
                yield self.report(f"{layer_label(layer)}: the stored int8 weight has {int(zero.sum())} of "
                                  f"{len(zero)} output channels all zero", layer,
                                  suggestion="re-quantize with per-channel weights or equalize the channel ranges",
                                  match=(int(zero.sum()), None, None))
            return
        folded, how, _, _ = as_onnxruntime_folds(ctx, layer, weight)
        rows = folded.reshape(folded.shape[0], -1)
        peak = np.float32(np.max(np.abs(rows)))
        scale = int8_scale(peak)
        zeroed = per_tensor_zeroed(folded)
        if not zeroed.any():
            return
        channel_max = np.max(np.abs(rows), axis=1)
        dead = channel_max < _NEAR_DEAD * peak
        # per channel each scale is max|w_c|/127, unless that is below float32's smallest normal: then onnxruntime
        # takes 1.0 and the channel rounds to zero too (measured: 55 such channels in PP-OCRv4 rec)
        kept_by_per_channel = int((zeroed & (channel_max / np.float32(127) >= np.finfo(np.float32).tiny)).sum())
        norms = np.sum(rows.astype(np.float64) ** 2, axis=1)
        share = float(norms[zeroed & ~dead].sum() / norms.sum()) if norms.sum() else 0.0
        n, c = int(zeroed.sum()), len(zeroed)
        near = f"; {int((zeroed & dead).sum())} of them near-dead anyway (max|w| < 1e-4 of the layer's)" \
            if (zeroed & dead).any() else ""
        yield self.report(
            f"{layer_label(layer)}: per-tensor int8 (scale max|W|/127 = {float(scale):.3g}{how}) zeroes {n} of {c} "
            f"output channels (max|w_c| ≤ max|W|/254 = {float(peak) / 254:.3g}), carrying {100 * share:.2g}% of "
            f"the layer's weight norm{near}; per-channel int8 keeps {kept_by_per_channel} of them",
            layer, suggestion="quantize this layer's weights per channel, or equalize its channel ranges first",
            match=(n, int((zeroed & dead).sum()), kept_by_per_channel))

    def summarize(self, members, ctx):
        zeroed = sum(d.match[0] for d in members)
        if any(d.match[1] is None for d in members):  # read from a quantized model's int8 weights
            return (f"{num(zeroed)} output channels are all zero in the stored int8 weights of {len(members)} conv "
                    "layers", "re-quantize with per-channel weights, or equalize the channel ranges first; "
                    "--show-all lists each layer")
        dead = sum(d.match[1] for d in members)
        kept = sum(d.match[2] for d in members)
        return (f"per-tensor int8 zeroes {num(zeroed)} output channels in {len(members)} conv layers"
                f"{f' ({num(dead)} near-dead anyway)' if dead else ''}; per-channel int8 keeps {num(kept)}",
                "quantize with per-channel weights, or equalize the channel ranges first; --show-all lists each layer")

