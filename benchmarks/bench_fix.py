"""`onnxlint fix` on a 1 GiB model with random weights, as ratios to `onnx.load` + `onnx.save` of the same model,
measured in one run (each in a fresh process).

    python benchmarks/bench_fix.py [--gib 1]

time   = wall clock of the whole process (goal ≤ 2× load + save);
memory = peak RSS ÷ the model's size (goal ≤ 1.5×): the onnxlint process itself, and separately the
         sandboxed onnxruntime children that check and run the original and the written model (the
         largest of them).
Both weight layouts: embedded in the .onnx, and in an external file. The model (Conv → Dropout → Flatten →
Gemm) has both fixes, OL402 and OL203, to apply.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TESTS = Path(__file__).resolve().parent.parent / "tests"
C, HW = 64, 8  # as tests/test_fix_delivery.py builds it: the FC reads 4,096 features
# each step in a fresh process, its peak read from VmHWM: ru_maxrss carries a parent's peak over fork and exec
HWM = "int(next(l for l in open('/proc/self/status') if l.startswith('VmHWM')).split()[1])"
BUILD = f"""import sys; sys.path.insert(0, {str(TESTS)!r})
from pathlib import Path
from test_fix_delivery import build
build(Path(sys.argv[1]), "model.onnx", int(sys.argv[2]), external=sys.argv[3] == "external")"""

BASELINE = f"""import onnx, sys
model = onnx.load(sys.argv[1])
onnx.save(model, sys.argv[2], **({{"save_as_external_data": True, "location": "plain.onnx.data"}}
                                if sys.argv[3] == "external" else {{}}))
print({HWM})"""

FIX = f"""import json, resource, sys
from onnxlint.fix import fix
result = fix(sys.argv[1], output=sys.argv[2])
print(json.dumps({{"self": {HWM}, "children": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
                  "changes": result.changes}}))"""


def run(code: str, *args: str) -> tuple[float, str]:
    start = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, check=True).stdout
    return time.perf_counter() - start, out.strip().splitlines()[-1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--gib", type=float, default=1.0)
    fc_out = int(parser.parse_args().gib * 2**30) // (C * HW * HW * 4)
    print(f"{'layout':<9} {'model':>9} {'load+save':>10} {'fix':>8} {'time ×':>7} "
          f"{'fix RSS ÷ size':>15} {'ORT child ÷ size':>17} {'load+save RSS ÷ size':>21}")
    for layout in ("embedded", "external"):
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            subprocess.run([sys.executable, "-c", BUILD, tmp, str(fc_out), layout], check=True)
            model = folder / "model.onnx"
            size = sum(p.stat().st_size for p in folder.iterdir())
            (folder / "out").mkdir()
            base_s, base_rss = run(BASELINE, str(model), str(folder / "out" / "plain.onnx"), layout)
            fix_s, line = run(FIX, str(model), str(folder / "out" / "fixed.onnx"))
            measured = json.loads(line)
            assert len(measured["changes"]) == 2, measured
            kib = size / 1024
            print(f"{layout:<9} {size / 2**30:>7.2f} G {base_s:>9.2f}s {fix_s:>7.2f}s {fix_s / base_s:>6.2f}× "
                  f"{measured['self'] / kib:>14.2f}× {measured['children'] / kib:>16.2f}× "
                  f"{int(base_rss) / kib:>20.2f}×")


if __name__ == "__main__":
    main()
