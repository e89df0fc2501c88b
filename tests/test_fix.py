"""`onnxlint fix`: exact rewrites; original and fixed outputs compared by onnxruntime in the test."""
import shutil

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from conftest import fixture, run_cli

from onnxlint.fix import fix

pytestmark = pytest.mark.slow  # runs onnxruntime or subprocesses: `-m 'not slow'` skips it


def _run(model: onnx.ModelProto, feeds: dict) -> list:
    options = ort.SessionOptions()
    options.log_severity_level = 3
    return ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"]).run(None, feeds)


def _feeds(model: onnx.ModelProto, **dims) -> dict:
    rng = np.random.default_rng(1)
    return {i.name: rng.standard_normal(dims.get(i.name) or [d.dim_value for d in i.type.tensor_type.shape.dim])
            .astype(np.float32) for i in model.graph.input if i.name not in {t.name for t in model.graph.initializer}}


def test_batchnorm_fold_and_noop_removal_keep_the_outputs():
    original = onnx.load(fixture("deploy_leftovers"))
    result = fix(fixture("deploy_leftovers"), select=("OL401", "OL402"))
    ops = [n.op_type for n in result.model.graph.node]
    assert "BatchNormalization" not in ops and "Dropout" not in ops and "Identity" not in ops
    feeds = _feeds(original)
    np.testing.assert_allclose(_run(result.model, feeds)[0], _run(original, feeds)[0], rtol=1e-5, atol=1e-5)
    assert result.max_abs_error < result.tolerance
    assert {d.code for d in result.after.diagnostics} & {"OL401", "OL402"} == set()


@pytest.mark.parametrize("name", ["vgg_head", "alexnet_head"])
def test_fc_heads_become_fully_convolutional(name):
    original = onnx.load(fixture(name))
    result = fix(fixture(name), select=("OL203",))
    ops = [n.op_type for n in result.model.graph.node]
    assert "Gemm" not in ops and ops.count("Conv") == 3 and ops.count("Flatten") == 1
    assert not {"Reshape"} & set(ops[: ops.index("Softmax") - 1])
    feeds = _feeds(original)
    np.testing.assert_allclose(_run(result.model, feeds)[0], _run(original, feeds)[0], rtol=1e-5, atol=1e-6)
    # as delivered: the input's height and width are free, and a larger input yields a spatial map of scores
    dims = result.model.graph.input[0].type.tensor_type.shape.dim
    assert (dims[2].dim_param, dims[3].dim_param) == ("height", "width")
    maps = [o.name for o in result.model.graph.output if o.name.endswith("_spatial")]
    assert len(maps) == 1 and result.score_maps[maps[0]][1] == (1, 10, 5, 5)  # checked by fix at twice the size
    scores = _run(result.model, _feeds(result.model, input=[1, 8, 16, 16]))
    assert scores[-1].shape == (1, 10, 5, 5)  # (16/2 − 4) + 1 = 5 positions per axis


def test_cli_writes_only_after_verification(tmp_path):
    out = tmp_path / "fixed.onnx"
    result = run_cli("fix", fixture("alexnet_head"), "-o", out, "--select", "OL203,OL401,OL402")
    assert result.returncode == 0, result.stderr
    assert "verified by onnxruntime: max abs error" in result.stdout
    assert "findings gone: OL203 ×1, OL402 ×1" in result.stdout
    assert ("fully convolutional: at input 1×8×16×16 the new output 'fc2_spatial' is the score map 1×10×5×5"
            in result.stdout)
    onnx.checker.check_model(onnx.load(out))
    diff = run_cli("fix", fixture("deploy_leftovers"), "--diff", "--select", "OL203,OL401,OL402")
    assert diff.returncode == 0 and "nothing written" in diff.stdout
    same = run_cli("fix", fixture("demo"), "-o", fixture("demo"))
    assert same.returncode == 2 and "use --in-place" in same.stderr
    copy = tmp_path / "copy.onnx"
    shutil.copy(fixture("deploy_leftovers"), copy)
    assert run_cli("fix", copy, "--in-place").returncode == 0
    assert "BatchNormalization" not in {n.op_type for n in onnx.load(copy).graph.node}


