"""`onnxlint fix` on real-size models with random weights, built here and never committed: the files it
writes run in a fresh onnxruntime session with the original's outputs, embedded and external, with -o into
another folder and with --in-place; an interrupted or failing --in-place leaves the original as it was."""
import hashlib
import os
import re
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from conftest import run_cli
from onnx import TensorProto, helper

pytestmark = pytest.mark.slow  # runs onnxruntime on hundreds of MiB

C, HW = 64, 8  # the FC reads a flattened 64×8×8 map: 4,096 features


def build(folder: Path, name: str, fc_out: int, *, external: bool, data_name: str | None = None,
          heads: int = 1) -> Path:
    """Conv → Dropout → Flatten → `heads` × Gemm(transB) with random weights: 4,096·fc_out·4 bytes of FC weight
    per head. External weights are written straight to their file (no in-memory copy of a 2 GiB model)."""
    rng = np.random.default_rng(0)
    arrays = {"conv_w": rng.standard_normal((C, 3, 3, 3), dtype=np.float32)}
    for h in range(heads):
        arrays[f"fc{h}_w"] = rng.standard_normal((fc_out, C * HW * HW), dtype=np.float32) * np.float32(0.01)
        arrays[f"fc{h}_b"] = rng.standard_normal(fc_out, dtype=np.float32)
    path = folder / name
    inits = []
    if external:
        data_name = data_name or f"{name}.data"
        with open(folder / data_name, "wb") as f:
            for key, array in arrays.items():
                tensor = TensorProto(name=key, data_type=TensorProto.FLOAT, dims=array.shape)
                tensor.data_location = TensorProto.EXTERNAL
                offset = f.tell()
                array.tofile(f)
                for k, v in (("location", data_name), ("offset", str(offset)), ("length", str(array.nbytes))):
                    tensor.external_data.add(key=k, value=v)
                inits.append(tensor)
    else:
        inits = [onnx.numpy_helper.from_array(a, k) for k, a in arrays.items()]
    nodes = [helper.make_node("Conv", ["x", "conv_w"], ["c"], name="conv", pads=[1, 1, 1, 1]),
             helper.make_node("Dropout", ["c"], ["d"], name="drop"),
             helper.make_node("Flatten", ["d"], ["f"], name="flat")]
    nodes += [helper.make_node("Gemm", ["f", f"fc{h}_w", f"fc{h}_b"], [f"y{h}"], name=f"fc{h}", transB=1)
              for h in range(heads)]
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, HW, HW])],
                              [helper.make_tensor_value_info(f"y{h}", TensorProto.FLOAT, [1, fc_out])
                               for h in range(heads)], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    onnx.save(model, path)
    return path


def outputs(path: Path) -> np.ndarray:
    """The original outputs (y0, y1…) in a fresh session, from the files on disk; OL203's fix adds a score map."""
    x = np.random.default_rng(1).standard_normal((1, 3, HW, HW), dtype=np.float32)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])  # default optimizations
    names = [o.name for o in session.get_outputs() if re.fullmatch(r"y\d+", o.name)]
    return np.concatenate([y.reshape(1, -1) for y in session.run(names, {"x": x})], axis=1)


def digest(*paths: Path) -> list[str]:
    return [hashlib.sha256(p.read_bytes()).hexdigest() for p in paths]


MIB = 1024**2
FC_OUT_80MIB = 5_000  # 4,096 · 5,000 · 4 bytes = 78 MiB of FC weight


@pytest.mark.parametrize("external", [False, True], ids=["embedded", "external"])
@pytest.mark.parametrize("mode", ["-o", "--in-place"])
def test_real_size_fix_writes_a_model_that_runs(tmp_path, external, mode):
    src = tmp_path / "src"
    src.mkdir()
    model = build(src, "model.onnx", FC_OUT_80MIB, external=external)
    size = sum(p.stat().st_size for p in src.iterdir())
    assert size > 64 * MIB
    expected = outputs(model)
    if mode == "-o":
        out = tmp_path / "out" / "fixed.onnx"
        out.parent.mkdir()
        result = run_cli("fix", model, "-o", out, "--select", "OL203,OL401,OL402")
    else:
        out = model
        result = run_cli("fix", model, "--in-place", "--select", "OL203,OL401,OL402")
    assert result.returncode == 0, result.stderr
    written = sorted(p.name for p in out.parent.iterdir())
    if external:  # an external original gives an external output, under a name derived from the output
        data = "model.onnx.1.data" if mode == "--in-place" else "fixed.onnx.data"  # the original's is kept
        assert data in written and f"(weights in {data})" in result.stdout
        assert (out.parent / data).stat().st_size > 64 * MIB and out.stat().st_size < MIB
    else:
        assert out.stat().st_size > 64 * MIB
    assert not [n for n in written if n.startswith(".onnxlint-")]  # the staging folder is gone
    ops = [n.op_type for n in onnx.load(out, load_external_data=False).graph.node]
    assert "Gemm" not in ops and "Dropout" not in ops
    np.testing.assert_allclose(outputs(out), expected, rtol=1e-4, atol=1e-4)
    if mode == "-o":
        assert outputs(model).tobytes() == expected.tobytes()  # the original untouched and still running


