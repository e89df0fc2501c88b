"""`--target ort-cpu`: how onnxruntime's CPU provider will run each layer that does the arithmetic — in int8 or
in float for a quantized model, in fp16 or in fp32 for an fp16 one — predicted from the model's own graph by the
rules onnxruntime applies, each float layer with the rule that keeps it float. `--verify` proves the prediction
against the graph onnxruntime's optimizer actually makes (verify.optimized_graph)."""
from __future__ import annotations

from onnxlint.deploy.facts import FLOAT_MACS, INT8_KERNEL, QOPERATOR, Deployment, Run
from onnxlint.graph import MAIN, Graph, Node
from onnxlint.lookthrough import ort_producer, ort_readers
from onnxlint.proto import TensorProto
from onnxlint.shapes import Shapes

_I8, _U8, _I32 = TensorProto.INT8, TensorProto.UINT8, TensorProto.INT32
_NAMES = {TensorProto.INT8: "int8", TensorProto.UINT8: "uint8", TensorProto.INT16: "int16",
          TensorProto.UINT16: "uint16", TensorProto.INT4: "int4", TensorProto.UINT4: "uint4"}
_WIDE = {TensorProto.INT16, TensorProto.UINT16, TensorProto.INT4, TensorProto.UINT4}


def predict(graph: Graph, shapes: Shapes, found: Deployment, model=None) -> None:
    """Each MAC-bearing layer's Run, in `found.runs` (and the casts onnxruntime inserts, for an fp16 model)."""
    nodes = [n for n in graph.nodes if n.location == MAIN and n not in shapes.dead]
    if found.kind == "int8":
        machine = found.machine
        arm = machine in ("arm64", "aarch64") or machine.startswith("arm")
        for node in nodes:
            if (node.domain, node.op_type) in QOPERATOR:
                found.runs[node] = Run("int8", node.op_type)
            elif node.op_type in FLOAT_MACS and not node.domain:
                found.runs[node] = _qdq(node, graph, shapes, arm)
    elif found.kind == "fp16":
        from onnxlint.deploy.precision import fp32_fallbacks

        half, fp32, found.casts = fp32_fallbacks(nodes, graph, shapes)
        found.runs = {n: Run("float32", f"{n.op_type} (fp32)", f"onnxruntime {found.runtime} has no float16 "
                             f"{n.op_type} kernel for the CPU provider: it runs in fp32 between inserted casts")
                      if n in fp32 else Run("float16", n.op_type) for n in half if n.op_type in FLOAT_MACS}


def prove(loaded, shapes: Shapes, limits):
    """The graph onnxruntime's optimizer makes of the model, from the sandboxed child (or why not)."""
    from onnxlint.verify import optimized_graph

    return optimized_graph(loaded, shapes, limits)


# --- int8: onnxruntime's QDQ node groups -------------------------------------------------------------
# Grounded in onnxruntime's QDQ selectors (core/optimizer/qdq_transformer/selectors_actions/qdq_selectors.cc):
# a Conv, Gemm or MatMul becomes QLinearConv / QGemm / QLinearMatMul (MatMulIntegerToFloat without an output
# QuantizeLinear) when every input it reads is a DequantizeLinear, its one output feeds QuantizeLinear nodes
# only (a Gemm's or MatMul's may feed none) and is no graph output, the types agree (input = output, an int32
# bias), and — on an x86-64 build, whose kernels take uint8 activations — a signed int8 activation can be
# turned to uint8 by its QDQS8ToU8 pass, which needs a QuantizeLinear → DequantizeLinear pair with constant
# scalar zero points whose DequantizeLinear is that QuantizeLinear's only reader and has one reader itself
# (onnxruntime gives each reader of a shared DequantizeLinear its own copy first: EnsureUniqueDQForNodeUnit).


