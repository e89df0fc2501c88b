"""A rule over what execution found (--verify: onnxlint.verify's ExecutionFacts), marked source: onnxruntime."""
from onnxlint.diagnostics import Severity
from onnxlint.rule import Rule
from onnxlint.shapes import fmt_dims


class DeclaredShapeWrong(Rule):
    """A shape the file declares (graph output or value_info) that execution contradicts.

    What it checks
        With `--verify`, the fixed dims and the rank that the model file declares for its
        outputs and value_info entries against the executed shapes.

    Why it matters
        Deployment code reads the declared output shape to allocate buffers; a model that
        declares [1, seqlen] and returns rank 3 breaks it at run time.

    Example
        the file declares 'output' as [1,1000] but onnxruntime returned [1,1000,1,1].

    What to do
        Fix the exporter or re-run shape inference and save the corrected declarations.
    """
    code = "OL503"
    name = "declared-shape-wrong"
    severity = Severity.WARNING
    summary = "--verify: a declared output/value_info shape contradicts execution"
    source = "onnxruntime"

    def check_model(self, ctx):
        for tensor, declared, executed in ctx.execution.declared_wrong if ctx.execution is not None else ():
            yield self.report(f"the file declares '{tensor}' as {fmt_dims(declared)} but onnxruntime returned "
                              f"{fmt_dims(executed)}; code that trusts the declaration will break",
                              node=ctx.graph.producer[tensor])
