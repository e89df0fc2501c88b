"""Every rule's case table (tests/rules/table_*.py), one test per case: a new rule is its module plus its table."""
import importlib
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))
TABLES = [importlib.import_module(p.stem) for p in sorted(HERE.glob("table_*.py"))]

from cases import check  # noqa: E402


@pytest.mark.parametrize("rule, case", [(t.RULE, c) for t in TABLES for c in t.CASES],
                         ids=[f"{t.RULE}-{c.label}" for t in TABLES for c in t.CASES])
def test_case(rule, case):
    check(rule, case)
