"""Core speed and memory, printed as ratios measured in one run on this machine (issue: speed).

    python benchmarks/bench_core.py

1. in-process lint ÷ onnx.load(path) on generated Conv+Relu chains of 1k, 10k, 20k, 50k nodes (goal ≤ 3×),
   beside the ratio to the parse floor onnx.load(path, load_external_data=False), and 50k ÷ 1k (linear: ≤ 60×);
   with the interpreter's garbage collector on (lint() pauses it for the call and restores it) and off (the CLI's own);
2. a whole `onnxlint light_resnet50.onnx` process ÷ `python -c "import onnx; onnx.load(path)"` (goal ≤ 2×);
3. peak RSS linting a model with 1.5 GB of external weights (goal < 300 MB; the weight file is sparse
   and must never be opened);
4. `onnxlint --version` and `onnxlint fixtures/demo.onnx` ÷ `python -c "import onnx"` (goal ≤ 1×);
5. the same 1.5 GB embedded in the .onnx: lint (payloads skipped at the wire level) vs a plain onnx.load;
6. peak RSS of the whole `onnxlint` process on the 50k chain (goal ≤ 315 MiB);
7. a file of many small nodes just over the 64 MiB threshold: parsed plainly (not by the payload-skipping
   walk), at the 50k chain's cost per node.
The side-by-side table with the peers (onnxslim, polygraphy, onnx-tool) is benchmarks/bench_peers.py.
"""
from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

import onnxlint

LIGHT = Path(onnx.__file__).parent / "backend" / "test" / "data" / "light"


def chain(n_nodes: int) -> onnx.ModelProto:
    nodes, inits = [], []
    x = "input"
    for i in range(n_nodes // 2):
        w = numpy_helper.from_array(np.full((4, 4, 3, 3), 0.01, np.float32), f"w{i}")
        inits.append(w)
        nodes.append(helper.make_node("Conv", [x, w.name], [f"c{i}"], name=f"conv{i}", kernel_shape=[3, 3],
                                      pads=[1, 1, 1, 1]))
        nodes.append(helper.make_node("Relu", [f"c{i}"], [f"r{i}"], name=f"relu{i}"))
        x = f"r{i}"
    graph = helper.make_graph(nodes, "chain", [helper.make_tensor_value_info("input", TensorProto.FLOAT,
                                                                             [1, 4, 16, 16])],
                              [helper.make_tensor_value_info(x, TensorProto.FLOAT, [1, 4, 16, 16])], inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def best_of(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


# subprocesses as an installed package runs: with its bytecode cached (a dev shell may say not to write it)
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def median_process(cmd: list[str], repeat: int = 7) -> float:
    subprocess.run(cmd, capture_output=True, check=False, env=ENV)  # warm: bytecode written, files cached
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(cmd, capture_output=True, check=False, env=ENV)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def external_weights_model(folder: Path) -> Path:
    """A conv stack whose 1.5 GB of weights live in one sparse external file."""
    inits, nodes, offset, x = [], [], 0, "input"
    channels = 2048
    per_layer = channels * channels * 9 * 4  # 151 MB per 3×3 2048→2048 conv
    for i in range(10):
        w = TensorProto(name=f"w{i}", data_type=TensorProto.FLOAT, dims=[channels, channels, 3, 3])
        w.data_location = TensorProto.EXTERNAL
        for key, value in (("location", "weights.bin"), ("offset", str(offset)), ("length", str(per_layer))):
            w.external_data.add(key=key, value=value)
        offset += per_layer
        inits.append(w)
        nodes.append(helper.make_node("Conv", [x, w.name], [f"c{i}"], kernel_shape=[3, 3], pads=[1, 1, 1, 1]))
        x = f"c{i}"
    with open(folder / "weights.bin", "wb") as f:
        f.truncate(offset)  # sparse: takes no disk space
    graph = helper.make_graph(nodes, "big", [helper.make_tensor_value_info("input", TensorProto.FLOAT,
                                                                           [1, channels, 14, 14])],
                              [helper.make_tensor_value_info(x, TensorProto.FLOAT, None)], inits)
    path = folder / "big.onnx"
    path.write_bytes(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]).SerializeToString())
    return path


def embedded_weights_model(folder: Path) -> Path:
    """Ten 3×3 2048→2048 convs with their 1.5 GB of weights inside the .onnx."""
    inits, nodes, x = [], [], "input"
    for i in range(10):
        w = TensorProto(name=f"w{i}", data_type=TensorProto.FLOAT, dims=[2048, 2048, 3, 3])
        w.raw_data = bytes(2048 * 2048 * 9 * 4)
        inits.append(w)
        nodes.append(helper.make_node("Conv", [x, w.name], [f"c{i}"], kernel_shape=[3, 3], pads=[1, 1, 1, 1]))
        x = f"c{i}"
    graph = helper.make_graph(nodes, "embedded", [helper.make_tensor_value_info("input", TensorProto.FLOAT,
                                                                                [1, 2048, 14, 14])],
                              [helper.make_tensor_value_info(x, TensorProto.FLOAT, None)], inits)
    path = folder / "embedded.onnx"
    path.write_bytes(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]).SerializeToString())
    return path


