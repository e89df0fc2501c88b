"""Reporters: pure functions from reports to text, each module imported when its format is asked for."""
from __future__ import annotations

import importlib

# format → (module, function)
_RENDERERS = {"text": ("text", "render"), "json": ("json", "render"), "sarif": ("sarif", "render"),
              "github": ("github", "render"), "gitlab": ("gitlab", "render"), "markdown": ("table", "render_markdown"),
              "csv": ("table", "render_csv"), "html": ("html", "render"), "jsonl": ("json", "render_lines")}
FORMATS = tuple(_RENDERERS)


def renderer(fmt: str):
    module, function = _RENDERERS[fmt]
    return getattr(importlib.import_module(f"onnxlint.reporters.{module}"), function)
