"""--verify / --profile: onnxruntime executes the model and proves the inferred shapes."""
import json

import numpy as np
import onnx
import pytest
from conftest import LIGHT, codes, fixture, run_cli
from onnx import TensorProto, helper, numpy_helper

import onnxlint
from onnxlint.verify import Limits

pytestmark = pytest.mark.slow  # runs onnxruntime or subprocesses: `-m 'not slow'` skips it

LIGHT_MODELS = sorted(LIGHT.glob("light_*.onnx"))


def test_light_models_are_present():
    assert len(LIGHT_MODELS) == 9


@pytest.mark.parametrize("path", LIGHT_MODELS, ids=lambda p: p.stem)
def test_light_models_verify_with_zero_mismatches(path):
    report = onnxlint.lint(path, verify=True)
    v = report.verification
    assert v is not None, [d.message for d in report.diagnostics if d.code.startswith("OL5")]
    assert v["mismatches"] == [] and v["tensors_checked"] > 10
    assert v["runtime"].startswith("onnxruntime ")
    assert not [d for d in report.diagnostics if d.code.startswith("OL5")]


def test_a_bounded_size_is_checked_within_its_bound():
    # NonZero's output size depends on the data: static analysis bounds it, execution must stay within
    graph = helper.make_graph([helper.make_node("NonZero", ["x"], ["nz"], name="nonzero")], "g",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 6])],
                              [helper.make_tensor_value_info("nz", TensorProto.INT64, None)])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    assert onnxlint.lint(model).layers[0].output_shape in (None, (2, None))
    report = onnxlint.lint(model, verify=True)
    assert report.verification["tensors_within_bound"] == 1 and report.verification["tensors_unknown_filled"] == 0
    assert report.verification["mismatches"] == [] and report.totals.bounds.dims == {"nz": (2, 6)}


def test_unknown_shapes_are_filled_from_execution():
    # a Range as long as the input's largest value: no bound in the model's numbers, execution knows it
    graph = helper.make_graph([
        helper.make_node("ReduceMax", ["x"], ["m"], keepdims=0),
        helper.make_node("Abs", ["m"], ["a"]), helper.make_node("Ceil", ["a"], ["c"]),
        helper.make_node("Cast", ["c"], ["limit"], to=TensorProto.INT64),
        helper.make_node("Range", ["zero", "limit", "one"], ["r"], name="range")], "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 6])],
        [helper.make_tensor_value_info("r", TensorProto.INT64, None)],
        [helper.make_tensor("zero", TensorProto.INT64, [], [0]), helper.make_tensor("one", TensorProto.INT64, [], [1])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    assert onnxlint.lint(model).layers[-1].output_shape == (None,)
    report = onnxlint.lint(model, verify=True)
    assert report.verification["tensors_unknown_filled"] == 1 and report.verification["mismatches"] == []
    [length] = report.layers[-1].output_shape
    assert isinstance(length, int) and length >= 1  # ⌈|max|⌉ of six random normal values


def test_declared_shape_lie_is_ol503():
    model = onnx.load(fixture("conv_1x32_5x5"))
    out = model.graph.output[0].type.tensor_type.shape
    out.dim[2].dim_value = 27  # declares 27, runs 28
    report = onnxlint.lint(model, verify=True)
    [d] = codes(report, "OL503")
    assert "declares 'conv' as [1,32,27,28] but onnxruntime returned [1,32,28,28]" in d.message
    assert d.source == "onnxruntime" and report.verification["mismatches"] == []
    # a rule like any other: a finding of execution is suppressed by node as the static ones are
    quiet = onnxlint.lint(model, verify=True, ignore_nodes={"OL503": [d.node]})
    assert not codes(quiet, "OL503") and quiet.verification["tensors_checked"] == report.verification["tensors_checked"]


def _bomb(shape):
    dims = numpy_helper.from_array(np.array(shape, np.int64), "dims")
    graph = helper.make_graph([helper.make_node("ConstantOfShape", ["dims"], ["big"]),
                               helper.make_node("Add", ["x", "big"], ["y"])], "bomb",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], [dims])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def test_memory_bomb_is_refused_before_running():
    report = onnxlint.lint(_bomb([1 << 20, 1 << 20]), verify=True)
    [d] = codes(report, "OL502")
    assert "would need 4,398,046,511,104 bytes, over the memory limit" in d.message


def test_endless_loop_hits_the_wall_clock_limit():
    body = helper.make_graph([helper.make_node("Identity", ["cond_in"], ["cond_out"]),
                              helper.make_node("Add", ["v_in", "one"], ["v_out"])], "body",
                             [helper.make_tensor_value_info("i", TensorProto.INT64, []),
                              helper.make_tensor_value_info("cond_in", TensorProto.BOOL, []),
                              helper.make_tensor_value_info("v_in", TensorProto.FLOAT, [1])],
                             [helper.make_tensor_value_info("cond_out", TensorProto.BOOL, []),
                              helper.make_tensor_value_info("v_out", TensorProto.FLOAT, [1])],
                             [numpy_helper.from_array(np.ones(1, np.float32), "one")])
    trip = numpy_helper.from_array(np.array(1 << 62, np.int64), "trip")
    cond = numpy_helper.from_array(np.array(True), "cond")
    graph = helper.make_graph([helper.make_node("Loop", ["trip", "cond", "x"], ["y"], body=body)], "loop",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])], [trip, cond])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    report = onnxlint.lint(model, verify=True, limits=Limits(seconds=2))
    [d] = codes(report, "OL502")
    assert "limit of 2 s" in d.message


