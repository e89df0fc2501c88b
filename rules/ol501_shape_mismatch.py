"""A rule over what execution found (--verify: onnxlint.verify's ExecutionFacts), marked source: onnxruntime."""
from onnxlint.diagnostics import Severity
from onnxlint.rule import Rule
from onnxlint.shapes import fmt_dims


class ShapeMismatch(Rule):
    """A shape onnxlint inferred differs from the shape onnxruntime produced.

    What it checks
        With `--verify`, every tensor of the main graph is exposed as an output of one
        onnxruntime session (graph optimizations off, so the file's own nodes run); each executed
        shape is compared with the inferred one.

    Why it matters
        Every number onnxlint prints (MACs, memory, the rules' arithmetic) stands on the shapes.
        A mismatch means onnxlint's analysis of this model is wrong: please report it.

    Example
        tensor 'r0' (output of n0): inferred [1,96,54,54], onnxruntime executed [1,96,55,55].

    What to do
        Trust the executed shape, and file an issue with the model attached.
    """
    code = "OL501"
    name = "shape-mismatch"
    severity = Severity.ERROR
    summary = "--verify: an inferred shape differs from what onnxruntime executed"
    source = "onnxruntime"

    def check_model(self, ctx):
        for m in ctx.execution.mismatches if ctx.execution is not None else ():
            static = f"inferred {fmt_dims(m['inferred'])}" if "inferred" in m else f"bounded by {fmt_dims(m['bound'])}"
            yield self.report(f"tensor '{m['tensor']}' (output of {m['node']}): {static}, onnxruntime executed "
                              f"{fmt_dims(m['executed'])}", node=ctx.graph.producer[m["tensor"]])
