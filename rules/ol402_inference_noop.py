from onnxlint.diagnostics import Severity
from onnxlint.rule import Rule


class InferenceNoop(Rule):
    """Dropout and Identity nodes left in an inference graph.

    What it checks
        Dropout nodes whose `training_mode` is absent or a constant false, and Identity nodes.

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
    applicability = "exact"
    default_enabled = False  # onnxruntime removes them itself (its level-1 optimizations): nothing for most users

    def check_node(self, ctx, layer):
        if layer.op_type == "Dropout" and ctx.shapes.training.get(layer.node) is not False:
            return  # training mode on, or decided at run time: not a no-op
        if layer.scope != "graph":  # inside a subgraph or function body, the fix cannot reach it
            return
        yield self.report(f"{layer.op_type} does nothing at inference", layer,
                          suggestion=f"remove it{self.fix_hint()}",
                          match=layer)

    def summarize(self, members, ctx):
        kinds: dict[str, int] = {}
        for d in members:
            kinds[d.op_type] = kinds.get(d.op_type, 0) + 1
        listed = " and ".join(f"{n} {op}" for op, n in sorted(kinds.items()))
        return (f"{listed} nodes do nothing at inference",
                f"remove them{self.fix_hint()}; --show-all lists them")

    def fix(self, rw, layer) -> None:
        """Remove the node and wire its input straight to its consumers (exact). Its tensors are read from the
        copy: an earlier rewrite may have renamed them."""
        node = rw.node(layer)
        source, target = node.input[0], node.output[0]
        if len([o for o in node.output if o]) > 1 and rw.consumers(node.output[1]):
            return  # the Dropout mask is used
        if rw.is_output(target):
            producer = rw.producer(source)
            if producer is None or rw.is_output(source):
                return  # input → output passthrough: the Identity is the model's interface
            rw.rename_output(producer, source, target)
            rw.rename_input(source, target)
        else:
            rw.rename_input(target, source)
        rw.remove(node)
        rw.changed(f"OL402 removed {layer.op_type} {layer.name}")

