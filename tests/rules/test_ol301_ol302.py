from conftest import codes, light, lint_fixture

import onnxlint


def test_hotspot_on_vgg19():
    [d] = codes(onnxlint.lint(light("vgg19")), "OL301")
    assert d.node == "n1"
    assert "peaks at 24.5 MiB at n1 (Relu) with 2 live tensors" in d.message
    assert "'r0' 12.2 MiB (output of n0, 50%)" in d.message


def test_hotspot_silent_below_min_peak():
    assert codes(onnxlint.lint(light("resnet50")), "OL301") == []
    report = onnxlint.lint(light("resnet50"), options={"OL301": {"min-peak": "1MiB"}})
    assert len(codes(report, "OL301")) == 1


def test_memory_budget_inference_and_training():
    assert codes(lint_fixture("vgg_tail", memory_budget="100MB"), "OL302") == []
    [d] = codes(lint_fixture("vgg_tail", memory_budget="500KiB"), "OL302")
    assert "peak activations 784.0 KiB exceed the budget of 500.0 KiB" in d.message
    [t] = codes(lint_fixture("vgg_tail", memory_budget="100MB", training=True), "OL302")
    assert "params ×4 (weights, gradients, Adam moments) 1.9 GiB" in t.message


def test_the_batch_is_advised_only_when_it_is_more_than_one():
    [d] = codes(onnxlint.lint(light("vgg19")), "OL301")  # batch 1
    assert "batch" not in d.suggestion
    [b] = codes(lint_fixture("vgg_tail", memory_budget="500KiB"), "OL302")
    assert "batch" not in b.suggestion and "resolution/width of the early layers named" in b.suggestion
