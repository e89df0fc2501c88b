"""`--target openvino`: which nodes Intel's OpenVINO execution provider (device CPU) takes and which stay on
onnxruntime's CPU provider, and why, predicted from the model's own graph by the provider's own rules: its
GetCapability (intel/onnxruntime v5.9, the source of onnxruntime-openvino 1.24.1 with OpenVINO 2025.4,
onnxruntime/core/providers/openvino/ov_versions/data_ops.cc and capability.cc), ported:

- a node is supported when its op is in the provider's table for the device (by op name, any domain), every
  element type it reads or writes is one the device takes, no tensor it reads (constants aside) or writes is a
  scalar (but for the ops listed as taking scalars) or has a dim of 0, and it is not in one of the op modes the
  provider refuses (a Resize with tf_crop_and_resize, antialias or exclude_outside; ReduceMax on int8; ...);
- a model whose nodes are all supported goes to the provider whole (unless it is tiny or its inputs have no
  shape); otherwise the nodes onnxruntime lists between two unsupported ones (TopK and NonZero count as
  unsupported there) form clusters, split into connected parts; a part of one node joins the next part it is
  connected to, or, not the last, stays on the CPU; a part in which a Conv's output leaves the part while other
  nodes read it stays on the CPU whole.

The graph is the one onnxruntime's basic optimizations leave (mobile.ort_graph). `--verify` proves it with the
provider itself: the sandboxed child creates a session with it (device_type CPU) and reads onnxruntime's record of
each node's provider (`session.record_ep_graph_assignment_info`); nothing is executed."""
from __future__ import annotations

from onnxlint.deploy.mobile import Partitions, dynamic_tensors, ort_graph
from onnxlint.dtypes import onnx_type_name
from onnxlint.graph import Graph, Node, attr_text
from onnxlint.proto import TensorProto
from onnxlint.shapes import Shapes

SOURCE = "onnxruntime-openvino 1.24.1's GetCapability (OpenVINO 2025.4, device CPU)"
# data_ops.cc's supported_op_mode, the entries for the CPU device at OpenVINO 2025.4
OPS = frozenset("""Abs Acos Acosh Add And ArgMax ArgMin Asin Asinh Atan Atanh Attention AveragePool BatchNormalization
BiasGelu BitShift Cast CastLike Ceil Celu Clip Compress Concat Constant ConstantOfShape Conv ConvInteger ConvTranspose
Cos Cosh CumSum DepthToSpace DequantizeLinear Div Dropout DynamicQuantizeLinear DynamicQuantizeMatMul EPContext Einsum
Elu EmbedLayerNormalization Equal Erf Exp Expand EyeLike Flatten Floor FusedConv FusedGemm FusedMatMul GRU Gather
GatherElements GatherND Gelu Gemm GlobalAveragePool GlobalLpPool GlobalMaxPool Greater GreaterOrEqual GridSample
HardMax HardSigmoid HardSwish Identity If ImageScaler InstanceNormalization LRN LSTM LayerNormalization LeakyRelu Less
LessOrEqual Log LogSoftMax LogSoftmax Loop LpNormalization MatMul MatMulInteger MatMulNBits Max MaxPool Mean
MeanVarianceNormalization Min Mod Mul Neg NonMaxSuppression NonZero Not OneHot Or PRelu Pad Pow QuantizeLinear QuickGelu
RNN RandomNormal RandomNormalLike Range Reciprocal ReduceL1 ReduceL2 ReduceLogSum ReduceLogSumExp ReduceMax ReduceMean
ReduceMin ReduceProd ReduceSum ReduceSumSquare Relu Reshape Resize ReverseSequence RoiAlign Round Scatter
ScatterElements ScatterND Selu Shape Shrink Sigmoid Sign SimplifiedLayerNormalization Sin Sinh Size
SkipLayerNormalization SkipSimplifiedLayerNormalization Slice Softmax Softplus Softsign SpaceToDepth Split Sqrt Squeeze
Sub Sum Tan Tanh ThresholdedRelu Tile TopK Transpose Trilu Unsqueeze Upsample Where Xor""".split())
# no_dimension_supported_: the ops that may read or write a scalar
SCALARS = frozenset("""Add And Cast Ceil Clip DequantizeLinear Div DynamicQuantizeLinear Equal Exp Expand Floor Gather
Greater Identity If Less Loop MatMulInteger Max Min Mul Neg PRelu Pow QuantizeLinear Range ReduceMax ReduceMin
ReduceProd Reshape Shape Sqrt Squeeze Sub Unsqueeze Where""".split())
ZERO_DIMS = frozenset({"Expand", "Equal", "Slice", "Concat", "Shape", "Cast", "Resize"})  # may hold a dim of 0
T = TensorProto
TYPES = frozenset({T.BOOL, T.FLOAT, T.UINT32, T.INT32, T.INT16, T.UINT16, T.INT8, T.UINT8, T.INT64, T.FLOAT16,
                   T.INT4, T.UINT4})  # the CPU device's, and the initializers' (the same set)
