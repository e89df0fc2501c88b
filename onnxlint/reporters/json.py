"""`--format json`: the reports as one JSON document (schema_version 1, report.py)."""
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
