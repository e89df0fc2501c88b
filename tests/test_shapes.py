"""Golden numbers from DOMAIN.md, on fixture models built from its worked examples."""
import pytest
from conftest import layer, light, lint_fixture

import onnxlint


@pytest.mark.parametrize("name, shape, params", [
    ("conv_1x32_5x5", (1, 32, 28, 28), 832),
    ("conv_8x32_3x3", (1, 32, 32, 32), 2_336),
    ("conv_128_k5_s2_p1", (1, 512, 63, 63), 5 * 5 * 32 * 512 + 512),
    ("conv_10_k3_s2", (1, 1, 4, 4), 10),
    ("conv_28_k3", (1, 96, 26, 26), 960),
    ("alexnet_conv1_227", (1, 96, 55, 55), 34_944),
    ("alexnet_conv1_224", (1, 96, 54, 54), 34_944),
    ("conv_256_512_3x3", (1, 512, 14, 14), 1_180_160),
    ("conv_128_256_5x5", (1, 256, 100, 100), 819_200),
    ("conv_transpose_128", (1, 16, 255, 255), 3 * 3 * 32 * 16 + 16),
])
def test_single_layer_shapes_and_params(name, shape, params):
    report = lint_fixture(name)
    assert report.layers[-1].output_shape == shape
    assert report.totals.params == params


def test_alexnet_conv1_params():
    # DOMAIN.md §3 writes "96·(11·11·3 + 1) = 34,848", but 96·(363 + 1) = 34,944: 34,848 = 96·363 is the
    # weight count alone. The layer (with bias, as in the onnx package's AlexNet) has 34,848 + 96.
    report = lint_fixture("alexnet_conv1_227")
    assert report.totals.params == 34_848 + 96 == 96 * (11 * 11 * 3 + 1)
    assert layer(report, "conv").output_shape == (1, 96, 55, 55)


def test_remainders():
    w = layer(lint_fixture("conv_128_k5_s2_p1"), "conv").window
    assert [a.remainder for a in w.axes] == [1, 1]
    assert [a.dropped for a in w.axes] == [0, 0]  # r = 1 ≤ p_end = 1: only padding skipped
    w = layer(lint_fixture("alexnet_conv1_224"), "conv").window
    assert [(a.remainder, a.dropped, a.output) for a in w.axes] == [(1, 1, 54)] * 2
    w = layer(lint_fixture("alexnet_conv1_227"), "conv").window
    assert [(a.remainder, a.dropped, a.output) for a in w.axes] == [(0, 0, 55)] * 2
    w = layer(lint_fixture("conv_10_k3_s2"), "conv").window
    assert [(a.remainder, a.dropped, a.output) for a in w.axes] == [(1, 1, 4)] * 2


def test_same_upper_and_dilation():
    conv = layer(lint_fixture("conv_same_upper"), "conv")
    assert conv.output_shape == (1, 8, 8, 8)  # ceil(15 / 2)
    # P = max((8 − 1)·2 + 4 − 15, 0) = 3: SAME_UPPER puts the odd pixel at the end
    assert [(a.pad_begin, a.pad_end) for a in conv.window.axes] == [(1, 2), (1, 2)]
    dilated = layer(lint_fixture("conv_dilated"), "conv")
    assert [a.k_eff for a in dilated.window.axes] == [5, 5]  # DOMAIN.md §10: k=3, d=2 reads x0, x2, x4
    assert dilated.output_shape == (1, 4, 28, 28)


def test_pool_ceil_mode_and_exact_pools():
    report = lint_fixture("pool_exact")
    assert layer(report, "pool2x2").output_shape == (1, 16, 14, 14)  # keeps 1 of 4 activations
    assert layer(report, "pool_ceil").output_shape == (1, 16, 7, 7)  # ceil((14 − 3) / 2) + 1
    assert layer(lint_fixture("pool_drops"), "pool").output_shape == (1, 16, 13, 13)


@pytest.mark.parametrize("name, params", [
    ("inception_naive", 387_072), ("inception_reduced", 163_328),
    ("plain_3x3_256", 589_824), ("bottleneck", 69_632),
    ("conv_128_256_5x5", 819_200), ("reduce_then_5x5", 208_896),
])
def test_domain_section6_parameter_counts(name, params):
    assert lint_fixture(name).totals.params == params


