"""OL706 on timm's RepVGG-A0 in its training-time form (fixtures/build_repvgg.py, both torch exporters): every
block's 3×3, 1×1 and identity branches fold into one 3×3 conv, exactly, verified on the delivered file."""
import collections
import json

import numpy as np
import onnx
import pytest
from conftest import FIXTURES, with_real_weights

import onnxlint
from onnxlint.fix import fix

REPVGG = FIXTURES / "repvgg"


@pytest.mark.parametrize("exporter", ["torchscript", "dynamo"])
def test_every_repvgg_block_is_one_finding(exporter):
    report = onnxlint.lint(REPVGG / f"repvgg_a0_{exporter}.onnx")
    found = [d for d in report.diagnostics if d.code == "OL706"]
    assert len(found) == 22  # the stem and 21 stage blocks: one finding each, at the block's last Add
    with_identity = [d for d in found if "+ identity of" in d.message]
    assert len(with_identity) == 17  # the blocks whose stride is 1 and channels match keep an identity BatchNorm
    assert all("fold exactly into one 3×3 conv" in d.message for d in found)
    (group,) = [g for g in report.groups if g.code == "OL706"]
    assert group.message.startswith("22 blocks of parallel conv branches (RepVGG-style) fold exactly into one conv")
    # the exporters fold the branch convs' BatchNorms into them: the file stores fewer learned numbers than torch
    # counts, and onnxlint counts what it stores (every float initializer but the running statistics)
    model = onnx.load(REPVGG / f"repvgg_a0_{exporter}.onnx")
    statistics = {i for n in model.graph.node if n.op_type == "BatchNormalization" for i in n.input[3:5]}
    stored = sum(int(np.prod(t.dims)) for t in model.graph.initializer
                 if t.data_type == onnx.TensorProto.FLOAT and t.name not in statistics)
    assert report.totals.params == stored < json.loads((REPVGG / "params.json").read_text())["repvgg_a0"]


@pytest.mark.slow
@pytest.mark.parametrize("exporter", ["torchscript", "dynamo"])
def test_folding_repvgg_is_exact_on_the_delivered_file(exporter, tmp_path):
    """44 Conv + 39 Add + 17 BatchNormalization → 22 Conv; onnxruntime gives the same logits from the written file."""
    import onnxruntime as ort

    model = with_real_weights(REPVGG / f"repvgg_a0_{exporter}.onnx", tmp_path / "repvgg.onnx")
    result = fix(model, output=tmp_path / "folded.onnx", select=["OL706"])
    assert len(result.changes) == 22
    ops = collections.Counter(n.op_type for n in onnx.load(tmp_path / "folded.onnx").graph.node)
    assert ops["Conv"] == 22 and ops["Add"] == 0 and ops["BatchNormalization"] == 0
    x = np.random.default_rng(0).standard_normal((1, 3, 224, 224)).astype(np.float32)
    before, after = (ort.InferenceSession(str(p), providers=["CPUExecutionProvider"]).run(None, {"x": x})[0]
                     for p in (model, tmp_path / "folded.onnx"))
    np.testing.assert_allclose(after, before, rtol=1e-4, atol=1e-4 * float(np.abs(before).max()))
    folded = onnxlint.lint(tmp_path / "folded.onnx")
    assert not [d for d in folded.diagnostics if d.code == "OL706"]
    assert folded.totals.macs < onnxlint.lint(model).totals.macs


def _wide_repvgg(folder, external: bool, width: int = 1024, blocks: int = 2):
    """`blocks` RepVGG blocks of `width` channels with random weights (40 MiB each at 1024: a 3×3 and a 1×1 conv,
    an identity BatchNorm), embedded (over 64 MiB: the loader leaves the payloads in the file) or external."""
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(0)
    nodes, inits, x = [], [], "x"
    for b in range(blocks):
        arrays = {f"w3_{b}": rng.standard_normal((width, width, 3, 3), dtype=np.float32) * 0.01,
                  f"w1_{b}": rng.standard_normal((width, width, 1, 1), dtype=np.float32) * 0.01,
                  f"b3_{b}": rng.standard_normal(width, dtype=np.float32) * 0.1,
                  f"b1_{b}": rng.standard_normal(width, dtype=np.float32) * 0.1,
                  f"g_{b}": rng.uniform(0.5, 1.5, width).astype(np.float32),
                  f"be_{b}": rng.standard_normal(width, dtype=np.float32) * 0.1,
                  f"m_{b}": rng.standard_normal(width, dtype=np.float32) * 0.1,
                  f"v_{b}": rng.uniform(0.5, 1.5, width).astype(np.float32)}
        inits += [numpy_helper.from_array(a, n) for n, a in arrays.items()]
        nodes += [helper.make_node("Conv", [x, f"w3_{b}", f"b3_{b}"], [f"k{b}"], name=f"k{b}", pads=[1, 1, 1, 1]),
                  helper.make_node("Conv", [x, f"w1_{b}", f"b1_{b}"], [f"p{b}"], name=f"p{b}"),
                  helper.make_node("BatchNormalization", [x, f"g_{b}", f"be_{b}", f"m_{b}", f"v_{b}"], [f"i{b}"],
                                   name=f"i{b}"),
                  helper.make_node("Add", [f"k{b}", f"p{b}"], [f"s{b}"], name=f"s{b}"),
                  helper.make_node("Add", [f"s{b}", f"i{b}"], [f"a{b}"], name=f"a{b}"),
                  helper.make_node("Relu", [f"a{b}"], [f"r{b}"], name=f"r{b}")]
        x = f"r{b}"
    graph = helper.make_graph(nodes, "wide", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, width, 8, 8])],
                              [helper.make_tensor_value_info(x, TensorProto.FLOAT, [1, width, 8, 8])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    path = folder / "wide.onnx"
    onnx.save(model, path, save_as_external_data=external, location="wide.bin", size_threshold=1024)
    return path


@pytest.mark.slow
@pytest.mark.parametrize("external", [False, True])
def test_folding_a_real_size_model_runs_from_the_files_written(tmp_path, external):
    """Over 64 MiB of real (random) weights, embedded and in an external-data file: the folded model and its own
    data file, opened by a fresh onnxruntime session, give the original's outputs."""
    import onnxruntime as ort

    source = tmp_path / "in"
    source.mkdir()
    model = _wide_repvgg(source, external)
    size = sum(p.stat().st_size for p in source.iterdir())
    assert size > 64 * 2**20
    out = tmp_path / "out"
    out.mkdir()
    result = fix(model, output=out / "folded.onnx", select=["OL706"])
    assert len(result.changes) == 2 and result.written[0] == out / "folded.onnx"
    assert all(p.parent == out for p in result.written)
    ops = collections.Counter(n.op_type for n in onnx.load(out / "folded.onnx", load_external_data=False).graph.node)
    assert ops == {"Conv": 2, "Relu": 2}
    x = np.random.default_rng(1).standard_normal((1, 1024, 8, 8)).astype(np.float32)
    before, after = (ort.InferenceSession(str(p), providers=["CPUExecutionProvider"]).run(None, {"x": x})[0]
                     for p in (model, out / "folded.onnx"))
    np.testing.assert_allclose(after, before, rtol=1e-4, atol=1e-4 * float(np.abs(before).max()))
