"""The command line a new user meets: severity words, grouping and folding, the flags every linter has,
and the defects a first try found (each test failed before its fix)."""
import json
import os
import shutil
import subprocess
import sys

import jsonschema
import numpy as np
import onnx
import pytest  # noqa: E402
from conftest import FIXTURES, ROOT, codes, fixture, light, run_cli
from onnx import TensorProto, helper, numpy_helper
from test_formats import SCHEMA

import onnxlint
from onnxlint.reporters.text import _wrap

pytestmark = pytest.mark.slow  # runs onnxruntime or subprocesses: `-m 'not slow'` skips it


def test_each_line_has_its_severity_word_and_the_node_once():
    lines = [line for line in run_cli(fixture("demo")).stdout.splitlines() if line.startswith("fixtures") or
             line.startswith(str(fixture("demo")))]
    conv2 = next(line for line in lines if ":conv2: " in line)
    assert conv2.startswith(f"{fixture('demo')}:conv2: suggestion OL201 Conv 5×5, 48→128, 26×26: ")
    assert conv2.count("conv2") == 1


def test_groups_list_their_nodes_in_json_and_with_show_all():
    data = json.loads(run_cli(light("resnet50"), "--format", "json").stdout)["models"][0]
    [group] = data["groups"]
    assert group["code"] == "OL401" and group["count"] == 53 and len(group["nodes"]) == 53
    assert len([d for d in data["diagnostics"] if d["code"] == "OL401"]) == 53  # per-node findings stay
    text = run_cli(light("resnet50")).stdout
    assert "suggestion OL401 53 BatchNormalization layers directly follow a Conv and fold exactly" in text
    assert text.count("suggestion OL401") == 1
    assert run_cli(light("resnet50"), "--show-all").stdout.count(": OL401 BatchNormalization on") == 53


def test_input_size_findings_are_folded_under_ol104_in_json():
    data = json.loads(run_cli(fixture("demo"), "--format", "json").stdout)["models"][0]
    folded = [d for d in data["diagnostics"] if d["folded_into"] == "OL104"]
    assert {d["code"] for d in folded} == {"OL101", "OL102"} and len(folded) == 4
    [root] = [d for d in data["diagnostics"] if d["code"] == "OL104"]
    assert set(root["nodes"]) == {d["node"] for d in folded}


def test_quiet_exit_zero_stdin_and_bare_invocation():
    quiet = run_cli(fixture("demo"), "-q").stdout.splitlines()
    assert quiet and all(line.startswith(str(fixture("demo"))) or line.startswith("    →") for line in quiet)
    assert run_cli(fixture("demo"), "--exit-zero").returncode == 0
    stdin = subprocess.run([sys.executable, "-m", "onnxlint", "-"], input=fixture("demo").read_bytes(),
                           capture_output=True, timeout=120)
    assert stdin.returncode == 1 and stdin.stdout.decode().startswith("<stdin>: warning OL104")
    bare = run_cli()
    # a bare `onnxlint` is a usage error, as in ruff and mypy: the help on stderr, exit 2
    assert bare.returncode == 2 and "Usage: onnxlint" in bare.stderr and "lint models" in bare.stderr


def test_wrapping_at_a_terminal_width():
    text = "fixtures/demo.onnx:conv2: suggestion OL201 " + "word " * 40
    lines = _wrap(text, 60, "    ")
    assert len(lines) > 2 and all(len(line) <= 60 for line in lines) and lines[1].startswith("    ")
    assert _wrap(text, None, "    ") == [text]


def test_output_is_deterministic_in_every_format(tmp_path):
    for fmt in ("text", "json", "sarif", "github", "gitlab"):
        args = (light("vgg19"), "--format", fmt, "--memory-budget", "1MB", "--training")
        first, second = run_cli(*args).stdout, run_cli(*args).stdout
        assert first == second and first, fmt


def test_units_are_binary():
    message = codes(onnxlint.lint(light("resnet50")), "OL401")[0].message
    assert "MiB of activations" in message and "MB" not in message.replace("MiB", "")


def test_malformed_pyproject_is_an_error_for_its_models_only(tmp_path):
    broken, good = tmp_path / "broken", tmp_path / "good"
    broken.mkdir()
    good.mkdir()
    (broken / "pyproject.toml").write_text('[tool.onnxlint]\nselect = ["OL1"]]\n')
    shutil.copy(fixture("clean"), broken / "a.onnx")
    shutil.copy(fixture("demo"), good / "b.onnx")
    result = run_cli(broken / "a.onnx", good / "b.onnx")
    # said once for the models it holds, not once per model
    assert f"onnxlint: {broken / 'pyproject.toml'}: invalid TOML" in result.stderr
    assert "(1 model not linted)" in result.stderr and result.stderr.count("invalid TOML") == 1
    assert "(at line 2, column 17)" in result.stderr
    assert "b.onnx: warning OL104" in result.stdout  # the other model is linted
    assert run_cli(broken / "a.onnx").returncode == 2


