"""From the ONNX node back to the PyTorch code (module paths, classes, file:line in every format), and from
one model to the next (`onnxlint diff`), on models from both real torch exporters."""
import json
import os
import shutil
import subprocess

import onnx
import pytest  # noqa: E402
from conftest import FIXTURES, ROOT, fixture, run_cli

import onnxlint

pytestmark = pytest.mark.slow  # runs onnxruntime or subprocesses: `-m 'not slow'` skips it

TORCH = FIXTURES / "torch"
# the line of SmallNet.forward that runs the stem: where the dynamo exporter's stack trace points
STEM_LINE = next(i for i, line in enumerate((ROOT / "fixtures" / "build_torch.py").read_text().splitlines(), 1)
                 if "self.layer1(self.stem(x))" in line)


def test_dynamo_metadata_gives_module_class_and_user_line():
    report = onnxlint.lint(TORCH / "smallnet_dynamo.onnx")
    [pool] = [d for d in report.diagnostics if d.code == "OL102"]
    assert pool.node == "node_max_pool2d" and pool.module == "stem.2"
    assert pool.module_class == "torch.nn.modules.pooling.MaxPool2d"
    assert pool.source_file.endswith("fixtures/build_torch.py") and pool.source_line == STEM_LINE
    data = json.loads(run_cli(TORCH / "smallnet_dynamo.onnx", "--format", "json").stdout)["models"][0]
    record = next(d for d in data["diagnostics"] if d["code"] == "OL102")
    assert record["module"] == "stem.2" and record["source_location"]["line"] == STEM_LINE
    layer = next(lr for lr in data["layers"] if lr["node"] == "node_conv2d")
    assert layer["module"] == "stem.0" and layer["module_class"] == "torch.nn.modules.conv.Conv2d"
    text = run_cli(TORCH / "smallnet_dynamo.onnx", "--show-all", cwd=ROOT).stdout
    assert f"    stem.2 (fixtures/build_torch.py:{STEM_LINE}): OL102 MaxPool 3×3/2" in text
    assert "drops real input rows/columns (stem.2)" in text  # rules name layers by module path


def test_torchscript_names_map_to_the_same_module_paths():
    ts = onnxlint.lint(TORCH / "smallnet_torchscript.onnx")
    dynamo = onnxlint.lint(TORCH / "smallnet_dynamo.onnx")
    labels = {lr.label for lr in ts.layers if lr.op == "Conv"}
    assert {"stem.0", "layer1.0.conv1", "layer1.1.conv2"} <= labels
    assert [d.module for d in ts.diagnostics if d.code == "OL102"] == \
        [d.module for d in dynamo.diagnostics if d.code == "OL102"] == ["stem.2"]
    functions = onnxlint.lint(TORCH / "smallnet_functions.onnx")
    assert {lr.label for lr in functions.layers if lr.op == "Conv"} >= {"layer1.0", "layer1.1"}
    plain = onnxlint.lint(fixture("demo"))
    assert all(d.module is None for d in plain.diagnostics)  # models without either keep node names


def test_sarif_adds_the_python_line_as_a_location():
    sarif = json.loads(run_cli(TORCH / "smallnet_dynamo.onnx", "--format", "sarif", cwd=ROOT).stdout)
    result = next(r for r in sarif["runs"][0]["results"] if r["ruleId"] == "OL102")
    model, code = result["locations"]
    assert model["physicalLocation"]["artifactLocation"]["uri"].endswith("smallnet_dynamo.onnx")
    assert code["physicalLocation"] == {"artifactLocation": {"uri": "fixtures/build_torch.py"},
                                        "region": {"startLine": STEM_LINE}}
    assert {"name": "stem.2", "fullyQualifiedName": "stem.2", "kind": "module"} in model["logicalLocations"]


def test_github_annotation_lands_on_the_python_file_in_the_repository(tmp_path):
    repo = tmp_path / "repo"
    (repo / "fixtures").mkdir(parents=True)
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    shutil.copy(ROOT / "fixtures" / "build_torch.py", repo / "fixtures" / "build_torch.py")
    shutil.copy(TORCH / "smallnet_dynamo.onnx", repo / "model.onnx")
    env = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@e", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@e"}
    subprocess.run(["git", "-C", str(repo), "add", "."], check=True)
    subprocess.run(["git", "-C", str(repo), "commit", "-qm", "model"], check=True, env={**os.environ, **env})
    lines = run_cli("model.onnx", "--format", "github", cwd=repo).stdout.splitlines()
    pool = next(line for line in lines if "OL102" in line)
    # the export ran at /work/main/fixtures/build_torch.py; in this repository the file
    # is fixtures/build_torch.py (a notice: folded under OL104)
    assert pool.startswith(f"::notice file=fixtures/build_torch.py,line={STEM_LINE},title=OL102 pool-drops-input::"
                           "stem.2")
    elsewhere = run_cli(repo / "model.onnx", "--format", "github", cwd=tmp_path).stdout
    # the .py file is not there: the model is the location, relative to the repository (the working folder)
    assert "file=repo/model.onnx," in elsewhere


def test_suppression_by_module_path_in_config_and_cli(tmp_path):
    assert not [d for d in json.loads(run_cli(TORCH / "smallnet_dynamo.onnx", "--format", "json",
                                              "--ignore-node", "OL102:stem.*").stdout)["models"][0]["diagnostics"]
                if d["code"] == "OL102"]
    shutil.copy(TORCH / "smallnet_dynamo.onnx", tmp_path / "m.onnx")
    (tmp_path / "pyproject.toml").write_text('[tool.onnxlint]\nignore = {"OL1" = ["stem.2"]}\n')
    found = json.loads(run_cli(tmp_path / "m.onnx", "--format", "json").stdout)["models"][0]["diagnostics"]
    assert not [d for d in found if d["code"] in ("OL102", "OL104") and d["node"] is not None
                and d["module"] == "stem.2"]


