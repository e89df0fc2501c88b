from onnxlint.diagnostics import Severity
from onnxlint.rule import Option, Rule
from onnxlint.units import layer_label
from onnxlint.weightfacts import as_onnxruntime_folds, chain_affine, conv_weight, per_tensor_zeroed, range_spread

# piecewise linear and positively homogeneous, f(s·x) = s·f(x) for s > 0: a channel scaled by 1/s before it and
# by s after it computes the same function (ReLU6 and HardSwish are not: their corners do not scale)
_HOMOGENEOUS = ("Relu", "LeakyRelu", "PRelu")


class CrossLayerEqualization(Rule):
    """Two convs joined by a ReLU whose channel ranges per-tensor int8 cannot cover, and that cross-layer
    equalization balances exactly.

    What it checks
        Every float Conv → (BatchNorm, or per-channel Mul/Add) → ReLU/LeakyReLU/PReLU → Conv pair, each
        link the only reader of the one before, the second conv dense or depthwise: it equalizes them
        as Nagel et al. (2019, §4.1) do, after folding the BatchNorm as onnxruntime folds it — output
        channel i of the first conv (weights and bias) scaled by 1/s_i, input channel i of the second by
        s_i, s_i = √(r1_i / r2_i) with r1_i, r2_i the two channels' weight ranges, so that both become
        √(r1_i·r2_i). It reports the pair when that lowers the channels symmetric per-tensor int8 rounds
        to zero, or divides the first conv's range spread by at least 2 from `min-spread` up.

    Why it matters
        The function is unchanged in float (the activation is positively homogeneous), while the ranges
        one per-tensor scale must cover become equal: MobileNetV2 with per-tensor int8 goes from 0.1% to
        69.9% top-1 after equalization in the paper. The range moves into the activation between the two
        convs, which int8 quantizes per tensor too: on the mobile direction classifier (PP-OCR, real
        weights) equalizing its one pair at 41.8× lifts the first conv's worst channel from 17.4 to
        36.2 dB weight SQNR, and moves the per-tensor int8 output SQNR by the CPU that calibrates it
        (20.9 → 22.6 dB on an AMD EPYC, 21.3 → 20.5 dB on an Intel Xeon); equalizing also its three
        pairs at 8–15× lowered it to 14.3 dB (benchmarks/bench_cle.py): hence `min-spread` 32. ReLU6
        and HardSwish do not commute with the scaling and are left alone.

    Example
        Conv@7 → Relu → Conv@8: equalizing them (after folding the BatchNormalization) brings the first
        conv's channel range spread from 41.8× to 3.95×.

    What to do
        `onnxlint fix MODEL -o OUT.onnx --select OL705` (exact in float, verified by onnxruntime; it folds
        the BatchNorm between them first), then quantize, and compare on your calibration data. Opt-in: it
        reads every conv weight.
    """
    code = "OL705"
    name = "cross-layer-equalization"
    severity = Severity.SUGGESTION
    summary = "two convs joined by a ReLU whose channel ranges cross-layer equalization balances exactly for int8"
    op_types = ("Conv",)
    default_enabled = False  # reads weights: never on the plain path
    applicability = "exact"
    options = (Option("min-spread", float, 32.0, "the smallest range spread of the first conv worth equalizing", 1.0),)

    def check_node(self, ctx, layer):
        found = _pair(ctx, layer)
        if found is None:
            return
        chain, act, second, first_w, second_w = found
        import numpy as np

        s = balance(first_w, second_w, second.window.group)
        first_after = first_w / s.reshape(-1, *([1] * (first_w.ndim - 1)))
        second_after = scale_inputs(second_w, s, second.window.group)
        zeroed = [int(per_tensor_zeroed(w).sum()) for w in (first_w, second_w, first_after, second_after)]
        spread = [range_spread(np.max(np.abs(w.reshape(w.shape[0], -1)), axis=1)) for w in (first_w, first_after)]
        worth = zeroed[0] + zeroed[1] > zeroed[2] + zeroed[3] or (
            spread[0] is not None and spread[0] >= self.opts["min-spread"] and spread[1] is not None
            and spread[0] >= 2 * spread[1])
        if not worth:
            return
        folded = f" (after folding the {' → '.join(n.op_type for n in chain)})" if chain else ""
        zero_text = f"; the output channels per-tensor int8 zeroes in the pair go from {zeroed[0] + zeroed[1]} to " \
                    f"{zeroed[2] + zeroed[3]}" if zeroed[0] + zeroed[1] != zeroed[2] + zeroed[3] else ""
        yield self.report(
            f"{layer_label(layer)} → {act.op_type} → {second.label}: equalizing them{folded} brings the first conv's "
            f"channel range spread from {spread[0]:.3g}× to {spread[1]:.3g}×{zero_text}; the float function is "
            f"unchanged ({act.op_type} is positively homogeneous)", layer,
            suggestion=f"equalize them before quantizing{self.fix_hint()}",
            match=(layer, chain, act, second))

    def fix(self, rw, match) -> None:
        """Fold the BatchNorm (or per-channel Mul/Add) after the first conv into it (float64, as OL401), then scale
        output channel i of the first conv's weight and bias by 1/s_i and input channel i of the second's weight by
        s_i, s_i = √(r1_i/r2_i) (1 where a range is 0); exact in float up to rounding."""
        import numpy as np

        first_layer, chain, act, second_layer = match
        first, second = rw.node(first_layer), rw.node(second_layer)
        if any(id(rw.node(n)) in rw.removed for n in chain):
            rw.skip(f"OL705 {first_layer.name}: not equalized; the nodes after it were already rewritten")
            return
        weight = rw.value(first.input[1]).astype(np.float64)
        channels = weight.shape[0]
        bias = rw.value(first.input[2]).astype(np.float64) if len(first.input) > 2 and first.input[2] \
            else np.zeros(channels)
        scale, shift = chain_affine(chain, channels, rw.value, rw.ctx.shapes.constants)
        weight, bias = weight * scale.reshape(-1, *([1] * (weight.ndim - 1))), bias * scale + shift
        second_weight = rw.value(second.input[1])
        group = second_layer.attrs.get("group", 1)
        s = balance(weight, second_weight.astype(np.float64), group)
        dtype = second_weight.dtype
        rw.set_input(first, 1, rw.add_initializer((weight / s.reshape(-1, *([1] * (weight.ndim - 1)))).astype(dtype),
                                                  f"{first.input[1]}_equalized"))
        rw.set_input(first, 2, rw.add_initializer((bias / s).astype(dtype), f"{first.output[0]}_equalized_bias"))
        rw.set_input(second, 1, rw.add_initializer(scale_inputs(second_weight.astype(np.float64), s, group)
                                                   .astype(dtype), f"{second.input[1]}_equalized"))
        if chain:
            last = chain[-1].outputs[0]
            rw.forget_shape(first.output[0])
            rw.rename_output(first, first.output[0], last)
            for layer in chain:
                rw.remove(rw.node(layer))
        rw.changed(f"OL705 equalized {first_layer.name} → {act.name} → {second_layer.name}"
                   f"{' (BatchNorm folded)' if chain else ''}")