def test_in_place_keeps_the_weights_file_the_original_reads_until_the_new_one_is_in(tmp_path):
    """The original's weights are in model.onnx.data: the rewrite's go elsewhere, and a second rewrite of the
    result alternates back, never writing over a file the model being replaced reads."""
    model = build(tmp_path, "model.onnx", 2_000, external=True)
    original_data = digest(tmp_path / "model.onnx.data")
    result = run_cli("fix", model, "--in-place", "--select", "OL402")
    assert result.returncode == 0, result.stderr
    assert "(weights in model.onnx.1.data)" in result.stdout
    assert "model.onnx.data is no longer read by model.onnx" in result.stdout
    assert digest(tmp_path / "model.onnx.data") == original_data  # left as it was
    again = run_cli("fix", model, "--in-place", "--select", "OL203")
    assert again.returncode == 0, again.stderr
    assert "(weights in model.onnx.data)" in again.stdout
    assert outputs(model).shape == (1, 2_000)


def _kill_when_staging(cmd: list[str], folder: Path) -> None:
    """Start `onnxlint fix`, then SIGKILL it as soon as its staging folder holds the model being written."""
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            if any(p.is_file() for d in folder.glob(".onnxlint-*") for p in d.iterdir()):
                break
            time.sleep(0.005)
        assert proc.poll() is None, "fix ended before it could be interrupted"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()


@pytest.mark.parametrize("external", [False, True], ids=["embedded", "external"])
def test_a_kill_during_an_in_place_rewrite_leaves_the_original_intact(tmp_path, external):
    model = build(tmp_path, "model.onnx", FC_OUT_80MIB, external=external)
    files = sorted(tmp_path.glob("model.onnx*"))
    before, expected = digest(*files), outputs(model)
    _kill_when_staging([sys.executable, "-m", "onnxlint", "fix", str(model), "--in-place", "--select",
                        "OL203,OL401,OL402"], tmp_path)
    assert sorted(tmp_path.glob("model.onnx*")) == files and digest(*files) == before
    np.testing.assert_array_equal(outputs(model), expected)
    # what the kill left is a hidden folder of onnxlint's, never a file under the user's name
    assert all(p.name.startswith(".onnxlint-") for p in tmp_path.iterdir() if p not in files)


def test_a_full_disk_fails_in_one_line_and_leaves_the_original_intact(tmp_path):
    model = build(tmp_path, "model.onnx", FC_OUT_80MIB, external=False)
    before = digest(model)

    def small_disk() -> None:  # writes past 16 MiB fail with EFBIG, as on a full disk (Python ignores SIGXFSZ)
        resource.setrlimit(resource.RLIMIT_FSIZE, (16 * MIB, 16 * MIB))

    result = subprocess.run([sys.executable, "-m", "onnxlint", "fix", str(model), "--in-place", "--select",
                             "OL203,OL401,OL402"],
                            capture_output=True, text=True, preexec_fn=small_disk, timeout=300)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "cannot write: File too large" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    assert digest(model) == before and sorted(p.name for p in tmp_path.iterdir()) == ["model.onnx"]


@pytest.mark.skipif(os.environ.get("ONNXLINT_SKIP_2GIB") == "1", reason="ONNXLINT_SKIP_2GIB=1")
def test_a_model_over_2_gib_with_external_weights(tmp_path):
    fc_out = 2**30 // (C * HW * HW * 4) + 1_000  # two heads of just over 1 GiB each
    src, out = tmp_path / "src", tmp_path / "out"
    src.mkdir(), out.mkdir()
    model = build(src, "big.onnx", fc_out, external=True, heads=2)
    assert (src / "big.onnx.data").stat().st_size > 2 * 1024**3
    expected = outputs(model)
    result = run_cli("fix", model, "-o", out / "fixed.onnx", "--timeout", "240", "--select", "OL203,OL401,OL402")
    assert result.returncode == 0, result.stderr
    assert (out / "fixed.onnx.data").stat().st_size > 2 * 1024**3
    assert "OL203 fc0 (Gemm) → Conv 8×8" in result.stdout and "OL203 fc1 (Gemm) → Conv 8×8" in result.stdout
    np.testing.assert_allclose(outputs(out / "fixed.onnx"), expected, rtol=1e-4, atol=1e-4)
