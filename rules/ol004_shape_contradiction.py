from onnxlint.diagnostics import Severity
from onnxlint.rule import Rule
from onnxlint.units import axes_label


class ShapeContradiction(Rule):
    """The shapes contradict each other at a node: the model cannot run at this input size.

    What it checks
        Every node where the inferred shapes cannot work: Gemm/MatMul inner dimensions that differ
        (a flattened feature map of the wrong size), a Reshape whose element count, `-1` or `0`
        cannot work, Concat inputs that differ outside the concat axis, operands that cannot
        broadcast, an attribute onnxruntime refuses (an undefined auto_pad, a kernel_shape its weight
        contradicts, a ConvTranspose output_padding not below its stride, a size ≤ 0 in output_shape,
        a conv or pool on a non-float input), or any other case onnx's own per-op inference rejects
        with every input shape known. Inside an If branch whose condition is known only when the model
        runs, the contradiction is a warning: it fails whenever that branch is taken. When the input
        size was given with `--input-shape`, it says whether the size the model declares runs.

    Why it matters
        onnxruntime refuses such a model when it runs: a classifier whose fully-connected layer was
        sized for 224×224 fails on 227×227 at fc6. The shapes and costs after the node are unknown,
        so every total is a lower bound.

    Example
        fc6 (Gemm): its input has 6,912 = 192×6×6 features, its weight expects 4,800: the model
        runs at the input size it declares, 224×224, not at this one.

    What to do
        Feed the size the model was built for, or rebuild the layer named (a global pool before the
        classifier makes it independent of the input size).
    """
    code = "OL004"
    name = "shape-contradiction"
    severity = Severity.ERROR
    summary = "the shapes contradict each other at a node (inner dims, Reshape, Concat, broadcast): it cannot run"

    def check_model(self, ctx):
        problems = {node: why for node, why in ctx.shapes.problems.items() if node not in ctx.shapes.invalid}
        if not problems:  # a node that breaks its schema is OL006's: one root cause, one finding
            return
        declared = _runs_at_declared(ctx)
        for layer in ctx.layers:
            problem = problems.get(layer.node)
            if problem is None:
                continue
            branch = _undecided_branch(layer, ctx.shapes)
            if branch is None:
                yield self.report(f"{layer.op_type}: {problem}{declared}", layer,
                                  suggestion="feed the input size the model was built for, or fix this layer")
            else:
                yield self.report(f"{layer.op_type}: {problem}, in the {branch} whose condition is only known when it "
                                  "runs: the model fails at this input size whenever that branch is taken", layer,
                                  severity=Severity.WARNING, because="it fails only when that branch runs",
                                  suggestion="feed this branch the input size it was built for, or make sure its "
                                             "condition never selects it at this size")


def _undecided_branch(layer, shapes) -> str | None:
    """The innermost If branch holding the layer whose condition is unknown ("else_branch of If_0"), or None.
    (A branch a known condition never takes holds no layer.)"""
    node = layer
    while node.parent is not None:
        parent = node.parent
        if parent.op_type == "If" and shapes.value(parent.inputs[0]) is None:
            return f"{node.branch} of {parent.name or parent.op_type}"
        node = parent
    return None


def _runs_at_declared(ctx) -> str:
    """': the model runs at the input size it declares, 224×224, not at this one' when an --input-shape
    override is what breaks it (checked by inferring the shapes again at the declared size)."""
    declared = {name: t.dims for name, t in ctx.graph.inputs.items()}
    changed = {name: dims for name, dims in ctx.shapes.input_dims.items()
               if declared.get(name) is not None and all(isinstance(d, int) and d > 0 for d in declared[name][1:])
               and tuple(declared[name][1:]) != tuple(dims[1:] if dims else ())}
    if not changed or ctx.reinfer is None:
        return ""
    shapes = ctx.reinfer({name: (1, *declared[name][1:]) for name in changed})
    if shapes.problems:
        return ""
    sizes = ", ".join(axes_label(declared[name][2:]) for name in changed)
    return f": the model runs at the input size it declares, {sizes}, not at this one"
