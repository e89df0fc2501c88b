"""What reading weights costs (onnxlint/weights.py, issue 33's design step), from one run:

1. a 1 GiB model with external data: the bytes the plain `onnxlint` process reads (its /proc/<pid>/io `rchar`)
   and whether it opens the weights file at all (strace, when installed), against the same with the weight
   rule OL701 selected;
2. a 288 MiB model with embedded weights (the loader leaves the payloads in the file): the peak RSS of
   `onnxlint --select OL701`, which reads every conv weight one at a time, as a share of the file's size, and of
   reading one 36 KiB tensor through `Context.weight`, against `onnx.load` of the whole file.

    python benchmarks/bench_weights.py
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from onnx import TensorProto, helper


def conv_stack(folder: Path, convs: int, width: int, external: bool, small: int = 0) -> Path:
    """`convs` 3×3 convs width→width (36 MiB each at width 1024), written tensor by tensor (never the whole model
    in memory); `small` depthwise 3×3 convs after them (a 36 KiB weight at width 1024)."""
    rng = np.random.default_rng(0)
    nodes, inits, x = [], [], "x"
    data = open(folder / "weights.bin", "wb") if external else None
    for i in range(convs + small):
        depthwise = i >= convs
        dims = [width, 1, 3, 3] if depthwise else [width, width, 3, 3]
        values = (rng.standard_normal(dims[:2], dtype=np.float32)[..., None, None] * np.ones((3, 3), np.float32))
        name = f"w{i}"
        if external:
            offset = data.tell()
            data.write(values.tobytes())
            tensor = TensorProto(name=name, data_type=TensorProto.FLOAT, dims=dims)
            tensor.data_location = TensorProto.EXTERNAL
            for key, value in (("location", "weights.bin"), ("offset", str(offset)), ("length", str(values.nbytes))):
                tensor.external_data.add(key=key, value=value)
        else:
            tensor = helper.make_tensor(name, TensorProto.FLOAT, dims, values.tobytes(), raw=True)
        inits.append(tensor)
        nodes.append(helper.make_node("Conv", [x, name], [f"y{i}"], name=f"conv{i}", pads=[1, 1, 1, 1],
                                      group=width if depthwise else 1))
        x = f"y{i}"
    if data is not None:
        data.close()
    graph = helper.make_graph(nodes, "stack", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, width, 8, 8])],
                              [helper.make_tensor_value_info(x, TensorProto.FLOAT, None)], inits)
    path = folder / "model.onnx"
    with open(path, "wb") as f:
        f.write(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]).SerializeToString())
    return path


_PROBE = """
import json, sys, onnxlint
def _hwm(): return int(next(l for l in open('/proc/self/status') if l.startswith('VmHWM')).split()[1]) * 1024
report = onnxlint.lint(sys.argv[1], select=sys.argv[2].split(",") if sys.argv[2] else None)
io = dict(line.split(": ") for line in open("/proc/self/io").read().splitlines())
print(json.dumps({"rchar": int(io["rchar"]), "peak": _hwm(),
                  "findings": len(report.diagnostics)}))
"""
_ONE = """
import json, sys
def _hwm(): return int(next(l for l in open('/proc/self/status') if l.startswith('VmHWM')).split()[1]) * 1024
from onnxlint.api import load, build_graph
from onnxlint.weights import WeightReader
loaded = load(sys.argv[1]); graph = build_graph(loaded.model, sys.argv[1])
value = WeightReader(loaded, graph).read(sys.argv[2])
print(json.dumps({"bytes": int(value.nbytes), "peak": _hwm()}))
"""
_ONNX_LOAD = """
import json, sys, onnx
def _hwm(): return int(next(l for l in open('/proc/self/status') if l.startswith('VmHWM')).split()[1]) * 1024
onnx.load(sys.argv[1])
print(json.dumps({"peak": _hwm()}))
"""


def probe(code: str, *args: str) -> dict:
    out = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.splitlines()[-1])


def opens(path: Path, select: str, name: str) -> bool | None:
    """Whether the onnxlint process opens `name` (strace), None without strace."""
    if shutil.which("strace") is None:
        return None
    args = ["strace", "-f", "-e", "trace=open,openat", sys.executable, "-m", "onnxlint", str(path)]
    out = subprocess.run([*args, *(["--select", select] if select else [])], capture_output=True, text=True)
    return name in out.stderr


def main() -> None:
    mib = 1024 ** 2
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        path = conv_stack(folder, 28, 1024, external=True)
        size = (folder / "weights.bin").stat().st_size
        plain, weighted = probe(_PROBE, str(path), ""), probe(_PROBE, str(path), "OL701")
        print(f"1. {size / mib:,.0f} MiB of external weights, 28 convs")
        print(f"   plain lint: read {plain['rchar'] / mib:,.1f} MiB in all "
              f"({plain['rchar'] / size:.4f}× the weights); opens weights.bin: {opens(path, '', 'weights.bin')}")
        print(f"   --select OL701: read {weighted['rchar'] / mib:,.1f} MiB ({weighted['rchar'] / size:.3f}× the "
              f"weights), peak {weighted['peak'] / mib:,.0f} MiB; opens weights.bin: "
              f"{opens(path, 'OL701', 'weights.bin')}")
        for file in folder.iterdir():
            file.unlink()
        path = conv_stack(folder, 8, 1024, external=False, small=1)
        size = path.stat().st_size
        weighted = probe(_PROBE, str(path), "OL701")
        one, whole = probe(_ONE, str(path), "w8"), probe(_ONNX_LOAD, str(path))
        print(f"2. {size / mib:,.0f} MiB model, weights embedded")
        print(f"   --select OL701 (every conv weight, one at a time): peak {weighted['peak'] / mib:,.0f} MiB = "
              f"{weighted['peak'] / size:.2f}× the file")
        print(f"   Context.weight of one {one['bytes'] / 1024:.0f} KiB tensor: peak {one['peak'] / mib:,.0f} MiB; "
              f"onnx.load of the file: {whole['peak'] / mib:,.0f} MiB ({whole['peak'] / one['peak']:.1f}×)")


if __name__ == "__main__":
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    main()
