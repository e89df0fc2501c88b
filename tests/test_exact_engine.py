"""The exact shape engine on what real exports contain: shape arithmetic computed in the graph, quantized
and fp16 deployments, functions and control flow, contradictions, and unknowns said out loud."""
import onnx
import pytest
from conftest import FIXTURES, codes, fixture, light, lint_fixture, run_cli

import onnxlint
from onnxlint import units
from onnxlint.reporters.text import render
from onnxlint.verify import Limits

DEPLOYED = FIXTURES / "deployed"
TORCH = FIXTURES / "torch"


def lint_text(text: str, **options) -> onnxlint.Report:
    return onnxlint.lint(onnx.parser.parse_model(text), **options)


# --- real exports open and count ---------------------------------------------------------------------------------

def test_dynamo_export_whose_head_is_printable_metadata_opens():
    head = (TORCH / "deep_dynamo.onnx").read_bytes()[:4096]
    assert b"\0" not in head and b"pkg.torch.onnx" in head  # what made a text sniffer refuse the file
    report = onnxlint.lint(TORCH / "deep_dynamo.onnx")
    reference = onnxlint.lint(TORCH / "smallnet_torchscript.onnx")
    # 7×7/2 stem 3→32 on 64 (32×32), 3/2 pool (15×15), four 3×3 32→32, the 32→10 classifier
    assert report.totals.complete and report.totals.macs == reference.totals.macs == (
        32 * 32 * 49 * 3 * 32 + 4 * 15 * 15 * 9 * 32 * 32 + 32 * 10)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["smallnet_dynamo", "smallnet_torchscript", "smallnet_functions", "shuffle_dynamo",
                                  "shuffle_torchscript"])
def test_torch_exports_verify_with_no_mismatch(name):
    report = onnxlint.lint(TORCH / f"{name}.onnx", input_shapes={"image": (1, 3, 63, 63)}, verify=True)
    assert report.totals.complete
    assert report.verification["mismatches"] == [] and report.verification["tensors_unknown_filled"] == 0


@pytest.mark.slow
@pytest.mark.parametrize("size", [63, 64, 90])
def test_channel_shuffle_and_padding_computed_in_the_graph(size):
    # Shape → Gather → Div → Concat → Reshape (the shuffle) and a Pad whose amounts are computed from the
    # size: exact at every size, as execution proves (nothing left for --verify to fill in)
    for name in ("shuffle_torchscript", "shuffle_dynamo"):
        report = onnxlint.lint(TORCH / f"{name}.onnx", input_shapes={"image": (1, 3, size, size)}, verify=True)
        assert report.totals.complete, name
        assert report.verification["mismatches"] == [] and report.verification["tensors_unknown_filled"] == 0
    at_63 = onnxlint.lint(TORCH / "shuffle_dynamo.onnx", input_shapes={"image": (1, 3, 63, 63)}).totals
    assert at_63.macs == 31 * 31 * 27 * 16 + 30 * 30 * 9 * 16 * 8  # conv 31×31, padded to 32, conv 30×30


def test_every_light_model_is_complete():
    for path in sorted(light("resnet50").parent.glob("light_*.onnx")):
        totals = onnxlint.lint(path).totals
        assert totals.complete, (path.name, totals.unknown_layers)


# --- deployed models ---------------------------------------------------------------------------------------------

def test_quantized_and_fp16_count_like_the_float_model():
    float_ = onnxlint.lint(DEPLOYED / "bottleneck_float.onnx").totals
    weights = 128 * 32 + 9 * 32 * 32 + 32 * 128 + 9 * 128 * 128 + 10 * 128
    biases = 32 + 32 + 128 + 128 + 10
    assert float_.params == weights + biases and float_.param_bytes == 4 * (weights + biases)
    macs = 16 * 16 * (128 * 32 + 9 * 32 * 32 + 32 * 128 + 9 * 128 * 128) + 128 * 10
    assert float_.macs == macs
    for name, param_bytes in (("qdq", weights + 4 * biases), ("qoperator", weights + 4 * biases),
                              ("fp16", 2 * (weights + biases))):
        totals = onnxlint.lint(DEPLOYED / f"bottleneck_{name}.onnx").totals
        assert totals.complete and (totals.params, totals.macs) == (float_.params, macs), name
        assert totals.param_bytes == param_bytes, name  # int8 weights + int32 biases; fp16 halves


def test_conv_rules_look_through_quantization():
    for name in ("float", "qdq", "qoperator"):
        report = onnxlint.lint(DEPLOYED / f"bottleneck_{name}.onnx")
        # the bottleneck's 3×3 has its 1×1 reduction (through Q/DQ pairs); the plain 3×3 does not
        assert [d.node.split("_")[0] for d in codes(report, "OL202")] == ["plain"], name
    qop = onnxlint.lint(DEPLOYED / "bottleneck_qoperator.onnx")
    plain = next(lr for lr in qop.layers if lr.op_type == "QLinearConv" and lr.name.startswith("plain"))
    assert plain.op == "Conv" and plain.conv.c_in == 128 and plain.macs == 16 * 16 * 9 * 128 * 128


