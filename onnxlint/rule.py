"""What a rule is: the Rule base class (codes, severity, options, how it reports and groups), its declared
Options, and the Context of typed facts every rule reads. A rule module imports this, never the engine."""
from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import Any, ClassVar

from onnxlint.cost import ConvSpec, Layer, Totals, replacement_cost
from onnxlint.diagnostics import Diagnostic, Savings, Severity
from onnxlint.graph import Graph, Node
from onnxlint.params import stored_weight
from onnxlint.shapes import Shapes
from onnxlint.units import count, nbytes, parse_size, pct


class Size(int):
    """An option type: a size in bytes, written 16MiB, 100MB or 2000000."""

    def __new__(cls, value):
        return super().__new__(cls, parse_size(value))

    def __str__(self) -> str:
        return nbytes(self)


@dataclass(frozen=True)
class Option:
    """A rule option: declared with type, default, doc and range; validated when settings load."""
    name: str
    type: type
    default: Any
    doc: str
    minimum: float | None = None
    maximum: float | None = None

    def convert(self, value: Any) -> Any:
        if self.type is bool and not isinstance(value, bool):
            if isinstance(value, str) and value.lower() in ("true", "false", "1", "0", "yes", "no"):
                return value.lower() in ("true", "1", "yes")
            raise ValueError(f"option '{self.name}' must be true or false, not {value!r}")
        if self.type is Size:
            return Size(value)  # a bad size raises ValueError here, when settings load
        if self.type is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, self.type) or (self.type is int and isinstance(value, bool)):
            try:
                value = self.type(value) if isinstance(value, str) else None
            except ValueError:
                value = None
            if value is None:
                raise ValueError(f"option '{self.name}' must be {self.type.__name__}")
        if (self.minimum is not None and value < self.minimum) or (self.maximum is not None and value > self.maximum):
            raise ValueError(f"option '{self.name}' must be between {self.minimum:g} and {self.maximum:g}, not {value}"
                             if self.maximum is not None else
                             f"option '{self.name}' must be at least {self.minimum:g}, not {value}")
        return value

    def describe(self) -> str:
        bounds = ""
        if self.minimum is not None and self.maximum is not None:
            bounds = f", {self.minimum:g} to {self.maximum:g}"
        elif self.minimum is not None:
            bounds = f", at least {self.minimum:g}"
        return f"`{self.name}` ({self.type.__name__}, default `{self.default}`{bounds}): {self.doc}"


def share(name: str = "min-model-saving", default: float = 0.01) -> Option:
    """The materiality threshold of a suggestion that saves MACs: a share of the model's total."""
    return Option(name, float, default, "smallest saving worth showing, as a share of the model's MACs "
                  "(applied when the model's total is known)", 0.0, 1.0)


