"""Every learnable tensor counts, wherever it enters: real torch exports (fixtures/build_params.py, both
exporters) checked against torch's own `sum(p.numel())` (fixtures/params/params.json, written by the same
script). Where the exporter folded a computation into one stored weight, the file holds fewer learnable
elements than torch had, and onnxlint counts every one the file holds."""
import json
import math

import onnx
import pytest
from conftest import FIXTURES

import onnxlint

PARAMS = FIXTURES / "params"
TORCH = json.loads((PARAMS / "params.json").read_text())
# the exports that keep every learnable tensor: recurrent layers, and timm's weight standardization as the
# TorchScript exporter writes it (Reshape → BatchNormalization over the weight → Reshape → Conv, the weight
# stored twice, once transposed for the statistics)
KEPT = ["lstm", "lstm_bidirectional", "gru", "gru_bidirectional"]
KEPT = [f"{n}_{e}" for n in KEPT for e in ("torchscript", "dynamo")] + ["std_conv_torchscript",
                                                                         "scaled_std_conv_torchscript"]
# the exports that folded the computed weight (weight norm's g, the gain, the reparametrisation) into one
FOLDED = ["weight_norm_torchscript", "weight_norm_dynamo", "reparametrised_torchscript", "reparametrised_dynamo",
          "scaled_std_conv_dynamo", "std_conv_dynamo"]


@pytest.mark.parametrize("name", KEPT)
def test_params_equal_torchs_count(name):
    report = onnxlint.lint(PARAMS / f"{name}.onnx")
    assert report.totals.params == TORCH[name.rsplit("_", 1)[0]]
    assert report.totals.complete


@pytest.mark.parametrize("name", FOLDED)
def test_a_folded_weight_counts_what_the_file_holds(name):
    model = onnx.load(PARAMS / f"{name}.onnx")
    stored = sum(math.prod(t.dims) for t in model.graph.initializer if t.data_type == onnx.TensorProto.FLOAT)
    assert onnxlint.lint(PARAMS / f"{name}.onnx").totals.params == stored <= TORCH[name.rsplit("_", 1)[0]]


def test_recurrent_weights_are_the_layers_own():
    report = onnxlint.lint(PARAMS / "lstm_bidirectional_torchscript.onnx")
    lstms = [layer for layer in report.layers if layer.op_type == "LSTM"]
    # per layer and direction: W 4h×in, R 4h×h, B 8h with h = 32; layer 1 reads 24 features, layer 2 reads 64
    assert [layer.params for layer in lstms] == [2 * (128 * 24 + 128 * 32 + 256), 2 * (128 * 64 + 128 * 32 + 256)]


def test_a_deduplicated_weight_through_identity_and_qdq_counts():
    """The TorchScript exporter merges identical weights into Identity nodes; in a QDQ model the Conv then reads
    Identity → QuantizeLinear → DequantizeLinear of the float weight (timm's cs3darknet_s lost 516,096)."""
    import numpy as np
    from onnx import helper, numpy_helper

    w = numpy_helper.from_array(np.ones((16, 8, 3, 3), np.float32), "w")
    scale, zero = numpy_helper.from_array(np.float32(0.1), "s"), numpy_helper.from_array(np.int8(0), "z")
    nodes = [helper.make_node("Identity", ["w"], ["w_copy"]),
             helper.make_node("QuantizeLinear", ["w_copy", "s", "z"], ["wq"]),
             helper.make_node("DequantizeLinear", ["wq", "s", "z"], ["wd"]),
             helper.make_node("Conv", ["x", "wd"], ["y"], pads=[1, 1, 1, 1])]
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [1, 8, 8, 8])],
                              [helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, None)], [w, scale, zero])
    report = onnxlint.lint(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]))
    assert report.totals.params == 16 * 8 * 3 * 3  # the weight, not its scale or zero point


TIMM = FIXTURES / "timm"
TIMM_TORCH = json.loads((TIMM / "params.json").read_text())


@pytest.mark.parametrize("name", sorted(TIMM_TORCH))
def test_whole_timm_models_with_computed_weights_count_torchs_parameters(name):
    """NF-ResNet-26 and NFNet-L0 (ScaledStdConv2d: gain·standardized weight) and BiT (StdConv2d, GroupNorm
    exported as InstanceNormalization with a unit scale, then γ and β): before, 2.1 M / 13.3 M / 2.07 M."""
    torch_count = TIMM_TORCH[name]
    scripted = onnxlint.lint(TIMM / f"{name}_torchscript.onnx").totals
    assert scripted.params == torch_count and scripted.unplaced == []
    dynamo = onnxlint.lint(TIMM / f"{name}_dynamo.onnx").totals
    assert dynamo.unplaced == []
    # the dynamo exporter folds a few standardized weights into one constant (`view_8`, no torch name): a
    # ScaledStdConv2d's gain, one value per output channel, is then no longer in the file (BiT has no gain)
    graph = onnx.load(TIMM / f"{name}_dynamo.onnx").graph
    stored = {t.name: t.dims for t in graph.initializer}
    folded = [stored[n.input[1]][0] for n in graph.node
              if n.op_type == "Conv" and n.input[1] in stored and not n.input[1].endswith(".weight")]
    assert folded  # nf_resnet26: [64]; nfnet_l0: [16, 32, 64]
    assert dynamo.params == torch_count - (0 if name == "resnetv2_50x1_bit" else sum(folded))


QUANTIZED = FIXTURES / "quantized"  # fixtures/build_quantized.py: timm exports quantized by onnxruntime
QUANTIZED_TORCH = json.loads((QUANTIZED / "params.json").read_text())


@pytest.mark.parametrize("name", sorted(p.stem for p in QUANTIZED.glob("*.onnx")))
def test_quantized_whole_models_count_what_the_float_export_counts(name):
    """onnxruntime's quantize_static of real timm exports (QDQ per-channel; QOperator per-tensor): the same
    params, MACs and findings as the float file, and no quantization scale named as a stray initializer.
    cs3darknet_s's merged weights reach three convs as Identity → Q → DQ of a dequantized weight: before,
    only their biases counted (331,776 params short)."""
    model, form = name.rsplit("_", 1)
    counts = QUANTIZED_TORCH[model]
    report = onnxlint.lint(QUANTIZED / f"{name}.onnx")
    reference = onnxlint.lint(QUANTIZED / f"{model}_float.onnx")
    # each BatchNorm's γ and β folded into one conv bias: one parameter fewer per channel than torch's
    assert report.totals.params == reference.totals.params == counts["torch"] - counts["folded_bn_channels"]
    assert report.totals.macs == reference.totals.macs and report.totals.complete
    assert report.totals.unplaced == [] and report.notes == []
    assert sorted(d.code for d in report.diagnostics) == sorted(d.code for d in reference.diagnostics)
