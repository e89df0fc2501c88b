from conftest import codes, light, lint_fixture

import onnxlint


def test_batchnorm_after_conv():
    [d] = codes(lint_fixture("deploy_leftovers"), "OL401")
    assert d.node == "bn" and "directly follows conv (Conv)" in d.message
    assert len(codes(onnxlint.lint(light("resnet50")), "OL401")) == 53


def test_noops():
    assert [d.node for d in codes(lint_fixture("deploy_leftovers"), "OL402")] == ["dropout", "identity"]
    assert codes(lint_fixture("clean"), "OL401") == codes(lint_fixture("clean"), "OL402") == []
