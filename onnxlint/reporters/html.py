"""One self-contained HTML page per model: totals, ranked findings linked to their layers, a per-layer cost
chart and the activation-memory timeline on one shared x-axis (the model's layers in execution order, constants
and shape arithmetic left out), axes with values and units, hover tooltips, labels placed so that none covers
another, and a sortable layer table. Inline SVG drawn here, a few lines of plain JavaScript for sorting and
filtering; no network access, no external script or font. The style is scoped to the report and every id is
unique per report, so a notebook can show several reports without one restyling or re-linking another."""
from __future__ import annotations

import itertools
import math
import os
from dataclasses import dataclass, field

from onnxlint import units
from onnxlint.diagnostics import Group, Severity
from onnxlint.escape import html as _e
from onnxlint.report import Report

MAX_BARS = 400  # the charts draw at most this many positions; more layers are summed into bins (and it says so)
_COLOUR = {Severity.ERROR: "#c62828", Severity.WARNING: "#ef6c00", Severity.SUGGESTION: "#1565c0"}
_FRAGMENTS = itertools.count(1)  # ids of reports shown one by one (Jupyter): unique in the process
# the charts' frame, in SVG units: both charts share the plot area's left and right edges
_W, _LEFT, _RIGHT, _FONT = 1000, 100, 12, 10
_CHAR = 0.62 * _FONT  # the width of a character, generously: labels are placed by this estimate

_CSS = """
.onnxlint{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#222;max-width:1200px;
margin:0 auto;padding:16px 24px}
.onnxlint h1{font-size:20px;margin:8px 0}.onnxlint h2{font-size:16px;margin:24px 0 8px}
.onnxlint .cards{display:flex;flex-wrap:wrap;gap:12px}.onnxlint .card{background:#fff;border:1px solid #ddd;
border-radius:6px;padding:8px 12px}.onnxlint .card b{display:block;font-size:18px}
.onnxlint .incomplete{color:#c62828}.onnxlint .complete{color:#2e7d32}
.onnxlint ol.findings{padding-left:20px}.onnxlint ol.findings li{margin:4px 0}
.onnxlint .sev{font-weight:600;text-transform:uppercase;font-size:11px;padding:1px 5px;border-radius:3px;color:#fff}
.onnxlint .sev.error{background:#c62828}.onnxlint .sev.warning{background:#ef6c00}
.onnxlint .sev.suggestion{background:#1565c0}
.onnxlint svg{background:#fff;border:1px solid #ddd;border-radius:6px;width:100%;height:auto}
.onnxlint svg text{font-size:10px;fill:#333;font-family:system-ui,sans-serif}
.onnxlint svg .axis{stroke:#999;stroke-width:1}.onnxlint svg .grid{stroke:#eee;stroke-width:1}
.onnxlint svg .hover{fill:transparent}.onnxlint svg .hover:hover{fill:rgba(0,0,0,.06)}
.onnxlint .legend{font-size:12px;color:#555;margin:4px 0}.onnxlint .legend i{display:inline-block;width:10px;
height:10px;margin:0 4px 0 10px;vertical-align:middle}
.onnxlint table{border-collapse:collapse;width:100%;background:#fff;font-size:12px}
.onnxlint th,.onnxlint td{border-bottom:1px solid #eee;padding:3px 6px;text-align:right;white-space:nowrap}
.onnxlint th{cursor:pointer;background:#f0f0f0;position:sticky;top:0}.onnxlint td.l,.onnxlint th.l{text-align:left}
.onnxlint tr.plumbing{display:none}.onnxlint.show-plumbing tr.plumbing{display:table-row}
.onnxlint tr:target{background:#fff3c4}.onnxlint .note{color:#666;font-size:12px}
@media print{.onnxlint th{position:static}.onnxlint .controls{display:none}}
"""
_PAGE_CSS = "body{margin:0;background:#fafafa}"  # the page's own; never in a report shown inside another page

_JS = """
(function(){
  var root=document.currentScript.parentNode;
  var box=root.querySelector('input.plumbing-toggle');
  if(box){box.addEventListener('change',function(){root.classList.toggle('show-plumbing',box.checked);});}
  root.querySelectorAll('table.sortable').forEach(function(table){
    table.querySelectorAll('th').forEach(function(th,col){
      th.addEventListener('click',function(){
        var body=table.tBodies[0],rows=Array.prototype.slice.call(body.rows);
        var down=th.getAttribute('data-order')!=='desc';th.setAttribute('data-order',down?'desc':'asc');
        rows.sort(function(a,b){
          var x=a.cells[col].getAttribute('data-v'),y=b.cells[col].getAttribute('data-v');
          var nx=parseFloat(x),ny=parseFloat(y);
          var c=(!isNaN(nx)&&!isNaN(ny))?nx-ny:String(x).localeCompare(String(y));
          return down?-c:c;});
        rows.forEach(function(r){body.appendChild(r);});});});});
})();
"""


