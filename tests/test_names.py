"""One name per layer in every format: the module path the exporter wrote, else the node name; the node name
stays in the JSON (`node`, `peak_at`) and behind --show-all."""
import json

from conftest import run_cli


def test_every_format_names_a_layer_by_its_module_path(corpus_dir):
    model = corpus_dir / "tv_resnet18.onnx"  # TorchScript names: /layer2/layer2.0/conv2/Conv → layer2.0.conv2
    text = run_cli(model).stdout
    assert "the largest saving is at layer2.0.conv2" in text
    assert "peak activations 6.1 MiB at relu\n" in text
    summary = run_cli(model, "--summary").stdout
    assert "layer1.0.conv1 " in summary and "/layer1/" not in summary
    for fmt in ("markdown", "csv"):
        out = run_cli(model, "--summary", "--format", fmt).stdout
        assert "layer1.0.conv1" in out and "/layer1/layer1.0" not in out, fmt
    html = run_cli(model, "--format", "html").stdout
    assert "peak 6.1 MiB at relu<" in html and "The peak, 6.1 MiB at relu, holds" in html
    data = json.loads(run_cli(model, "--format", "json").stdout)["models"][0]
    assert data["totals"]["peak_at"] == "/relu/Relu" and data["totals"]["peak_label"] == "relu"
    assert any(layer["node"] == "/layer1/layer1.0/conv1/Conv" and layer["module"] == "layer1.0.conv1"
               for layer in data["layers"])