def test_cli_verify_json_and_text(tmp_path):
    result = run_cli(fixture("demo"), "--verify", "--format", "json")
    v = json.loads(result.stdout)["models"][0]["verification"]
    assert set(v) >= {"runtime", "tensors_checked", "tensors_unknown_filled", "tensors_unchecked", "mismatches",
                      "seconds"}
    assert v["mismatches"] == [] and v["tensors_checked"] == 14
    text = run_cli(fixture("demo"), "--verify").stdout
    assert "verified by onnxruntime" in text and "14 tensors checked, 0 mismatches" in text
    assert sorted(p.name for p in fixture("demo").parent.glob("*.json")) == []  # nothing written beside the model


def test_profile_adds_measured_hotspots():
    result = run_cli(fixture("demo"), "--profile", "--runs", "3", "--summary")
    assert result.returncode == 1
    assert "measured hot-spots (mean of 3 runs" in result.stdout
    header = next(line for line in result.stdout.splitlines() if line.startswith("node "))
    assert header.rstrip().endswith("ms")
    report = onnxlint.lint(fixture("demo"), profile=3)
    conv1 = next(layer for layer in report.layers if layer.name == "conv1")
    assert conv1.measured_ms > 0


def test_runtime_memory_bomb_hits_the_memory_limit():
    # Tile with repeats computed from the input data (0·x + 2^28): statically unknown, so it runs, under RLIMIT_AS
    big = numpy_helper.from_array(np.array([2.0**28], np.float32), "big")
    zero = numpy_helper.from_array(np.array([0.0], np.float32), "zero")
    nodes = [helper.make_node("Mul", ["x", "zero"], ["sf"]),
             helper.make_node("Add", ["sf", "big"], ["rf"]),
             helper.make_node("Cast", ["rf"], ["r"], to=TensorProto.INT64),
             helper.make_node("Tile", ["x", "r"], ["y"])]
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], [big, zero])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    report = onnxlint.lint(model, verify=True, limits=Limits(memory=512 * 2**20))
    [d] = codes(report, "OL502")
    assert d.message == ("verification aborted: the model needs more than the memory limit of 536,870,912 bytes "
                         "(onnxruntime could not allocate)")


def test_nothing_but_onnxlints_lines_and_files(tmp_path):
    """--verify and fix write nothing outside their output (onnxruntime's telemetry store, onnxruntime.db, went
    to ~/.cache), and onnx's own warnings (an external-data key it does not know) never reach the user."""
    import os
    import subprocess
    import sys

    model = onnx.load(fixture("deploy_leftovers"))
    onnx.save(model, tmp_path / "m.onnx", save_as_external_data=True, location="m.data", size_threshold=0)
    model = onnx.load(tmp_path / "m.onnx", load_external_data=False)
    model.graph.initializer[0].external_data.add(key="__class__", value="x")
    onnx.save(model, tmp_path / "odd.onnx")  # reads m.data too
    home = tmp_path / "home"
    home.mkdir()
    env = {**os.environ, "HOME": str(home), "XDG_CACHE_HOME": str(home / ".cache")}
    for argv in ([str(tmp_path / "odd.onnx"), "--verify"], ["fix", str(tmp_path / "m.onnx"), "--diff"]):
        result = subprocess.run([sys.executable, "-m", "onnxlint", *argv], capture_output=True, text=True, env=env,
                                cwd=tmp_path, timeout=300)
        assert result.returncode in (0, 1), result.stderr
        assert result.stderr == "", result.stderr
    assert "verified by onnxruntime" in result.stdout
    assert list(home.rglob("*")) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["home", "m.data", "m.onnx", "odd.onnx"]
