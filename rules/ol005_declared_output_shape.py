from onnxlint.diagnostics import Severity
from onnxlint.rule import Rule
from onnxlint.shapes import fmt_dims


class DeclaredOutputShape(Rule):
    """A graph output declared with sizes that the model's own arithmetic contradicts.

    What it checks
        Every graph output whose declared shape has fixed sizes (symbolic dims match anything)
        while the inferred shape, with every size known, has another rank or another size.

    Why it matters
        onnxruntime runs such a model and returns the real shape, not the declared one: code that
        allocates buffers, builds a serving signature or converts the model from the declaration
        breaks, or silently reads the wrong layout. `--verify` proves the same from execution
        (OL503); this finds it without running anything.

    Example
        The file declares output 'y' as [9,9,9,9]; the Conv before it gives [1,4,6,6].

    What to do
        Fix the declared output shape in the exporter (or leave its sizes symbolic).
    """
    code = "OL005"
    name = "declared-output-shape"
    severity = Severity.WARNING
    summary = "a graph output's declared fixed sizes contradict the inferred shape"

    def check_model(self, ctx):
        for name in ctx.graph.outputs:
            declared, inferred = ctx.graph.declared.get(name), ctx.shapes.dims.get(name)
            if declared is None or declared.dims is None or inferred is None or None in inferred:
                continue
            fixed = [d if isinstance(d, int) and d > 0 else None for d in declared.dims]
            if len(fixed) == len(inferred) and all(d is None or d == i for d, i in zip(fixed, inferred)):
                continue
            yield self.report(f"the file declares output '{name}' as {fmt_dims(declared.dims)}, the arithmetic gives "
                              f"{fmt_dims(inferred)}: onnxruntime returns {fmt_dims(inferred)}, and code that trusts "
                              "the declaration breaks", ctx.graph.producer.get(name),
                              suggestion="fix the declared output shape in the exporter (or leave its sizes symbolic)")