def test_per_file_ignores_match_relative_to_the_config_folder(tmp_path):
    (tmp_path / "legacy").mkdir()
    shutil.copy(fixture("demo"), tmp_path / "legacy" / "old.onnx")
    (tmp_path / "pyproject.toml").write_text('[tool.onnxlint]\nper-file-ignores = {"legacy/*.onnx" = ["OL1"]}\n')
    for path, cwd in (("./legacy/old.onnx", tmp_path), (str(tmp_path / "legacy" / "old.onnx"), ROOT),
                      ("old.onnx", tmp_path / "legacy"), ("legacy/old.onnx", tmp_path)):
        result = run_cli(path, "--format", "json", cwd=cwd)
        found = {d["code"] for d in json.loads(result.stdout)["models"][0]["diagnostics"]}
        assert not {"OL101", "OL102", "OL104"} & found, (path, cwd)


def test_a_discovered_config_cannot_raise_the_size_cap(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.onnxlint]\nmax-size = "1TB"\n')
    shutil.copy(fixture("clean"), tmp_path / "m.onnx")
    result = run_cli(tmp_path / "m.onnx")
    assert result.returncode == 2 and "cannot raise the size cap" in result.stderr
    assert run_cli(tmp_path / "m.onnx", "--config", tmp_path / "pyproject.toml").returncode == 0


def test_unwritable_output_and_unencodable_console_are_one_line(tmp_path):
    result = run_cli(fixture("demo"), "-o", tmp_path / "nodir" / "out.txt")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.strip().count("\n") == 0 and "cannot write the report" in result.stderr
    env = {**os.environ, "PYTHONIOENCODING": "cp1252"}
    latin = subprocess.run([sys.executable, "-m", "onnxlint", str(fixture("demo"))], capture_output=True, env=env,
                           timeout=120)
    assert latin.returncode == 1 and b"Traceback" not in latin.stderr
    assert b"-> feed 195x195" in latin.stdout


def test_fix_options_that_contradict_are_usage_errors(tmp_path):
    for args in (("-o", tmp_path / "x.onnx", "--in-place"), ("--diff", "-o", tmp_path / "z.onnx"),
                 ("--diff", "--in-place")):
        result = run_cli("fix", fixture("demo"), *args)
        assert result.returncode == 2 and "contradict" in result.stderr, args
    result = run_cli("fix", fixture("demo"), "-o", tmp_path / "nodir" / "y.onnx")
    assert result.returncode == 2 and "does not exist" in result.stderr and "verified" not in result.stdout


def test_fix_select_takes_what_check_takes_and_reports_new_findings(tmp_path):
    result = run_cli("fix", fixture("demo"), "--select", "OL2,inference-noop", "--diff")
    assert result.returncode == 0, result.stderr
    assert "OL203 fc6 (Gemm) → Conv 5×5" in result.stdout and "OL402 removed Dropout drop6" in result.stdout
    assert "new: OL202 ×1" in result.stdout and "new OL202 at fc6_conv:" in result.stdout
    assert run_cli("fix", fixture("demo"), "--select", "OL9", "--diff").returncode == 2


def test_fix_keeps_placeholder_weights_small(tmp_path):
    out = tmp_path / "fixed.onnx"
    assert run_cli("fix", fixture("demo"), "-o", out).returncode == 0
    assert out.stat().st_size < 3 * fixture("demo").stat().st_size  # was 7.5 KB → 19.7 MB
    resnet = run_cli("fix", light("resnet50"), "--diff", "--select", "OL401")
    assert "skipped OL401" in resnet.stdout and "placeholder" in resnet.stdout


def test_fix_defaults_a_symbolic_batch_and_names_other_symbolic_dims(tmp_path):
    model = onnx.load(fixture("demo"))
    model.graph.input[0].type.tensor_type.shape.dim[0].dim_param = "N"
    model.graph.input[0].type.tensor_type.shape.dim[3].dim_param = "W"
    path = tmp_path / "sym.onnx"
    onnx.save(model, path)
    result = run_cli("fix", path, "--diff", "--select", "OL402")
    assert result.returncode == 2 and "image: [1, 3, 224, ?]" in result.stderr, result.stderr
    model.graph.input[0].type.tensor_type.shape.dim[3].dim_value = 224
    onnx.save(model, path)
    fixed = run_cli("fix", path, "--diff", "--select", "OL402")  # the batch alone is symbolic: taken as 1
    assert fixed.returncode == 0 and "OL402 removed Dropout drop6" in fixed.stdout, fixed.stderr


