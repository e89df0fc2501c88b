"""Instructions executed, counted by valgrind's callgrind: the noise-free view of the in-process cost.

    python benchmarks/bench_instructions.py   # needs valgrind (apt-get install valgrind); ~3 minutes

Wall-clock ratios on a shared 2-core machine move by ±20% from run to run; instruction counts do not.
Each figure is the instructions of one child process that imports everything, warms up on a 1k chain and
then does one thing, minus the same process that stops before it. Printed for Conv+Relu chains of
1k / 10k / 50k nodes:

- `onnx.load(path)`, the floor the README's in-process ratio divides by;
- protobuf reads alone: every node's inputs, outputs, op type, domain, name and attributes, read once
  through the protobuf classes (what any Python tool that looks at every node pays, before it does anything);
- `onnxlint.lint(path)`, and its ratio to each.

Instruction counts say nothing about cache misses: the wall-clock growth from 10k to 50k nodes beyond
the instruction count's is the memory the analysis touches.
"""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from bench_core import chain  # noqa: E402

CHILD = r'''
import sys
from pathlib import Path
import onnx
import onnxlint
path, warm, what = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
onnxlint.lint(warm)
onnx.load(warm)


def read_every_node(model):
    nodes = model.graph.node
    for start in range(0, len(nodes), 4096):
        for p in nodes[start:start + 4096]:
            attrs = [(a.name, a.type, a.i, a.ints[:]) for a in p.attribute[:]] if len(p.attribute) else ()
            (tuple(p.input[:]), tuple(p.output[:]), p.op_type, p.domain, p.name, len(p.metadata_props), attrs)


if what == "load":
    onnx.load(path)
elif what == "reads":
    model = onnx.load(path, load_external_data=False)
    read_every_node(model)
elif what == "parse":
    onnx.load(path, load_external_data=False)
elif what == "lint":
    onnxlint.lint(path)
'''


def instructions(script: Path, *args: str) -> int:
    done = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable,
                           str(script), *args], capture_output=True, text=True, check=True)
    return int(re.search(r"Collected : (\d+)", done.stderr).group(1))


def main() -> None:
    if shutil.which("valgrind") is None:
        sys.exit("valgrind is not installed (apt-get install valgrind)")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        script = tmp / "child.py"
        script.write_text(CHILD)
        warm = tmp / "warm.onnx"
        warm.write_bytes(chain(1_000).SerializeToString())
        print("millions of instructions (callgrind), one call each, imports and warm-up subtracted")
        print(f"{'nodes':>7} {'onnx.load':>10} {'reads':>8} {'lint':>8}  lint ÷ onnx.load  lint ÷ reads  "
              "reads ÷ onnx.load  lint per node")
        for n in (1_000, 10_000, 50_000):
            path = tmp / f"chain{n}.onnx"
            path.write_bytes(chain(n).SerializeToString())
            base = instructions(script, str(path), str(warm), "none")
            parse = instructions(script, str(path), str(warm), "parse") - base
            load, reads, lint = (instructions(script, str(path), str(warm), what) - base
                                 for what in ("load", "reads", "lint"))
            reads -= parse  # the fields read, not the parse before them
            print(f"{n:>7,} {load / 1e6:10.0f} {reads / 1e6:8.0f} {lint / 1e6:8.0f}  {lint / load:15.2f}× "
                  f"{lint / reads:11.2f}× {reads / load:17.2f}× {lint / n / 1e3:10.1f}k")


if __name__ == "__main__":
    main()
