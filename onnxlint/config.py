"""Settings: `[tool.onnxlint]` in the nearest pyproject.toml (or --config FILE) merged with CLI
flags into one frozen Settings. Unknown keys and bad values are errors naming the key."""
from __future__ import annotations

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from onnxlint.baseline import Baseline
from onnxlint.baseline import read as read_baseline
from onnxlint.diagnostics import Severity
from onnxlint.discovery import DEFAULT_EXCLUDE
from onnxlint.loader import DEFAULT_MAX_SIZE
from onnxlint.units import parse_size  # noqa: F401 (the config's sizes; re-exported)


class ConfigError(ValueError):
    """A bad setting; the message names the key and the file."""


@dataclass(frozen=True)
class Settings:
    select: tuple[str, ...] = ()
    extend_select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    fail_on: Severity = Severity.WARNING
    options: dict[str, dict[str, Any]] = field(default_factory=dict)  # rule code → option → value
    input_shapes: dict[str | None, tuple[int, ...]] = field(default_factory=dict)
    per_file_ignores: dict[str, tuple[str, ...]] = field(default_factory=dict)  # file glob → codes
    ignore_nodes: dict[str, tuple[str, ...]] = field(default_factory=dict)  # code → node-name globs
    memory_budget: int | None = None
    training: bool = False
    max_size: int = DEFAULT_MAX_SIZE
    exclude: tuple[str, ...] = DEFAULT_EXCLUDE  # folder and file globs a folder search skips
    extend_exclude: tuple[str, ...] = ()
    respect_gitignore: bool = True
    force_exclude: bool = False  # exclude even the files named on the command line
    baseline: Baseline | None = None  # the findings accepted when onnxlint was adopted (baseline.py)
    target: str | None = None  # where the model will run (deploy.TARGETS): the deployment view
    root: Path | None = None  # the folder per-file-ignores and exclude globs are relative to
    origin: dict[str, str] = field(default_factory=dict)  # setting → where its value came from

    def to_dict(self) -> dict:
        """Every setting's value as JSON can hold it, by key."""
        out = {}
        for setting in SETTINGS:
            value = getattr(self, setting.field)
            if isinstance(value, Severity):
                value = str(value)
            elif isinstance(value, tuple):
                value = list(value)
            elif isinstance(value, Baseline):
                value = str(value.path)
            elif isinstance(value, dict):
                value = {str(k): list(v) if isinstance(v, tuple) else v for k, v in value.items()}
            out[setting.key] = value
        return out

    def origins(self) -> dict:
        """Where each setting's value came from, by key: "default", a file, or "command line"."""
        return {s.key: self.origin.get(s.field, "default") for s in SETTINGS}

    def without_baseline(self) -> Settings:
        return replace(self, baseline=None)

    def show(self) -> str:
        """Every setting's value and where it came from, one `key = value  # origin` line each."""
        lines = []
        for key, value in self.to_dict().items():
            origin = self.origins()[key]
            line = f"# {key} is not set" if value is None else f"{key} = {toml_value(value)}"
            lines.append(f"{line}  # {origin}")
        return "\n".join(lines)


def toml_value(value: Any) -> str:
    """A value as TOML writes it, so a line of --show-settings pastes back into [tool.onnxlint]."""
    import json
    import re

    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # a TOML basic string: JSON's escapes are TOML's
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k if re.fullmatch(r'[A-Za-z0-9_-]+', str(k)) else toml_value(str(k))} = "
                               f"{toml_value(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"no TOML form for {type(value).__name__}")


def parse_shape(text: str) -> tuple[str | None, tuple[int, ...]]:
    """'input=1,3,224,224' → ('input', (1,3,224,224)); '1,3,224,224' → (None, ...)."""
    name, equals, dims = text.rpartition("=")
    if equals and not name:
        raise ValueError(f"--input-shape '{text}': the input's name before '=' is empty (or leave out the '=')")
    try:
        shape = tuple(int(d) for d in dims.replace("x", ",").split(","))
    except ValueError:
        raise ValueError(f"--input-shape '{text}': expected NAME=1,3,224,224 or 1,3,224,224") from None
    if any(d <= 0 for d in shape):
        raise ValueError(f"--input-shape '{text}': every dim must be a positive integer")
    return (name or None), shape


def find_pyproject(start: Path) -> Path | None:
    """The nearest pyproject.toml with a [tool.onnxlint] table, searching upward (like ruff). One that mentions
    [tool.onnxlint] but is not valid TOML is an error (naming the file and line), never silently skipped."""
    start = start.resolve()
    for folder in [start] + list(start.parents) if start.is_dir() else list(start.parents):
        candidate = folder / "pyproject.toml"
        if candidate.is_file():
            try:
                text = candidate.read_text("utf-8")
            except (OSError, UnicodeDecodeError):
                continue
            try:
                if "onnxlint" in tomllib.loads(text).get("tool", {}):
                    return candidate
            except tomllib.TOMLDecodeError as exc:
                if "tool.onnxlint" in text:
                    raise ConfigError(f"{candidate}: invalid TOML: {exc}") from None
    return None


