"""GitLab Code Quality: a JSON array of issues (description, check_name, fingerprint, severity, location),
the report a merge request widget reads (artifacts:reports:codequality)."""
from __future__ import annotations

import json
import os

from onnxlint.diagnostics import Severity
from onnxlint.report import Report
from onnxlint.reporters.sarif import fingerprint
from onnxlint.sources import model_in_repository

_SEVERITY = {Severity.ERROR: "critical", Severity.WARNING: "major", Severity.SUGGESTION: "info"}


def render(reports: list[Report], **_options) -> str:
    issues = []
    for r in reports:
        # GitLab needs a path: the model's in the repository, or its bare name (never a path outside it)
        path = model_in_repository(r.path) or os.path.basename(r.path)
        if r.error is not None:
            issues.append({"description": f"unreadable model: {r.error}", "check_name": "onnxlint-unreadable",
                           "fingerprint": fingerprint("unreadable", r.path), "severity": "blocker",
                           "location": {"path": path, "lines": {"begin": 1}}})
        for d, severity, text in r.per_node():
            where = f"{d.location}/{d.node}" if d.node else d.location
            issues.append({"description": f"{d.code} {where}: {text}",
                           "check_name": f"{d.code} {d.name}", "fingerprint": fingerprint(d.code, where, d.op_type),
                           "severity": _SEVERITY[severity], "location": {"path": path, "lines": {"begin": 1}}})
    return json.dumps(issues, indent=2, ensure_ascii=False) + "\n"
