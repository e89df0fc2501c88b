"""The deployment view (--target): what onnxruntime will really run, predicted from the graph and proved against
onnxruntime itself — its optimized graph (int8 fusions, fp16 casts) and its own mobile partition checker — on real
models with real (random) weights, and on one small model per rule of onnxruntime's QDQ fusion."""
import json
import pathlib
import platform
import tempfile

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from conftest import FIXTURES, LIGHT, run_cli, with_real_weights
from onnx import TensorProto as T
from onnx import helper as h
from onnx import numpy_helper as nh

import onnxlint
from onnxlint.deploy import INT8_RUNS

pytestmark = pytest.mark.slow  # runs onnxruntime
X86 = platform.machine().lower() in ("x86_64", "amd64")  # its kernels take uint8 activations; Arm's take int8 too


def optimized_ops(model: onnx.ModelProto) -> dict:
    """What onnxruntime's CPU provider runs after its graph optimizations: node name → op."""
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
    options.log_severity_level = 3
    with tempfile.TemporaryDirectory() as tmp:
        options.optimized_model_filepath = str(pathlib.Path(tmp) / "o.onnx")
        ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
        return {n.name: n.op_type for n in onnx.load(options.optimized_model_filepath).graph.node}


def _scalar(name, value, dtype):
    return nh.from_array(np.array(value, dtype=dtype), name)


def qdq_conv(*, act=np.uint8, shared_input=False, shared_output=False, float_input=False, float_bias=False,
             float_weight=False, relu=None, no_output_q=False, computed_scale=False, act16=False, bias_scale=0.0005):
    """x → Q → DQ → Conv (DQ weight, DQ int32 bias) → Q → DQ → y, varied one rule at a time."""
    act = np.uint16 if act16 else act
    inits = [_scalar("s", 0.05, np.float32), _scalar("z", 0, act), _scalar("ws", 0.01, np.float32),
             _scalar("wz", 0, np.int8), nh.from_array(np.ones((8, 4, 3, 3), np.int8), "w"),
             nh.from_array(np.ones(8, np.int32), "b"), _scalar("bs", bias_scale, np.float32),
             _scalar("bz", 0, np.int32),
             nh.from_array(np.ones(8, np.float32), "fb"), _scalar("two", 2.0, np.float32),
             nh.from_array(np.ones((8, 4, 3, 3), np.float32), "fw")]
    nodes = [h.make_node("Mul", ["s", "two"], ["s2"], name="scale") if computed_scale else None,
             h.make_node("QuantizeLinear", ["x", "s2" if computed_scale else "s", "z"], ["xq"], name="q_in"),
             h.make_node("DequantizeLinear", ["xq", "s2" if computed_scale else "s", "z"], ["xd"], name="dq_in"),
             h.make_node("DequantizeLinear", ["w", "ws", "wz"], ["wd"], name="dq_w"),
             h.make_node("DequantizeLinear", ["b", "bs", "bz"], ["bd"], name="dq_b"),
             h.make_node("Conv", ["x" if float_input else "xd", "fw" if float_weight else "wd",
                                  "fb" if float_bias else "bd"], ["c"], name="conv", pads=[1, 1, 1, 1])]
    outputs = ["y"]
    after = "c"
    if relu:
        nodes.append(h.make_node("Relu", ["c"], ["r"], name="relu"))
        after = "r"
    if no_output_q:
        nodes.append(h.make_node("Sigmoid", [after], ["y"], name="sig"))
    else:
        nodes += [h.make_node("QuantizeLinear", [after, "s", "z"], ["cq"], name="q_out"),
                  h.make_node("DequantizeLinear", ["cq", "s", "z"], ["y"], name="dq_out")]
    if shared_input:
        nodes.append(h.make_node("Relu", ["xd"], ["y2"], name="other_reader"))
        outputs.append("y2")
    if shared_output:
        nodes.append(h.make_node("Sigmoid", ["y"], ["y3"], name="second_reader"))
        outputs.append("y3")
    graph = h.make_graph([n for n in nodes if n], "g", [h.make_tensor_value_info("x", T.FLOAT, [1, 4, 8, 8])],
                         [h.make_tensor_value_info(o, T.FLOAT, None) for o in outputs], inits)
    return h.make_model(graph, opset_imports=[h.make_opsetid("", 21)])


