"""The default, human output: one line per finding, ranked (repeats grouped, consequences folded under
their root cause), a summary line per model, a count. Each line carries its severity word, as mypy and
ruff users read it in CI logs without colour."""
from __future__ import annotations

import math

from onnxlint import units
from onnxlint.diagnostics import Group, Severity
from onnxlint.dtypes import tensor_nbytes
from onnxlint.escape import terminal as printable
from onnxlint.report import Report
from onnxlint.sources import shown

_COLOURS = {Severity.ERROR: "\033[1;31m", Severity.WARNING: "\033[33m", Severity.SUGGESTION: "\033[36m"}
_DIM, _BOLD, _RESET = "\033[2m", "\033[1m", "\033[0m"


def render(reports: list[Report], *, color: bool = False, summary: bool = False, statistics: bool = False,
           quiet: bool = False, show_all: bool = False, width: int | None = None, verbose: bool = False,
           **_options) -> str:
    """One line per finding (a group for what repeats), ranked; then, unless quiet, the model's totals.
    `width`: wrap long lines to a terminal's width; `show_all`: list the nodes behind groups and folds."""
    def paint(text: str, code: str) -> str:
        return f"{code}{text}{_RESET}" if color else text

    lines: list[str] = []

    def add(text: str, indent: str) -> None:
        lines.extend(_wrap(text, width, indent))

    if statistics:  # the statistics instead of the findings, as ruff's --statistics
        lines.extend(statistics_lines(reports))
        if not quiet:
            lines.append(count_line(reports, show_all=True))
        return "\n".join(lines) + "\n" if lines else ""
    for report in reports:
        if report.error is not None:
            continue  # unreadable models are reported on stderr
        folded: dict[str, list] = {}
        for d in report.diagnostics:
            if d.folded_into:
                folded.setdefault(d.folded_into, []).append(d)
        for item in report.findings():
            # every name and message made printable before colour: a name holding a newline cannot forge a line
            node = getattr(item, "node", None)
            where = printable(f"{shown_path(report.path)}{':' + _not_a_number(_where(item)) if node else ''}")
            source = "" if getattr(item, "source", "static") == "static" else f" (source: {item.source})"
            add(f"{paint(where, _BOLD)}: {paint(f'{item.severity} {item.code}', _COLOURS[item.severity])} "
                f"{printable(item.message)}{source}", "    ")
            if item.suggestion:
                add(f"    {paint('→', _DIM)} {printable(item.suggestion)}", "      ")
            if item.measured:  # --what-if's numbers, on their own line
                add(f"      {printable(item.measured)}", "        ")
            members = item.members if isinstance(item, Group) else folded.get(item.code, []) if not node else []
            if show_all:
                for d in members:
                    add(f"    {paint(printable(_where(d)), _BOLD)}: {d.code} {printable(d.message)}", "        ")
                    if d.measured:  # --what-if's own numbers
                        add(f"        {printable(d.measured)}", "          ")
        if quiet:
            continue
        for note in report.notes + (report.info if verbose else []):
            lines.append(paint(printable(f"{shown_path(report.path)}: note: {note}"), _DIM))
        if summary:
            lines.extend(layer_table(report, show_all=show_all))
        t = report.totals
        lines.append(paint(printable(f"{shown_path(report.path)}: {t.nodes:,} nodes, {units.count(t.params)} params "
                                     f"({units.nbytes(t.param_bytes)}), {units.macs_total(t)}, {units.peak_total(t)}"),
                           _DIM))
        if report.deployment:
            lines.append(printable(f"{shown_path(report.path)}: {units.deployment(report.deployment)}"))
        if report.verification:
            lines.append(verification_line(report))
            if report.verification.get("profile_runs"):
                lines.extend(hotspot_table(report))
    if not quiet:
        lines.append(count_line(reports, show_all))
    return "\n".join(lines) + "\n" if lines else ""


def shown_path(path: str) -> str:
    """The model as a line names it: `<stdin>` for a model read from standard input."""
    return "<stdin>" if path == "-" else path


