"""--target openvino (issue 34): where Intel's OpenVINO provider (device CPU) runs each node, predicted from the
model's graph by the provider's own GetCapability, and proved by the provider itself (onnxruntime-openvino, which
bundles its own onnxruntime: in the environment ONNXLINT_OPENVINO_PYTHON names; .ci/run makes one). The models:
the deployed fixtures (QOperator, QDQ, an If), and a real-size conv stack built here with random weights, in
which one op the provider does not take splits it."""
import os
import subprocess
import sys

import numpy as np
import onnx
import pytest
from conftest import ROOT
from onnx import TensorProto, helper, numpy_helper

import onnxlint

HAS_OPENVINO = bool(os.environ.get("ONNXLINT_OPENVINO_PYTHON"))
needs_openvino = pytest.mark.skipif(not HAS_OPENVINO, reason="no onnxruntime-openvino environment: "
                                    "ONNXLINT_OPENVINO_PYTHON names none")
DEPLOYED = ROOT / "fixtures" / "deployed"


def _placement(report) -> tuple[int, int, dict]:
    d = report.deployment
    return d["accelerated_nodes"], d["nodes"], {row["node"]: row["why"] for row in d["cpu_nodes"]}


@pytest.fixture(scope="module")
def split_stack(tmp_path_factory):
    """conv1 → relu1 → conv2 → Hardmax → relu2 → conv3, 64 channels at 56×56, random weights. The provider's table
    spells Hardmax 'HardMax', so it does not take it; conv2's output then leaves its subgraph, which the provider
    drops whole (its GetCapability), and only relu2 → conv3 runs on OpenVINO."""
    rng = np.random.default_rng(0)
    weights = [numpy_helper.from_array(rng.standard_normal((64, c, 3, 3)).astype(np.float32) * 0.05, f"w{i}")
               for i, c in enumerate((3, 64, 64), 1)]
    conv = lambda i, x, y: helper.make_node("Conv", [x, f"w{i}"], [y], f"conv{i}", pads=[1, 1, 1, 1])  # noqa: E731
    nodes = [conv(1, "image", "c1"), helper.make_node("Relu", ["c1"], ["r1"], "relu1"), conv(2, "r1", "c2"),
             helper.make_node("Hardmax", ["c2"], ["h"], "hardmax", axis=-1),
             helper.make_node("Relu", ["h"], ["r2"], "relu2"), conv(3, "r2", "out")]
    graph = helper.make_graph(nodes, "split", [helper.make_tensor_value_info("image", TensorProto.FLOAT,
                                                                             [1, 3, 56, 56])],
                              [helper.make_tensor_value_info("out", TensorProto.FLOAT, None)], weights)
    path = tmp_path_factory.mktemp("openvino") / "split_stack.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    return path


def test_a_quantized_model_in_qoperator_form_stays_on_the_cpu_with_each_cause():
    report = onnxlint.lint(str(DEPLOYED / "bottleneck_qoperator.onnx"), target="openvino")
    on_ov, nodes, cpu = _placement(report)
    assert (on_ov, nodes) == (1, 10)  # the output's DequantizeLinear: the last subgraph, kept though alone
    assert cpu["reduce_quant"] == "no OpenVINO support: QLinearConv"
    assert cpu["image_QuantizeLinear"].startswith("partition rule: a one-node subgraph (QuantizeLinear)")
    found = [d for d in report.diagnostics if d.code == "OL605"]
    assert [d.message.split(" stay on the CPU: ")[0] for d in found] == [
        "openvino: 7 of 10 nodes (100.0% of the MACs)", "openvino: 2 of 10 nodes (0.0% of the MACs)"]
    assert found[0].message.endswith("no OpenVINO support (QLinearConv, com.microsoft:QGemm, com.microsoft:QLinearAdd, "
                                     "com.microsoft:QLinearGlobalAveragePool)")


def test_the_qdq_and_float_models_run_whole_and_a_scalar_stays_on_the_cpu():
    for name in ("bottleneck_qdq.onnx", "bottleneck_float.onnx"):
        on_ov, nodes, cpu = _placement(onnxlint.lint(str(DEPLOYED / name), target="openvino"))
        assert on_ov == nodes and not cpu
    report = onnxlint.lint(str(DEPLOYED / "if_branches.onnx"), target="openvino")
    assert _placement(report)[2] == {"ReduceMean_6": "scalar tensor: ReduceMean writes the scalar 'm'"}


def test_a_conv_whose_output_leaves_its_subgraph_takes_the_subgraph_to_the_cpu(split_stack):
    report = onnxlint.lint(str(split_stack), target="openvino")
    on_ov, nodes, cpu = _placement(report)
    assert (on_ov, nodes) == (2, 6)
    assert report.deployment["crossings"] == 1  # Hardmax's result, from the CPU to relu2 on OpenVINO
    assert cpu["hardmax"] == "no OpenVINO support: Hardmax"
    assert all("output of Conv 'conv2' leaves its subgraph" in cpu[n] for n in ("conv1", "relu1", "conv2"))


