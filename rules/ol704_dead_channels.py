from onnxlint.diagnostics import Severity
from onnxlint.rule import Rule
from onnxlint.units import layer_label, num
from onnxlint.weightfacts import as_onnxruntime_folds, chain_affine, conv_weight


class DeadChannels(Rule):
    """Output channels of a conv that are constant whatever the input: every weight of the channel is zero
    once the BatchNorm after it is folded in (an all-zero filter, or γ = 0).

    What it checks
        Every float Conv whose weight the file holds, folded as onnxruntime folds it (BatchNorm, Mul
        and Add after the conv): the output channels whose folded weights are all exactly 0. Such a
        channel outputs its bias at every position; after a ReLU with a bias ≤ 0 it outputs 0. Their
        MACs are an exact saving: each output channel of a conv costs the same share.

    Why it matters
        A dead channel still costs its MACs and its share of the activation memory at every run, and
        the next layer multiplies a constant. Pruned or regularized models carry many (L1 on γ sets
        whole BatchNorm channels to 0). Removing them is exact: the constant folds into the next
        layer's bias (where no padding sees the channel's zeros).

    Example
        conv3 (Conv 3×3, 64→128): 12 of 128 output channels are constant (all-zero folded weights; 9 of
        them 0 after the ReLU): 9.4% of the layer's MACs, 14.2 M.

    What to do
        `onnxlint fix MODEL -o OUT.onnx --select OL704` removes them where that is exact: the channels
        feed one dense conv (through a ReLU or nothing), which takes their constant into its bias, and
        that conv pads no border where the constant is not 0. Or prune them in the training code.
        Opt-in: `--select OL704` reads every conv weight (one at a time).
    """
    code = "OL704"
    name = "dead-channels"
    severity = Severity.SUGGESTION
    summary = "a conv's output channels whose folded weights are all zero: constant outputs, exact MAC savings"
    op_types = ("Conv",)
    default_enabled = False  # reads weights: never on the plain path
    applicability = "exact"

    def check_node(self, ctx, layer):
        import numpy as np

        weight = conv_weight(ctx, layer)
        if weight is None or weight.dtype.kind in "iu":
            return
        folded, how, bias, made = as_onnxruntime_folds(ctx, layer, weight)
        dead = np.all(folded.reshape(folded.shape[0], -1) == 0, axis=1)
        if not dead.any():
            return
        n, c = int(dead.sum()), len(dead)
        readers = ctx.consumers(made)
        relu = len(readers) == 1 and readers[0].op_type == "Relu"
        zero = int((dead & (bias <= 0)).sum()) if bias is not None else 0
        after = f"; {zero} of them 0 after the ReLU (bias ≤ 0)" if relu and zero else \
            f"; {int((dead & (bias == 0)).sum())} of them 0" if bias is not None and (bias[dead] == 0).any() else ""
        saved = layer.macs * n // c if layer.macs else None
        cost = f": {100 * n / c:.2g}% of the layer's MACs, {num(saved)}" if saved else ": their MACs unknown"
        removal = _removal(ctx, layer, made, dead, bias)
        yield self.report(
            f"{layer_label(layer)}: {n} of {c} output channels are constant (all-zero weights"
            f"{how.replace(', after', ' after')}){after}{cost}", layer,
            suggestion=f"remove them, folding their constant into the next layer's bias{self.fix_hint()}",
            match=(n, saved or 0, removal))

    def fix_blocked(self, ctx, match):
        return match[2] if isinstance(match[2], str) else None

    def fix(self, rw, match) -> None:
        """Fold the BatchNorm (or Mul/Add) after the conv into it, drop the dead output channels from its weight and
        bias and the matching input channels from the next conv's weight, whose bias takes their constant
        (act(b_c) · Σ of its weights over the kernel; nothing when that constant is 0)."""
        import numpy as np

        if not isinstance(match[2], tuple):
            return
        layer, chain, act, second, keep, constants = match[2]
        first, nxt = rw.node(layer), rw.node(second)
        if any(id(rw.node(n)) in rw.removed for n in chain):
            rw.skip(f"OL704 {layer.name}: not pruned; the nodes after it were already rewritten")
            return
        weight = rw.value(first.input[1])
        folded, bias = _fold(rw, layer, first, chain, weight)
        w2 = rw.value(nxt.input[1])
        b2 = rw.value(nxt.input[2]).astype(np.float64) if len(nxt.input) > 2 and nxt.input[2] \
            else np.zeros(w2.shape[0])
        dead = ~keep
        b2 = b2 + (w2[:, dead].astype(np.float64).sum(axis=tuple(range(2, w2.ndim))) * constants[dead]).sum(axis=1)
        dtype = weight.dtype
        rw.set_input(first, 1, rw.add_initializer(folded[keep].astype(dtype), f"{first.input[1]}_pruned"))
        rw.set_input(first, 2, rw.add_initializer(bias[keep].astype(dtype), f"{first.output[0]}_pruned_bias"))
        rw.set_input(nxt, 1, rw.add_initializer(np.ascontiguousarray(w2[:, keep]), f"{nxt.input[1]}_pruned"))
        rw.set_input(nxt, 2, rw.add_initializer(b2.astype(dtype), f"{nxt.output[0]}_pruned_bias"))
        if chain:
            last = chain[-1].outputs[0]
            rw.rename_output(first, first.output[0], last)
            for link in chain:
                rw.remove(rw.node(link))
        for tensor in [first.output[0], *([act.outputs[0]] if act is not None else [])]:
            rw.forget_shape(tensor)
        rw.changed(f"OL704 removed {int(dead.sum())} constant channels of {layer.name} (and {second.name}'s inputs)")

    def summarize(self, members, ctx):
        channels, saved = sum(d.match[0] for d in members), sum(d.match[1] for d in members)
        return (f"{num(channels)} constant output channels in {len(members)} conv layers: {num(saved)} MACs an exact "
                "saving", f"remove them, folding their constant into the next layer's bias{self.fix_hint()}; "
                "--show-all lists each layer")


