"""The command line: exit codes, selection, formats, config, many models."""
import json

import pytest
from conftest import fixture, light, run_cli

pytestmark = pytest.mark.slow  # every test runs the command in a subprocess


def test_exit_codes_follow_fail_on():
    assert run_cli(fixture("clean")).returncode == 0
    assert run_cli(fixture("demo")).returncode == 1  # warnings
    assert run_cli(fixture("demo"), "--fail-on", "error").returncode == 0
    assert run_cli(fixture("large_kernels")).returncode == 0  # suggestions never fail by default
    assert run_cli(fixture("large_kernels"), "--fail-on", "suggestion").returncode == 1
    assert run_cli(fixture("clean"), "--select", "NOPE").returncode == 2


def test_text_output_lines_and_count():
    out = run_cli(fixture("demo")).stdout.splitlines()
    # the input size is the root cause: OL104 states it, the per-layer OL101/OL102 are folded under it
    assert out[0].startswith(f"{fixture('demo')}: warning OL104 input 'image' is 224×224")
    assert not any(": warning OL101 " in line for line in out)
    assert out[-1] == "1 warning, 3 suggestions in 1 model (8 per node: --show-all lists them)"
    assert "\x1b[" not in "".join(out)  # not a terminal: no colour
    coloured = run_cli(fixture("demo"), "--color", "always").stdout
    assert "\x1b[33mwarning OL104" in coloured
    every = run_cli(fixture("demo"), "--show-all").stdout
    assert "    conv1: OL101 Conv 11×11/4, 3→48, 224×224: (224 + 0 − 11) / 4 + 1 = 54.25 → 54" in every
    assert every.splitlines()[-1] == "1 warning, 3 suggestions in 1 model (8 per node)"


def test_selection_by_prefix_and_ignore():
    out = run_cli(fixture("demo"), "--select", "OL1", "--format", "json").stdout
    found = {d["code"] for d in json.loads(out)["models"][0]["diagnostics"]}
    assert found == {"OL101", "OL102", "OL104"}
    out = run_cli(fixture("demo"), "--ignore", "OL1,OL205", "--format", "json").stdout
    found = {d["code"] for d in json.loads(out)["models"][0]["diagnostics"]}
    assert found == {"OL201", "OL202", "OL203"}  # OL402 is opt-in


def test_json_schema_version_1():
    data = json.loads(run_cli(light("resnet50"), "--format", "json").stdout)
    assert data["schema_version"] == 1 and data["onnxlint_version"]
    [model] = data["models"]
    assert model["opset"] == 9
    assert model["inputs"] == [{"name": "gpu_0/data_0", "shape": [1, 3, 224, 224], "dtype": "float32"}]
    # schema_version 1 only gains fields: the first six stay, completeness was added, then the worst case, then
    # the peak's display name (its module path when the exporter wrote one)
    assert set(model["totals"]) == {"nodes", "params", "param_bytes", "macs", "peak_activation_bytes", "peak_at",
                                    "complete", "macs_complete", "unknown_tensors", "unknown_layers",
                                    "macs_upper", "peak_upper", "bounded_tensors", "bounded_layers",
                                    "unplaced_initializers", "peak_label"}
    assert model["totals"]["complete"] is True and model["totals"]["unknown_layers"] == []
    # exact: the worst case is the exact count, nothing is bounded
    assert model["totals"]["macs_upper"] == model["totals"]["macs"] and model["totals"]["bounded_layers"] == []
    assert model["totals"]["peak_upper"] == model["totals"]["peak_activation_bytes"]
    assert model["totals"]["params"] == 25_557_032 and model["totals"]["macs"] == 4_089_184_256
    assert len(model["layers"]) == model["totals"]["nodes"]
    first_conv = next(layer for layer in model["layers"] if layer["op_type"] == "Conv")
    assert first_conv["output_shape"] == [1, 64, 112, 112] and first_conv["receptive_field"] == [7, 7]
    assert set(first_conv) >= {"node", "op_type", "location", "output_shape", "params", "macs", "output_bytes"}
    assert model["verification"] is None
    d = model["diagnostics"][0]
    assert set(d) >= {"code", "name", "severity", "node", "op_type", "location", "message", "suggestion", "savings"}


