"""Large files are parsed without their weight payloads; the analysis is identical."""
import subprocess
import sys

import numpy as np
import onnx
import pytest
from conftest import FIXTURES, ONNX_DATA, fixture
from onnx import TensorProto, helper, numpy_helper

import onnxlint
from onnxlint import loader
from onnxlint.wire import parse_without_payloads

pytestmark = pytest.mark.slow  # runs onnxruntime or subprocesses: `-m 'not slow'` skips it

MODELS = sorted(FIXTURES.glob("*.onnx")) + sorted((ONNX_DATA / "light").glob("*.onnx")) + sorted(
    ONNX_DATA.glob("pytorch-*/*/model.onnx"))


def _summary(report):
    return (report.totals.params, report.totals.macs, report.totals.peak_activation_bytes,
            [layer.output_shape for layer in report.layers], [d.message for d in report.diagnostics])


def test_stripped_parse_gives_the_same_analysis_everywhere():
    assert len(MODELS) > 100
    for path in MODELS:
        with open(path, "rb") as f:
            stripped = parse_without_payloads(f, limit=64)
        assert stripped.ByteSize() <= path.stat().st_size
        assert _summary(onnxlint.lint(stripped)) == _summary(onnxlint.lint(path)), path


def test_large_file_is_linted_without_reading_its_weights(tmp_path):
    # 3×3 convs 1024→1024 with embedded weights: 10 × 37.7 MB = 377 MB in the file
    inits, nodes, x = [], [], "x"
    for i in range(10):
        w = TensorProto(name=f"w{i}", data_type=TensorProto.FLOAT, dims=[1024, 1024, 3, 3])
        w.raw_data = bytes(1024 * 1024 * 9 * 4)
        inits.append(w)
        nodes.append(helper.make_node("Conv", [x, w.name], [f"c{i}"], kernel_shape=[3, 3], pads=[1, 1, 1, 1]))
        x = f"c{i}"
    graph = helper.make_graph(nodes, "big", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1024, 7, 7])],
                              [helper.make_tensor_value_info(x, TensorProto.FLOAT, None)], inits)
    path = tmp_path / "big.onnx"
    path.write_bytes(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]).SerializeToString())
    del inits, graph
    size = path.stat().st_size
    assert size > loader.SKIP_PAYLOADS_ABOVE
    # VmHWM: the peak of this process's own memory (ru_maxrss would inherit the test process's peak)
    code = ("import re, sys, onnxlint; r = onnxlint.lint(sys.argv[1]); "
            "hwm = re.search(r'VmHWM:\\s+(\\d+) kB', open('/proc/self/status').read()).group(1); "
            "print(r.totals.params, int(hwm) * 1024)")
    out = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, check=True)
    path.unlink()  # 377 MB: not left in the temporary folder
    params, peak_rss = map(int, out.stdout.split())
    assert params == 10 * 1024 * 1024 * 9
    assert peak_rss < size  # a full parse would hold the whole file in memory


@pytest.fixture
def skip_small_payloads(monkeypatch):
    monkeypatch.setattr(loader, "SKIP_PAYLOADS_ABOVE", 1000)  # our own threshold, to reach the path cheaply


def test_the_path_is_chosen_by_the_weights_bytes_not_the_files_size(skip_small_payloads, tmp_path):
    from onnxlint.wire import payload_bytes

    with open(fixture("deploy_leftovers"), "rb") as f:
        assert payload_bytes(f) > loader.SKIP_PAYLOADS_ABOVE  # weights: parsed without their payloads
    assert loader.load(fixture("deploy_leftovers")).payloads_skipped
    # a file of many small nodes over the (lowered) threshold: parsed plainly, the faster way for it
    graph = helper.make_graph([helper.make_node("Relu", [f"t{i}"], [f"t{i + 1}"]) for i in range(200)], "relus",
                              [helper.make_tensor_value_info("t0", TensorProto.FLOAT, [1, 8])],
                              [helper.make_tensor_value_info("t200", TensorProto.FLOAT, [1, 8])])
    path = tmp_path / "relus.onnx"
    path.write_bytes(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]).SerializeToString())
    assert path.stat().st_size > loader.SKIP_PAYLOADS_ABOVE
    with open(path, "rb") as f:
        assert payload_bytes(f) == 0
    loaded = loader.load(path)
    assert not loaded.payloads_skipped and len(loaded.model.graph.node) == 200


def test_verify_and_fix_read_the_weights_back(skip_small_payloads, tmp_path):
    assert loader.load(fixture("deploy_leftovers")).payloads_skipped
    report = onnxlint.lint(fixture("deploy_leftovers"), verify=True)
    assert report.verification["mismatches"] == []
    from onnxlint.fix import fix

    result = fix(fixture("deploy_leftovers"))
    weights = {t.name: numpy_helper.to_array(t) for t in result.model.graph.initializer}
    assert any(np.abs(w).sum() > 0 for w in weights.values())
    assert result.max_abs_error < result.tolerance
    onnx.checker.check_model(result.model)
