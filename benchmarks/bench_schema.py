"""What the schema check (onnxlint/shapes/schema.py, OL006) and the kernel check (shapes/kernels.py, OL007, its
registry cached) cost a plain lint, on the nine light models and a
20k-node Conv+Relu chain, from one run: the check's own time (median of 20 calls on the model's graph and shapes)
as a share of an in-process `lint()`, and — noisier on a shared machine — `lint()` with the check and with it
replaced by a no-op, taken in turn (A, B, A, B...), medians of `--repeat` runs.

    python benchmarks/bench_schema.py [--repeat 7]
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import onnx

sys.path.insert(0, str(Path(__file__).parent))
from bench_core import chain  # noqa: E402

import onnxlint  # noqa: E402
import onnxlint.shapes as shapes  # noqa: E402


def timed(path: str, repeat: int) -> tuple[float, float]:
    real = shapes.schema_problems, shapes.unknown_elem_types
    runs: tuple[list, list] = ([], [])
    for _ in range(repeat):
        for checked, taken in zip((True, False), runs):
            shapes.schema_problems, shapes.unknown_elem_types = real if checked else (lambda *a: ({}, {}),
                                                                                      lambda *a: [])
            start = time.perf_counter()
            onnxlint.lint(path)
            taken.append(time.perf_counter() - start)
    shapes.schema_problems, shapes.unknown_elem_types = real
    return statistics.median(runs[0]), statistics.median(runs[1])


def check_alone(path: str) -> float:
    from onnxlint.graph import build_graph
    from onnxlint.loader import load

    loaded = load(path)
    graph = build_graph(loaded.model, path)
    found = shapes.infer_shapes(loaded.model, graph)
    times = []
    for _ in range(20):
        start = time.perf_counter()
        shapes.schema_problems(graph, found)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    light = Path(onnx.__file__).parent / "backend" / "test" / "data" / "light"
    with tempfile.TemporaryDirectory() as tmp:
        big = os.path.join(tmp, "chain_20k.onnx")
        onnx.save(chain(20_000), big)
        print(f"{'model':<20} {'check alone':>11} {'share':>6}   {'lint with':>9} {'without':>8} {'ratio':>6}")
        for path in [*sorted(str(p) for p in light.glob("*.onnx")), big]:
            onnxlint.lint(path)  # warm: imports, the schema table
            alone = check_alone(path)
            with_check, without = timed(path, args.repeat)
            name = Path(path).stem.removeprefix("light_")
            print(f"{name:<20} {alone * 1000:>9.2f}ms {100 * alone / with_check:>5.1f}%"
                  f"   {with_check * 1000:>7.1f}ms {without * 1000:>6.1f}ms {with_check / without:>6.3f}")


if __name__ == "__main__":
    main()