def qdq_matmul(*, output_q: bool, op="MatMul"):
    inits = [_scalar("s", 0.05, np.float32), _scalar("z", 0, np.uint8), _scalar("ws", 0.01, np.float32),
             _scalar("wz", 0, np.int8), nh.from_array(np.ones((16, 8), np.int8), "w")]
    nodes = [h.make_node("QuantizeLinear", ["x", "s", "z"], ["xq"], name="q_in"),
             h.make_node("DequantizeLinear", ["xq", "s", "z"], ["xd"], name="dq_in"),
             h.make_node("DequantizeLinear", ["w", "ws", "wz"], ["wd"], name="dq_w"),
             h.make_node(op, ["xd", "wd"], ["m" if output_q else "y"], name="mm")]
    if output_q:
        nodes += [h.make_node("QuantizeLinear", ["m", "s", "z"], ["mq"], name="q_out"),
                  h.make_node("DequantizeLinear", ["mq", "s", "z"], ["y"], name="dq_out")]
    graph = h.make_graph(nodes, "g", [h.make_tensor_value_info("x", T.FLOAT, [2, 16])],
                         [h.make_tensor_value_info("y", T.FLOAT, None)], inits)
    return h.make_model(graph, opset_imports=[h.make_opsetid("", 21)])


CASES = [  # (label, model, the layer, int8?, a piece of the reason)
    ("a whole uint8 group", qdq_conv(), "conv", True, None),
    ("a uint8 input that two nodes read", qdq_conv(shared_input=True), "conv", True, None),
    ("an int8 input that one node reads", qdq_conv(act=np.int8), "conv", True, None),
    ("an int8 input that two nodes read", qdq_conv(act=np.int8, shared_input=True), "conv", not X86,
     "input feeds 2" if X86 else None),
    ("an int8 output that two nodes read", qdq_conv(act=np.int8, shared_output=True), "conv", not X86,
     "output feeds 2" if X86 else None),
    ("a float input", qdq_conv(float_input=True), "conv", False, "is float"),
    ("a bias scale 0.9% off input scale × weight scale (0.05 × 0.01)", qdq_conv(bias_scale=0.0005 * 1.009), "conv",
     True, None),
    ("a bias scale 1.5% off input scale × weight scale", qdq_conv(bias_scale=0.0005 * 1.015), "conv", False,
     "bias is not scaled by input scale × weight scale"),
    ("a float bias, which onnxruntime quantizes itself", qdq_conv(float_bias=True), "conv", True, None),
    ("a float weight and bias, both quantized by onnxruntime", qdq_conv(float_bias=True, float_weight=True), "conv",
     True, None),
    ("a float weight beside a dequantized bias", qdq_conv(float_weight=True), "conv", False, "'fw' is float"),
    ("no QuantizeLinear after it", qdq_conv(no_output_q=True), "conv", False, "feeds Sigmoid"),
    ("a Relu the output's Q makes redundant", qdq_conv(relu=True), "conv", True, None),
    ("a scale computed in the graph", qdq_conv(computed_scale=True), "conv", False, "computed in the graph"),
    ("16-bit activations", qdq_conv(act16=True), "conv", False, "uint16 quantization"),
    ("MatMul to a QuantizeLinear", qdq_matmul(output_q=True), "mm", True, None),
    ("MatMul to a float output", qdq_matmul(output_q=False), "mm", True, None),
    ("Gemm to a float output", qdq_matmul(output_q=False, op="Gemm"), "mm", True, None),
]


