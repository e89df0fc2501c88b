"""SARIF 2.1.0 for GitHub code scanning: one run, the rule catalog with its docs, one result per
diagnostic located in the model file (physical) and at the node (logical), with a fingerprint from
(rule, node, op type) so an alert keeps its identity when the model around it changes."""
from __future__ import annotations

import hashlib
import json

from onnxlint.catalog import all_rules, iter_sections, rule_docs_url
from onnxlint.diagnostics import Severity
from onnxlint.escape import uri
from onnxlint.report import Report
from onnxlint.sources import in_repository, model_in_repository
from onnxlint.version import __version__

_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.SUGGESTION: "note"}
# how sure a finding is: exact arithmetic on the model's own numbers, or a design heuristic
_PRECISION = {"OL1": "very-high", "OL0": "very-high", "OL5": "very-high", "OL4": "very-high"}
MAX_RESULTS = 25_000  # per run: GitHub rejects an upload with more (and shows the first 5,000)
_TAGS = {"OL0": ["validity"], "OL1": ["correctness", "shapes"], "OL2": ["efficiency"], "OL3": ["memory"],
         "OL4": ["deployment"], "OL5": ["verification"], "OL6": ["deployment", "onnxruntime"]}


def fingerprint(*parts: str | None) -> str:
    """A stable id of a finding: what rule, at which node, on which op — not where in the file it sits."""
    return hashlib.sha256("\x1f".join(p or "" for p in parts).encode()).hexdigest()[:32]


def _rule_entry(rule) -> dict:
    sections = dict(iter_sections(rule.doc()))
    entry = {"id": rule.code, "name": rule.name,
             "shortDescription": {"text": rule.summary_text()},
             "fullDescription": {"text": sections.get("What it checks") or rule.summary_text()},
             "help": {"text": rule.doc(), "markdown": rule.doc()},
             "defaultConfiguration": {"level": _LEVEL[rule.severity], "enabled": rule.default_enabled},
             "properties": {"tags": ["onnx", "cnn", *_TAGS.get(rule.code[:3], [])],
                            "precision": _PRECISION.get(rule.code[:3], "high")}}
    url = rule_docs_url(rule)
    if url:
        entry["helpUri"] = url
    return entry


def _model_location(report: Report) -> dict:
    """The model file as a location, when it lies inside the repository; else no physical location at all."""
    path = model_in_repository(report.path)
    return {"artifactLocation": {"uri": uri(path)}, "region": {"startLine": 1}} if path else {}


def _rank(d):  # the text output's order: severity, then what acting on it saves the model
    return -d.severity, d.worth is None, -(d.worth or 0)


def render(reports: list[Report], **_options) -> str:
    rules = list(all_rules())
    index = {rule.code: i for i, rule in enumerate(rules)}
    results, notifications = [], []
    for report in reports:
        model = _model_location(report)
        if report.error is not None:
            notification = {"level": "error", "message": {"text": f"{report.path}: {report.error}"}}
            if model:
                notification["locations"] = [{"physicalLocation": model}]
            notifications.append(notification)
        for d, severity, text in report.per_node():
            location = {"physicalLocation": model} if model else {}
            if d.node:
                location["logicalLocations"] = [{"name": d.node, "fullyQualifiedName": f"{d.location}/{d.node}",
                                                 "kind": "function"}]
                if d.module:
                    location["logicalLocations"].append({"name": d.module, "fullyQualifiedName": d.module,
                                                         "kind": "module"})
            locations = [location] if location else []
            code = in_repository(d.source_file, d.source_line) if d.source_file and d.source_line else None
            if code:  # the line of PyTorch code that made the node, when the repository has it
                locations.append({"physicalLocation": {"artifactLocation": {"uri": uri(code)},
                                                       "region": {"startLine": d.source_line}}})
            result = {"ruleId": d.code, "level": _LEVEL[severity], "message": {"text": text},
                      "locations": locations,
                      "partialFingerprints": {"onnxlintNode/v1": fingerprint(d.code, f"{d.location}/{d.node}",
                                                                             d.op_type)},
                      "properties": {"source": d.source, "opType": d.op_type}}
            if d.folded_into:  # its root cause, as a related location: the finding to act on
                result["properties"]["foldedInto"] = d.folded_into
                result["relatedLocations"] = [{"id": 1, **({"physicalLocation": model} if model else {}),
                                               "message": {"text": f"root cause: {d.folded_into}"}}]
            if d.code in index:
                result["ruleIndex"] = index[d.code]
            results.append((_rank(d), len(results), result))
    omitted = max(len(results) - MAX_RESULTS, 0)
    results = [r for _, _, r in sorted(results, key=lambda item: item[:2])[:MAX_RESULTS]]
    if omitted:
        notifications.append({"level": "warning", "message": {
            "text": f"{omitted:,} lower-ranked results left out: GitHub accepts at most {MAX_RESULTS:,} per run"}})
    run = {"tool": {"driver": {"name": "onnxlint", "version": __version__, "semanticVersion": __version__,
                               "informationUri": "https://pypi.org/project/onnxlint/",
                               "rules": [_rule_entry(rule) for rule in rules]}},
           "automationDetails": {"id": "onnxlint/"},
           "results": results,
           "invocations": [{"executionSuccessful": not any(n["level"] == "error" for n in notifications),
                            "toolExecutionNotifications": notifications}],
           "properties": {"resultsOmitted": omitted}}
    sarif = {"$schema": "https://json.schemastore.org/sarif-2.1.0.json", "version": "2.1.0", "runs": [run]}
    return json.dumps(sarif, indent=2, ensure_ascii=False) + "\n"
