from conftest import codes, light, lint_fixture

import onnxlint


def test_fires_with_nearest_exact_sizes():
    [d] = codes(onnxlint.lint(light("bvlc_alexnet")), "OL104")
    assert "input 'data_0' is 224×224" in d.message and "total stride 32" in d.message
    assert "(n0, n3, n7)" in d.message
    assert d.suggestion.startswith("feed 227×227 or ")


def test_exact_size_is_verified_by_reinference():
    report = lint_fixture("demo", input_shapes={"image": (1, 3, 227, 227)})
    assert codes(report, "OL104") == [] and codes(report, "OL101") == [] and codes(report, "OL102") == []


def test_silent_on_resnet50_224():
    assert codes(onnxlint.lint(light("resnet50")), "OL104") == []
