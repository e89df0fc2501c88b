"""Many models at once: path expansion, per-model settings, parallel processes, stable order."""
from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from onnxlint.api import lint_safely
from onnxlint.config import Settings, find_pyproject, read_config, settings_from
from onnxlint.report import Report


def expand_paths(paths) -> list[str]:
    """Files as given; directories searched recursively for *.onnx, sorted. Missing paths are kept
    so that they are reported as unreadable, in order."""
    models: list[str] = []
    for path in paths:
        if os.path.isdir(path):
            found = sorted(str(p) for p in Path(path).rglob("*.onnx") if not p.is_dir())
            models.extend(found)
        else:
            models.append(str(path))
    return list(dict.fromkeys(models))


def resolve_settings(models: list[str], config: Path | None, cli_table: dict[str, Any]) -> dict[str, Settings]:
    """Settings per model: --config FILE or the nearest pyproject.toml, then the CLI flags on top."""
    cache: dict[Path | None, Settings] = {}
    result = {}
    for model in models:
        source = config if config is not None else find_pyproject(Path(model).parent if model else Path.cwd())
        if source not in cache:
            settings = Settings()
            if source is not None:
                settings = settings_from(read_config(source), str(source), settings)
            if cli_table:
                settings = settings_from(cli_table, "command line", settings)
            cache[source] = settings
        result[model] = cache[source]
    return result


def iter_lint(models: list[str], settings_for: dict[str, Settings], *, jobs: int = 1, **run: Any):
    """Reports in the order of `models`, as they finish; `jobs` > 1 lints in that many processes."""
    work = [(m, settings_for[m], run) for m in models]
    if jobs > 1 and len(models) > 1:
        with ProcessPoolExecutor(max_workers=min(jobs, len(models))) as pool:
            yield from pool.map(_lint_one, work)
    else:
        yield from map(_lint_one, work)


def _lint_one(job) -> Report:
    model, settings, kwargs = job
    report = lint_safely(model, settings, **kwargs)
    report.context = None  # graph and protobuf views: neither needed after the run nor picklable
    return report
