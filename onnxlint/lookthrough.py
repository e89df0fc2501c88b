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
# ops that only add or drop leading axes (or change nothing): between a Pad and the 1-D conv that reads it
LEADING_AXES = frozenset(("Unsqueeze", "Reshape", "Squeeze", "Identity", "Cast"))


def walk_back(producer: Callable, tensor: str, through: frozenset | set):
    """The node (or layer) that produces `tensor`, looking back through the ops in `through` (by the float op
    each computes, following their first input); `producer` maps a tensor to what produces it, or None."""
    node = producer(tensor)
    for _ in range(64):
        if node is None or node.op not in through or not node.inputs:
            return node
        node = producer(node.inputs[0])
    return node
