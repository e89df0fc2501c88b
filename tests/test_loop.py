"""The loop a user runs (issue 30): lint → fix → lint the output → diff the two → commit through the pre-commit
hook, on the demo and on a real export with real (random) weights; and one count, one severity, one name in every
output of the same model: text, JSON, SARIF, GitHub, csv's stderr, repr, check(), fix and diff."""
import json
import os
import re
import shutil
import subprocess
import sys

import pytest
from conftest import ROOT, fixture, run_cli, with_random_weights

import onnxlint

pytestmark = pytest.mark.slow  # runs onnxruntime and the pre-commit hook


def _warnings(text: str) -> set[tuple[str, str]]:
    """(code, where) of every warning or error line of the text output."""
    return {(m.group(3), m.group(1)) for m in re.finditer(r"^(\S+?)(:\S+)?: (warning|error) (OL\d+)", text, re.M)}


def _codes(text: str, severity: str) -> list[str]:
    return re.findall(rf"^\S+: {severity} (OL\d+)|^\S+:\S+: {severity} (OL\d+)", text, re.M)


def _hook(repo, tmp_path, model: str) -> subprocess.CompletedProcess:
    for args in (["init", "-q"], ["add", model]):
        subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "cache")}
    return subprocess.run([sys.executable, "-m", "pre_commit", "try-repo", str(ROOT), "onnxlint", "--files", model],
                          cwd=repo, env=env, capture_output=True, text=True, timeout=1800)


def _loop(tmp_path, model, fixed_codes: set[str]):
    """lint, fix, lint the output, diff; returns the texts. The fixed model lints at its designed size with no
    flag, no warning is new, the exact MACs are unchanged, only what fix changed is listed as fixed."""
    before = run_cli(model)
    fixed = tmp_path / "fixed.onnx"
    done = run_cli("fix", model, "-o", fixed)
    assert done.returncode == 0 and fixed.is_file(), done.stdout + done.stderr
    after = run_cli(fixed)
    assert "OL001" not in after.stdout and "unknown" not in after.stdout.splitlines()[-2], after.stdout
    assert "taken at its designed size" in after.stdout  # said in one note
    # no new warning: those of the fixed model are the original's, so it exits as the original did
    strip = lambda found: {(code, where.split("/")[-1]) for code, where in found}  # noqa: E731
    assert strip(_warnings(after.stdout.replace(str(fixed), "M"))) <= strip(
        _warnings(before.stdout.replace(str(model), "M")))
    assert after.returncode == before.returncode
    diff = run_cli("diff", model, fixed)
    assert diff.returncode == 0, diff.stdout + diff.stderr
    macs = next(line for line in diff.stdout.splitlines() if line.strip().startswith("MACs"))
    assert macs.split()[-2:] == ["±0", "(±0.00%)"] and "unknown" not in diff.stdout and "None" not in diff.stdout
    assert set(re.findall(r"^  fixed (OL\d+)", diff.stdout, re.M)) == fixed_codes
    return before, done, after, diff


def test_the_loop_on_the_demo(tmp_path):
    model = tmp_path / "demo.onnx"
    shutil.copy(fixture("demo"), model)
    before, done, after, diff = _loop(tmp_path, model, {"OL203"})
    assert "1 finding fixed, 1 new" in diff.stdout  # the conv fc6 became is a wide one: OL202, a suggestion
    assert "; 1 warning, 2 suggestions (8 per node) remain" in done.stdout
    assert after.stdout.splitlines()[-1] == "1 warning, 2 suggestions in 1 model (8 per node: --show-all lists them)"
    repo = tmp_path / "repo"
    repo.mkdir()
    shutil.copy(tmp_path / "fixed.onnx", repo / "fixed.onnx")
    hook = _hook(repo, tmp_path, "fixed.onnx")
    # the demo's input size drops pixels, a warning the fix does not touch: the hook fails as it did before, on it
    assert hook.returncode == 1 and "fixed.onnx: warning OL104" in hook.stdout
    assert "OL001" not in hook.stdout


def test_the_loop_on_a_real_export_with_real_weights(tmp_path, corpus_dir):
    """torchvision's AlexNet (233 MiB of random weights): its classifier becomes convolutional, and the model that
    `fix` wrote lints clean at the size it was exported for, diffs with unchanged MACs, and passes the hook."""
    model = with_random_weights(corpus_dir / "tv_alexnet.onnx", tmp_path / "alexnet.onnx")
    assert model.stat().st_size > 200 * 1024**2
    before, done, after, diff = _loop(tmp_path, model, {"OL203"})
    assert before.returncode == after.returncode == 0
    assert "`onnxlint fix MODEL -o OUT.onnx --select OL203`, exact" in before.stdout  # offered, and applied
    repo = tmp_path / "repo"
    repo.mkdir()
    os.link(tmp_path / "fixed.onnx", repo / "fixed.onnx")
    hook = _hook(repo, tmp_path, "fixed.onnx")
    assert hook.returncode == 0 and "Passed" in hook.stdout, hook.stdout + hook.stderr


def test_one_count_in_every_output(tmp_path):
    """The demo: 1 warning (OL104, with the 4 per-layer drops folded under it) and 3 suggestions, 8 per node."""
    demo = fixture("demo")
    text = run_cli(demo).stdout
    assert text.splitlines()[-1] == "1 warning, 3 suggestions in 1 model (8 per node: --show-all lists them)"
    report = onnxlint.lint(demo)
    assert repr(report).endswith("1 warning, 3 suggestions (8 per node)>")
    with pytest.raises(onnxlint.LintError) as raised:
        onnxlint.check(demo)
    assert str(raised.value).startswith("onnxlint: 1 warning (5 per node) at or above warning")
    data = json.loads(run_cli(demo, "--format", "json").stdout)["models"][0]
    grouped = {d["node"] for g in data["groups"] for d in g["nodes"]}
    shown = [d for d in data["diagnostics"] if d["folded_into"] is None and d["node"] not in grouped]
    assert len(data["diagnostics"]) == 8 and len(shown) + len(data["groups"]) == 4
    assert [d["severity"] for d in shown + data["groups"]].count("warning") == 1
    sarif = json.loads(run_cli(demo, "--format", "sarif").stdout)["runs"][0]["results"]
    assert len(sarif) == 8 and [r["level"] for r in sarif].count("warning") == 1
    github = run_cli(demo, "--format", "github").stdout.splitlines()
    assert len(github) == 8 and sum(line.startswith("::warning") for line in github) == 1
    csv = run_cli(demo, "--format", "csv")
    assert "1 finding at or above --fail-on in 1 model" in csv.stderr and csv.returncode == 1
    fixed = run_cli("fix", demo, "--diff")
    # what remains after the fix, counted as linting the fixed model counts it (test_the_loop_on_the_demo)
    assert "; 1 warning, 2 suggestions (8 per node) remain" in fixed.stdout, fixed.stdout
    same = run_cli("diff", demo, demo).stdout
    assert same.splitlines()[-1] == "  0 findings fixed, 0 new, 4 unchanged (8 per node)"
    html = report.to_html()
    assert "<b>1 warning, 3 suggestions (8 per node)</b>" in html
