"""The HTML report, opened in a real browser (headless Chromium, Debian's `chromium` package; .ci/run installs
it): it loads with no console message and no network request, shows the numbers of the JSON report, and reads
at a glance — measured in the browser itself: no two text labels overlap or leave their chart, both charts have
axes with ticks, the memory chart spans exactly the cost chart's x-range, and two reports in one page keep
their own ids and leave the host page's style alone. Locally: `apt-get install chromium`, then
`python -m pytest tests/test_html.py`."""
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

# Run in the page after it has laid out: the geometry the checks need, written into the DOM for --dump-dom.
LAYOUT_CHECK = """<script>
window.addEventListener('load', function(){
  function box(e){var b=e.getBoundingClientRect();return [b.left,b.top,b.right,b.bottom];}
  function centre(e){var b=e.getBoundingClientRect();return (b.left+b.right)/2;}
  var out={charts:[],ids:[],body:getComputedStyle(document.body).backgroundColor};
  document.querySelectorAll('svg').forEach(function(svg){
    var frame=box(svg),texts=[].slice.call(svg.querySelectorAll('text'));
    var boxes=texts.map(box),overlaps=[],outside=[];
    for(var i=0;i<boxes.length;i++){
      var a=boxes[i];
      if(a[0]<frame[0]-0.5||a[2]>frame[2]+0.5||a[1]<frame[1]-0.5||a[3]>frame[3]+0.5)outside.push(texts[i].textContent);
      for(var j=i+1;j<boxes.length;j++){var b=boxes[j];
        if(a[0]<b[2]-0.5&&b[0]<a[2]-0.5&&a[1]<b[3]-0.5&&b[1]<a[3]-0.5)
          overlaps.push([texts[i].textContent,texts[j].textContent]);}}
    // a label crossed by a bar, or by the memory curves (sampled along each segment, in the SVG's own units)
    var bars=[].slice.call(svg.querySelectorAll('.bar-macs, .bar-bound, .bar-params')).map(box),crossed=[];
    texts.forEach(function(t,i){var a=boxes[i];
      bars.forEach(function(b){if(b[2]-b[0]>0&&b[3]-b[1]>0&&a[0]<b[2]-0.5&&b[0]<a[2]-0.5&&a[1]<b[3]-0.5&&b[1]<a[3]-0.5)
        crossed.push(t.textContent);});
      var g=t.getBBox();
      svg.querySelectorAll('polyline').forEach(function(line){var p=line.points;
        for(var k=0;k+1<p.numberOfItems;k++){var u=p.getItem(k),v=p.getItem(k+1);
          for(var s=0;s<=20;s++){var x=u.x+(v.x-u.x)*s/20,y=u.y+(v.y-u.y)*s/20;
            if(x>g.x+0.5&&x<g.x+g.width-0.5&&y>g.y+0.5&&y<g.y+g.height-0.5){crossed.push(t.textContent);return;}}}});});
    var marks=[].slice.call(svg.querySelectorAll('.bar-macs, .hover'));
    out.charts.push({kind:svg.getAttribute('class'),texts:texts.length,overlaps:overlaps,outside:outside,crossed:crossed,
      ticks:svg.querySelectorAll('.tick').length,tickLabels:[].slice.call(svg.querySelectorAll('.tick-label'))
      .map(function(t){return t.textContent;}),x:marks.length?[centre(marks[0]),centre(marks[marks.length-1])]:null,
      x0:svg.getAttribute('data-x0'),x1:svg.getAttribute('data-x1')});});
  document.querySelectorAll('[id]').forEach(function(e){out.ids.push(e.id);});
  var pre=document.createElement('pre');pre.id='layout-check';pre.textContent=JSON.stringify(out);
  document.body.appendChild(pre);});
</script>"""


def open_in_browser(page, tmp_path):
    """(the DOM after the page's scripts ran, console lines, URLs the page requested, screenshot path)."""
    assert CHROMIUM, "CI must have Chromium: .ci/run installs it"
    flags = [CHROMIUM, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}", "--enable-logging=stderr", "--v=0",
             "--window-size=1280,1800"]
    net = tmp_path / "net.json"
    dom = subprocess.run([*flags, f"--log-net-log={net}", "--dump-dom", page.as_uri()], capture_output=True,
                         text=True, timeout=180)
    shot = tmp_path / "page.png"
    subprocess.run([*flags, f"--screenshot={shot}", page.as_uri()], capture_output=True, timeout=180)
    console = [line for line in dom.stderr.splitlines() if ":CONSOLE" in line]
    events = json.loads(net.read_text())["events"]
    requested = {e["params"]["url"] for e in events if "url" in e.get("params", {})
                 and "file://" in str(e["params"].get("network_isolation_key", "")) and
                 not e["params"]["url"].startswith("file:")}
    return dom.stdout, console, requested, shot