def render(reports: list[Report], **_options) -> str:
    """The page: one section per readable model, titled by the models' names."""
    body = "".join(section(r, f"onnxlint-{i}") for i, r in enumerate(reports, 1) if r.error is None)
    errors = "".join(f"<p class='incomplete'>{_e(r.path)}: {_e(r.error)}</p>" for r in reports if r.error is not None)
    names = [os.path.basename(r.path) for r in reports]
    title = f"onnxlint: {', '.join(names)}" if len(names) <= 3 else f"onnxlint: {len(names):,} models"
    return (f"<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'><meta name='viewport' "
            f"content='width=device-width, initial-scale=1'><title>{_e(title)}</title><style>{_PAGE_CSS}{_CSS}"
            f"</style></head><body>{errors}{body}</body></html>\n")


def fragment(report: Report) -> str:
    """The report inside a host page (Jupyter's `_repr_html_`): its scoped style and section, no page, ids of
    its own."""
    if report.error is not None:
        return f"<p>{_e(report.path)}: {_e(report.error)}</p>"
    return f"<style>{_CSS}</style>{section(report, f'onnxlint-n{next(_FRAGMENTS)}')}"


def section(report: Report, prefix: str = "onnxlint-1") -> str:
    """The report of one model, without page chrome; `prefix` makes its ids unique in the page."""
    by_node: dict[str, list] = {}
    for d in report.diagnostics:
        if d.node:
            by_node.setdefault(f"{d.location}/{d.node}", []).append(d)
    axis = _Axis.of(report, by_node)
    parts = [f"<div class='onnxlint' id='{prefix}'><h1>{_e(report.path)}</h1>", _header(report),
             _findings(report, prefix), "<h2>Cost per layer, in execution order</h2>", _cost_chart(axis),
             "<h2>Live activation memory, on the same layers</h2>", _timeline(report, axis), _modules(report),
             "<h2>Layers</h2>", _table(report, by_node, prefix), f"<script>{_JS}</script></div>"]
    return "".join(parts)


def _header(report: Report) -> str:
    t = report.totals
    counts = {s: 0 for s in Severity}
    for item in report.findings():
        counts[item.severity] += 1
    inputs = ", ".join(f"{_e(i['name'])} {_e(units.shape(i['shape']))} {_e(i['dtype'])}" for i in report.inputs)
    unknown, unsized = t.unbounded_layers, t.unbounded_tensors
    complete = ("<span class='complete'>every layer counted"
                f"{', the data-decided sizes at their bound' if t.bounds is not None else ''}</span>"
                if t.complete else "<span class='incomplete'>incomplete: "
                f"{_e(units.unknown_layers(unknown)) if unknown else ''}"
                f"{'; ' if unknown and unsized else ''}"
                f"{f'{unsized:,} tensors of unknown size' if unsized else ''}</span>")
    cards = [("inputs", inputs or "none"), ("params", f"{units.count(t.params)} ({units.nbytes(t.param_bytes)})"),
             ("MACs", units.macs_total(t).removesuffix(" MACs")), ("peak activations", units.peak_total(t)
                                                                  .removeprefix("peak activations ")),
             ("findings", ", ".join(units.plural(n, str(s)) for s, n in sorted(counts.items(), reverse=True)
                                    if n) or "none")]
    if report.verification:
        v = report.verification
        cards.append(("verified", f"{v['tensors_checked']:,} tensors, {len(v['mismatches']):,} mismatches"))
    html_cards = "".join(f"<div class='card' data-card='{_e(k)}'>{_e(k)}<b>{_e(v)}</b></div>" for k, v in cards)
    return (f"<div class='cards'>{html_cards}</div><p data-totals='1' data-params='{t.params}' data-macs='{t.macs}' "
            f"data-peak='{t.peak_activation_bytes}' data-complete='{str(t.complete).lower()}'>{complete}</p>")


