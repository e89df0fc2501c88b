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


def test_the_plain_lint_path_imports_neither_onnx_nor_numpy():
    """The command line on a small model costs about what `import onnx` costs only if neither the onnx package
    (numpy through onnx.helper) nor numpy is imported: the protobuf classes serve (onnxlint.proto)."""
    code = ("import sys, onnxlint; r = onnxlint.lint(sys.argv[1]); assert r.totals.complete and r.diagnostics; "
            "print(sorted(m for m in ('onnx', 'numpy') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code, str(ROOT / "fixtures" / "demo.onnx")],
                            capture_output=True, text=True)
    assert result.stdout.strip() == "[]", result.stdout + result.stderr
    cli = subprocess.run([sys.executable, "-c", "import sys; from onnxlint.cli import main; sys.argv[1:] = "
                          "['-q', sys.argv[1]]\ntry: main()\nexcept SystemExit: pass\n"
                          "print(sorted(m for m in ('onnx', 'numpy') if m in sys.modules))",
                          str(ROOT / "fixtures" / "demo.onnx")], capture_output=True, text=True)
    assert cli.stdout.strip().splitlines()[-1] == "[]", cli.stdout + cli.stderr


def test_the_onnx_package_imported_later_shares_the_protobuf_classes():
    code = ("import onnxlint.proto as p, onnx; assert onnx.ModelProto is p.ModelProto and "
            "onnx.onnx_ml_pb2.TensorProto is p.TensorProto; m = onnx.helper.make_model(onnx.helper.make_graph("
            "[], 'g', [], [])); import onnxlint; onnxlint.lint(m); print('ok')")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "ok", result.stderr


def test_click_only_in_the_cli_package_and_onnxruntime_only_in_execution_modules():
    for path in list((ROOT / "onnxlint").rglob("*.py")) + list((ROOT / "rules").glob("*.py")):
        imports = _imports(path)
        if path.parent.name != "cli":
            assert "click" not in imports, path
        # the execution modules, the one that reads onnxruntime's kernel registry for --target ort-cpu, the one that
        # reads it for OL007 (run as a child process: shapes/kernels.py's registry()), and the one that reads
        # onnxruntime-gpu's for --target cuda's table (run by hand, in an environment of onnxruntime-gpu)
        if path.name not in ("sandbox.py", "whatif.py", "precision.py", "kernels.py", "cuda_registry.py"):
            assert "onnxruntime" not in imports, path


def _project_imports(path: Path) -> set[str]:
    """The onnxlint modules a file imports (`onnxlint.x`, `onnxlint.x.y` → `onnxlint.x`)."""
    return {".".join(name.split(".")[:2]) for name in _module_imports(path)}


def _module_imports(path: Path) -> set[str]:
    """Every onnxlint module a file imports, at module level or inside a function (`from onnxlint import walk`
    is `onnxlint.walk`)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("onnxlint."))
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("onnxlint"):
            found.add(node.module)
            found.update(f"{node.module}.{a.name}" for a in node.names
                         if _module_path(f"{node.module}.{a.name}") is not None)
    return {name for name in found if name != "onnxlint"}


def _module_path(name: str) -> Path | None:
    parts = name.split(".")
    base = (ROOT / "rules").joinpath(*parts[2:]) if parts[1:2] == ["rules"] else ROOT.joinpath(*parts)
    for path in (base.with_suffix(".py"), base / "__init__.py"):
        if path.is_file():
            return path
    return None


def _modules() -> dict[str, Path]:
    found = {}
    for path in [*(ROOT / "onnxlint").rglob("*.py"), *(ROOT / "rules").glob("*.py")]:
        if path.parent.name == "rules" and path.parent.parent == ROOT:
            parts = ["onnxlint", "rules", *([] if path.stem == "__init__" else [path.stem])]
        else:
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            parts = parts[:-1] if parts[-1] == "__init__" else parts
        found[".".join(parts)] = path
    return found


# The pipeline drawing (docs/architecture.md), lowest first: a module imports only from its own layer or below.
LAYERS = [
    "version proto dtypes units escape diagnostics lookthrough walk sandbox sources discovery baseline",  # basics
    "wire external loader weights",  # load: safe parse, one weight read on request
    "origin inline graph",  # graph: nodes in execution order
    "shapes",  # shapes: dims, dtypes, values, typed facts
    "params memory cost worstcase",  # cost: params, MACs, bytes, peak
    "verify whatif deploy",  # execution and deployment: facts from onnxruntime
    "rule rules catalog weightfacts",  # the rules and their catalog; facts computed from weights
    "engine config docs",  # running the rules; settings
    "report",  # the Report
    "reporters diff",  # outputs of reports
    "api write rewriter runner fix",  # the pipeline, writing, fixing, many models
    "cli __main__",  # the command line
]
# The one import that points up, on call: Jupyter's display protocol asks the Report itself for its HTML.
UPWARD = {("onnxlint.report", "onnxlint.reporters.html")}


def _layer(module: str) -> int:
    if module == "onnxlint":
        return len(LAYERS)  # the package's lazy public names reach every layer
    top = module.split(".")[1]
    return next(i for i, names in enumerate(LAYERS) if top in names.split())


def test_every_import_points_down_and_none_goes_round():
    modules = _modules()
    edges = {name: {m for m in _module_imports(path) if m in modules and m != name and (name, m) not in UPWARD}
             for name, path in modules.items()}
    upward = [(a, b) for a, targets in edges.items() for b in targets if _layer(b) > _layer(a)]
    assert not upward, upward
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(name: str, path: list[str]) -> None:
        state[name] = 1
        for target in sorted(edges[name]):
            if target.startswith(name + "."):
                continue  # a package importing its own submodules
            assert state.get(target) != 1, " → ".join([*path, name, target])
            if target not in state:
                visit(target, [*path, name])
        state[name] = 2

    for name in sorted(edges):
        if name not in state:
            visit(name, [])


def test_the_layering_arrows_hold():
    # rules read facts, never the machinery: rule (Rule, Option, Context), facts (shapes, cost, memory),
    # diagnostics, units
    allowed = {"onnxlint.rule", "onnxlint.shapes", "onnxlint.cost", "onnxlint.memory", "onnxlint.lookthrough",
               "onnxlint.weightfacts",
               "onnxlint.diagnostics", "onnxlint.units"}
    for path in (ROOT / "rules").glob("*.py"):
        assert _project_imports(path) <= allowed, (path.name, _project_imports(path) - allowed)
    # reporters and config read the rule catalog, not the engine that runs the rules
    for path in [*(ROOT / "onnxlint" / "reporters").glob("*.py"), ROOT / "onnxlint" / "config.py"]:
        assert "onnxlint.engine" not in _project_imports(path), path.name


def test_rules_see_facts_not_protobuf():
    # a rule's check reads typed facts; only its fix (which rewrites the protobuf, through the Rewriter) may not
    fixing = {"fix", "_to_conv", "_forget_between"}
    for path in (ROOT / "rules").glob("*.py"):
        tree = ast.parse(path.read_text())
        for function in [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name not in fixing]:
            touched = {n.attr for n in ast.walk(function) if isinstance(n, ast.Attribute)}
            assert not touched & {"proto", "attrs"}, (path.name, function.name, touched & {"proto", "attrs"})


def test_a_library_call_leaves_the_interpreter_as_it_was():
    import gc

    import onnxlint

    gc.enable()
    onnxlint.lint(ROOT / "fixtures" / "demo.onnx")
    assert gc.isenabled()
    gc.disable()
    onnxlint.lint(ROOT / "fixtures" / "demo.onnx")
    assert not gc.isenabled()
    gc.enable()