def test_external_data_is_preserved(tmp_path):
    model = onnx.load(fixture("deploy_leftovers"))
    src = tmp_path / "src" / "model.onnx"
    src.parent.mkdir()
    onnx.save(model, src, save_as_external_data=True, location="weights.bin", size_threshold=0)
    out = tmp_path / "out" / "fixed.onnx"
    out.parent.mkdir()
    result = run_cli("fix", src, "-o", out, "--select", "OL203,OL401,OL402")
    assert result.returncode == 0, result.stderr
    assert (out.parent / "fixed.onnx.data").is_file()
    fixed, reference = onnx.load(out), onnx.load(fixture("deploy_leftovers"))  # onnx.save moved `model`'s data
    feeds = _feeds(reference)
    np.testing.assert_allclose(_run(fixed, feeds)[0], _run(reference, feeds)[0], rtol=1e-5, atol=1e-5)


def _conv_dropout(attrs=(), shaped_output=True) -> onnx.ModelProto:
    from onnx import TensorProto, helper, numpy_helper

    node = helper.make_node("Conv", ["x", "w"], ["c"], name="conv")
    node.attribute.extend(attrs)
    out = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4, 8, 8])
    if not shaped_output:  # an elem_type and no shape
        out = onnx.ValueInfoProto(name="y")
        out.type.tensor_type.elem_type = TensorProto.FLOAT
    graph = helper.make_graph([node, helper.make_node("Dropout", ["c"], ["y"], name="drop")], "g",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4, 8, 8])], [out],
                              [numpy_helper.from_array(np.ones((4, 4, 1, 1), np.float32), "w")])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def test_fix_refuses_what_it_cannot_verify_in_one_line(tmp_path, corpus_dir):
    from onnx import AttributeProto, helper

    undefined = AttributeProto(name="strides")  # type UNDEFINED
    undefined.ints.extend([1, 1])
    cases = {
        "undefined attribute type": (_conv_dropout([undefined]), "Field 'type' of 'attr' is required"),
        "strides as a string, pads as floats": (
            _conv_dropout([helper.make_attribute("strides", "1,1"), helper.make_attribute("pads", [0.0] * 4)]),
            "refused: lint reports error OL006 at conv"),
        "an output without a shape": (_conv_dropout(shaped_output=False),
                                      "the model fails, before any rewrite, onnx.checker (Field 'shape'"),
    }
    for label, (model, problem) in cases.items():
        path = tmp_path / f"{label.replace(' ', '_').replace(',', '')}.onnx"
        onnx.save(model, path)
        cases[label] = (path, problem)
    cases["shape-only weights"] = (corpus_dir / "tv_vgg16.onnx", "the weights carry no data (17 initializers")
    cases["shape-only weights, AlexNet"] = (corpus_dir / "tv_alexnet.onnx", "the weights carry no data")
    for label, (path, problem) in cases.items():
        result = run_cli("fix", path, "--diff", "--select", "OL203,OL401,OL402")
        assert result.returncode == 2, (label, result.stdout, result.stderr)
        [line] = result.stderr.splitlines()
        assert problem in line and "internal error" not in line, (label, line)


def test_in_place_keeps_the_mode_and_refuses_a_symlink(tmp_path):
    import os

    copy = tmp_path / "model.onnx"
    shutil.copy(fixture("deploy_leftovers"), copy)
    os.chmod(copy, 0o640)
    assert run_cli("fix", copy, "--in-place").returncode == 0
    assert os.stat(copy).st_mode & 0o777 == 0o640  # the replaced file keeps its permission bits
    link = tmp_path / "link.onnx"
    link.symlink_to(copy)
    before = copy.read_bytes()
    result = run_cli("fix", link, "--in-place")
    assert result.returncode == 2 and "is a symlink; --in-place would replace the link" in result.stderr
    assert link.is_symlink() and copy.read_bytes() == before
