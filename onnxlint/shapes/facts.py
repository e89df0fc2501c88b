"""The facts the shape stage hands to costs and rules: per-axis window arithmetic, the operands of a
matrix product, and the store of every tensor's dims, dtype and (when small and input-independent) value."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from onnxlint.graph import AttributeRef
from onnxlint.shapes.values import materialize, numbers


@dataclass(frozen=True, slots=True)
class AxisWindow:
    """One spatial axis of a sliding-window op (DOMAIN.md §1-2), its arithmetic computed once. Immutable: the
    axes with the same arithmetic share one instance (axis_window)."""
    size: int | None  # I: the input extent (for a transpose: the input it upsamples)
    kernel: int
    stride: int
    dilation: int
    pad_begin: int
    pad_end: int
    output: int | None
    ceil_mode: bool = False
    outer_pad_end: int | None = 0  # rows at the end of I that a separate Pad node made (not real input); None:
    # a Pad made some, how many cannot be known, so no row can be called dropped
    k_eff: int = field(init=False)
    span: int | None = field(init=False)  # I + P − k_eff: how far the window slides over the padded input
    remainder: int | None = field(init=False)  # span mod s: trailing rows no window starts over
    gap: int = field(init=False)  # pixels the windows skip between each other by design (k_eff < s)
    dropped: int = field(init=False)  # real input rows at the end that no window reads
    valid: bool = field(init=False)  # kernel, stride, dilation > 0 and pads ≥ 0

    def __post_init__(self) -> None:
        k_eff = self.dilation * (self.kernel - 1) + 1
        span = None if self.size is None else self.size + self.pad_begin + self.pad_end - k_eff
        remainder = None if span is None or span < 0 or self.stride <= 0 else span % self.stride
        gap = max(0, self.stride - k_eff)
        dropped = 0
        if remainder is not None and not self.ceil_mode and self.outer_pad_end is not None:
            tail = remainder - self.pad_end - self.outer_pad_end  # real rows after the last window
            if tail > gap:  # more than the regular gap between windows
                dropped = tail
        valid = self.kernel > 0 and self.stride > 0 and self.dilation > 0 and self.pad_begin >= 0 and self.pad_end >= 0
        for name, value in (("k_eff", k_eff), ("span", span), ("remainder", remainder), ("gap", gap),
                            ("dropped", dropped), ("valid", valid)):
            object.__setattr__(self, name, value)


_SHARED_AXES: dict[tuple, AxisWindow] = {}


def axis_window(size, kernel, stride, dilation, pad_begin, pad_end, output, ceil_mode=False,
                outer_pad_end=0) -> AxisWindow:
    """The AxisWindow of these numbers, shared with every axis that has them (most axes of a CNN do): one
    object, not one per axis per layer, and its arithmetic done once."""
    key = (size, kernel, stride, dilation, pad_begin, pad_end, output, ceil_mode, outer_pad_end)
    found = _SHARED_AXES.get(key)
    if found is None:
        if len(_SHARED_AXES) >= 4096:  # a long-lived process linting many models: stay bounded
            _SHARED_AXES.clear()
        found = _SHARED_AXES[key] = AxisWindow(*key)
    return found


@dataclass(slots=True, eq=False)
class WindowFacts:
    """Typed facts of a Conv / ConvTranspose / pooling node (and their quantized and fused forms): its
    arithmetic, no tensor names, so the nodes with the same numbers share one (never modified; compared and
    hashed by identity)."""
    kind: str  # "conv", "transpose" or "pool"
    axes: tuple[AxisWindow, ...]  # shared AxisWindows, in a tuple shared by the nodes with the same arithmetic
    group: int = 1
    c_in: int | None = None
    c_out: int | None = None
    weight_shape: tuple | None = None
    has_bias: bool = False
    output_padding: tuple = ()
    explicit_output_shape: bool = False
    valid: bool = field(init=False)  # every axis valid and group > 0: the arithmetic means something
    kernel: tuple = field(init=False)  # per axis
    strides: tuple = field(init=False)
    drops: bool = field(init=False)  # some axis loses real input rows (AxisWindow.dropped > 0)

    def __post_init__(self) -> None:
        self.axes = tuple(self.axes)
        self.valid = self.group > 0 and all(a.valid for a in self.axes)
        self.drops = any(a.dropped > 0 for a in self.axes)
        self.kernel = tuple(a.kernel for a in self.axes)
        self.strides = tuple(a.stride for a in self.axes)

    @property
    def depthwise(self) -> bool:
        return self.kind == "conv" and self.group > 1 and self.group == self.c_in



@dataclass(frozen=True, slots=True)
class MatmulFacts:
    """The operands of a Gemm / MatMul (and QGemm, QLinearMatMul, MatMulInteger, FusedGemm...)."""
    a: str
    b: str
    bias: str | None
    k: int | None  # the contracted dimension
    trans_a: bool = False
    trans_b: bool = False


class _Stored:
    """What `Shapes.pending` holds for an initializer: its value is read from the graph when asked for."""
    __slots__ = ()

    def __repr__(self) -> str:
        return "STORED"


STORED = _Stored()


@dataclass(slots=True)
class Out:
    """What a shape handler knows about a node's outputs."""
    dims: list  # per output: a tuple (None for an unknown dim) or None when the rank is unknown
    dtypes: list | None = None  # per output ONNX elem type; None: the first input's
    facts: Any = None  # WindowFacts or MatmulFacts
    problem: str | None = None  # a contradiction: the shapes cannot work, with the arithmetic
    values: list | None = None  # per output: a known value (numpy array or Numbers) or None
    training: Any = ...  # BatchNormalization/Dropout: True, False or None (decided at run time); ...: no such mode


