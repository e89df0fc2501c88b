"""Weights as facts (issue 33). The design step: one lazy per-tensor reader (onnxlint/weights.py) that reads only
the bytes of the tensor asked for, embedded, left in a large file or external; the plain path never reads one.
Then the weight rules, each number checked against what onnxruntime's own quantizer writes."""
import json
import subprocess
import sys

import numpy as np
import onnx
import pytest
from conftest import FIXTURES
from onnx import TensorProto, helper, numpy_helper

import onnxlint
from onnxlint.graph import build_graph
from onnxlint.loader import load
from onnxlint.weights import WeightReader, values

DET = FIXTURES / "paddle" / "ch_PP-OCRv4_det_infer.onnx"


def _stack(folder, external: bool, width: int = 256, convs: int = 4):
    """`convs` 3×3 convs width→width with random weights (2.25 MiB each at 256), embedded or in weights.bin."""
    rng = np.random.default_rng(0)
    nodes, inits, x = [], [], "x"
    blob = bytearray()
    for i in range(convs):
        values = rng.standard_normal((width, width, 3, 3)).astype(np.float32)
        tensor = numpy_helper.from_array(values, f"w{i}")
        if external:
            tensor.ClearField("raw_data")
            tensor.data_location = TensorProto.EXTERNAL
            for key, value in (("location", "weights.bin"), ("offset", str(len(blob))), ("length", str(values.nbytes))):
                tensor.external_data.add(key=key, value=value)
            blob += values.tobytes()
        inits.append(tensor)
        nodes.append(helper.make_node("Conv", [x, f"w{i}"], [f"y{i}"], name=f"conv{i}", pads=[1, 1, 1, 1]))
        x = f"y{i}"
    graph = helper.make_graph(nodes, "stack", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, width, 8, 8])],
                              [helper.make_tensor_value_info(x, TensorProto.FLOAT, None)], inits)
    if external:
        (folder / "weights.bin").write_bytes(bytes(blob))
    path = folder / "model.onnx"
    path.write_bytes(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]).SerializeToString())
    return path


def _reader(path):
    loaded = load(path)
    return WeightReader(loaded, build_graph(loaded.model, str(path)))


@pytest.mark.parametrize("external", [False, True])
def test_the_reader_reads_exactly_one_tensor(tmp_path, external):
    path = _stack(tmp_path, external)
    expected = numpy_helper.to_array(onnx.load(path).graph.initializer[2], base_dir=str(tmp_path))
    reader = _reader(path)
    got = reader.read("w2")
    assert np.array_equal(got, expected) and got.shape == (256, 256, 3, 3)
    assert reader.tensors_read == 1 and reader.bytes_from_files == (got.nbytes if external else 0)
    assert reader.read("x") is None and reader.read("y0") is None  # an input and a computed tensor: no weight


def test_the_reader_reads_a_payload_the_loader_left_in_a_large_file(tmp_path):
    """Over 64 MiB the loader parses the model without its payloads; one tensor is then read from the file at its
    offset (36 KiB of a 72 MiB file), and only that."""
    path = _stack(tmp_path, False, width=1024, convs=2)
    reader = _reader(path)
    assert reader.loaded.payloads_skipped
    got = reader.read("w1")
    assert np.array_equal(got, numpy_helper.to_array(onnx.load(path).graph.initializer[1]))
    assert reader.bytes_from_files == got.nbytes == 1024 * 1024 * 9 * 4


def test_the_reader_follows_no_unsafe_reference_and_checks_lengths(tmp_path):
    path = _stack(tmp_path, True, convs=2)
    model = onnx.load(path, load_external_data=False)
    model.graph.initializer[0].external_data[0].value = "../weights.bin"  # outside the model's folder
    model.graph.initializer[1].external_data[2].value = "100"  # not the 2.25 MiB its dims give
    onnx.save(model, tmp_path / "bad.onnx")
    reader = _reader(tmp_path / "bad.onnx")
    assert reader.read("w0") is None and reader.read("w1") is None  # OL003 says why; nothing is opened
    assert reader.bytes_from_files == 0
    problems = [d.message for d in onnxlint.lint(tmp_path / "bad.onnx").diagnostics if d.code == "OL003"]
    assert len(problems) == 2 and any("100" in p for p in problems)
    assert values(model.graph.initializer[1], None, tmp_path) is None  # the reader checks again, on its own


