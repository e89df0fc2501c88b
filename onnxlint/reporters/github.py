"""GitHub Actions workflow commands: one annotation per diagnostic."""
from onnxlint.diagnostics import Severity
from onnxlint.escape import github as _escape
from onnxlint.report import Report
from onnxlint.sources import in_repository, model_in_repository

_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.SUGGESTION: "notice"}


def render(reports: list[Report], **_options) -> str:
    lines = []
    for r in reports:
        model = model_in_repository(r.path)  # an annotation never points outside the repository
        model_place = f"file={_escape(model, prop=True)}," if model else ""
        if r.error is not None:
            lines.append(f"::error {model_place}title=onnxlint::{_escape(f'{r.path}: {r.error}')}")
        for d, severity, text in r.per_node():
            title = _escape(f"{d.code} {d.name}", prop=True)
            where = f"{d.location}/{d.node}" if d.node else d.location
            if d.module:
                where = f"{d.module} ({where})"
            message = f"{where}: {text}"
            # on the PyTorch line that made the node when that file is in the repository: the pull request's diff
            code = in_repository(d.source_file, d.source_line) if d.source_file else None
            place = (f"file={_escape(code, prop=True)},line={d.source_line}," if code and d.source_line
                     else model_place)  # else the model file
            lines.append(f"::{_LEVEL[severity]} {place}title={title}::{_escape(message)}")
    return "\n".join(lines) + ("\n" if lines else "")