ALONE_REFUSED = frozenset("""Cast Celu ConstantOfShape Dropout Einsum GatherElements GatherND GridSample
LayerNormalization LSTM OneHot Pad RandomNormalLike ReduceMin Slice TopK""".split())  # ops_supported_only_in_model
FORCED = frozenset({"TopK", "NonZero"})  # InsertNode: left to the CPU once the model is partitioned
UNSUPPORTED = "no OpenVINO support"
DTYPE = "element type"
SCALAR = "scalar tensor"
EMPTY = "zero-size dim"
MODE = "op mode refused"
RULE = "partition rule"
# what to do about each cause (rules/ol605), by the prefix of its reason
ADVICE = {
    UNSUPPORTED: "replace these ops by ones OpenVINO takes, or accept them on the CPU",
    DTYPE: "cast these tensors to a type OpenVINO takes (float32, float16, an integer type) in the exporter",
    SCALAR: "keep these tensors 1-D (shape [1]) in the exporter: the provider takes scalars for a few ops only",
    EMPTY: "remove the empty tensors (a dim of 0) from the graph",
    MODE: "export the op in a mode the provider takes (a Resize without tf_crop_and_resize, antialias or "
          "exclude_outside), or accept it on the CPU",
    RULE: "these nodes follow from the others' fallback: move those, and these follow",
}
INSTALL = ("it bundles its own onnxruntime: `python3 -m venv OV && OV/bin/pip install onnxruntime-openvino`, then "
           "ONNXLINT_OPENVINO_PYTHON=OV/bin/python")
PROOF = {"package": "onnxruntime-openvino", "provider": "OpenVINOExecutionProvider", "options": {"device_type": "CPU"},
         "python": "ONNXLINT_OPENVINO_PYTHON", "max_ir": 13, "install": INSTALL}


def predict(graph: Graph, shapes: Shapes, found, model=None) -> None:
    """The provider's subgraphs, in `found.mobile` (each CPU node with its cause)."""
    unfolded = dynamic_tensors(graph, shapes, model)[1]
    nodes, producers, consumers, _ = ort_graph(graph, shapes, keep_dequantize=True, unfolded=unfolded)
    constant = lambda t: t in shapes.constants or (  # noqa: E731 — a constant initializer once folded
        (t in shapes.values or t in shapes.pending) and t not in unfolded)
    refused = {n: why for n in nodes if (why := _refused(n, shapes, constant, producers))}
    out = Partitions(found.target, SOURCE, len(nodes), provider=PROOF["provider"], advice=ADVICE, readers=consumers)
    for cluster, why in _clusters(graph, nodes, producers, consumers, refused):
        if why is None:
            out.groups.append(cluster)
        else:
            out.cpu.update((n, refused.get(n, why)) for n in cluster)
    found.mobile = out


def prove(loaded, shapes: Shapes, limits):
    """The provider's own placement of each node (or why not): verify.provider_assignment, in the interpreter
    ONNXLINT_OPENVINO_PYTHON names (onnxruntime-openvino bundles its own onnxruntime), else in this one (an
    environment whose onnxruntime is onnxruntime-openvino's)."""
    from onnxlint.verify import provider_assignment

    return provider_assignment(loaded, shapes, PROOF, limits)


def _refused(node: Node, shapes: Shapes, constant, producers) -> str | None:
    """Why the provider's node check (DataOps::node_is_supported) refuses the node, or None."""
    op = node.op_type
    if op not in OPS:
        return f"{UNSUPPORTED}: {op if not node.domain else f'{node.domain}:{op}'}"
    tensors = [(t, True) for t in node.inputs if t] + [(t, False) for t in node.outputs if t]
    for t, _ in tensors:  # (0: a type not known, no fact)
        if shapes.dtype.get(t) and shapes.dtype[t] not in TYPES:
            return f"{DTYPE}: '{t}' is {onnx_type_name(shapes.dtype[t])}"
    for t, read in tensors:
        dims = shapes.dims.get(t)
        if dims is None or (read and constant(t)):
            continue
        if dims == () and op not in SCALARS and not (op == "Pad" and any(p.op_type == "DequantizeLinear"
                                                                        for p in producers[node])):
            return f"{SCALAR}: {op} {'reads' if read else 'writes'} the scalar '{t}'"
        if 0 in dims and op not in ZERO_DIMS:
            return f"{EMPTY}: '{t}' is [{','.join('?' if d is None else str(d) for d in dims)}]"
    if node.domain:
        return None
    mode = _mode(node, shapes)
    return f"{MODE}: {op} {mode}" if mode else None