def test_a_stripped_weight_reads_as_none():
    report_model = FIXTURES / "keras" / "resnet50_dynamic_nhwc.onnx"  # initializers with dims only
    reader = _reader(report_model)
    stripped = next(t.name for t in onnx.load(report_model).graph.initializer if t.doc_string == "zoo:stripped")
    assert reader.read(stripped) is None


_READ = """
import json, sys, onnxlint
report = onnxlint.lint(sys.argv[1], select=sys.argv[2].split(",") if sys.argv[2] else None)
io = dict(line.split(": ") for line in open("/proc/self/io").read().splitlines())
print(json.dumps({"rchar": int(io["rchar"]), "codes": sorted({d.code for d in report.diagnostics})}))
"""


@pytest.mark.slow
def test_the_plain_path_reads_no_weight_and_a_weight_rule_reads_each_once(tmp_path):
    """Measured on the process, not on the reader: the bytes a whole lint reads (/proc/self/io), of a model with
    36 MiB of external weights. A plain lint reads what Python and the model file take; --select OL701 reads
    the weights once more, no more."""
    path = _stack(tmp_path, True, width=1024, convs=4)
    weights = (tmp_path / "weights.bin").stat().st_size
    runs = {}
    for select in ("", "OL701"):
        out = subprocess.run([sys.executable, "-c", _READ, str(path), select], capture_output=True, text=True)
        runs[select] = json.loads(out.stdout)
    assert runs["OL701"]["rchar"] - runs[""]["rchar"] >= weights
    assert runs["OL701"]["rchar"] - runs[""]["rchar"] < 1.2 * weights
    assert runs[""]["rchar"] < weights / 2  # imports and the 1 KiB model file: no weight


def _quantized(model, tmp_path, per_channel: bool, shape=(1, 3, 320, 320)):
    """The model as onnxruntime's quantize_static writes it (QDQ, symmetric int8 weights), after the level-1
    optimizations a deployer's pipeline runs first (onnxruntime folds BatchNorm, Mul and Add into the convs)."""
    import onnxruntime as ort
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, quantize_static

    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
    options.optimized_model_filepath = str(tmp_path / "optimized.onnx")
    ort.InferenceSession(str(model), options, providers=["CPUExecutionProvider"])

    class Images(CalibrationDataReader):
        def __init__(self):
            rng = np.random.default_rng(0)
            self.batches = iter([{"x": rng.random(shape, dtype=np.float32)} for _ in range(2)])

        def get_next(self):
            return next(self.batches, None)

    out = tmp_path / f"int8_{'channel' if per_channel else 'tensor'}.onnx"
    quantize_static(str(tmp_path / "optimized.onnx"), str(out), Images(), quant_format=QuantFormat.QDQ,
                    per_channel=per_channel)
    return out


def _zeroed_int8_channels(path) -> dict:
    model = onnx.load(path)
    inits = {t.name: t for t in model.graph.initializer}
    producer = {o: n for n in model.graph.node for o in n.output}
    found = {}
    for node in model.graph.node:
        dq = producer.get(node.input[1]) if node.op_type == "Conv" else None
        if dq is not None and dq.op_type == "DequantizeLinear" and dq.input[0] in inits:
            weight = numpy_helper.to_array(inits[dq.input[0]])
            zero = int(np.all(weight.reshape(weight.shape[0], -1) == 0, axis=1).sum())
            if zero:
                found[node.name] = zero
    return found


