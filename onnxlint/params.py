"""Parameter placement: which stored tensors are which layer's parameters, each counted once wherever it
enters (a weight through reshapes and Q/DQ, computed from several initializers, a recurrent layer's W/R/B),
and the floating-point initializers no counted layer reads (named, not counted) (DOMAIN.md §3)."""
from __future__ import annotations

import math

from onnxlint.dtypes import tensor_nbytes
from onnxlint.graph import Graph, Node
from onnxlint.lookthrough import WEIGHT_PLUMBING, walk_back_channels
from onnxlint.proto import TensorProto
from onnxlint.shapes import Shapes, WindowFacts
from onnxlint.shapes.windows import weight_and_bias

# Normalization layers whose scale and bias (inputs 1, 2) are trainable parameters.
NORMS = {"BatchNormalization", "InstanceNormalization", "LayerNormalization", "GroupNormalization"}
RNN_GATES = {"LSTM": 4, "GRU": 3, "RNN": 1}



class Placement:
    """The parameters of each layer in turn, and at the end what no layer read. One count per tensor a layer
    reads (a tied weight is read under one name; the copies an exporter deduplicates into Identity nodes are
    distinct parameters), priced at the stored dtype; a weight computed from several initializers counts each
    of them once."""

    def __init__(self, graph: Graph, shapes: Shapes) -> None:
        self.graph, self.shapes = graph, shapes
        self.counted: set[str] = set()  # the tensors counted (a layer's inputs, a computed weight's sources)
        self.placed: set[str] = set()  # the initializers counted as some layer's parameters

    def count(self, node: Node, window: WindowFacts | None) -> tuple[int, int]:
        """(params, bytes) of the layer: its parameter inputs not counted before."""
        graph, shapes, counted = self.graph, self.shapes, self.counted
        params = param_bytes = 0
        for name in parameter_inputs(node, graph, shapes, window):
            if name in counted:
                continue
            stored = stored_weight(graph, name)
            sources = [stored] if stored is not None else [
                n for n in computed_weight_sources(graph, shapes, name) if n not in counted]
            if stored is None:
                counted.update(sources)  # an initializer a computed weight reads counts once
            if sources:
                counted.add(name)
                self.placed.update(sources)
            for stored in sources:
                dims = shapes.dims.get(stored)
                if dims is not None and None not in dims:
                    count = math.prod(dims)
                    params += count
                    param_bytes += tensor_nbytes(shapes.dtype.get(stored, 0), count) or 0
        return params, param_bytes

    def unplaced(self) -> list[tuple[str, int, int]]:
        return unplaced_initializers(self.graph, self.shapes, self.placed, self.counted)


def stored_weight(graph: Graph, tensor: str) -> str | None:
    """The stored tensor that `tensor` is — an initializer, or a Constant/ConstantOfShape output — possibly
    through reshapes, casts or a DequantizeLinear; None for anything computed (a parameter is stored)."""
    for _ in range(16):
        if tensor in graph.initializers:
            return tensor
        producer = graph.producer.get(tensor)
        if producer is None:
            return None
        if producer.op_type in ("Constant", "ConstantOfShape"):
            return tensor
        if producer.op_type not in WEIGHT_PLUMBING or not producer.inputs:
            return None
        tensor = producer.inputs[0]
    return None


# a weight computed in the graph (weight standardization, weight norm g·v/‖v‖, a reparametrisation): the ops
# its learnable tensors flow through, and which inputs carry them; reductions (the weight's own statistics:
# mean, variance, norm) end the walk, so a weight is not counted again through them
_DATA_INPUT = WEIGHT_PLUMBING | {"Expand"}
_ARITHMETIC = {"Mul", "Add", "Sub", "Div", "Neg", "Sqrt", "Reciprocal", "Abs", "Exp", "Tanh", "Sigmoid"}
_LEARNABLE_TYPES = {1, 2, 3, 10, 11, 16}  # float32/16/64, bfloat16, and int8/uint8 stored weights (not shapes)