@dataclass
class Context:
    """Everything a rule may read. Rules never parse protobuf: the facts are here."""
    source: str
    graph: Graph
    shapes: Shapes
    layers: list[Layer]
    totals: Totals
    settings: Any  # onnxlint.config.Settings
    unsafe_external: list[str]
    reinfer: Callable[[dict], Shapes] | None = None  # shapes again with other input sizes
    loaded: Any = None  # the LoadedModel, for the rewrites of `onnxlint fix` (rules never read it)
    execution: Any = None  # onnxlint.verify.ExecutionFacts, when the model was run (--verify, --profile)
    deployment: Any = None  # onnxlint.deploy.Deployment, with --target: how the target runs each layer
    # --what-if: times a layer and its replacement, (layer, ConvSpecs) → onnxlint.whatif.Timing; None when not asked
    measure: Callable | None = None
    weights: Any = None  # onnxlint.weights.WeightReader: one stored tensor's values, read on request

    def stored(self, name: str) -> str | None:
        """The stored tensor (initializer or Constant) that `name` is, through Identity, Cast, Q/DQ and reshapes
        that keep its elements (a QDQ weight: the int8 initializer); None for a computed tensor."""
        return stored_weight(self.graph, name)

    def weight(self, name: str):
        """The values of a stored tensor (an initializer or a Constant's value) as a numpy array, read from the
        file only now and only that tensor's bytes; None when the file holds no data for it (a stripped
        export) or `name` is computed. Nothing is cached: read each weight once."""
        return self.weights.read(name) if self.weights is not None else None

    def __post_init__(self) -> None:
        self._layer_of = {layer.node: layer for layer in self.layers}  # a dead branch's nodes have none

    def layer(self, node: Node | None) -> Layer | None:
        """The Layer of a graph node (None for a node of a branch that never runs)."""
        return self._layer_of.get(node)

    def invalid(self, layer: Layer) -> bool:
        """Whether the layer breaks its schema (OL006) or its shapes contradict each other (OL004): nothing a rule
        would say of it, or of what it makes, stands."""
        return layer.node in self.shapes.invalid or layer.node in self.shapes.problems

    def producer(self, tensor: str) -> Layer | None:
        """The layer that produces `tensor` (None for an input, a weight, or a node of a branch that never runs)."""
        return self._layer_of.get(self.graph.producer.get(tensor))

    def consumers(self, tensor: str) -> list[Layer]:
        return [self._layer_of[n] for n in self.graph.consumers(tensor) if n in self._layer_of]

    def downstream(self, tensor: str) -> list[Layer]:
        """The layers that `tensor` reaches, in execution order."""
        return [self._layer_of[n] for n in self.graph.downstream(tensor) if n in self._layer_of]

    def batch_advice(self, advice: str) -> str:
        """", or the batch size (now 8)" when some input is batched; nothing when every batch is 1 already."""
        batch = max((dims[0] for dims in self.shapes.input_dims.values() if dims and dims[0]), default=1)
        return f"{advice}{batch:,})" if batch > 1 else ""

    def contributors(self, tensors: list[tuple[str, int]], total: int, top: int = 3) -> str:
        """"'r0' 12.2 MiB (output of conv1, 50%), …": the largest of `tensors` and where each comes from."""
        parts = []
        for name, size in tensors[:top]:
            producer = self.graph.producer.get(name)
            origin = f"output of {producer.label}" if producer else "model input"
            parts.append(f"'{name}' {nbytes(size)} ({origin}, {pct(size, total)})")
        return ", ".join(parts)

    def savings(self, before, after, batch: int = 1) -> Savings:
        """Savings of replacing ConvSpec(s) `before` by the ConvSpecs `after`."""
        before = [before] if isinstance(before, ConvSpec) else list(before)
        (p0, m0), (p1, m1) = replacement_cost(before, batch), replacement_cost(after, batch)
        model_macs = self.totals.macs if self.totals.macs_complete else 0  # a share of a partial total would lie
        return Savings(p0, p1, m0, m1, self.totals.params, model_macs)


def measured_together(members: list[Diagnostic]) -> str | None:
    """What --what-if measured of a group's replacements, together (each member's own is behind --show-all)."""
    timed = [d.savings.extra for d in members if d.savings and "measured_ms_before" in d.savings.extra]
    if not timed:
        return None
    before, after = sum(t["measured_ms_before"] for t in timed), sum(t["measured_ms_after"] for t in timed)
    noisy = sum(t["measured_within_noise"] for t in timed)
    return (f"what-if: {len(timed):,} of {len(members):,} replacements measured, together {before:.2f} ms → "
            f"{after:.2f} ms (medians; {noisy:,} within this machine's noise)")


