from conftest import codes, lint_fixture


def test_opt_in_and_fires_on_mid_size_maps():
    assert codes(lint_fixture("conv_256_512_3x3"), "OL204") == []  # off by default
    [d] = codes(lint_fixture("conv_256_512_3x3", extend_select=["OL204"]), "OL204")
    # 1×3 256→256 then 3×1 256→512 (with biases): 196,864 + 393,728 = 590,592 vs 1,180,160
    assert d.savings.params_after == 3 * 256 * 256 + 256 + 3 * 256 * 512 + 512
    assert "1×3 then 3×1 (width 256)" in d.message and "depthwise-separable" in d.message


def test_silent_outside_12_to_20():
    assert codes(lint_fixture("wide_plain", extend_select=["OL204"]), "OL204") == []  # 28×28 map
