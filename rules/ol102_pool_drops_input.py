from onnxlint.diagnostics import Severity
from onnxlint.rule import Rule
from onnxlint.units import describe_drop, dropped_axes


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
        message, fix = describe_drop(layer, lost)
        yield self.report(message, layer, suggestion=f"{fix}, or set ceil_mode=1")
