"""A rule over the deployment view (--target ort-cpu: onnxlint.deploy's facts)."""
from onnxlint.diagnostics import Severity
from onnxlint.rule import Rule
from onnxlint.units import count


class Int8FloatIsland(Rule):
    """In a quantized model, a layer that onnxruntime's CPU provider runs in float, and why.

    What it checks
        With `--target ort-cpu`, every Conv, Gemm and MatMul of a QDQ model that onnxruntime's
        optimizer cannot fuse into its int8 kernels (QLinearConv, QGemm, QLinearMatMul,
        MatMulIntegerToFloat), by the rules of its QDQ node-group selectors: every input must come
        from a DequantizeLinear, the output must go to QuantizeLinear nodes only and be no graph
        output, the types must agree (an int32 bias, scaled by input scale × weight scale within
        onnxruntime's 1% tolerance), and on an x86-64 build a signed int8
        activation must be convertible to uint8 (its QuantizeLinear → DequantizeLinear pair read by
        one node only). The prediction is proved against onnxruntime's own optimized graph with
        `--verify` (OL604).

    Why it matters
        The model was quantized to run in int8; a float island runs in fp32 on dequantized inputs,
        so it costs the float MACs plus the conversions, and the user believes it is int8.

    Example
        layer1.0.conv1 (Conv, 4.1% of the MACs) runs in float: signed int8 activations, which
        onnxruntime's x86-64 kernels take only as uint8, and its input is shared by 2 readers.

    What to do
        Act on the reason given. Signed int8 activations that onnxruntime cannot turn into uint8:
        `onnxlint fix MODEL -o OUT.onnx --select OL601` makes them uint8 (exact: zero point + 128, the
        same real values), or quantize with uint8 activations (quantize_static's default QUInt8).
        A bias scaled otherwise: quantize each bias with input scale × weight scale, one bias tensor
        per conv. Otherwise quantize the ops that read a conv's output (or put Q/DQ after it), or
        give a float input its Q/DQ pair.
    """
    code = "OL601"
    name = "int8-float-island"
    severity = Severity.WARNING
    summary = "--target ort-cpu: a layer of a quantized model that onnxruntime's CPU provider runs in float"
    op_types = ("Conv", "Gemm", "MatMul")
    groups = True  # one root cause, one finding: repeats grouped by the engine
    applicability = "exact"  # for the uint8 reason; the others need a new quantization

    def fix(self, rw, layer) -> None:
        """The int8 activations around the layer become uint8 — each QuantizeLinear and the DequantizeLinear nodes
        that read it take the zero point + 128 as uint8, which holds exactly the same real values (what
        onnxruntime's own QDQS8ToU8 pass does where it can); weights stay int8. A layer with another reason is
        left out: it needs a new quantization, not a rewrite."""
        import numpy as np

        if layer is None:
            return
        converted = []
        for q in _pairs(rw, rw.node(layer)):
            readers = rw.consumers(q.output[0])
            if len(q.input) < 3 or any(r.op_type != "DequantizeLinear" for r in readers):
                continue  # only dequantizers may read it, or the type change would reach them
            zero = rw.value(q.input[2])
            if zero.dtype != np.int8 or zero.size != 1:
                continue  # already uint8 (converted for another layer), or not per-tensor
            name = rw.add_initializer((zero.astype(np.int16) + 128).astype(np.uint8), f"{q.output[0]}_zero_point_u8")
            for node in (q, *readers):
                rw.set_input(node, 2, name)
            rw.forget_shape(q.output[0])
            converted.append(q.output[0])
        if converted:
            rw.changed(f"OL601 {layer.name}: int8 activations {', '.join(converted)} made uint8 (zero point + 128)")
        else:
            rw.skip(f"OL601 {layer.name}: its activations are read by more than dequantizers; not rewritten")

    def check_node(self, ctx, layer):
        found = ctx.deployment
        run = found.runs.get(layer.node) if found is not None and found.kind == "int8" else None
        if run is None or run.precision == "int8":
            return
        share = (f", {100 * layer.macs / ctx.totals.macs:.1f}% of the model's MACs" if layer.macs and
                 ctx.totals.macs_complete and ctx.totals.macs else "")
        detail = f" ({run.detail})" if run.detail else ""
        yield self.report(f"{layer.op_type} runs in float on onnxruntime {found.runtime}'s CPU provider "
                          f"({found.machine}) ({count(layer.macs)} MACs{share}): {run.reason}{detail}", layer,
                          suggestion=_advice(run.reason, self.fix_hint()),
                          match=layer if "uint8" in run.reason else None)

    def summarize(self, members, ctx):
        found = ctx.deployment
        runs = {node.name: run for node, run in found.runs.items()}
        reasons: dict[str, int] = {}
        for d in members:
            reason = runs[d.node].reason
            reasons[reason] = reasons.get(reason, 0) + 1
        float_macs = sum(layer.macs or 0 for layer in ctx.layers if layer.node in found.runs
                         and found.runs[layer.node].precision != "int8")
        share = f" ({100 * float_macs / ctx.totals.macs:.1f}% of the MACs)" if ctx.totals.macs else ""
        why = "; ".join(f"{n} × {reason}" for reason, n in sorted(reasons.items(), key=lambda r: -r[1]))
        return (f"{len(members)} layers of this quantized model run in float on onnxruntime {found.runtime}'s CPU "
                f"provider ({found.machine}){share}: {why}",
                f"{_advice(max(reasons, key=reasons.get), self.fix_hint())}; --show-all lists each layer")


def _advice(reason: str, hint: str) -> str:
    if "uint8" in reason:
        return "make those activations uint8 (zero point + 128), or quantize with uint8 activations " \
               f"(quantize_static's default QuantType.QUInt8){hint}"
    if "not only a QuantizeLinear" in reason:
        return "quantize the ops that read this layer's output too, or put a QuantizeLinear/DequantizeLinear pair " \
               "right after it"
    if "bias is not scaled" in reason:
        return "quantize each bias with scale = input scale × weight scale, one bias tensor per conv (an exporter " \
               "that merged equal biases shares one scale among convs whose scales differ)"
    if "is float" in reason:
        return "give that input its QuantizeLinear/DequantizeLinear pair (quantize the op that makes it)"
    return "requantize this layer so that it forms a complete int8 node group"


def _pairs(rw, node):
    """The QuantizeLinear nodes on this layer's activations: the one its input's DequantizeLinear reads, and the
    one its output feeds."""
    found = []
    dq = rw.producer(node.input[0])
    q = rw.producer(dq.input[0]) if dq is not None and dq.op_type == "DequantizeLinear" else None
    if q is not None and q.op_type == "QuantizeLinear":
        found.append(q)
    found += [c for c in rw.consumers(node.output[0]) if c.op_type == "QuantizeLinear"]
    return found
