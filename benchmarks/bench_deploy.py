"""Whether the deployment view's float islands matter: onnxruntime's CPU latency of each quantized fixture
(real random weights) before and after `onnxlint fix --select OL601` (int8 activations made uint8, exact), beside
its float export, and of the fp16 bottleneck beside its fp32 original. One run, the models timed in turn (A, B,
C, A, B, C...), default graph optimizations, one thread. `python benchmarks/bench_deploy.py [--runs 30]`"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
from conftest import with_real_weights  # noqa: E402

from onnxlint.fix import fix  # noqa: E402


def session(path: Path):
    options = ort.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = 1
    options.log_severity_level = 3
    s = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    spec = s.get_inputs()[0]
    dtype = np.float16 if "float16" in spec.type else np.float32
    dims = [d if isinstance(d, int) else 1 for d in spec.shape]
    feed = {spec.name: np.random.default_rng(0).standard_normal(dims).astype(dtype)}
    return s, feed


def timed(models: dict, runs: int) -> dict:
    sessions = {label: session(path) for label, path in models.items()}
    for s, feed in sessions.values():
        for _ in range(3):
            s.run(None, feed)
    times: dict = {label: [] for label in models}
    for _ in range(runs):
        for label, (s, feed) in sessions.items():
            start = time.perf_counter()
            s.run(None, feed)
            times[label].append((time.perf_counter() - start) * 1000)
    return {label: statistics.median(t) for label, t in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=30)
    runs = parser.parse_args().runs
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        print(f"onnxruntime {ort.__version__}, CPU provider, one thread, median of {runs} runs each, in turn")
        for name in ("resnet26d", "cs3darknet_s"):
            quantized = with_real_weights(ROOT / "fixtures" / "quantized" / f"{name}_qdq.onnx", tmp / f"{name}_q.onnx")
            float_ = with_real_weights(ROOT / "fixtures" / "quantized" / f"{name}_float.onnx", tmp / f"{name}_f.onnx")
            fixed = tmp / f"{name}_fixed.onnx"
            result = fix(str(quantized), output=fixed, select=["OL601"])
            ms = timed({"float": float_, "QDQ": quantized, "QDQ fixed": fixed}, runs)
            print(f"  {name}: float {ms['float']:.2f} ms, QDQ as quantized {ms['QDQ']:.2f} ms, after the fix "
                  f"({len(result.changes)} rewrites) {ms['QDQ fixed']:.2f} ms: "
                  f"{ms['QDQ'] / ms['QDQ fixed']:.2f}× faster")
        half = with_real_weights(ROOT / "fixtures" / "deployed" / "bottleneck_fp16.onnx", tmp / "b16.onnx")
        full = with_real_weights(ROOT / "fixtures" / "deployed" / "bottleneck_float.onnx", tmp / "b32.onnx")
        ms = timed({"fp32": full, "fp16": half}, runs)
        print(f"  bottleneck: fp32 {ms['fp32']:.3f} ms, fp16 {ms['fp16']:.3f} ms "
              f"({ms['fp16'] / ms['fp32']:.2f}× the fp32 time: every layer falls back to fp32 between casts)")


if __name__ == "__main__":
    main()
