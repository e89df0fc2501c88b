from onnxlint.diagnostics import Severity
from onnxlint.rule import Rule
from onnxlint.units import nbytes, num
from onnxlint.weightfacts import chain_affine

_AFFINE = ("Mul", "Add", "Sub", "Div")


class UnfoldedBatchnorm(Rule):
    """A BatchNorm after a Conv in an inference graph, as a BatchNormalization node or written out as a
    per-channel Mul → Add: it folds exactly into the conv.

    What it checks
        BatchNormalization nodes (inference mode, constant statistics) whose input is the only use of
        a Conv's output; and chains of Mul/Add/Sub/Div by a per-channel (or scalar) constant that are
        the only use of a Conv's or ConvTranspose's output: tf2onnx leaves BatchNorms after depthwise
        and biased convs as Mul → Add, paddle2onnx adds a ConvTranspose's bias apart.

    Why it matters
        At inference BatchNorm is a per-channel affine map y = γ·(x − μ)/√(σ² + ε) + β, and any
        per-channel y = s·x + t is one too; folded into the conv's weights (W·s) and bias (b·s + t)
        it costs nothing, saves a pass over the activation per node and its memory traffic, and is
        exact up to float rounding.

    Example
        bn (BatchNormalization on 16 channels) after conv: fold γ/√(σ²+ε) into the weights.
        block_1_depthwise_BN/batchnorm/mul_1 → add_1 (Mul → Add on 48 channels) after the depthwise conv.

    What to do
        `onnxlint fix MODEL -o OUT.onnx --select OL401`, or let your exporter fold it
        (torch.onnx.export with training=TrainingMode.EVAL does).
    """
    code = "OL401"
    name = "unfolded-batchnorm"
    severity = Severity.SUGGESTION
    summary = "a BatchNorm (a node, or per-channel Mul/Add) right after a Conv in an inference graph (foldable exactly)"
    op_types = ("BatchNormalization", *_AFFINE)
    applicability = "exact"

    def check_node(self, ctx, layer):
        if layer.op_type == "BatchNormalization":
            yield from self._batchnorm(ctx, layer)
            return
        found = affine_chain(ctx, layer)
        if found is None:
            return
        chain, conv, channels, scalars = found
        ops = " → ".join(n.op_type for n in chain)
        what = ("a scalar affine a·x + b" if scalars else "a BatchNorm written out") \
            if {"Mul", "Div"} & {n.op_type for n in chain} else "a bias added apart"
        yield self.report(
            f"{ops} by a per-channel constant on {channels} channel{'s' if channels != 1 else ''} ({what}) "
            f"directly follows {conv.label} "
            f"({conv.op_type}) and folds into its weights and bias: {_fewer(chain)}",
            layer, suggestion=f"fold it{self.fix_hint()}", match=(chain, conv))

    def _batchnorm(self, ctx, layer):
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
            f"weights and bias: {_fewer([layer])} and {num(4 * (channels or 0))} BN constants fewer",
            layer, suggestion=f"fold it{self.fix_hint()}",
            match=([layer], conv))

    def summarize(self, members, ctx):
        chains = [d.match[0] for d in members]
        written = sum(1 for chain in chains if chain[0].op_type != "BatchNormalization")
        kinds = ("BatchNormalization layers" if not written else
                 "per-channel Mul/Add chains (BatchNorms or biases written out)" if written == len(chains) else
                 f"BatchNorms ({written} written out as per-channel Mul/Add)")
        return (f"{len(members)} {kinds} directly follow a Conv and fold exactly into it: "
                f"{_fewer([layer for chain in chains for layer in chain])}",
                f"fold them{self.fix_hint()}; --show-all lists them")

    def fix_blocked(self, ctx, match):
        conv = match[1]
        weight = ctx.graph.producer.get(conv.inputs[1]) if len(conv.inputs) > 1 else None
        if weight is not None and weight.op_type == "ConstantOfShape":
            return "the Conv's weight is a ConstantOfShape placeholder, which folding would write out in full"
        return None

    def fix(self, rw, match) -> None:
        """Fold the per-channel affine (γ/√(σ²+ε) and β − μ·γ/√(σ²+ε) of a BatchNormalization; the constants of
        a Mul/Add/Sub/Div chain, composed in order) into the conv's weights (per output channel) and bias (exact
        up to float rounding, computed in float64); a ConstantOfShape placeholder weight is left as it is
        (folding would write it out in full)."""
        import numpy as np

        chain, conv_layer = match
        conv = rw.node(conv_layer)
        if any(id(rw.node(layer)) in rw.removed for layer in chain):  # OL705 folded it as it equalized
            return
        if rw.fill(conv.input[1]) is not None:
            rw.skip(f"OL401 {chain[0].name}: not folded; the Conv's weight is a ConstantOfShape placeholder, and "
                    "folding would write every weight out in full")
            return
        weight = rw.value(conv.input[1])
        channels = weight.shape[1] * conv_layer.attrs.get("group", 1) if conv.op_type == "ConvTranspose" \
            else weight.shape[0]
        scale, shift = chain_affine(chain, channels, rw.value, rw.ctx.shapes.constants)
        bias = rw.value(conv.input[2]).astype(np.float64) if len(conv.input) > 2 and conv.input[2] \
            else np.zeros(channels)
        folded_w = _scaled(weight, scale, conv.op_type, conv_layer.attrs.get("group", 1))
        folded_b = (bias * scale + shift).astype(weight.dtype)
        last = chain[-1].outputs[0]
        rw.set_input(conv, 1, rw.add_initializer(folded_w, f"{conv.input[1]}_bn_folded"))
        rw.set_input(conv, 2, rw.add_initializer(folded_b, f"{last}_bn_folded_bias"))
        rw.forget_shape(conv.output[0])
        rw.rename_output(conv, conv.output[0], last)
        for layer in chain:
            rw.remove(rw.node(layer))
        what = "BatchNormalization" if chain[0].op_type == "BatchNormalization" else \
            " → ".join(n.op_type for n in chain)
        rw.changed(f"OL401 folded {what} {chain[-1].name} into {conv.op_type} {conv_layer.name}")


