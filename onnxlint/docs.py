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


def rules_markdown() -> str:
    """The content of docs/rules.md (a test fails when the committed file differs)."""
    parts = ["# onnxlint rules", "", "Generated from the rule docstrings by `python -m onnxlint.docs > docs/rules.md`.",
             "", "| code | name | severity | default | summary |", "|---|---|---|---|---|"]
    for rule in all_rules():
        parts.append(f"| {rule.code} | {rule.name} | {rule.severity} | "
                     f"{'on' if rule.default_enabled else 'opt-in'} | {rule.summary_text()} |")
    parts += ["", "## Settings", "", "Keys of `[tool.onnxlint]` in `pyproject.toml` (or `--config FILE`); command-line "
              "flags override them. Generated from `onnxlint.config.SETTINGS`.", "", "| key | what it sets |",
              "|---|---|"]
    parts += [f"| `{s.key}` | {s.doc} |" for s in SETTINGS]
    parts.append("")
    parts += [rule_doc(rule) for rule in all_rules()]
    return "\n".join(parts)


if __name__ == "__main__":
    print(rules_markdown(), end="")
