"""`--target qnn-htp`: which nodes Qualcomm's QNN execution provider runs on the HTP (the Hexagon NPU) and which
stay on onnxruntime's CPU provider, and why, predicted from the model's own graph by the provider's rules:

- an op the provider has no op builder for (onnxruntime's QNN op builders, OPS below);
- a dynamic dim: the provider builds a QNN graph of static shapes only, so a node that reads or writes a tensor
  whose size follows a symbolic input dim (a dynamic batch) stays on the CPU;
- a size onnxlint cannot know (a data-dependent output) is not static either;
- the quantization of graph inputs and dequantization of graph outputs are left to the CPU by design (the
  provider's `offload_graph_io_quantization`, on by default): said, never a fallback.

A QDQ group (the DequantizeLinear nodes feeding an op, the op, the QuantizeLinear after it) goes where its op goes.
The partitions are counted by onnxruntime's own partitioning walk (mobile.partition). `--verify` proves it with the
provider itself when `onnxruntime-qnn` is installed: the sandboxed child creates a session with the provider on its
HTP backend (an x86-64 build emulates the SoC named in SOC) and reads onnxruntime's record of each node's provider
(`session.record_ep_graph_assignment_info`); nothing is executed."""
from __future__ import annotations

from onnxlint.deploy.mobile import Partitions, dynamic_tensors, partition
from onnxlint.graph import Graph, Node
from onnxlint.lookthrough import NO_OPS, ort_readers, ort_tensor
from onnxlint.proto import TensorProto
from onnxlint.shapes import Shapes

# onnxruntime's QNN op builders (onnxruntime/core/providers/qnn/builder/op_builder_factory.cc, commit 00cd7c6,
# the source of onnxruntime-qnn 2.7.0), the ONNX domain
SOURCE = "onnxruntime-qnn 2.7.0's op builders"
OPS = frozenset("""Abs Add And ArgMax ArgMin Asin Atan AveragePool BatchNormalization Cast Ceil Clip Concat Conv
ConvTranspose Cos CumSum DepthToSpace DequantizeLinear Div Einsum Elu Equal Exp Expand Floor Gather GatherElements
GatherND Gelu Gemm GlobalAveragePool GlobalMaxPool Greater GreaterOrEqual GridSample HardSigmoid HardSwish
InstanceNormalization Inverse LRN LSTM LayerNormalization LeakyRelu Less LessOrEqual Log LogSoftmax LpNormalization
MatMul Max MaxPool Mean Min Mod Mul Neg Not Or PRelu Pad Pow QuantizeLinear RMSNormalization RandomUniformLike
Reciprocal ReduceL2 ReduceMax ReduceMean ReduceMin ReduceProd ReduceSum Relu Reshape Resize Round STFT ScatterElements
ScatterND Sigmoid Sign Sin Slice Softmax SpaceToDepth Split Sqrt Squeeze Sub Sum Tanh ThresholdedRelu Tile TopK
Transpose Unsqueeze Upsample Where Flatten""".split()) | {
    "com.microsoft:FusedMatMul",
    # measured on the provider: onnxruntime-qnn 2.7.0 also takes QLinearConv (after onnxruntime's layout
    # transformation) and a float Erf (exact GELU), which that source file does not list
    "QLinearConv", "Erf"}
FLOAT_ONLY = {"Erf"}  # measured: between DequantizeLinear and QuantizeLinear the provider leaves it to the CPU (no
# QDQ group forms around it: its DequantizeLinear and QuantizeLinear are placed on their own)
INT64_REFUSED = {"ReduceProd"}  # measured: on int64 data (a Shape's product) the provider leaves it to the CPU
SOC = ("57", "SM8650 (Snapdragon 8 Gen 3, HTP v75)")  # the soc_model the proof emulates
IO = "quantizes a graph input or dequantizes a graph output: left to the CPU by design (offload_graph_io_quantization)"
DYNAMIC = "dynamic dim"
UNSUPPORTED = "no QNN op builder"
UNKNOWN = "size unknown"
LONE = "a partition of one QuantizeLinear or DequantizeLinear, which the provider does not take"
# what to do about each cause (rules/ol605), by the prefix of its reason
ADVICE = {
    DYNAMIC: "fix the symbolic input dims to the size analysed",
    UNSUPPORTED: "replace these ops by ones the provider builds, or accept them on the CPU",
    UNKNOWN: "give the data-dependent sizes a static bound (fix the input shapes; a fixed-size NMS or TopK), or "
             "accept these nodes on the CPU",
}