def computed_weight_sources(graph: Graph, shapes: Shapes, tensor: str) -> list[str]:
    """For a weight computed from initializers (stored_weight finds none), every initializer on its data
    path: a norm's input, scale and bias, every input of element-wise arithmetic, through reshapes and Q/DQ."""
    if tensor not in shapes.constants:
        return []
    found, stack, seen = [], [tensor], set()
    while stack:
        name = stack.pop()
        if name in seen:
            continue
        seen.add(name)
        producer = graph.producer.get(name)
        if name in graph.initializers and producer is None:  # an initializer: an exporter's Constant is no parameter
            found.append(name)
            continue
        if producer is None:
            continue
        if producer.op_type in _DATA_INPUT:
            stack.extend(producer.inputs[:1])
        elif producer.op_type in NORMS:
            stack.extend(n for i, n in enumerate(producer.inputs[:3]) if n and not _absent_affine(shapes, n, i))
        elif producer.op_type in _ARITHMETIC:
            stack.extend(n for n in producer.inputs if n)
    return [n for n in found if graph.initializers[n][1] in _LEARNABLE_TYPES]


def parameter_inputs(node: Node, graph: Graph, shapes: Shapes, window: WindowFacts | None = None) -> list[str]:
    """The inputs of a layer that may be trainable parameters (weights, biases, norm scale and shift).
    `window`: the node's WindowFacts, when the caller has them."""
    if window is not None or node in shapes.windows:
        return weight_and_bias(node)
    operands = shapes.matmuls.get(node)
    if operands is not None:  # the weight is B (x·Wᵀ from a Linear); A only when B is computed (W·x)
        weight = operands.b if stored_weight(graph, operands.b) is not None else operands.a
        return [n for n in (weight, operands.bias) if n]
    if node.op_type in NORMS:  # a norm over a constant standardizes a weight: counted through that weight
        if not node.inputs or node.inputs[0] in shapes.constants:
            return []
        affine = _group_norm_affine(node, graph) if node.op_type == "InstanceNormalization" else None
        return affine if affine is not None else [n for n in node.inputs[1:3] if n]
    if node.op_type in RNN_GATES:  # W, R, B and an LSTM's peepholes P (not the sequence lengths or states)
        return [n for i, n in enumerate(node.inputs) if n and i in (1, 2, 3, 7)]
    if node.op_type == "Add" and len(node.inputs) == 2:  # a Linear on N-D input: MatMul, then its bias added
        for x, bias in (node.inputs, node.inputs[::-1]):
            producer = graph.producer.get(x)
            if producer is not None and producer in shapes.matmuls and stored_weight(graph, bias) is not None \
                    and len(shapes.dims.get(bias) or ()) == 1:
                return [bias]
    if node.op_type in AFFINE_OPS:
        affine = layer_affine(node, graph, shapes)
        return [affine[0]] if affine is not None else []
    return []


# a layer's affine written out as element-wise ops on its output: a BatchNorm left as Mul → Add (tf2onnx),
# a conv bias added apart (paddle2onnx), a LayerNorm's γ and β after its basic ops, LayerScale
AFFINE_OPS = frozenset(("Mul", "Add", "Sub", "Div"))
_LAYERS = frozenset(("Conv", "ConvTranspose", "Gemm", "MatMul")) | NORMS


def layer_affine(node: Node, graph: Graph, shapes: Shapes) -> tuple[str, str] | None:
    """(the stored vector, the tensor it scales or shifts) when `node` is a constant per-channel Mul/Add/Sub/Div
    on a layer's output: a stored floating-point tensor along one axis only (one element only in a scale and
    shift pair, paddle's learnable affine block a·x + b: a lone constant such as HardSwish's x + 3 is none), whose
    other operand comes, through such ops, from a conv, a fully-connected layer or a normalization (torch's or
    written as (x − mean(x)) / …). A preprocessing constant on the input, a scalar or a positional table (more
    than one axis) is none."""
    if len(node.inputs) != 2 or not all(node.inputs):
        return None
    for x, vector in (node.inputs, node.inputs[::-1]):
        if (node.op_type in ("Sub", "Div") and vector == node.inputs[0]) or x in shapes.constants:
            continue
        stored = stored_weight(graph, vector)
        dims = shapes.dims.get(vector)
        if stored is None or dims is None or None in dims or shapes.dtype.get(vector) not in _FLOATING \
                or sum(1 for d in dims if d != 1) > 1:
            continue
        if math.prod(dims) == 1 and not _scalar_affine(graph, shapes, node) \
                and tuple((shapes.dims.get(x) or ())[1:2]) != (1,):  # nor a one-channel map's bias
            continue
        if _from_layer(graph, shapes, x):
            return vector, x
    return None


