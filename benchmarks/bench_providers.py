"""`--target qnn-htp`, `openvino` and `cuda` against the providers themselves (onnxruntime-qnn, its HTP backend
emulated on x86-64; onnxruntime-openvino, device CPU, in the environment ONNXLINT_OPENVINO_PYTHON names;
onnxruntime-gpu's CUDA provider in the environment ONNXLINT_CUDA_PYTHON names: on a machine with a GPU, or
without one through benchmarks/gpu_standin.py): for each
model — the corpus, the deployed and detection fixtures, PP-OCR — as float and as QDQ (quantize_static,
uint8, random calibration), each with the exported dynamic dims and with them fixed (`onnxlint fix --select
OL605`, the fix itself), onnxlint's per-node placement against the provider's own assignment; and what
`--target` costs beside a plain lint (medians of in-process runs, taken in turn). Weights the fixtures
and the corpus strip are filled with random values first.

    python benchmarks/bench_providers.py [--target qnn-htp|openvino|cuda] [--corpus DIR] [--only NAME] [--repeat 5]
        [--skip-quantize] [--forms float,qdq,qoperator,fp16] [--cost-only]
"""
from __future__ import annotations

import argparse
import math
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import onnx
from onnx import helper, numpy_helper

import onnxlint
from onnxlint.fix import fix
from onnxlint.verify import Limits

ROOT = Path(__file__).resolve().parent.parent


def models(corpus: Path | None) -> list[Path]:
    deployed = ROOT / "fixtures" / "deployed"
    found = sorted({*deployed.glob("bottleneck_*.onnx"), *deployed.glob("*_fp16*.onnx")})
    found += sorted((ROOT / "fixtures" / "quantized").glob("*_float.onnx"))
    found += sorted((ROOT / "fixtures" / "detection").glob("*.onnx"))
    found += sorted((ROOT / "fixtures" / "paddle").glob("*.onnx"))
    if corpus is not None:
        found += sorted(corpus.glob("*.onnx"))
    return found


def filled(path: Path, out: Path) -> Path:
    model = onnx.load(str(path))
    rng = np.random.default_rng(0)
    for init in model.graph.initializer:
        if math.prod(init.dims) and not (init.raw_data or init.float_data or init.int64_data or init.int32_data):
            values = rng.standard_normal(list(init.dims)) * 0.05
            init.CopyFrom(numpy_helper.from_array(values.astype(helper.tensor_dtype_to_np_dtype(init.data_type)),
                                                  init.name))
    onnx.save(model, str(out))
    return out


def quantized(path: Path, out: Path, sizes: dict, form: str = "QDQ") -> Path | None:
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static

    class Reader(CalibrationDataReader):
        def __init__(self):
            rng = np.random.default_rng(0)
            self.items = iter([{n: rng.standard_normal(s).astype(np.float32) for n, s in sizes.items()}
                               for _ in range(2)])

        def get_next(self):
            return next(self.items, None)

    try:
        quantize_static(str(path), str(out), Reader(), quant_format=getattr(QuantFormat, form),
                        activation_type=QuantType.QUInt8, weight_type=QuantType.QUInt8)
    except Exception as exc:  # noqa: BLE001 — a model quantize_static cannot take: said, skipped
        print(f"    quantize_static failed: {type(exc).__name__}: {str(exc)[:100]}")
        return None
    return out


def half(path: Path, out: Path) -> Path | None:
    """The float model in float16, as onnxconverter-common's convert_float_to_float16 writes it (float32 inputs and
    outputs, Cast nodes at the edges: keep_io_types); None where it cannot (a pip install onnxconverter-common
    away)."""
    try:
        from onnxconverter_common.float16 import convert_float_to_float16
    except ImportError:
        print("    fp16: onnxconverter-common is not installed")
        return None
    try:
        onnx.save(convert_float_to_float16(onnx.load(str(path)), keep_io_types=True), str(out))
    except Exception as exc:  # noqa: BLE001 — a model the converter refuses: no case
        print(f"    convert_float_to_float16 failed: {type(exc).__name__}: {str(exc)[:100]}")
        return None
    return out


def compare(path: Path, shapes: dict | None, target: str) -> tuple[int, int, int, int, str]:
    """(nodes compared, disagreements, on the accelerator predicted, kept nodes, note)."""
    report = onnxlint.lint(str(path), target=target, verify=True, input_shapes=shapes,
                           limits=Limits(seconds=600, memory=16 * 2**30))
    d = report.deployment
    proof = d.get("proved", {})
    if "error" in proof:
        return 0, 0, d["accelerated_nodes"], d["nodes"], proof["error"][:120]
    bad = proof["disagree"]
    note = "; ".join(f"{x['node']}: {x['predicted'][:3]}→{x['provider'][:3]}" for x in bad[:3])
    return proof["layers"], len(bad), d["accelerated_nodes"], d["nodes"], note


