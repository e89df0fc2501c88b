"""Per-layer cost: parameters, multiply-accumulates, output bytes, receptive field, and the
peak of live activation memory over the execution order (DOMAIN.md §3, §4, §5, §9)."""
from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

from onnxlint.graph import Graph, Node
from onnxlint.loader import tensor_nbytes
from onnxlint.shapes import Shapes, WindowFacts

# Which inputs of a node are trainable parameters (when they are constants).
_PARAM_INPUTS = {"Conv": (1, 2), "ConvTranspose": (1, 2), "Gemm": (0, 1, 2), "MatMul": (0, 1),
                 "BatchNormalization": (1, 2), "InstanceNormalization": (1, 2), "LayerNormalization": (1, 2),
                 "GroupNormalization": (1, 2)}
# Ops after which every output position sees the whole spatial input.
_COLLAPSING = {"Flatten", "Reshape", "Gemm", "MatMul", "GlobalAveragePool", "GlobalMaxPool", "GlobalLpPool"}


@dataclass(frozen=True)
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


@dataclass(slots=True)
class Layer:
    node: Node
    output_shape: tuple | None
    params: int
    param_bytes: int
    macs: int | None  # None when a shape it depends on is unknown
    output_bytes: int | None
    receptive_field: tuple | None
    jump: tuple | None
    window: WindowFacts | None
    conv: ConvSpec | None = None  # a 2-D Conv with every size known, as the rules price it
    measured_ms: float | None = None  # mean kernel time per run, from --profile

    @property
    def name(self) -> str:
        return self.node.name

    @property
    def op_type(self) -> str:
        return self.node.op_type


@dataclass(slots=True)
class Totals:
    nodes: int
    params: int
    param_bytes: int
    macs: int
    peak_activation_bytes: int
    peak_at: str | None
    peak_index: int | None  # position of the peak in the main graph's execution order
    unknown_macs: int  # layers whose MACs could not be computed


def numel(dims) -> int | None:
    return None if dims is None or None in dims else math.prod(dims)


def tensor_bytes(shapes: Shapes, name: str) -> int | None:
    if name not in shapes.nbytes:
        count = numel(shapes.dims.get(name))
        shapes.nbytes[name] = None if count is None else tensor_nbytes(shapes.dtype.get(name, 0), count)
    return shapes.nbytes[name]


