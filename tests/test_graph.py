"""Graph walk: execution order, subgraph locations, unknown domains."""
import onnx
from conftest import fixture
from onnx import TensorProto, helper

import onnxlint


def _vi(name, dims):
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, dims)


def test_out_of_order_nodes_are_sorted():
    model = onnx.load(fixture("clean"))
    nodes = list(model.graph.node)
    model.graph.ClearField("node")
    model.graph.node.extend(reversed(nodes))
    report, original = onnxlint.lint(model), onnxlint.lint(fixture("clean"))
    for field in ("nodes", "params", "macs", "peak_activation_bytes", "peak_at"):
        assert getattr(report.totals, field) == getattr(original.totals, field)
    assert [layer.name for layer in report.layers][-1] == "fc"


def test_subgraph_nodes_have_locations_and_shapes():
    conv_w = helper.make_tensor("w", TensorProto.FLOAT, [4, 3, 3, 3], [0.1] * 108)
    then_graph = helper.make_graph(
        [helper.make_node("Conv", ["x", "w"], ["t"], name="Conv_3", kernel_shape=[3, 3], strides=[2, 2])],
        "then", [], [_vi("t", [1, 4, 9, 9])], [conv_w])
    else_graph = helper.make_graph([helper.make_node("Identity", ["x"], ["e"], name="Id")], "else", [],
                                   [_vi("e", [1, 3, 20, 20])])
    graph = helper.make_graph(
        [helper.make_node("If", ["cond"], ["out"], name="If_0", then_branch=then_graph, else_branch=else_graph)],
        "main", [_vi("x", [1, 3, 20, 20]), helper.make_tensor_value_info("cond", TensorProto.BOOL, [])],
        [helper.make_tensor_value_info("out", TensorProto.FLOAT, None)])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    report = onnxlint.lint(model)
    conv = next(layer for layer in report.layers if layer.name == "Conv_3")
    assert conv.scope == "graph/If_0/then_branch"
    assert conv.path == "graph/If_0/then_branch/Conv_3"
    assert conv.output_shape == (1, 4, 9, 9)  # (20 − 3) / 2 + 1 = 9.5 → 9
    [d] = [d for d in report.diagnostics if d.code == "OL101"]
    assert d.location == "graph/If_0/then_branch" and d.node == "Conv_3"


def test_unknown_domain_passes_through():
    graph = helper.make_graph(
        [helper.make_node("Mystery", ["x"], ["m"], domain="com.example"),
         helper.make_node("Relu", ["m"], ["y"])], "g", [_vi("x", [1, 3, 8, 8])], [_vi("y", None)])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("com.example", 1)])
    report = onnxlint.lint(model)
    assert [layer.output_shape for layer in report.layers] == [None, None]
    assert report.totals.nodes == 2


def test_nodes_with_equal_attributes_share_them_but_not_across_declared_types():
    from onnxlint.graph import build_graph

    as_int = helper.make_attribute("x", 1)
    as_float = helper.make_attribute("x", 1.0)
    nodes = [helper.make_node("Conv", ["a", "w"], ["b"], kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
             helper.make_node("Conv", ["b", "w"], ["c"], kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
             helper.make_node("Foo", ["c"], ["d"], domain="custom"),
             helper.make_node("Foo", ["d"], ["e"], domain="custom")]
    nodes[2].attribute.append(as_int)
    nodes[3].attribute.append(as_float)
    graph = helper.make_graph(nodes, "g", [_vi("a", [1, 2, 8, 8])], [_vi("e", None)],
                              [helper.make_tensor("w", TensorProto.FLOAT, [2, 2, 3, 3], [0.0] * 36)])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("custom", 1)])
    first, second, ints, floats = build_graph(model, "<model>").nodes
    assert first.attrs is second.attrs and first.attrs == {"kernel_shape": (3, 3), "pads": (1, 1, 1, 1)}
    assert type(ints.attrs["x"]) is int and type(floats.attrs["x"]) is float  # 1 == 1.0, yet not the same


def test_initializers_are_read_again_only_when_a_value_is_asked_for():
    from onnxlint.graph import build_graph

    shape = helper.make_tensor("shape", TensorProto.INT64, [2], [1, -1])
    graph = helper.make_graph([helper.make_node("Reshape", ["x", "shape"], ["y"])], "g", [_vi("x", [2, 3, 4])],
                              [_vi("y", None)], [shape])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    built = build_graph(model, "<model>")
    assert built.initializers["shape"][:3] == ((2,), TensorProto.INT64, False)
    assert list(built.tensor("shape").int64_data) == [1, -1]
    assert onnxlint.lint(model).layers[0].output_shape == (1, 24)  # the value, read when Reshape asked for it
