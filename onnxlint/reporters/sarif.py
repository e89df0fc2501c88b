"""SARIF 2.1.0 for GitHub code scanning: one run, the rule catalog with its docs, one result per
diagnostic located in the model file (physical) and at the node (logical), with a fingerprint from
(rule, node, op type) so an alert keeps its identity when the model around it changes."""
from __future__ import annotations

import hashlib
import json

from onnxlint import __version__
from onnxlint.catalog import all_rules, iter_sections, rule_docs_url
from onnxlint.diagnostics import Severity
from onnxlint.report import Report
from onnxlint.sources import in_repository

_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.SUGGESTION: "note"}
# how sure a finding is: exact arithmetic on the model's own numbers, or a design heuristic
_PRECISION = {"OL1": "very-high", "OL0": "very-high", "OL5": "very-high", "OL4": "very-high"}
_TAGS = {"OL0": ["validity"], "OL1": ["correctness", "shapes"], "OL2": ["efficiency"], "OL3": ["memory"],
         "OL4": ["deployment"], "OL5": ["verification"]}


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


def render(reports: list[Report], **_options) -> str:
    rules = list(all_rules())
    index = {rule.code: i for i, rule in enumerate(rules)}
    results, notifications = [], []
    for report in reports:
        if report.error is not None:
            notifications.append({"level": "error", "message": {"text": f"{report.path}: {report.error}"},
                                  "locations": [{"physicalLocation": {"artifactLocation": {"uri": report.path}}}]})
        for d in report.diagnostics:
            text = d.message + (f" → {d.suggestion}" if d.suggestion else "")
            location = {"physicalLocation": {"artifactLocation": {"uri": report.path},
                                             "region": {"startLine": 1}}}
            if d.node:
                location["logicalLocations"] = [{"name": d.node, "fullyQualifiedName": f"{d.location}/{d.node}",
                                                 "kind": "function"}]
                if d.module:
                    location["logicalLocations"].append({"name": d.module, "fullyQualifiedName": d.module,
                                                         "kind": "module"})
            locations = [location]
            if d.source_file:  # the line of PyTorch code that made the node
                locations.append({"physicalLocation": {
                    "artifactLocation": {"uri": in_repository(d.source_file) or d.source_file},
                    "region": {"startLine": d.source_line or 1}}})
            result = {"ruleId": d.code, "level": _LEVEL[d.severity], "message": {"text": text},
                      "locations": locations,
                      "partialFingerprints": {"onnxlintNode/v1": fingerprint(d.code, f"{d.location}/{d.node}",
                                                                             d.op_type)},
                      "properties": {"source": d.source, "opType": d.op_type}}
            if d.folded_into:
                result["properties"]["foldedInto"] = d.folded_into
            if d.code in index:
                result["ruleIndex"] = index[d.code]
            results.append(result)
    run = {"tool": {"driver": {"name": "onnxlint", "version": __version__, "semanticVersion": __version__,
                               "informationUri": "https://pypi.org/project/onnxlint/",
                               "rules": [_rule_entry(rule) for rule in rules]}},
           "automationDetails": {"id": "onnxlint/"},
           "results": results,
           "invocations": [{"executionSuccessful": not notifications,
                            "toolExecutionNotifications": notifications}]}
    sarif = {"$schema": "https://json.schemastore.org/sarif-2.1.0.json", "version": "2.1.0", "runs": [run]}
    return json.dumps(sarif, indent=2, ensure_ascii=False) + "\n"
