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


def test_a_finding_offers_its_fix_only_where_fix_applies(tmp_path):
    """On the light ResNet-50 (ConstantOfShape placeholder weights) OL401 names why `fix` cannot fold, and `fix`
    then writes nothing and exits 1 so that a script stops; on a model whose weights carry no data, the pointer
    says so, and `--verify` refuses it in one line, as `fix` does."""
    from conftest import light

    report = onnxlint.lint(light("resnet50"))
    [group] = [g for g in report.groups if g.code == "OL401"]
    assert "`onnxlint fix` cannot do it here: the Conv's weight is a ConstantOfShape placeholder" in group.suggestion
    assert "--select OL401`" not in group.suggestion
    assert all(d.fix is None and "placeholder" in d.fix_blocked for d in group.members)
    out = tmp_path / "out.onnx"
    nothing = run_cli("fix", light("resnet50"), "-o", out)
    assert nothing.returncode == 1 and not out.exists()
    assert "every fix was skipped; nothing written to" in nothing.stdout
    qdq = fixture("quantized/resnet26d_qdq")
    data = json.loads(run_cli(qdq, "--target", "ort-cpu", "--format", "json").stdout)["models"][0]
    ol601 = [d for d in data["diagnostics"] if d["code"] == "OL601" and d["fix"] is not None]
    assert ol601 and all(not d["fix"]["available"] and "carry no data" in d["fix"]["reason"] for d in ol601)
    refused = run_cli(qdq, "--target", "ort-cpu", "--verify")
    assert refused.returncode == 2 and refused.stderr.count("\n") == 1
    assert "the weights carry no data (30 initializers with dims only" in refused.stderr
    assert "so --verify cannot run it" in refused.stderr and "tensorprotoutils" not in refused.stderr
    offered = onnxlint.lint(fixture("demo"))
    [fc] = [d for d in offered.diagnostics if d.code == "OL203"]
    assert fc.fix == "exact" and fc.to_dict()["fix"] == {"available": True, "applicability": "exact"}


def test_diff_never_counts_unknown_as_zero(tmp_path):
    """A side whose sizes cannot be known prints `unknown` with why; a budget on it exits 2; a finding whose layer
    has unknown shapes in NEW is 'not checked', never 'fixed'; a symbolic side is compared at the other's size."""
    import onnx

    model = onnx.load(fixture("demo"))
    for i in (2, 3):
        model.graph.input[0].type.tensor_type.shape.dim[i].dim_param = "size"
    free = tmp_path / "free.onnx"
    onnx.save(model, free)
    compared = run_cli("diff", fixture("demo"), free)
    assert "free.onnx has symbolic input sizes: compared at image=1,3,224,224" in compared.stdout
    assert "±0 (±0.00%)" in compared.stdout and "0 findings fixed" in compared.stdout
    blind = run_cli("diff", fixture("demo"), free, "--input-shape", "image=1,3,224,224")
    assert blind.returncode == 0  # the user's sizes for both: no guessing, nothing unknown
    one = tmp_path / "one.onnx"
    model.graph.input[0].type.tensor_type.shape.dim[1].dim_param = "channels"  # no size of its own to borrow
    model.graph.input[0].name = "pixels"
    for node in model.graph.node:
        node.input[:] = ["pixels" if name == "image" else name for name in node.input]
    onnx.save(model, one)
    unknown = run_cli("diff", fixture("demo"), one, "--fail-on-increase", "macs=5%")
    assert unknown.returncode == 2, unknown.stdout + unknown.stderr
    macs = next(line for line in unknown.stdout.splitlines() if line.strip().startswith("MACs"))
    assert macs.split()[1:] == ["191.4", "M", "unknown", "unknown"]  # NEW and the change: unknown, never 0
    assert "MACs unknown in NEW" in unknown.stdout and "None" not in unknown.stdout
    assert "the macs budget cannot be checked: NEW" in unknown.stdout
    assert "not checked (shapes unknown in NEW)" in unknown.stdout
    assert not re.search(r"^  fixed OL20[12]", unknown.stdout, re.M)  # their layers are there, sizes unknown


def test_the_users_input_is_the_users(tmp_path):
    """A typo in --input-shape is a usage error naming the flag; OL001's example keeps the declared fixed dims; a
    configuration error is said once, with a suggestion; fix checks its arguments before importing onnx."""
    typo = run_cli(fixture("demo"), "--input-shape", "image=1,4,224,224")
    assert typo.returncode == 2 and "OL002" not in typo.stdout + typo.stderr
    assert "--input-shape image=1,4,224,224: the model declares image [1,3,224,224], whose axis 1 is fixed at 3" \
        in typo.stderr
    assert run_cli(fixture("demo"), "--input-shape", "image=1,3,195,195").returncode == 0  # a spatial size: fine
    silero = run_cli(fixture("silero/silero_vad_16k_op15"), "--select", "OL001").stdout
    assert "--input-shape state=2,1,128" in silero and "--input-shape input=1,SEQUENCE" in silero
    for name in ("a", "b", "c"):
        shutil.copy(fixture("demo"), tmp_path / f"{name}.onnx")
    (tmp_path / "pyproject.toml").write_text('[tool.onnxlint]\nselct = ["OL"]\n')
    broken = run_cli(tmp_path)
    assert broken.returncode == 2 and broken.stderr.count("unknown setting") == 1
    assert "did you mean 'select'?" in broken.stderr and "(3 models not linted)" in broken.stderr
    assert broken.stdout.splitlines()[-1] == "3 not linted (configuration error) in 3 models"
    probe = ("import sys; from click.testing import CliRunner; from onnxlint.cli import main; "
             "r = CliRunner().invoke(main, ['fix', sys.argv[1], '-o', '/nonexistent/x.onnx']); "
             "print(r.exit_code, [m for m in ('numpy', 'onnx.helper', 'onnxruntime') if m in sys.modules])")
    early = subprocess.run([sys.executable, "-c", probe, str(fixture("demo"))], capture_output=True, text=True)
    assert early.stdout.split() == ["2", "[]"], early.stdout + early.stderr


def test_quiet_where_there_is_nothing_to_do():
    """A torchvision export: no line for its Identity nodes (onnxruntime removes them) and no note for its symbolic
    batch unless -v; a severity other than the rule's says why on the same line."""
    out = run_cli(fixture("torch/shuffle_torchscript"), "--input-shape", "image=1,3,64,64")
    assert "OL402" not in out.stdout and "symbolic batch" not in out.stdout
    verbose = run_cli(fixture("torch/shuffle_torchscript"), "--input-shape", "image=1,3,64,64", "-v")
    assert verbose.stdout == out.stdout  # the size given: no batch assumed, nothing more to say
    assert "symbolic batch dim 'batch' taken as 1" in run_cli(fixture("torch/shuffle_torchscript"), "-v").stdout
    silero = run_cli(fixture("silero/silero_vad"), "--input-shape", "input=1,512", "--input-shape", "state=2,1,128")
    branch = [line for line in silero.stdout.splitlines() if " OL004 " in line]
    assert branch and all("(warning, not error: it fails only when that branch runs)" in line for line in branch)