def _not_a_number(where: str) -> str:
    """A node location that would read as a line and column (a module path `0.1`) is quoted: 'model.onnx:'0.1':'."""
    return f"'{where}'" if where[:1].isdigit() and all(c.isdigit() or c in ".:" for c in where.split(" ")[0]) \
        else where


def _location(scope: str, node: str) -> str:
    return f"{scope + '/' if scope != 'graph' else ''}{node}"


def _where(d) -> str:
    """The node as a person finds it: its module path and the line of PyTorch code that made it, when the
    exporter wrote them (`layer1.0.conv2 (models/resnet.py:87)`), else its graph location and name."""
    where = _location(d.location, d.module or d.node)
    return f"{where} ({shown(d.source_file, d.source_line)})" if d.source_file else where


def _wrap(text: str, width: int | None, indent: str) -> list[str]:
    """A long line wrapped at a terminal's width (continuation lines indented); unchanged without a width.
    Colour codes count as characters here: a wrapped coloured line is a little short, never too long."""
    if width is None or len(text) <= width:
        return [text]
    import textwrap

    return textwrap.wrap(text, width, subsequent_indent=indent, break_long_words=False, break_on_hyphens=False)


def verification_line(report: Report) -> str:
    v = report.verification
    within = f" ({v['tensors_within_bound']} within their bound)" if v.get("tensors_within_bound") else ""
    return (f"{printable(report.path)}: verified by {v['runtime']}: {v['tensors_checked']} tensors checked{within}, "
            f"{len(v['mismatches'])} mismatches, {v['tensors_unknown_filled']} unknown filled from execution, "
            f"{v['tensors_unchecked']} unchecked ({v['seconds']:.2f} s)")


def hotspot_table(report: Report, top: int = 10) -> list[str]:
    """--profile: the layers that take the most measured time, beside their share of the static MACs."""
    timed = [layer for layer in report.layers if layer.measured_ms]
    total_ms = sum(layer.measured_ms for layer in timed) or 1.0
    total_macs = report.totals.macs or 1
    rows = [["node", "op", "ms", "%time", "MACs", "%MACs", "GMAC/s"]]
    for layer in sorted(timed, key=lambda layer: -layer.measured_ms)[:top]:
        rate = f"{layer.macs / layer.measured_ms / 1e6:.1f}" if layer.macs else ""
        rows.append([printable(layer.label), printable(layer.op_type), f"{layer.measured_ms:.3f}",
                     f"{100 * layer.measured_ms / total_ms:.1f}",
                     units.count(layer.macs) if layer.macs else "",
                     f"{100 * layer.macs / total_macs:.1f}" if layer.macs else "", rate])
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    title = (f"{printable(report.path)}: measured hot-spots (mean of {report.verification['profile_runs']} runs, "
             f"{total_ms:.2f} ms per run in kernels)")
    return [title] + ["  " + "  ".join(c.rjust(w) if i > 1 else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths)))
                      .rstrip() for r in rows]


def count_line(reports: list[Report], show_all: bool = False) -> str:
    """'1 warning, 4 suggestions in 1 model': the findings as printed (a group counts once), and how many
    per-node findings --show-all would list behind them."""
    parts = []
    shown = [item for r in reports for item in r.findings()]
    for severity in (Severity.ERROR, Severity.WARNING, Severity.SUGGESTION):
        n = sum(item.severity == severity for item in shown)
        if n:
            parts.append(units.plural(n, str(severity)))
    unreadable = sum(r.error_class in ("LoadError", "InternalError") for r in reports)
    if unreadable:
        parts.append(f"{unreadable:,} unreadable")
    for error_class, why in (("InputShapeError", "--input-shape"), ("ConfigError", "configuration error")):
        refused = sum(r.error_class == error_class for r in reports)
        if refused:
            parts.append(f"{refused:,} not linted ({why})")
    pointers = sum(r.error_class == "LFSPointer" for r in reports)
    if pointers:
        parts.append(f"{pointers:,} skipped (Git LFS pointer{'s' if pointers != 1 else ''})")
    models = units.plural(len(reports), "model")
    per_node = sum(len(r.diagnostics) for r in reports)
    more = f" ({per_node:,} per node{'' if show_all else ': --show-all lists them'})" if per_node != len(shown) else ""
    baselined = sum(r.suppressed.baseline for r in reports if r.suppressed)
    accepted = f"; {units.plural(baselined, 'per-node finding')} accepted by the baseline" if baselined else ""
    return f"{', '.join(parts) or 'No findings'} in {models}{more}{accepted}"


