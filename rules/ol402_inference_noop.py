from onnxlint.diagnostics import Severity
from onnxlint.engine import Rule


class InferenceNoop(Rule):
    """Dropout and Identity nodes left in an inference graph.

    What it checks
        Dropout nodes without `training_mode` set to true, and Identity nodes.

    Why it matters
        At inference Dropout is the identity; both nodes are no-ops that still cost a kernel
        launch and a copy on some runtimes and clutter the graph that deployment tools read.

    Example
        drop6 (Dropout) in an exported classifier.

    What to do
        `onnxlint fix MODEL -o OUT.onnx --select OL402`, or export in eval mode.
    """
    code = "OL402"
    name = "inference-noop"
    severity = Severity.SUGGESTION
    summary = "Dropout/Identity nodes left in an inference graph"
    op_types = ("Dropout", "Identity")

    def check_node(self, ctx, layer):
        node = layer.node
        if node.op_type == "Dropout" and len(node.inputs) > 2 and node.inputs[2]:
            if node.inputs[2] not in ctx.shapes.constants:
                return  # training mode decided at run time
        if node.scope != "graph":  # inside a subgraph or function body, the fix cannot reach it
            return
        yield self.report(f"{node.name} ({node.op_type}) does nothing at inference", layer,
                          suggestion=f"remove it: `onnxlint fix MODEL -o OUT.onnx --select {self.code}` (exact)")