def main() -> None:
    print(f"onnxlint {onnxlint.__version__}, onnx {onnx.__version__}, python {sys.version.split()[0]}")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        lint_times = {}
        print("\n1. lint ÷ onnx.load(path) on Conv+Relu chains (goal ≤ 3×); ÷ the parse floor "
              "onnx.load(path, load_external_data=False)")
        import gc

        for n in (1_000, 10_000, 20_000, 50_000):
            path = tmp / f"chain{n}.onnx"
            path.write_bytes(chain(n).SerializeToString())
            repeat = 5 if n < 50_000 else 3
            load = best_of(lambda: onnx.load(path), repeat)
            floor = best_of(lambda: onnx.load(path, load_external_data=False), repeat)
            lint = best_of(lambda: onnxlint.lint(path), repeat)
            gc.disable()
            lint_off = best_of(lambda: onnxlint.lint(path), repeat)
            gc.enable()
            lint_times[n] = lint
            print(f"   {n:>6,} nodes: onnx.load {load * 1000:7.1f} ms, floor {floor * 1000:7.1f} ms, lint "
                  f"{lint * 1000:7.1f} ms: {lint / load:.2f}× onnx.load, {lint / floor:.1f}× the floor; GC off "
                  f"{lint_off * 1000:7.1f} ms: {lint_off / load:.2f}×")
        print(f"   linearity: 50k ÷ 1k = {lint_times[50_000] / lint_times[1_000]:.1f}× (goal ≤ 60×)")

        resnet = LIGHT / "light_resnet50.onnx"
        exe = [sys.executable, "-m", "onnxlint"]
        whole = median_process(exe + [str(resnet)])
        bare = median_process([sys.executable, "-c", f"import onnx; onnx.load({str(resnet)!r})"])
        print(f"\n2. whole `onnxlint light_resnet50.onnx` {whole * 1000:.0f} ms ÷ bare onnx.load process "
              f"{bare * 1000:.0f} ms = {whole / bare:.2f}× (goal ≤ 2×)")

        big = external_weights_model(tmp)
        # VmHWM is this process's own peak; ru_maxrss would inherit the benchmark's (exec keeps it)
        code = ("import re, sys, onnxlint; r = onnxlint.lint(sys.argv[1]); "
                "print(r.totals.params, re.search(r'VmHWM:\\s+(\\d+) kB', open('/proc/self/status').read()).group(1))")
        start = time.perf_counter()
        out = subprocess.run([sys.executable, "-c", code, str(big)], capture_output=True, text=True, check=True)
        seconds = time.perf_counter() - start
        params, rss_kib = map(int, out.stdout.split())
        weight_mb = os.path.getsize(tmp / "weights.bin") / 1e6
        print(f"\n3. {weight_mb:,.0f} MB of external weights ({params:,} params): peak RSS {rss_kib / 1024:.0f} MiB, "
              f"{seconds:.2f} s (goal < 300 MB)")

        version = median_process(exe + ["--version"])
        demo = median_process(exe + [str(Path(__file__).resolve().parent.parent / "fixtures" / "demo.onnx")])
        import_onnx = median_process([sys.executable, "-c", "import onnx"])
        print(f"\n4. `onnxlint --version` {version * 1000:.0f} ms, `onnxlint fixtures/demo.onnx` {demo * 1000:.0f} ms; "
              f"`python -c 'import onnx'` {import_onnx * 1000:.0f} ms: {version / import_onnx:.2f}× and "
              f"{demo / import_onnx:.2f}× (goal ≤ 1×)")
        print(f"   (bare `python -c pass`: {median_process([sys.executable, '-c', 'pass']) * 1000:.0f} ms)")
        embedded = embedded_weights_model(tmp)
        hwm = "re.search(r'VmHWM:\\s+(\\d+) kB', open('/proc/self/status').read()).group(1)"
        for label, code in (("onnxlint.lint", f"import re, sys, onnxlint; onnxlint.lint(sys.argv[1]); print({hwm})"),
                            ("onnx.load", f"import re, sys, onnx; onnx.load(sys.argv[1]); print({hwm})")):
            start = time.perf_counter()
            out = subprocess.run([sys.executable, "-c", code, str(embedded)], capture_output=True, text=True,
                                 check=True)
            print(f"\n5. {label} on {embedded.stat().st_size / 1e6:,.0f} MB of embedded weights: "
                  f"{time.perf_counter() - start:.2f} s, peak RSS {int(out.stdout) / 1024:.0f} MiB", end="")
        print()
        chain50k = tmp / "chain50000.onnx"
        out = subprocess.run(["/usr/bin/time", "-f", "%M", *exe, "-q", str(chain50k)], capture_output=True,
                             text=True, env=ENV)
        print(f"\n6. whole `onnxlint` process on the 50k chain: peak RSS {int(out.stderr.split()[-1]) / 1024:.0f} MiB "
              "(goal ≤ 315 MiB)")
        many = tmp / "chain190k.onnx"
        many.write_bytes(chain(190_000).SerializeToString())
        from onnxlint.loader import SKIP_PAYLOADS_ABOVE, load

        start = time.perf_counter()
        report = onnxlint.lint(many)
        seconds = time.perf_counter() - start
        print(f"\n7. {many.stat().st_size / 2**20:.0f} MiB of 190k small nodes (threshold "
              f"{SKIP_PAYLOADS_ABOVE / 2**20:.0f} MiB): payloads skipped: {load(many).payloads_skipped}; lint "
              f"{seconds:.2f} s = {seconds / 190_000 * 1e6:.1f} µs/node vs "
              f"{lint_times[50_000] / 50_000 * 1e6:.1f} µs/node at 50k ({len(report.layers):,} layers)")


if __name__ == "__main__":
    main()
