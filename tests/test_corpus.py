"""The 30 real torchvision/timm exports of fixtures/corpus: params and MACs against the reference figures
(fixtures/corpus/README.md says how each was obtained), every layer counted, and shapes proved by
onnxruntime on a sample with random weights."""
import pytest
from conftest import corpus_references, run_cli, with_random_weights

import onnxlint

REFERENCES = corpus_references()


def _input_shapes(ref: dict) -> dict | None:
    """--input-shape only where the reference says the spatial dims were exported symbolic."""
    spatial = set(ref["dynamic_input_axes"]) - {"0"}
    return {"": ref["input_shape"]} if spatial else None


@pytest.mark.parametrize("name", sorted(REFERENCES))
def test_params_and_macs_match_the_reference(name, corpus_dir):
    ref = REFERENCES[name]
    report = onnxlint.lint(corpus_dir / ref["file"], input_shapes=_input_shapes(ref))
    totals = report.totals
    assert totals.complete, totals.unknown_layers
    # params_onnx: weights, biases and norm scale/shift stored in the graph (BatchNorm folded by the export)
    assert totals.params == pytest.approx(ref["params_onnx"], rel=0.01)
    # never fewer than the stored weights, never more than torch's own count (which also holds what the export
    # folded, and the tensors that enter through a Mul/Add/Concat: layer scales, position embeddings)
    assert ref["params_onnx"] <= totals.params <= ref["params_torch"]
    assert totals.macs == pytest.approx(ref["macs"], rel=0.01)
    named = {name: n * (1 + copies) for name, n, copies in totals.unplaced}  # not counted, but said
    assert (named != {}) == any(f"{sum(named.values()):,} values" in note for note in report.notes)
    assert not [d for d in report.diagnostics if d.code in ("OL004", "OL501")]


def test_symbolic_spatial_dims_are_unknown_not_zero(corpus_dir):
    # tv_fcn_resnet50 leaves height and width symbolic: without --input-shape nothing can be counted
    result = run_cli(corpus_dir / "tv_fcn_resnet50.onnx")
    summary = next(line for line in result.stdout.splitlines() if " nodes, " in line)
    assert "unknown MACs (" in summary and "peak activations unknown (" in summary
    assert " 0 MACs" not in summary and " 0 B" not in summary
    report = onnxlint.lint(corpus_dir / "tv_fcn_resnet50.onnx")
    assert not report.totals.complete and report.totals.macs == 0
    assert {op for _, op, _ in report.totals.unknown_layers} == {"Conv"}
    assert "OL001" in {d.code for d in report.diagnostics}
    assert not {"OL205", "OL301"} & {d.code for d in report.diagnostics}  # no claim on facts it does not have


@pytest.mark.slow
@pytest.mark.parametrize("name", ["tv_shufflenet_v2_x1_0", "timm_tf_efficientnet_b0", "tv_swin_t",
                                  "timm_edgenext_small", "tv_mobilenet_v3_small", "timm_ghostnet_100"])
def test_verify_proves_the_shapes_with_random_weights(name, corpus_dir, tmp_path):
    ref = REFERENCES[name]
    model = with_random_weights(corpus_dir / ref["file"], tmp_path / ref["file"])
    report = onnxlint.lint(model, verify=True)
    v = report.verification
    assert v is not None, [d.message for d in report.diagnostics if d.code == "OL502"]
    assert v["mismatches"] == [] and v["tensors_checked"] > 100
    assert v["tensors_unknown_filled"] == 0  # the static analysis knew every shape execution produced
    assert report.totals.macs == pytest.approx(ref["macs"], rel=0.01)


def test_every_corpus_model_lints_without_numpy_or_the_onnx_package(corpus_dir):
    """Shape arithmetic (Shape → Gather → Concat → Reshape, pads, positional encodings) is computed in plain
    Python: on real exports the plain lint path never pays for numpy or onnx (onnxlint.proto, values.numbers)."""
    import json
    import subprocess
    import sys

    code = ("import json, sys, onnxlint; refs = json.loads(sys.argv[2]); macs = {}\n"
            "for name, (path, shapes) in refs.items():\n"
            "    macs[name] = onnxlint.lint(path, input_shapes=shapes).totals.macs\n"
            "print(json.dumps([macs, sorted(m for m in ('onnx', 'numpy') if m in sys.modules)]))")
    models = {name: (str(corpus_dir / ref["file"]), _input_shapes(ref)) for name, ref in REFERENCES.items()}
    out = subprocess.run([sys.executable, "-c", code, "", json.dumps(models)], capture_output=True, text=True)
    macs, imported = json.loads(out.stdout)
    assert imported == [], out.stderr
    assert macs == {name: onnxlint.lint(path, input_shapes=shapes).totals.macs for name, (path, shapes) in
                    models.items()}


def test_no_fc_as_conv_on_attention_but_on_every_cnn_head(corpus_dir):
    """OL203 speaks of a C×H×W map a conv or pool made: ViT-B/16's and Swin-T's attention projections read heads ×
    tokens × features and stay silent; the CNN heads still fire."""
    import onnxlint

    fired = {name: [d.node for d in onnxlint.lint(corpus_dir / f"{name}.onnx", select=["OL203"]).diagnostics]
             for name in ("tv_vit_b_16", "tv_swin_t", "tv_vgg16", "tv_alexnet")}
    assert fired["tv_vit_b_16"] == [] and fired["tv_swin_t"] == []
    assert fired["tv_vgg16"] and fired["tv_alexnet"]


def test_layer_scales_are_parameters_with_their_copies(corpus_dir):
    """ConvNeXt's and EdgeNeXt's layer scales multiply a Linear's output (permuted back to channels first): a
    layer's affine, so parameters. The exporter merged ConvNeXt's equal ones (all 1e-6 at init) into one
    initializer read through Identity copies: each copy is a parameter of torch's. Both count exactly torch's."""
    for name in ("tv_convnext_tiny", "timm_edgenext_small"):
        ref = REFERENCES[name]
        totals = onnxlint.lint(corpus_dir / ref["file"]).totals
        assert totals.unplaced == [] and totals.params == ref["params_torch"], name
    vit = onnxlint.lint(corpus_dir / REFERENCES["tv_vit_b_16"]["file"]).totals  # a table, not an affine: named
    assert ("encoder.pos_embedding", 197 * 768, 0) in vit.unplaced
