from onnxlint.diagnostics import Severity
from onnxlint.rule import Rule


class NoRuntimeKernel(Rule):
    """The installed onnxruntime has no CPU kernel for a node: it refuses to load the model.

    What it checks
        Every node of the ONNX domains against the kernels the installed onnxruntime registers for its
        CPU provider, matched as onnxruntime matches them: the op's version at the model's opset (a
        kernel "since 16" does not serve RoiAlign-22), then the element type of each input and output
        (Max has no int16 kernel, Pow no uint64 exponent); and the attributes its kernel refuses when it
        is created (an LRN with alpha or beta ≤ 0 or an even size, a batch-major LSTM, GRU or RNN,
        a ReverseSequence whose batch and time axes are one). An op with a function body is expanded by
        onnxruntime when it has no kernel, so it is never reported. The registry of the onnxruntime
        onnxlint is tested with ships with it; another version's is read from onnxruntime by a
        child process once per installed build and cached (`~/.cache/onnxlint`). The lint does not
        import onnxruntime.

    Why it matters
        onnxruntime refuses the whole model ("NOT_IMPLEMENTED: Could not find an implementation for
        RoiAlign(22) node"), at deployment, when the session is created.

    Example
        onnxruntime 1.32.0's CPU provider has no kernel for RoiAlign as of opset 22 (its kernels are
        for opsets 10–15, 16): it refuses the model.

    What to do
        Export at an opset onnxruntime has the kernel for, cast the tensor to a type it takes, or
        update onnxruntime. A model meant for another runtime can ignore the rule
        (`--ignore OL007`).
    """
    code = "OL007"
    name = "no-runtime-kernel"
    severity = Severity.ERROR
    summary = "the installed onnxruntime has no CPU kernel for a node (op version, element type): it refuses the model"

    def check_model(self, ctx):
        for node, problem in ctx.shapes.no_kernel.items():
            yield self.report(f"{node.op_type}: {problem}", ctx.layer(node), node=node,
                              suggestion="export at an opset whose kernel onnxruntime has, cast to a type it takes, "
                                         "or update onnxruntime")
