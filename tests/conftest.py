import importlib.util
import math
import os
import subprocess
import sys
from pathlib import Path

import onnx
import pytest

import onnxlint

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
ONNX_DATA = Path(onnx.__file__).parent / "backend" / "test" / "data"
LIGHT = ONNX_DATA / "light"


def light(name: str) -> Path:
    path = LIGHT / f"light_{name}.onnx"
    assert path.is_file(), f"the onnx wheel no longer ships {path}"  # fail, never skip
    return path


# headless Chromium as this machine runs it: no network of its own (Debian's `chromium`; .ci/run installs it)
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-extensions"]


def chromium() -> str:
    import shutil

    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None and not os.environ.get("CI"):
        pytest.skip("needs Chromium (apt-get install chromium); CI installs it")
    assert path, "CI must have Chromium: .ci/run installs it"
    return path


def fixture(name: str) -> Path:
    return FIXTURES / f"{name}.onnx"


def lint_fixture(name: str, **options) -> onnxlint.Report:
    return onnxlint.lint(fixture(name), **options)


def layer(report: onnxlint.Report, name: str):
    return next(layer for layer in report.layers if layer.name == name)


def codes(report: onnxlint.Report, code: str) -> list:
    return [d for d in report.diagnostics if d.code == code]


def run_cli(*args: str, cwd=None, input_bytes=None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    return subprocess.run([sys.executable, "-m", "onnxlint", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, env=env, timeout=300)


def load_builder():
    spec = importlib.util.spec_from_file_location("fixture_build", FIXTURES / "build.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


CORPUS = FIXTURES / "corpus"


def corpus_references() -> dict:
    import json

    return json.loads((CORPUS / "references.json").read_text())


@pytest.fixture(scope="session")
def corpus_dir(tmp_path_factory) -> Path:
    """The 30 real torchvision/timm exports of fixtures/corpus/zoo-dev.tar.gz, unpacked once per run."""
    import tarfile

    target = tmp_path_factory.mktemp("corpus")
    with tarfile.open(CORPUS / "zoo-dev.tar.gz") as archive:
        archive.extractall(target, filter="data")
    return target


def with_random_weights(source: Path, target: Path) -> Path:
    """A copy of a corpus model whose stripped initializers (dims and dtype kept) hold random values."""
    import numpy as np
    from onnx import helper, numpy_helper

    model = onnx.load(source)
    rng = np.random.default_rng(0)
    for i, init in enumerate(model.graph.initializer):
        if init.doc_string == "zoo:stripped":
            dtype = helper.tensor_dtype_to_np_dtype(init.data_type)
            values = (rng.standard_normal(list(init.dims)) * 0.02).astype(dtype)
            model.graph.initializer[i].CopyFrom(numpy_helper.from_array(values, init.name))
    onnx.save(model, target)
    return target


def with_real_weights(source: Path, target: Path) -> Path:
    """A copy of a model whose weights are real random values: initializers stored as dims only (any dtype,
    quantized ones too) get values, and ConstantOfShape placeholder weights (the onnx wheel's light models) become
    initializers — so that equal placeholders are no longer equal, as in a trained model."""
    import numpy as np
    from onnx import helper, numpy_helper

    model = onnx.load(source)
    graph, rng = model.graph, np.random.default_rng(0)
    for i, init in enumerate(graph.initializer):
        if math.prod(init.dims) and not (init.raw_data or init.float_data or init.int32_data or init.int64_data
                                         or init.double_data or init.data_location == onnx.TensorProto.EXTERNAL):
            dtype = helper.tensor_dtype_to_np_dtype(init.data_type)
            values = rng.integers(-3, 4, list(init.dims)) if np.issubdtype(dtype, np.integer) else \
                rng.standard_normal(list(init.dims)) * 0.05
            graph.initializer[i].CopyFrom(numpy_helper.from_array(values.astype(dtype), init.name))
    shapes = {n.output[0]: numpy_helper.to_array(n.attribute[0].t) for n in graph.node
              if n.op_type == "Constant"}
    shapes.update({t.name: numpy_helper.to_array(t) for t in graph.initializer
                   if t.data_type == onnx.TensorProto.INT64})
    kept = []
    for node in graph.node:
        if node.op_type == "ConstantOfShape" and node.input[0] in shapes:
            dims = [int(d) for d in shapes[node.input[0]]]
            graph.initializer.append(numpy_helper.from_array(
                (rng.standard_normal(dims) * 0.05 + 0.01).astype(np.float32), node.output[0]))
        else:
            kept.append(node)
    del graph.node[:]
    graph.node.extend(kept)
    onnx.save(model, target)
    return target
