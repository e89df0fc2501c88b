"""A rule over what onnxruntime's optimizer made of the model (--target with --verify), marked source:
onnxruntime."""
from onnxlint.diagnostics import Severity
from onnxlint.rule import Rule


class DeploymentMismatch(Rule):
    """The deployment view's prediction differs from the graph onnxruntime's optimizer makes.

    What it checks
        With `--target ort-cpu --verify`, the sandboxed child builds an onnxruntime session with
        its graph optimizations (ORT_ENABLE_EXTENDED: the QDQ fusions and fp16 casts) and writes the
        optimized graph; no input is run. Every layer the deployment view placed is looked up there:
        int8 or float, fp16 or fp32; and the number of inserted casts. With `--target qnn-htp
        --verify`, the child creates a session with Qualcomm's QNN provider (`onnxruntime-qnn`) and
        reads onnxruntime's record of the provider each node was given; every node placed on the
        HTP or left on the CPU is looked up there; with `--target openvino --verify`, the same with
        Intel's OpenVINO provider (`onnxruntime-openvino`, device CPU), in the environment
        `ONNXLINT_OPENVINO_PYTHON` names. When the child cannot build the session, this says why.

    Why it matters
        OL601 and OL602 are predictions; this is their proof on the model itself, with the installed
        onnxruntime. A difference means onnxlint's model of onnxruntime's rules is out of date for
        this version: please report it.

    Example
        layer1.0.conv1: predicted int8, onnxruntime's optimized graph runs Conv (float32).
        conv_12: predicted QNNExecutionProvider, onnxruntime-qnn 2.7.0 placed it on
        CPUExecutionProvider.

    What to do
        Trust onnxruntime's graph, and file an issue with the model and the onnxruntime version.
    """
    code = "OL604"
    name = "deployment-mismatch"
    severity = Severity.ERROR
    summary = "--target --verify: the predicted int8/fp16 or provider placement differs from what onnxruntime does"
    source = "onnxruntime"

    def check_model(self, ctx):
        found = ctx.deployment
        if found is None or found.proved is None:
            return
        placement = found.mobile is not None  # a provider's own node assignment (qnn-htp, openvino), not ORT's graph
        if isinstance(found.proved, str):
            what = "the provider's node assignment could not be read" if placement else \
                "onnxruntime's optimized graph could not be made"
            yield self.report(f"{what}: {found.proved}", severity=Severity.WARNING,
                              because="nothing could be compared, so nothing was proved wrong")
            return
        differ = found.disagreements()
        logged = found.proved.get("errors", ()) if placement else ()
        if logged and differ and all(actual == "CPUExecutionProvider" for _, _, actual in differ):
            # one root cause: the provider's own node groups dropped (refused by onnxruntime, or failing to build)
            yield self.report(f"{len(differ):,} nodes predicted on the accelerator run on the CPU, and onnxruntime "
                              f"logged, creating the session with {found.proved['provider']}: '{logged[0][:160]}'",
                              nodes=tuple(n.name for n, _, _ in differ),
                              suggestion="the provider dropped node groups it had taken: deploy with it in mind, or "
                                         "report it to the provider with the model and that line")
            return
        for node, predicted, actual in differ:
            yield self.report(f"predicted {predicted}, {found.proved['provider']} placed it on {actual}" if placement
                              else f"predicted {predicted}, onnxruntime's optimized graph runs {actual}", node=node)
        if not placement and found.kind == "fp16" and found.proved["casts"] != found.casts:
            yield self.report(f"predicted {found.casts} inserted Cast nodes, onnxruntime's optimized graph has "
                              f"{found.proved['casts']}")