def layout(dom: str) -> dict:
    import html

    return json.loads(html.unescape(re.search(r'<pre id="layout-check">(.*?)</pre>', dom, re.S).group(1)))


def _page(tmp_path, content: str):
    page = tmp_path / "report.html"
    page.write_text(content.replace("</body>", LAYOUT_CHECK + "</body>"), encoding="utf-8")
    return page


MODELS = {"demo": lambda corpus: fixture("demo"), "vgg19": lambda corpus: light("vgg19"),
          "resnet18": lambda corpus: corpus / "tv_resnet18.onnx", "densenet121": lambda corpus: light("densenet121"),
          "resnet50": lambda corpus: light("resnet50"),
          "detection": lambda corpus: fixture("detection/fasterrcnn_mobilenet_v3_large_320_fpn"),
          "swin": lambda corpus: corpus / "tv_swin_t.onnx"}  # Swin-T: 6,285 nodes


@pytest.mark.parametrize("name", sorted(MODELS))
def test_report_page_in_a_real_browser(name, tmp_path, corpus_dir):
    report = onnxlint.lint(MODELS[name](corpus_dir), memory_budget="8MiB" if name == "demo" else None)
    html = report.to_html()
    assert "http://" not in html and "https://" not in html  # nothing to fetch: fonts, scripts, images inline
    assert f"<title>onnxlint: {os.path.basename(report.path)}</title>" in html
    dom, console, requested, shot = open_in_browser(_page(tmp_path, html), tmp_path)
    assert console == [], console  # no error, no warning, nothing logged
    assert requested == set()
    assert shot.is_file() and shot.stat().st_size > 10_000
    found = layout(dom)
    cost, memory = found["charts"]
    assert (cost["kind"], memory["kind"]) == ("cost-chart", "memory-chart")
    for chart in (cost, memory):
        assert chart["overlaps"] == [], (chart["kind"], chart["overlaps"])  # no label covers another
        assert chart["crossed"] == [], (chart["kind"], chart["crossed"])  # nor is crossed by a bar or the curve
        assert chart["outside"] == [], (chart["kind"], chart["outside"])  # nor leaves its chart
        assert chart["ticks"] >= 2 and chart["tickLabels"][0] == "0"  # axes with values...
    assert any("MACs" in t for t in cost["tickLabels"]) and any("params" in t for t in cost["tickLabels"])
    assert any(t.endswith(("B", "KiB", "MiB", "GiB")) for t in memory["tickLabels"])  # ...and units
    # the memory chart on the cost chart's x-axis: the same layers, the same first and last position on screen
    assert (memory["x0"], memory["x1"]) == (cost["x0"], cost["x1"])
    assert memory["x"] == pytest.approx(cost["x"], abs=1.0)
    main = [layer for layer in report.layers if layer.parent is None and not layer.constant]
    bars = int(re.search(r"class=\"cost-chart\" data-bars=\"(\d+)\"", dom).group(1))
    assert bars == min(len(main), 400) or (len(main) > 400 and bars == -(-len(main) // -(-len(main) // 400)))
    assert dom.count('class="bar-macs"') == bars == dom.count('class="bar-params"')
    if len(main) > 400:
        assert f"{len(main):,} layers in {bars:,} bins of" in dom  # says so when it aggregates
    assert dom.count('class="peak-mark"') == 1 and 'class="peak-label"' in dom
    assert dom.count("<title>") > bars  # every bar has its numbers on hover
    assert dom.count("<li data-code=") == len(report.findings())
    totals = report.to_dict()["models"][0]["totals"]  # the page's numbers are the JSON report's
    match = re.search(r'data-params="(\d+)" data-macs="(\d+)" data-peak="(\d+)" data-complete="(\w+)"', dom)
    assert (int(match.group(1)), int(match.group(2)), int(match.group(3))) == (
        totals["params"], totals["macs"], totals["peak_activation_bytes"])
    assert match.group(4) == str(totals["complete"]).lower()
    assert dom.count("<tr id=\"onnxlint-1-layer-") == len(report.layers)
    _chart_agrees_with_table_and_header(report, dom)
    if name == "demo":
        assert 'class="budget-line"' in dom and "budget 8.0 MiB" in dom
    if name == "vgg19":
        assert "n38 72% of params" in dom  # fc6, the largest params bar, is named


def _chart_agrees_with_table_and_header(report, dom: str) -> None:
    """One index for the chart's x-axis and the table's # column; the three largest costs labelled; bounded MACs
    drawn (hatched) and tabled (≤) so that the bars add up to the header's total."""
    from onnxlint import units
    from onnxlint.reporters.charts import Axis

    axis = Axis.of(report, {})
    table = dict(re.findall(r'<tr id="onnxlint-1-layer-(\d+)" class="layer"><td data-v="(-?\d+)">', dom))
    for i, layer in enumerate(report.layers):
        if str(i) in table and id(layer) in axis.index:
            assert int(table[str(i)]) == axis.index[id(layer)], layer.name  # the chart's x is the table's #
    first = next(i for i, layer in enumerate(report.layers) if not layer.constant and layer.parent is None)
    assert table[str(first)] == "0"  # the table's first data row is the chart's first position (was #239 on ResNet-50)
    labels = re.findall(r'class="top-label"[^>]*>([^<]*)<', dom)
    ranked = sorted(axis.bins, key=lambda b: -(b.macs + b.bound_macs))[:3]
    for b in ranked:
        if b.macs + b.bound_macs:
            assert any(label.startswith(f"{b.labels[0]} ") for label in labels), (b.labels[0], labels)
    t = report.totals
    bound = re.findall(r'class="bar-bound" data-macs="(\d+)"', dom)
    drawn = sum(b.macs for b in axis.bins) + sum(int(m) for m in bound)
    assert drawn == (t.macs if t.macs_complete else t.macs_upper)  # the bars add up to the header
    if not t.macs_complete:
        assert f"≤ {units.count(t.macs_upper)}" in dom and "hatched: MACs at most" in dom
        assert dom.count(">≤ ") >= len(t.bounds.layers)  # each bounded layer's row says ≤


def test_a_page_of_several_models_opens_with_an_overview(tmp_path):
    from conftest import run_cli

    out = tmp_path / "r.html"
    run_cli(fixture("demo"), fixture("clean"), "--format", "html", "-o", out)
    page = out.read_text()
    overview = page.split("<div class='onnxlint overview'>")[1].split("</table>")[0]
    assert "href='#onnxlint-1'>fixtures/demo.onnx" in overview.replace(str(fixture("demo")), "fixtures/demo.onnx")
    assert "1 warning, 3 suggestions (8 per node)" in overview and "href='#onnxlint-2'" in overview
    assert page.index("class='onnxlint overview'") < page.index("id='onnxlint-1'")


def test_two_reports_in_one_notebook_page_keep_their_ids_and_leave_its_style_alone(tmp_path):
    report = onnxlint.lint(fixture("demo"))
    cells = [report._repr_html_(), report._repr_html_()]  # the same model shown twice, as in a notebook
    host = ("<!DOCTYPE html><html><head><meta charset='utf-8'><style>body{background:rgb(1, 2, 3)}</style></head>"
            f"<body><div>{cells[0]}</div><div>{cells[1]}</div></body></html>")
    dom, console, _, _ = open_in_browser(_page(tmp_path, host), tmp_path)
    assert console == [], console
    found = layout(dom)
    assert found["body"] == "rgb(1, 2, 3)"  # the report's style is scoped: the notebook keeps its own
    ids = [i for i in found["ids"] if i != "layout-check"]
    assert len(ids) == len(set(ids)) and len(ids) > 2 * len(report.layers)
    first, second = (re.findall(r"id='(onnxlint-n\d+)'", cell)[0] for cell in cells)
    assert first != second  # and each report's links point into its own table
    assert all(href.startswith(f"#{second}-layer-") for href in re.findall(r"href='([^']+)'", cells[1]))


def test_cli_html_and_jupyter(tmp_path):
    from conftest import run_cli

    out = tmp_path / "r.html"
    assert run_cli(fixture("demo"), "--format", "html", "-o", out).returncode == 1  # it has a warning
    assert out.read_text().startswith("<!DOCTYPE html>")
    profiled = onnxlint.lint(fixture("demo"), profile=2).to_html()
    assert profiled.count("class='ms-mark'") >= 5 and "<th>ms</th>" in profiled  # measured beside the MACs
    snippet = onnxlint.lint(fixture("demo"))._repr_html_()
    assert snippet.startswith("<style>") and "<html" not in snippet and "class='cost-chart'" in snippet
    assert "body{" not in snippet  # nothing that styles the host page