def _mode(node: Node, shapes: Shapes) -> str | None:
    """The op modes the provider refuses (DataOps' op_list_ at OpenVINO 2025.4)."""
    op, attr = node.op_type, node.attrs.get
    if op == "ReduceMax" and any(shapes.dtype.get(t) in (T.INT8, T.UINT8) for t in node.inputs if t):
        return "on int8 data"
    if op == "Reshape" and len(node.inputs) > 1 and 0 in (shapes.dims.get(node.inputs[1]) or ()):
        return "to an empty shape"
    if op == "Unsqueeze" and "axes" in node.inputs:
        return "with an input named 'axes'"
    if op == "Upsample":
        scales = attr("scales")
        if isinstance(scales, tuple) and len(scales) > 2 and (scales[0] != 1 or scales[1] != 1):
            return "scaling the batch or channel dim"
        if any(shapes.dtype.get(x) not in (T.FLOAT, T.INT8, T.FLOAT16, None) for x in node.inputs[:1]):
            return "on a type other than float32, float16 or int8"
    if op == "Resize":
        mode = attr_text(node, "coordinate_transformation_mode")
        if mode in ("tf_crop_and_resize", "half_pixel_symmetric"):
            return f"with coordinate_transformation_mode {mode}"
        if attr("antialias") == 1 and attr_text(node, "mode", b"nearest") in ("linear", "cubic"):
            return "with antialias"
        if attr("exclude_outside") == 1:
            return "with exclude_outside"
    return None


def _clusters(graph: Graph, nodes: list, producers: dict, consumers: dict, refused: dict):
    """(nodes, None) for each subgraph the provider claims and (nodes, why) for the rest, by its GetCapability."""
    if not refused:
        return [(nodes, _whole(graph, nodes))] if nodes else []
    cut = set(refused) | {n for n in nodes if n.op_type in FORCED}
    spans, span = [], []
    for node in nodes:  # GetPartitionedClusters: the runs between two unsupported nodes
        if node in cut:
            spans.append(span)
            span = []
        else:
            span.append(node)
    spans.append(span)
    parts, outputs = [], set(graph.outputs)
    for span in spans:  # GetConnectedClusters: each run split into its connected parts
        left = list(span)
        while left:
            part, todo, inside = [], [left[0]], set(left)
            while todo:
                n = todo.pop()
                if n in inside:
                    inside.discard(n)
                    part.append(n)
                    todo.extend((*producers[n], *consumers[n]))
            left = [n for n in left if n in inside]
            parts.append(part)
    result = [([n], f"{RULE}: {n.op_type} in a partitioned model" if n not in refused else refused[n])
              for n in nodes if n in cut]
    for i, part in enumerate(parts):
        why = None
        if len(part) == 1 and i < len(parts) - 1:  # a part of one node joins the next one connected to it
            node = part[0]
            later = next((p for p in parts[i + 1:] if any(node in producers[n] or node in consumers[n] for n in p)),
                         None)
            if later is not None:
                later.append(node)
                continue
            why = f"{RULE}: a one-node subgraph ({node.op_type}) joined to no later one"
        inside = set(part)  # a Conv read inside the part whose output also leaves it (another reader, a graph output)
        conv = next((n for n in part if n.op_type in ("Conv", "Identity") and consumers[n] and (
            any(c not in inside for c in consumers[n]) or n.outputs[0] in outputs)), None)
        if why is None and conv is not None:
            why = f"{RULE}: the output of {conv.op_type} '{conv.name}' leaves its subgraph, dropped whole"
        if why is None and not any(t for n in part for t in n.inputs):
            why = f"{RULE}: a subgraph without inputs"
        result.append((part, why))
    return result


def _whole(graph: Graph, nodes: list) -> str | None:
    """Why the provider does not take a model whose every node it supports, or None (it takes it whole)."""
    if not graph.inputs:
        return f"{RULE}: a model without inputs"
    if any(t.dims is None for t in graph.inputs.values()):
        return f"{RULE}: a graph input without a shape"
    if len(nodes) <= 3 and nodes[0].op_type in ALONE_REFUSED:
        return f"{RULE}: a model of {len(nodes)} node(s) starting with {nodes[0].op_type}"
    return None
