from onnxlint.diagnostics import Severity
from onnxlint.rule import Rule
from onnxlint.units import layer_label, num
from onnxlint.weightfacts import as_onnxruntime_folds, conv_weight


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
        Remove the channels (and the next layer's input channels they feed, folding their constant into
        its bias), in the training code or with a pruning tool. Opt-in: `--select OL704` reads every conv
        weight (one at a time).
    """
    code = "OL704"
    name = "dead-channels"
    severity = Severity.SUGGESTION
    summary = "a conv's output channels whose folded weights are all zero: constant outputs, exact MAC savings"
    op_types = ("Conv",)
    default_enabled = False  # reads weights: never on the plain path

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
        yield self.report(
            f"{layer_label(layer)}: {n} of {c} output channels are constant (all-zero weights"
            f"{how.replace(', after', ' after')}){after}{cost}", layer,
            suggestion="remove them, folding their constant into the next layer's bias (retrain-free where no "
                       "padding reads them)", match=(n, saved or 0))

    def summarize(self, members, ctx):
        channels, saved = sum(d.match[0] for d in members), sum(d.match[1] for d in members)
        return (f"{num(channels)} constant output channels in {len(members)} conv layers: {num(saved)} MACs an exact "
                "saving", "remove them, folding their constant into the next layer's bias; --show-all lists each layer")