def affine_chain(ctx, layer):
    """(the chain of per-channel Mul/Add/Sub/Div layers ending at `layer`, the Conv/ConvTranspose before it,
    its output channels, whether every constant is one value) when `layer` ends such a chain that is the only
    use of the conv's output, else None.
    Each link has one variable input (the one before it; Sub and Div by the constant, not of it) and one
    stored constant that broadcasts per output channel (or is a scalar); only the last link's output may
    have other readers."""
    if _link(ctx, layer) is None:
        return None
    users = ctx.consumers(layer.outputs[0])
    if len(users) == 1 and _link(ctx, users[0]) is not None and layer.outputs[0] not in ctx.graph.outputs:
        return None  # not the end of the chain: it fires once, at its last link
    chain, tensor = [layer], _link(ctx, layer)
    while True:
        producer = ctx.producer(tensor)
        if producer is None or len(ctx.consumers(tensor)) != 1 or tensor in ctx.graph.outputs:
            return None
        if producer.op_type in ("Conv", "ConvTranspose"):
            break
        if _link(ctx, producer) is None:
            return None
        chain.insert(0, producer)
        tensor = _link(ctx, producer)
    conv = producer
    out = ctx.shapes.dims.get(conv.outputs[0])
    if conv.function is not None or ctx.invalid(conv) or len(conv.inputs) < 2 or out is None or len(out) < 3 \
            or out[1] is None or conv.inputs[1] not in ctx.shapes.constants \
            or (len(conv.inputs) > 2 and conv.inputs[2] and conv.inputs[2] not in ctx.shapes.constants):
        return None
    scalars = True
    for link in chain:  # each constant broadcasts per output channel: [C], [C,1,1], [1,C,1,1] or one value
        constant = next(n for n in link.inputs if n != _link(ctx, link))
        dims = ctx.shapes.dims.get(constant)
        if dims is None or None in dims or len(dims) > len(out):
            return None
        aligned = (1,) * (len(out) - len(dims)) + tuple(dims)
        if any(d != 1 for i, d in enumerate(aligned) if i != 1) or aligned[1] not in (1, out[1]):
            return None
        scalars = scalars and aligned[1] == 1
    return chain, conv, out[1], scalars


def _link(ctx, layer):
    """The variable input of a Mul/Add/Sub/Div by a stored constant (Sub and Div by it, not of it), else None."""
    if layer.op_type not in _AFFINE or len(layer.inputs) != 2 or ctx.invalid(layer):
        return None
    a, b = layer.inputs
    constants = ctx.shapes.constants
    if b in constants and a not in constants:
        return a
    if a in constants and b not in constants and layer.op_type in ("Mul", "Add"):
        return b
    return None


def _scaled(weight, scale, op_type: str, group: int):
    """The weight with each output channel multiplied by its scale: axis 0 of a Conv's [C_out, C_in/g, k...];
    for a ConvTranspose's [C_in, C_out/g, k...], axis 1 within each group."""
    import numpy as np

    w = weight.astype(np.float64)
    if op_type == "Conv":
        return (w * scale.reshape(-1, *([1] * (w.ndim - 1)))).astype(weight.dtype)
    c_in, per_group = w.shape[0], w.shape[1]
    grouped = w.reshape(group, c_in // group, per_group, *w.shape[2:])
    factor = scale.reshape(group, 1, per_group, *([1] * (w.ndim - 2)))
    return (grouped * factor).reshape(w.shape).astype(weight.dtype)


def _fewer(layers) -> str:
    """'2 nodes and 2 passes over 1.5 MiB of activations fewer', the activations unknown when a size is."""
    sizes = [layer.output_bytes for layer in layers]
    passes = "one pass" if len(layers) == 1 else f"{len(layers)} passes"
    over = "activations of unknown size" if None in sizes else f"{nbytes(sum(sizes))} of activations"
    return f"{len(layers)} node{'s' if len(layers) != 1 else ''} and {passes} over {over} fewer"
