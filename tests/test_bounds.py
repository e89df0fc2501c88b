"""Sizes the data decides are bounded, not unknown: NonZero, NonMaxSuppression, TopK with a computed k, a Loop
that extends a tensor each iteration; carried through shape arithmetic only where a larger size cannot give a
smaller result; checked by onnxruntime on the torchvision detection models."""
from __future__ import annotations

import json
import math

import onnx
import pytest
from conftest import FIXTURES, run_cli, with_random_weights

import onnxlint
from onnxlint import units

DETECTION = FIXTURES / "detection"


def lint_text(text: str, **options) -> onnxlint.Report:
    return onnxlint.lint(onnx.parser.parse_model(text), **options)


HEAD = '<ir_version: 8, opset_import: ["" : 17]>'
# the positions of a 1×3×8×8 input above zero: NonZero returns [4, ≤ 192] indices
MASKED = """
    zero = Constant <value = float[1] {0.0}> ()
    m = Greater (x, zero)
    idx = NonZero (m)
    t = Transpose <perm = [1, 0]> (idx)
    f = Cast <to = 1> (t)
    s = Shape (t)
    n = Gather <axis = 0> (s, i0)
"""


def test_nonzero_bounds_the_layer_after_it_at_numel_rows():
    report = lint_text(f"""{HEAD}
        g (float[1,3,8,8] x) => (float[?,16] y) <float[4,16] w = {{{", ".join(["0.5"] * 64)}}}, int64 i0 = {{0}}> {{
            {MASKED}
            y = MatMul (f, w)
        }}""")
    t = report.totals
    assert t.macs == 0 and not t.macs_complete  # nothing exact to count: the rows are the data's
    assert t.macs_upper == 192 * 4 * 16 and t.complete
    [(node, op, most, by)] = t.bounds.layers
    assert (op, most, by) == ("MatMul", 192 * 4 * 16, "NonZero")
    layer = next(x for x in report.to_dict()["models"][0]["layers"] if x["op_type"] == "MatMul")
    assert layer["output_shape"] == [None, 16]
    assert layer["outputs"][0]["bound"] == [192, 16] and layer["outputs"][0]["bytes_upper"] == 192 * 16 * 4
    # the peak at the bound: x, then m, idx, t, f, y as they live (f and y are live together at the end)
    assert t.peak_upper is not None and t.peak_upper >= 192 * 16 * 4 + 192 * 4 * 4
    assert units.macs_total(t) == "≤ 12.3 K MACs (0 exact, 1 layer at their bound: NonZero)"


def test_a_size_subtracted_from_is_unknown_not_wrongly_bounded():
    """200 − n grows as n shrinks: the bound of n says nothing of it, so what it sizes stays unknown."""
    report = lint_text(f"""{HEAD}
        g (float[1,3,8,8] x) => (float[?] z) <int64 i0 = {{0}}, int64 c = {{200}}> {{
            {MASKED}
            k = Sub (c, n)
            k1 = Unsqueeze (k, i0)
            v = Cast <to = 1> (n)
            z = Expand (v, k1)
        }}""")
    t = report.totals
    assert not t.complete and t.peak_upper is None and t.unbounded_tensors >= 1
    assert "z" not in t.bounds.dims
    assert "tensor of unknown size" in units.peak_total(t) or "tensors of unknown size" in units.peak_total(t)


def test_a_comparison_the_same_for_every_size_up_to_the_bound_is_exact():
    """torch's `size == -1 ? 1 : size` (Expand's target): false for every size from 0 to the bound."""
    report = lint_text(f"""{HEAD}
        g (float[1,3,8,8] x) => (float[?] z) <int64 i0 = {{0}}, int64 minus = {{-1}}, int64 one = {{1}}> {{
            {MASKED}
            e = Equal (n, minus)
            w = Where (e, one, n)
            w1 = Unsqueeze (w, i0)
            z = ConstantOfShape <value = float[1] {{1.0}}> (w1)
        }}""")
    assert report.totals.complete and report.totals.bounds.dims["z"] == (192,)


def test_nms_returns_at_most_batches_classes_and_the_boxes_it_may_keep():
    report = lint_text(f"""{HEAD}
        g (float[2,50,4] boxes, float[2,3,50] scores) => (int64[?,3] picked) <int64 most = {{10}}> {{
            picked = NonMaxSuppression (boxes, scores, most)
        }}""")
    assert report.totals.bounds.dims["picked"] == (2 * 3 * 10, 3)
    fewer = lint_text(f"""{HEAD}
        g (float[1,5,4] boxes, float[1,3,5] scores) => (int64[?,3] picked) <int64 most = {{10}}> {{
            picked = NonMaxSuppression (boxes, scores, most)
        }}""")
    assert fewer.totals.bounds.dims["picked"] == (1 * 3 * 5, 3)  # never more boxes than there are


def test_topk_with_a_k_from_the_data_is_bounded_by_its_axis():
    report = lint_text(f"""{HEAD}
        g (float[1,100] x, int64[1] k) => (float[1,?] v, int64[1,?] i) {{
            v, i = TopK (x, k)
        }}""")
    assert report.totals.bounds.dims == {"v": (1, 100), "i": (1, 100)}


# --- the torchvision detection models (fixtures/build_detection.py) -----------------------------------------

@pytest.mark.parametrize("name", ["retinanet_resnet50_fpn", "ssdlite320_mobilenet_v3_large",
                                  "fasterrcnn_mobilenet_v3_large_320_fpn", "keypointrcnn_resnet50_fpn"])
def test_every_size_of_the_detection_models_is_exact_or_bounded(name):
    t = onnxlint.lint(DETECTION / f"{name}.onnx").totals
    assert t.complete and not t.unbounded_layers and t.unbounded_tensors == 0
    assert t.bounds.tensors > 100  # before the bound pass: 193 to 834 tensors of unknown size
    assert t.macs_upper >= t.macs and t.peak_upper >= t.peak_activation_bytes