@pytest.mark.parametrize("label, model, layer, int8, reason", CASES, ids=[c[0] for c in CASES])
def test_each_int8_fusion_rule_as_onnxruntime_applies_it(label, model, layer, int8, reason):
    report = onnxlint.lint(model, target="ort-cpu")
    row = next(r for r in report.deployment["layers"] if r["node"] == layer)
    actual = optimized_ops(model)[layer]
    assert (actual in INT8_RUNS) == int8, (label, actual)  # the case is what it says, on this onnxruntime
    assert (row["precision"] == "int8") == int8, (label, row)  # and the prediction agrees
    if reason:
        assert reason in row["reason"], (label, row["reason"])
        assert [d.code for d in report.diagnostics if d.node == layer] == ["OL601"]


QUANTIZED = [FIXTURES / "quantized" / f"{name}.onnx" for name in
             ("resnet26d_qdq", "resnet26d_qoperator", "cs3darknet_s_qdq")] + \
            [FIXTURES / "deployed" / f"{name}.onnx" for name in
             ("bottleneck_qdq", "bottleneck_qoperator", "bottleneck_fp16", "resnet26d_fp16", "cs3darknet_s_fp16_io32")]
CASTS = {"bottleneck_fp16": 12, "resnet26d_fp16": 66, "cs3darknet_s_fp16_io32": 35}  # one per weight and bias there


@pytest.mark.parametrize("path", QUANTIZED, ids=[p.stem for p in QUANTIZED])
def test_the_prediction_is_proved_by_onnxruntime_on_real_models(path, tmp_path):
    """Every layer of the real quantized and fp16 exports: predicted int8/float and fp16/fp32, and the inserted
    casts, equal to onnxruntime's optimized graph — precision and recall 100%."""
    model = with_real_weights(path, tmp_path / path.name)
    result = run_cli(model, "--target", "ort-cpu", "--verify", "--format", "json")
    data = json.loads(result.stdout)["models"][0]
    proof = data["deployment"]["proved"]
    assert "error" not in proof, proof
    assert proof["disagree"] == [] and proof["layers"] == len(data["deployment"]["layers"]) > 0
    assert not [d for d in data["diagnostics"] if d["code"] in ("OL604", "OL501", "OL502")]
    if data["deployment"]["model"] == "fp16":
        assert proof["casts"] == data["deployment"]["casts"] == CASTS[path.stem]
    expected = {"resnet26d_qdq": (23, 32), "cs3darknet_s_qdq": (1, 33), "resnet26d_qoperator": (32, 32)}.get(path.stem)
    if expected and X86:
        layers = data["deployment"]["layers"]
        assert (sum(r["precision"] == "int8" for r in layers), len(layers)) == expected


def fp16_model(body: str, weights: dict, ints: dict = {}) -> onnx.ModelProto:
    """A float16 graph (ONNX text: x in, y out) with random float16 weights and the given int64 constants."""
    model = onnx.parser.parse_model('<ir_version: 8, opset_import: ["" : 18]>\n' + body)
    rng = np.random.default_rng(0)
    model.graph.initializer.extend(nh.from_array((rng.standard_normal(shape) * 0.1).astype(np.float16), name)
                                   for name, shape in weights.items())
    model.graph.initializer.extend(nh.from_array(np.array(v, dtype=np.int64), name) for name, v in ints.items())
    return model


