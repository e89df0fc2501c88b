"""The HTML report, opened in a real browser (headless Chromium, Debian's `chromium` package; .ci/run installs
it): it loads with no console message, draws its marks, makes no network request, and shows the numbers of
the JSON report. Locally: `apt-get install chromium`, then `python -m pytest tests/test_html.py`."""
import json
import os
import re
import shutil
import subprocess

import pytest
from conftest import CHROMIUM_FLAGS, fixture, light

import onnxlint

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = [pytest.mark.slow, pytest.mark.skipif(CHROMIUM is None and not os.environ.get("CI"),
                                reason="needs Chromium (apt-get install chromium); CI installs it")]


def open_in_browser(page, tmp_path):
    """(the DOM after the page's scripts ran, console lines, URLs the page requested, screenshot path)."""
    assert CHROMIUM, "CI must have Chromium: .ci/run installs it"
    flags = [CHROMIUM, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}", "--enable-logging=stderr", "--v=0",
             "--window-size=1280,1800"]
    net = tmp_path / "net.json"
    dom = subprocess.run([*flags, f"--log-net-log={net}", "--dump-dom", page.as_uri()], capture_output=True,
                         text=True, timeout=120)
    shot = tmp_path / "page.png"
    subprocess.run([*flags, f"--screenshot={shot}", page.as_uri()], capture_output=True, timeout=120)
    console = [line for line in dom.stderr.splitlines() if ":CONSOLE" in line]
    events = json.loads(net.read_text())["events"]
    requested = {e["params"]["url"] for e in events if "url" in e.get("params", {})
                 and "file://" in str(e["params"].get("network_isolation_key", "")) and
                 not e["params"]["url"].startswith("file:")}
    return dom.stdout, console, requested, shot


@pytest.mark.parametrize("name", ["demo", "vgg19", "densenet121", "swin"])
def test_report_page_in_a_real_browser(name, tmp_path, corpus_dir):
    path = {"demo": fixture("demo"), "vgg19": light("vgg19"), "densenet121": light("densenet121"),
            "swin": corpus_dir / "tv_swin_t.onnx"}[name]
    report = onnxlint.lint(path, memory_budget="8MiB" if name == "demo" else None)
    page = tmp_path / "report.html"
    page.write_text(report.to_html(), encoding="utf-8")
    html = page.read_text()
    assert "http://" not in html and "https://" not in html  # nothing to fetch: fonts, scripts, images inline
    dom, console, requested, shot = open_in_browser(page, tmp_path)
    assert console == [], console  # no error, no warning, nothing logged
    assert requested == set()
    assert shot.is_file() and shot.stat().st_size > 10_000
    counted = [layer for layer in report.layers if layer.params or layer.macs]
    bars = int(re.search(r"class=\"cost-chart\" data-bars=\"(\d+)\"", dom).group(1))
    assert bars == min(len(counted), 400) or (len(counted) > 400 and bars <= 400)
    assert dom.count('class="bar-macs"') == bars == dom.count('class="bar-params"')
    points = int(re.search(r"class=\"memory-chart\" data-points=\"(\d+)\"", dom).group(1))
    assert dom.count('class="peak-mark"') == 1 and 'class="peak-label"' in dom and points > 1
    if len(counted) > 400:
        assert "consecutive layers each (sums)" in dom  # says so when it aggregates
    marked = {layer.path for layer in counted} & {f"{d.location}/{d.node}" for d in report.diagnostics if d.node}
    assert (dom.count('class="finding-mark"') >= 1) == bool(marked)
    assert dom.count("<li data-code=") == len(report.findings())
    totals = report.to_dict()["models"][0]["totals"]  # the page's numbers are the JSON report's
    match = re.search(r'data-params="(\d+)" data-macs="(\d+)" data-peak="(\d+)" data-complete="(\w+)"', dom)
    assert (int(match.group(1)), int(match.group(2)), int(match.group(3))) == (
        totals["params"], totals["macs"], totals["peak_activation_bytes"])
    assert match.group(4) == str(totals["complete"]).lower()
    assert dom.count("<tr id=\"layer-") == len(report.layers)
    if name == "demo":
        assert 'class="budget-line"' in dom


def test_cli_html_and_jupyter(tmp_path):
    from conftest import run_cli

    out = tmp_path / "r.html"
    assert run_cli(fixture("demo"), "--format", "html", "-o", out).returncode == 1  # it has a warning
    assert out.read_text().startswith("<!DOCTYPE html>")
    profiled = onnxlint.lint(fixture("demo"), profile=2).to_html()
    assert profiled.count("class='ms-mark'") >= 5 and "<th>ms</th>" in profiled  # measured beside the MACs
    snippet = onnxlint.lint(fixture("demo"))._repr_html_()
    assert snippet.startswith("<style>") and "<html" not in snippet and "class='cost-chart'" in snippet
