"""The library call at the end of an export pipeline."""
import onnx
import pytest
from conftest import ROOT, fixture

import onnxlint


def test_check_raises_lint_error_with_the_report_on_an_in_memory_model():
    model = onnx.load(fixture("demo"))  # what an exporter returns: a ModelProto, never written to disk
    with pytest.raises(onnxlint.LintError) as info:
        onnxlint.check(model)
    error = info.value
    assert error.report.path == "<model>"
    assert "1 warning (5 per node) at or above warning in <model>" in str(error)
    assert "-: OL104 input 'image' is 224×224" in str(error)  # the finding to act on, as the text shows it
    assert onnxlint.check(model, fail_on="error").totals.params == error.report.totals.params


def test_check_passes_a_clean_model_and_accepts_options():
    report = onnxlint.check(onnx.load(fixture("clean")))
    assert isinstance(report, onnxlint.Report) and report.failing(onnxlint.Severity.WARNING) == []
    report = onnxlint.check(onnx.load(fixture("demo")), ignore=["OL1"], memory_budget="64MB")
    assert not [d for d in report.diagnostics if d.code.startswith("OL1")]
    with pytest.raises(onnxlint.ConfigError, match="unknown rule or prefix 'XX9'"):
        onnxlint.check(onnx.load(fixture("clean")), select=["XX9"])


def test_report_to_dict_is_the_json_schema():
    data = onnxlint.lint(fixture("demo")).to_dict()
    assert data["schema_version"] == 1
    assert data["models"][0]["totals"]["params"] == 5_319_050


def test_python_dash_m():
    from conftest import run_cli
    assert run_cli("--help").stdout.startswith("Usage: ")


@pytest.mark.parametrize("name", ["demo", "deployed/if_branches", "deployed/functions"])
def test_the_report_is_plain_data_without_the_graph(name):
    """No protobuf anywhere in a report (a Node's tensor and graph attributes are references the Graph
    resolves): it pickles small, and a copy has the same figures."""
    import dataclasses
    import pickle

    from google.protobuf.message import Message

    report = onnxlint.lint(fixture(name))
    seen, todo = set(), [report]
    while todo:
        item = todo.pop()
        if id(item) in seen or isinstance(item, (str, bytes, int, float, type(None))):
            continue
        seen.add(id(item))
        assert not isinstance(item, Message), (name, type(item))
        if dataclasses.is_dataclass(item):
            todo.extend(getattr(item, f.name) for f in dataclasses.fields(item))
        elif isinstance(item, dict):
            todo.extend([*item.keys(), *item.values()])
        elif isinstance(item, (list, tuple, set, frozenset)):
            todo.extend(item)
    assert any(layer.attrs for layer in report.layers)
    copy = pickle.loads(pickle.dumps(report))
    assert [(x.name, x.params, x.macs, x.output_shape) for x in copy.layers] == \
        [(x.name, x.params, x.macs, x.output_shape) for x in report.layers]
    assert len(pickle.dumps(report)) < 100_000


def test_lint_pauses_the_garbage_collector_and_restores_it(monkeypatch):
    import gc

    from onnxlint import api

    seen = []
    real = api.build_graph
    monkeypatch.setattr(api, "build_graph", lambda *a: seen.append(gc.isenabled()) or real(*a))
    assert gc.isenabled()
    onnxlint.lint(fixture("demo"))
    assert seen == [False] and gc.isenabled()  # paused for the analysis, on again after
    with pytest.raises(onnxlint.LoadError):
        onnxlint.lint(b"not a model")
    assert gc.isenabled()  # restored when the model cannot be read
    gc.disable()
    try:
        onnxlint.lint(fixture("demo"))
        assert not gc.isenabled()  # a caller that turned it off keeps it off
    finally:
        gc.enable()


def test_every_output_of_a_layer_is_in_the_json():
    """Split, TopK, MaxPool with indices, LSTM… have several outputs: each with its shape, dtype and bytes;
    `output_shape` stays the first output's (a stable field)."""
    import json

    import onnx

    model = onnx.parser.parse_model("""
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[1,8,6,6] x) => (float a, int64 i, float b) {
      a, i = MaxPool <kernel_shape = [2, 2], strides = [2, 2]> (x)
      s = Constant <value = int64[2] {3, 5}> ()
      b, c = Split <axis = 1> (x, s)
    }""")
    layers = {d["node"]: d for d in json.loads(json.dumps(onnxlint.lint(model).to_dict()))["models"][0]["layers"]}
    pool, split = layers["MaxPool_0"], layers["Split_2"]
    assert pool["output_shape"] == [1, 8, 3, 3]
    exact = {"bound": None, "bytes_upper": None}  # a bound only where the data decides a size
    assert pool["outputs"] == [{"name": "a", "shape": [1, 8, 3, 3], "dtype": "float32", "bytes": 288, **exact},
                               {"name": "i", "shape": [1, 8, 3, 3], "dtype": "int64", "bytes": 576, **exact}]
    assert [(o["name"], o["shape"]) for o in split["outputs"]] == [("b", [1, 3, 6, 6]), ("c", [1, 5, 6, 6])]


def test_a_report_repr_is_one_line():
    text = repr(onnxlint.lint(fixture("demo")))
    assert text == "<Report " + str(fixture("demo")) + ": 19 nodes, 5,319,050 params, 191,417,920 MACs, 1 warning, " \
        "3 suggestions (8 per node)>"
    assert "\n" not in text and len(text) < 200


def test_native_for_typing_and_completion_users():
    """PEP 561's marker ships in the package (so mypy reads onnxlint's hints), and dir() shows the lazy names."""
    from importlib.resources import files

    assert files("onnxlint").joinpath("py.typed").is_file()
    assert 'onnxlint = ["py.typed"]' in (ROOT / "pyproject.toml").read_text()  # in the wheel too
    assert {"lint", "check", "lint_many", "Report", "LintError"} <= set(dir(onnxlint))
