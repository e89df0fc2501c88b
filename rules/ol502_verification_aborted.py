"""A rule over what execution found (--verify: onnxlint.verify's ExecutionFacts), marked source: onnxruntime."""
from onnxlint.diagnostics import Severity
from onnxlint.rule import Rule


class VerificationAborted(Rule):
    """--verify could not finish: a limit was hit, the runtime failed, or it was refused.

    What it checks
        The sandboxed onnxruntime child: a memory limit (RLIMIT_AS, default 4 GiB), a CPU and
        wall-clock limit (default 60 s), one thread, no custom ops. Refuses up front when the
        model has unsafe external data or an inferred tensor exceeds the memory limit.

    Why it matters
        A model from an untrusted source can be a bomb (ConstantOfShape of 2^40 elements, a Loop
        with trip count 2^62). onnxlint must report it, not hang or crash.

    Example
        verification aborted: the model ran past the wall-clock limit of 60 s.

    What to do
        Raise the limits (`--timeout`, `--memory-limit`) if the model is trusted and large;
        otherwise treat the model as suspect.
    """
    code = "OL502"
    name = "verification-aborted"
    severity = Severity.ERROR
    summary = "--verify: execution refused, hit a limit, or failed"
    source = "onnxruntime"

    def check_model(self, ctx):
        execution = ctx.execution
        if execution is not None and execution.aborted is not None:
            at = ctx.graph.producer.get(execution.aborted_at) if execution.aborted_at else None
            yield self.report(execution.aborted, node=at)
