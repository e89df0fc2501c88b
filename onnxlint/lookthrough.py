"""What "looking through" means, in one place: the named sets of ops that a question follows a tensor back
through, and the walk itself. The shape stage, parameter placement and the rules all ask here."""
from __future__ import annotations

from collections.abc import Callable

# Parameter-free ops that act on each element alone: a layer after them sees the same positions and
# channels as before them, whatever the tensor's rank (the rules look through these).
POINTWISE = frozenset(("Relu LeakyRelu Sigmoid Tanh Elu Selu Celu Clip HardSigmoid HardSwish Softplus Softsign "
                       "Gelu Mish ThresholdedRelu Shrink Exp Log Sqrt Neg Abs Erf Reciprocal Floor Ceil Round "
                       "Sign Sin Cos").split())
# ... with per-channel BatchNorm, the inference no-ops and the quantize/dequantize pairs of a QDQ graph:
# what "looking through activations" means.
PASSTHROUGH = POINTWISE | {"BatchNormalization", "Dropout", "Identity", "QuantizeLinear", "DequantizeLinear",
                           "QLinearSigmoid", "QLinearLeakyRelu"}
# ... and the element-wise joins of feature maps (a residual Add, SiLU's x·sigmoid(x), a channel Concat),
# followed through their first input: a tensor reached through these from a conv or pool is still its
# C×H×W feature map (never through a Transpose or Reshape, which make token or head axes of it)
MAP_PRESERVING = PASSTHROUGH | {"Add", "Sub", "Mul", "Div", "Sum", "Max", "Min", "Mean", "Concat"}
# the ops whose output is a C×H×W feature map
FEATURE_MAP_OPS = frozenset(("Conv", "ConvTranspose", "MaxPool", "AveragePool", "LpPool"))
# the ops that do nothing at inference: between a Flatten and the fully-connected layer that reads it
NO_OPS = frozenset(("Dropout", "Identity"))
# BatchNorm written out with constants (a scale and shift): between a 1×1 reduction and the conv it feeds
AFFINE = frozenset(("Mul", "Add", "Sub", "Div", "Unsqueeze"))
# ops through which a stored weight reaches its layer with the same element count (QDQ graphs, exporters);
# a QuantizeLinear too: a dequantized weight quantized again is the one stored weight, requantized
WEIGHT_PLUMBING = frozenset(("Identity", "Reshape", "Transpose", "Cast", "QuantizeLinear", "DequantizeLinear",
                             "Squeeze", "Unsqueeze", "Flatten"))
# normalizations over channels or groups of them: a layer after them sees the same channels and positions
CHANNEL_NORMS = frozenset(("InstanceNormalization", "LayerNormalization", "GroupNormalization"))
# ops that only add or drop leading axes (or change nothing): between a Pad and the 1-D conv that reads it
LEADING_AXES = frozenset(("Unsqueeze", "Reshape", "Squeeze", "Identity", "Cast"))
# ... and the quantize/dequantize pair a QDQ graph puts between a Pad and the pool or conv that reads it
PAD_PLUMBING = LEADING_AXES | {"QuantizeLinear", "DequantizeLinear"}


def to_channels_last(node) -> bool:
    """Whether a node is the Transpose(0, 2, 3, 1) that turns an N×C×H×W map channels last (Keras's Flatten as
    tf2onnx exports it)."""
    return node.op_type == "Transpose" and node.attrs.get("perm") == (0, 2, 3, 1)


def norm_epsilon(node) -> float:
    """A BatchNormalization's ε (its default, 1e-5, when the file leaves it out)."""
    return float(node.attrs.get("epsilon", 1e-5))


def split_axis(node, rank: int) -> int | None:
    """The axis (0 ≤ axis < rank) a Split node splits, None for another node."""
    return node.attrs.get("axis", 0) % rank if node.op_type == "Split" and rank else None


