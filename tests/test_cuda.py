"""--target cuda (issue 34 §3): where onnxruntime-gpu's CUDA provider runs each node, predicted from the model's
graph by the provider's own rules (its kernel registry, GetCapability and GetCpuPreferredNodes), not proven on a
device here, and proved by the provider itself where ONNXLINT_CUDA_PYTHON names an environment of onnxruntime-gpu:
on a machine with a GPU, or on this one through benchmarks/gpu_standin.py's stand-in CUDA runtime (.ci/run makes
one). The models: the deployed fixtures, and models built here with random weights: a conv stack flattened by
the shape arithmetic of a dynamic batch, a ConvTranspose the provider refuses, a real-size stack (75 MiB)."""
import json
import os
import subprocess
import sys

import numpy as np
import onnx
import pytest
from conftest import ROOT
from onnx import TensorProto, helper, numpy_helper

import onnxlint
from onnxlint.reporters import renderer

HAS_CUDA = bool(os.environ.get("ONNXLINT_CUDA_PYTHON"))
needs_cuda = pytest.mark.skipif(not HAS_CUDA, reason="no onnxruntime-gpu environment: ONNXLINT_CUDA_PYTHON names "
                                "none (benchmarks/gpu_standin.py makes one on a machine without a GPU)")
DEPLOYED = ROOT / "fixtures" / "deployed"


def _placement(report) -> tuple[int, int, dict]:
    d = report.deployment
    return d["accelerated_nodes"], d["nodes"], {row["node"]: row["why"] for row in d["cpu_nodes"]}


def _conv_stack(path, channels: int, size: int, convs: int, tail: str, external: bool = False):
    """convs × (3×3 conv, Relu) at `channels`×`size`² on a dynamic batch, random weights, then a Gemm after
    `tail`: "view", `x.view(x.size(0), -1)` as torch exports it (Shape → Gather → Unsqueeze → Concat → Reshape,
    which onnxruntime's ReshapeFusion turns into a Reshape to [0, -1]); "resize", a 2× Resize whose sizes are
    computed from the input's shape (Shape → Slice → Concat, as F.interpolate(size=...) exports), then Flatten."""
    rng = np.random.default_rng(0)
    nodes, weights, x = [], [], "image"
    for i in range(convs):
        weights.append(numpy_helper.from_array(
            (rng.standard_normal((channels, 3 if i == 0 else channels, 3, 3)) * 0.05).astype(np.float32), f"w{i}"))
        nodes += [helper.make_node("Conv", [x, f"w{i}"], [f"c{i}"], f"conv{i}", pads=[1, 1, 1, 1]),
                  helper.make_node("Relu", [f"c{i}"], [f"r{i}"], f"relu{i}")]
        x = f"r{i}"
    const = lambda name, values: numpy_helper.from_array(np.array(values, np.int64), name)  # noqa: E731
    if tail == "view":
        weights += [const("zero", 0), const("axes", [0]), const("rest", [-1])]
        nodes += [helper.make_node("Shape", [x], ["shape"], "shape"),
                  helper.make_node("Gather", ["shape", "zero"], ["n"], "gather", axis=0),
                  helper.make_node("Unsqueeze", ["n", "axes"], ["n1"], "unsqueeze"),
                  helper.make_node("Concat", ["n1", "rest"], ["flat_shape"], "concat", axis=0),
                  helper.make_node("Reshape", [x, "flat_shape"], ["flat"], "flatten")]
        features = channels * size * size
    else:
        weights += [const("start", [0]), const("stop", [2]), const("twice", [2 * size, 2 * size])]
        nodes += [helper.make_node("Shape", [x], ["shape"], "shape"),
                  helper.make_node("Slice", ["shape", "start", "stop"], ["nc"], "slice"),
                  helper.make_node("Concat", ["nc", "twice"], ["sizes"], "concat", axis=0),
                  helper.make_node("Resize", [x, "", "", "sizes"], ["up"], "resize", mode="nearest"),
                  helper.make_node("Flatten", ["up"], ["flat"], "flatten", axis=1)]
        features = channels * 4 * size * size
    weights.append(numpy_helper.from_array((rng.standard_normal((features, 10)) * 0.01).astype(np.float32), "fc"))
    nodes.append(helper.make_node("Gemm", ["flat", "fc"], ["logits"], "fc"))
    graph = helper.make_graph(nodes, "stack", [helper.make_tensor_value_info("image", TensorProto.FLOAT,
                                                                             ["batch", 3, size, size])],
                              [helper.make_tensor_value_info("logits", TensorProto.FLOAT, None)], weights)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    if external:
        onnx.save(model, str(path), save_as_external_data=True, location=path.stem + ".weights")
    else:
        onnx.save(model, str(path))
    return path


