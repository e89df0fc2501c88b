from onnxlint.diagnostics import Severity
from onnxlint.rule import Rule


class SchemaViolation(Rule):
    """A node breaks its operator's schema: onnx's checker and onnxruntime refuse the model.

    What it checks
        Every node of the ONNX domains against its operator's schema at the model's opset, as
        onnx's checker does before onnxruntime loads a model: an op the domain does not have (a
        typo such as `Cnov`, an op moved to another domain, one newer than the model's opset), a
        deprecated op, an attribute given twice, unknown, of the wrong type (`INTS` where `INT`
        is meant) or required and missing, too few or too many inputs or outputs, a required input
        left empty, an input whose element type the op's type constraints do not allow or that
        differs from another input of the same type variable, and a tensor whose element type does
        not exist. The schemas are onnx's own. An op of a custom domain the model declares is not
        checked: it stays unknown, and said so.

    Why it matters
        onnxruntime refuses to load such a model ("No Op registered", "Mismatched attribute type",
        "Type Error"); everything onnxlint would say about the node stands on nothing.

    Example
        conv1: the ONNX domain has no op Cnov at opset 17 (onnx: 'No Op registered for Cnov with
        domain_version of 17').

    What to do
        Fix the exporter or the graph surgery that wrote the node; `python -c "import onnx;
        onnx.checker.check_model('model.onnx', full_check=True)"` gives onnx's own words for it.
    """
    code = "OL006"
    name = "schema-violation"
    severity = Severity.ERROR
    summary = "a node breaks its operator's schema (unknown op, attribute type, input count, type constraint)"

    def check_model(self, ctx):
        for message in ctx.shapes.invalid_types:
            yield self.report(message, suggestion="write a TensorProto.DataType that exists (onnx.TensorProto)")
        for node, problem in ctx.shapes.invalid.items():  # a node of a branch that never runs too: onnx checks it
            yield self.report(f"{node.op_type}: {problem}", ctx.layer(node), node=node,
                              suggestion="fix the exporter or graph edit that wrote this node; onnxruntime refuses "
                                         "the model")