_ACTIVATIONS = ("Relu", "LeakyRelu", "Identity")  # element-wise, between the conv and the next: removable past


def _removal(ctx, layer, made, dead, bias):
    """What the fix needs — (conv, its fold chain, the activation or None, the next conv, the channels kept, each
    channel's constant after the activation) — or why the channels cannot be removed exactly (a sentence)."""
    import numpy as np

    if bias is None:
        return "the conv's bias is not stored"
    chain, tensor = [], layer.outputs[0]
    while tensor != made:
        (node,) = ctx.consumers(tensor)
        chain.append(node)
        tensor = node.outputs[0]
    readers = ctx.consumers(made)
    act = readers[0] if len(readers) == 1 and readers[0].op_type in _ACTIVATIONS else None
    if act is not None:
        tensor = act.outputs[0]
        readers = ctx.consumers(tensor)
    if len(readers) != 1 or readers[0].op_type != "Conv" or tensor in ctx.graph.outputs or made in ctx.graph.outputs \
            or readers[0].inputs[0] != tensor or readers[0].window is None or readers[0].window.group != 1:
        return "the channels feed something other than one dense conv"
    second = readers[0]
    if len(second.inputs) < 2 or second.inputs[1] not in ctx.shapes.constants or len(second.inputs) > 2 \
            and second.inputs[2] and second.inputs[2] not in ctx.shapes.constants:
        return "the next conv's weights are not stored"
    constants = bias.astype(np.float64)
    if act is not None and act.op_type == "Relu":
        constants = np.maximum(constants, 0)
    elif act is not None and act.op_type == "LeakyRelu":
        return "a LeakyReLU's slope is not read here"
    padded = any(a.pad_begin or a.pad_end for a in second.window.axes)
    if padded and (constants[dead] != 0).any():
        return "the next conv pads the channels' constant with zeros at the borders"
    return layer, chain, act, second, ~dead, constants


def _fold(rw, layer, node, chain, weight):
    """The conv's weight and bias with its BatchNorm (or Mul/Add) chain folded in, in float64."""
    import numpy as np

    channels = weight.shape[0]
    bias = rw.value(node.input[2]).astype(np.float64) if len(node.input) > 2 and node.input[2] else np.zeros(channels)
    scale, shift = chain_affine(chain, channels, rw.value, rw.ctx.shapes.constants)
    return weight.astype(np.float64) * scale.reshape(-1, *([1] * (weight.ndim - 1))), bias * scale + shift
