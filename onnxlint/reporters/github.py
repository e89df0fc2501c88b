"""GitHub Actions workflow commands: one annotation per diagnostic."""
from onnxlint.diagnostics import Severity
from onnxlint.report import Report
from onnxlint.sources import in_repository

_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.SUGGESTION: "notice"}


def _escape(text: str, *, prop: bool = False) -> str:
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return text.replace(":", "%3A").replace(",", "%2C") if prop else text


def render(reports: list[Report], **_options) -> str:
    lines = []
    for r in reports:
        if r.error is not None:
            lines.append(f"::error file={_escape(r.path, prop=True)},title=onnxlint::{_escape(r.error)}")
        for d in r.diagnostics:
            title = _escape(f"{d.code} {d.name}", prop=True)
            where = f"{d.location}/{d.node}" if d.node else d.location
            if d.module:
                where = f"{d.module} ({where})"
            message = f"{where}: {d.message}" + (f" → {d.suggestion}" if d.suggestion else "")
            # on the PyTorch line that made the node when that file is in the repository: the pull request's diff
            code = in_repository(d.source_file) if d.source_file else None
            place = (f"file={_escape(code, prop=True)},line={d.source_line}" if code
                     else f"file={_escape(r.path, prop=True)}")
            lines.append(f"::{_LEVEL[d.severity]} {place},title={title}::{_escape(message)}")
    return "\n".join(lines) + ("\n" if lines else "")
