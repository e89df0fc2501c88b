"""What folding RepVGG's branches (OL706's fix) saves, from one run: timm's RepVGG-A0 in training-time form
(fixtures/repvgg, random weights filled in), and its folded copy (`onnxlint fix --select OL706`): nodes, MACs,
and onnxruntime's CPU time per image (median of `--runs` runs, the two models taken in turn, one thread),
at 224×224.

    python benchmarks/bench_repvgg.py [--runs 30]
"""
from __future__ import annotations

import argparse
import collections
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from conftest import with_real_weights  # noqa: E402

import onnxlint  # noqa: E402
from onnxlint.fix import fix  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=30)
    runs = parser.parse_args().runs
    with tempfile.TemporaryDirectory() as tmp:
        model = with_real_weights(ROOT / "fixtures" / "repvgg" / "repvgg_a0_torchscript.onnx", Path(tmp) / "a0.onnx")
        fix(model, output=Path(tmp) / "folded.onnx", select=["OL706"])
        paths = {"training-time": model, "folded": Path(tmp) / "folded.onnx"}
        options = ort.SessionOptions()
        options.intra_op_num_threads = options.inter_op_num_threads = 1
        sessions = {k: ort.InferenceSession(str(p), options, providers=["CPUExecutionProvider"])
                    for k, p in paths.items()}
        x = {"x": np.random.default_rng(0).standard_normal((1, 3, 224, 224)).astype(np.float32)}
        times = {k: [] for k in sessions}
        for _ in range(3):
            for session in sessions.values():
                session.run(None, x)
        for _ in range(runs):
            for name, session in sessions.items():
                start = time.perf_counter()
                session.run(None, x)
                times[name].append(time.perf_counter() - start)
        for name, path in paths.items():
            ops = collections.Counter(n.op_type for n in onnx.load(path).graph.node)
            macs = onnxlint.lint(path).totals.macs
            print(f"{name}: {ops['Conv']} Conv, {ops['Add']} Add, {ops['BatchNormalization']} BatchNormalization; "
                  f"{macs / 1e9:.3f} G MACs; {1000 * statistics.median(times[name]):.1f} ms per image")
        ratio = statistics.median(times["training-time"]) / statistics.median(times["folded"])
        print(f"folded: {ratio:.2f}× faster in onnxruntime's CPU provider (one thread)")


if __name__ == "__main__":
    main()