X16, W3 = "float16[1,8,16,16]", (8, 8, 3, 3)
CONV = "Conv <pads=[1,1,1,1]>"
# (what the case shows, the graph, the Cast nodes onnxruntime leaves): every Conv runs in fp32 on the CPU provider
FP16_CASES = [
    ("a Clip between two convs runs in fp32 too: x, 2 weights, y",
     fp16_model(f"g ({X16} x) => ({X16} y) {{ a = {CONV} (x, w1) b = Clip (a) y = {CONV} (b, w2) }}",
                {"w1": W3, "w2": W3}), 4),
    ("so does a Clip with float16 bounds: they are cast too",
     fp16_model(f"g ({X16} x) => ({X16} y) {{ a = {CONV} (x, w1) b = Clip (a, lo, hi) y = {CONV} (b, w2) }}",
                {"w1": W3, "w2": W3, "lo": (), "hi": ()}), 6),
    ("a Transpose read by a LayerNormalization, which has a float16 kernel, stays in fp16",
     fp16_model(f"g ({X16} x) => (float16[1,16,16,8] y) {{ a = {CONV} (x, w1) b = Transpose <perm=[0,2,3,1]> (a) "
                "y = LayerNormalization <axis=-1> (b, s, t) }", {"w1": W3, "s": (8,), "t": (8,)}), 3),
    ("Transpose then Reshape: each is checked before the other is forced, so both stay in fp16",
     fp16_model(f"g ({X16} x) => (float16[1,8,32,8] y) {{ a = {CONV} (x, w1) b = Transpose <perm=[0,1,3,2]> (a) "
                f"c = Reshape (b, shape) y = {CONV} (c, w2) }}", {"w1": W3, "w2": W3}, {"shape": [1, 8, 32, 8]}), 6),
    ("float32 input and output (keep_io_types): the casts at both ends cancel out, the weight's stays",
     fp16_model(f"g (float[1,8,16,16] x) => (float[1,8,16,16] y) {{ h = Cast <to=10> (x) a = {CONV} (h, w1) "
                "y = Cast <to=1> (a) }", {"w1": W3}), 1),
    ("a weight shared through an Identity is cast once",
     fp16_model(f"g ({X16} x) => ({X16} y) {{ v = Identity (w1) a = {CONV} (x, w1) y = {CONV} (a, v) }}",
                {"w1": W3}), 3),
    ("a Concat is checked on its first input only: the graph input beside a conv does not keep it in fp16",
     fp16_model(f"g ({X16} x) => ({X16} y) {{ a = {CONV} (x, w1) c = Concat <axis=1> (x, a) y = {CONV} (c, w2) }}",
                {"w1": W3, "w2": (8, 16, 3, 3)}), 4),
    ("a Split read by a Conv and a Concat, which has a float16 kernel, stays in fp16",
     fp16_model(f"g ({X16} x) => ({X16} y) {{ a = {CONV} (x, w1) p, q = Split <axis=1, num_outputs=2> (a) "
                f"r = {CONV} (q, w2) c = Concat <axis=1> (p, r) y = {CONV} (c, w3) }}",
                {"w1": W3, "w2": (4, 4, 3, 3), "w3": W3}), 9),
]


@pytest.mark.parametrize("label, model, casts", FP16_CASES, ids=[c[0] for c in FP16_CASES])
def test_each_fp16_fallback_rule_as_onnxruntime_applies_it(label, model, casts):
    inserted = sum(op == "Cast" and name.startswith("InsertedPrecisionFreeCast")
                   for name, op in optimized_ops(model).items())
    assert inserted == casts, label  # the case is what it says, on this onnxruntime
    report = onnxlint.lint(model, target="ort-cpu")
    assert report.deployment["casts"] == casts and {r["precision"] for r in report.deployment["layers"]} == {"float32"}


@pytest.mark.skipif(not X86, reason="int8 activations run as int8 on Arm builds of onnxruntime: nothing to fix")
@pytest.mark.parametrize("name, changes, int8", [("resnet26d_qdq", 9, 32), ("cs3darknet_s_qdq", 32, 11)])
def test_the_exact_fix_and_what_onnxruntime_runs_after_it(name, changes, int8, tmp_path):
    """OL601's fix on real-size models with real random weights: their shared int8 activations become uint8 (zero
    point + 128, the same real values) and the outputs stay equal. resnet26d then runs every layer in int8;
    cs3darknet_s's exporter merged equal biases into one initializer per stage, scaled for one conv only, so 22
    of its convs stay float — predicted (the bias-scale reason) and proved by onnxruntime's optimized graph."""
    from onnxlint.fix import fix

    source = with_real_weights(FIXTURES / "quantized" / f"{name}.onnx", tmp_path / "r.onnx")
    fixed = tmp_path / "fixed.onnx"
    result = fix(str(source), output=fixed, select=["OL601"])
    assert len(result.changes) == changes and result.max_abs_error == 0.0
    after = json.loads(run_cli(fixed, "--target", "ort-cpu", "--verify", "--format", "json").stdout)["models"][0]
    layers = after["deployment"]["layers"]
    assert sum(r["precision"] == "int8" for r in layers) == int8 and after["deployment"]["proved"]["disagree"] == []
    assert all("bias is not scaled" in r["reason"] for r in layers if r["precision"] != "int8")


