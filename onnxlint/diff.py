"""`onnxlint diff OLD NEW`: what a change to a model cost and what it fixed or broke, layer by layer.

Layers that carry params or MACs are matched by module path (the dynamo exporter's metadata or the
TorchScript exporter's node names), then by node name, then by structure (their position among the layers
of the same op type); the report says which matching found each pair."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from onnxlint.report import Report


@dataclass
class LayerChange:
    old: object | None  # cost.Layer
    new: object | None
    matched_by: str  # "module path", "name", "structure", or "" for an added/removed layer

    @property
    def label(self) -> str:
        layer = self.new or self.old
        return layer.label

    def delta(self, attr: str) -> int | None:
        """NEW − OLD (an added or removed layer counts from 0); None when a side's value is unknown."""
        values = [getattr(layer, attr) if layer is not None else 0 for layer in (self.old, self.new)]
        return None if None in values else values[1] - values[0]

    @property
    def changed(self) -> bool:
        return (self.old is None or self.new is None or self.delta("macs") != 0 or self.delta("params") != 0
                or self.old.output_shape != self.new.output_shape)


@dataclass
class ModelDiff:
    old: Report
    new: Report
    layers: list[LayerChange] = field(default_factory=list)
    fixed: list = field(default_factory=list)  # diagnostics of OLD that NEW no longer has, where NEW was checked
    introduced: list = field(default_factory=list)
    unchanged: list = field(default_factory=list)
    unchecked: list = field(default_factory=list)  # of OLD, gone in NEW only because NEW's shapes there are unknown
    notes: list[str] = field(default_factory=list)  # how the comparison was made (a side linted at the other's size)

    def total(self, attr: str) -> tuple[int | None, int | None]:
        """The two totals; None where a side's total is not exact (unknown is never 0)."""
        return exact_total(self.old, attr), exact_total(self.new, attr)

    def count_text(self) -> str:
        """'2 findings fixed, 1 new, 3 unchanged (7 per node)': counted as lint counts them (a group once, a folded
        finding under its root cause), the per-node number beside it where it differs."""
        def counted(report: Report, found: list, what: str) -> str:
            n = len(findings_in(report, found))
            return f"{n:,} {what}" + (f" ({len(found):,} per node)" if n != len(found) else "")
        parts = [counted(self.old, self.fixed, "findings fixed" if len(self.fixed) != 1 else "finding fixed"),
                 counted(self.new, self.introduced, "new"), counted(self.new, self.unchanged, "unchanged")]
        if self.unchecked:
            parts.append(counted(self.old, self.unchecked, "not checked (shapes unknown in NEW)"))
        return ", ".join(parts)

    def unknown_why(self, attr: str) -> list[str]:
        """Why a total is unknown, per side: 'NEW: 5 layers unknown: Conv ×5'."""
        from onnxlint import units

        why = []
        for side, report in (("OLD", self.old), ("NEW", self.new)):
            if exact_total(report, attr) is None:
                t = report.totals
                what = units.unknown_layers(t.unbounded_layers) if attr == "macs" else \
                    f"{units.plural(t.unbounded_tensors, 'tensor')} of unknown size"
                why.append(f"{side} {report.path}: {what}")
        return why

    def matching(self) -> dict[str, int]:
        """How many layers each matching paired ("module path", "name", "structure"), and how many are
        "added" or "removed"."""
        counts: dict[str, int] = {}
        for change in self.layers:
            key = change.matched_by or ("added" if change.old is None else "removed")
            counts[key] = counts.get(key, 0) + 1
        return counts

    def matching_text(self) -> str:
        return ", ".join(f"{n} by {how}" if how not in ("added", "removed") else f"{n} {how}"
                         for how, n in self.matching().items())

    def to_dict(self) -> dict:
        def totals(attr):
            before, after = self.total(attr)
            return {"old": before, "new": after,
                    "delta": after - before if before is not None and after is not None else None}

        return {"old": self.old.path, "new": self.new.path,
                "totals": {"params": totals("params"), "macs": totals("macs"),
                           "peak_activation_bytes": totals("peak_activation_bytes"),
                           "peak_at": {"old": self.old.totals.peak_at, "new": self.new.totals.peak_at},
                           "complete": {"old": self.old.totals.complete, "new": self.new.totals.complete}},
                "matching": self.matching(),
                "layers": [{"layer": c.label, "old": c.old.name if c.old else None,
                            "new": c.new.name if c.new else None,
                            "matched_by": c.matched_by or None, "params_delta": c.delta("params"),
                            "macs_delta": c.delta("macs"),
                            "output_shape": {"old": list(c.old.output_shape) if c.old and c.old.output_shape else None,
                                             "new": list(c.new.output_shape) if c.new and c.new.output_shape else None}}
                           for c in self.layers if c.changed],
                "findings": {"fixed": [d.to_dict() for d in self.fixed], "new": [d.to_dict() for d in self.introduced],
                             "unchanged": len(self.unchanged),
                             "unchecked": [d.to_dict() for d in self.unchecked]},
                "notes": self.notes}


