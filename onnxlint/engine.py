"""The rule engine: selection, one walk over the layers dispatching to the rules, suppression, root causes
folded, repeats grouped (the Rule base class and its Context: rule.py; discovery: catalog.py)."""
from __future__ import annotations

import fnmatch
from collections.abc import Iterable
from dataclasses import dataclass, field

from onnxlint.baseline import fingerprint, model_key
from onnxlint.catalog import all_rules
from onnxlint.diagnostics import Diagnostic, Group, Severity
from onnxlint.graph import MAIN
from onnxlint.rule import Context, Rule, measured_together


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


@dataclass
class Suppressed:
    """What the suppressions of one model did: the `code:glob` keys of --ignore-node / `ignore` that matched a
    finding, and how many findings the baseline accepted (the run reports the ones that matched nothing)."""
    globs: set = field(default_factory=set)
    baseline: int = 0
    stale: int = 0  # baseline entries of rules that ran and found nothing there: fixed, or changed


class _Suppressor:
    """--ignore-node globs and the baseline, applied to each finding as a rule makes it (before --what-if
    would time it), with a record of what each suppressed."""

    def __init__(self, ctx: Context) -> None:
        settings = ctx.settings
        self.ignore_nodes = getattr(settings, "ignore_nodes", None) or {}
        baseline = getattr(settings, "baseline", None)
        self.accepted = baseline.for_model(ctx.source) if baseline is not None else None
        self.codes = baseline.codes if baseline is not None else {}
        self.model = model_key(ctx.source, baseline.path.parent) if baseline is not None else ""
        self.done, self.dropped = Suppressed(), []

    def drops(self, d: Diagnostic) -> bool:
        glob = _ignore_glob(d, self.ignore_nodes)
        key = fingerprint(d.code, self.model, d.where, d.message) if self.accepted else None
        if glob is not None:
            self.done.globs.add(glob)
            self.dropped.append(d)
            if key is not None and self.accepted[key] > 0:  # ignored, not fixed: its baseline entry is not stale
                self.accepted[key] -= 1
            return True
        if self.accepted:
            if self.accepted[key] > 0:
                self.accepted[key] -= 1
                self.done.baseline += 1
                self.dropped.append(d)
                return True
        return False

    def roots_left(self, kept: list[Diagnostic], rules: dict[str, Rule]) -> list[Diagnostic]:
        """`kept` without the root-cause findings (OL104) every node of which had its own findings suppressed:
        they would fail the run in those nodes' name."""
        if not self.dropped:
            return kept
        gone = []
        for root in kept:
            explained = rules[root.code].explains if root.code in rules else ()
            if root.nodes and explained:
                left = {d.node for d in kept if d.code in explained}
                if set(root.nodes) <= {d.node for d in self.dropped if d.code in explained} - left:
                    gone.append(root)
        return [d for d in kept if all(d is not g for g in gone)]


def run_rules(ctx: Context, rules: list[Rule]) -> tuple[list[Diagnostic], list[Group], Suppressed]:
    """Every rule over the facts, then the findings a person reads: suppressions applied (--ignore-node, the
    baseline), the per-layer consequences of an input size folded under it, redundant ones dropped, repeats
    grouped."""
    by_op: dict[str, list[Rule]] = {}
    diagnostics: list[Diagnostic] = []
    suppressor = _Suppressor(ctx)
    for rule in rules:
        if rule.op_types:
            for op in rule.op_types:
                by_op.setdefault(op, []).append(rule)
        else:
            diagnostics.extend(d for d in rule.check_model(ctx) if not suppressor.drops(d))
    for layer in ctx.layers:
        if layer.node in ctx.shapes.problems or layer.node in ctx.shapes.invalid:
            continue  # its shapes contradict each other (OL004), or it breaks its schema (OL006): no claim stands
        for rule in by_op.get(layer.op, ()):
            for d in rule.check_node(ctx, layer):
                if not suppressor.drops(d):
                    measured = ctx.measure is not None and rule.measurable and d.replacement and d.savings
                    diagnostics.append(rule.measured(d, layer, ctx.measure) if measured else d)
    by_code = {rule.code: rule for rule in rules}
    if suppressor.accepted:  # what the baseline accepted and no rule that ran found again (a rule not run: unknown)
        suppressor.done.stale = sum(n for key, n in suppressor.accepted.items()
                                    if n > 0 and suppressor.codes.get(key) in by_code)
    diagnostics = suppressor.roots_left(diagnostics, by_code)
    named = {d.node for d in diagnostics}  # path = scope/name, as in a Diagnostic: built for those alone
    order = {layer.path: i for i, layer in enumerate(ctx.layers) if layer.name in named}
    diagnostics.sort(key=lambda d: (order.get(f"{d.location}/{d.node}", -1), d.code))
    _fold_into_root_causes(diagnostics, by_code)
    diagnostics = _drop_redundant(diagnostics, by_code, suppressor.dropped)
    _offer_fixes(diagnostics, by_code, ctx)
    groups = _groups(diagnostics, by_code, ctx)
    for group in groups:  # a group points to its fix while `onnxlint fix` applies to one of its members
        first = group.members[0]
        if first.fix_blocked and not any(m.fix for m in group.members) and group.suggestion:
            group.suggestion = group.suggestion.replace(by_code[group.code].fix_hint(), _refused(first.fix_blocked))
    return diagnostics, groups, suppressor.done


