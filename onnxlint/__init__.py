"""onnxlint: a static linter for ONNX convolutional networks.

    report = onnxlint.lint("model.onnx")        # or bytes, or an in-memory onnx.ModelProto
    onnxlint.check(model, fail_on="warning")    # raises onnxlint.LintError on findings

The public names are imported on first use, so `onnxlint --version` does not pay for onnx.
"""
from __future__ import annotations

import importlib
from pathlib import Path
from typing import TYPE_CHECKING

from onnxlint.version import __version__

# Installed, the rule catalog is the subpackage onnxlint.rules; in a source checkout it is the
# top-level rules/ folder beside this package: let `import onnxlint.rules` find it there too.
_checkout_rules = Path(__file__).resolve().parent.parent / "rules"
if not (Path(__file__).parent / "rules").is_dir() and (_checkout_rules / "__init__.py").is_file():
    __path__.append(str(_checkout_rules.parent))  # type: ignore[name-defined]

_PUBLIC = {"lint": "api", "check": "api", "LintError": "api", "Settings": "config", "ConfigError": "config",
           "Diagnostic": "diagnostics", "Savings": "diagnostics", "Severity": "diagnostics", "LoadError": "loader",
           "Report": "report", "lint_many": "runner", "lint_file": "runner"}
__all__ = [*_PUBLIC, "__version__"]

if TYPE_CHECKING:  # the names above, for type checkers and IDEs
    from onnxlint.api import LintError, check, lint  # noqa: F401
    from onnxlint.config import ConfigError, Settings  # noqa: F401
    from onnxlint.diagnostics import Diagnostic, Savings, Severity  # noqa: F401
    from onnxlint.loader import LoadError  # noqa: F401
    from onnxlint.report import Report  # noqa: F401
    from onnxlint.runner import lint_file, lint_many  # noqa: F401


def __dir__() -> list[str]:  # dir(onnxlint) and IPython's completion show the lazily imported names too
    return sorted(__all__)


def __getattr__(name: str):
    if name in _PUBLIC:
        return getattr(importlib.import_module(f"onnxlint.{_PUBLIC[name]}"), name)
    raise AttributeError(f"module 'onnxlint' has no attribute '{name}'")
