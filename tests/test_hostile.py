"""Hostile input through every door: plain lint, --verify, fix (-o and --diff) and the library. What cannot be
read is one line on stderr and exit 2 (LoadError from the library), never a traceback and never a file
written; what is readable but impossible is a finding."""
import os

import numpy as np
import onnx
import pytest
from conftest import fixture, run_cli
from onnx import TensorProto, helper, numpy_helper

import onnxlint
from onnxlint.loader import SKIP_PAYLOADS_ABOVE, LoadError

pytestmark = pytest.mark.slow  # runs onnxruntime or subprocesses: `-m 'not slow'` skips it

COMMANDS = {
    "lint": lambda path, out: [path],
    "verify": lambda path, out: [path, "--verify"],
    "fix -o": lambda path, out: ["fix", path, "-o", out],
    "fix --diff": lambda path, out: ["fix", path, "--diff"],
}


def _model(ir_version=8, opset=17, inits=(), inputs=None, name="conv"):
    w = numpy_helper.from_array(np.ones((4, 4, 1, 1), np.float32), "w")
    graph = helper.make_graph([helper.make_node("Conv", ["x", "w"], ["y"], name=name)], "g",
                              inputs or [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4, 8, 8])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], [w, *inits])
    opsets = [] if opset is None else [helper.make_opsetid("", opset)]
    model = helper.make_model(graph, opset_imports=opsets)
    model.ir_version = ir_version
    return model


def _external(tmp_path, location, name):
    model = _model()
    w = model.graph.initializer[0]
    w.ClearField("raw_data")
    w.ClearField("float_data")
    w.data_location = TensorProto.EXTERNAL
    for key, value in (("location", location), ("offset", "0"), ("length", "64")):
        w.external_data.add(key=key, value=value)
    path = tmp_path / name
    path.write_bytes(model.SerializeToString())
    return path


def _cases(tmp_path):
    (tmp_path / "weights.bin").write_bytes(bytes(64))
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "real.bin").write_bytes(bytes(64))
    os.symlink(tmp_path / "outside" / "real.bin", tmp_path / "link.bin")
    cases = {
        "absolute external path": (_external(tmp_path, "/etc/passwd", "abs.onnx"), "is an absolute path"),
        "external path with ..": (_external(tmp_path, "../weights.bin", "up.onnx"), "leaves the model's folder"),
        "windows ..\\": (_external(tmp_path, "..\\weights.bin", "win.onnx"), "leaves the model's folder"),
        "symlinked weights": (_external(tmp_path, "link.bin", "link.onnx"), "goes through a symlink"),
        "missing weights": (_external(tmp_path, "gone.bin", "gone.onnx"), "is missing beside the model"),
        "ORT memory marker": (_external(tmp_path, "*/_ORT_MEM_ADDR_/*", "mem.onnx"), "in-memory address marker"),
    }
    unreadable = {
        "IR version 0": (_model(ir_version=0), "IR version 0 is not valid"),
        "IR version 99": (_model(ir_version=99), "IR version 99 is from the future"),
        "no opset": (_model(opset=None), "imports no opset (every model from IR version 3 on must)"),
        "negative opset": (_model(opset=-3), "opset -3 of domain 'ai.onnx' is not valid"),
        "duplicate initializers": (_model(inits=[numpy_helper.from_array(np.ones(2, np.float32), "w")]),
                                   "two initializers are named 'w'"),
        "3 GiB declared, 4 bytes held": (_model(inits=[TensorProto(name="big", data_type=TensorProto.FLOAT,
                                                                   dims=[805_306_368], raw_data=b"\0" * 4)]),
                                         "holds 4 bytes of data for 805,306,368 elements"),
        "impossible input dims": (_model(inputs=[helper.make_tensor_value_info("x", TensorProto.FLOAT,
                                                                               [1, 3, 2**62, 2**62])]),
                                  "more than any tensor can hold"),
    }
    for label, (model, problem) in unreadable.items():
        path = tmp_path / f"{label.replace(' ', '_').replace(',', '')}.onnx"
        path.write_bytes(model.SerializeToString())
        cases[label] = (path, problem)
    os.symlink(tmp_path / "loop1.onnx", tmp_path / "loop2.onnx")
    os.symlink(tmp_path / "loop2.onnx", tmp_path / "loop1.onnx")
    cases["symlink loop"] = (tmp_path / "loop1.onnx", "cannot open")
    (tmp_path / "dir.onnx").mkdir()
    cases["a folder named x.onnx"] = (tmp_path / "dir.onnx", "is a directory")
    (tmp_path / "text.onnx").write_text("not a model\n" * 10)
    cases["text"] = (tmp_path / "text.onnx", "is a text file")
    return cases