@pytest.fixture(scope="module")
def resized(tmp_path_factory):
    return _conv_stack(tmp_path_factory.mktemp("cuda") / "resized.onnx", 16, 16, 2, "resize")


@pytest.fixture(scope="module")
def viewed(tmp_path_factory):
    return _conv_stack(tmp_path_factory.mktemp("cuda") / "viewed.onnx", 16, 16, 2, "view")


@pytest.fixture(scope="module")
def asymmetric(tmp_path_factory):
    """A ConvTranspose with asymmetric pads between two convs: cuDNN pads symmetrically, so the provider's
    GetCapability leaves it to the CPU."""
    rng = np.random.default_rng(1)
    w = lambda name, shape: numpy_helper.from_array((rng.standard_normal(shape) * 0.05).astype(np.float32), name)  # noqa: E731
    nodes = [helper.make_node("Conv", ["image", "w1"], ["c1"], "conv1", pads=[1, 1, 1, 1]),
             helper.make_node("ConvTranspose", ["c1", "wt"], ["up"], "up", strides=[2, 2], pads=[0, 0, 1, 1]),
             helper.make_node("Conv", ["up", "w2"], ["out"], "conv2", pads=[1, 1, 1, 1])]
    graph = helper.make_graph(nodes, "up", [helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 3, 32, 32])],
                              [helper.make_tensor_value_info("out", TensorProto.FLOAT, None)],
                              [w("w1", (8, 3, 3, 3)), w("wt", (8, 8, 3, 3)), w("w2", (4, 8, 3, 3))])
    path = tmp_path_factory.mktemp("cuda") / "asymmetric.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    return path


def test_a_float_model_runs_whole_on_the_gpu_and_the_view_says_it_is_not_proven_on_a_device():
    report = onnxlint.lint(str(DEPLOYED / "bottleneck_float.onnx"), target="cuda")
    on_gpu, nodes, cpu = _placement(report)
    assert on_gpu == nodes == 12 and not cpu and report.deployment["partitions"] == 1
    assert report.deployment["caveat"] == "onnxruntime-gpu 1.31.1's CUDA provider, not proven on a device"
    assert "not proven on a device" in renderer("text")([report])
    assert "OL605" not in {d.code for d in report.diagnostics}


def test_the_shape_arithmetic_of_a_dynamic_batch_stays_on_the_cpu_and_is_no_fallback(resized):
    """Shape's result lives in CPU memory; Slice and Concat read only it and small constants, so the provider
    leaves them to the CPU; the Resize reads the conv's result, on the GPU, and its sizes from the CPU as its
    kernel does anyway. Two tensors cross: Shape's result out, the sizes back in. By design, not a finding."""
    report = onnxlint.lint(str(resized), target="cuda")
    on_gpu, nodes, cpu = _placement(report)
    assert (on_gpu, nodes) == (8, 10)
    assert set(cpu) == {"slice", "concat"}
    assert all(why.startswith("shape arithmetic on the CPU:") for why in cpu.values())
    assert report.deployment["crossings"] == 2
    assert "OL605" not in {d.code for d in report.diagnostics}
    fixed = onnxlint.lint(str(resized), target="cuda", input_shapes={"image": (1, 3, 16, 16)})
    assert _placement(fixed)[2] == cpu  # a size given for the lint is not the file's: onnxruntime cannot fold it


