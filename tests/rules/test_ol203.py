from conftest import codes, light, lint_fixture

import onnxlint


def test_vgg_fc6_is_a_7x7_conv_with_the_same_weights():
    [d] = codes(lint_fixture("vgg_tail"), "OL203")
    assert d.node == "fc6"
    assert "flattened 512×7×7 map is exactly a 7×7 conv with 4,096 filters, pad 0" in d.message
    assert "the same 7·7·512·4096 = 102,760,448 weights (+4,096 bias)" in d.message
    assert "fc7 becomes a 1×1 conv 4096→4096, fc8 becomes a 1×1 conv 4096→1000" in d.message
    assert "fully convolutional" in d.suggestion


def test_light_vgg19_first_fc():
    [d] = codes(onnxlint.lint(light("vgg19")), "OL203")
    assert "512×7×7" in d.message and "102,760,448" in d.message


def test_silent_after_global_pool():
    assert codes(lint_fixture("gemm_after_global_pool"), "OL203") == []