def _findings(report: Report, prefix: str) -> str:
    rows = {(layer.scope, layer.name): i for i, layer in enumerate(report.layers)}
    items = []
    for item in report.findings():
        target = item.members[0] if isinstance(item, Group) else item
        where = f"{len(item.members):,} nodes" if isinstance(item, Group) else item.where or ""
        row = rows.get((target.location, target.node)) if target.node else None
        link = f" <a href='#{prefix}-layer-{row}'>{_e(where)}</a>:" if row is not None else (
            f" {_e(where)}:" if where else "")
        suggestion = f"<br><span class='note'>→ {_e(item.suggestion)}</span>" if item.suggestion else ""
        items.append(f"<li data-code='{_e(item.code)}'><span class='sev {item.severity}'>{item.severity}</span> "
                     f"<b>{_e(item.code)}</b>{link} {_e(item.message)}{suggestion}</li>")
    if not items:
        return "<h2>Findings</h2><p>No findings.</p>"
    return f"<h2>Findings</h2><ol class='findings'>{''.join(items)}</ol>"


@dataclass
class _Bin:
    """Consecutive layers of the x-axis: their costs summed, the live memory at its largest among them."""
    first: int  # position of its first layer on the axis
    labels: list = field(default_factory=list)
    ops: list = field(default_factory=list)
    macs: int = 0
    params: int = 0
    ms: float = 0.0
    memory: int | None = None
    shape: str = ""
    worst: Severity | None = None
    codes: set = field(default_factory=set)

    @property
    def label(self) -> str:
        return self.labels[0] if len(self.labels) == 1 else f"{self.labels[0]} … {self.labels[-1]}"