def test_a_view_of_the_batch_is_fused_into_one_reshape_as_onnxruntime_does(viewed):
    report = onnxlint.lint(str(viewed), target="cuda")
    assert _placement(report) == (6, 6, {}) and report.deployment["crossings"] == 0


def test_a_quantized_model_in_qoperator_form_falls_back_with_the_ops_named():
    report = onnxlint.lint(str(DEPLOYED / "bottleneck_qoperator.onnx"), target="cuda")
    on_gpu, nodes, cpu = _placement(report)
    assert (on_gpu, nodes) == (3, 10)
    assert cpu["plain_quant"] == "no CUDA kernel: QLinearConv"
    found = [d for d in report.diagnostics if d.code == "OL605"]
    assert len(found) == 1 and found[0].message.startswith("cuda: 7 of 10 nodes (100.0% of the MACs) stay on the CPU")
    assert "OL603" not in {d.code for d in report.diagnostics}  # one cause, one finding: no partitions compiled
    assert "QDQ" in found[0].suggestion
    # the QDQ form runs on the GPU (DequantizeLinear → float op → QuantizeLinear) but for its int32 biases
    # DequantizeLinear, which the provider's int8/uint8 kernel does not take
    qdq = onnxlint.lint(str(DEPLOYED / "bottleneck_qdq.onnx"), target="cuda")
    on_gpu, nodes, cpu = _placement(qdq)
    assert (on_gpu, nodes) == (31, 36) and set(cpu) == {f"{layer}.b_DequantizeLinear" for layer in (
        "reduce", "spatial", "expand", "plain", "fc")}
    assert all(why == f"int32 bias: '{name[:-len('DequantizeLinear')]}quantized'" for name, why in cpu.items())
    bias = [d for d in qdq.diagnostics if d.code == "OL605"]
    assert len(bias) == 1 and "'QuantizeBias': False" in bias[0].suggestion


@pytest.fixture(scope="module")
def float_biases(tmp_path_factory):
    """The float bottleneck quantized to QDQ as OL605 advises for the int32 biases: QuantizeBias off."""
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static

    source = DEPLOYED / "bottleneck_float.onnx"
    declared = onnx.load(str(source)).graph.input[0]
    shape = [d.dim_value or 1 for d in declared.type.tensor_type.shape.dim]

    class Reader(CalibrationDataReader):
        def __init__(self):
            self.rng, self.left = np.random.default_rng(0), 4

        def get_next(self):
            self.left -= 1
            return {declared.name: self.rng.standard_normal(shape).astype(np.float32)} if self.left >= 0 else None

    path = tmp_path_factory.mktemp("cuda") / "float_biases.onnx"
    quantize_static(str(source), str(path), Reader(), quant_format=QuantFormat.QDQ, activation_type=QuantType.QUInt8,
                    weight_type=QuantType.QInt8, extra_options={"QuantizeBias": False})
    return path


def test_the_advised_quantization_keeps_every_layer_on_the_gpu(float_biases):
    report = onnxlint.lint(str(float_biases), target="cuda")
    on_gpu, nodes, cpu = _placement(report)
    assert on_gpu == nodes == 31 and not cpu and "OL605" not in {d.code for d in report.diagnostics}


def test_a_conv_transpose_with_asymmetric_pads_falls_back_and_the_finding_says_why(asymmetric):
    report = onnxlint.lint(str(asymmetric), target="cuda")
    on_gpu, nodes, cpu = _placement(report)
    assert (on_gpu, nodes) == (2, 3)
    assert cpu == {"up": "op mode refused: ConvTranspose with asymmetric pads [0, 0, 1, 1]"}
    assert report.deployment["crossings"] == 2
    found = [d for d in report.diagnostics if d.code == "OL605"]
    assert len(found) == 1 and "op mode refused" in found[0].message and "symmetric" in found[0].suggestion