def test_model_local_functions_are_inlined_and_named():
    report = onnxlint.lint(DEPLOYED / "functions.onnx")
    assert report.totals.complete and report.totals.macs == 2 * 28 * 28 * 25 * 64 * 64
    found = codes(report, "OL201")
    assert len(found) == 2 and found[0].location == "graph/local.Stage/local.ConvRelu"
    assert found[0].node.endswith("/Conv")


def test_if_takes_the_known_branch_and_flags_the_unknown_one():
    report = onnxlint.lint(DEPLOYED / "if_branches.onnx")
    three, five = 32 * 32 * 9 * 16 * 16, 32 * 32 * 25 * 16 * 16
    assert report.totals.macs == three  # the first If's condition is a constant: only its then_branch runs
    [(node, op, why)] = report.totals.unknown_layers
    assert op == "If" and why == f"condition unknown: its branches cost {three:,} or {five:,} MACs"
    assert not report.totals.macs_complete  # the exact count stops at the If...
    assert report.totals.macs_upper == three + five and report.totals.complete  # ...the worst case does not
    assert report.totals.bounds.layers == [(node, "If", five, "If")]
    assert "≤ 8.9 M MACs (2.4 M exact, 1 layer at their bound: If)" in units.macs_total(report.totals)


# --- contradictions ----------------------------------------------------------------------------------------------

def test_demo_at_227_is_a_contradiction_not_a_clean_report():
    report = lint_fixture("demo", input_shapes={"image": (1, 3, 227, 227)})
    [d] = codes(report, "OL004")
    assert d.node == "fc6" and d.message == ("Gemm: its input has 6,912 = 192×6×6 features, its weight "
                                             "expects 4,800: the model runs at the input size it declares, "
                                             "224×224, not at this one")
    assert report.totals.unknown_layers and not report.totals.complete
    assert not codes(report, "OL203")  # it printed 6·6·192·1024 = 4,915,200 on a node whose shapes cannot work


@pytest.mark.slow
@pytest.mark.parametrize("model, suggested, old", [("demo", (195, 195), 227), ("zfnet512", (219, 219), 251),
                                                   ("inception_v1", (222, 222), 253)])
def test_ol104_suggests_only_sizes_that_run(model, suggested, old):
    path = fixture(model) if model == "demo" else light(model)
    name = onnxlint.lint(path).inputs[0]["name"]
    assert codes(onnxlint.lint(path, input_shapes={name: (1, 3, old, old)}), "OL004")  # what it used to suggest
    [d] = codes(onnxlint.lint(path), "OL104")
    assert d.suggestion.startswith(f"feed {suggested[0]}×{suggested[1]}:")  # 227, 251 and 253 do not run
    inputs = onnxlint.lint(path).inputs
    report = onnxlint.lint(path, input_shapes={inputs[0]["name"]: (1, 3, *suggested)}, verify=True,
                           limits=Limits(seconds=120))
    assert not codes(report, "OL502") and not codes(report, "OL004") and not codes(report, "OL104")


def test_ol104_says_when_a_layer_pins_the_input_size():
    # a stride-2 conv drops a row at 16, and a Reshape of the input to a fixed size accepts no other size
    report = lint_text("""
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[1,4,16,16] x) => (float[1,8,7,7] y, float[1,1024] z) {
      s = Constant <value = int64[4] {8, 4, 3, 3}> ()
      w = ConstantOfShape <value = float[1] {0.01}> (s)
      y = Conv <strides = [2, 2]> (x, w)
      t = Constant <value = int64[2] {1, 1024}> ()
      z = Reshape (x, t)
    }""")
    [d] = codes(report, "OL104")
    assert d.suggestion.startswith("no other input size runs (Reshape_4: cannot reshape [1,4,15,15] (900 elements)")


@pytest.mark.parametrize("body, problem", [
    ("y = Concat <axis = 1> (x, z)", "its inputs differ outside the concat axis 1: [1,8,6,6] and [1,8,5,5]"),
    ("y = Add (x, z)", "its inputs [1,8,6,6] and [1,8,5,5] cannot broadcast"),
    ("t = Constant <value = int64[2] {1, 250}> ()\n y = Reshape (x, t)",
     "cannot reshape [1,8,6,6] (288 elements) to [1,250] (250 elements)"),
    ("t = Constant <value = int64[3] {1, -1, 7}> ()\n y = Reshape (x, t)",
     "cannot reshape [1,8,6,6] (288 elements) to [1,-1,7]: 288 is not divisible by 7"),
    ("y = MatMul (x, z)", "the inner dimensions differ: 6 (input A) vs 5 (input B)"),
])
def test_shape_contradictions_are_errors_with_their_arithmetic(body, problem):
    report = lint_text(f"""
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[1,8,6,6] x, float[1,8,5,5] z) => (float[1,8,6,6] y) {{
      {body}
    }}""")
    [d] = codes(report, "OL004")
    assert d.message.endswith(problem) and d.severity == onnxlint.Severity.ERROR


