from onnxlint.diagnostics import Severity
from onnxlint.rule import Option, Rule, Size
from onnxlint.units import nbytes


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
    summary = "the peak of live activation memory (≥ {min-peak}): where, which tensors, how big"
    options = (Option("min-peak", Size, "16MiB", "report only peaks at least this large (a size: 16MiB, 100MB)"),)

    def check_model(self, ctx):
        totals = ctx.totals
        if totals.unknown_tensors or totals.peak_index is None or totals.peak_activation_bytes < self.opts["min-peak"]:
            return  # with tensors of unknown size the peak may sit elsewhere: no claim
        tensors = totals.peak_live
        node = ctx.graph.main_nodes()[totals.peak_index]
        yield self.report(
            f"activation memory peaks at {nbytes(totals.peak_activation_bytes)} at {node.label} ({node.op_type}) with "
            f"{len(tensors)} live tensors: {ctx.contributors(tensors, totals.peak_activation_bytes)}",
            node,
            suggestion="shrink the resolution or width of the layers producing these tensors"
                       + ctx.batch_advice(", or the batch size (now "))
