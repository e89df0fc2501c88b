"""What a ruff or mypy user expects of the command line: no flag silently ignored, folders searched as ruff
searches them, exit 2 on any error, statistics that agree with the output, suppressions that last (baselines)
and that say when they match nothing."""
import json
import shutil
import subprocess
import sys

import pytest
from conftest import fixture, run_cli


@pytest.mark.parametrize("args, said", [
    (["-q", "--summary"], "-q prints the findings only"),
    (["--summary", "--format", "json"], "--format json already holds every layer"),
    (["--summary", "--format", "sarif"], "--format sarif reports findings only"),
    (["--summary", "--format", "github"], "--format github reports findings only"),
    (["--summary", "--format", "gitlab"], "--format gitlab reports findings only"),
    (["--depth", "2"], "--depth groups the rows of --format markdown or csv"),
    (["--runs", "5"], "--runs sets how many runs --profile or --what-if time"),
    (["--what-if", "--format", "csv"], "--what-if's measurements are part of the findings"),
    (["--show-settings", "--format", "sarif"], "--show-settings prints text or, with --format json, JSON"),
    (["--memory-budget", "0"], "memory-budget: must be a positive size"),
    (["--input-shape", "=1,3,224,224"], "the input's name before '=' is empty"),
    (["--fix"], "onnxlint fix MODEL -o OUT.onnx"),
])
def test_a_flag_that_would_do_nothing_is_refused_in_one_line(args, said):
    result = run_cli(fixture("demo"), *args)
    assert result.returncode == 2 and result.stdout == "", (args, result.stdout)
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("onnxlint: ") and said in line, (args, line)


def test_a_negative_memory_budget_in_pyproject_is_refused_as_on_the_command_line(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.onnxlint]\nmemory-budget = -5\n')
    shutil.copy(fixture("demo"), tmp_path / "m.onnx")
    result = run_cli(tmp_path / "m.onnx")
    assert result.returncode == 2 and "memory-budget: must be a positive size, not -5" in result.stderr


def test_show_settings_as_json():
    data = json.loads(run_cli(fixture("demo"), "--show-settings", "--format", "json", "--fail-on", "error").stdout)
    [model] = data["models"]
    assert model["settings"]["fail-on"] == "error" and model["origin"]["fail-on"] == "command line"
    assert model["settings"]["respect-gitignore"] is True and ".venv" in model["settings"]["exclude"]


def _tree(root):
    """A project as users have them: models, a venv holding onnx's test models, a hidden folder, a build
    folder, a gitignored one."""
    for path in ("models/a.onnx", "models/sub/b.onnx", ".venv/lib/site.onnx", "env/lib/c.onnx", ".cache/d.onnx",
                 "dist/e.onnx", "exports/f.onnx", "notes/g.onnx"):
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(fixture("clean"), root / path)
    (root / "env" / "pyvenv.cfg").write_text("home = /usr/bin\n")  # a virtual environment by another name
    (root / ".gitignore").write_text("exports/\n")
    subprocess.run(["git", "init", "-q", str(root)], check=True)


def _linted(result) -> list[str]:
    return sorted(line.split(":")[0] for line in result.stdout.splitlines() if " nodes, " in line)