def _offer_fixes(diagnostics: list[Diagnostic], rules: dict[str, Rule], ctx: Context) -> None:
    """Say per finding whether `onnxlint fix` applies to it here (ruff's fix availability): a finding never
    points to a fix that `fix` would skip. Where it would, the reason takes the place of the pointer."""
    model_reason = None
    for d in diagnostics:
        rule = rules.get(d.code)
        if rule is None or rule.applicability is None or d.match is None:
            continue
        if model_reason is None:
            model_reason = _fix_blocked_here(diagnostics, ctx) or ""
        reason = model_reason or ("it is inside a subgraph" if d.location != MAIN else None) \
            or rule.fix_blocked(ctx, d.match)
        if reason is None:
            d.fix = rule.applicability
            continue
        d.fix_blocked = reason
        if d.suggestion:
            d.suggestion = d.suggestion.replace(rule.fix_hint(), _refused(reason))


def _refused(reason: str) -> str:
    return f"; `onnxlint fix` cannot do it here: {reason}"


def _fix_blocked_here(diagnostics: list[Diagnostic], ctx: Context) -> str | None:
    """Why no fix of this model can be verified, whatever the rule: what `onnxlint fix` refuses it for."""
    from onnxlint.loader import weights_missing

    if ctx.unsafe_external:
        return "the model has unsafe external data (OL003)"
    error = next((d for d in diagnostics if d.severity == Severity.ERROR), None)
    if error is not None:
        return f"the model has an error ({error.code}) onnxruntime cannot run past"
    if ctx.loaded is not None:
        return weights_missing(ctx.loaded.model)
    return None


def _fold_into_root_causes(diagnostics: list[Diagnostic], rules: dict[str, Rule]) -> None:
    for root in diagnostics:
        explained = rules[root.code].explains if root.code in rules else ()
        if explained and root.nodes:
            for d in diagnostics:
                if d.code in explained and d.node in root.nodes and d.folded_into is None:
                    d.folded_into = root.code


def _drop_redundant(diagnostics: list[Diagnostic], rules: dict[str, Rule], suppressed=()) -> list[Diagnostic]:
    """Without the findings of `only_when_alone` rules on a node another finding names (a suppressed one too:
    accepting OL201 at a layer does not bring its OL205 forward)."""
    named = {(d.location, d.node) for d in (*diagnostics, *suppressed)
             if d.node and not rules.get(d.code, Rule).only_when_alone}
    return [d for d in diagnostics
            if not (d.code in rules and rules[d.code].only_when_alone and (d.location, d.node) in named)]


def _groups(diagnostics: list[Diagnostic], rules: dict[str, Rule], ctx: Context) -> list[Group]:
    """One Group per rule whose suggestions fire on two or more nodes."""
    by_code: dict[str, list[Diagnostic]] = {}
    for d in diagnostics:
        if d.node and d.folded_into is None and d.code in rules and rules[d.code].groups is not False \
                and (d.severity == Severity.SUGGESTION or rules[d.code].groups):
            by_code.setdefault(d.code, []).append(d)
    groups = []
    for code, members in by_code.items():
        if len(members) < 2:
            continue
        rule = rules[code]
        message, suggestion = rule.summarize(members, ctx)
        worths = [d.worth for d in members if d.worth is not None]
        groups.append(Group(code, rule.name, rule.severity, message, suggestion, members,
                            sum(worths) if worths else None, measured_together(members)))
    return groups


def _ignore_glob(d: Diagnostic, ignore_nodes: dict[str, tuple[str, ...]]) -> str | None:
    """The `key:glob` of --ignore-node / `ignore` that suppresses `d`, or None."""
    if d.node is None:
        return None
    path = f"{d.location}/{d.node}"
    for key, globs in ignore_nodes.items():
        if key == d.code or key == d.name or d.code.startswith(key.upper()) or key == "ALL":
            for g in globs:
                if fnmatch.fnmatchcase(d.node, g) or fnmatch.fnmatchcase(path, g) or (
                        d.module is not None and fnmatch.fnmatchcase(d.module, g)):
                    return f"{key}:{g}"
    return None
