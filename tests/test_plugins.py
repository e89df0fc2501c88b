"""Third-party rules load through the `onnxlint.rules` entry-point group."""
import os
import subprocess
import sys

import pytest
from conftest import fixture

PLUGIN = '''
from onnxlint.diagnostics import Severity
from onnxlint.rule import Rule


class TooManyRelus(Rule):
    """Counts Relu nodes.

    What it checks
        Every Relu.

    Why it matters
        A plugin test.

    Example
        relu1.

    What to do
        Nothing.
    """
    code = "XP001"
    name = "relu-seen"
    severity = Severity.WARNING
    summary = "a plugin rule"
    op_types = ("Relu",)

    def check_node(self, ctx, layer):
        yield self.report(f"{layer.name} is a Relu", layer)
'''


def test_entry_point_rule_is_registered_and_runs(tmp_path):
    (tmp_path / "onnxlint_plugin_demo.py").write_text(PLUGIN)
    dist = tmp_path / "onnxlint_plugin_demo-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: onnxlint-plugin-demo\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text("[onnxlint.rules]\nrelu = onnxlint_plugin_demo:TooManyRelus\n")
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    rules = subprocess.run([sys.executable, "-m", "onnxlint", "rules"], capture_output=True, text=True, env=env)
    assert "XP001  relu-seen" in rules.stdout
    result = subprocess.run([sys.executable, "-m", "onnxlint", str(fixture("clean")), "--select", "XP"],
                            capture_output=True, text=True, env=env)
    assert result.returncode == 1
    assert "clean.onnx:relu2: warning XP001 relu2 is a Relu" in result.stdout


FIXABLE_PLUGIN = '''
from onnxlint.diagnostics import Severity
from onnxlint.rule import Rule


class DoubleRelu(Rule):
    """A Relu applied to the output of a Relu.

    What it checks
        Relu nodes whose input is produced by a Relu.

    Why it matters
        Relu is idempotent: the second does nothing.

    Example
        relu(relu(x)).

    What to do
        `onnxlint fix MODEL -o OUT.onnx --select XP101` (exact).
    """
    code = "XP101"
    name = "double-relu"
    severity = Severity.SUGGESTION
    summary = "a Relu of a Relu (idempotent)"
    op_types = ("Relu",)
    applicability = "exact"

    def check_node(self, ctx, layer):
        producer = ctx.producer(layer.inputs[0])
        if producer is not None and producer.op == "Relu":
            yield self.report(f"Relu of {producer.name}, itself a Relu", layer, match=layer)

    def fix(self, rw, layer):
        node = rw.node(layer)
        if rw.is_output(node.output[0]):
            rw.rename_output(rw.producer(node.input[0]), node.input[0], node.output[0])
        else:
            rw.rename_input(node.output[0], node.input[0])
        rw.remove(node)
        rw.changed(f"XP101 removed the second Relu {layer.name}")
'''

TABLE = '''
from cases import Case, FixCase

import pytest  # noqa: E402

pytestmark = pytest.mark.slow  # runs onnxruntime or subprocesses: `-m 'not slow'` skips it

RULE = "XP101"
CASES = [
    Case("relu of relu", """
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[1,4,8,8] x) => (float[1,4,8,8] y) {
      a = Relu (x)
      b = Relu (a)
      y = Sigmoid (b)
    }""", fires={"Relu_1": ["Relu of Relu_0, itself a Relu"]}),
    Case("relu of sigmoid", """
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[1,4,8,8] x) => (float[1,4,8,8] y) {
      a = Sigmoid (x)
      y = Relu (a)
    }"""),
]
FIXES = [
    FixCase("relu of relu, then the output", """
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[1,4,8,8] x) => (float[1,4,8,8] y) {
      a = Relu (x)
      y = Relu (a)
    }""", ops=["Relu"]),
]
'''


@pytest.mark.slow  # runs onnxruntime or the command line in subprocesses
def test_a_new_fixable_rule_is_its_module_and_its_case_table(tmp_path):
    """The whole of adding a fixable rule: a module (here a plugin package, through the entry-point group) and
    its case table; `check` runs it, `onnxlint fix` finds and applies its fix, the table's cases and fix cases
    pass (the fix case: the written model's ops, the rule silent on it, onnxruntime's outputs equal)."""
    from conftest import ROOT

    package = tmp_path / "onnxlint_xp"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "double_relu.py").write_text(FIXABLE_PLUGIN)
    dist = tmp_path / "onnxlint_xp-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: onnxlint-xp\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text("[onnxlint.rules]\nxp = onnxlint_xp.double_relu:DoubleRelu\n")
    (tmp_path / "table_xp101.py").write_text(TABLE)
    model = tmp_path / "m.onnx"
    import onnx

    model.write_bytes(onnx.parser.parse_model("""
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[1,4,8,8] x) => (float[1,4,8,8] y) {
      a = Relu (x)
      b = Relu (a)
      y = Sigmoid (b)
    }""").SerializeToString())
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT / "tests" / "rules")])}
    check = subprocess.run([sys.executable, "-m", "onnxlint", str(model), "--select", "XP"], capture_output=True,
                           text=True, env=env)
    assert "suggestion XP101 Relu of Relu_0, itself a Relu" in check.stdout, check.stdout + check.stderr
    fixed = tmp_path / "fixed.onnx"
    result = subprocess.run([sys.executable, "-m", "onnxlint", "fix", str(model), "-o", str(fixed), "--select",
                             "double-relu"], capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr
    assert "XP101 removed the second Relu Relu_1" in result.stdout and "findings gone: XP101 ×1" in result.stdout
    assert [n.op_type for n in onnx.load(fixed).graph.node] == ["Relu", "Sigmoid"]
    table = subprocess.run([sys.executable, "-c", "import table_xp101, cases; cases.run_table(table_xp101); "
                            "print('table ok')"], capture_output=True, text=True, env=env, cwd=tmp_path)
    assert table.stdout.strip() == "table ok", table.stderr
    rules = subprocess.run([sys.executable, "-m", "onnxlint", "rules"], capture_output=True, text=True, env=env)
    assert "XP101  double-relu" in rules.stdout and " fix " in rules.stdout


def test_a_dist_info_in_the_working_folder_is_never_imported(tmp_path):
    """`python -m onnxlint` and a notebook put the working folder on sys.path: a checked-out repository's
    dist-info there must not make onnxlint import that repository's code (installed plugins only)."""
    (tmp_path / "onnxlint_plugin_demo.py").write_text(PLUGIN + "\nimport pathlib; pathlib.Path('IMPORTED').touch()\n")
    dist = tmp_path / "onnxlint_plugin_demo-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: onnxlint-plugin-demo\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text("[onnxlint.rules]\nrelu = onnxlint_plugin_demo:TooManyRelus\n")
    rules = subprocess.run([sys.executable, "-m", "onnxlint", "rules"], capture_output=True, text=True, cwd=tmp_path)
    assert rules.returncode == 0 and "XP001" not in rules.stdout
    notebook = subprocess.run([sys.executable, "-c", "import sys; sys.path.insert(0, ''); import onnxlint; "
                               f"print(len(onnxlint.lint({str(fixture('clean'))!r}).diagnostics))"],
                              capture_output=True, text=True, cwd=tmp_path)
    assert notebook.returncode == 0, notebook.stderr
    assert not (tmp_path / "IMPORTED").exists()
