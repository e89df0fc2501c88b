"""Every rule's case table (tests/rules/table_*.py), one test per case and per fix case: a new rule, fixable or
not, is its module plus its table."""
import importlib
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))
TABLES = [importlib.import_module(p.stem) for p in sorted(HERE.glob("table_*.py"))]

from cases import check, check_fix  # noqa: E402


@pytest.mark.parametrize("rule, case", [(t.RULE, c) for t in TABLES for c in t.CASES],
                         ids=[f"{t.RULE}-{c.label}" for t in TABLES for c in t.CASES])
def test_case(rule, case):
    check(rule, case)


@pytest.mark.slow  # runs onnxruntime
@pytest.mark.parametrize("rule, case", [(t.RULE, c) for t in TABLES for c in getattr(t, "FIXES", ())],
                         ids=[f"{t.RULE}-{c.label}" for t in TABLES for c in getattr(t, "FIXES", ())])
def test_fix_case(rule, case):
    check_fix(rule, case)


def test_every_fixable_rule_has_fix_cases():
    from onnxlint.fix import fixable_rules

    assert {t.RULE for t in TABLES if getattr(t, "FIXES", ())} == set(fixable_rules())
