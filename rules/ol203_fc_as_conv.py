from onnxlint.diagnostics import Severity
from onnxlint.engine import Rule
from onnxlint.shapes import PASSTHROUGH
from onnxlint.units import num


def flattened_map(ctx, layer):
    """(the Flatten/Reshape layer, (C, H, W)) when this FC layer reads an N×C×H×W map through one, else None."""
    flat = ctx.producer(layer.node.inputs[0])
    while flat is not None and flat.op_type in ("Dropout", "Identity"):
        flat = ctx.producer(flat.node.inputs[0])
    if flat is None or flat.op_type not in ("Flatten", "Reshape"):
        return None
    source = ctx.shapes.dims.get(flat.node.inputs[0])
    out = flat.output_shape
    if source is None or len(source) != 4 or None in source or out is None or len(out) != 2:
        return None
    if out[1] != source[1] * source[2] * source[3] or source[2] * source[3] <= 1:
        return None
    return flat, tuple(source[1:])


def fc_weight(ctx, layer):
    """(inputs, outputs, has_bias) of a Gemm/MatMul with a constant weight, or None."""
    node = layer.node
    w = ctx.shapes.dims.get(node.inputs[1])
    if node.inputs[1] not in ctx.shapes.constants or w is None or len(w) != 2 or None in w:
        return None
    if node.op_type == "Gemm":
        if node.attrs.get("transA", 0):
            return None
        n_in, n_out = (w[1], w[0]) if node.attrs.get("transB", 0) else w
        return n_in, n_out, len(node.inputs) > 2 and bool(node.inputs[2])
    return w[0], w[1], False


def following_fcs(ctx, layer):
    """The FC layers that follow this one through activations/dropout: they become 1×1 convs."""
    found, tensor = [], layer.node.outputs[0]
    while True:
        users = ctx.consumers(tensor)
        if len(users) != 1:
            return found
        user = users[0]
        if user.op_type in ("Gemm", "MatMul") and fc_weight(ctx, user):
            found.append(user)
        elif user.op_type not in PASSTHROUGH:
            return found
        tensor = user.node.outputs[0]


class FcAsConv(Rule):
    """A fully-connected layer on a flattened feature map: it is exactly a conv over the whole map.

    What it checks
        Gemm/MatMul layers whose input is a Flatten/Reshape of an N×C×H×W map with H·W > 1.

    Why it matters
        An FC layer on a flattened C×H×W map is exactly a conv with C_out filters of size
        H×W×C, pad 0, stride 1; the FCs after it are 1×1 convs. The weight count does not drop
        (it is often mis-stated as H·W·C_out): what changes is that the network becomes fully
        convolutional, so a larger input yields a spatial map of scores in one pass
        (sliding-window evaluation for free, dense prediction) instead of failing on the
        Flatten. VGG's fc6 on 7×7×512 → 4096 is a 7×7 conv with 102,760,448 weights.

    Example
        fc6 (Gemm 25088→4096) on the flattened 512×7×7 map = Conv 7×7, 512→4096, pad 0.

    What to do
        Run `onnxlint fix MODEL -o OUT.onnx --select OL203` (exact, verified by onnxruntime), or
        replace the Flatten + Linear layers by Conv layers in the training code.
    """
    code = "OL203"
    name = "fc-as-conv"
    severity = Severity.SUGGESTION
    summary = "Gemm/MatMul on a flattened C×H×W map (H·W > 1) is exactly an H×W conv: make the net fully convolutional"
    op_types = ("Gemm", "MatMul")

    def check_node(self, ctx, layer):
        found, weight = flattened_map(ctx, layer), fc_weight(ctx, layer)
        if found is None or weight is None:
            return
        c, h, w = found[1]
        n_in, n_out, bias = weight
        later = following_fcs(ctx, layer)
        tail = ""
        if later:
            tail = "; then " + ", ".join(f"{fc.node.label} becomes a 1×1 conv {fc_weight(ctx, fc)[0]}→{fc_weight(ctx, fc)[1]}"
                                         for fc in later)
        yield self.report(
            f"{layer.op_type} {num(n_in)}→{num(n_out)} on the flattened {c}×{h}×{w} map is exactly a "
            f"{h}×{w} conv with {num(n_out)} filters, pad 0: the same {h}·{w}·{c}·{n_out} = {num(n_in * n_out)} weights"
            f"{f' (+{num(n_out)} bias)' if bias else ''}{tail}", layer,
            suggestion="make the network fully convolutional (`onnxlint fix --select OL203`): the weight count stays "
                       "the same, but a larger input then yields a spatial map of scores in one pass instead of "
                       "failing on the Flatten")
