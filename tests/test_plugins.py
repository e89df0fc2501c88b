"""Third-party rules load through the `onnxlint.rules` entry-point group."""
import os
import subprocess
import sys

from conftest import fixture

PLUGIN = '''
from onnxlint.diagnostics import Severity
from onnxlint.engine import Rule


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