def test_folders_are_searched_as_ruff_searches_them(tmp_path):
    _tree(tmp_path)
    result = run_cli(".", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert _linted(result) == ["models/a.onnx", "models/sub/b.onnx", "notes/g.onnx"]
    result = run_cli(".", "--no-respect-gitignore", "--extend-exclude", "notes,sub", cwd=tmp_path)
    assert _linted(result) == ["exports/f.onnx", "models/a.onnx"]
    result = run_cli(".", "--exclude", "models/sub", cwd=tmp_path)  # replaces the defaults: dist is searched
    assert _linted(result) == ["dist/e.onnx", "models/a.onnx", "notes/g.onnx"]
    # a file named on the command line is linted even where a pattern excludes it, unless --force-exclude
    assert _linted(run_cli("exports/f.onnx", cwd=tmp_path)) == ["exports/f.onnx"]
    forced = run_cli("exports/f.onnx", "--force-exclude", cwd=tmp_path)
    assert forced.returncode == 0 and forced.stdout == "" and forced.stderr == ""
    (tmp_path / "pyproject.toml").write_text('[tool.onnxlint]\nextend-exclude = ["notes"]\n')
    assert _linted(run_cli(".", cwd=tmp_path)) == ["models/a.onnx", "models/sub/b.onnx"]


def test_an_empty_folder_says_no_model_was_found_and_fails(tmp_path):
    (tmp_path / "empty").mkdir()
    result = run_cli(tmp_path / "empty")
    assert result.returncode == 2
    assert "empty: no *.onnx file found in this folder" in result.stderr and "is a directory" not in result.stderr
    both = run_cli(tmp_path / "empty", fixture("clean"))  # the other path is still linted
    assert both.returncode == 2 and "clean.onnx: " in both.stdout


def test_an_unreadable_model_fails_the_run_even_beside_findings(tmp_path):
    result = run_cli(fixture("demo"), tmp_path / "missing.onnx")
    assert result.returncode == 2  # a warning on demo does not hide a broken path (ruff: exit 2 on any error)
    assert "missing.onnx" in result.stderr and "warning OL104" in result.stdout
    assert run_cli(fixture("demo"), tmp_path / "missing.onnx", "--exit-zero").returncode == 2


def test_csv_says_why_it_exits_1():
    result = run_cli(fixture("demo"), "--format", "csv")
    assert result.returncode == 1
    assert "1 finding at or above --fail-on in 1 model, not in --format csv" in result.stderr


def test_a_root_cause_whose_children_are_all_suppressed_goes_with_them():
    model = fixture("torch/smallnet_torchscript")  # OL104 at stem.2, the OL102 it explains folded under it
    assert run_cli(model, "--select", "OL1").returncode == 1
    quiet = run_cli(model, "--select", "OL1", "--ignore-node", "OL102:stem.*")
    assert quiet.returncode == 0 and "OL104" not in quiet.stdout, quiet.stdout


def test_unused_ignore_globs_are_warned_about():
    result = run_cli(fixture("demo"), "--ignore-node", "OL201:nomatch*", "--ignore-node", "OL201:conv*")
    assert "warning: --ignore-node / ignore OL201:nomatch* matched no finding in the 1 model linted" in result.stderr
    assert "OL201:conv*" not in result.stderr


@pytest.mark.slow  # runs onnxruntime or the command line in subprocesses
def test_a_baseline_accepts_todays_findings_and_fails_only_on_new_ones(tmp_path):
    shutil.copy(fixture("demo"), tmp_path / "demo.onnx")
    shutil.copy(fixture("torch/smallnet_torchscript"), tmp_path / "small.onnx")
    written = run_cli("demo.onnx", "--write-baseline", "baseline.json", cwd=tmp_path)
    assert written.returncode == 0 and "wrote 8 findings to baseline.json" in written.stderr
    entries = json.loads((tmp_path / "baseline.json").read_text())["findings"]
    assert {e["model"] for e in entries} == {"demo.onnx"} and {e["code"] for e in entries} >= {"OL104", "OL201"}
    accepted = run_cli("demo.onnx", "--baseline", "baseline.json", cwd=tmp_path)
    assert accepted.returncode == 0
    assert accepted.stdout.splitlines()[-1] == "No findings in 1 model; 8 per-node findings accepted by the baseline"
    # a model retrained with the same architecture (other weights, same numbers) keeps its baseline
    (tmp_path / "pyproject.toml").write_text('[tool.onnxlint]\nbaseline = "baseline.json"\n')
    assert run_cli("demo.onnx", cwd=tmp_path).returncode == 0
    # a new model is not in it; a finding fixed leaves a stale entry, which is said
    new = run_cli("demo.onnx", "small.onnx", cwd=tmp_path)
    assert new.returncode == 1 and "small.onnx: warning OL104" in new.stdout and "demo.onnx: warning" not in new.stdout
    # a finding only ignored (a rule not run, a node skipped) is not fixed: its entry is not called stale
    for ignoring in (["--ignore", "OL201"], ["--ignore-node", "OL201:conv2"]):
        ignored = run_cli("demo.onnx", *ignoring, cwd=tmp_path)
        assert ignored.returncode == 0 and "no longer occur" not in ignored.stderr, ignoring
    assert run_cli("fix", "demo.onnx", "--in-place", "--select", "OL203", cwd=tmp_path).returncode == 0
    fixed = run_cli("demo.onnx", cwd=tmp_path)
    assert fixed.returncode == 0
    assert "1 finding of the baseline baseline.json no longer occurs (fixed?)" in fixed.stderr


def test_a_baseline_that_is_not_one_is_an_error(tmp_path):
    (tmp_path / "b.json").write_text("[1, 2]")
    result = run_cli(fixture("demo"), "--baseline", tmp_path / "b.json")
    assert result.returncode == 2 and "is not an onnxlint baseline" in result.stderr


def test_jsonl_is_one_report_per_line(tmp_path):
    result = run_cli(fixture("demo"), fixture("clean"), tmp_path / "missing.onnx", "--format", "jsonl")
    lines = result.stdout.splitlines()
    assert len(lines) == 3 and result.returncode == 2
    models = [json.loads(line)["models"][0] for line in lines]
    assert [m["path"].rsplit("/", 1)[-1] for m in models] == ["demo.onnx", "clean.onnx", "missing.onnx"]
    whole = json.loads(run_cli(fixture("demo"), "--format", "json").stdout)["models"][0]
    assert models[0] == whole  # each line is the model's report, as --format json holds it
    assert "error" in models[2] and "missing.onnx" in result.stdout


def test_onnxlint_rules_has_a_header():
    lines = run_cli("rules").stdout.splitlines()
    assert lines[0].split() == ["code", "name", "severity", "on", "fix", "summary"]


def test_a_receptive_field_past_the_input_is_the_whole_input():
    rows = {line.split()[0]: line for line in run_cli(fixture("demo"), "--summary").stdout.splitlines()[:22]}
    assert rows["conv1"].rstrip().endswith("11×11")
    assert rows["fc6"].rstrip().endswith("whole input")  # after the Flatten: not a number larger than 224
    from conftest import light

    vgg = {line.split()[0]: line for line in run_cli(light("vgg19"), "--summary").stdout.splitlines()}
    assert vgg["n32"].rstrip().endswith("220×220") and vgg["n34"].rstrip().endswith("whole input")  # 252 ≥ 224


def test_diff_fails_on_new_findings_only():
    same = run_cli("diff", fixture("demo"), fixture("demo"), "--fail-on-new", "suggestion")
    assert same.returncode == 0, same.stdout
    worse = run_cli("diff", fixture("clean"), fixture("demo"), "--fail-on-new", "warning")
    assert worse.returncode == 1
    assert "over budget: 1 warning (5 per node) new at or above warning: OL101, OL102, OL104" in worse.stdout
    assert run_cli("diff", fixture("clean"), fixture("demo"), "--fail-on-new", "error").returncode == 0
    assert run_cli("diff", fixture("demo"), fixture("clean"), "--fail-on-new", "suggestion").returncode == 0  # fixed


def test_plurals_thousands_and_one_minus_sign(tmp_path):
    one = run_cli(fixture("torch/smallnet_torchscript"), "--select", "OL104,OL102").stdout
    assert "1 strided layer drops real input" in one and "1 warning in 1 model (2 per node: --show-all" in one
    demo = run_cli(fixture("demo")).stdout
    assert demo.splitlines()[-1] == "1 warning, 3 suggestions in 1 model (8 per node: --show-all lists them)"
    diff = run_cli("diff", fixture("demo"), fixture("clean")).stdout
    assert "(−99.90%)" in diff and "-9" not in diff  # the same minus sign as the deltas


def test_rules_as_json_and_locations_that_are_not_line_numbers(tmp_path):
    """`onnxlint rules --format json` as ruff's; a folder search finds MODEL.ONNX; a model from stdin is
    `<stdin>`, a finding about the whole model names no location, and a module path `0.1` is quoted."""
    rules = json.loads(run_cli("rules", "--format", "json").stdout)
    assert [r["code"] for r in rules][:3] == ["OL001", "OL002", "OL003"]
    ol401 = next(r for r in rules if r["code"] == "OL401")
    assert ol401["fix"] == "exact" and "What it checks" in ol401["explanation"] and ol401["default_enabled"]
    shutil.copy(fixture("demo"), tmp_path / "MODEL.ONNX")
    found = run_cli(tmp_path)
    assert found.returncode == 1 and f"{tmp_path / 'MODEL.ONNX'}: warning OL104" in found.stdout
    stdin = subprocess.run([sys.executable, "-m", "onnxlint", "-"], input=fixture("demo").read_bytes(),
                           capture_output=True)
    assert stdin.stdout.decode().startswith("<stdin>: warning OL104")
    from onnxlint.reporters.text import _not_a_number

    assert _not_a_number("0.1") == "'0.1'" and _not_a_number("layer1.0.conv2") == "layer1.0.conv2"