@pytest.mark.slow
def test_int8_zeroed_channels_are_what_quantize_static_writes(tmp_path):
    """PP-OCRv4 det with its real weights: the channels OL701 predicts, per conv, from the float weights (its
    scalar affines and BatchNorms folded as onnxruntime folds them) are exactly the all-zero int8 channels of
    quantize_static's per-tensor model (34 in 9 layers); per-channel zeroes none. On the quantized model OL701
    reads the same facts from the stored int8 weights."""
    shapes = {"x": [1, 3, 320, 320]}
    report = onnxlint.lint(DET, select=["OL701"], input_shapes=shapes)
    predicted = {d.node: d.match[0] for d in report.diagnostics if d.code == "OL701"}
    written = _zeroed_int8_channels(_quantized(DET, tmp_path, per_channel=False))
    assert predicted == written and sum(written.values()) == 34 and len(written) == 9
    assert _zeroed_int8_channels(_quantized(DET, tmp_path, per_channel=True)) == {}
    assert all(d.match[2] == d.match[0] for d in report.diagnostics)  # per-channel keeps every one
    qdq = onnxlint.lint(tmp_path / "int8_tensor.onnx", select=["OL701"], input_shapes=shapes)
    assert {d.node: int(d.message.split(" has ")[1].split(" of ")[0]) for d in qdq.diagnostics} == written


def test_int8_zeroed_channels_message_and_group():
    report = onnxlint.lint(DET, select=["OL701"], input_shapes={"x": [1, 3, 320, 320]})
    (group,) = [g for g in report.groups if g.code == "OL701"]
    assert group.message == ("per-tensor int8 zeroes 34 output channels in 9 conv layers (18 near-dead anyway); "
                             "per-channel int8 keeps 34")
    first = next(d for d in report.diagnostics if d.node == "p2o.Conv.22")
    assert "zeroes 7 of 48 output channels (max|w_c| ≤ max|W|/254 = 0.00431)" in first.message
    assert "6 of them near-dead anyway" in first.message
    assert "OL701" not in {d.code for d in onnxlint.lint(DET, input_shapes={"x": [1, 3, 320, 320]}).diagnostics}


def _optimized(model, tmp_path):
    """The model as onnxruntime's level-1 optimizations leave it (BatchNorm, Mul and Add folded into the convs)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
    options.optimized_model_filepath = str(tmp_path / "optimized.onnx")
    ort.InferenceSession(str(model), options, providers=["CPUExecutionProvider"])
    return onnx.load(tmp_path / "optimized.onnx")


def test_range_spread_is_the_spread_onnxruntime_folds_into_the_weight(tmp_path):
    """The mobile direction classifier (paddle2onnx, real weights): OL702's spread after folding is that of the
    weight onnxruntime writes after its ConvBNFusion, and before folding that of the file's own weight."""
    cls = FIXTURES / "paddle" / "ch_ppocr_mobile_v2.0_cls_infer.onnx"
    report = onnxlint.lint(cls, select=["OL702"])
    found = {d.node: d.message for d in report.diagnostics if d.code == "OL702"}
    assert len(found) == 3 and all("before folding the BatchNormalization after it" in m for m in found.values())
    optimized = _optimized(cls, tmp_path)
    inits = {t.name: numpy_helper.to_array(t) for t in optimized.graph.initializer}
    checked = 0
    for node in optimized.graph.node:
        if node.name in found:
            ranges = np.abs(inits[node.input[1]]).reshape(inits[node.input[1]].shape[0], -1).max(axis=1)
            spread = ranges.max() / ranges[ranges > 0].min()
            assert f"weight ranges spread {spread:.3g}× (" in found[node.name], (node.name, spread)
            checked += 1
    assert checked == 3
    assert "spread 41.8× (1.57× before folding" in found["Conv@7"]


def test_fp16_counts_are_what_onnxruntimes_cast_does():
    """OL703 on PP-OCRv4 det's real weights: per layer, the weights onnxruntime's Cast to float16 turns into ±inf,
    into 0, and into subnormals are the rule's counts."""
    import onnxruntime as ort

    cast = helper.make_model(helper.make_graph(
        [helper.make_node("Cast", ["w"], ["h"], to=TensorProto.FLOAT16)], "cast",
        [helper.make_tensor_value_info("w", TensorProto.FLOAT, ["n"])],
        [helper.make_tensor_value_info("h", TensorProto.FLOAT16, ["n"])]), opset_imports=[helper.make_opsetid("", 17)])
    session = ort.InferenceSession(cast.SerializeToString(), providers=["CPUExecutionProvider"])
    report = onnxlint.lint(DET, select=["OL703"], input_shapes={"x": [1, 3, 320, 320]})
    reader = _reader(DET)
    found = {d.node: d.match for d in report.diagnostics}
    assert len(found) == 39
    layers = {layer.name: layer for layer in report.layers}
    for name, counts in found.items():
        weight = reader.read(layers[name].inputs[1]).astype(np.float32).reshape(-1)
        (half,) = session.run(None, {"w": weight})
        tiny = np.abs(half) < np.float16(2.0 ** -14)
        assert counts == (int(np.isinf(half).sum()), int(((half == 0) & (weight != 0)).sum()),
                          int((tiny & (half != 0)).sum())), name


