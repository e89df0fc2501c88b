from conftest import codes, light, lint_fixture

import onnxlint


def test_fires_on_alexnet_conv1_on_224():
    [d] = codes(lint_fixture("alexnet_conv1_224"), "OL101")
    assert d.node == "conv"
    assert "(224 + 0 − 11) / 4 + 1 = 54.25 → 54" in d.message
    assert "the last 1 row and 1 column of the input are never read" in d.message
    assert "227×227 or 223×223" in d.suggestion and "add 3×3 to its end padding" in d.suggestion


def test_fires_on_the_light_alexnet():
    [d] = codes(onnxlint.lint(light("bvlc_alexnet")), "OL101")
    assert d.node == "n0" and "54.25" in d.message


def test_fires_on_domain_example_i10_k3_s2():
    [d] = codes(lint_fixture("conv_10_k3_s2"), "OL101")
    assert "(10 + 0 − 3) / 2 + 1 = 4.5 → 4" in d.message


def test_near_misses():
    assert codes(lint_fixture("alexnet_conv1_227"), "OL101") == []
    # r = 1 ≤ p_end = 1: only the padding column is skipped (DOMAIN.md §1)
    assert codes(lint_fixture("conv_128_k5_s2_p1"), "OL101") == []
    # 1×1 stride-2 projections skip s − k_eff pixels by design
    assert codes(onnxlint.lint(light("resnet50")), "OL101") == []