def findings_in(report: Report, found: list) -> list:
    """The findings a person reads (groups, root causes) that the per-node findings `found` stand in, in order."""
    index, chosen = report.finding_index(), {id(d) for d in found}
    items = {}
    for d in found:
        item = index.get(id(d), d)
        if getattr(item, "members", None) is not None and not all(id(m) in chosen for m in item.members):
            item = d  # a group only partly in `found`: its members here stand for themselves
        items.setdefault(id(item), item)
    return list(items.values())


def exact_total(report: Report, attr: str) -> int | None:
    """A total when it is exact: params always; MACs when every layer's is known; the peak when every tensor's
    size is."""
    t = report.totals
    if attr == "macs" and not t.macs_complete or attr == "peak_activation_bytes" and t.unknown_tensors:
        return None
    return getattr(t, attr)


def _counted(report: Report) -> list:
    return [layer for layer in report.layers if layer.params or layer.macs]


def _keys(layer, index: dict) -> list[tuple]:
    origin = layer.origin
    keys = []
    if origin is not None and origin.module:
        n = index.setdefault(("module", origin.module, layer.op), 0)
        index[("module", origin.module, layer.op)] = n + 1
        keys.append(("module path", origin.module, layer.op, n))
    keys.append(("name", layer.name))
    return keys


def compare(old: Report, new: Report) -> ModelDiff:
    diff = ModelDiff(old, new)
    old_layers, new_layers = _counted(old), _counted(new)
    old_index: dict = {}
    by_key = {}
    for layer in old_layers:
        for key in _keys(layer, old_index):
            by_key.setdefault(key, layer)
    matched_old, pairs = set(), {}
    new_index: dict = {}
    for layer in new_layers:
        for key in _keys(layer, new_index):
            other = by_key.get(key)
            if other is not None and id(other) not in matched_old:
                matched_old.add(id(other))
                pairs[id(layer)] = (other, key[0])
                break
    # structure: the k-th unmatched layer of an op type in one model is the k-th in the other
    left = {}
    for layer in old_layers:
        if id(layer) not in matched_old:
            left.setdefault(layer.op, []).append(layer)
    for layer in new_layers:
        if id(layer) not in pairs and left.get(layer.op):
            other = left[layer.op].pop(0)
            matched_old.add(id(other))
            pairs[id(layer)] = (other, "structure")
    for layer in new_layers:
        other, how = pairs.get(id(layer), (None, ""))
        diff.layers.append(LayerChange(other, layer, how))
    diff.layers += [LayerChange(layer, None, "") for layer in old_layers if id(layer) not in matched_old]

    def key(d):
        return d.code, d.module or d.node
    old_keys = {key(d) for d in old.diagnostics}
    new_keys = {key(d) for d in new.diagnostics}
    gone = [d for d in old.diagnostics if key(d) not in new_keys]
    checked = _checkable(diff, new)
    diff.fixed = [d for d in gone if checked(d)]
    diff.unchecked = [d for d in gone if not checked(d)]
    diff.introduced = [d for d in new.diagnostics if key(d) not in old_keys]
    diff.unchanged = [d for d in new.diagnostics if key(d) in old_keys]
    return diff


