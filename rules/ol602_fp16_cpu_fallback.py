"""A rule over the deployment view (--target ort-cpu: onnxlint.deploy's facts)."""
from onnxlint.diagnostics import Severity
from onnxlint.rule import Rule
from onnxlint.units import count


class Fp16CpuFallback(Rule):
    """An fp16 model whose layers onnxruntime's CPU provider runs in fp32, between inserted casts.

    What it checks
        With `--target ort-cpu` on a float16 model: which Conv, Gemm and MatMul layers have no
        float16 kernel for the CPU provider in the installed onnxruntime (read from its own kernel
        registry), and how many Cast nodes its InsertCastTransformer leaves around the fp32 region
        (a node with a float16 kernel between fp32 nodes runs in fp32 too; casts that cancel out are
        removed). The prediction is proved against onnxruntime's optimized graph with `--verify`
        (OL604).

    Why it matters
        fp16 halves the weights, but on the CPU provider most arithmetic has no fp16 kernel: the
        model then runs in fp32 anyway, plus the casts, and is slower than the fp32 model it came
        from.

    Example
        5 of 5 layers (100.0% of the MACs) run in fp32 between 12 inserted Cast nodes:
        onnxruntime 1.32.0 has no float16 Conv, Gemm kernel for the CPU provider.

    What to do
        Deploy the fp32 model on CPU; keep fp16 for the providers that run it (CUDA, CoreML,
        NNAPI, DirectML).
    """
    code = "OL602"
    name = "fp16-cpu-fallback"
    severity = Severity.WARNING
    summary = "--target ort-cpu: an fp16 model's layers run in fp32 on onnxruntime's CPU provider, between casts"

    def check_model(self, ctx):
        found = ctx.deployment
        if found is None or found.kind != "fp16":
            return
        fp32 = [n for n, run in found.runs.items() if run.precision == "float32"]
        if not fp32:
            return
        macs = {layer.node: layer.macs or 0 for layer in ctx.layers}
        share = (f", {100 * sum(macs.get(n, 0) for n in fp32) / ctx.totals.macs:.1f}% of the MACs"
                 if ctx.totals.macs else "")
        ops = sorted({n.op_type for n in fp32})
        yield self.report(
            f"{len(fp32)} of {len(found.runs)} layers ({count(sum(macs.get(n, 0) for n in fp32))} MACs{share}) run in "
            f"fp32 on onnxruntime {found.runtime}'s CPU provider ({found.machine}), between {found.casts} inserted "
            f"Cast nodes: it has no float16 {', '.join(ops)} kernel for that provider",
            suggestion="deploy the fp32 model on CPU (fp16 buys nothing there and the casts cost time); keep fp16 "
                       "for the providers that run it (CUDA, CoreML, NNAPI, DirectML)")
