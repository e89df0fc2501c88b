"""Settings: `[tool.onnxlint]` in the nearest pyproject.toml (or --config FILE) merged with CLI
flags into one frozen Settings. Unknown keys and bad values are errors naming the key."""
from __future__ import annotations

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from onnxlint.diagnostics import Severity
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
    root: Path | None = None  # the folder per-file-ignores globs are relative to
    origin: dict[str, str] = field(default_factory=dict)  # setting → where its value came from

    def show(self) -> str:
        lines = []
        for f in fields(self):
            if f.name in ("origin", "root"):
                continue
            value = getattr(self, f.name)
            value = str(value) if isinstance(value, Severity) else value
            lines.append(f"{f.name.replace('_', '-')} = {value!r}  # {self.origin.get(f.name, 'default')}")
        return "\n".join(lines)


def parse_shape(text: str) -> tuple[str | None, tuple[int, ...]]:
    """'input=1,3,224,224' → ('input', (1,3,224,224)); '1,3,224,224' → (None, ...)."""
    name, _, dims = text.rpartition("=")
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


_LIST_KEYS = {"select", "extend-select"}


def settings_from(table: dict[str, Any], where: str, base: Settings | None = None, *,
                  discovered: bool = False) -> Settings:
    """Validate a [tool.onnxlint] table (keys in kebab-case) into Settings. `discovered`: a file found beside
    a model rather than named by the user; it may not raise the limits that protect the machine."""
    from onnxlint.catalog import check_selector, find_rule

    settings = base or Settings()
    changes: dict[str, Any] = {}
    origin = dict(settings.origin)

    in_file = where not in ("command line", "lint() arguments")

    def fail(key: str, problem: str) -> ConfigError:
        return ConfigError(f"{where}: {'[tool.onnxlint] ' if in_file else ''}{key}: {problem}")

    for key, value in table.items():
        attr = key.replace("-", "_")
        try:
            if key in _LIST_KEYS:
                if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                    raise fail(key, "must be a list of rule codes, names or prefixes")
                changes[attr] = tuple(check_selector(v) for v in value)
            elif key in ("ignore", "ignore-nodes"):
                if isinstance(value, dict):  # {"OL201" = ["/stem/*", "layer1.*"]}: by node name or module path
                    nodes = {}
                    for code, globs in value.items():
                        check_selector(code)
                        if not isinstance(globs, list) or not all(isinstance(g, str) for g in globs):
                            raise fail(f"ignore.{code}", "must be a list of node-name globs")
                        nodes[code] = tuple(globs)
                    changes["ignore_nodes"] = {**settings.ignore_nodes, **nodes}
                    origin["ignore_nodes"] = where
                    continue
                if key == "ignore-nodes":
                    raise fail(key, "must be a table of code → node-name or module-path globs")
                if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                    raise fail(key, "must be a list of rule codes, or a table of code → node-name globs")
                changes[attr] = tuple(check_selector(v) for v in value)
            elif key == "fail-on":
                changes[attr] = Severity.parse(value)
            elif key == "memory-budget" or key == "max-size":
                changes[attr] = parse_size(value)
                if key == "max-size" and discovered and changes[attr] > settings.max_size:
                    raise fail(key, "a configuration found beside the model cannot raise the size cap; use "
                                    "--max-size or --config")
            elif key == "training":
                if not isinstance(value, bool):
                    raise fail(key, "must be true or false")
                changes[attr] = value
            elif key == "input-shapes":
                if not isinstance(value, dict):
                    raise fail(key, "must be a table of input name → [dims]")
                shapes = {}
                for name, dims in value.items():
                    if not isinstance(dims, list) or not all(isinstance(d, int) and d > 0 for d in dims):
                        raise fail(f"input-shapes.{name}", "must be a list of positive integers")
                    shapes[name] = tuple(dims)
                changes[attr] = shapes
            elif key == "per-file-ignores":
                if not isinstance(value, dict):
                    raise fail(key, "must be a table of file glob → [codes]")
                changes[attr] = {glob: tuple(check_selector(c) for c in codes) for glob, codes in value.items()}
                # globs are relative to the folder of the file that sets them (as in ruff)
                changes["root"] = Path(where).resolve().parent if in_file else Path.cwd().resolve()
            elif key == "options":
                if not isinstance(value, dict):
                    raise fail(key, "must be a table of rule code → {option = value}")
                merged = {k: dict(v) for k, v in settings.options.items()}
                for code, opts in value.items():
                    rule = find_rule(code)
                    if rule is None:
                        raise fail(f"options.{code}", "no such rule")
                    if not isinstance(opts, dict):
                        raise fail(f"options.{code}", "must be a table of option = value")
                    rule(opts)  # validates names and types
                    merged.setdefault(rule.code, {}).update(opts)
                changes[attr] = merged
            else:
                raise fail(key, "unknown setting (known: select, extend-select, ignore, ignore-nodes, fail-on, "
                                "options, "
                                "input-shapes, per-file-ignores, memory-budget, training, max-size)")
        except ConfigError:
            raise
        except ValueError as exc:
            raise fail(key, str(exc)) from None
        origin[attr] = where
    return replace(settings, **changes, origin=origin)
