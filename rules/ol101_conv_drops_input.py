from onnxlint.diagnostics import Severity
from onnxlint.rule import Rule
from onnxlint.units import describe_drop, dropped_axes


class ConvDropsInput(Rule):
    """A Conv whose windows never read the last rows/columns of the real input.

    What it checks
        Per spatial axis, r = (I + P − k_eff) mod s. The last r rows of the padded input are
        never covered by a window; of them, r − pad_end are real input (also minus the rows a
        separate Pad node added before the layer, directly or through an Unsqueeze/Reshape that
        only adds leading axes: padding too, not input; pads it cannot know keep it silent). It fires
        when that real tail exceeds the regular gap max(0, s − k_eff) that the windows skip between
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
        message, fix = describe_drop(layer, lost)
        yield self.report(message, layer, suggestion=fix)
