from onnxlint.diagnostics import Severity
from onnxlint.rule import Rule
from onnxlint.units import layer_label, num

FP16_NORMAL = 2.0 ** -14  # its smallest normal


class Fp16WeightRange(Rule):
    """Weights a cast to float16 turns into ±inf or zero, counted exactly in the stored weights.

    What it checks
        The stored float weight of every Conv, ConvTranspose, Gemm and MatMul (read once each): the
        weights that an IEEE round-to-nearest cast (onnxruntime's Cast) makes ±inf (beyond 65,504),
        the non-zero ones it makes 0 (below about 3e-8), and the ones it makes subnormal (below fp16's
        smallest normal 2⁻¹⁴ ≈ 6.1e-5: kept by the cast, set to 0 by hardware and kernels that flush
        denormals).

    Why it matters
        An fp16 deployment (onnxconverter-common's float16 conversion, TensorRT, CoreML, an NPU) casts
        every weight. One inf weight makes every output it reaches inf or NaN; weights cast to zero
        silently remove connections. The counts are exact facts about the cast, not an accuracy guess.

    Example
        fc (Gemm 512→10): 3 of 5,120 weights exceed 65,504 and become ±inf in float16.

    What to do
        Rescale the layer (move the factor into the next layer or a BatchNorm), keep it in float32 (a
        mixed-precision block list), or clamp after checking the effect. Opt-in: `--select OL703` reads
        those weights (one at a time).
    """
    code = "OL703"
    name = "fp16-weight-range"
    severity = Severity.SUGGESTION
    summary = "weights a cast to float16 turns into ±inf (above 65,504) or zero (below its range), counted exactly"
    op_types = ("Conv", "ConvTranspose", "Gemm", "MatMul")
    default_enabled = False  # reads weights: never on the plain path

    def check_node(self, ctx, layer):
        import numpy as np

        if len(layer.inputs) < 2 or ctx.invalid(layer):
            return
        stored = ctx.stored(layer.inputs[1])
        weight = ctx.weight(stored) if stored is not None else None
        if weight is None or weight.dtype.kind != "f" or weight.dtype == np.float16:
            return
        with np.errstate(over="ignore"):
            half = np.abs(weight.astype(np.float16))  # IEEE round to nearest even, as onnxruntime's Cast
        overflow = int(np.count_nonzero(np.isinf(half)))
        zeroed = int(np.count_nonzero((half == 0) & (weight != 0)))
        subnormal = int(np.count_nonzero((half > 0) & (half < FP16_NORMAL)))
        if not overflow and not zeroed and not subnormal:
            return
        parts = []
        if overflow:
            parts.append(f"{num(overflow)} exceed 65,504 and become ±inf")
        if zeroed:
            parts.append(f"{num(zeroed)} non-zero ones are below its smallest subnormal and become 0")
        if subnormal:
            parts.append(f"{num(subnormal)} fall below fp16's smallest normal 6.1e-5 (subnormals, which a kernel "
                         "that flushes denormals sets to 0)")
        yield self.report(
            f"{layer_label(layer)}: of its {num(weight.size)} weights, {'; '.join(parts)} in float16",
            layer, suggestion="rescale the layer or keep it in float32 (a mixed-precision block list)",
            match=(overflow, zeroed, subnormal),
            **({"severity": Severity.WARNING, "because": "an inf weight makes its outputs inf or NaN"}
               if overflow else {}))

    def summarize(self, members, ctx):
        overflow, zeroed, subnormal = (sum(d.match[i] for d in members) for i in range(3))
        parts = [f"{num(n)} {what}" for n, what in ((overflow, "become ±inf"), (zeroed, "become 0"),
                                                    (subnormal, "become subnormal (0 where denormals flush)")) if n]
        return (f"a float16 cast of the weights of {len(members)} layers: {', '.join(parts)}",
                "rescale those layers or keep them in float32; --show-all lists each layer")
