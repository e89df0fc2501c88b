"""Per-layer cost: parameters, multiply-accumulates, output bytes, receptive field, and the
peak of live activation memory over the execution order (DOMAIN.md §3, §4, §5, §9)."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from onnxlint.graph import Graph, Node
from onnxlint.loader import tensor_nbytes
from onnxlint.proto import TensorProto
from onnxlint.shapes import Shapes, WindowFacts
from onnxlint.shapes.windows import weight_and_bias

# Normalization layers whose scale and bias (inputs 1, 2) are trainable parameters.
_NORMS = {"BatchNormalization", "InstanceNormalization", "LayerNormalization", "GroupNormalization"}
# Ops through which a stored weight reaches its layer with the same element count (QDQ graphs, exporters).
# (a QuantizeLinear too: a dequantized weight quantized again is the one stored weight, requantized)
_WEIGHT_PLUMBING = {"Identity", "Reshape", "Transpose", "Cast", "QuantizeLinear", "DequantizeLinear", "Squeeze",
                    "Unsqueeze", "Flatten"}
# Ops after which every output position sees the whole spatial input.
_COLLAPSING = {"GlobalAveragePool", "GlobalMaxPool", "GlobalLpPool", "QLinearGlobalAveragePool", "Flatten"}
_RNN_GATES = {"LSTM": 4, "GRU": 3, "RNN": 1}
# com.microsoft ops (onnxruntime's optimizer and quantizer) that carry no multiply-accumulates of their own
_MS_NO_MACS = set("Gelu FastGelu BiasGelu QuickGelu QLinearAdd QLinearMul QLinearSigmoid QLinearLeakyRelu "
                  "QLinearSoftmax QLinearConcat QLinearAveragePool QLinearGlobalAveragePool QLinearReduceMean "
                  "SkipLayerNormalization SimplifiedLayerNormalization BiasAdd QuantizeLinear DequantizeLinear "
                  "NhwcMaxPool".split())
_COMPUTE_OPS = {"Conv", "ConvInteger", "QLinearConv", "ConvTranspose", "Gemm", "MatMul", "MatMulInteger",
                "QLinearMatMul", "Einsum", *_RNN_GATES}
_PRICED = _COMPUTE_OPS | _NORMS | {"Add"}  # the default-domain ops that may have parameters (a MatMul's bias) or MACs


@dataclass(frozen=True, slots=True)
class ConvSpec:
    """One convolution of a suggested replacement: enough to count it and to build it (--what-if)."""
    kernel: tuple[int, int]
    c_in: int
    c_out: int
    out_size: tuple  # spatial output extent
    group: int = 1
    stride: int = 1
    bias: bool = True

    @property
    def params(self) -> int:
        return math.prod(self.kernel) * (self.c_in // self.group) * self.c_out + (self.c_out if self.bias else 0)

    def macs(self, batch: int = 1) -> int:
        return batch * math.prod(self.out_size) * math.prod(self.kernel) * (self.c_in // self.group) * self.c_out


Layer = Node  # the rules' and the report's name for a node, once its costs are filled in


@dataclass(slots=True)
class Totals:
    nodes: int
    params: int
    param_bytes: int
    macs: int  # of the layers whose MACs are known (all of them when `complete`)
    peak_activation_bytes: int  # a lower bound when some activation's size is unknown
    peak_at: str | None
    peak_index: int | None  # position of the peak in the main graph's execution order
    unknown_layers: list = field(default_factory=list)  # (node, op, why) of each layer whose MACs are unknown
    unknown_tensors: int = 0  # activations of unknown size (the peak is then a lower bound)
    inputs_unknown: bool = False  # a model input's size is unknown
    timeline: list = field(default_factory=list, repr=False)  # live activation bytes at each main-graph step
    peak_live: list = field(default_factory=list, repr=False)  # (tensor, bytes) live at the peak, largest first
    bounds: Any = None  # worstcase.Bounds: the totals at the bound of every size the data decides
    unplaced: list = field(default_factory=list)  # (initializer, elements, copies) outside every counted layer

    @property
    def macs_complete(self) -> bool:
        return not self.unknown_layers

    # The worst case (worstcase.Bounds), the same whether or not some size needed a bound:
    @property
    def macs_upper(self) -> int | None:
        """At most this many MACs (the exact count when macs_complete); None when some layer has no bound."""
        return self.bounds.macs if self.bounds is not None else self.macs if self.macs_complete else None

    @property
    def peak_upper(self) -> int | None:
        b = self.bounds
        return b.peak if b is not None else None if self.unknown_tensors else self.peak_activation_bytes

    @property
    def unbounded_layers(self) -> list:
        """(node, op, why) of the layers whose MACs have neither an exact count nor a bound."""
        return self.bounds.unknown_layers if self.bounds is not None else self.unknown_layers

    @property
    def unbounded_tensors(self) -> int:
        return self.bounds.unknown_tensors if self.bounds is not None else self.unknown_tensors

    @property
    def complete(self) -> bool:
        """Every layer counted and every activation's size known, exactly or (`bounds`) at most: no figure
        is a mere lower bound."""
        return not self.unbounded_layers and not self.unbounded_tensors


def numel(dims) -> int | None:
    return None if dims is None or None in dims else math.prod(dims)


def tensor_bytes(shapes: Shapes, name: str) -> int | None:
    return _nbytes(shapes.dims.get(name), shapes.dtype.get(name, 0))


def _nbytes(dims: tuple | None, elem_type: int) -> int | None:
    return None if dims is None or None in dims else tensor_nbytes(elem_type, math.prod(dims))


def macs(node: Node, shapes: Shapes, window: WindowFacts | None = None) -> tuple[int | None, str | None]:
    """(MACs, None), or (None, why) when they cannot be known. Conv: N·H_out·W_out·k_h·k_w·(C_in/g)·C_out;
    ConvTranspose: N·H_in·W_in·k_h·k_w·(C_out/g)·C_in; Gemm/MatMul: output elements × K; Einsum: the product
    of every index's size; LSTM/GRU/RNN: seq·batch·directions·gates·hidden·(input + hidden). Bias adds,
    pooling and element-wise ops are not counted (the torchvision/fvcore convention)."""
    if node in shapes.problems:
        return None, "its input shapes contradict each other"
    out = shapes.dims.get(node.outputs[0]) if node.outputs and node.outputs[0] else None
    window = window or shapes.windows.get(node)
    if window is not None:
        if window.kind == "pool":
            return 0, None
        if not window.valid:
            return None, "invalid window attributes"
        if window.kind == "conv":
            if out is None or None in out or window.c_in is None:
                return None, "output shape unknown"
            return math.prod(out) * math.prod(window.kernel) * (window.c_in // window.group), None
        x = numel(shapes.dims.get(node.inputs[0]))
        if x is None or window.c_out is None:
            return None, "input shape unknown"
        return x * math.prod(window.kernel) * (window.c_out // window.group), None
    operands = shapes.matmuls.get(node)
    if operands is not None:
        if numel(out) is None or operands.k is None:
            return None, "shape unknown"
        return numel(out) * operands.k, None
    if node.op_type == "Einsum":
        return _einsum_macs(node, shapes)
    if node.op_type in _RNN_GATES and node.domain in ("", "ai.onnx"):
        return _rnn_macs(node, shapes)
    if node.domain not in ("", "ai.onnx"):
        return (0, None) if node.domain == "com.microsoft" and node.op_type in _MS_NO_MACS else (
            None, f"custom op {node.domain}.{node.op_type}: no cost model")
    if node.op_type in _COMPUTE_OPS:
        return None, "shape unknown"
    return 0, None


def _einsum_macs(node: Node, shapes: Shapes) -> tuple[int | None, str | None]:
    equation = node.attrs.get("equation", b"")
    equation = (equation.decode() if isinstance(equation, bytes) else str(equation)).replace(" ", "")
    terms = equation.split("->")[0].split(",")
    if len(terms) < 2:
        return 0, None  # a transposition or reduction of one operand
    sizes: dict[str, int] = {}
    for term, name in zip(terms, node.inputs):
        dims = shapes.dims.get(name)
        if "." in term or dims is None or None in dims or len(dims) != len(term):
            return None, "shape unknown"
        sizes.update(zip(term, dims))
    return math.prod(sizes.values()), None


def _rnn_macs(node: Node, shapes: Shapes) -> tuple[int | None, str | None]:
    x, w = shapes.dims.get(node.inputs[0]), shapes.dims.get(node.inputs[1])
    if x is None or w is None or None in x or None in w or len(x) != 3 or len(w) != 3:
        return None, "shape unknown"
    seq, batch = (x[1], x[0]) if node.attrs.get("layout", 0) else (x[0], x[1])
    gates = _RNN_GATES[node.op_type]
    hidden = int(node.attrs.get("hidden_size", w[1] // gates))
    return seq * batch * w[0] * gates * hidden * (x[2] + hidden), None


def runs_of(node: Node, shapes: Shapes, most: bool = False) -> tuple[int | None, tuple | None]:
    """How many times a subgraph node runs per model run (None: unknown), and (If, branch) when it runs only
    if the condition of an If, unknown here, picks its branch. `most`: at most how many times (a Loop's
    condition can only end it before its trip count)."""
    runs, branch, child, parent = 1, None, node, node.parent
    while parent is not None:
        if parent.op_type == "If":
            if branch is None and not shapes.known(parent.inputs[0]):
                branch = (parent, child.branch)
        elif parent.op_type == "Loop":
            trips = shapes.ints(parent.inputs[0]) if parent.inputs and parent.inputs[0] else None
            condition = parent.inputs[1] if len(parent.inputs) > 1 else ""
            if not trips or (condition and not most and not shapes.known(condition)):
                return None, None
            runs *= trips[0]
        elif parent.op_type == "Scan":
            scanned = int(parent.attrs.get("num_scan_inputs", 1))
            axes = parent.attrs.get("scan_input_axes") or [0]
            dims = shapes.dims.get(parent.inputs[-scanned]) if len(parent.inputs) >= scanned else None
            if dims is None or not -len(dims) <= axes[0] < len(dims) or dims[axes[0]] is None:
                return None, None
            runs *= dims[axes[0]]
        else:
            return None, None
        child, parent = parent, parent.parent
    return runs, branch


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
        if producer.op_type not in _WEIGHT_PLUMBING or not producer.inputs:
            return None
        tensor = producer.inputs[0]
    return None


# a weight computed in the graph (weight standardization, weight norm g·v/‖v‖, a reparametrisation): the ops
# its learnable tensors flow through, and which inputs carry them; reductions (the weight's own statistics:
# mean, variance, norm) end the walk, so a weight is not counted again through them
_DATA_INPUT = _WEIGHT_PLUMBING | {"Expand"}
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
        elif producer.op_type in _NORMS:
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
    if node.op_type in _NORMS:  # a norm over a constant standardizes a weight: counted through that weight
        if not node.inputs or node.inputs[0] in shapes.constants:
            return []
        affine = _group_norm_affine(node, graph) if node.op_type == "InstanceNormalization" else None
        return affine if affine is not None else [n for n in node.inputs[1:3] if n]
    if node.op_type in _RNN_GATES:  # W, R, B and an LSTM's peepholes P (not the sequence lengths or states)
        return [n for i, n in enumerate(node.inputs) if n and i in (1, 2, 3, 7)]
    if node.op_type == "Add" and len(node.inputs) == 2:  # a Linear on N-D input: MatMul, then its bias added
        for x, bias in (node.inputs, node.inputs[::-1]):
            producer = graph.producer.get(x)
            if producer is not None and producer in shapes.matmuls and stored_weight(graph, bias) is not None \
                    and len(shapes.dims.get(bias) or ()) == 1:
                return [bias]
    return []


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


def compute_costs(graph: Graph, shapes: Shapes) -> tuple[list[Layer], Totals]:
    counted: set[str] = set()
    placed: set[str] = set()  # the initializers counted as some layer's parameters
    rf: dict[str, tuple] = {}  # tensor → (receptive field, jump or None once collapsed, spatial sizes)
    for name, dims in shapes.input_dims.items():
        if dims is not None and len(dims) >= 3:
            rf[name] = ((1,) * (len(dims) - 2), (1,) * (len(dims) - 2), tuple(dims[2:]))
    layers = []
    total_params = total_param_bytes = total_macs = 0
    unknown_layers = []
    branches: dict = {}  # If with an unknown condition → MACs of each branch
    dims, dtype, windows, matmuls, dead = shapes.dims, shapes.dtype, shapes.windows, shapes.matmuls, shapes.dead
    problems, known, pending = shapes.problems, shapes.values, shapes.pending
    sizes: dict[str, int | None] = {}  # output bytes, for the memory walk
    nbytes: dict[tuple, int | None] = {}  # (dims, data type) → bytes: most layers repeat a few shapes
    by_window: dict[tuple, tuple] = {}  # (WindowFacts, output dims) → (MACs, why unknown, ConvSpec)
    for node in graph.nodes:
        if node in dead:
            continue
        window = windows.get(node)
        outputs, inputs = node.outputs, node.inputs
        out = dims.get(outputs[0]) if outputs and outputs[0] else None
        node.output_shape = out
        conv = None
        if window is None and node.op_type not in _PRICED and node.domain in ("", "ai.onnx") \
                and node not in matmuls and node not in problems:
            params = param_bytes = layer_macs = 0  # an element-wise or shape op: nothing to count
            why = None
        else:
            params = param_bytes = 0
            for name in parameter_inputs(node, graph, shapes, window):
                # one count per tensor a layer reads (a tied weight is read under one name; the copies an
                # exporter deduplicates into Identity nodes are distinct parameters), priced at the stored dtype;
                # a weight computed from several initializers counts each of them once
                if name in counted:
                    continue
                stored = stored_weight(graph, name)
                sources = [stored] if stored is not None else [
                    n for n in computed_weight_sources(graph, shapes, name) if n not in counted]
                if stored is None:
                    counted.update(sources)  # an initializer a computed weight reads counts once
                if sources:
                    counted.add(name)
                    placed.update(sources)
                for stored in sources:
                    count_ = numel(dims.get(stored))
                    if count_ is not None:
                        params += count_
                        param_bytes += tensor_nbytes(dtype.get(stored, 0), count_) or 0
            if window is not None and node not in problems:
                # convs share one WindowFacts per input shape, weight shape and attributes (other windowed ops
                # have one each): with the same output, the same counts
                key = (window, out)
                found = by_window.get(key)
                if found is None:
                    found = by_window[key] = (*macs(node, shapes, window), conv_spec(node, window))
                layer_macs, why, conv = found
            else:
                layer_macs, why = macs(node, shapes, window)
        if len(outputs) == 1 and outputs[0]:
            typed = (out, dtype.get(outputs[0], 0))
            out_bytes = nbytes.get(typed, _UNSEEN)
            if out_bytes is _UNSEEN:
                out_bytes = nbytes[typed] = _nbytes(*typed)
            sizes[outputs[0]] = out_bytes
        else:
            out_bytes = _sum_known([tensor_bytes(shapes, o) for o in outputs if o])
        source = rf.get(inputs[0]) if window is None and len(inputs) == 1 and len(outputs) == 1 else None
        if source is not None and out is not None and out[2:] == source[2] and len(out) == len(source[0]) + 2 \
                and node.op_type not in _COLLAPSING and inputs[0] not in known and inputs[0] not in pending \
                and outputs[0] not in known and outputs[0] not in pending:
            rf[outputs[0]] = source  # a map-preserving op (activation, norm...): the field passes through
            field_, jump = source[0], source[1]
        else:
            field_, jump = _receptive_field(node, window, shapes, rf)
        node.params, node.param_bytes, node.macs, node.output_bytes = params, param_bytes, layer_macs, out_bytes
        node.output_types = tuple((dims.get(o), dtype.get(o, 0)) for o in outputs)
        node.receptive_field, node.jump, node.window, node.conv = field_, jump, window, conv
        layers.append(node)
        total_params += params
        total_param_bytes += param_bytes
        if node.parent is None:
            runs, branch = 1, None
        else:
            runs, branch = runs_of(node, shapes)
        if layer_macs is None:
            unknown_layers.append((node.name, op_label(node), why))
        elif runs is None:
            if layer_macs:  # no MACs, however many times it runs: nothing unknown
                unknown_layers.append((node.name, op_label(node), "runs inside a loop whose trip count is unknown"))
        elif branch is not None:
            branches.setdefault(branch[0], {"then_branch": 0, "else_branch": 0})[branch[1]] += layer_macs * runs
        else:
            total_macs += layer_macs * runs
    for if_node, cost in branches.items():  # an If whose condition is unknown: exact only if both cost the same
        if cost["then_branch"] == cost["else_branch"]:
            total_macs += cost["then_branch"]
        else:
            unknown_layers.append((if_node.name, "If", f"condition unknown: its branches cost "
                                   f"{cost['then_branch']:,} or {cost['else_branch']:,} MACs"))
    memory = peak_activation(graph, shapes, sizes)
    totals = Totals(len(graph.nodes), total_params, total_param_bytes, total_macs, memory.peak,
                    memory.peak_node.name if memory.peak_node is not None else None, memory.peak_index,
                    unknown_layers, memory.unknown,
                    any(tensor_bytes(shapes, name) is None for name in shapes.input_dims), memory.timeline,
                    memory.peak_live, unplaced=unplaced_initializers(graph, shapes, placed, counted))
    return layers, totals


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
                r.op_type in _NORMS and _absent_affine(shapes, name, r.inputs.index(name))
                or r.op_type in _QUANTIZERS and name not in r.inputs[:1] for r in readers):  # a scale, zero point
            continue
        copies = sum(1 for r in readers if r.op_type == "Identity" and r.outputs and r.outputs[0] not in counted)
        found.append((name, math.prod(dims), copies))
    return sorted(found, key=lambda item: (-item[1] * (1 + item[2]), item[0]))


_QUANTIZERS = {"QuantizeLinear", "DequantizeLinear", "DynamicQuantizeLinear"}
_UNSEEN = object()


def _sum_known(sizes: list) -> int | None:
    return None if None in sizes else sum(sizes)


def op_label(node: Node) -> str:
    return node.op_type if node.domain in ("", "ai.onnx") else f"{node.domain}.{node.op_type}"


def _receptive_field(node: Node, window: WindowFacts | None, shapes: Shapes, rf: dict) -> tuple:
    """RF_l = RF_{l−1} + (k_eff − 1)·J_{l−1}, J_l = J_{l−1}·s along the path from the input (§5). Between
    windows, an op that resizes the map (Resize, space-to-depth...) scales the jump by the size ratio; one
    that changes the rank carries it to where the rank comes back; a global pool or flatten collapses it."""
    # only data flows carry a receptive field: shape arithmetic (tensors with a known value) does not
    known, pending, outputs = shapes.values, shapes.pending, node.outputs
    sources = [rf[n] for n in node.inputs if n in rf and n not in known and n not in pending]
    if not sources or not outputs or outputs[0] in known or outputs[0] in pending:
        return None, None
    field_, jump, sizes = sources[0] if len(sources) == 1 else max(sources, key=lambda s: math.prod(s[0]))
    k = len(field_)
    out = shapes.dims.get(outputs[0])
    spatial = tuple(out[2:]) if out is not None and len(out) == k + 2 and None not in out[2:] else None
    if jump is not None and window is not None and window.valid and len(window.axes) == k:
        axes = window.axes
        if window.kind == "transpose":
            field_ = tuple([int(f + (-(-a.k_eff // a.stride) - 1) * j) for f, a, j in zip(field_, axes, jump)])
            jump = tuple([Fraction(j) / a.stride for a, j in zip(axes, jump)])
        else:
            field_ = tuple([int(f + (a.k_eff - 1) * j) for f, a, j in zip(field_, axes, jump)])
            jump = tuple([j * s for j, s in zip(jump, window.strides)])
        sizes = spatial
    elif jump is not None and (node.op_type in _COLLAPSING or (out is not None and len(out) <= 2)):
        if sizes is None or None in sizes:
            return None, None
        field_ = tuple(int(f + (i - 1) * j) for f, i, j in zip(field_, sizes, jump))
        jump = None
    elif jump is not None and spatial is not None and sizes is not None and spatial != sizes and 0 not in spatial:
        jump = tuple(Fraction(j) * i / o for j, i, o in zip(jump, sizes, spatial))
        sizes = spatial
    for name in node.outputs:
        if name:
            rf[name] = (field_, jump, sizes)
    return field_, jump


@dataclass(slots=True)
class Memory:
    """Live activation memory over the main graph's execution order (DOMAIN.md §9)."""
    peak: int
    peak_index: int | None  # the step where it peaks
    peak_node: Node | None
    unknown: int  # activations of unknown size (then every figure is a lower bound)
    timeline: list[int]  # live bytes after each step allocates its outputs
    peak_live: list[tuple[str, int]]  # the tensors live at the peak, largest first