def _checkable(diff: ModelDiff, new: Report):
    """Whether a rule could have fired again in NEW where an OLD finding stood: its layer there (matched, or of
    the same name) has known shapes and costs, or is gone; a finding about the whole model needs NEW complete."""
    counterpart = {c.old.name: c.new for c in diff.layers if c.old is not None}
    by_name = {layer.name: layer for layer in new.layers}

    def known(layer) -> bool:
        return layer.output_shape is not None and None not in layer.output_shape and layer.macs is not None

    def checked(d) -> bool:
        if d.node is None:
            return new.totals.complete
        layer = counterpart.get(d.node) or by_name.get(d.node)
        return layer is None or known(layer)
    return checked


_BUDGET = re.compile(r"^(macs|params|peak)=(\d+(?:\.\d+)?)(%?)$")


def parse_budgets(text: str) -> dict[str, tuple[float, bool]]:
    """'macs=5%,params=0,peak=10%' → {"macs": (5.0, True), "params": (0.0, False), "peak": (10.0, True)}."""
    budgets = {}
    for part in [p.strip() for p in text.split(",") if p.strip()]:
        match = _BUDGET.match(part)
        if not match:
            raise ValueError(f"--fail-on-increase '{part}': expected macs|params|peak=N or N% (e.g. macs=5%,params=0)")
        budgets[match.group(1)] = (float(match.group(2)), bool(match.group(3)))
    return budgets


_ATTR = {"macs": "macs", "params": "params", "peak": "peak_activation_bytes"}


def unchecked_budgets(diff: ModelDiff, budgets: dict) -> list[str]:
    """One sentence per budget that cannot be checked, because a side's total is unknown."""
    return [f"the {name} budget cannot be checked: {'; '.join(diff.unknown_why(_ATTR[name]))}"
            for name in budgets if None in diff.total(_ATTR[name])]


def over_budget(diff: ModelDiff, budgets: dict) -> list[str]:
    """One sentence per budget the change exceeds (a total that is unknown gets no verdict)."""
    problems = []
    for name, (limit, percent) in budgets.items():
        before, after = diff.total(_ATTR[name])
        if before is None or after is None:
            continue
        increase = after - before
        allowed = before * limit / 100 if percent else limit
        if increase > allowed:
            share = f" (+{100 * increase / before:.2f}%)" if before else ""
            problems.append(f"{name} grew by {increase:,}{share}, over the budget of "
                            f"{f'{limit:g}%' if percent else f'{limit:,.0f}'}: {before:,} → {after:,}")
    return problems


def _signed(n: int | None, unit=None) -> str:
    from onnxlint import units

    if n is None:
        return "unknown"
    text = (unit or units.count)(abs(n))
    return f"+{text}" if n > 0 else f"−{text}" if n < 0 else "±0"


def _delta(before: int | None, after: int | None) -> int | None:
    return None if before is None or after is None else after - before


def _pct(before: int | None, after: int | None) -> str:
    if not before or after is None:
        return ""
    change = 100 * (after - before) / before
    return f" ({'+' if change > 0 else '−' if change < 0 else '±'}{abs(change):.2f}%)"  # the minus sign of _signed


