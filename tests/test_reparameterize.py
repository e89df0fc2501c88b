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
