"""onnxlint: a static linter for ONNX convolutional networks."""
__version__ = "0.1.0"

from onnxlint.api import LintError, check, lint  # noqa: E402
from onnxlint.config import ConfigError, Settings  # noqa: E402
from onnxlint.diagnostics import Diagnostic, Savings, Severity  # noqa: E402
from onnxlint.loader import LoadError  # noqa: E402
from onnxlint.report import Report  # noqa: E402

__all__ = ["lint", "check", "Report", "Diagnostic", "Savings", "Severity", "LintError", "LoadError", "Settings",
           "ConfigError", "__version__"]