def _scalar_affine(graph: Graph, shapes: Shapes, node: Node) -> bool:
    """Whether `node` is half of a·x + b with one-element constants: a Mul whose one reader is such an Add, or
    an Add made by such a Mul."""
    def scalar_other(n: Node, tensor: str) -> bool:
        other = [i for i in n.inputs if i != tensor]
        dims = shapes.dims.get(other[0]) if len(other) == 1 else None
        return len(n.inputs) == 2 and dims is not None and None not in dims and other[0] in shapes.constants \
            and math.prod(dims) == 1
    if node.op_type == "Mul":
        reader = graph.readers.get(node.outputs[0])
        return type(reader) is not list and reader is not None and reader.op_type == "Add" \
            and scalar_other(reader, node.outputs[0])
    if node.op_type == "Add":
        made = [graph.producer.get(i) for i in node.inputs]
        return any(m is not None and m.op_type == "Mul" and scalar_other(node, m.outputs[0])
                   and any(scalar_other(m, i) for i in m.inputs) for m in made)
    return False


def _from_layer(graph: Graph, shapes: Shapes, tensor: str) -> bool:
    """Whether `tensor` is a layer's output through ops that keep its channels (activations and gates such as
    a HardSwish written out, the rest of its affine; lookthrough.walk_back_channels) and transposes (ConvNeXt's
    LayerScale multiplies the Linear's output permuted back to channels first)."""
    for _ in range(8):
        node = walk_back_channels(graph.producer.get, shapes.constants, shapes.dims, tensor)
        if node is None:
            return False
        if node.op_type in _LAYERS or node in shapes.windows or node in shapes.matmuls:
            return True
        if node.op_type == "Div":
            return _normalized(graph, node)
        if node.op_type != "Transpose":
            return False
        tensor = node.inputs[0]
    return False


def _normalized(graph: Graph, div: Node) -> bool:
    """Whether a Div is a norm written out: (x − mean(x)) / …"""
    centred = graph.producer.get(div.inputs[0])
    if centred is None or centred.op_type != "Sub" or len(centred.inputs) != 2:
        return False
    mean = graph.producer.get(centred.inputs[1])
    return mean is not None and mean.op_type == "ReduceMean" and mean.inputs[:1] == centred.inputs[:1]


def _group_norm_affine(node: Node, graph: Graph) -> list[str] | None:
    """torch's GroupNorm as exported: Reshape → InstanceNormalization (over the groups, with a constant unit
    scale and zero shift) → Reshape → Mul(γ) → Add(β). The parameters are γ and β, per channel; None when
    the node is not that pattern."""
    before, after = graph.producer.get(node.inputs[0]), graph.readers.get(node.outputs[0]) if node.outputs else None
    if before is None or before.op_type != "Reshape" or after is None or type(after) is list \
            or after.op_type != "Reshape":
        return None
    found = []
    tensor = after.outputs[0]
    for op in ("Mul", "Add"):
        reader = graph.readers.get(tensor)
        if reader is None or type(reader) is list or reader.op_type != op or len(reader.inputs) != 2:
            return None
        other = reader.inputs[1] if reader.inputs[0] == tensor else reader.inputs[0]
        if stored_weight(graph, other) is None:
            return None
        found.append(other)
        tensor = reader.outputs[0]
    return found


_FLOATING = {TensorProto.FLOAT, TensorProto.FLOAT16, TensorProto.BFLOAT16, TensorProto.DOUBLE}
# inputs that hold state, not parameters: BatchNorm's running mean and variance, a recurrent layer's initial state
_STATE_INPUTS = {"BatchNormalization": (3, 4), "LSTM": (5, 6), "GRU": (5,), "RNN": (5,)}