class Rule:
    """Base of every rule. Subclasses set the class attributes and implement check_node
    (called for each node of `op_types`) or check_model (when `op_types` is empty)."""
    code: ClassVar[str]
    name: ClassVar[str]
    severity: ClassVar[Severity]
    summary: ClassVar[str]
    op_types: ClassVar[tuple[str, ...]] = ()
    default_enabled: ClassVar[bool] = True
    options: ClassVar[tuple[Option, ...]] = ()
    # findings on several nodes become one finding listing them: None, suggestions only; True, any severity
    groups: ClassVar[bool | None] = None
    only_when_alone: ClassVar[bool] = False  # dropped on a node that another finding already names
    group_advice: ClassVar[str | None] = None  # the suggestion of a group (default: its largest member's)
    applicability: ClassVar[str | None] = None  # of its fix: "exact" or "changes numerics"; None: no fix
    source: ClassVar[str] = "static"  # "onnxruntime": its findings state what execution found
    measurable: ClassVar[bool] = False  # --what-if times the replacement its findings suggest
    explains: ClassVar[tuple[str, ...]] = ()  # the codes of the per-layer findings its findings are the cause of

    def __init__(self, values: dict[str, Any] | None = None) -> None:
        self.opts = {o.name: o.convert(o.default) for o in self.options}
        for key, value in (values or {}).items():
            option = next((o for o in self.options if o.name == key), None)
            if option is None:
                known = ", ".join(o.name for o in self.options) or "none"
                raise ValueError(f"{self.code} ({self.name}) has no option '{key}' (options: {known})")
            self.opts[key] = option.convert(value)

    def check_node(self, ctx: Context, layer: Layer) -> Iterable[Diagnostic]:
        return ()

    def check_model(self, ctx: Context) -> Iterable[Diagnostic]:
        return ()

    def fix_hint(self) -> str:
        """' (`onnxlint fix MODEL -o OUT.onnx --select OL401`, exact)': the pointer a suggestion gives to its fix.
        The engine puts why not in its place where `onnxlint fix` would skip the finding (fix_blocked)."""
        return f" (`onnxlint fix MODEL -o OUT.onnx --select {self.code}`, {self.applicability})"

    def fix_blocked(self, ctx: Context, match: Any) -> str | None:
        """Why `onnxlint fix` would skip what the check matched, in this model (None: it applies). The model-wide
        reasons (weights without data, an error) are the engine's; a rule adds its own."""
        return None

    def fix(self, rewriter, match: Any) -> None:
        """Rewrite what the check matched (`match`: what it passed to `report`, the layers to rewrite), editing
        only through the `onnxlint.rewriter.Rewriter` (the model's copy, its maps kept current); record it
        with rewriter.changed(...) or rewriter.skip(...). A rule that can fix overrides this and sets
        `applicability`; `onnxlint fix` finds it in the catalog."""
        raise NotImplementedError

    def report(self, message: str, layer: Layer | None = None, *, suggestion: str | None = None,
               savings: Savings | None = None, severity: Severity | None = None, replacement: tuple = (),
               node: Node | None = None, nodes: tuple = (), match: Any = None,
               because: str | None = None) -> Diagnostic:
        """A finding. Its severity is the rule's (`onnxlint rules` lists it) unless `severity` says otherwise, and
        then `because` says why, at the end of the message: one severity everywhere, and the reason beside it."""
        node = layer if layer is not None else node
        if severity is not None and severity != self.severity:
            if not because:
                raise ValueError(f"{self.code}: a finding of another severity than the rule's needs `because`")
            message = f"{message} ({severity}, not {self.severity}: {because})"
        worth = None
        if savings is not None and savings.model_macs:
            worth = (savings.macs_before - savings.macs_after) / savings.model_macs
        where = node.origin if node is not None else None
        return Diagnostic(self.code, self.name, severity or self.severity, message,
                          node.name if node else None, node.op_type if node else None,
                          node.scope if node else "graph", suggestion, savings, self.source, replacement=replacement,
                          worth=worth, nodes=nodes, module=where.module or None if where else None,
                          module_class=where.module_class if where else None,
                          source_file=where.file if where else None, source_line=where.line if where else None,
                          match=match)

    def measured(self, diagnostic: Diagnostic, layer: Layer, measure: Callable) -> Diagnostic:
        """The finding with what --what-if measured of its replacement added to its suggestion and savings."""
        timing = measure(layer, diagnostic.replacement)
        return replace(diagnostic, measured=timing.text(diagnostic.savings),
                       savings=replace(diagnostic.savings, extra={**diagnostic.savings.extra, **timing.extra}))

    def material(self, savings: Savings) -> bool:
        """Whether a MACs saving reaches the rule's `min-model-saving` (always, when the total is unknown)."""
        if not savings.model_macs:
            return True
        return savings.macs_before - savings.macs_after >= self.opts.get("min-model-saving", 0) * savings.model_macs

    def summarize(self, members: list[Diagnostic], ctx: Context) -> tuple[str, str | None]:
        """The message and suggestion of the one finding that stands for `members` (the same rule on many
        nodes). The default names the count, what they save together and the largest."""
        totals = ctx.totals
        largest = max(members, key=lambda d: d.worth or 0)
        saved = sum(d.savings.macs_before - d.savings.macs_after for d in members if d.savings)
        together = ""
        if saved:
            share_ = (f", {100 * saved / totals.macs:.1f}% of the model's" if totals.macs_complete and totals.macs
                      else "")
            together = f": together they would save {count(saved)} MACs{share_}"
        biggest = f"; the largest saving is at {largest.where}" if largest.worth else ""
        return (f"{len(members):,} layers: {self.summary_text(self.opts)}{together}{biggest}",
                f"{self.group_advice or largest.suggestion}; --show-all lists each layer with its "
                "numbers")

    @classmethod
    def doc(cls) -> str:
        return inspect.cleandoc(cls.__doc__ or "")

    @classmethod
    def summary_text(cls, opts: dict | None = None) -> str:
        """The summary with its `{option}` (or `{option:%}`) placeholders filled from option values: the
        defaults, or a configured rule's own."""
        values = opts if opts is not None else {o.name: o.convert(o.default) for o in cls.options}

        def fill(match) -> str:
            value = values[match.group(1)]
            return f"{value:.0%}" if match.group(2) == "%" else str(value)
        return re.sub(r"\{([a-z][a-z-]*)(?::(%))?\}", fill, cls.summary)
