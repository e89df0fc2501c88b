"""External data: validated by stat only, never opened; unsafe references are OL003 errors."""
import builtins
import os

import numpy as np
import onnx
import pytest
from conftest import codes
from onnx import TensorProto, helper, numpy_helper

import onnxlint

pytestmark = pytest.mark.slow  # runs onnxruntime or subprocesses: `-m 'not slow'` skips it


def _model_with_external(tmp_path, location, *, offset=0, length=None, write=True):
    weight = numpy_helper.from_array(np.ones((8, 4, 3, 3), np.float32), "w")
    raw = weight.raw_data
    if write:
        (tmp_path / "weights.bin").write_bytes(raw)
    weight.ClearField("raw_data")
    weight.data_location = TensorProto.EXTERNAL
    entries = {"location": location, "offset": str(offset), "length": str(len(raw) if length is None else length)}
    for key, value in entries.items():
        weight.external_data.add(key=key, value=value)
    graph = helper.make_graph(
        [helper.make_node("Conv", ["x", "w"], ["y"], kernel_shape=[3, 3], pads=[1, 1, 1, 1])], "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4, 16, 16])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 8, 16, 16])], [weight])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    path = tmp_path / "model.onnx"
    path.write_bytes(model.SerializeToString())
    return path


def test_valid_external_data_lints_without_opening_the_weight_file(tmp_path, monkeypatch):
    path = _model_with_external(tmp_path, "weights.bin")
    opened = []
    real_open, real_os_open = builtins.open, os.open
    monkeypatch.setattr(builtins, "open", lambda f, *a, **k: (opened.append(str(f)), real_open(f, *a, **k))[1])
    monkeypatch.setattr(os, "open", lambda f, *a, **k: (opened.append(str(f)), real_os_open(f, *a, **k))[1])
    report = onnxlint.lint(path)
    assert codes(report, "OL003") == []
    assert report.totals.params == 8 * 4 * 9
    assert not any("weights.bin" in f for f in opened)


@pytest.mark.parametrize("location, kwargs, expected", [
    ("/etc/passwd", {}, "is an absolute path"),
    ("../weights.bin", {}, "leaves the model's folder"),
    ("sub/../../weights.bin", {}, "leaves the model's folder"),
    ("*/_ORT_MEM_ADDR_/*", {}, "in-memory address marker"),
    ("missing.bin", {}, "is missing beside the model"),
    ("weights.bin", {"offset": 100}, "exceeds the size"),
    ("weights.bin", {"length": 64}, "does not match dims × dtype size = 1,152 bytes"),
])
def test_unsafe_references(tmp_path, location, kwargs, expected):
    report = onnxlint.lint(_model_with_external(tmp_path, location, **kwargs))
    [d] = codes(report, "OL003")
    assert expected in d.message and str(d.severity) == "error"


def test_symlink_and_hard_link(tmp_path):
    path = _model_with_external(tmp_path, "link.bin")
    (tmp_path / "link.bin").symlink_to(tmp_path / "weights.bin")
    [d] = codes(onnxlint.lint(path), "OL003")
    assert "goes through a symlink" in d.message
    other = tmp_path / "hard"
    other.mkdir()
    path = _model_with_external(other, "weights.bin")
    os.link(other / "weights.bin", tmp_path / "elsewhere.bin")
    [d] = codes(onnxlint.lint(path), "OL003")
    assert "has 2 hard links" in d.message


def test_cli_exit_code_for_unsafe_data(tmp_path):
    from conftest import run_cli
    result = run_cli(_model_with_external(tmp_path, "../weights.bin"))
    assert result.returncode == 1 and "OL003" in result.stdout


def test_in_memory_model_checks_paths_and_says_what_it_could_not_check(tmp_path):
    model = onnx.load(_model_with_external(tmp_path, "weights.bin"), load_external_data=False)
    report = onnxlint.lint(model)
    assert codes(report, "OL003") == []
    assert any("external-data files were not checked" in note for note in report.notes)
    assert codes(onnxlint.lint(model, base_dir=tmp_path), "OL003") == []
    bad = onnx.load(_model_with_external(tmp_path, "../weights.bin"), load_external_data=False)
    [d] = codes(onnxlint.lint(bad), "OL003")
    assert "leaves the model's folder" in d.message
