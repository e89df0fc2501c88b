"""onnxlint on what other exporters write: Keras through tf2onnx (NHWC input by default, BatchNorms left as
Mul → Add, Dense as MatMul → Add), PaddlePaddle through paddle2onnx (rapidocr's PP-OCR models, with their
real weights: conv biases added apart, learnable scalar affine blocks) and Flax through jax2onnx (NHWC
declarations on NCHW tensors). The fixtures are built by fixtures/build_keras.py, build_paddle.py and
build_jax.py; each folder's params.json holds the reference its script computed from the framework's own
count (Keras's trainable weights less what tf2onnx folded, paddle's parameter names, Flax's nnx.Param)."""
import json

import onnx
import pytest
from conftest import FIXTURES, with_real_weights

import onnxlint

EXPORTS = {folder: json.loads((FIXTURES / folder / "params.json").read_text())["params"]
           for folder in ("keras", "paddle", "jax")}
VALID = [(folder, name) for folder, names in EXPORTS.items() for name in names if name != "keras3_unsupported"]
# the size each model is deployed at, where the file leaves it free
SIZES = {"resnet50_dynamic_nhwc": {"image": [1, 224, 224, 3]}, "ch_PP-OCRv4_det_infer": {"x": [1, 3, 640, 640]},
         "ch_ppocr_mobile_v2.0_cls_infer": {"x": [1, 3, 48, 192]}, "flax_cnn_dynamic": {"": [1, 64, 64, 3]}}


@pytest.mark.parametrize("folder,name", VALID)
def test_params_exact_and_every_layer_known(folder, name):
    report = onnxlint.lint(FIXTURES / folder / f"{name}.onnx", input_shapes=SIZES.get(name))
    assert report.totals.params == EXPORTS[folder][name]
    assert report.totals.complete and report.totals.unknown_layers == []
    assert report.totals.unplaced == [] and not [n for n in report.notes if "not in the params" in n]
    assert not [d for d in report.diagnostics if d.severity == onnxlint.Severity.ERROR]


@pytest.mark.slow
@pytest.mark.parametrize("folder,name", VALID)
def test_onnxruntime_executes_every_shape_onnxlint_infers(folder, name, tmp_path):
    model = with_real_weights(FIXTURES / folder / f"{name}.onnx", tmp_path / f"{name}.onnx")
    report = onnxlint.lint(model, input_shapes=SIZES.get(name), verify=True)
    assert report.verification is not None, [d.message for d in report.diagnostics if d.code == "OL502"]
    assert report.verification["mismatches"] == [] and report.verification["tensors_unknown_filled"] == 0


def test_jax2onnx_nhwc_declarations_on_nchw_tensors_are_one_warning():
    """jax2onnx 0.17.1 declares two converted tensors with their NHWC shapes: OL005 names both, groups them,
    and says the layout; --verify's OL503 on the same tensors folds under it."""
    report = onnxlint.lint(FIXTURES / "jax" / "flax_cnn.onnx")
    found = [d for d in report.diagnostics if d.code == "OL005"]
    assert [d.message.split("'")[1] for d in found] == ["relu_out_0", "relu_out_1"]
    assert "declares tensor 'relu_out_0' as [1,64,64,16], the arithmetic gives [1,16,64,64] in NHWC order" \
        in found[0].message
    assert [g.code for g in report.groups] .count("OL005") == 1
    model = onnx.load(FIXTURES / "jax" / "flax_cnn.onnx")
    declared = {v.name: [d.dim_value for d in v.type.tensor_type.shape.dim] for v in model.graph.value_info}
    assert declared["relu_out_0"] == [1, 64, 64, 16]  # what the file says, as the exporter wrote it


@pytest.mark.slow
def test_the_executed_proof_of_a_wrong_declaration_folds_under_the_static_finding(tmp_path):
    model = with_real_weights(FIXTURES / "jax" / "flax_cnn.onnx", tmp_path / "flax_cnn.onnx")
    report = onnxlint.lint(model, verify=True)
    proved = [d for d in report.diagnostics if d.code == "OL503"]
    assert len(proved) == 2 and all(d.folded_into == "OL005" for d in proved)
    assert "2 warnings" not in report.count_text().split("(")[0]  # one group, not two more findings


def test_non_onnx_ops_tf2onnx_could_not_convert_are_errors_naming_the_node():
    """Keras 3's grouped conv and exact GELU: tf2onnx 1.17 logs 'Unsupported ops' and writes
    StatefulPartitionedCall and Erfc in the ONNX domain. Each is an error naming the node and the op."""
    report = onnxlint.lint(FIXTURES / "keras" / "keras3_unsupported.onnx")
    errors = {d.node: d.message for d in report.diagnostics if d.severity == onnxlint.Severity.ERROR}
    assert set(errors) == {"keras3_unsupported_1/grouped_1/StatefulPartitionedCall",
                           "keras3_unsupported_1/fc_gelu_1/Gelu/Erfc"}
    assert all("tf2onnx" in m and "Unsupported ops" in m for m in errors.values())