def render_text(diff: ModelDiff, *, markdown: bool = False, problems: list[str] = ()) -> str:
    """The diff for a terminal, or (markdown) for a pull-request comment."""
    from onnxlint import units
    from onnxlint.escape import markdown as md
    from onnxlint.escape import markdown_code as code
    from onnxlint.escape import terminal

    lines = []
    rows = []
    unknown = []
    for label, attr, unit in (("params", "params", units.count), ("MACs", "macs", units.count),
                              ("peak activations", "peak_activation_bytes", units.nbytes)):
        before, after = diff.total(attr)
        rows.append([label, "unknown" if before is None else unit(before), "unknown" if after is None else unit(after),
                     _signed(_delta(before, after), unit) + _pct(before, after)])
        unknown += [f"{label} unknown in {why}" for why in diff.unknown_why(attr)]
    peaks = tuple(report.totals.peak_label if exact_total(report, "peak_activation_bytes") is not None else "unknown"
                  for report in (diff.old, diff.new))
    matching = diff.matching_text()
    changed = [c for c in diff.layers if c.changed]
    if markdown:
        lines += [f"### onnxlint diff: {code(diff.old.path)} → {code(diff.new.path)}", "",
                  "| | old | new | change |", "|---|---:|---:|---:|"]
        lines += [f"| {r[0]} | {r[1]} | {r[2]} | {r[3]} |" for r in rows]
        lines += [""] + [f"{md(note)}  " for note in diff.notes + unknown]
        lines += [f"Peak at {code(peaks[0])} → {code(peaks[1])}. Layers matched: {md(matching)}.", ""]
        if changed:
            lines += ["| layer | change | params | MACs | output |", "|---|---|---:|---:|---|"]
            for c in changed:
                what = "added" if c.old is None else "removed" if c.new is None else f"by {c.matched_by}"
                shape = (f"{units.shape(c.old.output_shape) if c.old else '—'} → "
                         f"{units.shape(c.new.output_shape) if c.new else '—'}")
                lines.append(f"| {code(c.label)} | {what} | {_signed(c.delta('params'))} | {_signed(c.delta('macs'))} "
                             f"| {shape} |")
            lines.append("")
        for title, report, found in (("Fixed", diff.old, diff.fixed), ("New", diff.new, diff.introduced),
                                     ("Not checked in NEW, its shapes unknown there", diff.old, diff.unchecked)):
            if found:
                items = findings_in(report, found)
                lines.append(f"**{title} findings ({len(items)})**")
                lines += [f"- `{d.code}`{md(_where(d))}: {md(d.message)}" for d in items]
                lines.append("")
        lines.append(f"{diff.count_text()}.")
        lines += [f"\n**Over budget:** {md(p)}" for p in problems]
        return "\n".join(lines) + "\n"
    lines.append(terminal(f"{diff.old.path} → {diff.new.path}"))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    lines += ["  " + "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths)))
              for r in rows]
    lines += [terminal(f"  {note}") for note in diff.notes + unknown]
    lines.append(terminal(f"  peak at {peaks[0]} → {peaks[1]}; layers matched {matching}"))
    for c in changed:
        what = "added" if c.old is None else "removed" if c.new is None else f"by {c.matched_by}"
        shape = "" if c.old is None or c.new is None or c.old.output_shape == c.new.output_shape else \
            f", output {units.shape(c.old.output_shape)} → {units.shape(c.new.output_shape)}"
        lines.append(terminal(f"  {c.label} ({what}): params {_signed(c.delta('params'))}, "
                              f"MACs {_signed(c.delta('macs'))}{shape}"))
    for title, report, found in (("fixed", diff.old, diff.fixed), ("new", diff.new, diff.introduced),
                                 ("not checked", diff.old, diff.unchecked)):
        lines += [terminal(f"  {title} {d.code}{_where(d)}: {d.message}") for d in findings_in(report, found)]
    lines.append(f"  {diff.count_text()}")
    lines += [terminal(f"over budget: {p}") for p in problems]
    return "\n".join(lines) + "\n"


def _where(finding) -> str:
    """' at <node>' (module path first; '-' for the whole model); nothing for a group, whose message names them."""
    return "" if getattr(finding, "members", None) is not None else f" at {finding.where or '-'}"