@pytest.mark.skipif(not X86, reason="int8 activations run as int8 on Arm builds of onnxruntime: nothing to fix")
def test_the_ol601_fix_of_a_model_with_external_weights_writes_files_that_run(tmp_path):
    """What `onnxlint fix --select OL601` delivers when the weights live in a data file: the written model and its
    own data file, opened from disk by a fresh onnxruntime session, give exactly the original's outputs."""
    src, out = tmp_path / "src", tmp_path / "out"
    src.mkdir(), out.mkdir()
    model = onnx.load(with_real_weights(FIXTURES / "quantized" / "resnet26d_qdq.onnx", tmp_path / "r.onnx"))
    onnx.save(model, src / "model.onnx", save_as_external_data=True, location="model.onnx.data", size_threshold=1024)
    assert (src / "model.onnx.data").stat().st_size > 15 * 2**20  # its 16 M int8 weights
    result = run_cli("fix", src / "model.onnx", "-o", out / "fixed.onnx", "--select", "OL601")
    assert result.returncode == 0, result.stderr
    assert "(weights in fixed.onnx.data)" in result.stdout and (out / "fixed.onnx").stat().st_size < 2**20
    x = np.random.default_rng(0).standard_normal((1, 3, 224, 224)).astype(np.float32)

    def run(path):
        session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        return session.run(None, {session.get_inputs()[0].name: x})[0]

    np.testing.assert_array_equal(run(out / "fixed.onnx"), run(src / "model.onnx"))
    zero_points = [n.input[2] for n in onnx.load(out / "fixed.onnx", load_external_data=False).graph.node
                   if n.op_type == "QuantizeLinear"]
    assert sum(z.endswith("_zero_point_u8") for z in zero_points) > 0


LIGHT_MODELS = sorted(LIGHT.glob("light_*.onnx"))


@pytest.mark.parametrize("path", LIGHT_MODELS, ids=[p.stem for p in LIGHT_MODELS])
def test_mobile_partitions_agree_with_onnxruntimes_own_checker(path, tmp_path):
    """The light models with real weights (their placeholder weights are all equal, which onnxruntime's common
    subexpression elimination would merge): partitions and accelerated nodes for NNAPI and CoreML as onnxruntime's
    usability checker counts them on the model its basic optimizations leave."""
    from onnxruntime.tools.mobile_helpers import usability_checker as checker
    from onnxruntime.tools.onnx_model_utils import ModelProtoWithShapeInfo, optimize_model

    model = with_real_weights(path, tmp_path / path.name)
    optimize_model(model, tmp_path / "basic.onnx", use_external_initializers=True)
    shaped = ModelProtoWithShapeInfo(tmp_path / "basic.onnx").model_with_shape_info
    for target in ("nnapi", "coreml"):
        ours = onnxlint.lint(model, target=target).deployment
        theirs = checker.check_nnapi_partitions(shaped, True) if target == "nnapi" else \
            checker.check_coreml_partitions(shaped, True, "coreml_supported_mlprogram_ops.md")
        assert (ours["partitions"], ours["accelerated_nodes"], ours["nodes"]) == (
            theirs.num_partitions, theirs.num_supported_nodes, theirs.num_nodes), (path.name, target)


def test_the_plain_lint_of_a_quantized_model_with_a_target_imports_no_onnxruntime():
    import subprocess
    import sys

    code = ("import sys, onnxlint; r = onnxlint.lint(sys.argv[1], target='ort-cpu'); "
            "assert r.deployment['int8_share'] > 0.7; print('onnxruntime' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code, str(FIXTURES / "quantized" / "resnet26d_qdq.onnx")],
                            capture_output=True, text=True)
    assert result.stdout.strip() == "False", result.stderr
