"""How fast a lint pass could be in this Python, printed as a ratio measured in one run (issue: speed).

    python benchmarks/bench_floor.py

A bare loop over the 50k-node Conv+Relu chain that does the least a linter must: parse, read every node's
fields and attributes, infer the chain's two ops, count params and MACs, one small object per node — no
validation, no other op, no receptive field, no memory timeline, no rules. Its time ÷ `onnx.load(path)` is
the floor the in-process target of benchmarks/bench_core.py (≤ 3×) is measured against.
"""
from __future__ import annotations

import math
import sys
import tempfile
from pathlib import Path

import onnx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_core import best_of, chain  # noqa: E402

from onnxlint.proto import ModelProto  # noqa: E402


class Record:
    __slots__ = ("name", "op_type", "inputs", "outputs", "attrs", "dims", "params", "macs")

    def __init__(self, name, op_type, inputs, outputs, attrs, dims, params, macs):
        self.name, self.op_type, self.inputs, self.outputs = name, op_type, inputs, outputs
        self.attrs, self.dims, self.params, self.macs = attrs, dims, params, macs


def bare_pass(path: Path) -> tuple[int, int]:
    model = ModelProto()
    model.ParseFromString(path.read_bytes())
    g = model.graph
    dims = {t.name: tuple(t.dims[:]) for t in g.initializer[:]}
    dims.update({vi.name: tuple(d.dim_value for d in vi.type.tensor_type.shape.dim) for vi in g.input})
    records, total_params, total_macs = [], 0, 0
    for proto in g.node[:]:
        inputs, outputs = tuple(proto.input[:]), tuple(proto.output[:])
        attrs = {a.name: tuple(a.ints[:]) if a.type == onnx.AttributeProto.INTS else a.i for a in proto.attribute[:]}
        x, params, macs = dims[inputs[0]], 0, 0
        if proto.op_type == "Conv":
            w = dims[inputs[1]]
            kernel, pads, strides = attrs.get("kernel_shape", w[2:]), attrs.get("pads", (0,) * 4), attrs.get(
                "strides", (1, 1))
            out = (x[0], w[0], *((x[2 + i] + pads[i] + pads[i + 2] - kernel[i]) // strides[i] + 1 for i in range(2)))
            params, macs = math.prod(w), math.prod(out) * math.prod(kernel) * w[1]
        else:
            out = x
        dims[outputs[0]] = out
        total_params += params
        total_macs += macs
        records.append(Record(proto.name, proto.op_type, inputs, outputs, attrs, out, params, macs))
    return total_params, total_macs


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "chain50000.onnx"
        path.write_bytes(chain(50_000).SerializeToString())
        bare = best_of(lambda: bare_pass(path), 5)
        load = best_of(lambda: onnx.load(path), 5)
        print(f"50k chain: bare pass {bare * 1000:.0f} ms, onnx.load(path) {load * 1000:.0f} ms: {bare / load:.2f}× "
              "(the floor under the ≤ 3× target)")


if __name__ == "__main__":
    main()
