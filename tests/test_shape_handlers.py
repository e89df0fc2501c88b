"""The own shape handlers of the shape-arithmetic and tensor ops (Split, Slice, Reduce*, Resize, Pad, Expand,
Where...), each case proved by onnxruntime executing it: the dims onnxlint infers are the dims it produces."""
import numpy as np
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

import onnxlint
from onnxlint.api import analyse
from onnxlint.config import Settings
from onnxlint.loader import load

pytestmark = pytest.mark.slow  # runs onnxruntime


def _model(op, x_shape, inputs=(), attrs=None, outputs=1, opset=18, x_type=TensorProto.FLOAT):
    """One `op` node on input x, with constant operands `inputs` (numpy arrays, None for an omitted one)."""
    inits, names = [], ["x"]
    for i, value in enumerate(inputs):
        if value is None:
            names.append("")
            continue
        inits.append(numpy_helper.from_array(value, f"c{i}"))
        names.append(f"c{i}")
    outs = [f"y{i}" for i in range(outputs)]
    node = helper.make_node(op, names, outs, **(attrs or {}))
    graph = helper.make_graph([node], op, [helper.make_tensor_value_info("x", x_type, x_shape)],
                              [helper.make_tensor_value_info(o, x_type, None) for o in outs], inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])


I64, F32 = np.int64, np.float32
CASES = {
    "split equal": _model("Split", [2, 6, 4], attrs={"axis": 1}, outputs=3, opset=13),
    "split sizes": _model("Split", [2, 7, 4], [np.array([2, 5], I64)], {"axis": -2}, outputs=2),
    "split num_outputs remainder": _model("Split", [1, 10], attrs={"axis": 1, "num_outputs": 4}, outputs=4),
    "split opset 11 attribute": _model("Split", [9, 2], attrs={"split": [4, 5]}, outputs=2, opset=11),
    "slice": _model("Slice", [5, 9, 7], [np.array([1, -4], I64), np.array([4, 100], I64), np.array([0, 2], I64)]),
    "slice steps": _model("Slice", [10, 11], [np.array([0, 1], I64), np.array([10, 11], I64),
                                              np.array([0, 1], I64), np.array([3, 4], I64)]),
    "slice negative step": _model("Slice", [8, 6], [np.array([-1, 100], I64), np.array([-100, 1], I64),
                                                    np.array([0, 1], I64), np.array([-1, -2], I64)]),
    "slice empty": _model("Slice", [8], [np.array([5], I64), np.array([2], I64)]),
    "reduce mean keepdims": _model("ReduceMean", [2, 3, 8, 8], [np.array([2, 3], I64)]),
    "reduce sum no keepdims": _model("ReduceSum", [2, 3, 8], [np.array([-1], I64)], {"keepdims": 0}),
    "reduce all": _model("ReduceMax", [2, 3, 4], attrs={"keepdims": 0}),
    "reduce noop": _model("ReduceL2", [2, 3, 4], [np.array([], I64)], {"noop_with_empty_axes": 1}),
    "reduce opset 13 attribute": _model("ReduceMean", [2, 3, 5, 5], attrs={"axes": [-1, -2]}, opset=13),
    "resize scales": _model("Resize", [1, 3, 7, 9], [None, np.array([1, 1, 1.5, 0.35], F32)]),
    "resize scales awkward": _model("Resize", [1, 1, 10, 3], [None, np.array([1, 1, 0.3, 2.999], F32)]),
    "resize sizes": _model("Resize", [1, 3, 7, 9], [None, None, np.array([1, 3, 15, 4], I64)]),
    "pad": _model("Pad", [1, 3, 5, 5], [np.array([0, 0, 1, 2, 0, 0, 3, 0], I64)]),
    "pad axes": _model("Pad", [1, 3, 5, 5], [np.array([1, 2, 0, 4], I64), None, np.array([-1, 2], I64)]),
    "pad opset 2 attribute": _model("Pad", [2, 4], attrs={"pads": [1, 0, 2, 3]}, opset=2),
    "expand": _model("Expand", [3, 1], [np.array([2, 1, 6], I64)]),
    "cumsum": _model("CumSum", [4, 5], [np.array(1, I64)]),
}


@pytest.mark.parametrize("name", CASES)
def test_handler_dims_are_what_onnxruntime_produces(name, monkeypatch):
    model = CASES[name]
    import onnxlint.shapes

    def not_onnx(node, *args):
        raise AssertionError(f"{node.op_type} went to onnx's inference")
    monkeypatch.setattr(onnxlint.shapes, "_onnx_inference", not_onnx)  # the own handler says it all
    report, ctx = analyse(load(model), Settings())
    x = model.graph.input[0].type.tensor_type.shape
    feed = {"x": np.random.default_rng(0).random([d.dim_value for d in x.dim]).astype(np.float32)}
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    produced = [tuple(o.shape) for o in session.run(None, feed)]
    assert [ctx.shapes.dims[o.name] for o in model.graph.output] == produced, name
    assert report.totals.complete and not report.diagnostics, name


def test_where_takes_the_values_dtype_and_broadcasts():
    cond = helper.make_tensor_value_info("c", TensorProto.BOOL, [4, 1])
    nodes = [helper.make_node("Where", ["c", "x", "y"], ["z"])]
    graph = helper.make_graph(nodes, "w", [cond, helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 5]),
                                           helper.make_tensor_value_info("y", TensorProto.FLOAT, [4, 5])],
                              [helper.make_tensor_value_info("z", TensorProto.FLOAT, None)])
    report = onnxlint.lint(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)]))
    assert report.layers[0].output_shape == (4, 5)
    assert report.layers[0].output_bytes == 4 * 5 * 4  # float32, not bool


def test_split_that_cannot_cut_its_axis_is_a_contradiction():
    report = onnxlint.lint(_model("Split", [2, 7], [np.array([3, 3], I64)], {"axis": 1}, outputs=2))
    assert [d.code for d in report.diagnostics if d.code == "OL004"] == ["OL004"]
    assert "do not cut axis 1 of 7" in next(d.message for d in report.diagnostics if d.code == "OL004")


def test_range_counts_its_elements_from_known_operands():
    # Range(10, -2, -3) = [10, 7, 4, 1]: ⌈(−2 − 10) / −3⌉ = 4 elements, added to an input of 4
    inits = [numpy_helper.from_array(np.array(v, I64), n) for n, v in (("s", 10), ("l", -2), ("d", -3))]
    nodes = [helper.make_node("Range", ["s", "l", "d"], ["r"]), helper.make_node("Cast", ["r"], ["f"], to=1),
             helper.make_node("Add", ["x", "f"], ["y"])]
    graph = helper.make_graph(nodes, "r", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [4])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
    _, ctx = analyse(load(model), Settings())
    assert ctx.shapes.dims["r"] == (4,) and ctx.shapes.ints("r") == [10, 7, 4, 1]
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    assert session.run(None, {"x": np.zeros(4, np.float32)})[0].tolist() == [10, 7, 4, 1]