def test_summary_table():
    out = run_cli(fixture("demo"), "--summary").stdout
    assert "node     op       output        params     MACs  %MACs           out  RF" in out
    assert "conv1    Conv     1×48×54×54    17.5 K   50.8 M   26.5     546.8 KiB  11×11" in out


def test_input_shape_flag():
    out = run_cli(fixture("symbolic_input"), "--input-shape", "1,3,64,64", "--format", "json").stdout
    model = json.loads(out)["models"][0]
    assert model["inputs"][0]["shape"] == [1, 3, 64, 64]
    assert not [d for d in model["diagnostics"] if d["code"] == "OL001"]
    bad = run_cli(fixture("symbolic_input"), "--input-shape", "nope=1,3,64,64")
    assert bad.returncode == 2 and "'nope', which is not a model input" in bad.stderr


def test_directories_jobs_and_stable_order(tmp_path):
    for name in ("clean", "demo", "pool_drops"):
        (tmp_path / "sub").mkdir(exist_ok=True)
        (tmp_path / "sub" / f"{name}.onnx").write_bytes(fixture(name).read_bytes())
    serial = json.loads(run_cli(tmp_path, "--format", "json").stdout)
    parallel = json.loads(run_cli(tmp_path, "-j", "2", "--format", "json").stdout)
    assert [m["path"] for m in serial["models"]] == [m["path"] for m in parallel["models"]]
    assert [m["path"].rsplit("/", 1)[1] for m in serial["models"]] == ["clean.onnx", "demo.onnx", "pool_drops.onnx"]
    assert serial == parallel


def test_config_in_pyproject_and_per_node_ignores(tmp_path):
    (tmp_path / "pyproject.toml").write_text(
        '[tool.onnxlint]\nextend-select = ["OL204"]\nfail-on = "error"\n'
        'ignore = {"OL102" = ["pool*"]}\n[tool.onnxlint.options.OL202]\nreduction = 8\n')
    model = tmp_path / "models" / "demo.onnx"
    model.parent.mkdir()
    model.write_bytes(fixture("demo").read_bytes())
    result = run_cli(model, "--format", "json")
    assert result.returncode == 0  # fail-on = error
    found = json.loads(result.stdout)["models"][0]["diagnostics"]
    assert not [d for d in found if d["code"] == "OL102"]
    assert [d for d in found if d["code"] == "OL204"]
    [reduce] = [d for d in found if d["code"] == "OL202"]
    assert "reduction to 16 channels" in reduce["message"]
    shown = run_cli(model, "--show-settings", "--fail-on", "warning").stdout
    assert 'fail-on = "warning"  # command line' in shown
    assert f'extend-select = ["OL204"]  # {tmp_path / "pyproject.toml"}' in shown


def test_config_errors_name_the_key(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.onnxlint]\nselct = ["OL1"]\n')
    model = tmp_path / "m.onnx"
    model.write_bytes(fixture("clean").read_bytes())
    result = run_cli(model)
    assert result.returncode == 2
    assert "[tool.onnxlint] selct: unknown setting" in result.stderr
    (tmp_path / "pyproject.toml").write_text('[tool.onnxlint.options.OL201]\nmin-savings = 0.2\n')
    result = run_cli(model)
    assert result.returncode == 2 and "OL201 (large-kernel) has no option 'min-savings'" in result.stderr


def test_rules_and_version():
    out = run_cli("rules").stdout
    assert "OL204  factorize-kernel" in out and "opt-in" in out
    assert run_cli("--version").stdout.startswith("onnxlint, version ")


def test_per_file_ignores_and_memory_budget_from_config(tmp_path):
    (tmp_path / "pyproject.toml").write_text(
        '[tool.onnxlint]\nper-file-ignores = {"*demo*" = ["OL1"]}\nmemory-budget = "512KiB"\n')
    for name in ("demo", "pool_drops"):
        (tmp_path / f"{name}.onnx").write_bytes(fixture(name).read_bytes())
    models = json.loads(run_cli(tmp_path, "--format", "json").stdout)["models"]
    demo, pool = ({d["code"] for d in m["diagnostics"]} for m in models)
    assert not {c for c in demo if c.startswith("OL1")} and "OL302" in demo
    assert "OL102" in pool
