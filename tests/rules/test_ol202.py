from conftest import codes, light, lint_fixture

import onnxlint


def test_domain_256_to_512_with_reduction_to_32():
    report = lint_fixture("conv_256_512_3x3", options={"OL202": {"reduction": 8}})
    [d] = codes(report, "OL202")
    assert d.savings.params_before == 1_180_160 and d.savings.params_after == 156_192
    assert "1×1 conv 256→32 before it (8,224 params)" in d.suggestion and "(147,968 params)" in d.suggestion


def test_domain_128_to_256_5x5_gives_208896():
    [d] = codes(lint_fixture("conv_128_256_5x5"), "OL202")
    assert d.savings.params_before == 819_200 and d.savings.params_after == 208_896  # not 204,800


def test_fires_on_vgg_and_plain_blocks():
    assert [d.node for d in codes(lint_fixture("wide_plain"), "OL202")] == ["conv_a", "conv_b"]
    assert len(codes(onnxlint.lint(light("vgg19")), "OL202")) == 13  # every 3×3 conv with C_in ≥ 128


def test_silent_on_bottlenecks_densenet_and_inception():
    assert codes(lint_fixture("bottleneck"), "OL202") == []
    assert codes(lint_fixture("reduce_then_5x5"), "OL202") == []
    for name in ("resnet50", "densenet121", "inception_v1", "inception_v2"):
        assert codes(onnxlint.lint(light(name)), "OL202") == [], name
