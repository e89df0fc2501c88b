"""Every string from a model is hostile in every output: a model whose node, tensor and module names and
stack-trace paths are built to forge CI workflow commands, terminal escapes, markdown rows, HTML, formulas and
locations outside the repository, run through every format. The rules of issue 21 hold in each."""
import csv
import io
import json
import re
import subprocess
from pathlib import Path

import jsonschema
import numpy as np
import onnx
import pytest
from conftest import CHROMIUM_FLAGS, chromium, run_cli
from markdown_it import MarkdownIt
from onnx import TensorProto, helper, numpy_helper

import onnxlint

pytestmark = pytest.mark.slow  # subprocesses, onnxruntime (fix), a browser

EVIL = ("\n::error file=x::forged\r\x1b]0;title\x07\x1b]8;;http://e\x07\x1b[31m\u202e\u2066\u200b\ufeff"
        "|`` <img src=x onerror=\"document.title='pwned'\"> [l](http://e) ![i](http://e) www.evil.com")
FORMULA = "=HYPERLINK(\"http://e\")"
TRACES = ['File "/etc/passwd", line 1', 'File "../../../../etc/passwd", line 2',
          'File "\\\\host\\share\\x.py", line 3', 'File "models/../../x.py", line 1000000000000',
          'File "file:///etc/passwd", line 4']
SCHEMA = json.loads((Path(__file__).parent / "sarif-schema-2.1.0.json").read_text())


def _tagged(node, module: str, trace: str):
    for key, value in (("pkg.torch.onnx.name_scopes", repr(["", module, "op"])),
                       ("pkg.torch.onnx.class_hierarchy", repr(["Net", f"Mod{EVIL}", "op"])),
                       ("pkg.torch.onnx.stack_trace", trace)):
        node.metadata_props.add(key=key, value=value)
    return node


def hostile_model(path: Path) -> Path:
    """Conv 5×5 (OL201) → Dropout (OL402) → Flatten → Gemm (OL203), every name hostile; it runs in onnxruntime."""
    rng = np.random.default_rng(0)
    x, c, d, f, y = (f"{FORMULA}{EVIL}{i}" for i in "xcdfy")
    inits = [numpy_helper.from_array(rng.standard_normal((32, 16, 5, 5), dtype=np.float32), f"w{EVIL}"),
             numpy_helper.from_array(rng.standard_normal((10, 32 * 12 * 12), dtype=np.float32), f"fc{EVIL}")]
    nodes = [_tagged(helper.make_node("Conv", [x, inits[0].name], [c], name=f"-conv{EVIL}", pads=[0, 0, 0, 0]),
                     f"@features{EVIL}", TRACES[0]),
             _tagged(helper.make_node("Dropout", [c], [d], name=f"+drop{EVIL}"), f"drop{EVIL}", TRACES[1]),
             _tagged(helper.make_node("Flatten", [d], [f], name=f"flat{EVIL}"), f"head{EVIL}", TRACES[2]),
             _tagged(helper.make_node("Gemm", [f, inits[1].name], [y], name=f"fc{EVIL}", transB=1),
                     f"head.fc{EVIL}", "\n".join(TRACES[3:]))]
    graph = helper.make_graph(nodes, f"g{EVIL}", [helper.make_tensor_value_info(x, TensorProto.FLOAT, [1, 16, 16, 16])],
                              [helper.make_tensor_value_info(y, TensorProto.FLOAT, [1, 10])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], doc_string=EVIL)
    onnx.save(model, path)
    return path


@pytest.fixture(scope="module")
def repo(tmp_path_factory) -> Path:
    """A repository (the working folder of every run) holding the hostile model."""
    root = tmp_path_factory.mktemp("repo")
    hostile_model(root / "evil.onnx")
    return root


def cli(repo: Path, *args) -> subprocess.CompletedProcess:
    result = run_cli(*args, cwd=repo)
    assert result.returncode in (0, 1), result.stderr
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr
    return result


def assert_terminal_safe(text: str) -> None:
    """No line of it starts with `::` (a workflow command), and no raw control, bidi or zero-width character."""
    assert not [line for line in text.splitlines() if line.lstrip().startswith("::")]
    assert all(c.isprintable() or c in "\n\t" for c in text), [c for c in text if not (c.isprintable() or c in "\n\t")]


TERMINAL = {"text": [], "summary": ["--summary"], "show-all": ["--show-all"], "statistics": ["--statistics"]}


@pytest.mark.parametrize("args", TERMINAL.values(), ids=TERMINAL)
def test_terminal_outputs(repo, args):
    result = cli(repo, "evil.onnx", *args)
    assert "OL201" in result.stdout or "OL2" in result.stdout or "--summary" in args
    assert_terminal_safe(result.stdout + result.stderr)


def test_fix_messages_and_the_model_it_writes(repo, tmp_path):
    out = tmp_path / "fixed.onnx"
    result = cli(repo, "fix", "evil.onnx", "-o", out, "--select", "OL203,OL401,OL402")
    assert result.returncode == 0 and "OL203" in result.stdout and "OL402" in result.stdout
    assert_terminal_safe(result.stdout + result.stderr)
    diff = cli(repo, "fix", "evil.onnx", "--diff", "--select", "OL203,OL401,OL402")
    assert_terminal_safe(diff.stdout + diff.stderr)
    written = onnx.load(out)  # the names are data: kept as they are, and the model still runs as it did
    assert any(EVIL in n.name for n in written.graph.node)


