"""Shape inference: exact window arithmetic for the ops the rules reason about, onnx's own
inference (with data propagation) for everything else.

Dims are ints; an unknown dim is None; an unknown rank is a None shape. onnx.shape_inference
runs at most once per model, lazily, only when a node is not covered here, on a copy whose
large initializers carry dims but no data (shapes are identical, and it is far cheaper).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import onnx
from onnx import numpy_helper

from onnxlint.graph import Graph, Node, TensorType
from onnxlint.loader import display_name

INT64 = onnx.TensorProto.INT64
_SMALL_CONSTANT = 64  # elements: integer constants up to this size are read (shape arithmetic)


@dataclass(slots=True)
class AxisWindow:
    """One spatial axis of a sliding-window op (DOMAIN.md §1-2)."""
    size: int | None  # I: the input extent
    kernel: int
    stride: int
    dilation: int
    pad_begin: int
    pad_end: int
    output: int | None
    ceil_mode: bool = False

    @property
    def k_eff(self) -> int:
        return self.dilation * (self.kernel - 1) + 1

    @property
    def span(self) -> int | None:
        """I + P − k_eff: how far the window can slide over the padded input."""
        return None if self.size is None else self.size + self.pad_begin + self.pad_end - self.k_eff

    @property
    def remainder(self) -> int | None:
        """(I + P − k_eff) mod s: trailing rows of the padded input that no window starts over."""
        span = self.span
        return None if span is None or span < 0 or self.stride <= 0 else span % self.stride

    @property
    def gap(self) -> int:
        """Pixels the windows skip between each other by design (k_eff < s)."""
        return max(0, self.stride - self.k_eff)

    @property
    def dropped(self) -> int:
        """Real input pixels at the end that no window reads (padding and the regular gap excluded)."""
        r = self.remainder
        if r is None or self.ceil_mode:
            return 0
        return max(0, r - max(self.pad_end, self.gap))


@dataclass(slots=True)
class WindowFacts:
    """Typed facts of a Conv / ConvTranspose / pooling node, for costs and rules."""
    kind: str  # "conv", "transpose" or "pool"
    axes: list[AxisWindow]
    group: int = 1
    c_in: int | None = None
    c_out: int | None = None
    weight_shape: tuple | None = None
    has_bias: bool = False
    output_padding: tuple = ()
    explicit_output_shape: bool = False

    @property
    def kernel(self) -> tuple:
        return tuple(a.kernel for a in self.axes)

    @property
    def strides(self) -> tuple:
        return tuple(a.stride for a in self.axes)

    @property
    def depthwise(self) -> bool:
        return self.kind == "conv" and self.group > 1 and self.group == self.c_in


@dataclass
class Shapes:
    dims: dict[str, tuple | None] = field(default_factory=dict)
    dtype: dict[str, int] = field(default_factory=dict)
    values: dict[str, list[int]] = field(default_factory=dict)  # small integer constants, flattened
    constants: set[str] = field(default_factory=set)  # tensors that do not depend on any model input
    windows: dict[Node, WindowFacts] = field(default_factory=dict)
    input_dims: dict[str, tuple | None] = field(default_factory=dict)  # resolved model inputs
    unresolved_inputs: dict[str, tuple | None] = field(default_factory=dict)  # name → dims still symbolic
    notes: list[str] = field(default_factory=list)
    opset: int = 0  # of the default domain
    nbytes: dict[str, int | None] = field(default_factory=dict)  # memo of cost.tensor_bytes

    def shape(self, name: str) -> tuple | None:
        return self.dims.get(name)


class InputShapeError(ValueError):
    """A --input-shape that does not fit the model."""


def resolve_input_shapes(graph: Graph, overrides: dict[str, tuple[int, ...]] | None, shapes: Shapes) -> None:
    overrides = dict(overrides or {})
    unnamed = overrides.pop("", None)
    if unnamed is not None:
        overrides[None] = unnamed
    if None in overrides:  # `--input-shape 1,3,224,224` without a name: the model's only input
        if len(graph.inputs) != 1:
            raise InputShapeError(f"--input-shape without NAME= needs a model with one input; this one has "
                                  f"{len(graph.inputs)}: {', '.join(graph.inputs)}")
        overrides[next(iter(graph.inputs))] = overrides.pop(None)
    for name in overrides:
        if name not in graph.inputs:
            raise InputShapeError(f"--input-shape names '{name}', which is not a model input "
                                  f"(inputs: {', '.join(graph.inputs) or 'none'})")
    for name, declared in graph.inputs.items():
        dims = declared.dims
        if name in overrides:
            given = tuple(overrides[name])
            if dims is not None and len(dims) != len(given):
                raise InputShapeError(f"--input-shape {name} has rank {len(given)} but the model declares "
                                      f"rank {len(dims)} {_fmt(dims)}")
            dims = given
        elif dims is None:
            shapes.unresolved_inputs[name] = None  # no shape declared at all
        else:
            if dims and (not isinstance(dims[0], int) or dims[0] == 0):
                shapes.notes.append(f"input '{name}': symbolic batch dim '{dims[0] or '?'}' taken as 1")
                dims = (1,) + dims[1:]
            if any(not isinstance(d, int) or d == 0 for d in dims):
                shapes.unresolved_inputs[name] = dims
                dims = tuple(d if isinstance(d, int) and d > 0 else None for d in dims)
        shapes.input_dims[name] = dims
        shapes.dims[name] = dims
        shapes.dtype[name] = declared.elem_type


def _fmt(dims) -> str:
    return "[" + ",".join("?" if d is None else str(d) for d in dims) + "]"


def infer_shapes(model: onnx.ModelProto, graph: Graph, input_shapes: dict | None = None) -> Shapes:
    shapes = Shapes(opset=next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), 0))
    resolve_input_shapes(graph, input_shapes, shapes)
    for name, init in graph.initializers.items():
        shapes.dims[name] = tuple(init.dims)
        shapes.dtype[name] = init.data_type
        shapes.constants.add(name)
        if _is_small_int(init):
            try:
                shapes.values[name] = numpy_helper.to_array(init).reshape(-1).tolist()
            except Exception:  # external or malformed data: the value stays unknown
                pass
    fallback = _OnnxFallback(model, shapes)
    for node in graph.nodes:
        for name in node.inputs:
            if name and name not in shapes.dims and name in graph.declared:  # subgraph inputs
                declared = graph.declared[name]
                shapes.dims[name] = _concrete(declared.dims)
                shapes.dtype[name] = declared.elem_type
        handler = _HANDLERS.get(node.op_type) if node.domain in ("", "ai.onnx") else None
        outs = None
        if handler is not None:
            try:
                outs = handler(node, shapes)
            except (ValueError, TypeError, IndexError, ZeroDivisionError, KeyError, AttributeError):
                outs = None  # malformed attributes: OL002 reports them, the walk continues
        if outs is None:
            outs = [None] * len(node.outputs)
        elif not isinstance(outs, list):
            outs = [outs]
        first_dtype = shapes.dtype.get(node.inputs[0], 0) if node.inputs else 0
        for i, out in enumerate(node.outputs):
            if not out:
                continue
            dims = outs[i] if i < len(outs) else None
            if out not in shapes.dtype:
                shapes.dtype[out] = first_dtype if handler is not None and i == 0 else 0
            if dims is None or None in dims or not shapes.dtype[out]:
                known = fallback.lookup(out)
                if known is not None:
                    if dims is None or (known.dims is not None and len(known.dims) == len(dims)):
                        dims = _merge(dims, _concrete(known.dims))
                    if not shapes.dtype[out]:
                        shapes.dtype[out] = known.elem_type
            shapes.dims[out] = dims
        if node.op_type in ("Constant", "ConstantOfShape") or (
                node.inputs and all(not n or n in shapes.constants for n in node.inputs)
                and node.op_type not in _NONDETERMINISTIC):
            shapes.constants.update(o for o in node.outputs if o)
    return shapes


_NONDETERMINISTIC = {"RandomNormal", "RandomUniform", "RandomNormalLike", "RandomUniformLike", "Multinomial",
                     "Bernoulli"}


def _concrete(dims):
    return None if dims is None else tuple(d if isinstance(d, int) and d > 0 else None for d in dims)


def _merge(mine, theirs):
    if mine is None:
        return theirs
    if theirs is None:
        return mine
    return tuple(a if a is not None else b for a, b in zip(mine, theirs))


def _is_small_int(t: onnx.TensorProto) -> bool:
    count = math.prod(t.dims)
    return t.data_type in (onnx.TensorProto.INT64, onnx.TensorProto.INT32) and count <= _SMALL_CONSTANT \
        and t.data_location != onnx.TensorProto.EXTERNAL


class _OnnxFallback:
    """onnx.shape_inference on a weight-free copy, run once on first need."""

    def __init__(self, model: onnx.ModelProto, shapes: Shapes) -> None:
        self.model, self.shapes = model, shapes
        self.types: dict[str, TensorType] | None = None
        self.ran = False

    def lookup(self, name: str) -> TensorType | None:
        if self.types is None:
            self.types = self._infer()
        return self.types.get(name)

    def _infer(self) -> dict[str, TensorType]:
        from onnxlint.graph import subgraphs, tensor_type

        self.ran = True
        try:
            light = _weight_free_copy(self.model, self.shapes.input_dims)
            inferred = onnx.shape_inference.infer_shapes(light, check_type=False, strict_mode=False, data_prop=True)
        except Exception:  # onnx's inference gives up on some models: their shapes stay unknown
            return {}
        types: dict[str, TensorType] = {}

        def collect(g: onnx.GraphProto) -> None:
            for vi in list(g.value_info) + list(g.output):
                t = tensor_type(vi)
                if t is not None:
                    types[display_name(vi.name)] = t
            for node in g.node:
                for _label, sub in subgraphs(node):
                    collect(sub)

        collect(inferred.graph)
        return types


def _weight_free_copy(model: onnx.ModelProto, input_dims: dict[str, tuple | None]) -> onnx.ModelProto:
    light = onnx.ModelProto()
    light.ir_version = model.ir_version
    light.opset_import.extend(model.opset_import)
    light.functions.extend(model.functions)
    g, src = light.graph, model.graph
    g.name = src.name
    g.node.extend(src.node)
    g.output.extend(src.output)
    g.value_info.extend(src.value_info)
    for vi in src.input:
        new = g.input.add()
        new.CopyFrom(vi)
        dims = input_dims.get(vi.name)
        if dims is not None and new.type.HasField("tensor_type"):
            shape = new.type.tensor_type.shape
            shape.ClearField("dim")
            for d in dims:
                dim = shape.dim.add()
                if d is not None:
                    dim.dim_value = d
    for init in src.initializer:
        t = g.initializer.add()
        if math.prod(init.dims) <= _SMALL_CONSTANT and init.data_location != onnx.TensorProto.EXTERNAL:
            t.CopyFrom(init)
        else:
            t.name, t.data_type = init.name, init.data_type
            t.dims.extend(init.dims)
    return light


# --- handlers: (node, shapes) -> output dims (one tuple, or a list per output) ------------------

def _ints(node: Node, name: str, default):
    value = node.attrs.get(name)
    return list(value) if value is not None else default


def _auto_pad(node: Node) -> str:
    value = node.attrs.get("auto_pad", b"NOTSET")
    return value.decode() if isinstance(value, bytes) else str(value)


def window_axes(node: Node, sizes, kernel, *, ceil_mode: bool = False) -> list[AxisWindow]:
    """Per-axis window arithmetic for Conv and pooling (DOMAIN.md §1): O = floor((I+P−k_eff)/s)+1."""
    rank = len(kernel)
    strides = _ints(node, "strides", [1] * rank)
    dilations = _ints(node, "dilations", [1] * rank)
    pads = _ints(node, "pads", [0] * (2 * rank))
    auto_pad = _auto_pad(node)
    axes = []
    for i in range(rank):
        size, k, s, d = sizes[i], kernel[i], strides[i], dilations[i]
        pb, pe = pads[i], pads[i + rank]
        window = AxisWindow(size, k, s, d, pb, pe, None, ceil_mode)
        if size is not None and s > 0 and d > 0 and k > 0:
            if auto_pad in ("SAME_UPPER", "SAME_LOWER"):
                out = -(-size // s)
                total = max((out - 1) * s + window.k_eff - size, 0)
                half, rest = total // 2, total - total // 2
                window.pad_begin, window.pad_end = (half, rest) if auto_pad == "SAME_UPPER" else (rest, half)
                window.output = out
            else:
                if auto_pad == "VALID":
                    window.pad_begin = window.pad_end = 0
                span = window.span
                if span >= 0:
                    out = (-(-span // s) if ceil_mode else span // s) + 1
                    if ceil_mode and (out - 1) * s >= size + window.pad_begin:
                        out -= 1  # the last window must start inside the input or its begin padding
                    window.output = out
        axes.append(window)
    return axes


def _conv(node: Node, shapes: Shapes):
    x, w = shapes.shape(node.inputs[0]), shapes.shape(node.inputs[1])
    kernel = _ints(node, "kernel_shape", list(w[2:]) if w else None)
    if kernel is None or None in kernel:
        return None
    sizes = list(x[2:]) if x else [None] * len(kernel)
    group = int(node.attrs.get("group", 1))  # a corrupt attribute raises here, not in a rule
    axes = window_axes(node, sizes, kernel)
    has_bias = len(node.inputs) > 2 and bool(node.inputs[2])
    c_out = w[0] if w else None
    shapes.windows[node] = WindowFacts("conv", axes, group, x[1] if x else None, c_out, w, has_bias)
    return (x[0] if x else None, c_out, *(a.output for a in axes))


def _conv_transpose(node: Node, shapes: Shapes):
    """O = s·(I−1) + output_padding + k_eff − p_begin − p_end (DOMAIN.md §2)."""
    x, w = shapes.shape(node.inputs[0]), shapes.shape(node.inputs[1])
    kernel = _ints(node, "kernel_shape", list(w[2:]) if w else None)
    if kernel is None or None in kernel:
        return None
    rank = len(kernel)
    sizes = list(x[2:]) if x else [None] * rank
    strides = _ints(node, "strides", [1] * rank)
    dilations = _ints(node, "dilations", [1] * rank)
    pads = _ints(node, "pads", [0] * (2 * rank))
    output_padding = _ints(node, "output_padding", [0] * rank)
    output_shape = _ints(node, "output_shape", None)
    auto_pad = _auto_pad(node)
    group = int(node.attrs.get("group", 1))  # a corrupt attribute raises here, not in a rule
    axes = []
    for i in range(rank):
        a = AxisWindow(sizes[i], kernel[i], strides[i], dilations[i], pads[i], pads[i + rank], None)
        if output_shape:
            a.output = output_shape[-rank:][i]
        elif a.size is not None:
            if auto_pad in ("SAME_UPPER", "SAME_LOWER"):
                a.output = a.size * a.stride
            else:
                if auto_pad == "VALID":
                    a.pad_begin = a.pad_end = 0
                a.output = a.stride * (a.size - 1) + output_padding[i] + a.k_eff - a.pad_begin - a.pad_end
        axes.append(a)
    c_out = w[1] * group if w and w[1] is not None else None
    has_bias = len(node.inputs) > 2 and bool(node.inputs[2])
    shapes.windows[node] = WindowFacts("transpose", axes, group, x[1] if x else None, c_out, w, has_bias,
                                       tuple(output_padding), bool(output_shape))
    return (x[0] if x else None, c_out, *(a.output for a in axes))


def _pool(node: Node, shapes: Shapes):
    x = shapes.shape(node.inputs[0])
    kernel = _ints(node, "kernel_shape", None)
    if x is None or kernel is None:
        return None
    axes = window_axes(node, list(x[2:]), kernel, ceil_mode=bool(node.attrs.get("ceil_mode", 0)))
    shapes.windows[node] = WindowFacts("pool", axes, 1, x[1], x[1])
    out = (x[0], x[1], *(a.output for a in axes))
    if len(node.outputs) > 1:  # MaxPool indices
        shapes.dtype[node.outputs[1]] = INT64
    return [out, out]


def _global_pool(node: Node, shapes: Shapes):
    x = shapes.shape(node.inputs[0])
    return None if x is None else (x[0], x[1], *([1] * (len(x) - 2)))


def _gemm(node: Node, shapes: Shapes):
    a, b = shapes.shape(node.inputs[0]), shapes.shape(node.inputs[1])
    if a is None or b is None or len(a) != 2 or len(b) != 2:
        return None
    m = a[1] if node.attrs.get("transA", 0) else a[0]
    n = b[0] if node.attrs.get("transB", 0) else b[1]
    return (m, n)


def matmul_shape(a: tuple, b: tuple) -> tuple | None:
    """numpy.matmul broadcasting: 1-D operands are promoted then squeezed."""
    if not a or not b:
        return None
    pa, pb = (1,) + a if len(a) == 1 else a, b + (1,) if len(b) == 1 else b
    batch = broadcast(pa[:-2], pb[:-2])
    if batch is None:
        return None
    out = batch + (pa[-2], pb[-1])
    if len(a) == 1:
        out = out[:-2] + out[-1:]
    if len(b) == 1:
        out = out[:-1]
    return out


def _matmul(node: Node, shapes: Shapes):
    a, b = shapes.shape(node.inputs[0]), shapes.shape(node.inputs[1])
    return None if a is None or b is None else matmul_shape(a, b)


def broadcast(*shapes_: tuple) -> tuple | None:
    rank = max(len(s) for s in shapes_)
    out = []
    for i in range(rank):
        dims = {s[len(s) - rank + i] for s in shapes_ if len(s) - rank + i >= 0}
        dims.discard(1)
        if len(dims) == 0:
            out.append(1)
        elif len(dims) == 1:
            out.append(dims.pop())
        elif None in dims and len(dims) == 2:
            out.append(max(d for d in dims if d is not None))
        else:
            return None
    return tuple(out)


def _flatten(node: Node, shapes: Shapes):
    x = shapes.shape(node.inputs[0])
    if x is None:
        return None
    axis = node.attrs.get("axis", 1)
    axis = axis + len(x) if axis < 0 else axis
    return (_prod(x[:axis]), _prod(x[axis:]))


def _prod(dims):
    return None if None in dims else math.prod(dims)


def _reshape(node: Node, shapes: Shapes):
    x, target = shapes.shape(node.inputs[0]), shapes.values.get(node.inputs[1])
    if target is None:
        return None
    out = list(target)
    if not node.attrs.get("allowzero", 0):  # 0 copies the input's dim
        out = [(x[i] if x is not None and i < len(x) else None) if d == 0 else d for i, d in enumerate(out)]
    if -1 in out:
        known = _prod([d for d in out if d != -1])
        total = _prod(x) if x is not None else None
        out[out.index(-1)] = total // known if total is not None and known else None
    return tuple(out)


def _same(node: Node, shapes: Shapes):
    x = shapes.shape(node.inputs[0])
    return [x] * len(node.outputs)


def _batchnorm(node: Node, shapes: Shapes):
    x = shapes.shape(node.inputs[0])
    channel = (x[1],) if x is not None and len(x) > 1 else None
    return [x] + [channel] * (len(node.outputs) - 1)


def _dropout(node: Node, shapes: Shapes):
    if len(node.outputs) > 1 and node.outputs[1] and shapes.opset >= 10:  # before opset 10 the mask has T
        shapes.dtype[node.outputs[1]] = onnx.TensorProto.BOOL
    return _same(node, shapes)


def _identity(node: Node, shapes: Shapes):
    if node.inputs[0] in shapes.values:
        shapes.values[node.outputs[0]] = shapes.values[node.inputs[0]]
    return shapes.shape(node.inputs[0])


def _elementwise(node: Node, shapes: Shapes):
    ins = [shapes.shape(n) for n in node.inputs if n]
    return None if not ins or None in ins else broadcast(*ins)


def _concat(node: Node, shapes: Shapes):
    ins = [shapes.shape(n) for n in node.inputs if n]
    if not ins or None in ins or len({len(s) for s in ins}) != 1:
        return None
    axis = node.attrs.get("axis", 0)
    axis = axis + len(ins[0]) if axis < 0 else axis
    values = [shapes.values.get(n) for n in node.inputs if n]
    if None not in values:
        shapes.values[node.outputs[0]] = [v for vs in values for v in vs]
    out = [next((s[i] for s in ins if s[i] is not None), None) for i in range(len(ins[0]))]
    out[axis] = None if any(s[axis] is None for s in ins) else sum(s[axis] for s in ins)
    return tuple(out)


def _shape(node: Node, shapes: Shapes):
    x = shapes.shape(node.inputs[0])
    shapes.dtype[node.outputs[0]] = INT64
    if x is None:
        return None
    start, end = node.attrs.get("start", 0), node.attrs.get("end", len(x))
    sliced = x[slice(start, end)]
    if None not in sliced:
        shapes.values[node.outputs[0]] = list(sliced)
    return (len(sliced),)


def _constant(node: Node, shapes: Shapes):
    out = node.outputs[0]
    if "value" in node.attrs:
        t = node.attrs["value"]
        shapes.dtype[out] = t.data_type
        if _is_small_int(t):
            shapes.values[out] = numpy_helper.to_array(t).reshape(-1).tolist()
        return tuple(t.dims)
    for key, dtype, rank in (("value_int", INT64, 0), ("value_ints", INT64, 1),
                             ("value_float", onnx.TensorProto.FLOAT, 0), ("value_floats", onnx.TensorProto.FLOAT, 1)):
        if key in node.attrs:
            value = node.attrs[key]
            shapes.dtype[out] = dtype
            if dtype == INT64:
                shapes.values[out] = list(value) if rank else [value]
            return (len(value),) if rank else ()
    return None


def _constant_of_shape(node: Node, shapes: Shapes):
    value = node.attrs.get("value")
    shapes.dtype[node.outputs[0]] = value.data_type if value is not None else onnx.TensorProto.FLOAT
    target = shapes.values.get(node.inputs[0])
    return None if target is None else tuple(target)


def _cast(node: Node, shapes: Shapes):
    shapes.dtype[node.outputs[0]] = node.attrs.get("to", 0)
    if node.inputs[0] in shapes.values:
        shapes.values[node.outputs[0]] = shapes.values[node.inputs[0]]
    return shapes.shape(node.inputs[0])


def _axes(node: Node, shapes: Shapes):
    if "axes" in node.attrs:
        return list(node.attrs["axes"])
    return shapes.values.get(node.inputs[1]) if len(node.inputs) > 1 and node.inputs[1] else None


def _unsqueeze(node: Node, shapes: Shapes):
    x, axes = shapes.shape(node.inputs[0]), _axes(node, shapes)
    if x is None or axes is None:
        return None
    rank = len(x) + len(axes)
    axes = sorted(a + rank if a < 0 else a for a in axes)
    out = list(x)
    for a in axes:
        out.insert(a, 1)
    if node.inputs[0] in shapes.values:
        shapes.values[node.outputs[0]] = shapes.values[node.inputs[0]]
    return tuple(out)


def _squeeze(node: Node, shapes: Shapes):
    x, axes = shapes.shape(node.inputs[0]), _axes(node, shapes)
    if x is None:
        return None
    if axes is None:
        if None in x:
            return None
        axes = [i for i, d in enumerate(x) if d == 1]
    axes = {a + len(x) if a < 0 else a for a in axes}
    if node.inputs[0] in shapes.values:
        shapes.values[node.outputs[0]] = shapes.values[node.inputs[0]]
    return tuple(d for i, d in enumerate(x) if i not in axes)


def _gather(node: Node, shapes: Shapes):
    x, idx = shapes.shape(node.inputs[0]), shapes.shape(node.inputs[1])
    if x is None or idx is None:
        return None
    axis = node.attrs.get("axis", 0)
    axis = axis + len(x) if axis < 0 else axis
    data, indices = shapes.values.get(node.inputs[0]), shapes.values.get(node.inputs[1])
    if data is not None and indices is not None and len(x) == 1:
        shapes.values[node.outputs[0]] = [data[i] for i in indices]
    return tuple(x[:axis]) + tuple(idx) + tuple(x[axis + 1:])


def _transpose(node: Node, shapes: Shapes):
    x = shapes.shape(node.inputs[0])
    if x is None:
        return None
    perm = _ints(node, "perm", list(range(len(x)))[::-1])
    return tuple(x[p] for p in perm)


# Parameter-free ops that act on each element alone: a layer after them sees the same positions and
# channels as before them, whatever the tensor's rank (the rules look through these).
POINTWISE = frozenset(("Relu LeakyRelu Sigmoid Tanh Elu Selu Celu Clip HardSigmoid HardSwish Softplus Softsign "
                       "Gelu Mish ThresholdedRelu Shrink Exp Log Sqrt Neg Abs Erf Reciprocal Floor Ceil Round "
                       "Sign Sin Cos").split())
# ... and with per-channel BatchNorm and the inference no-ops: what "looking through activations" means.
PASSTHROUGH = POINTWISE | {"BatchNormalization", "Dropout", "Identity"}
_UNARY = sorted(POINTWISE) + ("PRelu Softmax LogSoftmax Hardmax LRN InstanceNormalization LayerNormalization "
                              "MeanVarianceNormalization GroupNormalization").split()
_BROADCAST = "Add Sub Mul Div Pow Max Min Sum Mean".split()

_HANDLERS = {
    "Conv": _conv, "ConvTranspose": _conv_transpose,
    "MaxPool": _pool, "AveragePool": _pool, "LpPool": _pool,
    "GlobalAveragePool": _global_pool, "GlobalMaxPool": _global_pool, "GlobalLpPool": _global_pool,
    "Gemm": _gemm, "MatMul": _matmul, "Flatten": _flatten, "Reshape": _reshape,
    "BatchNormalization": _batchnorm, "Dropout": _dropout, "Identity": _identity, "Concat": _concat,
    "Shape": _shape, "Constant": _constant, "ConstantOfShape": _constant_of_shape, "Cast": _cast,
    "Unsqueeze": _unsqueeze, "Squeeze": _squeeze, "Gather": _gather, "Transpose": _transpose,
    **{op: _same for op in _UNARY}, **{op: _elementwise for op in _BROADCAST},
}
