"""What a mutant must never do to onnxlint, and how it is found out: the classes of failure of the fuzzer.

- `internal-error`: an exception onnxlint did not foresee (lint, every format, the library, a `--target`), or a
  traceback;
- `stray-output`: a warning or a line on stderr that is not onnxlint's own;
- `input-written`: the model file changed;
- `hang`: a command past its time limit;
- `accepted-invalid`: onnx's full checker and onnxruntime both refuse the model, and lint says no error and
  exits without a one-line refusal.
"""
from __future__ import annotations

import hashlib
import io
import json
import subprocess
import sys
import warnings
from contextlib import redirect_stderr
from pathlib import Path

from onnxlint.api import lint_safely
from onnxlint.config import Settings
from onnxlint.deploy import TARGETS as _TARGETS
from onnxlint.diagnostics import Severity
from onnxlint.reporters import renderer

FORMATS = ("text", "json", "sarif", "github", "gitlab", "markdown", "csv", "html")
TARGETS = sorted(_TARGETS)
_ORT_PROBE = """
import sys
import onnxruntime as ort
ort.set_default_logger_severity(4)
try:
    ort.InferenceSession(sys.argv[1], providers=["CPUExecutionProvider"])
except Exception:
    print("refused")
else:
    print("loaded")
"""


def lint_outcome(data: bytes) -> tuple[str | None, object]:
    """(failure class or None, the report) of the library and every format, in this process."""
    captured = io.StringIO()
    with warnings.catch_warnings(record=True) as caught, redirect_stderr(captured):
        warnings.simplefilter("always")
        report = lint_safely(data, Settings(), name="mutant.onnx")
        if report.error_class == "InternalError":
            return "internal-error", report
        # one deployment view per mutant, picked by its bytes: each target's prediction meets the hostile models
        target = TARGETS[int(hashlib.sha256(data).hexdigest()[:8], 16) % len(TARGETS)]
        deployed = lint_safely(data, Settings(target=target), name="mutant.onnx")
        if deployed.error_class == "InternalError":
            return f"internal-error (--target {target})", report
        try:
            for fmt in FORMATS:
                renderer(fmt)([report])
            json.dumps(report.to_dict())
            json.dumps(deployed.to_dict())
            renderer("text")([deployed])
            repr(report)
        except Exception as exc:  # noqa: BLE001 — that is what the fuzzer looks for
            return f"internal-error ({fmt}: {type(exc).__name__}: {exc})", report
    if caught or captured.getvalue():
        shown = [str(w.message) for w in caught] + [captured.getvalue()]
        return f"stray-output ({'; '.join(shown)[:200]})", report
    return None, report


def refused_by_onnx(data: bytes) -> bool:
    import onnx

    try:
        model = onnx.ModelProto()
        model.ParseFromString(data)
        onnx.checker.check_model(model, full_check=True)
    except Exception:  # noqa: BLE001
        return True
    return False


def refused_by_onnxruntime(path: Path, timeout: float = 60) -> bool:
    """In a child process: a hostile model may crash onnxruntime, which must not take the fuzzer with it."""
    try:
        done = subprocess.run([sys.executable, "-c", _ORT_PROBE, str(path)], capture_output=True, text=True,
                              timeout=timeout)
    except subprocess.TimeoutExpired:
        return True
    return done.stdout.strip() != "loaded"  # refused, or the process died


def lints_an_error(report) -> bool:
    return report.error is not None or any(d.severity == Severity.ERROR for d in report.diagnostics)


def classify(data: bytes, folder: Path) -> str | None:
    """The failure class of one mutant (None: onnxlint behaved)."""
    failure, report = lint_outcome(data)
    if failure is not None:
        return failure
    if lints_an_error(report) or not refused_by_onnx(data):
        return None
    path = folder / f"{hashlib.sha256(data).hexdigest()[:16]}.onnx"
    path.write_bytes(data)
    try:  # from its file, as onnx and onnxruntime read it: external data is then checked beside it (OL003)
        if refused_by_onnxruntime(path) and not lints_an_error(lint_safely(str(path), Settings())):
            return "accepted-invalid"
    finally:
        path.unlink()
    return None


def cli_outcome(path: Path, *args: str, timeout: float = 120) -> str | None:
    """A command on the mutant's file: no traceback, stderr only onnxlint's lines, the file unchanged, in time."""
    before = path.read_bytes()
    try:
        done = subprocess.run([sys.executable, "-m", "onnxlint", *args], capture_output=True, text=True,
                              timeout=timeout)
    except subprocess.TimeoutExpired:
        return f"hang ({' '.join(args[:2])})"
    if path.read_bytes() != before:
        return "input-written"
    if "Traceback" in done.stderr or "internal error" in done.stderr:
        return f"internal-error ({' '.join(args[:2])}: {done.stderr.strip()[:200]})"
    stray = [line for line in done.stderr.splitlines() if line and not line.startswith("onnxlint")]
    if stray:
        return f"stray-output ({stray[0][:200]})"
    return None