def test_github_annotations_are_onnxlints_own_lines_and_stay_in_the_repository(repo):
    lines = cli(repo, "evil.onnx", "--format", "github").stdout.splitlines()
    assert lines
    command = re.compile(r"::(error|warning|notice) (file=([^,:]+),(line=\d+,)?)?title=[^:]*::")
    for line in lines:
        match = command.match(line)
        assert match, line
        assert match.group(3) in (None, "evil.onnx")  # no stack-trace file is in the repository


def test_sarif_validates_with_format_checking_and_points_inside_the_repository(repo):
    sarif = json.loads(cli(repo, "evil.onnx", "--format", "sarif").stdout)
    jsonschema.validate(sarif, SCHEMA, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
    uris = [loc["physicalLocation"]["artifactLocation"]["uri"] for r in sarif["runs"][0]["results"]
            for loc in r["locations"] if "physicalLocation" in loc]
    assert uris and set(uris) == {"evil.onnx"}


def test_gitlab_and_json_parse_and_keep_paths_in_the_repository(repo):
    issues = json.loads(cli(repo, "evil.onnx", "--format", "gitlab").stdout)
    assert issues and {i["location"]["path"] for i in issues} == {"evil.onnx"}
    report = json.loads(cli(repo, "evil.onnx", "--format", "json").stdout)
    assert any(EVIL in d["node"] for d in report["models"][0]["diagnostics"] if d["node"])  # data, as it is


def _rendered_rows(markdown: str) -> tuple[list[int], str]:
    html = MarkdownIt("gfm-like").render(markdown)
    tables = re.findall(r"<tbody>(.*?)</tbody>", html, re.S)
    return [t.count("<tr>") for t in tables], html


def _assert_no_html(html: str) -> None:
    assert not re.search(r"<(img|a|script|iframe)\b", html), html
    assert "onerror=" not in html.replace("onerror=&quot;", "") or "&lt;img" in html


def test_markdown_table_renders_one_row_per_layer_and_no_html(repo):
    markdown = cli(repo, "evil.onnx", "--summary", "--format", "markdown").stdout
    report = onnxlint.lint(repo / "evil.onnx")
    rows, html = _rendered_rows(markdown)
    assert rows == [len(report.layers) + 1]  # every layer and the total, nothing forged
    _assert_no_html(html)


def test_diff_in_every_format(repo, tmp_path):
    other = tmp_path / "other.onnx"
    model = onnx.load(repo / "evil.onnx")
    model.graph.node[0].attribute.append(helper.make_attribute("strides", [2, 2]))
    onnx.save(model, other)
    text = cli(repo, "diff", "evil.onnx", other).stdout
    assert "MACs" in text
    assert_terminal_safe(text)
    rows, html = _rendered_rows(cli(repo, "diff", "evil.onnx", other, "--format", "markdown").stdout)
    assert rows[0] == 3 and rows[1] >= 1  # params, MACs, peak; then the changed layers
    _assert_no_html(html)
    json.loads(cli(repo, "diff", "evil.onnx", other, "--format", "json").stdout)


def test_csv_has_one_row_shape_and_no_formula(repo):
    rows = list(csv.reader(io.StringIO(cli(repo, "evil.onnx", "--summary", "--format", "csv").stdout)))
    assert len(rows) > 2 and len({len(r) for r in rows}) == 1
    assert not [cell for row in rows for cell in row if cell.startswith(("=", "+", "-", "@", "\t", "\r"))]
    assert all(c.isprintable() for row in rows for cell in row for c in cell)


def _title_after_scripts(page: Path, tmp_path: Path) -> str:
    dom = subprocess.run([chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom",
                          page.as_uri()], capture_output=True, text=True, timeout=120).stdout
    assert "<body" in dom
    return re.search(r"<title>(.*?)</title>", dom, re.S).group(1) if "<title>" in dom else ""


def test_no_script_runs_in_chromium(repo, tmp_path):
    page = tmp_path / "report.html"
    cli(repo, "evil.onnx", "--format", "html", "--output", page)
    assert _title_after_scripts(page, tmp_path) != "pwned"
    from onnxlint.api import lint_safely, make_settings

    error = lint_safely(str(tmp_path / "<img src=x onerror=\"document.title='pwned'\">.onnx"), make_settings())
    assert error.error is not None
    for label, html in (("notebook", onnxlint.lint(repo / "evil.onnx")._repr_html_()), ("error", error._repr_html_())):
        page = tmp_path / f"{label}.html"
        page.write_text(f"<!doctype html><html><head><title>safe</title></head><body>{html}</body></html>")
        assert _title_after_scripts(page, tmp_path) == "safe", label


def test_metadata_no_exporter_writes_is_ignored_with_a_note(tmp_path):
    model = onnx.load(hostile_model(tmp_path / "m.onnx"))
    model.graph.node[0].metadata_props[2].value = 'File "a.py", line ' + "9" * 5000
    model.graph.node[1].metadata_props[0].value = "[" + "'a'," * 75_000 + "]"
    onnx.save(model, tmp_path / "m.onnx")
    report = onnxlint.lint(tmp_path / "m.onnx")
    assert report.error is None and report.totals.macs
    assert any("exporter metadata of 1 node is malformed or oversized" in n for n in report.notes), report.notes
