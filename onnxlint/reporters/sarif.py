"""SARIF 2.1.0 for GitHub code scanning: one run, the rule catalog with its docs, one result per
diagnostic located in the model file (physical) and at the node (logical)."""
from __future__ import annotations

import json

from onnxlint import __version__
from onnxlint.diagnostics import Severity
from onnxlint.engine import all_rules, iter_sections
from onnxlint.report import Report

_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.SUGGESTION: "note"}


def _rule_entry(rule) -> dict:
    sections = dict(iter_sections(rule.doc()))
    return {"id": rule.code, "name": rule.name,
            "shortDescription": {"text": rule.summary},
            "fullDescription": {"text": sections.get("What it checks") or rule.summary},
            "help": {"text": rule.doc(), "markdown": rule.doc()},
            "defaultConfiguration": {"level": _LEVEL[rule.severity], "enabled": rule.default_enabled}}


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
            result = {"ruleId": d.code, "level": _LEVEL[d.severity], "message": {"text": text},
                      "locations": [location], "properties": {"source": d.source, "opType": d.op_type}}
            if d.code in index:
                result["ruleIndex"] = index[d.code]
            results.append(result)
    run = {"tool": {"driver": {"name": "onnxlint", "version": __version__, "semanticVersion": __version__,
                               "informationUri": "https://pypi.org/project/onnxlint/",
                               "rules": [_rule_entry(rule) for rule in rules]}},
           "results": results,
           "invocations": [{"executionSuccessful": not notifications,
                            "toolExecutionNotifications": notifications}]}
    sarif = {"$schema": "https://json.schemastore.org/sarif-2.1.0.json", "version": "2.1.0", "runs": [run]}
    return json.dumps(sarif, indent=2, ensure_ascii=False) + "\n"