def peak_activation(graph: Graph, shapes: Shapes, sizes: dict | None = None) -> Memory:
    """Walk the main graph in execution order: each node allocates its outputs, and a tensor is freed after
    its last consumer has run (DOMAIN.md §9). Inputs count, weights and other constants do not; graph
    outputs, and inputs no node reads, are never freed. One walk gives the peak, where it is and the whole
    timeline; a second, up to the peak, what is live there. `sizes`: output bytes already computed."""
    last, keep, constants = graph.last_use, set(graph.outputs), shapes.constants
    sizes = sizes or {}

    def size_of(out: str) -> int | None:
        return sizes[out] if out in sizes else tensor_bytes(shapes, out)

    freed: dict[int, int] = {}  # step → bytes freed after it
    current = unknown = 0
    for name in shapes.input_dims:
        size = tensor_bytes(shapes, name)
        unknown += size is None
        current += size or 0
        if name not in keep and name in last:
            freed[last[name]] = freed.get(last[name], 0) + (size or 0)
    peak, peak_index, peak_node, timeline = 0, None, None, []
    main = [node for node in graph.nodes if node.parent is None]  # a subgraph's tensors live in its owner's step
    for index, node in enumerate(main):
        for out in node.outputs:
            if out and out not in constants:
                size = size_of(out)
                if size is None:
                    unknown += 1
                    continue
                current += size
                if out not in keep:  # freed after its last reader (after its own step when nothing reads it)
                    end = max(last.get(out, index), index)
                    freed[end] = freed.get(end, 0) + size
        timeline.append(current)
        if current > peak:
            peak, peak_index, peak_node = current, index, node
        current -= freed.pop(index, 0)
    at_peak = []
    if peak_index is not None:  # alive at the peak: made at or before it, last read at or after it
        for name in shapes.input_dims:
            if name in keep or name not in last or last[name] >= peak_index:
                at_peak.append((name, tensor_bytes(shapes, name) or 0))
        for index, node in enumerate(main[:peak_index + 1]):
            for out in node.outputs:
                if out and out not in constants and (out in keep or max(last.get(out, index), index) >= peak_index):
                    at_peak.append((out, size_of(out) or 0))
        at_peak.sort(key=lambda item: (-item[1], item[0]))
    return Memory(peak, peak_index, peak_node, unknown, timeline, at_peak)


def replacement_cost(specs, batch: int = 1) -> tuple[int, int]:
    return sum(s.params for s in specs), sum(s.macs(batch) for s in specs)


def conv_spec(layer: Layer, w: WindowFacts) -> ConvSpec | None:
    """The layer (its WindowFacts `w`) as a ConvSpec (2-D Conv with known shapes), or None; one ConvSpec
    (immutable) for every layer with the same numbers."""
    out = layer.output_shape
    if (layer.op != "Conv" or w is None or len(w.axes) != 2 or out is None or None in out
            or w.c_in is None or w.c_out is None or w.group <= 0 or w.axes[0].size is None or w.axes[1].size is None):
        return None
    key = (w.kernel, w.c_in, w.c_out, out, w.group, w.strides, w.has_bias)
    found = _SPECS.get(key)
    if found is None:
        if len(_SPECS) >= 4096:  # a long-lived process linting many models: stay bounded
            _SPECS.clear()
        stride = w.strides[0] if len(set(w.strides)) == 1 else 0
        found = _SPECS[key] = ConvSpec(tuple(w.kernel), w.c_in, w.c_out, tuple(out[2:]), w.group, stride, w.has_bias)
    return found


_SPECS: dict = {}