@dataclass
class _Axis:
    """The x-axis both charts share: the main graph's layers in execution order, without constants and shape
    arithmetic (a subgraph's layers are counted in the node that owns them), in at most MAX_BARS bins."""
    bins: list
    layers: int
    size: int  # layers per bin

    @classmethod
    def of(cls, report: Report, by_node: dict) -> _Axis:
        main = [layer for layer in report.layers if layer.parent is None]
        timeline = report.totals.timeline if len(report.totals.timeline) == len(main) else [None] * len(main)
        step = {id(layer.node): i for i, layer in enumerate(main)}
        kept = [i for i, layer in enumerate(main) if not layer.constant]
        size = max(1, math.ceil(len(kept) / MAX_BARS))
        position = {index: n for n, index in enumerate(kept)}
        bins = [_Bin(n) for n in range(0, len(kept), size)]
        for layer in report.layers:
            owner = layer.node
            while owner.parent is not None:  # a loop or branch body: in the step of the node that runs it
                owner = owner.parent
            index = step.get(id(owner))
            if index not in position:
                continue
            b = bins[position[index] // size]
            if layer.parent is None:
                b.labels.append(layer.label)
                b.ops.append(layer.op_type)
                b.shape = units.shape(layer.output_shape)
                if timeline[index] is not None:
                    b.memory = max(b.memory or 0, timeline[index])
            b.macs += layer.macs or 0
            b.params += layer.params
            b.ms += layer.measured_ms or 0
            for d in by_node.get(layer.path, ()):
                b.codes.add(d.code)
                b.worst = d.severity if b.worst is None else max(b.worst, d.severity)
        return cls(bins, len(kept), size)

    def x(self, i: float) -> float:
        """The centre of bin `i` (fractions between)."""
        return _LEFT + (i + 0.5) * (_W - _LEFT - _RIGHT) / max(1, len(self.bins))

    @property
    def step(self) -> float:
        return (_W - _LEFT - _RIGHT) / max(1, len(self.bins))

    def ticks(self, bottom: float, placer: _Placer) -> list[str]:
        """The x-axis at `bottom`: its line, ticks at round layer numbers, and its title below them."""
        marks = [f"<line class='axis' x1='{_LEFT}' x2='{_W - _RIGHT}' y1='{bottom}' y2='{bottom}'/>"]
        every = _round_step(self.layers, 8)
        for n in range(0, self.layers, every):
            x = self.x(n / self.size)
            marks.append(f"<line class='axis tick' x1='{x:.1f}' x2='{x:.1f}' y1='{bottom}' y2='{bottom + 4}'/>")
            marks.append(placer.add(f"{n:,}", x, bottom + 15, "middle", "tick-label", low=_LEFT))
        marks.append(placer.add(f"layers in execution order (constants and shape arithmetic left out)"
                                f"{_binned(self)}", _W - _RIGHT, bottom + 29, "end", "axis-title"))
        return marks

    def title(self, b: _Bin) -> str:
        ops = b.ops[0] if len(b.ops) == 1 else f"{len(b.ops):,} layers"
        memory = f" · live {units.nbytes(b.memory)}" if b.memory is not None else ""
        ms = f" · {b.ms:.3f} ms measured" if b.ms else ""
        codes = f" · {', '.join(sorted(b.codes))}" if b.codes else ""
        return _e(f"{b.label} ({ops}) · {units.count(b.macs)} MACs · {units.count(b.params)} params · "
                  f"out {b.shape}{memory}{ms}{codes}")


def _binned(axis: _Axis) -> str:
    return f"; {axis.layers:,} layers in {len(axis.bins):,} bins of {axis.size:,}" if axis.size > 1 else ""


def _round_step(n: float, count: int) -> int:
    """A round step (1, 2, 5 × 10^k) that cuts 0..n into at most about `count` parts."""
    raw = max(1.0, n / count)
    base = 10 ** math.floor(math.log10(raw))
    return int(next(m * base for m in (1, 2, 5, 10) if m * base >= raw))


def _y_ticks(placer: _Placer, top: float, height: float, most: int, unit, down: bool = False,
             zero: bool = True) -> list[str]:
    """Ticks of a value axis from 0 at one end to `most` at the other, with values and units."""
    marks = []
    for fraction in (0, 0.5, 1)[0 if zero else 1:]:
        y = top + (height * fraction if down else height * (1 - fraction))
        marks.append(f"<line class='grid' x1='{_LEFT}' x2='{_W - _RIGHT}' y1='{y:.1f}' y2='{y:.1f}'/>")
        marks.append(placer.add(unit(int(most * fraction)) if fraction else "0", _LEFT - 6, y + 3.5, "end",
                                "tick-label"))
    return marks


class _Placer:
    """A chart's text, placed so that none covers another: the axes' labels where they belong, then each other
    label at the first of its candidate places that is free (boxes estimated generously from the characters), or
    left out (its numbers stay in the hover title)."""

    def __init__(self) -> None:
        self.boxes: list[tuple] = []

    def add(self, text: str, x: float, y: float, anchor: str, css: str, low: float = 0) -> str:
        """A label that must be shown (an axis'), kept inside [low, _W]."""
        return self.place(text, [(x, y, anchor)], css, low=low, fixed=True)

    def place(self, text: str, candidates: list[tuple[float, float, str]], css: str, low: float = _LEFT,
              fixed: bool = False) -> str:
        width = len(text) * _CHAR
        for x, y, anchor in candidates:
            x0 = x - width if anchor == "end" else x - width / 2 if anchor == "middle" else x
            x0 = min(max(x0, low), _W - _RIGHT - width)  # never clipped by the chart's edges
            box = (x0 - 2, x0 + width + 2, y - _FONT - 1, y + 3)
            if fixed or all(box[1] < b[0] or b[1] < box[0] or box[3] < b[2] or b[3] < box[2] for b in self.boxes):
                self.boxes.append(box)
                return f"<text class='{css}' x='{x0:.1f}' y='{y:.1f}'>{_e(text)}</text>"
        return ""


def _cost_chart(axis: _Axis) -> str:
    if not any(b.macs or b.params for b in axis.bins):
        return "<p class='note'>No layer with params or MACs.</p>"
    top, half, gap = 30, 110, 4
    most_macs, most_params = max(b.macs for b in axis.bins) or 1, max(b.params for b in axis.bins) or 1
    most_ms = max(b.ms for b in axis.bins)
    width = max(axis.step - 0.5, 0.5)
    placer = _Placer()
    marks = [*_y_ticks(placer, top, half, most_macs, lambda v: f"{units.count(v)} MACs"),
             *_y_ticks(placer, top + half + gap, half, most_params, lambda v: f"{units.count(v)} params", down=True,
                       zero=False)]
    bottom = top + 2 * half + gap + 8
    marks += axis.ticks(bottom, placer)
    for i, b in enumerate(axis.bins):
        x, title = axis.x(i) - axis.step / 2, f"<title>{axis.title(b)}</title>"
        h = half * b.macs / most_macs
        marks.append(f"<rect class='bar-macs' x='{x:.2f}' y='{top + half - h:.2f}' width='{width:.2f}' "
                     f"height='{h:.2f}' fill='#5c6bc0'>{title}</rect>")
        h = half * b.params / most_params
        marks.append(f"<rect class='bar-params' x='{x:.2f}' y='{top + half + gap:.2f}' width='{width:.2f}' "
                     f"height='{h:.2f}' fill='#26a69a'>{title}</rect>")
        if most_ms:  # measured time beside the static MACs: where estimate and reality disagree shows
            marks.append(f"<circle class='ms-mark' cx='{axis.x(i):.2f}' cy='{top + half - half * b.ms / most_ms:.2f}'"
                         f" r='2.5' fill='#ef6c00'>{title}</circle>")
        if b.worst is not None:
            marks.append(f"<circle class='finding-mark' cx='{axis.x(i):.2f}' cy='{top - 20}' r='3.5' "
                         f"fill='{_COLOUR[b.worst]}'>{title}</circle>")
    total = sum(b.macs for b in axis.bins) or 1
    for i in sorted(range(len(axis.bins)), key=lambda i: -axis.bins[i].macs)[:12]:
        b = axis.bins[i]
        if b.macs * 20 < total:
            break  # a label only where the cost is (≥ 5% of the model's MACs)
        y = max(top + half - half * b.macs / most_macs - 4, top - 4)
        marks.append(placer.place(f"{b.labels[0]} {100 * b.macs / total:.0f}%",
                                  [(axis.x(i), y, "middle"), (axis.x(i), y + 12, "middle")], "top-label"))
    params = sum(b.params for b in axis.bins) or 1
    for i in sorted(range(len(axis.bins)), key=lambda i: -axis.bins[i].params)[:6]:
        b = axis.bins[i]
        if b.params * 5 < params:
            break  # the params' giants only (≥ 20%): VGG's fc6
        y, edge = top + half + gap + half * b.params / most_params, axis.step / 2 + 4
        marks.append(placer.place(f"{b.labels[0]} {100 * b.params / params:.0f}% of params",
                                  [(axis.x(i) + edge, y - 2, "start"), (axis.x(i) - edge, y - 2, "end"),
                                   (axis.x(i), min(y + 13, bottom - 4), "middle")], "params-label"))
    legend = ("<p class='legend'><i style='background:#5c6bc0'></i>MACs (up) <i style='background:#26a69a'></i>"
              "params (down) · dots above: findings (<i style='background:#c62828;border-radius:50%'></i>error "
              "<i style='background:#ef6c00;border-radius:50%'></i>warning <i style='background:#1565c0;"
              f"border-radius:50%'></i>suggestion){' · orange points: measured ms' if most_ms else ''}; hover a bar "
              "for its numbers</p>")
    return (f"<svg class='cost-chart' data-bars='{len(axis.bins)}' data-x0='{axis.x(0):.2f}' "
            f"data-x1='{axis.x(len(axis.bins) - 1):.2f}' viewBox='0 0 {_W} {bottom + 36}' role='img' "
            f"aria-label='MACs and params per layer'>{''.join(marks)}</svg>{legend}")


def _timeline(report: Report, axis: _Axis) -> str:
    t = report.totals
    points = [(i, b.memory) for i, b in enumerate(axis.bins) if b.memory is not None]
    if not points or not t.peak_activation_bytes:
        return "<p class='note'>The activation sizes are unknown: no timeline.</p>"
    top, height = 24, 170
    most = max(max(v for _, v in points), report.memory_budget or 0) or 1

    def y(value: float) -> float:
        return top + height - height * value / most

    placer = _Placer()
    marks = _y_ticks(placer, top, height, most, units.nbytes)
    marks += axis.ticks(top + height + 4, placer)
    marks.append(f"<polyline class='memory-line' points='{' '.join(f'{axis.x(i):.1f},{y(v):.1f}' for i, v in points)}'"
                 " fill='none' stroke='#8e24aa' stroke-width='1.5'/>")
    marks += [f"<rect class='hover' x='{axis.x(i) - axis.step / 2:.2f}' y='{top}' width='{axis.step:.2f}' "
              f"height='{height}'><title>{axis.title(axis.bins[i])}</title></rect>" for i, _ in points]
    peak_bin, peak = max(points, key=lambda p: p[1])
    if report.memory_budget:
        by = y(report.memory_budget)
        marks.append(f"<line class='budget-line' x1='{_LEFT}' x2='{_W - _RIGHT}' y1='{by:.1f}' y2='{by:.1f}' "
                     "stroke='#ef6c00' stroke-dasharray='6 4'/>")
        marks.append(placer.place(f"budget {units.nbytes(report.memory_budget)}",
                                  [(_W - _RIGHT - 4, by - 4, "end"), (_LEFT + 4, by - 4, "start"),
                                   (_W - _RIGHT - 4, by + 13, "end")], "budget-label"))
    px, py = axis.x(peak_bin), y(peak)
    marks.append(f"<circle class='peak-mark' cx='{px:.1f}' cy='{py:.1f}' r='4' fill='#c62828'/>")
    label = f"peak {units.nbytes(t.peak_activation_bytes)} at {t.peak_label}"
    marks.append(placer.place(label, [(px + 8, max(py, top + 10) + 4, "start"), (px - 8, max(py, top + 10) + 4, "end"),
                                      (px, py + 18, "middle"), (px, min(py + 32, top + height - 4), "middle")],
                              "peak-label"))
    live = ", ".join(f"{name} {units.nbytes(size)}" for name, size in t.peak_live[:3])
    caption = (f"<p class='note peak-note'>The peak, {_e(units.nbytes(t.peak_activation_bytes))} at "
               f"{_e(t.peak_label)}, holds {_e(live)}{' …' if len(t.peak_live) > 3 else ''}.</p>")
    return (f"<svg class='memory-chart' data-points='{len(points)}' data-x0='{axis.x(0):.2f}' "
            f"data-x1='{axis.x(len(axis.bins) - 1):.2f}' viewBox='0 0 {_W} {top + height + 40}' role='img' "
            f"aria-label='live activation bytes over the layers'>{''.join(marks)}</svg>{caption}")


def _modules(report: Report) -> str:
    from onnxlint.reporters.table import rows

    if not any(layer.origin is not None for layer in report.layers):
        return ""
    body = "".join(f"<tr><td class='l'>{_e(r[0])}</td><td class='l'>{_e(r[1])}</td><td data-v='{r[3]}'>"
                   f"{units.count(r[3])}</td><td data-v='{r[4] if r[4] is not None else -1}'>{units.count(r[4])}</td>"
                   f"<td data-v='{r[6] if r[6] is not None else -1}'>{units.nbytes(r[6])}</td></tr>"
                   for r in rows(report, depth=1, modules_only=True))
    return ("<h2>Modules</h2><table class='sortable modules'><thead><tr><th class='l'>module</th><th class='l'>ops</th>"
            f"<th>params</th><th>MACs</th><th>activation bytes</th></tr></thead><tbody>{body}</tbody></table>")


def _table(report: Report, by_node: dict, prefix: str) -> str:
    total = report.totals.macs if report.totals.macs_complete and report.totals.macs else 0
    has_ms = any(layer.measured_ms is not None for layer in report.layers)
    rows = []
    for i, layer in enumerate(report.layers):
        plumbing = layer.constant and not layer.params and not layer.macs
        codes = ", ".join(sorted({d.code for d in by_node.get(layer.path, [])}))
        cells = [(i, i), (layer.label, None), (layer.op_type, None), (units.shape(layer.output_shape), None),
                 (layer.params, layer.params), (layer.macs, layer.macs),
                 (f"{100 * layer.macs / total:.1f}" if total and layer.macs else "", (layer.macs or 0) / total if total
                  else 0), (layer.output_bytes, layer.output_bytes),
                 (units.receptive_field(layer, report.inputs), None)]
        if has_ms:
            cells.append((f"{layer.measured_ms:.3f}" if layer.measured_ms is not None else "", layer.measured_ms or 0))
        cells.append((codes, None))
        html_cells = []
        for n, (text, value) in enumerate(cells):
            shown = units.count(text) if n in (4, 5) and text is not None else units.nbytes(text) if n == 7 else (
                "?" if text is None else text)
            if n in (4, 5) and text == 0:
                shown = ""
            sort = value if value is not None else text
            left = " class='l'" if n in (1, 2, 3, len(cells) - 1) else ""
            html_cells.append(f"<td{left} data-v='{_e(sort if sort is not None else -1)}'>{_e(shown)}</td>")
        rows.append(f"<tr id='{prefix}-layer-{i}' class='{'plumbing' if plumbing else 'layer'}'>"
                    f"{''.join(html_cells)}</tr>")
    header = ["#", "layer", "op", "output", "params", "MACs", "%MACs", "output bytes", "RF"] + (
        ["ms"] if has_ms else []) + ["findings"]
    heads = "".join(f"<th{' class=l' if h in ('layer', 'op', 'output', 'findings') else ''}>{_e(h)}</th>"
                    for h in header)
    return ("<p class='controls'><label><input type='checkbox' class='plumbing-toggle'> show constants and shape "
            f"arithmetic</label></p><table class='sortable layers'><thead><tr>{heads}</tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table>")
