from onnxlint.diagnostics import Severity
from onnxlint.engine import Rule
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

    def check_node(self, ctx, layer):
        node = layer.node
        conv = ctx.producer(node.inputs[0])
        if conv is None or conv.op_type != "Conv" or conv.node.function is not None \
                or len(ctx.consumers(node.inputs[0])) != 1:
            return
        if node.attrs.get("training_mode", 0) or len([o for o in node.outputs if o]) > 1:
            return
        if not all(n in ctx.shapes.constants for n in node.inputs[1:5]):
            return
        channels = (ctx.shapes.dims.get(node.inputs[1]) or (None,))[0]
        yield self.report(
            f"BatchNormalization on {channels} channels directly follows {conv.node.label} (Conv) and folds into its "
            f"weights and bias: one pass over {nbytes(layer.output_bytes)} of activations and "
            f"{num(4 * (channels or 0))} BN constants fewer",
            layer, suggestion=f"fold it: `onnxlint fix MODEL -o OUT.onnx --select {self.code}` (exact)")

    def summarize(self, members, ctx):
        names = {d.node for d in members}
        activations = sum(layer.output_bytes or 0 for layer in ctx.layers if layer.name in names)
        return (f"{len(members)} BatchNormalization layers directly follow a Conv and fold exactly into it: "
                f"{len(members)} nodes and one pass over {nbytes(activations)} of activations fewer",
                f"fold them: `onnxlint fix MODEL -o OUT.onnx --select {self.code}` (exact, verified by onnxruntime); "
                "--show-all lists them")
