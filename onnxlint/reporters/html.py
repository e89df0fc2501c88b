"""One self-contained HTML page per model: totals, ranked findings linked to their layers, a per-layer cost
chart and the activation-memory timeline on one shared x-axis (the model's layers in execution order, constants
and shape arithmetic left out), axes with values and units, hover tooltips, labels placed so that none covers
another, and a sortable layer table. Inline SVG drawn here, a few lines of plain JavaScript for sorting and
filtering (the charts: charts.py); no network access, no external script or font. The style is scoped to the
report and every id is unique per report, so a notebook can show several reports without one restyling or
re-linking another."""
from __future__ import annotations

import itertools
import os

from onnxlint import units
from onnxlint.diagnostics import Group
from onnxlint.escape import html as _e
from onnxlint.report import Report
from onnxlint.reporters.charts import Axis, cost_chart, timeline

_FRAGMENTS = itertools.count(1)  # ids of reports shown one by one (Jupyter): unique in the process

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
            f"</style></head><body>{_overview(reports) if len(reports) > 1 else ''}{errors}{body}</body></html>\n")


def _overview(reports: list[Report]) -> str:
    """A page of several models opens with one row per model (its totals, its findings as the text counts them),
    each linked to its section."""
    rows = []
    for i, r in enumerate(reports, 1):
        if r.error is not None:
            rows.append(f"<tr><td class='l'>{_e(r.path)}</td><td class='l' colspan='4'>{_e(r.error)}</td></tr>")
            continue
        t = r.totals
        rows.append(f"<tr><td class='l'><a href='#onnxlint-{i}'>{_e(r.path)}</a></td><td>{_e(units.count(t.params))}"
                    f"</td><td>{_e(units.macs_total(t).removesuffix(' MACs').split(' (')[0])}</td><td>"
                    f"{_e(units.peak_total(t).removeprefix('peak activations ').split(' (')[0])}</td><td class='l'>"
                    f"{_e(r.count_text() if r.diagnostics else 'none')}</td></tr>")
    return ("<div class='onnxlint overview'><h1>Overview</h1><table><thead><tr><th class='l'>model</th><th>params</th>"
            "<th>MACs</th><th>peak activations</th><th class='l'>findings</th></tr></thead><tbody>"
            f"{''.join(rows)}</tbody></table></div>")


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
    axis = Axis.of(report, by_node)
    parts = [f"<div class='onnxlint' id='{prefix}'><h1>{_e(report.path)}</h1>", _header(report),
             _findings(report, prefix), "<h2>Cost per layer, in execution order</h2>", cost_chart(axis, prefix),
             "<h2>Live activation memory, on the same layers</h2>", timeline(report, axis), _modules(report),
             "<h2>Layers</h2>", _table(report, by_node, prefix, axis), f"<script>{_JS}</script></div>"]
    return "".join(parts)


def _header(report: Report) -> str:
    t = report.totals
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
             ("findings", report.count_text() if report.diagnostics else "none")]
    if report.deployment:
        cards.append(("deployment", units.deployment(report.deployment)))
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
        if item.measured:
            suggestion += f"<br><span class='note'>{_e(item.measured)}</span>"
        items.append(f"<li data-code='{_e(item.code)}'><span class='sev {item.severity}'>{item.severity}</span> "
                     f"<b>{_e(item.code)}</b>{link} {_e(item.message)}{suggestion}</li>")
    if not items:
        return "<h2>Findings</h2><p>No findings.</p>"
    return f"<h2>Findings</h2><ol class='findings'>{''.join(items)}</ol>"


def _modules(report: Report) -> str:
    from onnxlint.reporters.table import rows

    if not any(layer.origin is not None for layer in report.layers):
        return ""
    body = "".join(f"<tr><td class='l'>{_e(r[0])}</td><td class='l'>{_e(r[1])}</td><td data-v='{r[3]}'>"
                   f"{units.count(r[3])}</td><td data-v='{r[4] if r[4] is not None else r[7] or -1}'>"
                   f"{units.count(r[4]) if r[4] is not None or r[7] is None else '≤ ' + units.count(r[7])}</td>"
                   f"<td data-v='{r[6] if r[6] is not None else -1}'>{units.nbytes(r[6])}</td></tr>"
                   for r in rows(report, depth=1, modules_only=True))
    return ("<h2>Modules</h2><table class='sortable modules'><thead><tr><th class='l'>module</th><th class='l'>ops</th>"
            f"<th>params</th><th>MACs</th><th>activation bytes</th></tr></thead><tbody>{body}</tbody></table>")


def _table(report: Report, by_node: dict, prefix: str, axis: Axis) -> str:
    """Every layer; `#` is its position on the charts' x-axis (a body's layers at the node that runs them;
    constants and shape arithmetic, hidden until asked for, have none); a size the data decides at its bound."""
    total = report.totals.macs if report.totals.macs_complete and report.totals.macs else 0
    bounds = report.totals.bounds
    upper = {node: most for node, _, most, _ in bounds.layers} if bounds is not None else {}
    has_ms = any(layer.measured_ms is not None for layer in report.layers)
    rows = []
    for i, layer in enumerate(report.layers):
        plumbing = layer.constant and not layer.params and not layer.macs
        codes = ", ".join(sorted({d.code for d in by_node.get(layer.path, [])}))
        position = axis.index.get(id(layer))
        macs = layer.macs if layer.macs is not None or layer.name not in upper else \
            f"≤ {units.count(upper[layer.name])}"
        cells = [("" if position is None else position, -1 if position is None else position), (layer.label, None),
                 (layer.op_type, None), (units.shape(layer.output_shape), None),
                 (layer.params, layer.params), (macs, layer.macs if layer.macs is not None else upper.get(layer.name)),
                 (f"{100 * layer.macs / total:.1f}" if total and layer.macs else "", (layer.macs or 0) / total if total
                  else 0), (layer.output_bytes, layer.output_bytes),
                 (units.receptive_field(layer, report.inputs), None)]
        if has_ms:
            cells.append((f"{layer.measured_ms:.3f}" if layer.measured_ms is not None else "", layer.measured_ms or 0))
        cells.append((codes, None))
        html_cells = []
        for n, (text, value) in enumerate(cells):
            shown = units.count(text) if n in (4, 5) and isinstance(text, int) else units.nbytes(text) if n == 7 else (
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
