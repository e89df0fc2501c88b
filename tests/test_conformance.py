"""Conformance against test cases onnxlint's authors did not write: the onnx wheel's backend cases
with expected outputs. Every case with a Conv, ConvTranspose, pool, Gemm or MatMul must infer the
expected output shape."""
import onnx
import pytest  # noqa: E402
from conftest import ONNX_DATA

import onnxlint

pytestmark = pytest.mark.slow  # runs onnxruntime or subprocesses: `-m 'not slow'` skips it

OPS = {"Conv", "ConvTranspose", "MaxPool", "AveragePool", "LpPool", "GlobalAveragePool", "GlobalMaxPool",
       "GlobalLpPool", "Gemm", "MatMul"}


def discover():
    for folder in ("pytorch-converted", "pytorch-operator", "node"):
        for model_path in sorted((ONNX_DATA / folder).glob("*/model.onnx")):
            model = onnx.load(model_path, load_external_data=False)
            if OPS & {n.op_type for n in model.graph.node}:
                yield model_path, model


def test_inferred_output_shapes_match_expected_outputs():
    checked, failures = 0, []
    for model_path, model in discover():
        report = onnxlint.lint(model_path)
        produced = {o: layer.output_shape for layer in report.layers for o in layer.outputs[:1]}
        for i, output in enumerate(model.graph.output):
            expected_path = model_path.parent / "test_data_set_0" / f"output_{i}.pb"
            if not expected_path.is_file():
                continue
            expected = onnx.TensorProto()
            expected.ParseFromString(expected_path.read_bytes())
            checked += 1
            if produced.get(output.name) != tuple(expected.dims):
                failures.append((model_path.parent.name, produced.get(output.name), tuple(expected.dims)))
    print(f"conformance: {checked} expected outputs checked")
    assert checked > 40  # fails, never skips, when the cases are gone
    assert failures == []


def test_every_case_onnxruntime_can_run_verifies_with_zero_mismatches():
    ran, mismatches = 0, []
    for model_path, _model in discover():
        report = onnxlint.lint(model_path, verify=True)
        if report.verification is None:  # e.g. opset-1 AveragePool: onnxruntime has no kernel (OL502 says so)
            assert any(d.code == "OL502" for d in report.diagnostics)
            continue
        ran += 1
        mismatches += [(model_path.parent.name, m) for m in report.verification["mismatches"]]
    print(f"verified: {ran} cases executed by onnxruntime")
    assert ran > 30
    assert mismatches == []
