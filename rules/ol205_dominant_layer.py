from onnxlint.diagnostics import Severity
from onnxlint.rule import Option, Rule
from onnxlint.units import count, num


class DominantLayer(Rule):
    """One layer holds most of the model's parameters or compute.

    What it checks
        Layers whose params or MACs are at least `threshold` (default 50%) of the model's total,
        in models with at least `min-layers` layers that have params or MACs, and which no other finding
        already names (then that finding says where to start). A share of MACs is claimed only when
        every layer's MACs are known.

    Why it matters
        When one layer dominates, it is where size and speed are won or lost: VGG16's fc6 alone
        holds 74% of its 138.4 M parameters. Any optimisation elsewhere is noise until it is
        addressed.

    Example
        fc6 (Gemm) holds 72% of the model's params (102,764,544 of 143,667,240).

    What to do
        Start there: convert FC layers to convs and shrink them (OL203), reduce channels (OL202),
        factorize (OL201, OL204), or prune/quantize that layer first.
    """
    code = "OL205"
    name = "dominant-layer"
    severity = Severity.SUGGESTION
    summary = "one layer holds ≥ {threshold:%} of all params or MACs"
    options = (Option("threshold", float, 0.5, "share of the model's params or MACs that counts as dominant", 0.0, 1.0),
               Option("min-layers", int, 5, "fewest layers with params or MACs for a dominant one to be news", 2))
    only_when_alone = True  # a layer another finding names is already where to start

    def check_model(self, ctx):
        totals = ctx.totals
        if sum(1 for layer in ctx.layers if layer.params or layer.macs) < self.opts["min-layers"]:
            return  # in a model of a few layers one always dominates: nothing to learn
        # a share at or above the threshold; a total of 0 (or MACs not all known) makes none dominant
        params_from = self.opts["threshold"] * totals.params if totals.params else float("inf")
        macs_from = self.opts["threshold"] * totals.macs if totals.macs_complete and totals.macs else float("inf")
        for layer in ctx.layers:
            if layer.params < params_from and not (layer.macs and layer.macs >= macs_from):
                continue
            shares = []
            if layer.params >= params_from:
                shares.append(f"{100 * layer.params / totals.params:.0f}% of the model's params "
                              f"({num(layer.params)} of {num(totals.params)})")
            if layer.macs and layer.macs >= macs_from:
                shares.append(f"{100 * layer.macs / totals.macs:.0f}% of the model's MACs ({count(layer.macs)} of "
                              f"{count(totals.macs)})")
            if shares:
                yield self.report(f"{layer.op_type} holds {' and '.join(shares)}", layer,
                                  suggestion="optimise this layer first: every other layer together weighs less")
