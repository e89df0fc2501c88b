"""Case tables: a rule's tests as data. A table is a module `tests/rules/table_<code>.py` with `RULE = "OL201"`
and `CASES = [Case(...), ...]`: models written in ONNX text, the nodes the rule must fire on (with pieces of
its message, the model's own numbers), and near misses that must stay silent. `test_case_tables.py` runs
every table it finds, and `run_table` runs one from anywhere (a plugin's tests)."""
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


def check(rule: str, case: Case) -> None:
    report = onnxlint.lint(onnx.parser.parse_model(case.model), select=[rule], input_shapes=case.input_shapes,
                           options={rule: case.options} if case.options else None, **case.settings)
    found = {d.node: f"{d.message} → {d.suggestion}" for d in report.diagnostics if d.code == rule}
    assert set(found) == set(case.fires), f"{rule} {case.label}: fired on {sorted(found)}"
    for node, pieces in case.fires.items():
        for piece in pieces:
            assert piece in found[node], f"{rule} {case.label}: '{piece}' not in {found[node]!r}"


def run_table(table) -> None:
    for case in table.CASES:
        check(table.RULE, case)


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