def _qdq(node: Node, graph: Graph, shapes: Shapes, arm: bool) -> Run:
    float_kernel = f"{node.op_type} (float)"
    data = [name for name in node.inputs if name]
    dqs = [ort_producer(graph, name) for name in data]
    quantized_here = _weight_bias_quantization(node, dqs, graph, shapes)
    missing = [name for i, (name, dq) in enumerate(zip(data, dqs))
               if (dq is None or dq.op_type != "DequantizeLinear") and i not in quantized_here]
    if missing:
        which = "its bias" if missing == [data[-1]] and len(data) == 3 else \
            f"input{'s' if len(missing) > 1 else ''} {', '.join(repr(n) for n in missing)}"
        return Run("float32", float_kernel, f"{which} is float: not a DequantizeLinear's output, so there is no "
                                            "int8 node group to fuse")
    dqs = [dq for dq in dqs if dq is not None and dq.op_type == "DequantizeLinear"]
    computed = [dq.inputs[1] for dq in dqs if not _stored(dq.inputs[1], graph)]
    if computed:
        return Run("float32", float_kernel, f"the scale '{computed[0]}' is computed in the graph, not a stored "
                                            "constant")
    activation = shapes.dtype.get(dqs[0].inputs[0], 0)
    weight = _I8 if 1 in quantized_here else shapes.dtype.get(dqs[1].inputs[0], 0)
    wide = [t for t in (activation, weight) if t in _WIDE]
    if wide:
        return Run("float32", float_kernel, f"{_NAMES[wide[0]]} quantization: the CPU provider fuses 8-bit groups "
                                            "only")
    bias = dqs[2] if len(data) == 3 and 2 not in quantized_here else None
    if bias is not None and shapes.dtype.get(bias.inputs[0]) != _I32:
        return Run("float32", float_kernel, "the bias is not int32")
    if node.op_type == "Gemm" and len(data) == 3 and float(node.attrs.get("beta", 1.0)) != 1.0:
        return Run("float32", float_kernel, "beta ≠ 1 with a quantized bias")
    readers = ort_readers(graph, node.outputs[0])
    if len(readers) == 1 and readers[0].op_type in ("Relu", "Clip"):  # a Relu/Clip the output's Q makes redundant
        after = ort_readers(graph, readers[0].outputs[0])
        if len(after) == 1 and after[0].op_type == "QuantizeLinear" and _redundant(readers[0], after[0], shapes):
            readers = after
    quantizers = [r for r in readers if r.op_type == "QuantizeLinear"]
    if quantizers or node.op_type == "Conv":  # a Gemm or MatMul may give float output
        others = sorted({r.op_type for r in readers if r.op_type != "QuantizeLinear"})
        if others or not quantizers:
            return Run("float32", float_kernel, f"its output feeds {', '.join(others) or 'no QuantizeLinear'}, not "
                                                "only a QuantizeLinear: it is in no int8 group (quantize what reads "
                                                "it, or put Q/DQ after it)")
        if any(o in graph.outputs for o in node.outputs):
            return Run("float32", float_kernel, "its output is a graph output, which an int8 group cannot produce")
    output = shapes.dtype.get(quantizers[0].outputs[0], 0) if quantizers else None
    blocked = {}  # on x86-64, onnxruntime first turns each convertible int8 Q → DQ pair into uint8 (QDQS8ToU8)
    if not arm:
        if activation == _I8:
            blocked["input"] = _s8_to_u8_blocked(dqs[0], graph, shapes, "input")
            activation = _U8 if blocked["input"] is None else activation
        if output == _I8:
            blocked["output"] = _s8_to_u8_blocked_after(quantizers[0], graph, shapes)
            output = _U8 if blocked["output"] is None else output
    if output is not None and output != activation:
        why = next((b for b in blocked.values() if b), None)
        return Run("float32", float_kernel, f"{why}, so onnxruntime leaves it int8 where the other side becomes the "
                                            "uint8 its x86-64 kernels take" if why else
                   f"its input is {_NAMES.get(activation, activation)} but its output {_NAMES.get(output, output)}")
    if activation == _I8 and node.op_type == "Gemm" and weight != _I8:
        return Run("float32", float_kernel, "an int8 activation needs an int8 weight")
    if activation == _I8 and not arm and node.op_type != "Gemm":
        return Run("float32", float_kernel, f"{blocked.get('input') or blocked.get('output')}, so onnxruntime "
                                            "cannot turn it into the uint8 its x86-64 kernels take")
    if bias is not None and node.op_type == "Conv":
        detail = _bias_scale_mismatch(dqs[0], dqs[1], bias, shapes)
        if detail:
            return Run("float32", float_kernel, BIAS_SCALE, detail)
    kernel = INT8_KERNEL.get(node.op_type) or ("QLinearMatMul" if quantizers else "MatMulIntegerToFloat")
    return Run("int8", kernel)


BIAS_SCALE = "its int32 bias is not scaled by input scale × weight scale, the only bias onnxruntime fuses"


def _bias_scale_mismatch(x: Node, w: Node, b: Node, shapes: Shapes) -> str | None:
    """The numbers that keep onnxruntime from fusing a Conv whose int32 bias is not scaled by input scale × weight
    scale, the scale QLinearConv gives it (its CheckConvBiasScale, onnxruntime PR 28229: within 1% of it, and
    1e-6 as measured here), or None. Not said when a scale's values are not known."""
    x_scale, w_scale, b_scale = (shapes.floats(dq.inputs[1]) for dq in (x, w, b))
    if x_scale is None or w_scale is None or b_scale is None:
        return None
    channels = max(len(w_scale), len(b_scale))
    if len(x_scale) != 1 or len(b_scale) not in (1, channels) or len(w_scale) not in (1, channels):
        return f"{len(b_scale)} bias scales for {channels} output channels and {len(x_scale)} input scales"
    for c in range(channels):
        wanted, got = x_scale[0] * w_scale[c % len(w_scale)], b_scale[c % len(b_scale)]
        if abs(got - wanted) > 1e-6 + 0.01 * abs(wanted):
            return f"output channel {c}: bias scale {got:.4g}, input scale × weight scale {wanted:.4g}"
    return None


