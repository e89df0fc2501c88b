from onnxlint.diagnostics import Severity
from onnxlint.rule import Rule
from onnxlint.shapes import fmt_dims


class DeclaredShape(Rule):
    """A shape the file declares (a graph output or a value_info entry) that the model's own arithmetic
    contradicts.

    What it checks
        Every declared shape with fixed sizes (symbolic dims match anything) of a tensor a node makes
        whose inferred shape, with every size known, has another rank or another size. A declaration
        that is the inferred shape in another axis order is said so (jax2onnx 0.17 declares NHWC
        shapes on the NCHW tensors it converts to).

    Why it matters
        onnxruntime merges the declared shape with its own inference when it loads the file; on a
        contradiction it logs "Error merging shape info … Falling back to lenient merge" (measured with
        onnxruntime 1.32 at opsets 21 to 28) and returns the real shape. Code that allocates
        buffers, builds a serving signature or converts the model from the declaration breaks, or
        silently reads the wrong layout. `--verify` proves the same from execution (OL503, folded
        under this finding); this finds it without running anything.

    Example
        The file declares output 'y' as [9,9,9,9]; the Conv before it gives [1,4,6,6].

    What to do
        Fix the declared shape in the exporter, or drop the stale value_info: re-running shape
        inference on the file (`onnx.shape_inference.infer_shapes`) does not override it.
    """
    code = "OL005"
    name = "declared-output-shape"
    severity = Severity.WARNING
    summary = "a declared shape (graph output or value_info) contradicts the inferred one"
    explains = ("OL503",)  # execution proves the same declaration wrong
    groups = True

    def check_model(self, ctx):
        graph = ctx.graph
        outputs = set(graph.outputs)
        for name, declared in graph.declared.items():
            inferred = ctx.shapes.dims.get(name)
            node = ctx.producer(name)
            if declared.dims is None or inferred is None or None in inferred or node is None or ctx.invalid(node):
                continue
            fixed = [d if isinstance(d, int) and d > 0 else None for d in declared.dims]
            if len(fixed) == len(inferred) and all(d is None or d == i for d, i in zip(fixed, inferred)):
                continue
            what = "output" if name in outputs else "tensor"
            order = _axis_order(fixed, inferred)
            yield self.report(f"the file declares {what} '{name}' as {fmt_dims(declared.dims)}, the arithmetic gives "
                              f"{fmt_dims(inferred)}{order}: onnxruntime returns {fmt_dims(inferred)} (and logs 'Error "
                              "merging shape info … Falling back to lenient merge'), and code that trusts the "
                              "declaration breaks", node, nodes=(node.name,),
                              suggestion="fix the declared shape in the exporter, or drop the stale value_info")

    def summarize(self, members, ctx):
        layouts = sum(1 for d in members if " order" in d.message)
        return (f"{len(members)} declared shapes contradict the arithmetic"
                f"{f' ({layouts} of them the inferred shape in another axis order)' if layouts else ''}: onnxruntime "
                "returns the real shapes and logs 'Error merging shape info' for each; code that trusts the "
                "declarations breaks",
                "fix the declared shapes in the exporter, or drop the stale value_info; --show-all lists them")


def _axis_order(declared: list, inferred: tuple) -> str:
    """', its axes in NHWC order' when the declaration is the inferred shape with the channels last."""
    if len(declared) != len(inferred) or None in declared or sorted(declared) != sorted(inferred):
        return ""
    if len(inferred) >= 3 and list(declared) == [inferred[0], *inferred[2:], inferred[1]]:
        return " in NHWC order (channels last)"
    return " in another axis order"