# --- window facts ------------------------------------------------------------------------------------------------

def test_stride_larger_than_kernel_counts_the_whole_tail():
    # MViT: kernel 3, stride 8, pad 1 over 56: windows start at 0, 8, …, 48 (padded); rows 50–55 are never read,
    # 6 rows past the regular 5-row gap between windows
    report = lint_text("""
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[1,8,56,56] x) => (float[1,8,7,7] y) {
      s = Constant <value = int64[4] {8, 1, 3, 3}> ()
      w = ConstantOfShape <value = float[1] {0.01}> (s)
      y = Conv <strides = [8, 8], pads = [1, 1, 1, 1], group = 8> (x, w)
    }""")
    axis = report.layers[-1].window.axes[0]
    assert (axis.remainder, axis.gap, axis.dropped, axis.output) == (7, 5, 6, 7)
    [d] = codes(report, "OL101")
    assert "the last 6 rows and 6 columns" in d.message and "regular gap of 5×5" in d.message


def test_rows_added_by_a_separate_pad_node_are_padding_not_input():
    model = """
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[1,4,28,28] x) => (float[1,8,14,14] y) {{
      p = Constant <value = int64[8] {{{pads}}}> ()
      xp = Pad <mode = "reflect"> (x, p)
      s = Constant <value = int64[4] {{8, 4, 3, 3}}> ()
      w = ConstantOfShape <value = float[1] {{0.01}}> (s)
      y = Conv <strides = [2, 2]> (xp, w)
    }}"""
    # padded to 30 at the end: the one row no window reads is a reflected row, not input
    end = lint_text(model.format(pads="0, 0, 0, 0, 0, 0, 2, 2"))
    assert end.layers[-1].window.axes[0].remainder == 1 and not codes(end, "OL101")
    # padded to 30 at the beginning: the unread last row is real input
    begin = lint_text(model.format(pads="0, 0, 2, 2, 0, 0, 0, 0"))
    assert [d.node for d in codes(begin, "OL101")] == ["Conv_4"]


def test_conv_transpose_with_zero_strides_does_not_crash():
    report = lint_text("""
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[1,4,8,8] x) => (float[1,4,8,8] y) {
      s = Constant <value = int64[4] {4, 4, 3, 3}> ()
      w = ConstantOfShape <value = float[1] {0.01}> (s)
      y = ConvTranspose <strides = [0, 0]> (x, w)
    }""")
    assert codes(report, "OL002")
    assert report.totals.unknown_layers == [("ConvTranspose_2", "ConvTranspose", "invalid window attributes")]


def test_total_stride_follows_resize_and_space_to_depth():
    # a branch that pools by 2 and resizes back (GhostNetV2's attention) must not double the stride; a
    # space-to-depth stem (TResNet) multiplies it by the block size
    report = lint_text("""
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[1,3,65,65] x) => (float[1,48,8,8] y) {
      s = Constant <value = int64[4] {16, 3, 3, 3}> ()
      w = ConstantOfShape <value = float[1] {0.01}> (s)
      a = Conv <pads = [1, 1, 1, 1]> (x, w)
      p = AveragePool <kernel_shape = [2, 2], strides = [2, 2]> (a)
      scales = Constant <value = float[4] {1.0, 1.0, 2.0, 2.0}> ()
      u = Resize <mode = "nearest"> (p, , scales)
      m = Mul (u, u)
      d = SpaceToDepth <blocksize = 4> (m)
      s2 = Constant <value = int64[4] {48, 256, 3, 3}> ()
      w2 = ConstantOfShape <value = float[1] {0.01}> (s2)
      y = Conv <strides = [2, 2]> (d, w2)
    }""")
    [d] = codes(report, "OL104")
    assert "total stride 8," in d.message


# --- parameters and compute --------------------------------------------------------------------------------------