def _conv_bn_relu(tmp_path, weight, gamma):
    """Conv 3×3 (its weight given) → BatchNormalization (γ given, real statistics) → Relu, as a file."""
    c_out = weight.shape[0]
    rng = np.random.default_rng(3)
    inits = [numpy_helper.from_array(weight.astype(np.float32), "w"),
             numpy_helper.from_array(rng.standard_normal(c_out).astype(np.float32) * 0.1, "b"),
             numpy_helper.from_array(gamma.astype(np.float32), "gamma"),
             numpy_helper.from_array(rng.standard_normal(c_out).astype(np.float32) * 0.1 - 0.05, "beta"),
             numpy_helper.from_array(rng.standard_normal(c_out).astype(np.float32) * 0.1, "mean"),
             numpy_helper.from_array(rng.uniform(0.5, 1.5, c_out).astype(np.float32), "var")]
    nodes = [helper.make_node("Conv", ["x", "w", "b"], ["c"], name="conv", pads=[1, 1, 1, 1]),
             helper.make_node("BatchNormalization", ["c", "gamma", "beta", "mean", "var"], ["n"], name="bn"),
             helper.make_node("Relu", ["n"], ["y"], name="relu")]
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 320, 320])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, c_out, 320, 320])], inits)
    path = tmp_path / "conv_bn_relu.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)
    return path


@pytest.mark.slow
def test_per_channel_int8_zeroes_a_channel_whose_scale_underflows(tmp_path):
    """onnxruntime takes scale 1.0 for a range whose scale max|w_c|/127 is below float32's smallest normal: such a
    channel (weights around 1e-39, as PP-OCRv4 rec has 55) rounds to zero per channel too. OL701 counts it as
    one per-channel does not keep; the per-tensor count is quantize_static's as well."""
    rng = np.random.default_rng(4)
    weight = rng.standard_normal((8, 3, 3, 3)).astype(np.float32)
    weight[2] *= np.float32(1e-39)  # denormal: its per-channel scale underflows
    weight[5] *= np.float32(1e-3)  # rounds to zero per tensor only
    model = _conv_bn_relu(tmp_path, weight, np.ones(8))
    (finding,) = [d for d in onnxlint.lint(model, select=["OL701"]).diagnostics]
    per_tensor = _zeroed_int8_channels(_quantized(model, tmp_path, per_channel=False))
    per_channel = _zeroed_int8_channels(_quantized(model, tmp_path, per_channel=True))
    assert finding.match[0] == per_tensor["conv"] == 2
    assert finding.match[0] - finding.match[2] == per_channel["conv"] == 1


@pytest.mark.slow
def test_dead_channels_are_the_constant_outputs_onnxruntime_computes(tmp_path):
    """An all-zero filter and a BatchNorm γ of 0: OL704 names exactly the output channels onnxruntime computes as
    constant over two random inputs, and says which the ReLU makes 0."""
    import onnxruntime as ort

    rng = np.random.default_rng(5)
    weight = rng.standard_normal((8, 3, 3, 3)).astype(np.float32)
    weight[1] = 0
    gamma = np.ones(8)
    gamma[6] = 0
    model = _conv_bn_relu(tmp_path, weight, gamma)
    (finding,) = onnxlint.lint(model, select=["OL704"]).diagnostics
    session = ort.InferenceSession(str(model), providers=["CPUExecutionProvider"])
    runs = [session.run(None, {"x": rng.standard_normal((1, 3, 320, 320)).astype(np.float32)})[0] for _ in range(2)]
    constant = [c for c in range(8) if np.ptp(runs[0][0, c]) == 0 and np.array_equal(runs[0][0, c], runs[1][0, c])]
    assert constant == [1, 6] and finding.match[0] == 2
    zero = sum(1 for c in constant if not runs[0][0, c].any())
    assert "2 of 8 output channels are constant" in finding.message
    assert (f"{zero} of them 0 after the ReLU" in finding.message) == (zero > 0)
    layer = next(x for x in onnxlint.lint(model).layers if x.name == "conv")
    assert finding.match[1] == layer.macs // 4  # two of eight channels: a quarter of the layer's MACs


