"""OL101 / OL102: a window that never reads the last real input rows or columns (DOMAIN.md §1)."""
from onnxlint.diagnostics import Severity
from onnxlint.engine import Rule
from onnxlint.units import axes_label, layer_label

_AXIS_NAMES = {1: ("position",), 2: ("row", "column"), 3: ("depth slice", "row", "column")}


def dropped_axes(layer):
    """[(axis, AxisWindow)] of the axes that lose real input pixels."""
    return [(i, a) for i, a in enumerate(layer.window.axes) if a.dropped > 0]


def describe(layer, lost) -> tuple[str, str]:
    w = layer.window
    names = _AXIS_NAMES.get(len(w.axes), tuple(f"axis {i}" for i in range(len(w.axes))))
    sums = []
    for _, a in lost:
        exact = a.span / a.stride + 1
        sums.append(f"({a.size} + {a.pad_begin + a.pad_end} − {a.k_eff}) / {a.stride} + 1 = {exact:g} → {a.output}")
    losses = " and ".join(f"{a.dropped} {names[i]}{'s' if a.dropped > 1 else ''}" for i, a in lost)
    verb = "is" if len(lost) == 1 and lost[0][1].dropped == 1 else "are"
    axes = [a for _, a in lost]
    why = f"remainder {axes_label(a.remainder for a in axes)} > pad_end {axes_label(a.pad_end for a in axes)}"
    if any(a.outer_pad_end for a in axes) or any(a.gap for a in axes):
        why = (f"remainder {axes_label(a.remainder for a in axes)} − pad_end {axes_label(a.pad_end for a in axes)}"
               + (f" − the Pad node's {axes_label(a.outer_pad_end for a in axes)}"
                  if any(a.outer_pad_end for a in axes) else "")
               + f" = {axes_label(a.dropped for a in axes)} real rows past the last window"
               + (f", more than the regular gap of {axes_label(a.gap for a in axes)} between windows"
                  if any(a.gap for a in axes) else ""))
    message = (f"{layer_label(layer)}: {'; '.join(dict.fromkeys(sums))}: the last {losses} of the input "
               f"{verb} never read ({why})")
    below = [a.size - a.remainder for a in axes]
    above = [a.size + a.stride - a.remainder for a in axes]
    extra = [a.stride - a.remainder for a in axes]
    fix = (f"make the arithmetic exact: feed this layer {axes_label(above)} or {axes_label(below)}, "
           f"or add {axes_label(extra)} to its end padding so the last window covers the tail")
    return message, fix


class ConvDropsInput(Rule):
    """A Conv whose windows never read the last rows/columns of the real input.

    What it checks
        Per spatial axis, r = (I + P − k_eff) mod s. The last r rows of the padded input are
        never covered by a window; of them, r − pad_end are real input (also minus the rows a
        separate Pad node added just before the layer: padding too, not input). It fires when
        that real tail exceeds the regular gap max(0, s − k_eff) that the windows skip between
        each other by design (a 1×1 stride-2 projection), and reports the whole tail.

    Why it matters
        Frameworks floor the output size without a word: the model silently ignores a border of
        its input. The classic case is AlexNet's 11×11 stride-4 conv1 fed 224 instead of 227.

    Example
        conv1 (Conv 11×11/4, 3→96, 224×224): (224 + 0 − 11) / 4 + 1 = 54.25 → 54; the last row
        and column of the image are never read.

    What to do
        Change the input size to one that makes the division exact, or pad the end so the last
        window covers the tail; the message gives both numbers.
    """
    code = "OL101"
    name = "conv-drops-input"
    severity = Severity.WARNING
    summary = "a Conv's windows never read the last input rows/columns: (I+P−k_eff) mod s > pad_end"
    op_types = ("Conv",)

    def check_node(self, ctx, layer):
        if layer.window is None or not (lost := dropped_axes(layer)):
            return
        message, fix = describe(layer, lost)
        yield self.report(message, layer, suggestion=fix)


class PoolDropsInput(Rule):
    """A pooling layer (ceil_mode=0) whose windows never read the last input rows/columns.

    What it checks
        The same arithmetic as OL101 for MaxPool, AveragePool and LpPool with ceil_mode=0:
        r = (I + P − k_eff) mod s greater than the end padding and the regular gap.

    Why it matters
        The dropped border is silently discarded; with several pools the losses add up and the
        network sees less of its input than its designer believed.

    Example
        pool (MaxPool 3×3/2, 28×28): (28 + 0 − 3) / 2 + 1 = 13.5 → 13; the last row and
        column are never read.

    What to do
        Use ceil_mode=1, pad the end, or feed an input size that makes the arithmetic exact.
    """
    code = "OL102"
    name = "pool-drops-input"
    severity = Severity.WARNING
    summary = "a pooling layer (ceil_mode=0) never reads the last input rows/columns"
    op_types = ("MaxPool", "AveragePool", "LpPool")

    def check_node(self, ctx, layer):
        if layer.window is None or not (lost := dropped_axes(layer)):
            return
        message, fix = describe(layer, lost)
        yield self.report(message, layer, suggestion=f"{fix}, or set ceil_mode=1")
