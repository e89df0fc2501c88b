"""Rule docs are the user's manual: fixed sections, `explain`, and docs/rules.md kept current."""
import pytest
from conftest import ROOT, run_cli

from onnxlint.catalog import DOC_SECTIONS, all_rules, iter_sections
from onnxlint.docs import rules_markdown


def test_a_duplicate_code_or_name_is_an_error_at_load():
    from onnxlint.catalog import _register

    found, names = {}, {}
    first, second = all_rules()[:2]
    _register(found, names, first, "here")
    clash = type("Clash", (second,), {"code": first.code})  # another rule claiming OL001
    with pytest.raises(ValueError, match=f"rule code {first.code} of there is already taken"):
        _register(found, names, clash, "there")
    renamed = type("Renamed", (second,), {"name": first.name})
    with pytest.raises(ValueError, match=f"rule name {first.name} of there is already taken"):
        _register(found, names, renamed, "there")


def test_every_rule_documents_the_fixed_sections():
    for rule in all_rules():
        titles = [title for title, text in iter_sections(rule.doc()) if text]
        assert titles[:5] == ["", *DOC_SECTIONS], rule.code
        assert rule.name == rule.name.lower() and " " not in rule.name
        assert rule.summary and len(rule.summary) < 120


def test_explain_prints_the_doc_and_options():
    result = run_cli("explain", "OL201")
    assert result.returncode == 0
    assert "# OL201 large-kernel" in result.stdout
    assert "Why it matters" in result.stdout and "min-saving" in result.stdout
    assert run_cli("explain", "OL999").returncode == 2


def test_docs_rules_md_is_up_to_date():
    committed = (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
    assert committed == rules_markdown(), "regenerate: python -m onnxlint.docs > docs/rules.md"


def test_settings_come_from_one_table():
    """The README's configuration example, `--show-settings` and docs/rules.md all name the keys of
    onnxlint.config.SETTINGS, which is also what validates a configuration."""
    import re

    from onnxlint.config import SETTINGS, Settings, settings_from

    keys = [s.key for s in SETTINGS]
    example = (ROOT / "README.md").read_text().split("```toml\n[tool.onnxlint]\n", 1)[1].split("\n\n")[0]
    assert {m for m in re.findall(r"^([a-z-]+) =", example, re.M)} <= set(keys)
    shown = [line.split("  # ")[0] for line in Settings().show().splitlines()]
    assert [line.removeprefix("# ").split(" ")[0] for line in shown] == keys
    # what it prints pastes back into [tool.onnxlint]: TOML that validates into the same settings
    import tomllib

    pasted = tomllib.loads("\n".join(line for line in shown if not line.startswith("#")))
    assert settings_from(pasted, "pasted").to_dict() == Settings().to_dict()
    docs = (ROOT / "docs" / "rules.md").read_text()
    assert all(f"| `{key}` |" in docs for key in keys)
    with pytest.raises(ValueError, match=f"known: {', '.join(keys)}"):
        settings_from({"selct": ["OL1"]}, "x.toml")
