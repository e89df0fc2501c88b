"""Output formats for CI: SARIF 2.1.0 (validated against the official schema), GitHub annotations."""
import json
from pathlib import Path

import jsonschema
from conftest import ROOT, fixture, run_cli

import onnxlint

SCHEMA = json.loads((Path(__file__).parent / "sarif-schema-2.1.0.json").read_text())


def test_sarif_validates_and_locates_nodes(tmp_path):
    bad = tmp_path / "broken.onnx"
    bad.write_bytes(b"\x00\x01garbage")
    out = tmp_path / "report.sarif"
    result = run_cli(fixture("demo"), bad, "--format", "sarif", "--output", out, cwd=ROOT)
    assert result.returncode == 2 and result.stdout == ""  # an unreadable model is an error, as in ruff
    sarif = json.loads(out.read_text())
    jsonschema.validate(sarif, SCHEMA)
    [run] = sarif["runs"]
    rules = run["tool"]["driver"]["rules"]
    assert {r["id"] for r in rules} >= {"OL101", "OL201", "OL501"}
    assert "Why it matters" in next(r for r in rules if r["id"] == "OL101")["help"]["text"]
    conv1 = next(r for r in run["results"] if r["ruleId"] == "OL101")
    # folded under OL104 (the one warning the text shows): a note that points to its root cause
    assert conv1["level"] == "note" and conv1["relatedLocations"][0]["message"]["text"] == "root cause: OL104"
    assert "a consequence of OL104" in conv1["message"]["text"]
    assert next(r for r in run["results"] if r["ruleId"] == "OL104")["level"] == "warning"
    location = conv1["locations"][0]
    # a URI relative to the repository (the working folder): never an absolute path
    assert location["physicalLocation"]["artifactLocation"]["uri"] == "fixtures/demo.onnx"
    assert location["logicalLocations"][0]["fullyQualifiedName"] == "graph/conv1"
    assert rules[conv1["ruleIndex"]]["id"] == "OL101"
    assert run["invocations"][0]["toolExecutionNotifications"][0]["level"] == "error"


def test_github_annotations():
    out = run_cli(fixture("demo"), "--format", "github", cwd=ROOT).stdout.splitlines()
    first = next(line for line in out if "OL101" in line)  # file= is relative to the repository
    assert first.startswith("::notice file=fixtures/demo.onnx,title=OL101 conv-drops-input::graph/conv1: ")
    # the one warning is the root cause; the folded one names it and gives its advice, not a contradicting one
    assert [line.split(" ", 1)[0] for line in out].count("::warning") == 1
    assert "a consequence of OL104" in first and first.endswith("→ feed 195×195: every stage is exact there and "
                                                                "the model runs (re-exported at that size: the file "
                                                                "fixes 224×224)")


def test_statistics_count_what_is_shown_and_what_is_behind_it():
    """ruff's --statistics: the table instead of the findings; shown (a group once, a finding folded under its
    root cause not at all) and per node, both labelled, with the severity; the count line agrees with it."""
    result = run_cli(fixture("demo"), "--statistics")
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["shown", "per", "node", "code", "severity", "rule"]
    assert "      0         3  OL102  warning     pool-drops-input" in lines  # folded under OL104: not shown
    assert "      1         1  OL104  warning     input-size-not-divisible" in lines
    shown = {line.split()[2]: (int(line.split()[0]), line.split()[3]) for line in lines[1:-1]}
    warnings = sum(n for n, severity in shown.values() if severity == "warning")
    suggestions = sum(n for n, severity in shown.values() if severity == "suggestion")
    assert lines[-1] == f"{warnings} warning, {suggestions} suggestions in 1 model (8 per node)"
    assert (warnings, suggestions) == (1, 3)
    assert "OL201" not in result.stdout.split("shown")[0] and result.returncode == 1


def test_the_streamed_json_is_the_whole_document():
    """--format json is written record by record; what it writes is json.dumps of the report's dict, to the byte,
    for models with findings, bounds and groups, an unreadable one, and --statistics."""
    from onnxlint.report import envelope
    from onnxlint.reporters.json import chunks

    reports = [onnxlint.lint(fixture(name)) for name in ("demo", "clean", "detection/ssdlite320_mobilenet_v3_large")]
    from onnxlint.api import lint_safely
    from onnxlint.config import Settings

    reports.append(lint_safely(b"not a model", Settings(), name="broken.onnx"))
    whole = json.dumps(envelope(reports), indent=2, ensure_ascii=False) + "\n"
    assert "".join(chunks(reports)) == whole
    with_statistics = json.loads("".join(chunks(reports, statistics=True)))
    assert with_statistics["statistics"]["OL104"] == 1 and with_statistics["models"] == json.loads(whole)["models"]
