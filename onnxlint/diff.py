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

    def delta(self, attr: str) -> int:
        return (getattr(self.new, attr) or 0 if self.new else 0) - (getattr(self.old, attr) or 0 if self.old else 0)


@dataclass
class ModelDiff:
    old: Report
    new: Report
    layers: list[LayerChange] = field(default_factory=list)
    fixed: list = field(default_factory=list)  # diagnostics of OLD that NEW no longer has
    introduced: list = field(default_factory=list)
    unchanged: list = field(default_factory=list)

    def total(self, attr: str) -> tuple[int, int]:
        return getattr(self.old.totals, attr), getattr(self.new.totals, attr)

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
            return {"old": before, "new": after, "delta": after - before}

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
                           for c in self.layers if c.old is None or c.new is None or c.delta("params")
                           or c.delta("macs") or c.old.output_shape != c.new.output_shape],
                "findings": {"fixed": [d.to_dict() for d in self.fixed], "new": [d.to_dict() for d in self.introduced],
                             "unchanged": len(self.unchanged)}}


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
    diff.fixed = [d for d in old.diagnostics if key(d) not in new_keys]
    diff.introduced = [d for d in new.diagnostics if key(d) not in old_keys]
    diff.unchanged = [d for d in new.diagnostics if key(d) in old_keys]
    return diff


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


def over_budget(diff: ModelDiff, budgets: dict) -> list[str]:
    """One sentence per budget the change exceeds."""
    problems = []
    for name, (limit, percent) in budgets.items():
        before, after = diff.total(_ATTR[name])
        increase = after - before
        allowed = before * limit / 100 if percent else limit
        if increase > allowed:
            share = f" (+{100 * increase / before:.2f}%)" if before else ""
            problems.append(f"{name} grew by {increase:,}{share}, over the budget of "
                            f"{f'{limit:g}%' if percent else f'{limit:,.0f}'}: {before:,} → {after:,}")
    return problems


def _signed(n: int, unit=None) -> str:
    from onnxlint import units

    text = (unit or units.count)(abs(n))
    return f"+{text}" if n > 0 else f"−{text}" if n < 0 else "±0"


def _pct(before: int, after: int) -> str:
    if not before:
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
    for label, attr, unit in (("params", "params", units.count), ("MACs", "macs", units.count),
                              ("peak activations", "peak_activation_bytes", units.nbytes)):
        before, after = diff.total(attr)
        rows.append([label, unit(before), unit(after), _signed(after - before, unit) + _pct(before, after)])
    peaks = (diff.old.totals.peak_label, diff.new.totals.peak_label)
    matching = diff.matching_text()
    changed = [c for c in diff.layers if c.old is None or c.new is None or c.delta("macs") or c.delta("params")
               or c.old.output_shape != c.new.output_shape]
    if markdown:
        lines += [f"### onnxlint diff: {code(diff.old.path)} → {code(diff.new.path)}", "",
                  "| | old | new | change |", "|---|---:|---:|---:|"]
        lines += [f"| {r[0]} | {r[1]} | {r[2]} | {r[3]} |" for r in rows]
        lines += ["", f"Peak at {code(peaks[0])} → {code(peaks[1])}. Layers matched: {md(matching)}.", ""]
        if changed:
            lines += ["| layer | change | params | MACs | output |", "|---|---|---:|---:|---|"]
            for c in changed:
                what = "added" if c.old is None else "removed" if c.new is None else f"by {c.matched_by}"
                shape = (f"{units.shape(c.old.output_shape) if c.old else '—'} → "
                         f"{units.shape(c.new.output_shape) if c.new else '—'}")
                lines.append(f"| {code(c.label)} | {what} | {_signed(c.delta('params'))} | {_signed(c.delta('macs'))} "
                             f"| {shape} |")
            lines.append("")
        for title, found in (("Fixed", diff.fixed), ("New", diff.introduced)):
            if found:
                lines.append(f"**{title} findings ({len(found)})**")
                lines += [f"- `{d.code}` {code(d.where or '-')}: {md(d.message)}" for d in found]
                lines.append("")
        lines.append(f"{len(diff.unchanged)} findings unchanged.")
        lines += [f"\n**Over budget:** {md(p)}" for p in problems]
        return "\n".join(lines) + "\n"
    lines.append(terminal(f"{diff.old.path} → {diff.new.path}"))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    lines += ["  " + "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths)))
              for r in rows]
    lines.append(terminal(f"  peak at {peaks[0]} → {peaks[1]}; layers matched {matching}"))
    for c in changed:
        what = "added" if c.old is None else "removed" if c.new is None else f"by {c.matched_by}"
        shape = "" if c.old is None or c.new is None or c.old.output_shape == c.new.output_shape else \
            f", output {units.shape(c.old.output_shape)} → {units.shape(c.new.output_shape)}"
        lines.append(terminal(f"  {c.label} ({what}): params {_signed(c.delta('params'))}, "
                              f"MACs {_signed(c.delta('macs'))}{shape}"))
    for title, found in (("fixed", diff.fixed), ("new", diff.introduced)):
        lines += [terminal(f"  {title} {d.code} at {d.where or '-'}: {d.message}") for d in found]
    lines.append(f"  {len(diff.fixed)} findings fixed, {len(diff.introduced)} new, {len(diff.unchanged)} unchanged")
    lines += [terminal(f"over budget: {p}") for p in problems]
    return "\n".join(lines) + "\n"