def read_config(path: Path) -> dict[str, Any]:
    try:
        data = tomllib.loads(path.read_text("utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read config: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    if "tool" in data:
        return data["tool"].get("onnxlint", {})
    return data


@dataclass(frozen=True)
class Setting:
    """One key of [tool.onnxlint]: the Settings field it fills, how a value is checked (`parse(value, where)`
    returns the fields it changes, or raises ValueError naming the problem), and its documentation."""
    key: str
    field: str
    doc: str
    parse: Callable[[Any, _Where], dict[str, Any]]


@dataclass(frozen=True)
class _Where:
    """Where a value comes from: the file or "command line", the settings it is merged into, and whether the
    file was found beside a model rather than named by the user."""
    name: str
    base: Settings
    discovered: bool

    @property
    def in_file(self) -> bool:
        return self.name not in ("command line", "lint() arguments")


def _selectors(key: str):
    def parse(value, where: _Where) -> dict:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ValueError("must be a list of rule codes, names or prefixes")
        return {key: tuple(_check_selector(v) for v in value)}
    return parse


def _ignore(value, where: _Where) -> dict:
    if isinstance(value, dict):  # {"OL201" = ["/stem/*", "layer1.*"]}: by node name or module path
        return _ignore_nodes(value, where)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError("must be a list of rule codes, or a table of code → node-name globs")
    return {"ignore": tuple(_check_selector(v) for v in value)}


def _ignore_nodes(value, where: _Where) -> dict:
    if not isinstance(value, dict):
        raise ValueError("must be a table of code → node-name or module-path globs")
    nodes = {}
    for code, globs in value.items():
        _check_selector(code)
        if not isinstance(globs, list) or not all(isinstance(g, str) for g in globs):
            raise _Keyed(f"ignore.{code}", "must be a list of node-name globs")
        nodes[code] = tuple(globs)
    return {"ignore_nodes": {**where.base.ignore_nodes, **nodes}}


def _fail_on(value, where: _Where) -> dict:
    return {"fail_on": Severity.parse(value)}


def _size(key: str):
    def parse(value, where: _Where) -> dict:
        size = parse_size(value)
        if size <= 0:
            raise ValueError(f"must be a positive size, not {value!r}")
        if key == "max_size" and where.discovered and size > where.base.max_size:
            raise ValueError("a configuration found beside the model cannot raise the size cap; use --max-size "
                             "or --config")
        return {key: size}
    return parse


def _flag(key: str):
    def parse(value, where: _Where) -> dict:
        if not isinstance(value, bool):
            raise ValueError("must be true or false")
        return {key: value}
    return parse


def _globs(key: str):
    def parse(value, where: _Where) -> dict:
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise ValueError("must be a list of globs (a name like `build`, or a path like `models/old/*`)")
        return {key: tuple(value), "root": _folder(where)}
    return parse


def _baseline(value, where: _Where) -> dict:
    if not isinstance(value, str) or not value:
        raise ValueError("must be the path of a baseline file (written by --write-baseline)")
    path = Path(value)
    return {"baseline": read_baseline(path if path.is_absolute() else _folder(where) / path)}


def _target(value, where: _Where) -> dict:
    from onnxlint.deploy import TARGETS

    if value not in TARGETS:
        raise ValueError(f"must be one of {', '.join(TARGETS)}, not {value!r}")
    return {"target": value}


def _folder(where: _Where) -> Path:
    """The folder relative globs are relative to: the configuration's (as in ruff), or the working folder."""
    return Path(where.name).resolve().parent if where.in_file else Path.cwd().resolve()


def _input_shapes(value, where: _Where) -> dict:
    if not isinstance(value, dict):
        raise ValueError("must be a table of input name → [dims]")
    shapes = {}
    for name, dims in value.items():
        if not isinstance(dims, list) or not all(isinstance(d, int) and d > 0 for d in dims):
            raise _Keyed(f"input-shapes.{name}", "must be a list of positive integers")
        shapes[name] = tuple(dims)
    return {"input_shapes": shapes}


def _per_file_ignores(value, where: _Where) -> dict:
    if not isinstance(value, dict):
        raise ValueError("must be a table of file glob → [codes]")
    # globs are relative to the folder of the file that sets them (as in ruff)
    return {"per_file_ignores": {glob: tuple(_check_selector(c) for c in codes) for glob, codes in value.items()},
            "root": _folder(where)}


def _options(value, where: _Where) -> dict:
    from onnxlint.catalog import find_rule

    if not isinstance(value, dict):
        raise ValueError("must be a table of rule code → {option = value}")
    merged = {k: dict(v) for k, v in where.base.options.items()}
    for code, opts in value.items():
        rule = find_rule(code)
        if rule is None:
            raise _Keyed(f"options.{code}", "no such rule")
        if not isinstance(opts, dict):
            raise _Keyed(f"options.{code}", "must be a table of option = value")
        rule(opts)  # validates names and types
        merged.setdefault(rule.code, {}).update(opts)
    return {"options": merged}


def _check_selector(selector: str) -> str:
    from onnxlint.catalog import check_selector

    return check_selector(selector)


class _Keyed(ValueError):
    """A problem with a key inside a setting's table (`options.OL201`, `input-shapes.image`)."""

    def __init__(self, key: str, problem: str) -> None:
        super().__init__(problem)
        self.key = key


SETTINGS = (
    Setting("select", "select", "rule codes, names or prefixes to run instead of the default set",
            _selectors("select")),
    Setting("extend-select", "extend_select", "rules to run besides the selected ones (opt-in rules by code or "
            "name)", _selectors("extend_select")),
    Setting("ignore", "ignore", "rule codes, names or prefixes not to run; or a table of code → node-name or "
            "module-path globs, which suppresses those findings there only", _ignore),
    Setting("ignore-nodes", "ignore_nodes", "a table of code → node-name or module-path globs (as `ignore`'s "
            "table form; `--ignore-node CODE:GLOB`)", _ignore_nodes),
    Setting("fail-on", "fail_on", "the severity from which a finding fails the run (error, warning, "
            "suggestion)", _fail_on),
    Setting("options", "options", "rule options: a table per rule code (`[tool.onnxlint.options.OL201]`)",
            _options),
    Setting("input-shapes", "input_shapes", "an input's dims by its name, for symbolic dims (`{image = "
            "[1, 3, 224, 224]}`)", _input_shapes),
    Setting("per-file-ignores", "per_file_ignores", "a table of file glob → codes not to run on the matching "
            "models (globs relative to the configuration's folder)", _per_file_ignores),
    Setting("memory-budget", "memory_budget", "warn when peak activation memory exceeds this size (`512MB`)",
            _size("memory_budget")),
    Setting("training", "training", "count memory as training does (every activation kept for the backward "
            "pass)", _flag("training")),
    Setting("max-size", "max_size", "the largest model file read (a file found beside a model cannot raise it)",
            _size("max_size")),
    Setting("exclude", "exclude", "folders and files a folder search skips, replacing the defaults (a name "
            "matches at any depth, a path with `/` is relative to the configuration's folder); hidden folders and "
            "virtual environments are always skipped", _globs("exclude")),
    Setting("extend-exclude", "extend_exclude", "more globs to skip, besides `exclude`", _globs("extend_exclude")),
    Setting("respect-gitignore", "respect_gitignore", "skip what `.gitignore` files (and .git/info/exclude) "
            "ignore", _flag("respect_gitignore")),
    Setting("baseline", "baseline", "a baseline file (`--write-baseline`): the findings it lists are accepted, only "
            "new ones are reported (path relative to the configuration's folder)", _baseline),
    Setting("target", "target", "where the model will run: `ort-cpu` (onnxruntime's CPU provider: which layers run "
            "in int8 or fp16, which fall back to float), `nnapi` or `coreml` (how the graph splits between the "
            "accelerator and the CPU), `qnn-htp` or `openvino` (which nodes the provider takes, and why not the "
            "others)", _target),
    Setting("force-exclude", "force_exclude", "apply the exclusions to files named on the command line too (for "
            "pre-commit, which names every changed file)", _flag("force_exclude")),
)
_BY_KEY = {s.key: s for s in SETTINGS}


def settings_from(table: dict[str, Any], where: str, base: Settings | None = None, *,
                  discovered: bool = False) -> Settings:
    """Validate a [tool.onnxlint] table (keys in kebab-case) into Settings, by the SETTINGS table.
    `discovered`: a file found beside a model rather than named by the user; it may not raise the limits
    that protect the machine."""
    settings = base or Settings()
    context = _Where(where, settings, discovered)
    changes: dict[str, Any] = {}
    origin = dict(settings.origin)
    for key, value in table.items():
        setting = _BY_KEY.get(key)
        try:
            if setting is None:
                import difflib

                close = difflib.get_close_matches(key, _BY_KEY, n=1)
                hint = f"did you mean '{close[0]}'? " if close else ""
                raise ValueError(f"unknown setting; {hint}(known: {', '.join(_BY_KEY)})")
            changed = setting.parse(value, context)
        except _Keyed as exc:
            raise _error(context, exc.key, str(exc)) from None
        except ValueError as exc:
            raise _error(context, key, str(exc)) from None
        changes.update(changed)
        origin.update((name, where) for name in changed if name != "root")
    return replace(settings, **changes, origin=origin)


def _error(where: _Where, key: str, problem: str) -> ConfigError:
    return ConfigError(f"{where.name}: {'[tool.onnxlint] ' if where.in_file else ''}{key}: {problem}")