def test_computed_constants_are_not_parameters():
    # Swin V2's bias MLP: a stored coordinate table (a buffer) through two Linear layers, input-independent
    report = lint_text("""
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[1,8,15,15] x) => (float[1,8,15,15] y) {
      table = Constant <value = float[225,2] {0.5}> ()
      s1 = Constant <value = int64[2] {2, 512}> ()
      w1 = ConstantOfShape <value = float[1] {0.01}> (s1)
      h = MatMul (table, w1)
      r = Relu (h)
      s2 = Constant <value = int64[2] {512, 8}> ()
      w2 = ConstantOfShape <value = float[1] {0.01}> (s2)
      b = MatMul (r, w2)
      t = Transpose <perm = [1, 0]> (b)
      shape = Constant <value = int64[4] {1, 8, 15, 15}> ()
      bias = Reshape (t, shape)
      y = Add (x, bias)
    }""")
    assert report.totals.params == 2 * 512 + 512 * 8
    assert report.totals.macs == 225 * 2 * 512 + 225 * 512 * 8  # computed at run time all the same


def test_einsum_and_lstm_macs():
    report = lint_text("""
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[2,5,16] x, float[16,32] w) => (float[2,5,32] y, float[5,1,24] h) {
      y = Einsum <equation = "bnk,kc->bnc"> (x, w)
      s = Constant <value = int64[3] {1, 96, 32}> ()
      lw = ConstantOfShape <value = float[1] {0.01}> (s)
      sr = Constant <value = int64[3] {1, 96, 24}> ()
      lr = ConstantOfShape <value = float[1] {0.01}> (sr)
      t = Transpose <perm = [1, 0, 2]> (y)
      h, hn, cn = LSTM <hidden_size = 24> (t, lw, lr)
    }""")
    einsum = next(lr for lr in report.layers if lr.op_type == "Einsum")
    lstm = next(lr for lr in report.layers if lr.op_type == "LSTM")
    assert einsum.macs == 2 * 5 * 16 * 32
    assert lstm.macs == 5 * 2 * 1 * 4 * 24 * (32 + 24)  # seq · batch · directions · gates · hidden · (in + hidden)
    assert report.totals.complete


def test_a_custom_op_is_unknown_and_its_declared_shape_carries_on():
    report = lint_text("""
    <ir_version: 8, opset_import: ["" : 17, "custom" : 1]>
    g (float[1,8,16,16] x) => (float[1,8,16,16] y) <float[1,8,16,16] c> {
      c = custom.Foo (x)
      s = Constant <value = int64[4] {8, 8, 3, 3}> ()
      w = ConstantOfShape <value = float[1] {0.01}> (s)
      y = Conv <pads = [1, 1, 1, 1]> (c, w)
    }""")
    assert report.totals.unknown_layers == [("Foo_0", "custom.Foo", "custom op custom.Foo: no cost model")]
    assert report.totals.macs == 16 * 16 * 9 * 8 * 8  # the conv after it is counted from the declared shape
    assert "≥ 147.5 K MACs (1 layer unknown: custom.Foo ×1)" in render([report])


def test_symbolic_input_says_unknown_never_zero():
    result = run_cli(fixture("symbolic_input"))
    summary = next(line for line in result.stdout.splitlines() if " nodes, " in line)
    assert "unknown MACs (" in summary and "peak activations unknown" in summary
    assert "0 MACs" not in summary and " 0 B" not in summary
    data = onnxlint.lint(fixture("symbolic_input")).to_dict()["models"][0]["totals"]
    assert data["complete"] is False and data["unknown_layers"][0]["reason"] == "output shape unknown"


@pytest.mark.slow
def test_verify_fills_what_static_analysis_could_not_know_into_the_totals():
    # a Tile whose repeats come from the input data: only execution knows the size
    model = onnx.parser.parse_model("""
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[1,2,4,4] x) => (float[1,4,4,4] y) {
      r = Constant <value = int64[4] {1, 2, 1, 1}> ()
      z = Mul (x, x)
      c = Cast <to = 7> (z)
      m = Mul (c, r)
      zero = Constant <value = int64[4] {0, 0, 0, 0}> ()
      k = Mul (m, zero)
      rr = ReduceMax <keepdims = 0> (k)
      reps = Add (r, rr)
      t = Tile (x, reps)
      s = Constant <value = int64[4] {4, 4, 1, 1}> ()
      w = ConstantOfShape <value = float[1] {0.01}> (s)
      y = Conv (t, w)
    }""")
    static = onnxlint.lint(model)
    assert not static.totals.complete and static.totals.macs == 0
    verified = onnxlint.lint(model, verify=True)
    assert verified.verification["tensors_unknown_filled"] > 0
    assert verified.totals.complete and verified.totals.macs == 4 * 4 * 4 * 4  # H·W·C_in·C_out, 1×1


def test_dead_if_branch_and_weights_inside_functions_are_not_double_counted():
    report = onnxlint.lint(DEPLOYED / "if_branches.onnx")
    assert report.totals.params == 16 * 16 * 9 + 16 * 16 * 25
    # the known If's else_branch (a 5×5 conv) never runs: none of its nodes is a layer of the report
    assert not [lr for lr in report.layers if lr.scope.startswith("graph/If_7/else_branch")]