def macs(node: Node, window: WindowFacts | None, shapes: Shapes) -> int | None:
    """MACs(Conv) = N·H_out·W_out·k_h·k_w·(C_in/g)·C_out; Gemm/MatMul = M·K·N; bias adds not counted."""
    out = shapes.dims.get(node.outputs[0]) if node.outputs else None
    op = node.op_type
    if window is not None and window.group <= 0:
        return None  # invalid attributes (OL002)
    if op == "Conv" and window is not None:
        if out is None or None in out or window.c_in is None:
            return None
        return math.prod(out) * math.prod(window.kernel) * (window.c_in // window.group)
    if op == "ConvTranspose" and window is not None:
        x = shapes.dims.get(node.inputs[0])
        if x is None or None in x or window.c_out is None:
            return None
        return math.prod(x) * math.prod(window.kernel) * (window.c_out // window.group)
    if op in ("Gemm", "MatMul"):
        a = shapes.dims.get(node.inputs[0])
        if out is None or None in out or not a or a[-1] is None:
            return None
        k = a[0] if op == "Gemm" and node.attrs.get("transA", 0) else a[-1]
        return None if k is None else math.prod(out) * k
    return 0


def compute_costs(graph: Graph, shapes: Shapes) -> tuple[list[Layer], Totals]:
    counted: set[str] = set()
    rf: dict[str, tuple] = {}  # tensor → (receptive field, jump or None once collapsed)
    for name, dims in shapes.input_dims.items():
        if dims is not None and len(dims) >= 3:
            rf[name] = ((1,) * (len(dims) - 2), (1,) * (len(dims) - 2))
    layers = []
    total_params = total_param_bytes = total_macs = unknown = 0
    for node in graph.nodes:
        params = param_bytes = 0
        for i in _PARAM_INPUTS.get(node.op_type, ()):
            if i < len(node.inputs) and node.inputs[i] in shapes.constants and node.inputs[i] not in counted:
                name = node.inputs[i]
                counted.add(name)
                params += numel(shapes.dims.get(name)) or 0
                param_bytes += tensor_bytes(shapes, name) or 0
        window = shapes.windows.get(node)
        layer_macs = macs(node, window, shapes)
        out_bytes = [tensor_bytes(shapes, o) for o in node.outputs if o]
        field_, jump = _receptive_field(node, window, shapes, rf)
        layer = Layer(node, shapes.dims.get(node.outputs[0]) if node.outputs else None, params, param_bytes,
                      layer_macs, None if None in out_bytes else sum(out_bytes), field_, jump, window)
        if node.op_type == "Conv":
            layer.conv = conv_spec(layer)
        layers.append(layer)
        total_params += params
        total_param_bytes += param_bytes
        if layer_macs is None:
            unknown += 1
        else:
            total_macs += layer_macs
    peak, peak_index = peak_activation(graph, shapes)
    main = graph.main_nodes()
    totals = Totals(len(graph.nodes), total_params, total_param_bytes, total_macs, peak,
                    main[peak_index].name if peak_index is not None else None, peak_index, unknown)
    return layers, totals


def _receptive_field(node: Node, window: WindowFacts | None, shapes: Shapes, rf: dict) -> tuple:
    """RF_l = RF_{l−1} + (k_eff − 1)·J_{l−1}, J_l = J_{l−1}·s along the path from the input (§5)."""
    sources = [rf[n] for n in node.inputs if n in rf]
    if not sources or not node.outputs:
        return None, None
    field_, jump = max(sources, key=lambda fj: math.prod(fj[0]))
    x = shapes.dims.get(node.inputs[0]) if node.inputs else None
    if jump is not None and window is not None and len(window.axes) == len(field_):
        if window.kind == "transpose":
            field_ = tuple(f + (-(-a.k_eff // a.stride) - 1) * j for f, a, j in zip(field_, window.axes, jump))
            jump = tuple(Fraction(j) / a.stride for a, j in zip(window.axes, jump))
        else:
            field_ = tuple(f + (a.k_eff - 1) * j for f, a, j in zip(field_, window.axes, jump))
            jump = tuple(j * a.stride for a, j in zip(window.axes, jump))
        field_ = tuple(int(f) for f in field_)
    elif jump is not None and x is not None and node.op_type in _COLLAPSING:
        out = shapes.dims.get(node.outputs[0])
        k = len(field_)
        if out is None or len(out) < k or tuple(out[-k:]) != tuple(x[-k:]):
            sizes = x[-k:]
            if None in sizes:
                return None, None
            field_ = tuple(int(f + (i - 1) * j) for f, i, j in zip(field_, sizes, jump))
            jump = None
    for out in node.outputs:
        if out:
            rf[out] = (field_, jump)
    return field_, jump


def last_uses(graph: Graph) -> dict[str, int]:
    main = graph.main_nodes()
    index = {id(n): i for i, n in enumerate(main)}
    return {name: max(index[id(n)] for n in users) for name, users in graph.consumers.items()}


def liveness(graph: Graph, shapes: Shapes):
    """Walk the main graph in execution order; after each node allocates its outputs, yield
    (index, node, live tensors → bytes, live bytes). Inputs count, weights do not; a tensor is
    freed after its last consumer, graph outputs never; unknown sizes count 0."""
    last = last_uses(graph)
    keep = set(graph.outputs)
    live = {name: tensor_bytes(shapes, name) or 0 for name in shapes.input_dims}
    current = sum(live.values())
    for index, node in enumerate(graph.main_nodes()):
        for out in node.outputs:
            if out and out not in shapes.constants and out not in live:
                live[out] = tensor_bytes(shapes, out) or 0
                current += live[out]
        yield index, node, live, current
        for name in node.inputs + node.outputs:
            if name in live and name not in keep and last.get(name, -1) <= index:
                current -= live.pop(name)


def peak_activation(graph: Graph, shapes: Shapes) -> tuple[int, int | None]:
    """Peak bytes of live activations and the index of the node where it occurs (DOMAIN.md §9)."""
    peak, peak_index = 0, None
    for index, _node, _live, current in liveness(graph, shapes):
        if current > peak:
            peak, peak_index = current, index
    return peak, peak_index


def replacement_cost(specs, batch: int = 1) -> tuple[int, int]:
    return sum(s.params for s in specs), sum(s.macs(batch) for s in specs)


def conv_spec(layer: Layer) -> ConvSpec | None:
    """The layer itself as a ConvSpec (2-D Conv with known shapes), or None."""
    w, out = layer.window, layer.output_shape
    if (layer.op_type != "Conv" or w is None or len(w.axes) != 2 or out is None or None in out
            or w.c_in is None or w.c_out is None or w.group <= 0 or any(a.size is None for a in w.axes)):
        return None
    stride = w.strides[0] if len(set(w.strides)) == 1 else 0
    return ConvSpec(tuple(w.kernel), w.c_in, w.c_out, tuple(out[2:]), w.group, stride, w.has_bias)