def test_diff_of_a_model_and_its_fix(tmp_path):
    fixed = tmp_path / "fixed.onnx"
    assert run_cli("fix", fixture("demo"), "-o", fixed, "--select", "OL203,OL401,OL402").returncode == 0
    # the fixed model is fully convolutional (free height and width): compared at the designed input size
    size = ("--input-shape", "image=1,3,224,224")
    result = run_cli("diff", fixture("demo"), fixed, "--format", "json", *size)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["totals"]["macs"]["delta"] == 0 and data["totals"]["params"]["delta"] == 0
    assert {d["code"] for d in data["findings"]["fixed"]} == {"OL203"}  # OL402 is opt-in: diff lints by default
    assert [d["code"] for d in data["findings"]["new"]] == ["OL202"]  # the 5×5 conv fc6 became
    assert data["matching"]["name"] >= 3
    text = run_cli("diff", fixture("demo"), fixed, *size).stdout
    assert "fixed OL203 at fc6" in text and "MACs" in text


def test_diff_prices_a_bigger_kernel_and_fails_the_budget(tmp_path):
    model = onnx.load(fixture("demo"))
    conv2 = next(n for n in model.graph.node if n.name == "conv2")
    weight_shape = next(n for n in model.graph.node if n.output and n.output[0] == conv2.input[1])
    shape_init = next(t for t in model.graph.initializer if t.name == weight_shape.input[0])
    shape_init.CopyFrom(onnx.numpy_helper.from_array(
        onnx.numpy_helper.to_array(shape_init).copy().__setitem__(slice(2, 4), 7) or
        __import__("numpy").array([128, 48, 7, 7], dtype="int64"), shape_init.name))
    for attr in conv2.attribute:
        if attr.name == "pads":
            attr.ints[:] = [3, 3, 3, 3]
        if attr.name == "kernel_shape":
            attr.ints[:] = [7, 7]
    bigger = tmp_path / "bigger.onnx"
    onnx.save(model, bigger)
    result = run_cli("diff", fixture("demo"), bigger, "--format", "json", "--fail-on-increase", "macs=5%,params=0")
    data = json.loads(result.stdout)
    delta = 26 * 26 * (49 - 25) * 48 * 128  # same 26×26 output, 24 more taps per channel pair
    assert data["totals"]["macs"]["delta"] == delta == 99_680_256
    assert data["totals"]["params"]["delta"] == (49 - 25) * 48 * 128
    [change] = [c for c in data["layers"] if c["layer"] == "conv2"]
    assert change["macs_delta"] == delta and change["matched_by"] == "name"
    assert result.returncode == 1 and len(data["over_budget"]) == 2
    markdown = run_cli("diff", fixture("demo"), bigger, "--format", "markdown", "--fail-on-increase", "macs=60%")
    assert markdown.returncode == 0 and "| MACs |" in markdown.stdout and "`conv2`" in markdown.stdout
    assert run_cli("diff", fixture("demo"), tmp_path / "missing.onnx").returncode == 2


def test_diff_across_opsets_and_with_external_data(tmp_path):
    ts = onnxlint.lint(TORCH / "smallnet_torchscript.onnx")  # opset 17
    dynamo = onnxlint.lint(TORCH / "smallnet_dynamo.onnx")  # opset 20
    assert ts.opset != dynamo.opset
    result = run_cli("diff", TORCH / "smallnet_torchscript.onnx", TORCH / "smallnet_dynamo.onnx", "--format", "json")
    data = json.loads(result.stdout)
    # stem.0 and head match by module path; dynamo names each folded conv after its BatchNorm: by structure
    assert data["matching"].get("module path", 0) >= 2 and "added" not in data["matching"]
    assert data["totals"]["macs"]["delta"] == 0
    external = tmp_path / "external.onnx"
    onnx.save(onnx.load(fixture("demo")), external, save_as_external_data=True, location="external.onnx.data",
              size_threshold=256)
    assert (tmp_path / "external.onnx.data").stat().st_size > 0
    same = json.loads(run_cli("diff", fixture("demo"), external, "--format", "json").stdout)
    assert same["totals"]["macs"]["delta"] == 0 and same["findings"]["new"] == []


def test_summary_tables_grouped_by_module():
    markdown = run_cli(TORCH / "smallnet_dynamo.onnx", "--format", "markdown", "--depth", "2").stdout
    assert "| `layer1.0` | 5 layers | 1×32×15×15 | 18,432 | 4,147,200 | 8,294,400 |" in markdown
    assert "FLOPs (2×MACs)" in markdown
    rows = run_cli(TORCH / "smallnet_torchscript.onnx", "--format", "csv", "--depth", "1").stdout.splitlines()
    assert rows[0] == "model,layer,op,output,params,MACs,FLOPs (2×MACs),activation bytes"
    layer1 = next(r for r in rows if ",layer1," in r).split(",")
    report = onnxlint.lint(TORCH / "smallnet_torchscript.onnx")
    inside = [lr for lr in report.layers if lr.label.startswith("layer1")]
    assert layer1[4] == str(sum(lr.params for lr in inside)) and layer1[5] == str(2 * 4_147_200)
    assert layer1[6] == str(4 * 4_147_200)  # FLOPs = 2 × MACs