@dataclass
class Shapes:
    dims: dict[str, tuple | None] = field(default_factory=dict)
    dtype: dict[str, int] = field(default_factory=dict)
    values: dict[str, Any] = field(default_factory=dict)  # small input-independent tensors (numpy arrays)
    # small tensors whose value is known but not held as numpy: a TensorProto to read, the Node to evaluate, or
    # its Numbers
    pending: dict = field(default_factory=dict, repr=False)
    opsets: dict = field(default_factory=dict, repr=False)
    constants: set[str] = field(default_factory=set)  # tensors that do not depend on any model input
    windows: dict = field(default_factory=dict)  # Node → WindowFacts
    training: dict = field(default_factory=dict)  # Node → training mode of a BatchNorm/Dropout (None: unknown)
    matmuls: dict = field(default_factory=dict)  # Node → MatmulFacts
    problems: dict = field(default_factory=dict)  # Node → why its shapes contradict each other
    invalid: dict = field(default_factory=dict)  # Node → how it breaks its operator's schema (shapes/schema.py)
    invalid_types: list = field(default_factory=list)  # element types that do not exist, one sentence each
    no_kernel: dict = field(default_factory=dict)  # Node → why the installed onnxruntime has no CPU kernel for it
    dead: set = field(default_factory=set)  # nodes of an If branch that never runs (the condition is known)
    input_dims: dict[str, tuple | None] = field(default_factory=dict)  # resolved model inputs
    unresolved_inputs: dict[str, tuple | None] = field(default_factory=dict)  # name → declared dims, some symbolic
    assumed_batch: set[str] = field(default_factory=set)  # inputs whose symbolic batch dim was taken as 1
    notes: list[str] = field(default_factory=list)
    info: list[str] = field(default_factory=list)  # notes with nothing for the user to do (text shows them with -v)
    opset: int = 0  # of the default domain
    graph: Any = field(default=None, repr=False)  # the Graph described: producers, stored tensors, attributes
    # the bound pass only (shapes/bounds.py): each tensor whose dims (or value) are an upper bound → (n, the
    # op whose data-decided size bounds it, the n-th to be bounded); None in the exact pass
    bounded: dict | None = field(default=None, repr=False)

    def source(self, name: str):
        """What a pending value is computed from: a Node, Numbers, or a stored TensorProto."""
        found = self.pending.get(name)
        return self.graph.tensor(name) if found is STORED else found

    def attribute(self, node, key: str):
        """A node's tensor- or graph-valued attribute, read from the file; None when the node has none."""
        value = node.attrs.get(key)
        return self.graph.attribute(value) if isinstance(value, AttributeRef) else value

    def shape(self, name: str) -> tuple | None:
        return self.dims.get(name)

    def value(self, name: str):
        """The tensor's value (a numpy array) when it is small and known without the input data, else None;
        computed on first use (most known values are never needed)."""
        value = self.values.get(name)
        if value is None and name in self.pending:
            value = materialize(self, name)
        return value

    def known(self, name: str) -> bool:
        """Whether the tensor's value can be known (without computing it)."""
        return name in self.values or name in self.pending

    def ints(self, name: str) -> list[int] | None:
        """A known integer (or boolean) tensor's value as a flat list of ints."""
        found = self._flat(name)
        return None if found is None or any(isinstance(v, float) for v in found) else [int(v) for v in found]

    def floats(self, name: str) -> list[float] | None:
        """A known numeric tensor's value as a flat list of floats."""
        found = self._flat(name)
        return None if found is None or any(isinstance(v, bool) for v in found) else [float(v) for v in found]

    def _flat(self, name: str) -> list | None:
        """A known value's elements as Python numbers: computed without numpy where values.numbers can,
        else read from the numpy value."""
        if name not in self.values and name in self.pending:
            found = numbers(self, name)
            if found is not None:
                return found
        value = self.value(name)
        return None if value is None or value.dtype.kind not in "iubf" else value.reshape(-1).tolist()
