from conftest import codes, lint_fixture


def test_fires_when_combined_with_a_different_size():
    [d] = codes(lint_fixture("unet_no_output_padding"), "OL103")
    assert d.node == "up"
    assert "2·(128 − 1) + 3 − 2 = 255 gives 255×255, not the 256×256 tensor 'input' it meets in skip_add" in d.message
    assert d.suggestion == "set output_padding=[1, 1] (output 256×256)"


def test_fires_when_s_times_i_was_meant():
    [d] = codes(lint_fixture("conv_transpose_128"), "OL103")
    assert "not s·I = 256×256" in d.message


def test_silent_with_output_padding():
    assert codes(lint_fixture("unet_output_padding"), "OL103") == []
