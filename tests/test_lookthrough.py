"""The patterns rules look through, on real torch exports (fixtures/build_lookthrough.py, both exporters):
YOLO's 1×1 reduction with SiLU as x·sigmoid(x), and BiT's 1×1 with GroupNorm as Reshape → InstanceNorm →
Reshape → Mul → Add, before a 3×3: OL202 is silent there, and still names the 3×3 that has no 1×1."""
import pytest
from conftest import FIXTURES

import onnxlint

LOOKTHROUGH = FIXTURES / "lookthrough"


@pytest.mark.parametrize("exporter", ["torchscript", "dynamo"])
@pytest.mark.parametrize("block", ["yolo", "bit"])
def test_a_reduced_3x3_is_not_told_to_reduce(block, exporter):
    reduced = onnxlint.lint(LOOKTHROUGH / f"{block}_reduced_{exporter}.onnx", select=["OL202"])
    plain = onnxlint.lint(LOOKTHROUGH / f"{block}_plain_{exporter}.onnx", select=["OL202"])
    assert reduced.diagnostics == []
    [finding] = plain.diagnostics
    assert "runs on all 256 input channels" in finding.message
