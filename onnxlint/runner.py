"""Many models at once: the models the paths name, per-model settings, parallel processes, stable order."""
from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from onnxlint.api import lint_safely
from onnxlint.config import ConfigError, Settings, find_pyproject, read_config, settings_from
from onnxlint.discovery import Found, Walk, find_models
from onnxlint.report import Report


def settings_resolver(config: Path | None, cli_table: dict[str, Any]) -> Callable[[str], Settings | str]:
    """The settings of a path: --config FILE or the nearest pyproject.toml, then the CLI flags on top; each
    configuration read once. A broken configuration found beside a model is that model's error (a str), and
    the others go on; a --config FILE the user named, or a bad flag, is an error for the whole run
    (ConfigError, raised here)."""
    cache: dict[Path | None, Settings | str] = {}
    named = settings_from(read_config(config), str(config), Settings()) if config is not None else None

    def settings_of(path: str) -> Settings | str:
        try:
            source = config if config is not None else find_pyproject(
                Path.cwd() if path in ("", "-") else Path(path) if os.path.isdir(path) else Path(path).parent)
        except ConfigError as exc:
            return str(exc)
        if source not in cache:
            try:
                settings = named if named is not None else Settings()
                if source is not None and named is None:
                    settings = settings_from(read_config(source), str(source), settings, discovered=True)
            except ConfigError as exc:
                settings = str(exc)
            # the flags on top, outside the try: a bad flag is the whole run's error
            cache[source] = settings if isinstance(settings, str) or not cli_table else settings_from(
                cli_table, "command line", settings)
        return cache[source]

    return settings_of


def find(paths, settings_of: Callable[[str], Settings | str]) -> Found:
    """The models the paths name (folders searched as each one's settings say: discovery.py)."""
    def walk_for(path: str) -> Walk:
        settings = settings_of(path)
        return _walk(settings if not isinstance(settings, str) else Settings())  # the model's own will say it
    return find_models(paths, walk_for)


EMPTY_FOLDER = "no *.onnx file found in this folder (hidden, virtual-env, excluded and gitignored folders are skipped)"


def lint_file(path: str, settings: Settings) -> dict:
    """One model's report as JSON-able data — its entry of `--format json`, with `error` when it cannot be read
    — from its path and settings alone: the unit of work to hand any executor's worker (it pickles both ways)."""
    return lint_safely(path, settings).model_dict()


def lint_many(paths, *, executor=None, settings: Settings | None = None, **options: Any) -> Iterator[dict]:
    """Lint many models (files, or folders searched as the command line searches them) and yield each one's
    JSON-able report as it finishes — in no set order; each report is the same wherever it was made.
    `executor`: any concurrent.futures.Executor (a process pool, Dask's `Client.get_executor()`, Ray's or
    loky's); without one, here, one after another. `options` as for lint()."""
    from onnxlint.api import make_settings

    settings = make_settings(settings, **options)
    found = find_models([os.fspath(p) for p in paths], lambda _path: _walk(settings))
    for folder in found.empty:  # as on the command line: said, not fatal
        yield Report(path=folder, error=EMPTY_FOLDER, error_class="LoadError").model_dict()
    if executor is None:
        yield from (lint_file(model, settings) for model in found.models)
        return
    from concurrent.futures import as_completed

    for future in as_completed([executor.submit(lint_file, model, settings) for model in found.models]):
        yield future.result()


def _walk(settings: Settings) -> Walk:
    return Walk(settings.exclude, settings.extend_exclude, settings.respect_gitignore, settings.force_exclude,
                settings.root)


def iter_lint(models: list[str], settings_for: dict[str, Settings | str], *, jobs: int = 1, stdin: bytes | None = None,
              ordered: bool = True, **run: Any):
    """Reports in the order of `models`, as they finish; `jobs` > 1 lints in that many processes. A model whose
    settings are an error string becomes a Report carrying it; `-` is the model read from stdin."""
    work = [(m, settings_for[m], stdin if m == "-" else None, run) for m in models]
    if jobs > 1 and len(models) > 1:
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(max_workers=min(jobs, len(models))) as pool:
            if ordered:
                yield from pool.map(_lint_one, work)
            else:  # as they finish (--format jsonl)
                from concurrent.futures import as_completed

                yield from (future.result() for future in as_completed([pool.submit(_lint_one, w) for w in work]))
    else:
        yield from map(_lint_one, work)


def _lint_one(job) -> Report:
    model, settings, data, kwargs = job
    if isinstance(settings, str):
        return Report(path=model, error=settings, error_class="ConfigError")
    return lint_safely(model if data is None else data, settings, name=model, **kwargs)
