import json

from onnxlint.report import Report, envelope


def render(reports: list[Report], **_options) -> str:
    return json.dumps(envelope(reports), indent=2, ensure_ascii=False) + "\n"
