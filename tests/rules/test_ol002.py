import onnx
from conftest import codes, fixture

import onnxlint


def _with(name, **attrs):
    model = onnx.load(fixture(name))
    conv = next(n for n in model.graph.node if n.op_type == "Conv")
    for key, value in attrs.items():
        for a in conv.attribute:
            if a.name == key:
                conv.attribute.remove(a)
                break
        conv.attribute.append(onnx.helper.make_attribute(key, value))
    return model


def test_fires_on_bad_group_and_zero_stride():
    [d] = codes(onnxlint.lint(_with("conv_8x32_3x3", group=3)), "OL002")
    assert "group 3 does not divide the 8 input channels" in d.message
    assert d.node == "conv" and str(d.severity) == "error"
    [d] = codes(onnxlint.lint(_with("conv_8x32_3x3", strides=[0, 1])), "OL002")
    assert "stride 0 on axis 0" in d.message


def test_fires_on_kernel_larger_than_padded_input():
    [d] = codes(onnxlint.lint(_with("conv_10_k3_s2", dilations=[6, 6])), "OL002")
    assert "kernel 13 (dilated) is larger than the padded input 10 + 0" in d.message


def test_silent_on_valid_convs():
    assert codes(onnxlint.lint(fixture("conv_8x32_3x3")), "OL002") == []
    assert codes(onnxlint.lint(fixture("large_kernels")), "OL002") == []  # depthwise group = 96 is valid
