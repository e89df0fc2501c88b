"""--target qnn-htp (issue 34): where Qualcomm's QNN provider runs each node, predicted from the model's graph, and
proved by the provider itself (onnxruntime-qnn, the `qnn` extra) where it is installed. The models are real: the
deployed bottleneck fixture, and PP-OCR's direction classifier (real weights) quantized by onnxruntime's
quantize_static in the test, with its dims dynamic as exported and fixed by `onnxlint fix`."""
import importlib.util
import subprocess
import sys

import numpy as np
import pytest
from conftest import ROOT

import onnxlint
from onnxlint.fix import fix

HAS_QNN = importlib.util.find_spec("onnxruntime_qnn") is not None
needs_qnn = pytest.mark.skipif(not HAS_QNN, reason="onnxruntime-qnn is not installed (pip install onnxlint[qnn])")
CLS = ROOT / "fixtures" / "paddle" / "ch_ppocr_mobile_v2.0_cls_infer.onnx"
SIZE = (1, 3, 48, 192)


@pytest.fixture(scope="module")
def cls_qdq(tmp_path_factory):
    """PP-OCR mobile v2.0 cls, quantized to QDQ uint8 by onnxruntime.quantization.quantize_static on random
    calibration data; its input as exported: [-1, 3, ?, ?]."""
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static

    class Reader(CalibrationDataReader):
        def __init__(self):
            rng = np.random.default_rng(0)
            self.items = iter([{"x": rng.standard_normal(SIZE).astype(np.float32)} for _ in range(4)])

        def get_next(self):
            return next(self.items, None)

    path = tmp_path_factory.mktemp("qnn") / "cls_qdq.onnx"
    quantize_static(str(CLS), str(path), Reader(), quant_format=QuantFormat.QDQ, activation_type=QuantType.QUInt8,
                    weight_type=QuantType.QUInt8)
    return path


def _placement(report) -> tuple[int, int, dict]:
    d = report.deployment
    return d["accelerated_nodes"], d["nodes"], {row["node"]: row["why"] for row in d["cpu_nodes"]}


def test_the_deployed_qdq_fixture_runs_on_the_htp_but_its_io_quantization():
    report = onnxlint.lint(str(ROOT / "fixtures" / "deployed" / "bottleneck_qdq.onnx"), target="qnn-htp")
    on_htp, nodes, cpu = _placement(report)
    assert (on_htp, nodes) == (34, 36)
    assert report.deployment["crossings"] == 2  # the input's quantization in, the output's dequantization out
    assert set(cpu) == {"image_QuantizeLinear", "logits_DequantizeLinear"}
    assert all("offload_graph_io_quantization" in why for why in cpu.values())
    assert "OL605" not in {d.code for d in report.diagnostics}  # by design, not a fallback


def test_a_dynamic_dim_keeps_the_quantized_classifier_off_the_htp_and_fix_moves_it(cls_qdq, tmp_path):
    """The loop: lint says why (OL605, a dynamic dim), fix writes the dims at the size analysed, and the fixed
    file lints with the HTP taking the classifier, as written to disk."""
    shapes = {"x": SIZE}
    before = onnxlint.lint(str(cls_qdq), target="qnn-htp", input_shapes=shapes)
    on_htp, nodes, cpu = _placement(before)
    assert on_htp < 10 and nodes > 700
    finding = [d for d in before.diagnostics if d.code == "OL605"]
    assert len(finding) == 1 and "dynamic dim (input 'x' declared [-1,3,?,?]" in finding[0].message
    out = tmp_path / "cls_fixed.onnx"
    result = fix(str(cls_qdq), output=out, select=["OL605"], target="qnn-htp", input_shapes=shapes)
    assert result.changes and out.is_file()
    after = onnxlint.lint(str(out), target="qnn-htp")
    on_htp, nodes, cpu = _placement(after)
    assert on_htp >= nodes - 2 and set(cpu) == {"x_QuantizeLinear", "softmax_0.tmp_0_DequantizeLinear"}
    assert "OL605" not in {d.code for d in after.diagnostics}


@needs_qnn
@pytest.mark.slow  # the provider's HTP backend, emulated on x86-64
def test_the_provider_places_every_node_where_predicted_before_and_after_the_fix(cls_qdq, tmp_path):
    out = tmp_path / "cls_fixed.onnx"
    fix(str(cls_qdq), output=out, select=["OL605"], target="qnn-htp", input_shapes={"x": SIZE})
    for path, shapes in ((cls_qdq, {"x": SIZE}), (out, None),
                         (ROOT / "fixtures" / "deployed" / "bottleneck_qdq.onnx", None),
                         (ROOT / "fixtures" / "deployed" / "bottleneck_float.onnx", None)):
        report = onnxlint.lint(str(path), target="qnn-htp", verify=True, input_shapes=shapes)
        proof = report.deployment["proved"]
        assert "error" not in proof, proof
        assert proof["layers"] > 10 and proof["disagree"] == [], (path.name, proof["disagree"][:5])
        assert "OL604" not in {d.code for d in report.diagnostics}


def test_the_plain_path_imports_no_vendor_package():
    code = ("import sys, onnxlint; r = onnxlint.lint(sys.argv[1], target='qnn-htp'); "
            "assert r.deployment['accelerated_nodes'] == 34; "
            "print(sorted(m for m in ('onnxruntime', 'onnxruntime_qnn', 'openvino') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code, str(ROOT / "fixtures" / "deployed" / "bottleneck_qdq.onnx")],
                          capture_output=True, text=True)
    assert done.stdout.strip() == "[]", done.stdout + done.stderr