@needs_openvino
@pytest.mark.slow  # OpenVINO compiles each subgraph when the session is made
def test_the_provider_places_every_node_where_predicted(split_stack):
    for path in (split_stack, DEPLOYED / "bottleneck_qoperator.onnx", DEPLOYED / "bottleneck_qdq.onnx",
                 DEPLOYED / "bottleneck_fp16.onnx"):
        report = onnxlint.lint(str(path), target="openvino", verify=True)
        proof = report.deployment["proved"]
        assert "error" not in proof, proof
        assert proof["layers"] >= 6 and proof["disagree"] == [], (path.name, proof["disagree"][:5])
        assert proof["by"].startswith("onnxruntime-openvino ")
        assert "OL604" not in {d.code for d in report.diagnostics}


def test_without_the_provider_verify_says_how_to_get_it(monkeypatch):
    monkeypatch.delenv("ONNXLINT_OPENVINO_PYTHON", raising=False)
    report = onnxlint.lint(str(DEPLOYED / "bottleneck_qdq.onnx"), target="openvino", verify=True)
    assert "ONNXLINT_OPENVINO_PYTHON" in report.deployment["proved"]["error"]


def test_the_plain_path_imports_no_vendor_package():
    code = ("import sys, onnxlint; r = onnxlint.lint(sys.argv[1], target='openvino'); "
            "assert r.deployment['accelerated_nodes'] == 36; "
            "print(sorted(m for m in ('onnxruntime', 'openvino') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code, str(DEPLOYED / "bottleneck_qdq.onnx")],
                          capture_output=True, text=True)
    assert done.stdout.strip() == "[]", done.stdout + done.stderr


def test_every_target_reaches_every_format_with_the_same_count():
    """A deployment view's findings name their nodes (OL605 lists the nodes that fall back) in every format that
    other programs read, and each format says the same number of findings."""
    import json

    from onnxlint.deploy import TARGETS
    from onnxlint.reporters import renderer

    for target in TARGETS:
        report = onnxlint.lint(str(DEPLOYED / "bottleneck_qoperator.onnx"), target=target)
        record = json.loads(renderer("json")([report]))["models"][0]
        assert len(record["diagnostics"]) == len(report.diagnostics), target
        for finding in record["diagnostics"]:
            assert all(isinstance(name, str) for name in finding["nodes"]), (target, finding["nodes"])
        fallback = [f for f in record["diagnostics"] if f["code"] == "OL605"]
        if target in ("qnn-htp", "openvino"):  # QOperator ops: QNN takes QLinearConv, OpenVINO none of them
            assert fallback and {"fc_quant", "skip_quant"} <= set(fallback[0]["nodes"]), target
        sarif = json.loads(renderer("sarif")([report]))
        assert len(sarif["runs"][0]["results"]) == len(report.diagnostics), target
        for fmt in ("text", "github", "gitlab", "markdown", "csv", "html"):
            assert renderer(fmt)([report]), (target, fmt)


@needs_openvino
@pytest.mark.slow  # a 75 MiB model, its weights written beside it
def test_a_real_size_model_with_external_weights_is_proved_from_its_files(tmp_path):
    """Eight 3×3 convs of 512 channels with random weights (75 MiB), saved with external data as exporters write
    big models: the child in the other environment reads the copy's weights and places every node as predicted;
    the user's files are untouched."""
    rng = np.random.default_rng(0)
    nodes, weights, x = [], [], "image"
    for i in range(8):
        weights.append(numpy_helper.from_array(rng.standard_normal((512, 512, 3, 3)).astype(np.float32) * 0.01,
                                               f"w{i}"))
        nodes += [helper.make_node("Conv", [x, f"w{i}"], [f"c{i}"], f"conv{i}", pads=[1, 1, 1, 1]),
                  helper.make_node("Relu", [f"c{i}"], [f"r{i}"], f"relu{i}")]
        x = f"r{i}"
    graph = helper.make_graph(nodes, "big", [helper.make_tensor_value_info("image", TensorProto.FLOAT,
                                                                           [1, 512, 14, 14])],
                              [helper.make_tensor_value_info(x, TensorProto.FLOAT, None)], weights)
    path = tmp_path / "big.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path),
              save_as_external_data=True, location="big.weights")
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    assert (tmp_path / "big.weights").stat().st_size > 64 * 2**20
    report = onnxlint.lint(str(path), target="openvino", verify=True)
    proof = report.deployment["proved"]
    assert "error" not in proof, proof
    assert proof["layers"] == 16 and proof["disagree"] == [] and report.deployment["accelerated_nodes"] == 16
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before


def test_an_attribute_of_the_wrong_type_is_no_crash_of_the_prediction():
    """Upsample's `scales` given as one float (onnx's checker refuses it): the prediction reads it as no mode it
    knows and the lint reports the schema error, not an internal one."""
    node = helper.make_node("Upsample", ["x"], ["y"], "up", scales=2.0)
    graph = helper.make_graph([node], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1, 2, 2])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)])
    report = onnxlint.lint(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 7)]), target="openvino")
    assert report.error is None and report.deployment["nodes"] == 1
    assert any(d.code == "OL006" and "scales" in d.message for d in report.diagnostics)