def _large(tmp_path):
    """A real model over the large-file threshold, followed by garbage, and one cut short."""
    weight = numpy_helper.from_array(np.zeros((SKIP_PAYLOADS_ABOVE // 4 + 1024,), np.float32), "pad")
    model = _model(inits=[weight])
    data = model.SerializeToString()
    garbage, cut = tmp_path / "garbage.onnx", tmp_path / "cut.onnx"
    garbage.write_bytes(data + b"\xff" * 64)
    cut.write_bytes(data[: len(data) - 1000])
    return {"large + garbage": (garbage, "not a valid ONNX protobuf"), "large, cut short": (cut, "not a valid ONNX")}


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_command_refuses_unreadable_models_in_one_line(tmp_path, command):
    cases = {**_cases(tmp_path), **_large(tmp_path)}
    for label, (path, problem) in cases.items():
        out = tmp_path / "out" / "fixed.onnx"
        (tmp_path / "out").mkdir(exist_ok=True)
        result = run_cli(*COMMANDS[command](path, out))
        unsafe = problem in ("is an absolute path", "leaves the model's folder", "goes through a symlink",
                             "is missing beside the model", "in-memory address marker")
        assert "Traceback" not in result.stderr, (command, label, result.stderr)
        assert not out.exists(), (command, label)
        if unsafe and command in ("lint", "verify"):  # readable: a finding (OL003), and nothing executed
            assert result.returncode == 1 and "OL003" in result.stdout, (command, label)
            continue
        assert result.returncode == 2, (command, label, result.stdout, result.stderr)
        [line] = result.stderr.strip().splitlines()
        if problem == "is a directory" and command in ("lint", "verify"):  # a folder is searched, as ruff does
            problem = "no *.onnx file found in this folder"
        assert line.startswith("onnxlint: ") and problem in line, (command, label, line)


def test_the_library_raises_load_error_for_paths_bytes_and_protos(tmp_path):
    for label, (path, problem) in {**_cases(tmp_path), **_large(tmp_path)}.items():
        if problem in ("is an absolute path", "leaves the model's folder", "goes through a symlink",
                       "is missing beside the model", "in-memory address marker"):
            continue
        with pytest.raises(LoadError, match=problem.split(" (")[0].replace(".", r"\.")):
            onnxlint.lint(path)
        if path.is_file() and not path.is_symlink() and path.stat().st_size < SKIP_PAYLOADS_ABOVE:
            data = path.read_bytes()
            with pytest.raises(LoadError):
                onnxlint.lint(data)
            if label not in ("text",):
                proto = onnx.ModelProto()
                proto.ParseFromString(data)
                with pytest.raises(LoadError):
                    onnxlint.check(proto)


def test_a_name_cannot_forge_output_lines(tmp_path):
    model = onnx.load(fixture("demo"))
    next(n for n in model.graph.node if n.name == "conv1").name = "conv1\nonnxlint: /etc/passwd: forged"
    path = tmp_path / "bad\nname.onnx"
    onnx.save(model, path)
    result = run_cli(path, "--show-all")
    assert not any(line.startswith("onnxlint: /etc/passwd") for line in result.stdout.splitlines())
    assert "conv1\\nonnxlint" in result.stdout and "bad\\nname.onnx" in result.stdout
    broken = tmp_path / "bad\nempty.onnx"
    broken.write_bytes(b"")
    [line] = run_cli(broken).stderr.strip().splitlines()
    assert line == f"onnxlint: {tmp_path}/bad\\nempty.onnx: empty file"


def test_a_config_beside_an_untrusted_model_is_that_models_error(tmp_path):
    (tmp_path / "case").mkdir()
    (tmp_path / "case" / "pyproject.toml").write_text("[tool.onnxlint]\nselect = 5\n")
    model = tmp_path / "case" / "m.onnx"
    model.write_bytes(fixture("clean").read_bytes())
    result = run_cli(fixture("clean"), model, fixture("demo"), "-j", "2")
    # the broken config is that model's error (exit 2, as ruff exits on any error); it did not stop the run
    assert result.returncode == 2
    assert "demo.onnx: warning OL104" in result.stdout and "select: must be a list" in result.stderr


def test_symlinked_model_reads_external_data_from_the_folder_the_user_named(tmp_path):
    real = tmp_path / "real"
    real.mkdir()
    path = _external(real, "weights.bin", "m.onnx")
    (real / "weights.bin").write_bytes(bytes(64))  # beside the target, not beside the link
    mine = tmp_path / "mine"
    mine.mkdir()
    os.symlink(path, mine / "m.onnx")
    report = onnxlint.lint(mine / "m.onnx")
    [d] = [d for d in report.diagnostics if d.code == "OL003"]
    assert "is missing beside the model" in d.message  # the target's folder is never read
    result = run_cli("fix", mine / "m.onnx", "-o", tmp_path / "out.onnx")
    assert result.returncode == 2 and not (tmp_path / "out.onnx").exists()


def _identity_chain(tmp_path, n: int = 20_000):
    nodes = [helper.make_node("Identity", [f"t{i}"], [f"t{i + 1}"]) for i in range(n)]
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("t0", TensorProto.FLOAT, [1, 4])],
                              [helper.make_tensor_value_info(f"t{n}", TensorProto.FLOAT, [1, 4])])
    path = tmp_path / "chain.onnx"
    path.write_bytes(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]).SerializeToString())
    return path


