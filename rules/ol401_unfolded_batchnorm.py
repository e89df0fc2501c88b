from onnxlint.diagnostics import Severity
from onnxlint.rule import Rule
from onnxlint.units import nbytes, num


class UnfoldedBatchnorm(Rule):
    """A BatchNormalization right after a Conv in an inference graph: it folds exactly into the conv.

    What it checks
        BatchNormalization nodes (inference mode, constant statistics) whose input is the only
        use of a Conv's output.

    Why it matters
        At inference BatchNorm is a per-channel affine map y = γ·(x − μ)/√(σ² + ε) + β; folded
        into the conv's weights and bias it costs nothing, saves a pass over the activation
        and its memory traffic, and is exact up to float rounding.

    Example
        bn (BatchNormalization on 16 channels) after conv: fold γ/√(σ²+ε) into the weights.

    What to do
        `onnxlint fix MODEL -o OUT.onnx --select OL401`, or let your exporter fold it
        (torch.onnx.export with training=TrainingMode.EVAL does).
    """
    code = "OL401"
    name = "unfolded-batchnorm"
    severity = Severity.SUGGESTION
    summary = "BatchNormalization directly after a Conv in an inference graph (foldable exactly)"
    op_types = ("BatchNormalization",)
    applicability = "exact"

    def check_node(self, ctx, layer):
        conv = ctx.producer(layer.inputs[0])
        if conv is None or conv.op_type != "Conv" or conv.function is not None \
                or len(ctx.consumers(layer.inputs[0])) != 1:
            return
        if ctx.shapes.training.get(layer.node) is not False or len([o for o in layer.outputs if o]) > 1:
            return
        if not all(n in ctx.shapes.constants for n in layer.inputs[1:5]):
            return
        channels = (ctx.shapes.dims.get(layer.inputs[1]) or (None,))[0]
        yield self.report(
            f"BatchNormalization on {channels} channels directly follows {conv.label} (Conv) and folds into its "
            f"weights and bias: one pass over {nbytes(layer.output_bytes)} of activations and "
            f"{num(4 * (channels or 0))} BN constants fewer",
            layer, suggestion=f"fold it{self.fix_hint()}",
            match=(layer, conv))

    def summarize(self, members, ctx):
        names = {d.node for d in members}
        activations = sum(layer.output_bytes or 0 for layer in ctx.layers if layer.name in names)
        return (f"{len(members)} BatchNormalization layers directly follow a Conv and fold exactly into it: "
                f"{len(members)} nodes and one pass over {nbytes(activations)} of activations fewer",
                f"fold them{self.fix_hint()}; --show-all lists them")

    def fix_blocked(self, ctx, match):
        conv = match[1]
        weight = ctx.graph.producer.get(conv.inputs[1]) if len(conv.inputs) > 1 else None
        if weight is not None and weight.op_type == "ConstantOfShape":
            return "the Conv's weight is a ConstantOfShape placeholder, which folding would write out in full"
        return None

    def fix(self, rw, match) -> None:
        """Fold γ/√(σ²+ε) into the Conv's weights and (b − μ)·γ/√(σ²+ε) + β into its bias (exact up to float
        rounding); a ConstantOfShape placeholder weight is left as it is (folding would write it out in full)."""
        import numpy as np

        bn_layer, conv_layer = match
        bn, conv = rw.node(bn_layer), rw.node(conv_layer)
        if rw.fill(conv.input[1]) is not None:
            rw.skip(f"OL401 {bn_layer.name}: not folded; the Conv's weight is a ConstantOfShape placeholder, and "
                    "folding would write every weight out in full")
            return
        scale, bias, mean, var = (rw.value(n).astype(np.float64) for n in bn.input[1:5])  # as the copy reads them
        factor = scale / np.sqrt(var + bn_layer.attrs.get("epsilon", 1e-5))
        weight = rw.value(conv.input[1])
        conv_bias = rw.value(conv.input[2]) if len(conv.input) > 2 and conv.input[2] else np.zeros(len(factor))
        folded_w = (weight.astype(np.float64) * factor.reshape(-1, *([1] * (weight.ndim - 1)))).astype(weight.dtype)
        folded_b = ((conv_bias.astype(np.float64) - mean) * factor + bias).astype(weight.dtype)
        rw.set_input(conv, 1, rw.add_initializer(folded_w, f"{conv.input[1]}_bn_folded"))
        rw.set_input(conv, 2, rw.add_initializer(folded_b, f"{bn.output[0]}_bn_folded_bias"))
        rw.forget_shape(conv.output[0])
        rw.rename_output(conv, conv.output[0], bn.output[0])
        rw.remove(bn)
        rw.changed(f"OL401 folded BatchNormalization {bn_layer.name} into Conv {conv_layer.name}")