_STATISTICS = {"ReduceMean", "Sub", "Mul", "Pow", "Sqrt", "Add", "Div", "Reshape", "Transpose", "Cast", "Identity"}


def _only_state(graph: Graph, name: str, readers: list, depth: int) -> bool:
    """Whether a tensor only feeds state: a norm's running statistics or a recurrent layer's initial state,
    directly or through the arithmetic that computes them (the TorchScript exporter folds a standardized
    weight into two initializers, one the norm standardizes, one its mean and variance are computed from)."""
    for reader in readers:
        if reader.domain:
            return False
        positions = _STATE_INPUTS.get(reader.op_type)
        if positions is not None:
            if not all(i in positions for i, n in enumerate(reader.inputs) if n == name):
                return False
            continue
        if reader.op_type not in _STATISTICS or depth == 0:
            return False
        for out in reader.outputs:
            found = graph.readers.get(out)
            if found is not None and not _only_state(graph, out, found if type(found) is list else [found],
                                                     depth - 1):
                return False
    return True


def _absent_affine(shapes: Shapes, name: str, position: int) -> bool:
    """Whether a norm's input at `position` is the unit scale (1) or zero shift (2) an exporter writes into a
    norm that has no affine (a standardized weight, torch's GroupNorm before its own γ and β): a constant,
    not a parameter."""
    return position in (1, 2) and set(shapes.floats(name) or ()) == {1.0 if position == 1 else 0.0}


def unplaced_initializers(graph: Graph, shapes: Shapes, placed: set[str],
                          counted: set[str]) -> list[tuple[str, int, int]]:
    """(name, elements, copies) of the floating-point initializers (more than one element) the main graph
    reads outside every counted layer: a learned embedding or scale (ViT's pos_embedding, ConvNeXt's
    layer_scale) or a constant the exporter folded (Swin's relative-position bias). onnxlint cannot tell
    which, so they are named, not counted. `copies`: the Identity nodes an exporter made of one tensor
    for several equal parameters (each a parameter of its own). Most values first."""
    found = []
    for name, (dims, elem, *_) in graph.initializers.items():
        readers = graph.readers.get(name)
        if elem not in _FLOATING or name in placed or readers is None or math.prod(dims) <= 1:
            continue
        readers = readers if type(readers) is list else [readers]
        if _only_state(graph, name, readers, 6) or all(
                r.op_type in NORMS and _absent_affine(shapes, name, r.inputs.index(name))
                or r.op_type in _QUANTIZERS and name not in r.inputs[:1]  # a scale, zero point
                or r.op_type in _RESIZES and name not in r.inputs[:1]  # the scales or sizes of a resize
                or r.op_type in AFFINE_OPS and _preprocessing(graph, shapes, r) for r in readers):
            continue
        copies = sum(1 for r in readers if r.op_type == "Identity" and r.outputs and r.outputs[0] not in counted)
        found.append((name, math.prod(dims), copies))
    return sorted(found, key=lambda item: (-item[1] * (1 + item[2]), item[0]))


_QUANTIZERS = {"QuantizeLinear", "DequantizeLinear", "DynamicQuantizeLinear"}
_RESIZES = {"Resize", "Upsample"}
_LAYOUT = {"Transpose", "Cast", "Identity", "Reshape", "Unsqueeze"}


def _preprocessing(graph: Graph, shapes: Shapes, node: Node) -> bool:
    """Whether an element-wise op with a constant normalizes the model's input (a mean, a standard deviation,
    Keras's Normalization layer): its variable operand comes from a graph input through such ops and layout
    ops alone. Those constants are data statistics, not learned."""
    for _ in range(8):
        variable = [n for n in node.inputs if n and n not in shapes.constants]
        if len(variable) != 1 or node.op_type not in AFFINE_OPS | _LAYOUT:
            return False
        node = graph.producer.get(variable[0])
        if node is None:
            return variable[0] in graph.inputs
    return False
