"""Reported by onnxlint.verify when it runs the model (--verify), marked source: onnxruntime; no static check."""
from onnxlint.diagnostics import Severity
from onnxlint.engine import Rule


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
