"""What each light model of the onnx package triggers, reviewed by hand: a rule change that adds or
removes findings shows up here as a diff. Two views: every per-node finding (JSON, SARIF, --show-all),
and what the default text output shows a person (one screen: at most 15 finding lines)."""
import pytest
from conftest import fixture, light, run_cli

import onnxlint

# the catalog these counts were reviewed against: a rule added later does not disturb them (it has its own table)
PINNED = ["OL001", "OL002", "OL003", "OL004", "OL101", "OL102", "OL103", "OL104", "OL201", "OL202", "OL203", "OL205",
          "OL301", "OL302", "OL401", "OL402"]
# every per-node finding
EXPECTED = {
    "bvlc_alexnet": {"OL101": 1, "OL102": 2, "OL104": 1, "OL201": 1, "OL202": 1, "OL203": 1, "OL402": 2},
    "densenet121": {"OL401": 59},
    "inception_v1": {"OL102": 1, "OL104": 1, "OL201": 1, "OL402": 1},
    "inception_v2": {"OL401": 69},
    "resnet50": {"OL401": 53},
    "shufflenet": {"OL401": 49},
    "squeezenet": {"OL101": 1, "OL104": 1, "OL402": 1},
    "vgg19": {"OL202": 13, "OL203": 1, "OL301": 1, "OL402": 2},
    "zfnet512": {"OL101": 2, "OL104": 1, "OL202": 3, "OL203": 1},
}
# the default text output, in order: (severity, code); the per-layer warnings an input size causes are folded
# under its OL104, repeats are one line
SHOWN = {
    "bvlc_alexnet": ["warning OL104", "suggestion OL201", "suggestion OL202", "suggestion OL203", "suggestion OL402"],
    "densenet121": ["suggestion OL401"],
    "inception_v1": ["warning OL104", "suggestion OL201", "suggestion OL402"],
    "inception_v2": ["suggestion OL401"],
    "resnet50": ["suggestion OL401"],
    "shufflenet": ["suggestion OL401"],
    "squeezenet": ["warning OL104", "suggestion OL402"],
    "vgg19": ["suggestion OL202", "suggestion OL301", "suggestion OL203", "suggestion OL402"],
    "zfnet512": ["warning OL104", "suggestion OL202", "suggestion OL203"],
    "demo": ["warning OL104", "suggestion OL201", "suggestion OL202", "suggestion OL203", "suggestion OL402"],
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_findings_per_light_model(name):
    report = onnxlint.lint(light(name), select=PINNED)
    found: dict[str, int] = {}
    for d in report.diagnostics:
        found[d.code] = found.get(d.code, 0) + 1
        assert d.message and d.location == "graph"
        assert d.node or d.code in ("OL001", "OL003", "OL104")  # model-level findings name an input
    assert found == EXPECTED[name]


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(SHOWN))
def test_default_output_fits_one_screen(name):
    path = fixture(name) if name == "demo" else light(name)
    lines = run_cli(path, "--select", ",".join(PINNED)).stdout.splitlines()
    shown = [" ".join(line.split(": ", 2)[1].split()[:2]) for line in lines if line.startswith(f"{path}:")
             and line.split(": ", 2)[1].split()[0] in ("error", "warning", "suggestion")]
    assert shown == SHOWN[name]
    assert len(shown) <= 15
    every = onnxlint.lint(path, select=PINNED)
    warnings = {d.code for d in every.diagnostics if d.severity >= onnxlint.Severity.WARNING}
    # every warning still fires: shown, or folded under the finding that states its root cause
    assert all(any(s.endswith(code) for s in shown) or all(d.folded_into for d in every.diagnostics if d.code == code)
               for code in warnings)
