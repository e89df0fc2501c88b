"""onnxlint beside its peers, whole processes measured in one run on this machine (issue: speed).

    python benchmarks/bench_peers.py --make-env /tmp/peers   # once: onnxslim, polygraphy, onnx-tool in their own venv
    python benchmarks/bench_peers.py --peers /tmp/peers [--repeat 5] [--only chains|light|corpus]

Each cell is the median wall time of a whole process (start-up included) on one model: `onnxlint MODEL`,
`python -c "import onnx; onnx.load(MODEL)"` both ways (with the default external-data scan, and
`load_external_data=False`: the parse floor), `onnxslim --inspect`, `polygraphy inspect model` and
`onnx_tool -i` (cut off after --timeout seconds: "—"). The peers run from their own virtual environment,
never as onnxlint's dependencies. Rows: Conv+Relu chains of 1k/10k/50k nodes, the nine light models of the
onnx wheel, the 30 corpus models. The last column names the fastest peer and onnxlint's time ÷ its time.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

import onnx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_core import LIGHT, chain  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
PEERS = ("onnxslim", "polygraphy", "onnx-tool")


def peer_commands(venv: Path) -> dict:
    bin_ = venv / "bin"
    return {"onnxslim": lambda m, _shape: [str(bin_ / "onnxslim"), "--inspect", str(m)],
            "polygraphy": lambda m, _shape: [str(bin_ / "polygraphy"), "inspect", "model", str(m)],
            "onnx-tool": lambda m, _shape: [str(bin_ / "python"), "-m", "onnx_tool", "-i", str(m)]}


def timed(cmd: list[str], repeat: int, timeout: float, env: dict) -> float | None:
    """Median seconds of `repeat` runs, or None when a run fails or passes `timeout`."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        try:
            done = subprocess.run(cmd, capture_output=True, timeout=timeout, env=env)
        except subprocess.TimeoutExpired:
            return None
        if done.returncode not in (0, 1):  # onnxlint exits 1 on findings
            return None
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def models(tmp: Path, only: str | None):
    if only in (None, "chains"):
        for n in (1_000, 10_000, 50_000):
            path = tmp / f"chain{n // 1000}k.onnx"
            path.write_bytes(chain(n).SerializeToString())
            yield f"chain {n // 1000}k", path, []
    if only in (None, "light"):
        for path in sorted(LIGHT.glob("*.onnx")):
            yield path.stem, path, []
    if only in (None, "corpus"):
        corpus = ROOT / "fixtures" / "corpus"
        with tarfile.open(corpus / "zoo-dev.tar.gz") as archive:
            archive.extractall(tmp / "zoo", filter="data")
        for name, ref in json.loads((corpus / "references.json").read_text()).items():
            shape = ",".join(map(str, ref["input_shape"]))
            args = ["--input-shape", shape] if "2" in ref["dynamic_input_axes"] else []
            yield name, tmp / "zoo" / ref["file"], args


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--peers", type=Path, help="virtual environment holding the peer tools")
    parser.add_argument("--make-env", type=Path, help="create that environment and exit")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--timeout", type=float, default=120.0)
    parser.add_argument("--only", choices=["chains", "light", "corpus"])
    args = parser.parse_args()
    if args.make_env:
        subprocess.run([sys.executable, "-m", "venv", str(args.make_env)], check=True)
        subprocess.run([str(args.make_env / "bin" / "pip"), "install", "-q", "onnxslim", "polygraphy", "onnx-tool",
                        "onnxruntime"], check=True)
        return
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}  # as installed: bytecode cached
    peers = peer_commands(args.peers) if args.peers else {}
    lint = [sys.executable, "-m", "onnxlint", "-q"]
    subprocess.run([*lint, str(ROOT / "fixtures" / "demo.onnx")], capture_output=True, env=env)  # write .pyc
    columns = ["onnxlint", "onnx.load", "load floor", *peers]
    print(f"whole processes, median of {args.repeat}, seconds; python {sys.version.split()[0]}, "
          f"onnx {onnx.__version__}")
    print(f"{'model':<28}" + "".join(f"{c:>12}" for c in columns) + "   fastest peer")
    with tempfile.TemporaryDirectory() as tmp:
        for label, path, shape_args in models(Path(tmp), args.only):
            repeat = 3 if "50k" in label else args.repeat
            row = {"onnxlint": timed([*lint, str(path), *shape_args], repeat, args.timeout, env),
                   "onnx.load": timed([sys.executable, "-c", f"import onnx; onnx.load({str(path)!r})"], repeat,
                                      args.timeout, env),
                   "load floor": timed([sys.executable, "-c", "import onnx; onnx.load("
                                        f"{str(path)!r}, load_external_data=False)"], repeat, args.timeout, env)}
            for name, command in peers.items():
                row[name] = timed(command(path, shape_args), repeat, args.timeout, env)
            known = {n: t for n, t in row.items() if n in peers and t is not None}
            best = min(known, key=known.get) if known else None
            verdict = f"{best} {row['onnxlint'] / known[best]:.2f}×" if best and row["onnxlint"] else ""
            print(f"{label:<28}" + "".join(f"{t:>12.2f}" if t is not None else f"{'—':>12}" for t in row.values())
                  + f"   {verdict}", flush=True)


if __name__ == "__main__":
    main()
