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
            yield self.report(message, suggestion="write a TensorProto.DataType that exists (onnx.TensorProto)"
                              if "element type" in message else "fix the exporter or graph edit that wrote it; "
                              "onnxruntime refuses the model")
        exporter = _EXPORTER_LOGS.get(ctx.graph.producer_name)
        for node, problem in ctx.shapes.invalid.items():  # a node of a branch that never runs too: onnx checks it
            unknown = " has no op " in problem
            yield self.report(f"{node.op_type}: {problem}"
                              f"{f'; {exporter[0]}' if unknown and exporter else ''}", ctx.layer(node), node=node,
                              suggestion=exporter[1] if unknown and exporter else
                              "fix the exporter or graph edit that wrote this node; onnxruntime refuses the model")


# an op unknown to its domain, written by an exporter that logs the ops it could not convert: what it logged,
# and what to do about it
_EXPORTER_LOGS = {
    "tf2onnx": ("tf2onnx wrote the TensorFlow op as it found it: its log says 'Tensorflow op [...] is not "
                "supported' and 'Unsupported ops: ...'",
                "rewrite that layer with ops tf2onnx converts (a grouped conv as separate convs, exact GELU as "
                "0.5·x·(1 + erf(x/√2))), or pass tf2onnx a custom op handler; onnxruntime refuses the model"),
}
