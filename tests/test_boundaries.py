"""Boundaries that are enforced, not hoped for."""
import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_linting_never_imports_onnxruntime():
    code = ("import sys, onnxlint; onnxlint.lint(sys.argv[1]); "
            "assert 'onnxruntime' not in sys.modules, 'onnxruntime imported'; print('ok')")
    result = subprocess.run([sys.executable, "-c", code, str(ROOT / "fixtures" / "demo.onnx")],
                            capture_output=True, text=True)
    assert result.stdout.strip() == "ok", result.stderr


def test_click_only_in_cli_and_onnxruntime_only_in_execution_modules():
    for path in list((ROOT / "onnxlint").rglob("*.py")) + list((ROOT / "rules").glob("*.py")):
        imports = _imports(path)
        if path.name != "cli.py":
            assert "click" not in imports, path
        if path.name not in ("sandbox.py", "whatif.py"):  # the execution modules
            assert "onnxruntime" not in imports, path