def test_verify_ends_within_its_timeout_on_a_long_chain(tmp_path):
    path = _identity_chain(tmp_path)
    import time

    start = time.monotonic()
    result = run_cli(path, "--verify", "--timeout", "2")
    assert time.monotonic() - start < 2 + 15  # its limit plus start-up, preparation included
    assert "Traceback" not in result.stderr


def test_fix_is_linear_on_a_long_identity_chain(tmp_path):
    path = _identity_chain(tmp_path)
    import time

    start = time.monotonic()
    result = run_cli("fix", path, "--diff", "--select", "OL402")
    assert result.returncode == 0 and "OL402 ×19999" in result.stdout
    assert time.monotonic() - start < 30  # it took 136 s when every removal rescanned the graph


def test_a_file_of_zeros_over_the_large_file_threshold_fails_at_once(tmp_path):
    path = tmp_path / "zeros.onnx"
    with open(path, "wb") as f:
        f.truncate(SKIP_PAYLOADS_ABOVE + 1024)
    import time

    start = time.monotonic()
    [line] = run_cli(path).stderr.strip().splitlines()
    assert "not a valid ONNX protobuf" in line and time.monotonic() - start < 10


def test_verify_of_a_large_embedded_model_keeps_the_weights_out_of_the_parent(tmp_path):
    # 150 MB of embedded weights: onnxruntime maps them from the user's file in the sandboxed child; the
    # parent holds only the graph (it held two copies, 5.5 GB for a 1.9 GB model)
    import subprocess
    import sys

    inits, nodes, x = [], [], "x"
    for i in range(4):
        w = TensorProto(name=f"w{i}", data_type=TensorProto.FLOAT, dims=[1024, 1024, 3, 3])
        w.raw_data = bytes(1024 * 1024 * 9 * 4)
        inits.append(w)
        nodes.append(helper.make_node("Conv", [x, w.name], [f"c{i}"], pads=[1, 1, 1, 1]))
        x = f"c{i}"
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1024, 4, 4])],
                              [helper.make_tensor_value_info(x, TensorProto.FLOAT, None)], inits)
    path = tmp_path / "big.onnx"
    path.write_bytes(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]).SerializeToString())
    code = ("import re, sys, onnxlint; r = onnxlint.lint(sys.argv[1], verify=True); "
            "print(r.verification['mismatches'], r.verification['tensors_checked'], "
            "re.search(r'VmHWM:\\s+(\\d+) kB', open('/proc/self/status').read()).group(1))")
    out = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, timeout=300)
    mismatches, checked, peak_kib = out.stdout.split()
    assert mismatches == "[]" and int(checked) == 4, out.stderr
    assert int(peak_kib) * 1024 < 0.7 * path.stat().st_size  # less than the weights: they never came in
    path.unlink()
