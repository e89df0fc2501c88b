"""Shape inference on the onnx package's own node-test suite (about 1,900 single-op models, generated from
`onnx.backend.test.case.node.collect_testcases`, never committed), with every declared output shape and
value_info removed: per graph output, exact (every dim equals the expected output's), unknown (onnxlint says
it does not know some dim), or WRONG (a known dim or the rank differs). The same for onnx's
`infer_shapes(data_prop=True)` on the same stripped models.

    python benchmarks/bench_node_tests.py [--show-wrong]
"""
from __future__ import annotations

import argparse
import warnings
from collections import Counter

import onnx
from onnx.backend.test.case.node import collect_testcases

from onnxlint.api import analyse, make_settings
from onnxlint.loader import LoadError, load


def stripped(model: onnx.ModelProto) -> onnx.ModelProto:
    copy = onnx.ModelProto()
    copy.CopyFrom(model)
    for output in copy.graph.output:
        if output.type.HasField("tensor_type"):
            output.type.tensor_type.ClearField("shape")
    copy.graph.ClearField("value_info")
    return copy


def verdict(inferred, expected) -> str:
    if inferred is None or len(inferred) != len(expected):
        return "unknown" if inferred is None else "WRONG"
    if any(i is not None and i != e for i, e in zip(inferred, expected)):
        return "WRONG"
    return "exact" if None not in inferred else "unknown"


def onnxlint_dims(model: onnx.ModelProto) -> dict:
    _, ctx = analyse(load(model), make_settings())
    return ctx.shapes.dims


def onnx_dims(model: onnx.ModelProto) -> dict:
    inferred = onnx.shape_inference.infer_shapes(model, data_prop=True)
    dims = {}
    for value in list(inferred.graph.output) + list(inferred.graph.value_info):
        t = value.type.tensor_type if value.type.HasField("tensor_type") else None
        if t is not None and t.HasField("shape"):
            dims[value.name] = tuple(d.dim_value if d.HasField("dim_value") else None for d in t.shape.dim)
    return dims


def compare() -> tuple[int, dict, list[str]]:
    """(models, tool → Counter of exact/unknown/WRONG, onnxlint's WRONG outputs)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cases = [c for c in collect_testcases(None) if c.model is not None and c.data_sets]
    counts = {"onnxlint": Counter(), "onnx infer_shapes(data_prop=True)": Counter()}
    wrong = []
    for case in cases:
        model = stripped(case.model)
        outputs = case.data_sets[0][1]
        names = [o.name for o in case.model.graph.output]
        for tool, infer in (("onnxlint", onnxlint_dims), ("onnx infer_shapes(data_prop=True)", onnx_dims)):
            try:
                dims = infer(model)
            except LoadError:
                dims = {}
            except Exception:  # onnx's inference refuses some models outright: every output unknown
                dims = {}
            for name, value in zip(names, outputs):
                expected = tuple(getattr(value, "shape", ()) or ())
                if not hasattr(value, "shape"):
                    continue  # sequences, optionals, maps: not tensors
                found = verdict(dims.get(name), expected)
                counts[tool][found] += 1
                if found == "WRONG" and tool == "onnxlint":
                    wrong.append(f"{case.name} {name}: inferred {dims.get(name)}, executed {expected}")
    return len(cases), counts, wrong


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--show-wrong", action="store_true")
    args = parser.parse_args()
    models, counts, wrong = compare()
    print(f"{models} node-test models, every tensor output compared")
    print(f"{'':36} {'exact':>6} {'unknown':>8} {'WRONG':>6}")
    for tool, c in counts.items():
        print(f"{tool:36} {c['exact']:>6} {c['unknown']:>8} {c['WRONG']:>6}")
    if args.show_wrong:
        print("\n".join(wrong))


if __name__ == "__main__":
    main()