def test_faster_rcnn_box_head_is_bounded_by_its_150_proposals():
    """torchvision's fasterrcnn_mobilenet_v3_large_320_fpn keeps 150 RPN proposals at test time
    (rpn_post_nms_top_n_test): the box head's four fully-connected layers run on at most 150 RoIs."""
    t = onnxlint.lint(DETECTION / "fasterrcnn_mobilenet_v3_large_320_fpn.onnx").totals
    heads = {node.rsplit("/", 2)[-2]: most for node, op, most, _ in t.bounds.layers}
    assert heads == {"fc6": 150 * 256 * 7 * 7 * 1024, "fc7": 150 * 1024 * 1024,
                     "cls_score": 150 * 1024 * 91, "bbox_pred": 150 * 1024 * 91 * 4}
    assert t.macs_upper == t.macs + sum(heads.values())


def test_keypoint_rcnn_loop_stacks_at_most_its_100_detections():
    report = onnxlint.lint(DETECTION / "keypointrcnn_resnet50_fpn.onnx")
    loop = next(x for x in report.to_dict()["models"][0]["layers"] if x["op_type"] == "Loop")
    assert [o["bound"] for o in loop["outputs"]] == [[100, 3, 17], [100, 17]]  # box_detections_per_img = 100
    assert "runs inside a loop" not in json.dumps(report.to_dict()["models"][0]["totals"]["unknown_layers"])


@pytest.mark.slow  # runs onnxruntime or the command line in subprocesses
def test_verify_finds_every_executed_size_within_its_bound(tmp_path):
    model = with_random_weights(DETECTION / "fasterrcnn_mobilenet_v3_large_320_fpn.onnx", tmp_path / "frcnn.onnx")
    report = onnxlint.lint(model, verify=True)
    v = report.verification
    assert v is not None, [d.message for d in report.diagnostics if d.code == "OL502"]
    assert v["mismatches"] == [] and v["tensors_within_bound"] == report.totals.bounds.tensors
    assert v["tensors_unknown_filled"] == 0
    assert report.totals.macs_upper == onnxlint.lint(model).totals.macs_upper  # the worst case stays in the report


@pytest.mark.slow  # runs onnxruntime or the command line in subprocesses
def test_the_text_and_json_say_bounded():
    path = DETECTION / "fasterrcnn_mobilenet_v3_large_320_fpn.onnx"
    out = run_cli(str(path)).stdout
    assert "≤ 2.9 G MACs (719.0 M exact, 4 layers at their bound: NonZero ×4)" in out
    assert "peak activations ≤ 35.9 MiB" in out and "193 tensors at their bound" in out
    totals = json.loads(run_cli(str(path), "--format", "json").stdout)["models"][0]["totals"]
    assert totals["complete"] and not totals["macs_complete"]
    assert totals["macs_upper"] == 2_872_931_200 and totals["bounded_tensors"] == 193
    assert [b["op_type"] for b in totals["bounded_layers"]] == ["Gemm"] * 4
    assert math.isclose(totals["peak_upper"] / 2**20, 35.9, abs_tol=0.05)


def test_a_number_we_print_is_right_or_a_question_mark():
    """Faster R-CNN's backbone reads a 3-D image batched inside the graph: its convs' receptive field cannot be
    mapped onto the input (it printed 1 after a 3×3 conv); it is '?'. The per-layer table draws the data path, its
    bounded rows and total as the header says them."""
    from onnxlint import units
    from onnxlint.reporters.text import layer_table

    report = onnxlint.lint(FIXTURES / "detection" / "fasterrcnn_mobilenet_v3_large_320_fpn.onnx")
    convs = [layer for layer in report.layers if layer.op_type == "Conv" and layer.name.startswith("/backbone")]
    assert convs and {units.receptive_field(layer, report.inputs) for layer in convs} == {"?"}
    rows = layer_table(report)
    assert not any(" Constant " in row for row in rows)  # constants and shape arithmetic: --show-all
    assert len(layer_table(report, show_all=True)) > len(rows)
    fc6 = next(row for row in rows if row.startswith("roi_heads.box_head.fc6 "))
    assert "≤ 150×1024" in fc6 and "≤ 1.9 G" in fc6 and "≤ 600.0 KiB" in fc6
    assert "≤ 2.9 G" in rows[-1] and "peak ≤ 35.9 MiB" in rows[-1]  # as the header: ≤ 2.9 G MACs, ≤ 35.9 MiB


def test_a_symbolic_image_resized_to_a_fixed_size_lints():
    """[1,3,H,W] → Resize(sizes=[1,3,224,224]) → Conv, a common preprocessing-in-graph export: valid, and it
    crashed every command (the receptive field assumed a known scale). Its conv counts exactly; its receptive field
    in input pixels is unknown, and said so."""
    from onnx import helper, parser

    model = parser.parse_model("""
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[1,3,H,W] x) => (float[1,8,222,222] y) {
      roi = Constant <value = float[0] {}> ()
      scales = Constant <value = float[0] {}> ()
      sizes = Constant <value = int64[4] {1, 3, 224, 224}> ()
      r = Resize <mode = "linear"> (x, roi, scales, sizes)
      y = Conv (r, w)
    }""")
    model.graph.initializer.append(helper.make_tensor("w", onnx.TensorProto.FLOAT, [8, 3, 3, 3], [0.1] * 216))
    report = onnxlint.lint(model)
    conv = next(layer for layer in report.layers if layer.op_type == "Conv")
    assert conv.macs == 222 * 222 * 27 * 8 and conv.receptive_field is None