@pytest.mark.slow
def test_cross_layer_equalization_is_exact_in_float_and_helps_per_tensor_int8(tmp_path):
    """PP-OCR's mobile direction classifier, real weights: OL705 equalizes its one ReLU pair whose first conv's
    channel ranges spread 41.8× (BatchNorm folded first). The written file computes the same function in
    onnxruntime; quantized per-tensor by quantize_static (same calibration and inputs), the first conv's int8
    weights lose far less (its worst channel 17.4 → 36.2 dB) while the second's hold, and no channel is zeroed
    either way. The output SQNR against the float model moves with the CPU onnxruntime calibrates on (the range
    moves into the activation between the two convs): 20.9 → 22.6 dB measured on an AMD EPYC, 21.3 → 20.5 dB on an
    Intel Xeon; it stays within 1.5 dB of the model's either way."""
    from onnxlint.fix import fix

    cls = FIXTURES / "paddle" / "ch_ppocr_mobile_v2.0_cls_infer.onnx"
    shape = (1, 3, 48, 192)
    result = fix(cls, output=tmp_path / "equalized.onnx", select=["OL705"], input_shapes={"x": list(shape)})
    assert result.changes == ["OL705 equalized Conv@7 → Relu@4 → Conv@8 (BatchNorm folded)"]
    rng = np.random.default_rng(7)
    feed = {"x": rng.random(shape, dtype=np.float32)}
    import onnxruntime as ort

    outputs = [ort.InferenceSession(str(p), providers=["CPUExecutionProvider"]).run(None, feed)[0]
               for p in (cls, tmp_path / "equalized.onnx")]
    np.testing.assert_allclose(outputs[1], outputs[0], rtol=1e-5, atol=1e-6)
    sys.path.insert(0, str(FIXTURES.parent / "benchmarks"))
    from bench_cle import optimized, quantized, sqnr, weight_sqnr, zeroed_channels

    quality = {}
    for label, model in (("before", cls), ("after", tmp_path / "equalized.onnx")):
        folded = optimized(model, tmp_path / f"{label}_opt.onnx")
        int8 = quantized(folded, tmp_path / f"{label}_int8.onnx", shape)
        weights = weight_sqnr(folded, int8)
        quality[label] = (zeroed_channels(int8), sqnr(cls, int8, shape),
                          *(weights[next(k for k in weights if k.startswith(conv))] for conv in ("Conv@7", "Conv@8")))
    (zeroed, output, first, second), after = quality["before"], quality["after"]
    assert zeroed == after[0] == 0
    assert after[2][1] > first[1] + 15 and after[2][0] > first[0] + 3  # the first conv: worst channel, whole tensor
    assert after[3][0] > second[0] - 0.5  # the second conv holds
    assert abs(after[1] - output) < 1.5, (output, after[1])


def test_a_weight_that_cannot_be_read_is_no_fact_not_a_crash(tmp_path):
    """External data of an in-memory model (its folder unknown), and a data file cut short after the loader checked
    it: the reader returns None and the weight rules stay silent, without an internal error."""
    path = _stack(tmp_path, True, convs=2)
    model = onnx.load(path, load_external_data=False)
    report = onnxlint.lint(model, select=["OL701", "OL703"])  # in memory: no base_dir
    assert [d.code for d in report.diagnostics if d.code.startswith("OL7")] == []
    loaded = load(path)
    reader = WeightReader(loaded, build_graph(loaded.model, str(path)))
    with open(tmp_path / "weights.bin", "r+b") as data:
        data.truncate(1000)
    assert reader.read("w1") is None and reader.tensors_read == 0
