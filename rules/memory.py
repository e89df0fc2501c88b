"""OL301 / OL302: where activation memory peaks, and whether it fits a budget (DOMAIN.md §9)."""
from onnxlint.config import parse_size
from onnxlint.cost import tensor_bytes
from onnxlint.diagnostics import Severity
from onnxlint.engine import Option, Rule
from onnxlint.units import nbytes, pct


def contributors(ctx, tensors: list[tuple[str, int]], total: int, top: int = 3) -> str:
    parts = []
    for name, size in tensors[:top]:
        producer = ctx.graph.producer.get(name)
        origin = f"output of {producer.label}" if producer else "model input"
        parts.append(f"'{name}' {nbytes(size)} ({origin}, {pct(size, total)})")
    return ", ".join(parts)


class ActivationHotspot(Rule):
    """Where the live activation memory peaks, and which tensors make the peak.

    What it checks
        Walks the execution order keeping every tensor alive from its producer to its last
        consumer and reports the peak when it is at least `min-peak`: the node, the tensors
        live there and their sizes. Silent when some activation's size is unknown (the peak could
        be elsewhere).

    Why it matters
        In inference a tensor is freed after its last consumer, so the memory a model needs is
        the peak of the live set, not the sum. Early high-resolution layers are the usual
        hot-spots; knowing which tensors are live tells you what to shrink.

    Example
        peak 24.5 MiB at n1 (Relu): 'r0' 12.2 MiB (output of n0, 50%), 'r1' 12.2 MiB (50%).

    What to do
        Reduce the resolution or width of the layers named, or the batch size; run the
        memory-heavy early layers at lower precision.
    """
    code = "OL301"
    name = "activation-hotspot"
    severity = Severity.SUGGESTION
    summary = "the peak of live activation memory: where, which tensors, how big"
    options = (Option("min-peak", str, "16MiB", "report only peaks at least this large (a size: 16MiB, 100MB)"),)

    def __init__(self, values=None) -> None:
        super().__init__(values)
        self.min_peak = parse_size(self.opts["min-peak"])  # a bad size is a config error, not a crash later

    def check_model(self, ctx):
        totals = ctx.totals
        if totals.unknown_tensors or totals.peak_index is None or totals.peak_activation_bytes < self.min_peak:
            return  # with tensors of unknown size the peak may sit elsewhere: no claim
        tensors = totals.peak_live
        node = ctx.graph.main_nodes()[totals.peak_index]
        yield self.report(
            f"activation memory peaks at {nbytes(totals.peak_activation_bytes)} at {node.label} ({node.op_type}) with "
            f"{len(tensors)} live tensors: {contributors(ctx, tensors, totals.peak_activation_bytes)}",
            ctx.by_node[node],
            suggestion="shrink the resolution or width of the layers producing these tensors, or the batch size")


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
            outputs = {o for layer in ctx.layers for o in layer.node.outputs if o and o not in ctx.shapes.constants}
            sizes = sorted(((o, tensor_bytes(ctx.shapes, o) or 0) for o in outputs), key=lambda t: (-t[1], t[0]))
            inputs = sum(tensor_bytes(ctx.shapes, n) or 0 for n in ctx.shapes.input_dims)
            activations = sum(s for _, s in sizes) + inputs
            used = activations + 4 * totals.param_bytes
            if used > budget:
                at_least = "at least " if totals.unknown_tensors else ""
                yield self.report(
                    f"training needs {at_least}{nbytes(used)} = activations kept for backward {nbytes(activations)} + "
                    f"params ×4 (weights, gradients, Adam moments) {nbytes(4 * totals.param_bytes)}, over the budget "
                    f"of {nbytes(budget)}; largest activations: {contributors(ctx, sizes, activations)}",
                    suggestion="reduce the batch size or early resolution/width, or use gradient checkpointing")
        elif totals.peak_activation_bytes > budget:
            node = ctx.graph.main_nodes()[totals.peak_index]
            tensors = totals.peak_live
            at_least = "at least " if totals.unknown_tensors else ""
            yield self.report(
                f"peak activations {at_least}{nbytes(totals.peak_activation_bytes)} exceed the budget of {nbytes(budget)} at "
                f"{node.label} ({node.op_type}); live there: "
                f"{contributors(ctx, tensors, totals.peak_activation_bytes)}", ctx.by_node[node],
                suggestion="reduce the batch size, or the resolution/width of the early layers named")
