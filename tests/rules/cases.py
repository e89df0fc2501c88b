"""Case tables: a rule's tests as data. A table is a module `tests/rules/table_<code>.py` with `RULE = "OL201"`
and `CASES = [Case(...), ...]`: models written in ONNX text, the nodes the rule must fire on (with pieces of
its message, the model's own numbers), and near misses that must stay silent. A rule that fixes adds
`FIXES = [FixCase(...), ...]`: a model in ONNX text with real weights, and the op types of the graph its fix
writes; the fix must change something, the rule must be silent on the written model, and onnxruntime must give
the same outputs for both. `test_case_tables.py` runs every table it finds, and `run_table` runs one from
anywhere (a plugin's tests)."""
from __future__ import annotations

from dataclasses import dataclass, field

import onnx

import onnxlint


@dataclass
class Case:
    label: str
    model: str  # ONNX text (onnx.parser.parse_model)
    fires: dict = field(default_factory=dict)  # node → [pieces of the message or its suggestion]; empty: near miss
    options: dict = field(default_factory=dict)  # the rule's options for this case
    input_shapes: dict | None = None
    settings: dict = field(default_factory=dict)  # other lint() settings (memory_budget, training...)


@dataclass
class FixCase:
    label: str
    model: str  # ONNX text with real weights (`weights(n)` writes them)
    ops: list  # the op types of the written model's graph, in order
    settings: dict = field(default_factory=dict)  # lint() settings for the fix (input_shapes...)


def weights(count: int, seed: int = 0, low: float = -1.0, high: float = 1.0) -> str:
    """`count` deterministic, irregular numbers in [low, high) as ONNX text (a tensor's values)."""
    return ", ".join(f"{low + (high - low) * (((i + 1) * 7919 + seed * 104729) % 1000) / 1000:.3f}"
                     for i in range(count))


def check(rule: str, case: Case) -> None:
    report = onnxlint.lint(onnx.parser.parse_model(case.model), select=[rule], input_shapes=case.input_shapes,
                           options={rule: case.options} if case.options else None, **case.settings)
    found = {d.node: f"{d.message} → {d.suggestion}" for d in report.diagnostics if d.code == rule}
    assert set(found) == set(case.fires), f"{rule} {case.label}: fired on {sorted(found)}"
    for node, pieces in case.fires.items():
        for piece in pieces:
            assert piece in found[node], f"{rule} {case.label}: '{piece}' not in {found[node]!r}"


def check_fix(rule: str, case: FixCase) -> None:
    import numpy as np
    import onnxruntime as ort

    from onnxlint.fix import fix

    model = onnx.parser.parse_model(case.model)
    result = fix(model, select=[rule], **case.settings)  # verified by onnxruntime in the sandbox, too
    assert result.changes, f"{rule} {case.label}: nothing was rewritten ({result.skipped})"
    assert [n.op_type for n in result.model.graph.node] == case.ops, f"{rule} {case.label}: {result.model.graph}"
    assert rule not in {d.code for d in result.after.diagnostics}, f"{rule} {case.label}: still fires"
    rng = np.random.default_rng(0)
    # at the original's sizes, a symbolic dim at the fixed model's (OL605 fixes it; OL203 frees the spatial dims)
    fixed = {i.name: [d.dim_value for d in i.type.tensor_type.shape.dim] for i in result.model.graph.input}
    feeds = {i.name: rng.standard_normal([d.dim_value or f for d, f in zip(i.type.tensor_type.shape.dim,
                                                                         fixed[i.name])]).astype(np.float32)
             for i in model.graph.input}
    options = ort.SessionOptions()
    options.log_severity_level = 3
    names = [o.name for o in model.graph.output]
    runs = [ort.InferenceSession(m.SerializeToString(), options, providers=["CPUExecutionProvider"]).run(names, feeds)
            for m in (model, result.model)]
    for name, before, after in zip(names, *runs):
        np.testing.assert_allclose(after, before, rtol=1e-5, atol=1e-5, err_msg=f"{rule} {case.label}: {name}")


def run_table(table) -> None:
    for case in table.CASES:
        check(table.RULE, case)
    for case in getattr(table, "FIXES", ()):
        check_fix(table.RULE, case)


def conv_model(x: list, weight: list, attrs: str = "", *, tail: str = "", extra: str = "") -> str:
    """One Conv (a ConstantOfShape weight, so any size stays small) on an input of dims `x`, named `conv`."""
    w = ", ".join(map(str, weight))
    return f"""
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[{", ".join(map(str, x))}] x) => (float y) {{
      s = Constant <value = int64[{len(weight)}] {{{w}}}> ()
      w = ConstantOfShape <value = float[1] {{0.01}}> (s)
      {extra}
      conv = Conv {f"<{attrs}> " if attrs else ""}(x, w)
      y = Relu (conv)
      {tail}
    }}"""
