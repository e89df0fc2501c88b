from conftest import codes, light, lint_fixture

import onnxlint


def test_fires_on_3x3_stride2_pool_on_28():
    [d] = codes(lint_fixture("pool_drops"), "OL102")
    assert d.node == "pool"
    assert "(28 + 0 − 3) / 2 + 1 = 13.5 → 13" in d.message
    assert "ceil_mode=1" in d.suggestion


def test_light_alexnet_pools():
    found = codes(onnxlint.lint(light("bvlc_alexnet")), "OL102")
    assert [d.node for d in found] == ["n3", "n7"]
    assert "(54 + 0 − 3) / 2 + 1 = 26.5 → 26" in found[0].message


def test_near_miss_exact_and_ceil_mode_pools():
    assert codes(lint_fixture("pool_exact"), "OL102") == []