def test_a_missing_weight_file_is_one_finding_naming_it(tmp_path):
    inits, nodes, x = [], [], "x"
    for i in range(11):
        w = TensorProto(name=f"w{i}", data_type=TensorProto.FLOAT, dims=[4, 4, 1, 1])
        w.data_location = TensorProto.EXTERNAL
        for key, value in (("location", "weights.bin"), ("offset", str(64 * i)), ("length", "64")):
            w.external_data.add(key=key, value=value)
        inits.append(w)
        nodes.append(helper.make_node("Conv", [x, w.name], [f"c{i}"]))
        x = f"c{i}"
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4, 8, 8])],
                              [helper.make_tensor_value_info(x, TensorProto.FLOAT, None)], inits)
    path = tmp_path / "m.onnx"
    path.write_bytes(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]).SerializeToString())
    [d] = codes(onnxlint.lint(path), "OL003")
    assert "the external data file 'weights.bin' is missing beside the model (11 tensors" in d.message
    assert "unsafe" not in d.message


def test_option_ranges_training_and_statistics():
    for bad in ("OL201.min-saving=1.5", "OL201.min-saving=-1", "OL202.reduction=1"):
        result = run_cli(fixture("demo"), "--option", bad)
        assert result.returncode == 2 and "must be" in result.stderr, bad
    result = run_cli(fixture("demo"), "--training")
    assert result.returncode == 2 and "--memory-budget" in result.stderr
    data = json.loads(run_cli(fixture("demo"), "--format", "json", "--statistics").stdout)
    assert data["statistics"]["OL102"] == 3
    sarif = run_cli(fixture("demo"), "--format", "sarif", "--statistics")
    json.loads(sarif.stdout)  # still valid
    assert "OL102  warning     pool-drops-input" in sarif.stderr  # the table on stderr: the SARIF stays valid


def test_sarif_fingerprints_help_and_tags():
    sarif = json.loads(run_cli(fixture("demo"), "--format", "sarif").stdout)
    jsonschema.validate(sarif, SCHEMA)
    [run] = sarif["runs"]
    assert run["automationDetails"]["id"] == "onnxlint/"
    rule = next(r for r in run["tool"]["driver"]["rules"] if r["id"] == "OL101")
    assert rule["helpUri"].endswith("docs/rules.md#ol101-conv-drops-input")
    assert "correctness" in rule["properties"]["tags"] and rule["properties"]["precision"] == "very-high"
    prints = [r["partialFingerprints"]["onnxlintNode/v1"] for r in run["results"]]
    assert len(set(prints)) == len(prints)  # every alert keeps its own identity
    renamed = json.loads(run_cli(fixture("demo"), "--format", "sarif", "--ignore", "OL2").stdout)
    conv1 = next(r for r in renamed["runs"][0]["results"] if r["ruleId"] == "OL101")
    assert conv1["partialFingerprints"] == next(r for r in run["results"]
                                                if r["ruleId"] == "OL101")["partialFingerprints"]


def test_gitlab_code_quality():
    from conftest import ROOT

    issues = json.loads(run_cli(fixture("demo"), "--format", "gitlab", cwd=ROOT).stdout)
    conv1 = next(i for i in issues if i["check_name"] == "OL101 conv-drops-input")
    # GitLab reads location.path relative to the repository
    assert conv1["location"]["path"] == "fixtures/demo.onnx"
    # folded under OL104, the one warning (major) of the text: an info naming its root cause
    root = next(i for i in issues if i["check_name"].startswith("OL104"))
    assert root["severity"] == "major" and conv1["severity"] == "info"
    assert "a consequence of OL104" in conv1["description"]
    assert len({i["fingerprint"] for i in issues}) == len(issues)


def test_lfs_pointer_is_skipped_not_failed(tmp_path):
    pointer = tmp_path / "model.onnx"
    pointer.write_text("version https://git-lfs.github.com/spec/v1\noid sha256:abc\nsize 12345\n")
    result = run_cli(pointer)
    assert result.returncode == 0 and "run `git lfs pull`" in result.stderr
    assert "skipped (Git LFS pointer)" in result.stdout
    assert run_cli(pointer, fixture("demo")).returncode == 1
    hooks = (ROOT / ".pre-commit-hooks.yaml").read_text()
    assert "types: [binary]" in hooks


def test_json_schema_gains_fields_only():
    data = json.loads(run_cli(fixture("demo"), "--format", "json").stdout)["models"][0]
    assert {"groups"} <= set(data)
    first = data["diagnostics"][0]
    assert {"code", "name", "severity", "node", "op_type", "location", "message", "suggestion", "savings",
            "source"} <= set(first) and {"worth", "nodes", "folded_into"} <= set(first)
    assert np is not None and numpy_helper is not None and FIXTURES.is_dir()
