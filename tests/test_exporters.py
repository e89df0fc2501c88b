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
from onnxlint.fix import fix

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


def _run(path, feed: dict) -> list:
    import onnxruntime as ort

    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(None, feed)


@pytest.mark.parametrize("name", ["custom_cnn_nhwc", "custom_cnn_nchw", "vgg16_head_nhwc"])
def test_fc_as_conv_fires_through_kerass_channels_last_flatten(name):
    """tf2onnx exports Flatten → Dense as Transpose(0,2,3,1) → Reshape → MatMul → Add, with NHWC input or with
    --inputs-as-nchw: OL203 looks through the Transpose and says the weight rows are in H, W, C order."""
    found = [d for d in onnxlint.lint(FIXTURES / "keras" / f"{name}.onnx").diagnostics if d.code == "OL203"]
    assert len(found) == 1 and found[0].node.endswith("fc1_1/MatMul")
    expected = {"vgg16_head_nhwc": "MatMul 2,048→256 on the flattened 512×2×2 map is exactly a 2×2 conv with 256 "
                                   "filters, pad 0: the same 2·2·512·256 = 524,288 weights (+256 bias)"}
    assert expected.get(name, "MatMul 4,608→64 on the flattened 32×12×12 map is exactly a 12×12 conv with 64 "
                              "filters, pad 0: the same 12·12·32·64 = 294,912 weights (+64 bias)") in found[0].message
    assert "flattened channels last: the weight's rows in H, W, C order" in found[0].message
    assert "becomes a 1×1 conv" in found[0].message  # the logits Dense after it


@pytest.mark.slow
def test_fc_as_conv_fix_on_the_nhwc_file_runs_in_onnxruntime(tmp_path):
    """The Dense weight's rows are permuted from H, W, C: the written NHWC model gives the original's logits, and
    at 128×128 (NHWC) its score map."""
    import numpy as np

    model = with_real_weights(FIXTURES / "keras" / "custom_cnn_nhwc.onnx", tmp_path / "cnn.onnx")
    result = fix(model, output=tmp_path / "fixed.onnx", select=["OL203"])
    assert result.written == [tmp_path / "fixed.onnx"] and len(result.changes) == 2
    x = np.random.default_rng(1).standard_normal((1, 64, 64, 3)).astype(np.float32)
    before, after = _run(model, {"image": x}), _run(tmp_path / "fixed.onnx", {"image": x})
    np.testing.assert_allclose(after[0], before[0], rtol=1e-4, atol=1e-5)
    ops = [n.op_type for n in onnx.load(tmp_path / "fixed.onnx").graph.node]
    assert "MatMul" not in ops and ops.count("Conv") == 5
    big = _run(tmp_path / "fixed.onnx", {"image": np.zeros((1, 128, 128, 3), np.float32)})
    assert [o.shape for o in big][1] == (1, 10, 17, 17)  # logits_spatial: (128 → 124 → 62 → 30 → 28) − 12 + 1


@pytest.mark.parametrize("layout", ["nhwc", "nchw"])
def test_input_size_advice_reads_nhwc_axes(layout):
    """The same Keras CNN exported NHWC and NCHW: both say 64×64 and suggest 62×62, never '64×3'; 110×110, at which
    the Flatten's reshape to [-1, 4608] folds the larger map into 4 rows, is no answer."""
    found = [d for d in onnxlint.lint(FIXTURES / "keras" / f"custom_cnn_{layout}.onnx").diagnostics
             if d.code == "OL104"]
    assert len(found) == 1
    assert found[0].message.startswith("input 'image' is 64×64; with the network's total stride 4,")
    assert found[0].suggestion == ("feed 62×62: every stage is exact there and the model runs (re-exported at "
                                   "that size: the file fixes 64×64)")


