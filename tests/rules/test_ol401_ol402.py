from conftest import codes, light, lint_fixture

import onnxlint


def test_batchnorm_after_conv():
    [d] = codes(lint_fixture("deploy_leftovers"), "OL401")
    assert d.node == "bn" and "directly follows conv (Conv)" in d.message
    assert len(codes(onnxlint.lint(light("resnet50")), "OL401")) == 53


def test_noops():
    # opt-in: onnxruntime removes these itself, so a default lint does not speak of them (issue 30 §5)
    assert codes(lint_fixture("deploy_leftovers"), "OL402") == []
    named = lint_fixture("deploy_leftovers", extend_select=["OL402"])
    assert [d.node for d in codes(named, "OL402")] == ["dropout", "identity"]
    assert codes(lint_fixture("clean"), "OL401") == codes(lint_fixture("clean", extend_select=["OL402"]), "OL402") == []
