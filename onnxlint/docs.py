"""Rule and settings documentation, from the rule docstrings and the settings table: `onnxlint explain` and
docs/rules.md."""
from __future__ import annotations

from onnxlint.catalog import all_rules
from onnxlint.config import SETTINGS


def rule_doc(rule, heading: str = "##") -> str:
    default = "on by default" if rule.default_enabled else "opt-in (enable with --extend-select " + rule.code + ")"
    lines = [f"{heading} {rule.code} {rule.name}", "",
             f"Severity: {rule.severity} · {default}", "", rule.doc().strip(), ""]
    if rule.options:
        lines += ["Options (set with `--option " + rule.code + ".NAME=VALUE` or `[tool.onnxlint.options."
                  + rule.code + "]`):", ""]
        lines += [f"- {o.describe()}" for o in rule.options]
        lines.append("")
    return "\n".join(lines)


def rules_table() -> list[str]:
    """The table of every rule, from the catalog: docs/rules.md and the README hold it (a test checks both)."""
    parts = ["| code | name | severity | default | fix | summary |", "|---|---|---|---|---|---|"]
    for rule in all_rules():
        parts.append(f"| {rule.code} | {rule.name} | {rule.severity} | "
                     f"{'on' if rule.default_enabled else 'opt-in'} | {rule.applicability or ''} | "
                     f"{rule.summary_text().replace('|', chr(92) + '|')} |")  # a | would end the cell
    return parts


def rules_markdown() -> str:
    """The content of docs/rules.md (a test fails when the committed file differs)."""
    parts = ["# onnxlint rules", "", "Generated from the rule docstrings by `python -m onnxlint.docs > docs/rules.md`.",
             "", *rules_table()]
    parts += ["", "## Settings", "", "Keys of `[tool.onnxlint]` in `pyproject.toml` (or `--config FILE`); command-line "
              "flags override them. Generated from `onnxlint.config.SETTINGS`.", "", "| key | what it sets |",
              "|---|---|"]
    parts += [f"| `{s.key}` | {s.doc} |" for s in SETTINGS]
    parts.append("")
    parts += [rule_doc(rule) for rule in all_rules()]
    return "\n".join(parts)


README_RULES = (
    "<!-- rules: generated from the catalog by onnxlint.docs.rules_table; tests/test_readme.py holds it -->",
    "<!-- /rules -->")


def with_rules_table(readme: str) -> str:
    """The README with its rules table made anew from the catalog, between its two markers."""
    start, end = readme.index(README_RULES[0]) + len(README_RULES[0]), readme.index(README_RULES[1])
    return readme[:start] + "\n" + "\n".join(rules_table()) + "\n" + readme[end:]


if __name__ == "__main__":  # `python -m onnxlint.docs > docs/rules.md`; `--readme` rewrites the README's table
    import sys
    from pathlib import Path

    if sys.argv[1:] == ["--readme"]:
        readme = Path("README.md")
        readme.write_text(with_rules_table(readme.read_text(encoding="utf-8")), encoding="utf-8")
    else:
        print(rules_markdown(), end="")
