from conftest import codes, light, lint_fixture, load_builder

import onnxlint


def test_domain_5x5_96_to_256_at_width_96():
    found = {d.node: d for d in codes(lint_fixture("large_kernels"), "OL201")}
    d = found["conv5x5"]
    assert d.savings.params_before == 614_400 and d.savings.params_after == 304_128  # −50%
    assert "two stacked 3×3 convs see the same 5×5 window with 50% fewer params (614,400 → 304,128)" in d.message
    assert "96→96→256" in d.suggestion
    seven = found["conv7x7"]
    assert "three stacked 3×3 convs" in seven.message
    assert seven.savings.params_before == 49 * 64 * 64 + 64 and seven.savings.params_after == 3 * (9 * 64 * 64 + 64)


def test_issue_example_64_channels_at_56():
    net = load_builder().Net("block2", ("input", [1, 64, 56, 56]))
    model = net.model(net.conv(net.relu(net.conv("input", 64, 3, p=1, name="stem")), 64, 5, p=2, name="block2/conv"))
    [d] = codes(onnxlint.lint(model), "OL201")
    assert d.node == "block2/conv"
    assert "28% fewer params (102,464 → 73,856)" in d.message
    assert "(321.1 M → 231.2 M;" in d.message


def test_near_misses_stem_patchify_depthwise():
    nodes = {d.node for d in codes(lint_fixture("large_kernels"), "OL201")}
    assert nodes == {"conv5x5", "conv7x7"}  # not stem7x7 (3 channels), patchify (4×4/4), depthwise7x7
    # a depthwise 7×7 is cheap by design: its saving is under 1% of the model, shown only when asked
    with_dw = lint_fixture("large_kernels", options={"OL201": {"include-depthwise": True, "min-model-saving": 0}})
    assert "depthwise7x7" in {d.node for d in codes(with_dw, "OL201")}


def test_light_models():
    assert codes(onnxlint.lint(light("resnet50")), "OL201") == []  # its 7×7 stem on 3 channels saves nothing
    # the 5×5 convs of the nine Inception modules; only one saves 1% of the model's MACs (min-model-saving)
    everything = onnxlint.lint(light("inception_v1"), options={"OL201": {"min-model-saving": 0}})
    assert len({d.node for d in codes(everything, "OL201")}) == 9
    material = codes(onnxlint.lint(light("inception_v1")), "OL201")
    assert len(material) == 1 and material[0].worth >= 0.01
    assert all(d.worth < 0.01 for d in codes(everything, "OL201") if d.node != material[0].node)