def statistics_lines(reports: list[Report]) -> list[str]:
    """Findings per rule: how many the output shows (a group counts once, a finding folded under its root cause
    not at all) and how many nodes they cover, with the severity, as ruff's --statistics."""
    shown: dict[str, int] = {}
    per_node: dict[str, int] = {}
    about: dict[str, tuple] = {}
    for r in reports:
        for item in r.findings():
            shown[item.code] = shown.get(item.code, 0) + 1
        for d in r.diagnostics:
            per_node[d.code] = per_node.get(d.code, 0) + 1
            about[d.code] = (d.severity, d.name)
    if not about:
        return []
    lines = [f"{'shown':>7}  {'per node':>8}  code   severity    rule"]
    for code in sorted(about):
        severity, name = about[code]
        lines.append(f"{shown.get(code, 0):>7,}  {per_node[code]:>8,}  {code:<5}  {str(severity):<10}  {name}")
    return lines


def layer_table(report: Report, *, show_all: bool = False) -> list[str]:
    """The per-layer table of --summary: the data path, as the HTML draws it (constants and shape arithmetic only
    with --show-all); a size the data decides at its bound (≤); the total row says what the header says."""
    t = report.totals
    total_macs = t.macs or 1
    bounds = t.bounds
    upper = {node: most for node, _, most, _ in bounds.layers} if bounds is not None else {}
    has_ms = any(layer.measured_ms is not None for layer in report.layers)
    header = ["node", "op", "output", "params", "MACs", "%MACs", "out", "RF"] + (["ms"] if has_ms else [])
    rows = [header]
    for layer in report.layers:
        if layer.constant and not layer.params and not layer.macs and not show_all:
            continue
        macs_pct = f"{100 * layer.macs / total_macs:.1f}" if layer.macs and t.macs_complete else ""
        rf = units.receptive_field(layer, report.inputs)
        macs = units.count(layer.macs) if layer.macs else (
            f"≤ {units.count(upper[layer.name])}" if layer.name in upper else "?" if layer.macs is None else "")
        shape, out = units.shape(layer.output_shape), units.nbytes(layer.output_bytes)
        bound = bounds.dims.get(layer.outputs[0]) if bounds is not None and layer.outputs else None
        if bound is not None and (layer.output_shape is None or None in layer.output_shape):
            shape = f"≤ {units.shape(bound)}"
            out = f"≤ {units.nbytes(tensor_nbytes(layer.output_types[0][1], math.prod(bound)))}"
        row = [printable(f"{layer.scope}/{layer.label}" if layer.scope != "graph" else layer.label),
               printable(layer.op_type), shape, units.count(layer.params) if layer.params else "", macs, macs_pct,
               out, rf]
        if has_ms:
            row.append(f"{layer.measured_ms:.3f}" if layer.measured_ms is not None else "")
        rows.append(row)
    macs = units.macs_total(t).removesuffix(" MACs").split(" (")[0].removesuffix(" MACs")
    peak = units.peak_total(t).removeprefix("peak activations ").split(" at ")[0].split(" (")[0]
    rows.append(["total", "", "", units.count(t.params), "?" if macs.startswith("unknown") else macs,
                 "100.0" if t.macs and t.macs_complete else "", f"peak {'?' if peak == 'unknown' else peak}", ""]
                + ([""] if has_ms else []))
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    right = {3, 4, 5, 6, 8}
    return ["  ".join(cell.rjust(w) if i in right else cell.ljust(w) for i, (cell, w) in enumerate(zip(r, widths)))
            .rstrip() for r in rows]
