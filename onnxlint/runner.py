"""Many models at once: path expansion, per-model settings, parallel processes, stable order."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from onnxlint.api import lint_safely
from onnxlint.config import ConfigError, Settings, find_pyproject, read_config, settings_from
from onnxlint.report import Report


def expand_paths(paths) -> list[str]:
    """Files as given; directories searched recursively for *.onnx, sorted. Missing paths are kept
    so that they are reported as unreadable, in order."""
    models: list[str] = []
    for path in paths:
        if os.path.isdir(path):
            found = sorted(str(p) for p in Path(path).rglob("*.onnx") if not p.is_dir())
            # a folder with no model in it (or one named like a model, x.onnx) is reported, not skipped
            models.extend(found or [str(path)])
        else:
            models.append(str(path))
    return list(dict.fromkeys(models))


def resolve_settings(models: list[str], config: Path | None, cli_table: dict[str, Any]) -> dict[str, Settings | str]:
    """Settings per model: --config FILE or the nearest pyproject.toml, then the CLI flags on top. A broken
    config found beside a model is that model's error (a str), and the others go on; a --config FILE the user
    named, or a bad flag, is an error for the whole run (ConfigError)."""
    cache: dict[Path | None, Settings | str] = {}
    result: dict[str, Settings | str] = {}
    named = settings_from(read_config(config), str(config), Settings()) if config is not None else None
    for model in models:
        try:
            source = config if config is not None else find_pyproject(
                Path(model).parent if model not in ("", "-") else Path.cwd())
        except ConfigError as exc:
            result[model] = str(exc)
            continue
        if source not in cache:
            try:
                settings = named if named is not None else Settings()
                if source is not None and named is None:
                    settings = settings_from(read_config(source), str(source), settings, discovered=True)
                cache[source] = settings
            except ConfigError as exc:
                cache[source] = str(exc)
        found = cache[source]
        result[model] = found if isinstance(found, str) or not cli_table else settings_from(
            cli_table, "command line", found)
    return result


def iter_lint(models: list[str], settings_for: dict[str, Settings | str], *, jobs: int = 1, stdin: bytes | None = None,
              **run: Any):
    """Reports in the order of `models`, as they finish; `jobs` > 1 lints in that many processes. A model whose
    settings are an error string becomes a Report carrying it; `-` is the model read from stdin."""
    work = [(m, settings_for[m], stdin if m == "-" else None, run) for m in models]
    if jobs > 1 and len(models) > 1:
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(max_workers=min(jobs, len(models))) as pool:
            yield from pool.map(_lint_one, work)
    else:
        yield from map(_lint_one, work)


def _lint_one(job) -> Report:
    model, settings, data, kwargs = job
    if isinstance(settings, str):
        return Report(path=model, error=settings, error_class="ConfigError")
    return lint_safely(model if data is None else data, settings, name=model, **kwargs)