@pytest.mark.slow
def test_the_suggested_nhwc_size_runs_in_onnxruntime_once_height_and_width_are_free(tmp_path):
    """As the advice says: the file fixes 64×64, so onnxruntime refuses 62×62 until the file takes that size (here
    its height and width, axes 1 and 2 of the NHWC input, never the last two, made symbolic); then 62×62 gives
    one row of logits."""
    import numpy as np
    import onnxruntime as ort

    model = with_real_weights(FIXTURES / "keras" / "custom_cnn_nhwc.onnx", tmp_path / "cnn.onnx")
    with pytest.raises(ort.capi.onnxruntime_pybind11_state.InvalidArgument, match="Expected: 64"):
        _run(model, {"image": np.zeros((1, 62, 62, 3), np.float32)})
    proto = onnx.load(model)
    dims = proto.graph.input[0].type.tensor_type.shape.dim
    dims[1].dim_param, dims[2].dim_param = "height", "width"
    onnx.save(proto, tmp_path / "free.onnx")
    (logits,) = _run(tmp_path / "free.onnx", {"image": np.zeros((1, 62, 62, 3), np.float32)})
    assert logits.shape == (1, 10)
    (rows,) = _run(tmp_path / "free.onnx", {"image": np.zeros((1, 110, 110, 3), np.float32)})
    assert rows.shape == (4, 10)  # why 110 is refused: it runs, but one image gives 4 rows of logits


@pytest.mark.parametrize("name,count", [("mobilenetv2_nhwc", 17), ("resnet50_dynamic_nhwc", 53),
                                        ("efficientnetb0_nchw", 16)])
def test_tf2onnx_batchnorms_left_as_mul_add_are_offered_to_fold(name, count):
    report = onnxlint.lint(FIXTURES / "keras" / f"{name}.onnx", input_shapes=SIZES.get(name))
    found = [d for d in report.diagnostics if d.code == "OL401"]
    assert len(found) == count
    assert all("Mul → Add by a per-channel constant on" in d.message and "(a BatchNorm written out)" in d.message
               for d in found)


@pytest.mark.slow
@pytest.mark.parametrize("folder,name", [("keras", "mobilenetv2_nhwc"), ("paddle", "ch_PP-OCRv4_det_infer")])
def test_folding_the_written_out_batchnorms_is_verified_on_the_delivered_file(folder, name, tmp_path):
    """tf2onnx's 17 Mul → Add pairs on NHWC MobileNetV2, and PP-OCRv4 det's 30 scalar affines, 2 BatchNorms and 2
    ConvTranspose biases at 640×640, with its real weights: its sigmoid map peaks near 1e-3, and a tolerance
    scaled to that peak refused the exact fold (float32's absolute rounding floor now admits it)."""
    import numpy as np

    source = FIXTURES / folder / f"{name}.onnx"
    model = with_real_weights(source, tmp_path / source.name) if folder == "keras" else source
    shapes = {"x": [1, 3, 640, 640]} if folder == "paddle" else None
    result = fix(model, output=tmp_path / "fixed.onnx", select=["OL401"], input_shapes=shapes)
    assert len(result.changes) == {"keras": 17, "paddle": 32}[folder]
    after = onnxlint.lint(tmp_path / "fixed.onnx", input_shapes=shapes)
    assert not [d for d in after.diagnostics if d.code == "OL401"]
    assert after.totals.macs == onnxlint.lint(model, input_shapes=shapes).totals.macs
    feed = {"image": np.random.default_rng(2).random((1, 96, 96, 3), np.float32)} if folder == "keras" else \
        {"x": np.random.default_rng(2).random((1, 3, 640, 640), np.float32)}
    np.testing.assert_allclose(_run(tmp_path / "fixed.onnx", feed)[0], _run(model, feed)[0], rtol=1e-3, atol=1e-5)


def test_a_broadcast_bias_after_a_conv_transpose_is_no_size_mismatch():
    """PP-OCRv4 det: paddle2onnx adds each ConvTranspose's bias apart as a [1,C,1,1] tensor: not a 1×1 size the
    upsampling must meet (OL103 warned twice and failed the run)."""
    name = "ch_PP-OCRv4_det_infer"
    report = onnxlint.lint(FIXTURES / "paddle" / f"{name}.onnx", input_shapes=SIZES[name])
    assert not [d for d in report.diagnostics if d.code == "OL103"]
    assert report.failing(onnxlint.Severity.WARNING) == []  # the default run passes (exit 0)


def test_a_pad_reaching_the_pool_through_quantize_dequantize_is_padding():
    """Keras's ZeroPadding2D before ResNet50's first MaxPool, quantized by onnxruntime's quantize_static (QDQ):
    the padding is the pool's, as in the float parent; params count as in the float model."""
    report = onnxlint.lint(FIXTURES / "keras" / "resnet50_qdq_nhwc.onnx")
    assert not [d for d in report.diagnostics if d.code in ("OL102", "OL104")]
    assert report.totals.params == EXPORTS["keras"]["resnet50_dynamic_nhwc"] and report.totals.complete
