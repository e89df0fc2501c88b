from conftest import codes, lint_fixture


def test_fires_on_symbolic_spatial_dims():
    [d] = codes(lint_fixture("symbolic_input"), "OL001")
    assert "input 'image' has symbolic dims [N,3,H,W]" in d.message
    assert "--input-shape image=1,3,224,224" in d.suggestion


def test_silent_once_the_shape_is_given():
    report = lint_fixture("symbolic_input", input_shapes={"image": (1, 3, 32, 32)})
    assert codes(report, "OL001") == []


def test_fires_when_no_shape_is_declared():
    import onnx
    from conftest import fixture

    import onnxlint
    model = onnx.load(fixture("clean"))
    model.graph.input[0].type.tensor_type.ClearField("shape")
    [d] = codes(onnxlint.lint(model), "OL001")
    assert "input 'input' has no declared shape" in d.message
    assert d.suggestion.endswith("--input-shape input=1,3,224,224")
