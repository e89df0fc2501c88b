"""--what-if: each suggested replacement is built, checked for the same output shape, and timed."""
import json

import onnxruntime as ort
import pytest  # noqa: E402
from conftest import codes, fixture, lint_fixture, run_cli

from onnxlint.whatif import build_pair, sign_test

pytestmark = pytest.mark.slow  # runs onnxruntime or subprocesses: `-m 'not slow'` skips it


def test_replacements_keep_the_output_shape_and_are_timed():
    report = lint_fixture("large_kernels", extend_select=["OL204"], what_if=3)
    measured = [d for d in report.diagnostics if d.code in ("OL201", "OL204")]
    assert len(measured) == 4
    for d in measured:
        assert d.savings.extra["measured_ms_before"] > 0 and d.savings.extra["measured_ms_after"] > 0
        assert "measured" in d.measured and "needs retraining" in d.measured and "what-if" not in d.suggestion


def test_strided_stack_matches_the_layer_output():
    report = lint_fixture("conv_128_k5_s2_p1")
    [d] = codes(report, "OL201")
    layer = next(layer for layer in report.layers if layer.name == "conv")
    original, replacement = build_pair(layer, d.replacement)
    options = ort.SessionOptions()
    shapes = [ort.InferenceSession(m.SerializeToString(), options, providers=["CPUExecutionProvider"])
              .run(None, {"x": __import__("numpy").zeros((1, 32, 128, 128), "float32")})[0].shape
              for m in (original, replacement)]
    assert shapes[0] == shapes[1] == (1, 512, 63, 63)


def test_cli_json_savings_gain_measured_times():
    result = run_cli(fixture("wide_plain"), "--what-if", "--runs", "3", "--format", "json")
    [d, *_] = [d for d in json.loads(result.stdout)["models"][0]["diagnostics"] if d["code"] == "OL202"]
    assert d["savings"]["measured_ms_before"] > 0 and d["savings"]["measured_ms_after"] > 0
    assert d["savings"]["macs_before"] == 462_422_016


def test_the_measurement_shows_its_spread_and_says_when_it_is_noise():
    """Both models run in turn (A, B, A, B…): median and min–max of each, and whether the runs overlap."""
    report = lint_fixture("large_kernels", what_if=7)
    for d in codes(report, "OL201"):
        extra = d.savings.extra
        assert extra["measured_runs"] == 7
        assert extra["measured_ms_before_min"] <= extra["measured_ms_before"] <= extra["measured_ms_before_max"]
        assert extra["measured_ms_after_min"] <= extra["measured_ms_after"] <= extra["measured_ms_after_max"]
        noise = sign_test(extra["measured_faster_pairs"], 7) >= 0.05
        assert extra["measured_within_noise"] == noise
        assert ("within this machine's noise" in d.measured) == noise
        assert f"faster in {extra['measured_faster_pairs']} of 7 paired runs" in d.measured or "slower in" in d.measured
        assert f"({extra['measured_ms_before_min']:.2f}–{extra['measured_ms_before_max']:.2f})" in d.measured


def test_one_outlier_run_does_not_hide_a_consistent_difference():
    """The issue's case: a replacement faster in every paired run but one, whose outlier makes the min–max ranges
    overlap, is a real difference by the sign test; 6 of 10 is noise."""
    from onnxlint.whatif import Timing

    before = (10.0, 10.1, 9.9, 10.2, 10.0, 10.1, 9.8, 10.0, 10.3, 10.1)
    after = (4.1, 4.0, 4.2, 4.1, 11.0, 4.0, 4.1, 4.2, 4.0, 4.1)  # one outlier run, slower than every "before"
    consistent = Timing(before, after, (1,), (1,))
    assert consistent.faster_pairs == 9 and not consistent.within_noise
    mixed = Timing(before, (9.0, 11.0, 9.0, 11.0, 9.0, 11.0, 9.0, 9.0, 11.0, 10.5), (1,), (1,))
    assert mixed.within_noise
    assert sign_test(9, 10) < 0.05 < sign_test(8, 10)  # exact binomial: 0.021 and 0.109
