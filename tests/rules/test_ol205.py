from conftest import codes, light, lint_fixture

import onnxlint


def test_vgg19_fc6_dominates_params():
    [d] = codes(onnxlint.lint(light("vgg19"), ignore=["OL203"]), "OL205")
    assert d.node == "n38"
    assert "72% of the model's params (102,764,544 of 143,667,240)" in d.message


def test_silent_where_another_finding_already_names_the_layer():
    report = onnxlint.lint(light("vgg19"))  # fc6 carries OL203: that is where to start
    assert codes(report, "OL205") == [] and [d.node for d in codes(report, "OL203")] == ["n38"]


def test_silent_on_balanced_and_tiny_models():
    assert codes(onnxlint.lint(light("resnet50")), "OL205") == []
    assert codes(lint_fixture("conv_1x32_5x5"), "OL205") == []  # one layer always holds 100%
