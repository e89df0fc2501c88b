from onnxlint.cost import ConvSpec
from onnxlint.diagnostics import Severity
from onnxlint.rule import Option, Rule, share
from onnxlint.units import layer_label, model_share, num, savings_text

_WORDS = {2: "two", 3: "three", 4: "four", 5: "five"}


def stack_of_3x3(spec: ConvSpec, in_size: tuple, layers: int, width: int) -> list[ConvSpec]:
    """`layers` stride-1 3×3 convs C_in → width → … → C_out; the original stride goes on the last one,
    which keeps the receptive field exactly k = 2·layers + 1 and the output size unchanged."""
    channels = [spec.c_in] + [width] * (layers - 1) + [spec.c_out]
    sizes = [in_size] * (layers - 1) + [spec.out_size]
    return [ConvSpec((3, 3), channels[i], channels[i + 1], sizes[i], spec.group,
                     spec.stride if i == layers - 1 else 1, spec.bias) for i in range(layers)]


class LargeKernel(Rule):
    """A 5×5, 7×7 (or larger odd) kernel that a stack of 3×3 convs replaces with the same receptive field.

    What it checks
        Dense or grouped square k×k Convs with odd k ≥ 5 and stride < k. It prices a stack of
        (k − 1)/2 stride-1 3×3 convs (the original stride on the last one) at intermediate
        width max(min(C_in, C_out), `min-width`), and fires when that saves at least
        `min-saving` of the layer's MACs and `min-model-saving` of the model's. Patchify stems
        (stride = kernel) and depthwise convs
        (unless `include-depthwise`) are skipped.

    Why it matters
        n stacked 3×3 convs see a (2n+1)×(2n+1) window: two see 5×5 for 18 instead of 25
        weights per channel pair (−28%), three see 7×7 for 27 instead of 49 (−45%), and every
        extra layer adds a non-linearity (the VGG argument). The width of the intermediate
        layers decides the price: a 5×5 conv 96→256 has 614,400 weights; two 3×3 at width 256
        cost 811,008 (more!), at width 96 they cost 304,128 (−50%). A 7×7 stem on 3 input
        channels would need intermediate layers at least `min-width` wide and saves nothing.

    Example
        block2/conv (Conv 5×5, 64→64, 56×56): two stacked 3×3 convs see the same 5×5 window
        with 28% fewer params (102,464 → 73,856) and MACs (321.1 M → 231.2 M).

    What to do
        Replace the layer with the stack in the suggestion and retrain: it changes the function.
    """
    code = "OL201"
    name = "large-kernel"
    severity = Severity.SUGGESTION
    measurable = True  # --what-if times its replacement
    summary = "a k×k Conv (odd k ≥ 5) that (k−1)/2 stacked 3×3 convs replace with fewer MACs"
    op_types = ("Conv",)
    group_advice = "replace each with a stack of 3×3 convs of the same receptive field (retrain)"
    options = (Option("min-saving", float, 0.10, "smallest MACs saving (fraction of the layer) worth reporting",
                      0.0, 1.0),
               share(),
               Option("min-width", int, 16, "narrowest intermediate layer a stack may use", 1),
               Option("include-depthwise", bool, False, "also report depthwise convs (cheap by design)"))

    def check_node(self, ctx, layer):
        spec, w = layer.conv, layer.window
        if spec is None or spec.kernel[0] != spec.kernel[1] or spec.kernel[0] < 5 or spec.kernel[0] % 2 == 0:
            return
        k = spec.kernel[0]
        if spec.stride == 0 or spec.stride >= k or any(a.dilation != 1 for a in w.axes):
            return
        if w.depthwise and not self.opts["include-depthwise"]:
            return
        n = (k - 1) // 2
        width = max(min(spec.c_in, spec.c_out), self.opts["min-width"])
        width -= width % spec.group
        in_size = tuple(a.size for a in w.axes)
        stack = stack_of_3x3(spec, in_size, n, width)
        savings = ctx.savings(spec, stack, layer.output_shape[0])
        if savings.macs_saved_pct < 100 * self.opts["min-saving"] or not self.material(savings):
            return
        chain = "→".join(str(c) for c in [spec.c_in] + [width] * (n - 1) + [spec.c_out])
        where = " (stride on the last)" if spec.stride > 1 else ""
        yield self.report(
            f"{layer_label(layer)}: {_WORDS.get(n, n)} stacked 3×3 convs see the same {k}×{k} window with "
            f"{savings_text(savings)}", layer,
            suggestion=f"replace it with {n} stacked 3×3 convs {chain}{where} with a non-linearity between them "
                       f"(retrain): saves {num(savings.params_before - savings.params_after)} params and "
                       f"{model_share(savings)}",
            savings=savings, replacement=tuple(stack))
