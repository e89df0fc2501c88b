"""The cost stage: per layer its parameters (placed by params.py), multiply-accumulates, output bytes and
receptive field, and the totals with the peak of live activation memory (memory.py) (DOMAIN.md §3-§5, §9)."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction
from operator import attrgetter
from typing import Any

from onnxlint.graph import MAIN, Graph, Node
from onnxlint.memory import dims_nbytes, peak_activation, tensor_bytes
from onnxlint.params import AFFINE_OPS, NORMS, RNN_GATES, Placement
from onnxlint.shapes import Shapes, WindowFacts

# Ops after which every output position sees the whole spatial input.
_COLLAPSING = {"GlobalAveragePool", "GlobalMaxPool", "GlobalLpPool", "QLinearGlobalAveragePool", "Flatten"}
# com.microsoft ops (onnxruntime's optimizer and quantizer) that carry no multiply-accumulates of their own
_MS_NO_MACS = set("Gelu FastGelu BiasGelu QuickGelu QLinearAdd QLinearMul QLinearSigmoid QLinearLeakyRelu "
                  "QLinearSoftmax QLinearConcat QLinearAveragePool QLinearGlobalAveragePool QLinearReduceMean "
                  "SkipLayerNormalization SimplifiedLayerNormalization BiasAdd QuantizeLinear DequantizeLinear "
                  "NhwcMaxPool".split())
_COMPUTE_OPS = {"Conv", "ConvInteger", "QLinearConv", "ConvTranspose", "Gemm", "MatMul", "MatMulInteger",
                "QLinearMatMul", "Einsum", *RNN_GATES}
# the default-domain ops that may have parameters (a bias, an affine) or MACs
_PRICED = _COMPUTE_OPS | NORMS | AFFINE_OPS


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


@dataclass(slots=True, eq=False)
class Layer:
    """A node and its costs: what the cost stage hands on, the record the rules read and the report keeps.
    The node's own facts (name, op_type, inputs, module path...) read through from `node`."""
    node: Node
    output_shape: tuple | None
    params: int
    param_bytes: int
    macs: int | None  # None when a shape it depends on is unknown
    output_bytes: int | None
    output_types: tuple  # per output: (dims or None, ONNX element type), in the node's output order
    receptive_field: tuple | None
    jump: tuple | None  # the distance between neighbouring outputs' fields, in input pixels
    window: Any  # shapes.WindowFacts of a conv or pool
    conv: ConvSpec | None  # a 2-D Conv with every size known, as the rules price it
    measured_ms: float | None = None  # mean kernel time per run, from --profile
    # its outputs do not depend on the input's values (weights, constants, shape arithmetic): no activation
    constant: bool = False


