"""OL501–OL503: findings from executing the model with onnxruntime (--verify). They have no static
check; onnxlint.verify reports them, marked source: onnxruntime."""
from onnxlint.diagnostics import Severity
from onnxlint.engine import Rule


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