def _stored(name: str, graph: Graph) -> bool:
    """An initializer or a Constant node's value: what onnxruntime treats as a constant initializer."""
    producer = graph.producer.get(name)
    return name in graph.initializers or (producer is not None and producer.op_type == "Constant")


def _weight_bias_quantization(node: Node, dqs: list, graph: Graph, shapes: Shapes) -> set[int]:
    """The inputs (1: weight, 2: bias) that onnxruntime's WeightBiasQuantization pass quantizes itself: a Conv's
    or Gemm's float32 weight initializer and 1-D bias initializer, when its input is dequantized per tensor — and
    only when the bias, if any, is an initializer (a dequantized bias makes the pass skip the node)."""
    if node.op_type not in ("Conv", "Gemm") or len(node.inputs) < 2 or dqs[0] is None or \
            dqs[0].op_type != "DequantizeLinear" or shapes.dims.get(dqs[0].inputs[1]) not in ((), (1,)):
        return set()
    weight, bias = node.inputs[1], node.inputs[2] if len(node.inputs) > 2 and node.inputs[2] else None
    weight_dq = dqs[1] is not None and dqs[1].op_type == "DequantizeLinear"
    if not weight_dq and (weight not in graph.initializers or shapes.dtype.get(weight) != TensorProto.FLOAT):
        return set()
    if bias is not None and (bias not in graph.initializers or len(shapes.dims.get(bias) or ()) != 1):
        return set()
    if weight_dq and bias is None:
        return set()
    if weight_dq and shapes.dims.get(dqs[1].inputs[1]) not in ((), (1,)):  # per channel: on the output axis
        axis = int(dqs[1].attrs.get("axis", 1))
        wanted = 0 if node.op_type == "Conv" else (0 if node.attrs.get("transB", 0) else 1)
        if axis != wanted or (shapes.dims.get(dqs[1].inputs[1]) or (None,))[0] != (shapes.dims.get(bias) or (0,))[0]:
            return set()
    return ({1} if not weight_dq else set()) | ({2} if bias is not None else set())


def _s8_to_u8_blocked(dq: Node, graph: Graph, shapes: Shapes, side: str) -> str | None:
    """Why the QuantizeLinear → DequantizeLinear pair in front of `dq`'s reader cannot become uint8, or None."""
    q = ort_producer(graph, dq.inputs[0])
    if q is None or q.op_type != "QuantizeLinear":
        return f"its int8 {side} has no QuantizeLinear in front of it"
    uses = len(ort_readers(graph, dq.outputs[0])) + (dq.outputs[0] in graph.outputs)
    if len(ort_readers(graph, q.outputs[0])) != 1 or uses != 1:
        return f"its int8 {side} feeds {uses} nodes"
    if not _constant_scalar(q, shapes) or not _constant_scalar(dq, shapes):
        return f"the zero point of its int8 {side} is not a constant scalar"
    return None


def _s8_to_u8_blocked_after(q: Node, graph: Graph, shapes: Shapes) -> str | None:
    readers = ort_readers(graph, q.outputs[0])
    if len(readers) != 1 or readers[0].op_type != "DequantizeLinear":
        return "its int8 output's QuantizeLinear has several readers"
    # one reader, or only the graph's output: no copy of the DequantizeLinear is made (EnsureUniqueDQForNodeUnit)
    uses = len(ort_readers(graph, readers[0].outputs[0])) + (readers[0].outputs[0] in graph.outputs)
    if uses > 1:
        return f"its int8 output feeds {uses} nodes"
    return None if _constant_scalar(q, shapes) else "the zero point of its int8 output is not a constant scalar"


def _redundant(clip: Node, q: Node, shapes: Shapes) -> bool:
    """Whether `q` clamps at least as tightly as the Relu/Clip before it (onnxruntime's IsClipMadeRedundantByQ):
    its zero point is the type's minimum for a Relu; for a Clip, its range lies inside [min, max]."""
    zp = shapes.ints(q.inputs[2]) if len(q.inputs) > 2 and q.inputs[2] else [0]
    kind = shapes.dtype.get(q.inputs[2], _U8) if len(q.inputs) > 2 and q.inputs[2] else _U8
    low, high = (-128, 127) if kind == _I8 else (0, 255)
    if zp is None or len(zp) != 1:
        return False
    if clip.op_type == "Relu":
        return zp[0] == low
    scale = shapes.floats(q.inputs[1])
    bounds = [shapes.floats(n) if n else None for n in (*clip.inputs[1:3], "", "")[:2]]
    if scale is None or len(scale) != 1 or None in bounds:
        return False
    return bounds[0][0] <= scale[0] * (low - zp[0]) and bounds[1][0] >= scale[0] * (high - zp[0])


def _constant_scalar(node: Node, shapes: Shapes) -> bool:
    if len(node.inputs) < 3 or not node.inputs[2]:
        return node.op_type == "DequantizeLinear"  # no zero point: 0
    zp = node.inputs[2]
    return zp in shapes.constants and shapes.dims.get(zp) in ((), (1,))