def walk_back(producer: Callable, tensor: str, through: frozenset | set):
    """The node (or layer) that produces `tensor`, looking back through the ops in `through` (by the float op
    each computes, following their first input); `producer` maps a tensor to what produces it, or None."""
    node = producer(tensor)
    for _ in range(64):
        if node is None or node.op not in through or not node.inputs:
            return node
        node = producer(node.inputs[0])
    return node


def walk_back_channels(producer: Callable, constants, dims: dict, tensor: str):
    """The node (or layer) that produces `tensor`, looking back through every op that keeps its channels and
    positions: PASSTHROUGH, a constant affine (BatchNorm written out), a gate x·f(x) (SiLU, GELU, HardSwish
    written as products), a norm over channels, torch's GroupNorm as exported (Reshape →
    InstanceNormalization → Reshape back). `constants`: the tensors that do not depend on the input;
    `dims`: tensor → its dims."""
    for _ in range(64):
        node = producer(tensor)
        if node is None:
            return None
        tensor = _channel_input(producer, constants, dims, node)
        if tensor is None:
            return node
    return None


def _channel_input(producer: Callable, constants, dims: dict, node) -> str | None:
    """The input whose channels a channel-preserving `node` carries on; None for any other node."""
    if node.op_type in PASSTHROUGH or node.op_type in CHANNEL_NORMS:
        return node.inputs[0]
    if node.op_type in AFFINE:
        variable = [n for n in node.inputs if n and n not in constants]
        if len(variable) == 2 and node.op_type == "Mul":  # a gate: SiLU x·σ(x), GELU x·Φ(x), HardSwish
            variable = [a for a, b in (variable, variable[::-1]) if _function_of(producer, constants, b, a)][:1]
        return variable[0] if len(variable) == 1 else None
    if node.op_type == "Reshape":
        return _group_norm_input(producer, dims, node)
    return None


def _function_of(producer: Callable, constants, tensor: str, source: str) -> bool:
    """Whether `tensor` is an element-wise function of `source` alone (σ(x), 0.5·(1 + erf(x/√2)), relu6(x+3)/6):
    pointwise ops and constant affines back to it."""
    for _ in range(8):
        if tensor == source:
            return True
        node = producer(tensor)
        if node is None:
            return False
        variable = [n for n in node.inputs if n and n not in constants]
        if len(variable) != 1 or node.op_type not in PASSTHROUGH | AFFINE:
            return False
        tensor = variable[0]
    return False


def _group_norm_input(producer: Callable, dims: dict, reshape) -> str | None:
    """The tensor a GroupNorm normalizes, when `reshape` ends the exported Reshape → InstanceNormalization →
    Reshape round trip (back to the same dims); None for any other Reshape."""
    norm = producer(reshape.inputs[0])
    first = producer(norm.inputs[0]) if norm is not None and norm.op_type == "InstanceNormalization" else None
    if first is None or first.op_type != "Reshape":
        return None
    before, after = dims.get(first.inputs[0]), dims.get(reshape.outputs[0])
    return first.inputs[0] if before is not None and before == after else None


# --- onnxruntime's graph once its level-1 passes removed Identity and Dropout (EliminateIdentity,
# EliminateDropout: every one that makes no graph output). `graph`: a Graph (producer, consumers, outputs).

def ort_removed(node, graph) -> bool:
    return node.op_type in NO_OPS and not any(o in graph.outputs for o in node.outputs)


def ort_tensor(graph, tensor: str) -> str:
    """The tensor onnxruntime's graph holds in place of `tensor`."""
    for _ in range(64):
        node = graph.producer.get(tensor)
        if node is None or not ort_removed(node, graph):
            return tensor
        tensor = node.inputs[0]
    return tensor


def ort_producer(graph, tensor: str):
    return graph.producer.get(ort_tensor(graph, tensor))


def ort_readers(graph, tensor: str) -> list:
    found = []
    for reader in graph.consumers(tensor):
        found += ort_readers(graph, reader.outputs[0]) if ort_removed(reader, graph) else [reader]
    return found