def test_macs_formula():
    # MACs(Conv) = N·H_out·W_out·k_h·k_w·(C_in/g)·C_out
    assert lint_fixture("conv_1x32_5x5").totals.macs == 28 * 28 * 25 * 1 * 32
    assert lint_fixture("alexnet_conv1_227").totals.macs == 55 * 55 * 11 * 11 * 3 * 96
    # ConvTranspose: every input pixel meets k·k·C_out/g weights per input channel
    assert lint_fixture("conv_transpose_128").totals.macs == 128 * 128 * 9 * 32 * 16
    vgg = lint_fixture("vgg_tail")
    assert layer(vgg, "fc6").macs == 7 * 7 * 512 * 4096
    assert layer(vgg, "fc6").params == 7 * 7 * 512 * 4096 + 4096  # DOMAIN.md §8: 102,760,448 + bias


@pytest.mark.parametrize("name, params, macs", [
    ("bvlc_alexnet", 60_965_224, None),
    ("vgg19", 143_667_240, 19_632_062_464),
    ("resnet50", 25_557_032, 4_089_184_256),
])
def test_light_model_totals(name, params, macs):
    report = onnxlint.lint(light(name))
    assert report.totals.params == params
    if macs is not None:
        assert report.totals.macs == macs
    assert report.layers[-1].output_shape == (1, 1000)


def test_light_alexnet_layers():
    report = onnxlint.lint(light("bvlc_alexnet"))
    conv1 = layer(report, "n0")
    assert conv1.output_shape == (1, 96, 54, 54)
    assert conv1.params == 34_944
    assert conv1.receptive_field == (11, 11)
    assert layer(report, "n3").receptive_field == (19, 19)  # 11 + (3 − 1)·4


def test_symbolic_batch_defaults_to_one_and_input_shape_resolves():
    report = lint_fixture("symbolic_input")
    assert report.inputs[0]["shape"] == [1, 3, None, None]
    assert any("batch" in note for note in report.info) and not any("batch" in note for note in report.notes)
    assert layer(report, "conv").output_shape == (1, 16, None, None)
    resolved = lint_fixture("symbolic_input", input_shapes={"image": (2, 3, 64, 48)})
    assert layer(resolved, "conv").output_shape == (2, 16, 64, 48)
    assert resolved.totals.macs == 2 * 64 * 48 * 9 * 3 * 16


def test_peak_activation_memory():
    # AlexNet conv1 on 224: at the Relu, conv1's and the Relu's outputs are live (the input is freed).
    report = onnxlint.lint(light("bvlc_alexnet"))
    assert report.totals.peak_activation_bytes == 2 * 96 * 54 * 54 * 4
    assert report.totals.peak_at == "n1"
    # A single conv: input and output live together.
    single = lint_fixture("conv_1x32_5x5")
    assert single.totals.peak_activation_bytes == (28 * 28 + 32 * 28 * 28) * 4


@pytest.mark.slow  # onnx's case generators build ~1,900 models
def test_models_of_other_domains_only_are_linted_not_refused():
    """onnx's own node tests of ai.onnx.ml (LabelEncoder, TreeEnsemble, Binarizer, ArrayFeatureExtractor…) and
    ai.onnx.preview.training (Adam, Adagrad, Momentum) import no default-domain opset; onnx's checker accepts
    them, and so does onnxlint, with a note that nothing there is counted."""
    import warnings

    import onnx
    from onnx.backend.test.case.node import collect_testcases

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cases = [c for c in collect_testcases(None)
                 if not any(o.domain in ("", "ai.onnx") for o in c.model.opset_import)]
    assert len(cases) >= 15
    for case in cases:
        onnx.checker.check_model(case.model)
        report = onnxlint.lint(case.model)
        assert report.error is None, case.name
        assert any("imports no default ONNX opset" in n for n in report.notes), (case.name, report.notes)


@pytest.mark.slow  # ~1,900 models, inferred by onnxlint and by onnx
def test_onnx_node_test_suite_no_wrong_shape_and_ahead_of_onnx():
    """Every output of every model of onnx's node-test suite (generated, declared shapes removed): no dim
    onnxlint states is wrong, and it knows more outputs exactly than onnx's infer_shapes(data_prop=True)."""
    import importlib.util

    from conftest import ROOT

    spec = importlib.util.spec_from_file_location("bench_node_tests", ROOT / "benchmarks" / "bench_node_tests.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    models, counts, wrong = bench.compare()
    assert models > 1_800
    assert wrong == []
    assert counts["onnxlint"]["exact"] > counts["onnx infer_shapes(data_prop=True)"]["exact"]