@needs_cuda
def test_the_provider_places_every_node_where_predicted(resized, viewed, asymmetric, float_biases):
    for path in (resized, viewed, asymmetric, float_biases, *(DEPLOYED / f"bottleneck_{form}.onnx" for form in (
            "qoperator", "qdq", "fp16"))):
        report = onnxlint.lint(str(path), target="cuda", verify=True)
        proof = report.deployment["proved"]
        assert "error" not in proof, proof
        assert proof["layers"] >= 3 and proof["disagree"] == [], (path.name, proof["disagree"][:5])
        assert proof["by"].startswith("onnxruntime-gpu ")
        assert "OL604" not in {d.code for d in report.diagnostics}


@needs_cuda
@pytest.mark.slow  # 1,668 nodes: a detection model quantized, its shape arithmetic quantized too
def test_a_detection_model_is_placed_as_predicted(tmp_path):
    """torchvision's Faster R-CNN (the fixture, weights filled here): its transform and its box decoding compute
    sizes from the image at run time; the provider leaves that arithmetic to the CPU node by node."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from bench_providers import filled

    path = filled(ROOT / "fixtures" / "detection" / "fasterrcnn_mobilenet_v3_large_320_fpn.onnx",
                  tmp_path / "frcnn.onnx")
    report = onnxlint.lint(str(path), target="cuda", verify=True, input_shapes={"image": (3, 320, 320)})
    proof = report.deployment["proved"]
    assert "error" not in proof, proof
    assert proof["layers"] > 400 and proof["disagree"] == [], proof["disagree"][:5]
    assert 0 < len(report.deployment["cpu_nodes"]) < report.deployment["nodes"]


@needs_cuda
@pytest.mark.slow  # a 75 MiB model, its weights written beside it
def test_a_real_size_model_with_external_weights_is_proved_from_its_files(tmp_path):
    """Eight 3×3 convs of 512 channels at 12×12 with random weights, resized to sizes computed from the dynamic
    batch and flattened into a Gemm (90 MiB,
    external data as exporters write big models): the provider places every node as predicted; the user's files
    are untouched."""
    path = _conv_stack(tmp_path / "big.onnx", 512, 12, 8, "resize", external=True)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    assert sum(p.stat().st_size for p in tmp_path.iterdir()) > 64 * 2**20
    report = onnxlint.lint(str(path), target="cuda", verify=True)
    proof = report.deployment["proved"]
    assert "error" not in proof, proof
    assert proof["layers"] == 22 and proof["disagree"] == [] and report.deployment["accelerated_nodes"] == 20
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before


@needs_cuda
@pytest.mark.slow  # every node test of onnx, a session each
def test_the_shipped_kernel_table_is_the_providers_own():
    """cuda_kernels.json, read again from onnxruntime-gpu in its environment, is the same: the table the
    prediction stands on is the provider's, not a copy that drifted."""
    done = subprocess.run([os.environ["ONNXLINT_CUDA_PYTHON"], "-m", "onnxlint.deploy.cuda_registry"],
                          capture_output=True, text=True, cwd=ROOT, timeout=600,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr[-2000:]
    shipped = json.loads((ROOT / "onnxlint" / "deploy" / "cuda_kernels.json").read_text())
    assert json.loads(done.stdout) == shipped


def test_without_the_provider_verify_says_how_to_get_it(monkeypatch):
    monkeypatch.delenv("ONNXLINT_CUDA_PYTHON", raising=False)
    report = onnxlint.lint(str(DEPLOYED / "bottleneck_qdq.onnx"), target="cuda", verify=True)
    assert "ONNXLINT_CUDA_PYTHON" in report.deployment["proved"]["error"]


def test_the_plain_path_imports_no_vendor_package():
    code = ("import sys, onnxlint; r = onnxlint.lint(sys.argv[1], target='cuda'); "
            "assert r.deployment['accelerated_nodes'] == 31; "
            "print(sorted(m for m in ('onnxruntime',) if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code, str(DEPLOYED / "bottleneck_qdq.onnx")],
                          capture_output=True, text=True)
    assert done.stdout.strip() == "[]", done.stdout + done.stderr
