"""The committed fixture models are exactly what fixtures/build.py builds."""
import pytest
from conftest import FIXTURES, load_builder

BUILDER = load_builder()


@pytest.mark.parametrize("name", sorted(BUILDER.FIXTURES))
def test_committed_fixture_matches_the_builder(name):
    assert (FIXTURES / f"{name}.onnx").read_bytes() == BUILDER.build(name).SerializeToString(), \
        "regenerate with: python fixtures/build.py"


def test_no_stray_fixture_files():
    assert {p.stem for p in FIXTURES.glob("*.onnx")} == set(BUILDER.FIXTURES)
