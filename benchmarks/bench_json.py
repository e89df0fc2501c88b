"""JSON against text at scale (issue 32 §4): whole `onnxlint` processes on mixed-op models of 50k, 100k and 200k
nodes (Conv, BatchNormalization, Relu, a residual Add, MaxPool and Reshape round trips), their peak RSS and wall
time for the text output and for `--format json -o FILE` (the streamed document), and — for the record — the
document made whole in memory as before (`json.dumps` of the report's dict), all in one run.

    python benchmarks/bench_json.py [--sizes 50000,100000,200000]
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

_PROBE = "import resource, subprocess, sys; subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL); " \
         "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
_WHOLE = ("import json, sys, onnxlint; from onnxlint.report import envelope; "
          "open(sys.argv[2], 'w').write(json.dumps(envelope([onnxlint.lint(sys.argv[1])]), indent=2, "
          "ensure_ascii=False))")


def mixed(n_nodes: int) -> onnx.ModelProto:
    nodes, inits, x = [], [], "input"
    shape = numpy_helper.from_array(np.array([1, 8, 16, 16], np.int64), "shape")
    flat = numpy_helper.from_array(np.array([1, -1], np.int64), "flat")
    inits += [shape, flat]
    for i in range(n_nodes // 6):
        w = numpy_helper.from_array(np.full((8, 8, 3, 3), 0.01, np.float32), f"w{i}")
        stats = [numpy_helper.from_array(np.full(8, v, np.float32), f"bn{i}_{k}") for k, v in
                 (("s", 1.0), ("b", 0.0), ("m", 0.0), ("v", 1.0))]
        inits += [w, *stats]
        nodes += [helper.make_node("Conv", [x, w.name], [f"c{i}"], pads=[1, 1, 1, 1]),
                  helper.make_node("BatchNormalization", [f"c{i}", *(t.name for t in stats)], [f"b{i}"]),
                  helper.make_node("Relu", [f"b{i}"], [f"r{i}"]),
                  helper.make_node("Add", [f"r{i}", x], [f"a{i}"]),
                  helper.make_node("Reshape", [f"a{i}", "flat"], [f"f{i}"]),
                  helper.make_node("Reshape", [f"f{i}", "shape"], [f"x{i}"])]
        x = f"x{i}"
    io = [helper.make_tensor_value_info(name, TensorProto.FLOAT, [1, 8, 16, 16]) for name in ("input", x)]
    graph = helper.make_graph(nodes, "mixed", io[:1], io[1:], inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def run(*command: str) -> tuple[float, int]:
    """Wall seconds and peak RSS (MiB) of one whole process."""
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", _PROBE, *command], capture_output=True, text=True, check=True)
    return time.perf_counter() - start, int(done.stdout.split()[-1]) // 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="50000,100000,200000")
    args = parser.parse_args()
    print(f"{'nodes':>8}  {'text':>16}  {'json (streamed)':>20}  {'json whole (before)':>20}  json ÷ text (RSS)")
    with tempfile.TemporaryDirectory() as tmp:
        for n in (int(s) for s in args.sizes.split(",")):
            model = os.path.join(tmp, f"mixed_{n}.onnx")
            onnx.save(mixed(n), model)
            out = os.path.join(tmp, "out.json")
            text = run(sys.executable, "-m", "onnxlint", model, "--exit-zero")
            stream = run(sys.executable, "-m", "onnxlint", model, "--format", "json", "-o", out, "--exit-zero")
            size = os.path.getsize(out) / 2**20
            whole = run(sys.executable, "-c", _WHOLE, model, out)
            print(f"{n:>8}  {text[0]:6.1f} s {text[1]:5} MiB  {stream[0]:6.1f} s {stream[1]:5} MiB  "
                  f"{whole[0]:6.1f} s {whole[1]:5} MiB  {stream[1] / text[1]:.2f}× (before {whole[1] / text[1]:.2f}×); "
                  f"{size:.0f} MiB written")


if __name__ == "__main__":
    main()
