"""What each light model of the onnx package triggers, reviewed by hand: a rule change that adds or
removes findings shows up here as a diff."""
import pytest
from conftest import light

import onnxlint

EXPECTED = {
    "bvlc_alexnet": {"OL101": 1, "OL102": 2, "OL104": 1, "OL201": 1, "OL202": 1, "OL203": 1, "OL205": 1,
                     "OL402": 2},
    "densenet121": {"OL401": 59},
    "inception_v1": {"OL102": 1, "OL104": 1, "OL201": 9, "OL402": 1},
    "inception_v2": {"OL401": 69},
    "resnet50": {"OL401": 53},
    "shufflenet": {"OL401": 49},
    "squeezenet": {"OL101": 1, "OL104": 1, "OL402": 1},
    "vgg19": {"OL202": 13, "OL203": 1, "OL205": 1, "OL301": 1, "OL402": 2},
    "zfnet512": {"OL101": 2, "OL104": 1, "OL202": 3, "OL203": 1, "OL205": 1},
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_findings_per_light_model(name):
    report = onnxlint.lint(light(name))
    found: dict[str, int] = {}
    for d in report.diagnostics:
        found[d.code] = found.get(d.code, 0) + 1
        assert d.message and d.location == "graph"
        assert d.node or d.code in ("OL001", "OL003", "OL104")  # model-level findings name an input
    assert found == EXPECTED[name]
