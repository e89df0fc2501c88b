"""`--format json`: the reports as one JSON document (schema_version 1, report.py); `--format jsonl`: one
report per line, the same envelope around one model, so each line stands alone and can be written the moment its
model is done."""
import json

from onnxlint.report import Report, envelope


def render(reports: list[Report], *, statistics: bool = False, **_options) -> str:
    data = envelope(reports)
    if statistics:  # findings per rule over every model, as --statistics prints them in text
        counts: dict[str, int] = {}
        for r in reports:
            for d in r.diagnostics:
                counts[d.code] = counts.get(d.code, 0) + 1
        data["statistics"] = dict(sorted(counts.items()))
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def line(report: Report) -> str:
    """One model's report as one line of JSON (its envelope included)."""
    return json.dumps(envelope([report]), ensure_ascii=False, separators=(",", ":")) + "\n"


def render_lines(reports: list[Report], **_options) -> str:
    return "".join(line(r) for r in reports)
