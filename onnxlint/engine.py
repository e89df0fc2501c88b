"""The rule engine: discovery, selection, one walk over the layers, suppression."""
from __future__ import annotations

import fnmatch
import importlib
import inspect
import pkgutil
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any, ClassVar

from onnxlint.cost import ConvSpec, Layer, Totals, replacement_cost
from onnxlint.diagnostics import Diagnostic, Savings, Severity
from onnxlint.graph import Graph, Node
from onnxlint.shapes import Shapes

DOC_SECTIONS = ("What it checks", "Why it matters", "Example", "What to do")


@dataclass(frozen=True)
class Option:
    """A rule option: declared with type, default and doc; validated when settings load."""
    name: str
    type: type
    default: Any
    doc: str

    def convert(self, value: Any) -> Any:
        if self.type is bool and not isinstance(value, bool):
            raise ValueError(f"option '{self.name}' must be true or false, not {value!r}")
        if self.type is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, self.type) or (self.type is int and isinstance(value, bool)):
            if isinstance(value, str):
                try:
                    return self.type(value) if self.type is not bool else value.lower() in ("1", "true", "yes")
                except ValueError:
                    pass
            raise ValueError(f"option '{self.name}' must be {self.type.__name__}, not {value!r}")
        return value


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
    by_node: dict[Node, Layer] = None  # type: ignore[assignment]

    def __post_init__(self) -> None:
        self.by_node = {layer.node: layer for layer in self.layers}

    def producer(self, tensor: str) -> Layer | None:
        node = self.graph.producer.get(tensor)
        return self.by_node.get(node) if node is not None else None

    def consumers(self, tensor: str) -> list[Layer]:
        return [self.by_node[n] for n in self.graph.consumers.get(tensor, ())]

    def savings(self, before, after, batch: int = 1) -> Savings:
        """Savings of replacing ConvSpec(s) `before` by the ConvSpecs `after`."""
        before = [before] if isinstance(before, ConvSpec) else list(before)
        (p0, m0), (p1, m1) = replacement_cost(before, batch), replacement_cost(after, batch)
        model_macs = self.totals.macs if self.totals.macs_complete else 0  # a share of a partial total would lie
        return Savings(p0, p1, m0, m1, self.totals.params, model_macs)


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

    def __init__(self, values: dict[str, Any] | None = None) -> None:
        self.opts = {o.name: o.default for o in self.options}
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

    def report(self, message: str, layer: Layer | None = None, *, suggestion: str | None = None,
               savings: Savings | None = None, severity: Severity | None = None, replacement: tuple = (),
               node: Node | None = None) -> Diagnostic:
        node = layer.node if layer is not None else node
        return Diagnostic(self.code, self.name, severity or self.severity, message,
                          node.name if node else None, node.op_type if node else None,
                          node.scope if node else "graph", suggestion, savings, replacement=replacement)

    @classmethod
    def doc(cls) -> str:
        return inspect.cleandoc(cls.__doc__ or "")


@cache
def all_rules() -> tuple[type[Rule], ...]:
    """Built-in rules (every module of onnxlint.rules) plus the `onnxlint.rules` entry points."""
    import onnxlint.rules as package

    found: dict[str, type[Rule]] = {}
    for info in pkgutil.iter_modules(package.__path__):
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        for obj in vars(module).values():
            if inspect.isclass(obj) and issubclass(obj, Rule) and obj is not Rule and obj.__module__ == module.__name__:
                found[obj.code] = obj
    from importlib.metadata import entry_points

    for ep in entry_points(group="onnxlint.rules"):
        loaded = ep.load()
        candidates = [loaded] if inspect.isclass(loaded) else [
            o for o in vars(loaded).values() if inspect.isclass(o) and issubclass(o, Rule) and o is not Rule]
        for rule in candidates:
            if rule.code in found and found[rule.code] is not rule:
                raise ValueError(f"plugin rule {rule.code} from '{ep.value}' reuses a code already taken")
            found[rule.code] = rule
    return tuple(sorted(found.values(), key=lambda r: r.code))


def find_rule(key: str) -> type[Rule] | None:
    key_upper = key.upper()
    return next((r for r in all_rules() if r.code == key_upper or r.name == key), None)


_SELECTOR = re.compile(r"^[A-Z]+[0-9]*$")


def check_selector(selector: str) -> str:
    if selector == "ALL" or find_rule(selector) or (
            _SELECTOR.match(selector.upper()) and any(r.code.startswith(selector.upper()) for r in all_rules())):
        return selector
    raise ValueError(f"unknown rule or prefix '{selector}' (see `onnxlint rules`)")


def _matches(rule: type[Rule], selector: str, *, exact: bool = False) -> bool:
    if selector == "ALL":
        return not exact
    if selector == rule.name or selector.upper() == rule.code:
        return True
    return not exact and rule.code.startswith(selector.upper())


def selected_rules(select: Iterable[str] = (), extend_select: Iterable[str] = (),
                   ignore: Iterable[str] = ()) -> list[type[Rule]]:
    """Ruff-style selection: `select` replaces the default set, `extend-select` adds to it,
    `ignore` removes; an opt-in rule runs only when named by its exact code or name."""
    select, extend_select, ignore = list(select), list(extend_select), list(ignore)
    chosen = []
    for rule in all_rules():
        wanted = select + extend_select
        if rule.default_enabled:
            on = any(_matches(rule, s) for s in wanted) if select else True
        else:
            on = any(_matches(rule, s, exact=True) for s in wanted)
        if on and not any(_matches(rule, s) for s in ignore):
            chosen.append(rule)
    return chosen


def run_rules(ctx: Context, rules: list[Rule],
              ignore_nodes: dict[str, tuple[str, ...]] | None = None) -> list[Diagnostic]:
    by_op: dict[str, list[Rule]] = {}
    diagnostics: list[Diagnostic] = []
    for rule in rules:
        if rule.op_types:
            for op in rule.op_types:
                by_op.setdefault(op, []).append(rule)
        else:
            diagnostics.extend(rule.check_model(ctx))
    for layer in ctx.layers:
        if layer.node in ctx.shapes.problems:
            continue  # its shapes contradict each other (OL004): no other claim stands on them
        for rule in by_op.get(layer.node.op, ()):
            diagnostics.extend(rule.check_node(ctx, layer))
    order = {layer.node.path: i for i, layer in enumerate(ctx.layers)}  # path = scope/name, as in a Diagnostic
    diagnostics.sort(key=lambda d: (order.get(f"{d.location}/{d.node}", -1), d.code))
    return [d for d in diagnostics if not _suppressed(d, ignore_nodes or {})]


def _suppressed(d: Diagnostic, ignore_nodes: dict[str, tuple[str, ...]]) -> bool:
    if d.node is None:
        return False
    path = f"{d.location}/{d.node}"
    for key, globs in ignore_nodes.items():
        if key == d.code or key == d.name or d.code.startswith(key.upper()) or key == "ALL":
            if any(fnmatch.fnmatchcase(d.node, g) or fnmatch.fnmatchcase(path, g) for g in globs):
                return True
    return False


def iter_sections(doc: str) -> Iterator[tuple[str, str]]:
    """Split a rule docstring into (section title, text) pairs; the first paragraph is untitled."""
    title, lines = "", []
    for line in doc.splitlines():
        if line.strip() in DOC_SECTIONS + ("Options",):
            yield title, "\n".join(lines).strip()
            title, lines = line.strip(), []
        else:
            lines.append(line)
    yield title, "\n".join(lines).strip()
