"""The rule catalog: every built-in rule (one module of onnxlint.rules each) and every plugin registered in the
`onnxlint.rules` entry-point group, found once; lookups by code or name; the sections of a rule's docs.
Config and reporters read rules from here, not from the engine that runs them."""
from __future__ import annotations

import importlib
import inspect
import os
import pkgutil
import re
import sys
from collections.abc import Iterator
from functools import cache

DOC_SECTIONS = ("What it checks", "Why it matters", "Example", "What to do")


def _register(found: dict, names: dict, rule, where: str) -> None:
    """Add a rule; a code or a name that another rule already has is an error (never a silent replacement)."""
    for key, table, what in ((rule.code, found, "code"), (rule.name, names, "name")):
        other = table.get(key)
        if other is not None and other is not rule:
            raise ValueError(f"rule {what} {key} of {where} is already taken by {other.__module__}.{other.__name__}")
    found[rule.code] = rule
    names[rule.name] = rule


@cache
def all_rules() -> tuple:
    """Built-in rules (every module of onnxlint.rules) plus the `onnxlint.rules` entry points."""
    import onnxlint.rules as package
    from onnxlint.rule import Rule

    found: dict[str, type[Rule]] = {}
    names: dict[str, type[Rule]] = {}
    for info in pkgutil.iter_modules(package.__path__):
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        for obj in vars(module).values():
            if inspect.isclass(obj) and issubclass(obj, Rule) and obj is not Rule and obj.__module__ == module.__name__:
                _register(found, names, obj, module.__name__)
    for value in plugin_entry_points():
        module, _, attr = value.partition(":")
        loaded = importlib.import_module(module.strip())
        for part in attr.split("[")[0].strip().split(".") if attr else ():
            loaded = getattr(loaded, part)
        candidates = [loaded] if inspect.isclass(loaded) else [
            o for o in vars(loaded).values() if inspect.isclass(o) and issubclass(o, Rule) and o is not Rule]
        for rule in candidates:
            _register(found, names, rule, f"plugin '{value}'")
    return tuple(sorted(found.values(), key=lambda r: r.code))


def plugin_entry_points(group: str = "onnxlint.rules") -> list[str]:
    """The values (`module:attr`) of the entry points in `group` of every installed distribution, the first
    of each name as importlib.metadata counts them, read from the dist-info folders' entry_points.txt
    (the PyPA format): importing importlib.metadata costs 25 ms, a sixth of a small model's whole run.
    The working folder that `python -m`, `python -c` and notebooks put first on sys.path ('' or its path) is
    not searched: a checked-out repository's dist-info must not make onnxlint import its code. A folder the
    user names on PYTHONPATH is."""
    import configparser

    seen, values = set(), []
    here = os.path.realpath(os.getcwd())
    for index, entry in enumerate(sys.path):
        if not entry or (index == 0 and os.path.realpath(entry) == here):
            continue
        try:
            folders = sorted(os.listdir(entry))
        except OSError:  # a zip, a missing folder
            continue
        for folder in folders:
            if not folder.endswith((".dist-info", ".egg-info")):
                continue
            dist = re.sub(r"[-_.]+", "-", folder.rsplit(".", 1)[0].split("-")[0]).lower()
            path = os.path.join(entry, folder, "entry_points.txt")
            if dist in seen or not os.path.isfile(path):
                seen.add(dist)
                continue
            seen.add(dist)
            parser = configparser.ConfigParser(delimiters=("=",), interpolation=None)
            parser.optionxform = str  # entry point names are case-sensitive
            try:
                parser.read(path, encoding="utf-8")
            except (configparser.Error, UnicodeDecodeError):
                continue
            if parser.has_section(group):
                values.extend(value for _name, value in parser.items(group))
    return values


def rule_docs_url(rule) -> str | None:
    """The rule's section in the documentation the installed package declares (Documentation URL), if any."""
    from importlib.metadata import PackageNotFoundError, metadata

    try:
        urls = metadata("onnxlint").get_all("Project-URL") or []
    except PackageNotFoundError:
        return None
    docs = next((u.split(",", 1)[1].strip() for u in urls if u.lower().startswith("documentation,")), None)
    return f"{docs}#{rule.code.lower()}-{rule.name}" if docs else None


def find_rule(key: str):
    key_upper = key.upper()
    return next((r for r in all_rules() if r.code == key_upper or r.name == key), None)


_SELECTOR = re.compile(r"^[A-Z]+[0-9]*$")


def check_selector(selector: str) -> str:
    if selector == "ALL" or find_rule(selector) or (
            _SELECTOR.match(selector.upper()) and any(r.code.startswith(selector.upper()) for r in all_rules())):
        return selector
    raise ValueError(f"unknown rule or prefix '{selector}' (see `onnxlint rules`)")



def iter_sections(doc: str) -> Iterator[tuple[str, str]]:
    """Split a rule docstring into (section title, text) pairs; the first paragraph is untitled."""
    title, lines = "", []
    for line in doc.splitlines():
        if line.strip() in DOC_SECTIONS + ("Options",):
            yield title, "\n".join(lines).strip()
            title, lines = line.strip(), []
        else:
            lines.append(line)
    yield title, "\n".join(lines).strip()
