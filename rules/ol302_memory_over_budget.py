from onnxlint.diagnostics import Severity
from onnxlint.memory import tensor_bytes
from onnxlint.rule import Rule
from onnxlint.units import nbytes


class MemoryOverBudget(Rule):
    """Peak activation memory (or training memory) exceeds `--memory-budget`.

    What it checks
        With a budget (`--memory-budget 512MB` or `memory-budget` in config): inference peak
        activation memory, or with `--training` every activation kept for the backward pass
        plus parameters ×4 (weights, gradients and Adam's two moments), against the budget. When
        some activation's size is unknown the known part is a lower bound: it fires only when that
        bound already exceeds the budget, and says "at least".

    Why it matters
        Out of memory on the target device is a deployment failure; in training, activations
        of every layer are kept for the backward pass and the optimizer state multiplies the
        weights.

    Example
        peak activations 24.5 MiB exceed the budget of 16.0 MiB at n1.

    What to do
        Reduce the batch size, or reduce early resolution/width; in training, use gradient
        checkpointing or a smaller optimizer state.
    """
    code = "OL302"
    name = "memory-over-budget"
    severity = Severity.WARNING
    summary = "peak activations (or training memory) exceed --memory-budget"

    def check_model(self, ctx):
        budget = ctx.settings.memory_budget
        if budget is None:
            return
        totals = ctx.totals
        if ctx.settings.training:  # every activation is kept for the backward pass
            outputs = {o for layer in ctx.layers for o in layer.outputs if o and o not in ctx.shapes.constants}
            sizes = sorted(((o, tensor_bytes(ctx.shapes, o) or 0) for o in outputs), key=lambda t: (-t[1], t[0]))
            inputs = sum(tensor_bytes(ctx.shapes, n) or 0 for n in ctx.shapes.input_dims)
            activations = sum(s for _, s in sizes) + inputs
            used = activations + 4 * totals.param_bytes
            if used > budget:
                at_least = "at least " if totals.unknown_tensors else ""
                yield self.report(
                    f"training needs {at_least}{nbytes(used)} = activations kept for backward {nbytes(activations)} + "
                    f"params ×4 (weights, gradients, Adam moments) {nbytes(4 * totals.param_bytes)}, over the budget "
                    f"of {nbytes(budget)}; largest activations: {ctx.contributors(sizes, activations)}",
                    suggestion="reduce early resolution/width" + ctx.batch_advice(" or the batch size (now ")
                               + ", or use gradient checkpointing")
        elif totals.peak_activation_bytes > budget:
            node = ctx.graph.main_nodes()[totals.peak_index]
            tensors = totals.peak_live
            at_least = "at least " if totals.unknown_tensors else ""
            yield self.report(
                f"peak activations {at_least}{nbytes(totals.peak_activation_bytes)} exceed the budget of "
                f"{nbytes(budget)} at "
                f"{node.label} ({node.op_type}); live there: "
                f"{ctx.contributors(tensors, totals.peak_activation_bytes)}", node,
                suggestion="reduce the resolution/width of the early layers named"
                           + ctx.batch_advice(", or the batch size (now "))