for _fact in ("name", "op_type", "domain", "inputs", "outputs", "attrs", "location", "index", "parent", "branch",
              "function", "op", "origin", "label", "scope", "path"):
    setattr(Layer, _fact, property(attrgetter(f"node.{_fact}")))


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
    peak_label: str | None = None  # the peak's node as a person names it: its module path, else its name

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
    if node.op_type in RNN_GATES and node.domain in ("", "ai.onnx"):
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
    gates = RNN_GATES[node.op_type]
    hidden = node.attrs.get("hidden_size", w[1] // gates)
    if type(hidden) is not int or hidden <= 0:  # an attribute of another type, or no size (the schema's, OL006)
        return None, "hidden_size unknown"
    return seq * batch * w[0] * gates * hidden * (x[2] + hidden), None


def runs_of(node: Node, shapes: Shapes, most: bool = False) -> tuple[int | None, tuple | None]:
    """How many times a subgraph node runs per model run (None: unknown), and (If, branch) when it runs only
    if the condition of an If, unknown here, picks its branch. `most`: at most how many times (a Loop's
    condition can only end it before its trip count)."""
    runs, branch, child, parent = 1, None, node, node.parent
    while parent is not None:
        if parent.op_type == "If":
            if child.branch not in ("then_branch", "else_branch") or not parent.inputs:
                return None, None  # a body an If does not have: its schema's (OL006)
            if branch is None and not shapes.known(parent.inputs[0]):
                branch = (parent, child.branch)
        elif parent.op_type == "Loop":
            trips = shapes.ints(parent.inputs[0]) if parent.inputs and parent.inputs[0] else None
            condition = parent.inputs[1] if len(parent.inputs) > 1 else ""
            if not trips or (condition and not most and not shapes.known(condition)):
                return None, None
            runs *= trips[0]
        elif parent.op_type == "Scan":
            scanned = parent.attrs.get("num_scan_inputs", 1)
            axes = parent.attrs.get("scan_input_axes") or (0,)
            if type(scanned) is not int or not 1 <= scanned <= len(parent.inputs) or not isinstance(axes, tuple) \
                    or type(axes[0]) is not int:
                return None, None  # attributes of the wrong type or range: the schema check says so (OL006)
            dims = shapes.dims.get(parent.inputs[-scanned])
            if dims is None or not -len(dims) <= axes[0] < len(dims) or dims[axes[0]] is None:
                return None, None
            runs *= dims[axes[0]]
        else:
            return None, None
        child, parent = parent, parent.parent
    return runs, branch


def compute_costs(graph: Graph, shapes: Shapes, node_ms: dict[str, float] | None = None) -> tuple[list[Layer], Totals]:
    """Every live node's Layer, in execution order, and the Totals. `node_ms`: --profile's time per main-graph
    node, by the name in the file."""
    placement = Placement(graph, shapes)
    rf: dict[str, tuple] = {}  # tensor → (receptive field, jump or None once collapsed, spatial sizes)
    for name, dims in shapes.input_dims.items():
        if dims is not None and len(dims) >= 3:
            rf[name] = ((1,) * (len(dims) - 2), (1,) * (len(dims) - 2), tuple(dims[2:]))
    layers = []
    total_params = total_param_bytes = total_macs = 0
    unknown_layers = []
    branches: dict = {}  # If with an unknown condition → MACs of each branch
    dims, dtype, windows, matmuls, dead = shapes.dims, shapes.dtype, shapes.windows, shapes.matmuls, shapes.dead
    problems, known, pending, constants = shapes.problems, shapes.values, shapes.pending, shapes.constants
    sizes: dict[str, int | None] = {}  # output bytes, for the memory walk
    nbytes: dict[tuple, int | None] = {}  # (dims, data type) → bytes: most layers repeat a few shapes
    by_window: dict[tuple, tuple] = {}  # (WindowFacts, output dims) → (MACs, why unknown, ConvSpec)
    for node in graph.nodes:
        if node in dead:
            continue
        window = windows.get(node)
        outputs, inputs = node.outputs, node.inputs
        out = dims.get(outputs[0]) if outputs and outputs[0] else None
        conv = None
        if window is None and node.op_type not in _PRICED and node.domain in ("", "ai.onnx") \
                and node not in matmuls and node not in problems:
            params = param_bytes = layer_macs = 0  # an element-wise or shape op: nothing to count
            why = None
        else:
            params, param_bytes = placement.count(node, window)
            if window is not None and node not in problems:
                # convs share one WindowFacts per input shape, weight shape and attributes (other windowed ops
                # have one each): with the same output, the same counts
                key = (window, out)
                found = by_window.get(key)
                if found is None:
                    found = by_window[key] = (*macs(node, shapes, window), conv_spec(node, window, out))
                layer_macs, why, conv = found
            else:
                layer_macs, why = macs(node, shapes, window)
        if len(outputs) == 1 and outputs[0]:
            typed = (out, dtype.get(outputs[0], 0))
            out_bytes = nbytes.get(typed, _UNSEEN)
            if out_bytes is _UNSEEN:
                out_bytes = nbytes[typed] = dims_nbytes(*typed)
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
        layers.append(Layer(node, out, params, param_bytes, layer_macs, out_bytes,
                            tuple((dims.get(o), dtype.get(o, 0)) for o in outputs), field_, jump, window, conv,
                            node_ms.get(graph.proto(node).name or "") if node_ms and node.location == MAIN
                            and node.function is None else None,
                            bool(outputs) and all(not o or o in constants or o in known or o in pending
                                                  for o in outputs)))
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
                    memory.peak_live, unplaced=placement.unplaced(),
                    peak_label=memory.peak_node.label if memory.peak_node is not None else None)
    return layers, totals


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
    if window is not None and window.valid and len(window.axes) != k:
        return None, None  # the input's axes do not map onto this window's (a 3-D image batched later): unknown
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
    elif jump is not None and spatial is not None and sizes != spatial and 0 not in spatial:
        if sizes is None or None in sizes:
            return None, None  # resized from a size not known: the scale, and so the field, is unknown
        jump = tuple(Fraction(j) * i / o for j, i, o in zip(jump, sizes, spatial))
        sizes = spatial
    for name in node.outputs:
        if name:
            rf[name] = (field_, jump, sizes)
    return field_, jump


def replacement_cost(specs, batch: int = 1) -> tuple[int, int]:
    return sum(s.params for s in specs), sum(s.macs(batch) for s in specs)


def conv_spec(node: Node, w: WindowFacts, out: tuple | None) -> ConvSpec | None:
    """The node (its WindowFacts `w`, its output dims `out`) as a ConvSpec (2-D Conv with known shapes), or None;
    one ConvSpec (immutable) for every layer with the same numbers."""
    if (node.op != "Conv" or w is None or len(w.axes) != 2 or out is None or None in out
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
