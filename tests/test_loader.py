"""Hostile and broken inputs: one line on stderr, exit 2, no traceback, input never modified."""
import hashlib
import os

import onnx
import pytest
from conftest import fixture, run_cli
from onnx import TensorProto, helper

import onnxlint
from onnxlint.loader import LoadError


def _graph_model(nodes, inputs, outputs, opset=17, **kw):
    graph = helper.make_graph(nodes, "g", inputs, outputs, **kw)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])


def _vi(name, dims=(1, 4)):
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, list(dims))


def _deeply_nested() -> bytes:
    """A model whose If bodies nest 200 deep, written at the wire level (helper refuses to build it)."""
    def field(number: int, payload: bytes) -> bytes:
        return _varint(number << 3 | 2) + _varint(len(payload)) + payload

    graph = b""
    for _ in range(200):
        attribute = field(1, b"then_branch") + _varint(20 << 3) + _varint(5) + field(6, graph)  # name, type, g
        node = field(4, b"If") + field(5, attribute)
        graph = field(1, node)
    return _varint(1 << 3) + _varint(8) + field(7, graph)


def _varint(value: int) -> bytes:
    out = b""
    while True:
        byte, value = value & 0x7F, value >> 7
        out += bytes([byte | (0x80 if value else 0)])
        if not value:
            return out


def _write(tmp_path, name, data):
    path = tmp_path / name
    path.write_bytes(data if isinstance(data, bytes) else data.SerializeToString())
    return path


def bad_models(tmp_path):
    good = fixture("conv_1x32_5x5").read_bytes()
    cycle = _graph_model([helper.make_node("Relu", ["b"], ["a"]), helper.make_node("Relu", ["a"], ["b"])],
                         [_vi("x")], [_vi("b")])
    dangling = _graph_model([helper.make_node("Relu", ["nowhere"], ["y"])], [_vi("x")], [_vi("y")])
    duplicate = _graph_model([helper.make_node("Relu", ["x"], ["y"]), helper.make_node("Relu", ["x"], ["y"])],
                             [_vi("x")], [_vi("y")])
    future = _graph_model([helper.make_node("Relu", ["x"], ["y"])], [_vi("x")], [_vi("y")],
                          opset=onnx.defs.onnx_opset_version() + 5)
    no_graph = onnx.ModelProto(ir_version=8)
    cases = {
        "missing": (tmp_path / "missing.onnx", "no such file"),
        "empty": (_write(tmp_path, "empty.onnx", b""), "empty file"),
        "random": (_write(tmp_path, "random.onnx", bytes(range(256)) * 3 + b"\xff" * 7), "not a valid ONNX protobuf"),
        "truncated": (_write(tmp_path, "truncated.onnx", good[: len(good) // 2]), "not a valid ONNX protobuf"),
        "text": (_write(tmp_path, "text.onnx", b"this is not a model\nat all\n"), "text file"),
        "lfs": (_write(tmp_path, "lfs.onnx", b"version https://git-lfs.github.com/spec/v1\noid sha256:ab\nsize 9\n"),
                "git lfs pull"),
        "no_graph": (_write(tmp_path, "no_graph.onnx", no_graph), "no graph"),
        "future": (_write(tmp_path, "future.onnx", future), "from the future"),
        "cycle": (_write(tmp_path, "cycle.onnx", cycle), "cycle"),
        "dangling": (_write(tmp_path, "dangling.onnx", dangling), "no node produces"),
        "duplicate": (_write(tmp_path, "duplicate.onnx", duplicate), "produced twice"),
        "nested": (_write(tmp_path, "nested.onnx", _deeply_nested()), "nesting too deep"),
    }
    fifo = tmp_path / "fifo.onnx"
    os.mkfifo(fifo)
    cases["fifo"] = (fifo, "not a regular file")
    zero = tmp_path / "zero.onnx"
    zero.symlink_to("/dev/zero")
    cases["dev_zero"] = (zero, "not a regular file")
    folder = tmp_path / "folder.onnx"
    folder.mkdir()
    cases["directory"] = (folder, "is a directory")
    return cases


CASES = ["missing", "empty", "random", "truncated", "text", "lfs", "no_graph", "future", "cycle", "dangling",
         "duplicate", "nested", "fifo", "dev_zero", "directory"]


@pytest.mark.parametrize("case", CASES)
def test_library_raises_one_line_load_error(tmp_path, case):
    path, expected = bad_models(tmp_path)[case]
    with pytest.raises(LoadError) as info:
        onnxlint.lint(path)
    message = str(info.value)
    assert expected in message
    assert "\n" not in message


def test_cli_reports_every_bad_input_on_one_line_each(tmp_path):
    cases = bad_models(tmp_path)
    paths = [cases[c][0] for c in CASES if c != "directory"]  # a directory on the CLI is searched, not read
    before = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in paths if p.is_file()}
    files_before = sorted(p.name for p in tmp_path.iterdir())
    result = run_cli(*paths, fixture("clean"), "--format", "text")
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == len(paths)
    for case, line in zip([c for c in CASES if c != "directory"], lines):
        path, expected = cases[case]
        assert line.startswith(f"onnxlint: {path}: ") and expected in line, line
    assert "Traceback" not in result.stderr and "\x1b[" not in result.stderr
    assert "clean.onnx" in result.stdout  # one bad model never stops the others
    assert {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in before} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == files_before  # nothing written beside the models


def test_single_bad_model_exit_code_and_json_error(tmp_path):
    path, _ = bad_models(tmp_path)["truncated"]
    result = run_cli(path)
    assert result.returncode == 2
    assert result.stderr.strip() == f"onnxlint: {path}: not a valid ONNX protobuf (truncated or corrupt)"
    as_json = run_cli(path, fixture("clean"), "--format", "json")
    import json
    models = json.loads(as_json.stdout)["models"]
    assert models[0]["error"] == "not a valid ONNX protobuf (truncated or corrupt)"
    assert models[0]["error_class"] == "LoadError"
    assert "totals" in models[1]


def test_non_utf8_names_are_escaped(tmp_path):
    model = onnx.load(fixture("conv_10_k3_s2"))
    model.graph.node[0].name = "QQQQ"
    data = model.SerializeToString().replace(b"QQQQ", b"\xff\xfeAB")
    path = _write(tmp_path, "names.onnx", data)
    result = run_cli(path, "--format", "json")
    assert result.returncode == 1, result.stderr
    import json
    assert json.loads(result.stdout)["models"][0]["layers"][0]["node"] == "\\xff\\xfeAB"
    text = run_cli(path, "--show-all")
    assert "\\xff\\xfeAB: OL101" in text.stdout


def test_size_cap(tmp_path):
    result = run_cli(fixture("conv_1x32_5x5"), "--max-size", "100B")
    assert result.returncode == 2
    assert "over the size cap of 100" in result.stderr


def test_in_memory_and_bytes_sources():
    model = onnx.load(fixture("alexnet_conv1_224"))
    from_proto = onnxlint.lint(model)
    from_bytes = onnxlint.lint(model.SerializeToString())
    assert from_proto.path == "<model>" and from_bytes.path == "<bytes>"
    assert from_proto.totals == from_bytes.totals
    assert [d.code for d in from_proto.diagnostics] == [d.code for d in from_bytes.diagnostics]