def predict(graph: Graph, shapes: Shapes, found, model=None) -> None:
    """The partitions between the HTP and the CPU, in `found.mobile` (each CPU node with its cause)."""
    dynamic, computed = dynamic_tensors(graph, shapes, model)
    owner = _qdq_owners(graph)
    quantized = {n for n in graph.nodes if n.op_type in FLOAT_ONLY and (
        any(p is not None and p.op_type == "DequantizeLinear" for p in map(graph.producer.get, n.inputs))
        or any(c.op_type == "QuantizeLinear" for o in n.outputs if o for c in graph.consumers(o)))}
    members: dict[Node, list] = {}
    for node, unit in owner.items():
        members.setdefault(unit, [unit]).append(node)
    said: dict[Node, str | None] = {}  # per QDQ group: its members share the answer

    def why(node: Node) -> str | None:
        if node.op_type == "QuantizeLinear" and ort_tensor(graph, node.inputs[0]) in graph.inputs or (
                node.op_type == "DequantizeLinear" and node.outputs and _writes_output(graph, node.outputs[0])):
            return IO
        unit = owner.get(node, node)
        if unit not in said:
            said[unit] = _why(unit, members.get(unit, (unit,)), shapes, dynamic, computed, quantized)
        return said[unit]

    found.mobile = partition(graph, shapes, Partitions(found.target, SOURCE, 0, provider=PROOF["provider"],
                                                       advice=ADVICE),
                             why, keep_dequantize=True, unfolded=computed)
    for group in list(found.mobile.groups):  # the provider takes no partition of a lone QuantizeLinear/DequantizeLinear
        if len(group) == 1 and group[0].op_type in ("QuantizeLinear", "DequantizeLinear"):
            found.mobile.groups.remove(group)
            found.mobile.cpu[group[0]] = LONE


# the proof: the provider, in the sandboxed child (sandbox.assignment)
PROOF = {"module": "onnxruntime_qnn", "package": "onnxruntime-qnn", "extra": "qnn", "backend": "get_qnn_htp_path",
         "options": {"soc_model": SOC[0]}, "provider": "QNNExecutionProvider"}


def prove(loaded, shapes: Shapes, limits):
    """The provider's own placement of each node (or why not): verify.provider_assignment."""
    from onnxlint.verify import provider_assignment

    return provider_assignment(loaded, shapes, PROOF, limits)


def _why(unit: Node, members, shapes: Shapes, dynamic: set, computed: set, quantized: set) -> str | None:
    """Why the provider leaves a node and its QDQ group (`members`) to the CPU, or None."""
    key = unit.op_type if not unit.domain else f"{unit.domain}:{unit.op_type}"
    if key not in OPS:
        if any(o in computed for o in unit.outputs):  # a Shape of a symbolic dim: gone once the dim is fixed
            return f"{DYNAMIC}: {key} computes '{unit.outputs[0]}' from a symbolic input dim"
        return f"{UNSUPPORTED}: {key}"
    if unit.op_type in FLOAT_ONLY and unit in quantized:
        return f"{UNSUPPORTED}: {key} between DequantizeLinear and QuantizeLinear"
    if unit.op_type in INT64_REFUSED and any(shapes.dtype.get(t) == TensorProto.INT64 for t in unit.inputs if t):
        return f"{UNSUPPORTED}: {key} on int64 data"
    # (a weight's size is static; a "constant" onnxlint computes from sizes, a ConstantOfShape of a TopK's Shape,
    # is data onnxruntime does not fold, and its size as unknown as the TopK's)
    tensors = {t for n in members for t in (*n.inputs, *n.outputs) if t and t not in shapes.graph.initializers}
    moving = sorted(t for t in tensors if t in dynamic)
    if moving:
        return f"{DYNAMIC}: '{moving[0]}' {_shown(shapes.dims.get(moving[0]))} follows a symbolic input dim"
    unknown = sorted(t for t in tensors if shapes.dims.get(t) is None or None in shapes.dims[t])
    if unknown:
        return f"{UNKNOWN}: the size of '{unknown[0]}' is not known before it runs"
    return None


def _writes_output(graph: Graph, tensor: str) -> bool:
    """Whether the tensor is a graph output once onnxruntime has removed the Identity/Dropout nodes after it."""
    for _ in range(64):
        if tensor in graph.outputs:
            return True
        readers = graph.consumers(tensor)
        if len(readers) != 1 or readers[0].op_type not in NO_OPS or not readers[0].outputs:
            return False
        tensor = readers[0].outputs[0]
    return False


def _shown(dims) -> str:
    return "[" + ",".join("?" if d is None else str(d) for d in dims) + "]" if dims is not None else "[?]"


def _qdq_owners(graph: Graph) -> dict[Node, Node]:
    """Each DequantizeLinear read by one node only, and each QuantizeLinear that is the only reader of a node's
    output → that node: its QDQ group, placed with it (not an Identity or Dropout: onnxruntime removes those). A
    weight's DequantizeLinear read by several nodes is copied for each (EnsureUniqueDQForNodeUnit, the copies named
    `<name>/duplicated`): the original goes with its first reader."""
    owner: dict[Node, Node] = {}
    grouping = lambda n: n.op_type not in ("QuantizeLinear", "DequantizeLinear", "Identity", "Dropout") \
        and n.op_type not in FLOAT_ONLY  # noqa: E731
    for node in graph.nodes:
        if node.op_type == "DequantizeLinear" and node.outputs and node.outputs[0]:
            readers = ort_readers(graph, node.outputs[0])  # through the Identity nodes onnxruntime removes
            if readers and grouping(readers[0]) and (len(readers) == 1 or node.inputs[0] in graph.initializers):
                owner[node] = readers[0]
        elif node.op_type == "QuantizeLinear" and node.inputs and node.inputs[0]:
            made_by = graph.producer.get(node.inputs[0])
            if made_by is not None and grouping(made_by) and len(graph.consumers(node.inputs[0])) == 1:
                owner[node] = made_by
    return owner
