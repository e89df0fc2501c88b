"""One self-contained HTML page per model: totals, ranked findings linked to their layers, a per-layer cost
chart, the activation-memory timeline and a sortable layer table. Inline SVG drawn here, a few lines of
plain JavaScript for sorting and filtering; no network access, no external script or font."""
from __future__ import annotations

import math

from onnxlint import units
from onnxlint.diagnostics import Group, Severity
from onnxlint.escape import html as _e
from onnxlint.report import Report

MAX_BARS = 400  # a chart draws at most this many bars; more layers are summed into bins (and it says so)
MAX_POINTS = 2000  # the memory timeline keeps each bin's largest value beyond this many steps
_PLUMBING = {"Constant", "ConstantOfShape", "Shape", "Gather", "Unsqueeze", "Squeeze", "Concat", "Cast", "Range",
             "Slice", "Equal", "Where", "Expand", "Size", "Identity"}
_COLOUR = {Severity.ERROR: "#c62828", Severity.WARNING: "#ef6c00", Severity.SUGGESTION: "#1565c0"}

_CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#222;background:#fafafa}
.onnxlint{max-width:1200px;margin:0 auto;padding:16px 24px}
.onnxlint h1{font-size:20px;margin:8px 0}.onnxlint h2{font-size:16px;margin:24px 0 8px}
.onnxlint .cards{display:flex;flex-wrap:wrap;gap:12px}.onnxlint .card{background:#fff;border:1px solid #ddd;
border-radius:6px;padding:8px 12px}.onnxlint .card b{display:block;font-size:18px}
.onnxlint .incomplete{color:#c62828}.onnxlint .complete{color:#2e7d32}
.onnxlint ol.findings{padding-left:20px}.onnxlint ol.findings li{margin:4px 0}
.onnxlint .sev{font-weight:600;text-transform:uppercase;font-size:11px;padding:1px 5px;border-radius:3px;color:#fff}
.onnxlint .sev.error{background:#c62828}.onnxlint .sev.warning{background:#ef6c00}
.onnxlint .sev.suggestion{background:#1565c0}
.onnxlint svg{background:#fff;border:1px solid #ddd;border-radius:6px;width:100%;height:auto}
.onnxlint svg text{font-size:10px;fill:#333}
.onnxlint table{border-collapse:collapse;width:100%;background:#fff;font-size:12px}
.onnxlint th,.onnxlint td{border-bottom:1px solid #eee;padding:3px 6px;text-align:right;white-space:nowrap}
.onnxlint th{cursor:pointer;background:#f0f0f0;position:sticky;top:0}.onnxlint td.l,.onnxlint th.l{text-align:left}
.onnxlint tr.plumbing{display:none}.onnxlint.show-plumbing tr.plumbing{display:table-row}
.onnxlint tr:target{background:#fff3c4}.onnxlint .note{color:#666;font-size:12px}
@media print{.onnxlint th{position:static}.onnxlint .controls{display:none}}
"""

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
    """The page: one section per readable model."""
    body = "".join(section(r) for r in reports if r.error is None)
    errors = "".join(f"<p class='incomplete'>{_e(r.path)}: {_e(r.error)}</p>" for r in reports if r.error is not None)
    return (f"<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'><meta name='viewport' "
            f"content='width=device-width, initial-scale=1'><title>onnxlint report</title><style>{_CSS}</style>"
            f"</head><body>{errors}{body}</body></html>\n")


def fragment(report: Report) -> str:
    """The report inside a host page (Jupyter's `_repr_html_`): its style and section, no page around them."""
    if report.error is not None:
        return f"<p>{_e(report.path)}: {_e(report.error)}</p>"
    return f"<style>{_CSS}</style>{section(report)}"


def section(report: Report) -> str:
    """The report of one model, without page chrome (what Jupyter shows)."""
    layers = report.layers
    index = {id(layer): i for i, layer in enumerate(layers)}
    by_node: dict[str, list] = {}
    for d in report.diagnostics:
        if d.node:
            by_node.setdefault(f"{d.location}/{d.node}", []).append(d)
    parts = [f"<div class='onnxlint'><h1>{_e(report.path)}</h1>", _header(report), _findings(report, layers, index),
             "<h2>Cost per layer, in execution order</h2>", _cost_chart(report, by_node),
             "<h2>Live activation memory</h2>", _timeline(report), _modules(report),
             "<h2>Layers</h2>", _table(report, by_node), f"<script>{_JS}</script></div>"]
    return "".join(parts)


def _short(name: str, limit: int = 36) -> str:
    return name if len(name) <= limit else "…" + name[-(limit - 1):]


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
                f"{f'{unsized} tensors of unknown size' if unsized else ''}</span>")
    cards = [("inputs", inputs or "none"), ("params", f"{units.count(t.params)} ({units.nbytes(t.param_bytes)})"),
             ("MACs", units.macs_total(t).removesuffix(" MACs")), ("peak activations", units.peak_total(t)
                                                                  .removeprefix("peak activations ")),
             ("findings", ", ".join(f"{n} {s}{'s' if n != 1 else ''}" for s, n in sorted(counts.items(), reverse=True)
                                    if n) or "none")]
    if report.verification:
        v = report.verification
        cards.append(("verified", f"{v['tensors_checked']} tensors, {len(v['mismatches'])} mismatches"))
    html_cards = "".join(f"<div class='card' data-card='{_e(k)}'>{_e(k)}<b>{_e(v)}</b></div>" for k, v in cards)
    return (f"<div class='cards'>{html_cards}</div><p data-totals='1' data-params='{t.params}' data-macs='{t.macs}' "
            f"data-peak='{t.peak_activation_bytes}' data-complete='{str(t.complete).lower()}'>{complete}</p>")


def _anchor(report: Report, node: str | None, location: str) -> str | None:
    for i, layer in enumerate(report.layers):
        if layer.name == node and layer.scope == location:
            return f"layer-{i}"
    return None


def _findings(report: Report, layers, index) -> str:
    items = []
    for item in report.findings():
        if isinstance(item, Group):
            target = item.members[0]
            where = f"{len(item.members)} nodes"
        else:
            target = item
            where = item.where or ""
        anchor = _anchor(report, target.node, target.location) if target.node else None
        link = f" <a href='#{anchor}'>{_e(where)}</a>:" if anchor else (f" {_e(where)}:" if where else "")
        suggestion = f"<br><span class='note'>→ {_e(item.suggestion)}</span>" if item.suggestion else ""
        items.append(f"<li data-code='{_e(item.code)}'><span class='sev {item.severity}'>{item.severity}</span> "
                     f"<b>{_e(item.code)}</b>{link} {_e(item.message)}{suggestion}</li>")
    if not items:
        return "<h2>Findings</h2><p>No findings.</p>"
    return f"<h2>Findings</h2><ol class='findings'>{''.join(items)}</ol>"


def _bins(values: list, limit: int) -> tuple[list, int]:
    """Consecutive groups of items, at most `limit` of them; and the group size."""
    size = max(1, math.ceil(len(values) / limit))
    return [values[i:i + size] for i in range(0, len(values), size)], size


def _cost_chart(report: Report, by_node: dict) -> str:
    counted = [layer for layer in report.layers if layer.params or layer.macs]
    if not counted:
        return "<p class='note'>No layer with params or MACs.</p>"
    groups, size = _bins(counted, MAX_BARS)
    macs = [sum(layer.macs or 0 for layer in g) for g in groups]
    params = [sum(layer.params for layer in g) for g in groups]
    measured = [sum(layer.measured_ms or 0 for layer in g) for g in groups]  # --profile
    max_ms = max(measured) or 0
    width, half, top = 1000, 110, 30
    step = width / len(groups)
    max_macs, max_params = max(macs) or 1, max(params) or 1
    marks = []
    for i, group in enumerate(groups):
        x = i * step
        label = _e(group[0].label if len(group) == 1 else f"{group[0].label} … {group[-1].label}")
        h = half * macs[i] / max_macs
        marks.append(f"<rect class='bar-macs' x='{x:.2f}' y='{top + half - h:.2f}' width='{max(step - 0.5, 0.5):.2f}' "
                     f"height='{h:.2f}' fill='#5c6bc0'><title>{label}: {units.count(macs[i])} MACs</title></rect>")
        h = half * params[i] / max_params
        marks.append(f"<rect class='bar-params' x='{x:.2f}' y='{top + half + 4:.2f}' width='{max(step - 0.5, 0.5):.2f}'"
                     f" height='{h:.2f}' fill='#26a69a'><title>{label}: {units.count(params[i])} params</title></rect>")
        if max_ms:  # measured time beside the static MACs: where estimate and reality disagree shows
            y = top + half - half * measured[i] / max_ms
            marks.append(f"<circle class='ms-mark' cx='{x + step / 2:.2f}' cy='{y:.2f}' r='2.5' fill='#ef6c00'>"
                         f"<title>{label}: {measured[i]:.3f} ms measured</title></circle>")
        found = [d for layer in group for d in by_node.get(layer.path, [])]
        if found:
            worst = max(d.severity for d in found)
            marks.append(f"<circle class='finding-mark' cx='{x + step / 2:.2f}' cy='{top - 14}' r='3.5' "
                         f"fill='{_COLOUR[worst]}'><title>{label}: {_e(', '.join(sorted({d.code for d in found})))}"
                         f"</title></circle>")
    total = sum(macs) or 1
    for i in sorted(range(len(groups)), key=lambda i: -macs[i])[:5]:
        if macs[i] * 20 < total:
            continue  # a label only where the cost is (≥ 5% of the model's MACs)
        group = groups[i]
        y = max(top + half - half * macs[i] / max_macs - 3, top + 9)
        marks.append(f"<text class='top-label' x='{i * step + step / 2:.2f}' y='{y:.2f}'"
                     f" text-anchor='middle'>{_e(group[0].label)} {100 * macs[i] / total:.0f}%</text>")
    legend = (f"<text x='4' y='{top + 2 * half + 8}'>MACs (bars up, max {units.count(max(macs))}) · params (bars "
              f"down, max {units.count(max(params))}) · dots: findings (red error, orange warning, blue "
              f"suggestion){f' · orange points: measured ms (max {max_ms:.3f})' if max_ms else ''}</text>")
    note = (f"<p class='note'>{len(counted)} layers with params or MACs, drawn in {len(groups)} bars of {size} "
            "consecutive layers each (sums).</p>" if size > 1 else "")
    return (f"<svg class='cost-chart' data-bars='{len(groups)}' viewBox='0 0 {width} {top + 2 * half + 14}' "
            f"role='img' aria-label='MACs and params per layer'>{legend}{''.join(marks)}</svg>{note}")


def _timeline(report: Report) -> str:
    t = report.totals
    series = t.timeline
    if not series or not t.peak_activation_bytes:
        return "<p class='note'>The activation sizes are unknown: no timeline.</p>"
    groups, size = _bins(series, MAX_POINTS)
    values = [max(g) for g in groups]
    width, height, top = 1000, 180, 20
    scale = max(max(values), report.memory_budget or 0) or 1
    step = width / max(1, len(values) - 1) if len(values) > 1 else width
    points = " ".join(f"{i * step:.1f},{top + height - height * v / scale:.1f}" for i, v in enumerate(values))
    peak_x = (t.peak_index // size) * step if t.peak_index is not None else 0
    peak_y = top + height - height * t.peak_activation_bytes / scale
    live = ", ".join(f"{_short(name)} {units.nbytes(size_)}" for name, size_ in t.peak_live[:3])
    anchor = "end" if peak_x > width * 0.6 else "start"
    marks = [f"<polyline class='memory-line' points='{points}' fill='none' stroke='#8e24aa' stroke-width='1.5'/>",
             f"<circle class='peak-mark' cx='{peak_x:.1f}' cy='{peak_y:.1f}' r='4' fill='#c62828'/>",
             f"<text class='peak-label' x='{peak_x + (-6 if anchor == 'end' else 6):.1f}' "
             f"y='{max(peak_y, top) + 4:.1f}' "
             f"text-anchor='{anchor}'>peak {_e(units.nbytes(t.peak_activation_bytes))} at {_e(t.peak_label)}: "
             f"{_e(live)}</text>"]
    if report.memory_budget:
        y = top + height - height * report.memory_budget / scale
        marks.append(f"<line class='budget-line' x1='0' x2='{width}' y1='{y:.1f}' y2='{y:.1f}' stroke='#ef6c00' "
                     f"stroke-dasharray='6 4'/><text x='{width - 4}' y='{y - 4:.1f}' text-anchor='end'>budget "
                     f"{_e(units.nbytes(report.memory_budget))}</text>")
    note = (f"<p class='note'>{len(series)} steps, drawn as {len(values)} points (each the largest of {size} "
            "consecutive steps).</p>" if size > 1 else "")
    return (f"<svg class='memory-chart' data-points='{len(values)}' viewBox='0 0 {width} {top + height + 10}' "
            f"role='img' aria-label='live activation bytes over the execution order'>{''.join(marks)}</svg>{note}")


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


def _table(report: Report, by_node: dict) -> str:
    total = report.totals.macs if report.totals.macs_complete and report.totals.macs else 0
    has_ms = any(layer.measured_ms is not None for layer in report.layers)
    rows = []
    for i, layer in enumerate(report.layers):
        plumbing = not layer.params and not layer.macs and layer.op_type in _PLUMBING
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
        rows.append(f"<tr id='layer-{i}' class='{'plumbing' if plumbing else 'layer'}'>{''.join(html_cells)}</tr>")
    header = ["#", "layer", "op", "output", "params", "MACs", "%MACs", "output bytes", "RF"] + (
        ["ms"] if has_ms else []) + ["findings"]
    heads = "".join(f"<th{' class=l' if h in ('layer', 'op', 'output', 'findings') else ''}>{_e(h)}</th>"
                    for h in header)
    return ("<p class='controls'><label><input type='checkbox' class='plumbing-toggle'> show constants and shape "
            f"arithmetic</label></p><table class='sortable layers'><thead><tr>{heads}</tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table>")
