"""--verify and --profile cost on the onnx package's light models, as ratios from one run.

    python benchmarks/bench_verify.py

baseline = a plain onnxruntime session on the unmodified model (default options) + one run, in process.
verify   = onnxlint.lint(path, verify=True): lint + a sandboxed child that loads, exposes every tensor,
           builds an ORT_DISABLE_ALL session and runs once (goal ≤ 1.5× the baseline).
profile  = onnxlint.lint(path, profile=10) ÷ verify: the cost of 10 profiled runs.
"""
from __future__ import annotations

import statistics
import time
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort

import onnxlint

ort.set_default_logger_severity(3)
LIGHT = Path(onnx.__file__).parent / "backend" / "test" / "data" / "light"


def baseline(path: Path) -> None:
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    feeds = {i.name: np.random.default_rng(0).standard_normal(i.shape).astype(np.float32)
             for i in session.get_inputs() if "float" in i.type and all(isinstance(d, int) for d in i.shape)}
    session.run(None, feeds)


def timed(fn, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    print(f"onnxruntime {ort.__version__}; median of 3")
    print(f"{'model':<26}{'baseline':>10}{'verify':>10}{'ratio':>8}{'profile':>10}{'÷verify':>9}")
    ratios = []
    for path in sorted(LIGHT.glob("light_*.onnx")):
        base = timed(lambda: baseline(path))
        verify = timed(lambda: onnxlint.lint(path, verify=True))
        profile = timed(lambda: onnxlint.lint(path, profile=10), repeat=1)
        ratios.append(verify / base)
        print(f"{path.stem:<26}{base:>9.2f}s{verify:>9.2f}s{verify / base:>7.2f}×{profile:>9.2f}s"
              f"{profile / verify:>8.2f}×")
    print(f"median verify ratio {statistics.median(ratios):.2f}× (goal ≤ 1.5×)")
    import subprocess
    import sys
    child = timed(lambda: subprocess.run([sys.executable, "-c", "import onnxruntime, numpy"], check=True))
    print(f"fixed cost of the sandboxed child (a Python that imports onnxruntime and numpy): {child:.2f}s")


if __name__ == "__main__":
    main()