def cost(path: Path, shapes: dict | None, repeat: int, target: str) -> float:
    plain, timed = [], []
    for _ in range(repeat):
        for options, times in (({}, plain), ({"target": target}, timed)):
            start = time.perf_counter()
            onnxlint.lint(str(path), input_shapes=shapes, **options)
            times.append(time.perf_counter() - start)
    return statistics.median(timed) / statistics.median(plain)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--target", default="qnn-htp", choices=("qnn-htp", "openvino", "cuda"))
    parser.add_argument("--corpus", type=Path, help="the unpacked corpus (fixtures/corpus/zoo-dev.tar.gz)")
    parser.add_argument("--only", help="models whose name contains this")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--skip-quantize", action="store_true")
    parser.add_argument("--cost-only", action="store_true", help="time the lint only, no proof")
    parser.add_argument("--forms", default="float,qdq",
                        help="of float, qdq, qoperator (QLinearConv...) and fp16 (onnxconverter-common), which")
    args = parser.parse_args()
    totals = {"compared": 0, "disagree": 0, "cases": 0, "not proved": 0}
    ratios = []
    with tempfile.TemporaryDirectory() as tmp:
        for source in models(args.corpus):
            if args.only and args.only not in source.name:
                continue
            base = filled(source, Path(tmp) / f"{source.stem}.onnx")
            inputs = {vi.name: [d.dim_value if d.dim_value > 0 else None for d in vi.type.tensor_type.shape.dim]
                      for vi in onnx.load(str(base), load_external_data=False).graph.input}
            given = {n: tuple(d if d is not None else (1 if i == 0 else 224 if i > 1 else 3)
                              for i, d in enumerate(dims)) for n, dims in inputs.items()}
            variants = [("float", base)] if "float" in args.forms else []
            plain = "qdq" not in source.name and "qoperator" not in source.name and "fp16" not in source.name
            if "fp16" in args.forms and plain:
                h = half(base, Path(tmp) / f"{source.stem}_fp16.onnx")
                if h is not None:
                    variants.append(("fp16", h))
            if not args.skip_quantize and plain:
                for form in [f for f in ("QDQ", "QOperator") if f.lower() in args.forms]:
                    q = quantized(base, Path(tmp) / f"{source.stem}_{form.lower()}.onnx", given, form)
                    if q is not None:
                        variants.append((form.lower()[:5], q))
            for kind, path in variants:
                if args.cost_only:
                    ratios.append(cost(path, given, args.repeat, args.target))
                    print(f"{source.stem:<40} {kind:<5} --target {args.target} ÷ plain lint: {ratios[-1]:.2f}×")
                    continue
                fixed = Path(tmp) / f"{path.stem}_fixed.onnx"
                try:
                    # the dims fixed by the dynamic-dim fix (qnn-htp's OL605), for either target
                    fix(str(path), output=fixed, select=["OL605"], target="qnn-htp", input_shapes=given)
                except Exception:  # noqa: BLE001 — nothing to fix: the dims were static
                    fixed = None
                for dims, model in (("as exported", path), ("fixed", fixed)):
                    if model is None or not model.is_file():
                        continue
                    compared, bad, on_htp, nodes, note = compare(model, given if dims == "as exported" else None,
                                                                  args.target)
                    totals["cases"] += 1
                    totals["compared"] += compared
                    totals["disagree"] += bad
                    totals["not proved"] += compared == 0
                    print(f"{source.stem:<40} {kind:<5} {dims:<11} on it {on_htp:>4}/{nodes:<4} compared {compared:>4} "
                          f"differ {bad:>3} {note}", flush=True)
                ratios.append(cost(path, given, args.repeat, args.target))
                print(f"{'':<40} {kind:<5} --target {args.target} ÷ plain lint: {ratios[-1]:.2f}×", flush=True)
    print(f"{totals['cases']} cases, {totals['compared']:,} nodes compared, {totals['disagree']} differ, "
          f"{totals['not proved']} not proved; --target {args.target} ÷ plain lint: "
          f"median {statistics.median(ratios):.2f}×, max {max(ratios):.2f}×")
    sys.exit(0)


if __name__ == "__main__":
    main()