def _pair(ctx, layer):
    """(the fold chain, the activation, the second conv, the first conv's weight as folded, the second's weight) of
    a pair that equalization applies to, starting at `layer`; None otherwise."""
    weight = conv_weight(ctx, layer)
    if weight is None or weight.dtype.kind in "iu" or layer.function is not None:
        return None
    folded, _, bias, made = as_onnxruntime_folds(ctx, layer, weight)
    if bias is None:
        return None
    chain = []
    tensor = layer.outputs[0]
    while tensor != made:
        (node,) = ctx.consumers(tensor)
        chain.append(node)
        tensor = node.outputs[0]
    readers = ctx.consumers(made)
    if len(readers) != 1 or readers[0].op_type not in _HOMOGENEOUS or made in ctx.graph.outputs:
        return None
    act = readers[0]
    after = ctx.consumers(act.outputs[0])
    if len(after) != 1 or after[0].op_type != "Conv" or act.outputs[0] in ctx.graph.outputs \
            or act.outputs[0] != after[0].inputs[0]:
        return None
    second = after[0]
    second_w = conv_weight(ctx, second)
    channels = folded.shape[0]
    if second_w is None or second_w.dtype.kind in "iu" or second.window is None or second.function is not None:
        return None
    group = second.window.group
    if not (group == 1 and second_w.shape[1] == channels or group == channels == second_w.shape[0]
            and second_w.shape[1] == 1):
        return None
    return chain, act, second, folded, second_w


def balance(first, second, group: int):
    """s_i = √(r1_i / r2_i): r1_i the range of the first conv's output channel i, r2_i that of the second conv's
    input channel i (a depthwise second conv: its filter i); 1 where either range is 0."""
    import numpy as np

    r1 = np.max(np.abs(first.reshape(first.shape[0], -1)), axis=1)
    if group == 1:
        r2 = np.max(np.abs(np.moveaxis(second, 1, 0).reshape(second.shape[1], -1)), axis=1)
    else:
        r2 = np.max(np.abs(second.reshape(second.shape[0], -1)), axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        s = np.sqrt(r1 / r2)
    return np.where((r1 > 0) & (r2 > 0) & np.isfinite(s), s, 1.0)


def scale_inputs(weight, s, group: int):
    """The second conv's weight with input channel i scaled by s_i (axis 1 of a dense conv's, the filter of a
    depthwise one's)."""
    if group == 1:
        return weight * s.reshape(1, -1, *([1] * (weight.ndim - 2)))
    return weight * s.reshape(-1, *([1] * (weight.ndim - 1)))
