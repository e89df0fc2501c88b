"""The per-layer table for papers and reviews: `--summary --format markdown|csv`, rows grouped by module
path with `--depth N` (layer1.0.* folds into layer1.0). FLOPs are 2 × MACs and named as such."""
from __future__ import annotations

import csv
import io

from onnxlint import units
from onnxlint.escape import csv_cell, markdown, markdown_code
from onnxlint.report import Report

HEADER = ["layer", "op", "output", "params", "MACs", "FLOPs (2×MACs)", "activation bytes"]


def rows(report: Report, depth: int | None = None, *, modules_only: bool = False) -> list[list]:
    """[layer, op, output shape, params, MACs, FLOPs, output bytes, MACs at most] per layer (per module with
    `depth`); the weight plumbing (Constant, ConstantOfShape) is left out, and with `modules_only` every layer that
    has no module path; None marks what is unknown; the last, where the data decides a size, the MACs at the bound
    (None where they are exact or have no bound)."""
    out: list[list] = []
    groups: dict[str, list] = {}
    bounds = report.totals.bounds if report.totals is not None else None
    upper = {node: most for node, _, most, _ in bounds.layers} if bounds is not None else {}
    for layer in report.layers:
        if layer.op_type in ("Constant", "ConstantOfShape") and not layer.params and not layer.macs:
            continue
        origin = layer.origin
        if origin is None and modules_only:
            continue
        if depth is None or origin is None:
            out.append([layer.label, layer.op_type, units.shape(layer.output_shape), layer.params, layer.macs,
                        None if layer.macs is None else 2 * layer.macs, layer.output_bytes,
                        upper.get(layer.name) if layer.macs is None else None])
            continue
        key = ".".join(origin.module.split(".")[:depth]) if origin.module else "(root)"
        if key not in groups:
            groups[key] = [key, [], None, 0, 0, 0, 0, 0]
            out.append(groups[key])
        group = groups[key]
        most = layer.macs if layer.macs is not None else upper.get(layer.name)
        group[7] = None if most is None or group[7] is None else group[7] + most
        group[1].append(layer.op_type)
        group[2] = units.shape(layer.output_shape)  # the module's output: its last layer's
        group[3] += layer.params
        for i, value in ((4, layer.macs), (5, None if layer.macs is None else 2 * layer.macs),
                         (6, layer.output_bytes)):
            group[i] = None if value is None or group[i] is None else group[i] + value
    for group in groups.values():
        ops = group[1]
        group[1] = ops[0] if len(ops) == 1 else f"{len(ops)} layers"
        if group[4] is not None:
            group[7] = None  # exact: no bound to give
    return out


def _total_row(report: Report) -> list:
    t = report.totals
    return ["total", "", "", t.params, t.macs if t.macs_complete else None,
            2 * t.macs if t.macs_complete else None, None, None if t.macs_complete else t.macs_upper]


def render_markdown(reports: list[Report], *, depth: int | None = None, **_options) -> str:
    parts = []
    for report in reports:
        if report.error is not None:
            continue
        parts.append(f"### {markdown(report.path)}\n")
        parts.append("| " + " | ".join(HEADER) + " |")
        parts.append("|---|---|---|---:|---:|---:|---:|")
        for row in rows(report, depth) + [_total_row(report)]:
            at_most = f"≤ {row[7]:,}" if row[4] is None and row[7] is not None else None
            cells = [markdown_code(row[0]) if row[0] != "total" else "**total**", markdown(row[1]), row[2], _n(row[3]),
                     at_most or _n(row[4]), f"≤ {2 * row[7]:,}" if at_most else _n(row[5]),
                     units.nbytes(row[6]) if row[6] is not None else ("" if row[0] == "total" else "?")]
            parts.append("| " + " | ".join(str(c) for c in cells) + " |")
        if report.diagnostics:
            parts.append("\n**Findings**\n")
            for item in report.findings():
                where = getattr(item, "where", None) or "-"
                parts.append(f"- {item.severity} `{item.code}` {markdown_code(where)}: {markdown(item.message)}")
        parts.append("")
    return "\n".join(parts) + "\n"


def render_csv(reports: list[Report], *, depth: int | None = None, **_options) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["model", *HEADER])  # names are made one line and formula-free by csv_cell
    for report in reports:
        if report.error is None:
            for row in rows(report, depth):
                writer.writerow([csv_cell(v) for v in (report.path, *("" if v is None else v for v in row[:7]))])
    return buffer.getvalue()


def _n(value) -> str:
    return "?" if value is None else f"{value:,}" if isinstance(value, int) else str(value)
