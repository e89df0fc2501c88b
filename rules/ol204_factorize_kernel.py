from onnxlint.cost import ConvSpec
from onnxlint.diagnostics import Severity
from onnxlint.rule import Option, Rule, share
from onnxlint.units import layer_label, num, savings_text


class FactorizeKernel(Rule):
    """A dense k×k conv on a mid-size map that 1×k + k×1 (or a depthwise-separable pair) replaces.

    What it checks
        Dense square k×k Convs (k ≥ 3, stride 1) whose output map is between `min-size` and
        `max-size` on each axis. It prices the asymmetric factorization 1×k (C_in → m) then
        k×1 (m → C_out), m = min(C_in, C_out), and the depthwise-separable pair (k×k depthwise
        then 1×1 pointwise). Opt-in: enable with `--extend-select OL204`.

    Why it matters
        n×n → 1×n then n×1 costs 2n instead of n² per channel pair (3×3: 6 vs 9, −33%), reported
        to work best on mid-size maps (about 12 to 20; Inception v3). A depthwise-separable pair
        costs k²·C_in + C_in·C_out instead of k²·C_in·C_out, a ratio of 1/C_out + 1/k²
        (MobileNet, Xception).

    Example
        conv (Conv 3×3, 256→256, 14×14): 1×3 + 3×1 gives 33% fewer params (589,824 → 393,216).

    What to do
        Replace the layer with the factorized pair and retrain; it changes the function.
    """
    code = "OL204"
    name = "factorize-kernel"
    severity = Severity.SUGGESTION
    measurable = True  # --what-if times its replacement
    summary = "a dense k×k Conv on a 12–20 map that 1×k + k×1 or a depthwise-separable pair replaces"
    op_types = ("Conv",)
    group_advice = "factorize each into 1×k then k×1 (retrain)"
    default_enabled = False
    options = (Option("min-size", int, 12, "smallest output map size (per axis) to consider", 1),
               Option("max-size", int, 20, "largest output map size (per axis) to consider", 1),
               share())

    def check_node(self, ctx, layer):
        spec = layer.conv
        if spec is None or spec.group != 1 or spec.stride != 1:
            return
        if spec.kernel[0] != spec.kernel[1] or spec.kernel[0] < 3:
            return
        if not all(self.opts["min-size"] <= s <= self.opts["max-size"] for s in spec.out_size):
            return
        k, m = spec.kernel[0], min(spec.c_in, spec.c_out)
        pair = [ConvSpec((1, k), spec.c_in, m, spec.out_size, 1, 1, spec.bias),
                ConvSpec((k, 1), m, spec.c_out, spec.out_size, 1, 1, spec.bias)]
        separable = [ConvSpec((k, k), spec.c_in, spec.c_in, spec.out_size, spec.c_in, 1, spec.bias),
                     ConvSpec((1, 1), spec.c_in, spec.c_out, spec.out_size, 1, 1, spec.bias)]
        batch = layer.output_shape[0]
        savings, sep = ctx.savings(spec, pair, batch), ctx.savings(spec, separable, batch)
        if not self.material(savings):
            return
        yield self.report(
            f"{layer_label(layer)}: 1×{k} then {k}×1 (width {m}) gives {savings_text(savings)}; a "
            f"depthwise-separable pair would give {sep.params_saved_pct:.0f}% fewer params "
            f"({num(sep.params_before)} → {num(sep.params_after)})",
            layer, suggestion=f"factorize into 1×{k} {spec.c_in}→{m} then {k}×1 {m}→{spec.c_out} (retrain)",
            savings=savings, replacement=tuple(pair))
