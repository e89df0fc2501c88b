"""`onnxlint check` (the default command): lint models, render the reports, exit 0/1/2 as ruff does — 2 when a
model could not be read or the command line is wrong, else 1 when a finding reaches --fail-on, else 0."""
from __future__ import annotations

import shutil
import sys
from pathlib import Path

import click

from onnxlint.cli import common
from onnxlint.cli.common import EXIT_CLEAN, EXIT_FINDINGS, EXIT_USAGE, echo, fail, split
from onnxlint.deploy import TARGETS
from onnxlint.escape import terminal as printable
from onnxlint.reporters import FORMATS

# what each flag needs to mean something: a flag that would do nothing is refused, never ignored
_SUMMARY_FORMATS = ("text", "markdown", "csv")  # json, html: every layer is there already; sarif & co: findings
_FINDING_FORMATS = ("text", "json", "sarif", "github", "gitlab", "html", "jsonl")  # --what-if's results show


@click.command("check")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=str))
@click.option("--summary", is_flag=True, help="Print the per-layer table (shape, params, MACs, memory, RF).")
@click.option("--show-all", is_flag=True,
              help="List every node behind a grouped finding and the per-layer findings folded under a root cause.")
@click.option("-q", "--quiet", is_flag=True, help="Print the findings only (no totals, notes or count).")
@click.option("-v", "--verbose", is_flag=True,
              help="Also print the notes that need nothing from you (a symbolic batch dim taken as 1).")
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when findings reach --fail-on (2 still means unreadable).")
@click.option("--format", "--output-format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True,
              help="Output format (gitlab: a GitLab Code Quality report; markdown, csv: the per-layer table, for "
                   "papers and reviews; html: a self-contained report page, use with -o report.html; jsonl: one "
                   "JSON report per line, each written as its model is done).")
@click.option("--depth", type=click.IntRange(min=1), metavar="N",
              help="With --format markdown|csv: one row per module path cut to N parts (layer1.0.* → layer1.0).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the report to FILE instead of stdout.")
@click.option("--select", multiple=True, metavar="CODES", help="Rules to run (codes, names or prefixes like OL2).")
@click.option("--extend-select", multiple=True, metavar="CODES", help="Rules to add to the selection (opt-in rules).")
@click.option("--ignore", multiple=True, metavar="CODES", help="Rules to skip.")
@click.option("--ignore-node", multiple=True, metavar="CODE:GLOB",
              help="Skip a rule on the nodes whose name or PyTorch module path matches GLOB (repeatable), "
                   "e.g. OL201:stem.* or OL401:/encoder/*.")
@click.option("--fail-on", type=click.Choice(["error", "warning", "suggestion"]),
              help="Lowest severity that makes the exit code 1.  [default: warning]")
@click.option("--input-shape", multiple=True, metavar="[NAME=]DIMS",
              help="Fix an input's shape, e.g. input=1,3,224,224 (repeatable).")
@click.option("--memory-budget", metavar="SIZE", help="Warn when peak activation memory exceeds SIZE (e.g. 512MB).")
@click.option("--training", is_flag=True, default=None,
              help="Budget training memory: all activations kept, params ×4 for gradients and Adam state.")
@click.option("--option", "rule_options", multiple=True, metavar="CODE.KEY=VALUE",
              help="Set a rule option, e.g. OL201.min-saving=0.2.")
@click.option("--config", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Read settings from FILE instead of the nearest pyproject.toml.")
@click.option("--max-size", metavar="SIZE", help="Refuse model files larger than SIZE.  [default: 2GiB]")
@click.option("--exclude", multiple=True, metavar="GLOBS",
              help="Folders and files a folder search skips, replacing the defaults (.git, .venv, dist, …).")
@click.option("--extend-exclude", multiple=True, metavar="GLOBS", help="More folders and files to skip.")
@click.option("--respect-gitignore/--no-respect-gitignore", default=None,
              help="Skip what .gitignore files ignore.  [default: respect]")
@click.option("--force-exclude", is_flag=True, default=None,
              help="Apply the exclusions to the files named on the command line too (pre-commit).")
@click.option("--baseline", "baseline", type=click.Path(dir_okay=False, path_type=Path),
              help="Report only the findings not in FILE (written by --write-baseline).")
@click.option("--write-baseline", type=click.Path(dir_okay=False, path_type=Path),
              help="Write every current finding to FILE as the accepted baseline, then exit 0.")
@click.option("--statistics", is_flag=True,
              help="Print the number of findings per rule (shown and per node) instead of the findings.")
@click.option("--show-settings", is_flag=True, help="Print the resolved settings and where each came from, then exit.")
@click.option("--color", type=click.Choice(["auto", "always", "never"]), default="auto", show_default=True,
              help="Colour the text output (NO_COLOR is respected).")
@click.option("-j", "--jobs", type=click.IntRange(min=1), default=1, show_default=True,
              help="Lint models in N parallel processes.")
@click.option("--target", type=click.Choice(list(TARGETS)),
              help="Say how this target will run the model: ort-cpu (which layers run in int8/fp16 on onnxruntime's "
                   "CPU provider, which fall back to float), nnapi or coreml (partitions), qnn-htp (which nodes "
                   "Qualcomm's QNN provider runs on the HTP, and why the others fall back), openvino (the same for "
                   "Intel's OpenVINO provider, device CPU), cuda (the same for onnxruntime-gpu's CUDA provider, not "
                   "proven on a device); with --verify, proved against onnxruntime's optimized graph, or by the "
                   "provider itself (onnxlint[qnn]; onnxruntime-openvino, onnxruntime-gpu in the environment "
                   "ONNXLINT_OPENVINO_PYTHON, ONNXLINT_CUDA_PYTHON names).")
@click.option("--verify", is_flag=True,
              help="Run the model once with onnxruntime (sandboxed) and check every inferred shape.")
@click.option("--profile", is_flag=True, help="Time every node with onnxruntime's profiler (implies --verify).")
@click.option("--what-if", "what_if", is_flag=True,
              help="Build and time the replacement each OL201/OL202/OL204 suggestion describes.")
@click.option("--runs", type=click.IntRange(min=1), default=10, show_default=True,
              help="Timed runs per model (--profile) or per replacement (--what-if).")
@click.option("--timeout", type=click.FloatRange(min=0.1), default=60.0, show_default=True,
              help="Wall-clock and CPU limit in seconds for --verify/--profile, per model.")
@click.option("--memory-limit", default="4GiB", show_default=True, metavar="SIZE",
              help="Address-space limit of the onnxruntime child process.")
def check(paths, **flags) -> None:
    """Lint ONNX models (files or folders, searched for *.onnx as ruff searches for Python files: hidden,
    virtual-env, excluded and gitignored folders skipped; `-` reads one model from stdin)."""
    import gc

    # this process is the command's own and ends with it: the analysis allocates many small objects and
    # frees none, so the cyclic garbage collector only costs time (a library call pauses it for the call only)
    gc.disable()
    from onnxlint.config import ConfigError, parse_size
    from onnxlint.runner import EMPTY_FOLDER, find, settings_resolver
    from onnxlint.verify import Limits

    _refuse_what_does_nothing(flags)
    try:
        settings_of = settings_resolver(flags["config"], _settings_table(flags))
        found = find(paths, settings_of)
        settings_for = {model: settings_of(model) for model in found.models}
        limits = Limits(flags["timeout"], parse_size(flags["memory_limit"]))
    except (ConfigError, ValueError) as exc:
        fail(str(exc))
    for folder in found.empty:
        echo(f"onnxlint: {printable(folder)}: {EMPTY_FOLDER}", err=True)
    if not found.models:
        sys.exit(EXIT_USAGE if found.empty else EXIT_CLEAN)  # every named file force-excluded: nothing to do
    if flags["show_settings"]:
        _show_settings(found.models, settings_for, flags["fmt"])
        sys.exit(EXIT_CLEAN)
    stdin = common.read_stdin(settings_for["-"]) if "-" in found.models and not isinstance(
        settings_for["-"], str) else None
    run = {"verify": flags["verify"] or flags["profile"], "profile": flags["runs"] if flags["profile"] else 0,
           "what_if": flags["runs"] if flags["what_if"] else 0, "limits": limits}
    reports = _lint(found.models, settings_for, flags, stdin, run)
    if flags["fmt"] != "jsonl":
        _say_errors(reports)
    unreadable = bool(found.empty) or any(r.error and r.error_class != "LFSPointer" for r in reports)
    if flags["write_baseline"]:
        from onnxlint.baseline import write

        count, path = write(flags["write_baseline"], reports), printable(str(flags["write_baseline"]))
        echo(f"onnxlint: wrote {count:,} finding{'s' if count != 1 else ''} to {path} (the baseline: later runs "
             "with --baseline report only new ones)", err=True)
        sys.exit(EXIT_USAGE if unreadable else EXIT_CLEAN)
    if flags["fmt"] != "jsonl":
        _render(reports, flags)
    _warn_unused_suppressions(reports, settings_for)
    failing = [r for r in reports if r.failing(_fail_on(settings_for.get(r.path)))]
    if failing and flags["fmt"] == "csv":  # the per-layer table shows no finding: say why the run fails
        shown = sum(item.severity >= _fail_on(settings_for.get(r.path)) for r in failing for item in r.findings())
        echo(f"onnxlint: {shown:,} finding{'s' if shown != 1 else ''} at or above --fail-on in "
             f"{len(failing):,} model{'s' if len(failing) != 1 else ''}, not in --format csv (the per-layer table): "
             f"{'exit 0 (--exit-zero)' if flags['exit_zero'] else 'exit 1'}; --format text lists them", err=True)
    # ruff's order: an error (unreadable model, bad usage) is exit 2 whatever was found elsewhere; a Git LFS
    # pointer is skipped, not an error, so a commit that only touches pointers passes
    sys.exit(EXIT_USAGE if unreadable else EXIT_FINDINGS if failing and not flags["exit_zero"] else EXIT_CLEAN)


def _say_errors(reports: list) -> None:
    """One line per model that could not be linted; a broken configuration once, however many models it holds."""
    config_errors: dict[str, int] = {}
    for report in reports:
        if report.error_class == "ConfigError":
            config_errors[report.error] = config_errors.get(report.error, 0) + 1
        elif report.error is not None:
            echo(f"onnxlint: {printable(report.path)}: {printable(report.error)}", err=True)
    for error, n in config_errors.items():
        echo(f"onnxlint: {printable(error)} ({n:,} model{'s' if n != 1 else ''} not linted)", err=True)


def _refuse_what_does_nothing(flags: dict) -> None:
    """Flags that would change nothing in this combination: one line and exit 2, never silently ignored."""
    fmt, source = flags["fmt"], click.get_current_context().get_parameter_source
    if flags["quiet"] and flags["verbose"]:
        fail("-q prints the findings only and -v adds notes: give one of them")
    if flags["verbose"] and fmt != "text":
        fail(f"-v adds notes to the text output; --format {fmt} holds every note already"
             if fmt in ("json", "jsonl", "html") else f"-v adds notes to the text output, which --format {fmt} is not")
    if flags["quiet"] and flags["summary"]:
        fail("-q prints the findings only: it cannot show --summary's per-layer table (drop one)")
    if flags["summary"] and fmt not in _SUMMARY_FORMATS:
        fail(f"--summary prints the per-layer table of --format text, markdown or csv; --format {fmt} "
             f"{'already holds every layer' if fmt in ('json', 'jsonl', 'html') else 'reports findings only'}")
    if flags["depth"] is not None and fmt not in ("markdown", "csv"):
        fail("--depth groups the rows of --format markdown or csv by module path")
    if source("runs").name != "DEFAULT" and not (flags["profile"] or flags["what_if"]):
        fail("--runs sets how many runs --profile or --what-if time: give one of them")
    if flags["what_if"] and fmt not in _FINDING_FORMATS:
        fail(f"--what-if's measurements are part of the findings, which --format {fmt} does not show "
             "(use text, json, sarif, github, gitlab, html or jsonl)")
    if flags["statistics"] and fmt in ("jsonl", "html"):
        fail(f"--statistics prints a table (text) or a `statistics` object (json); --format {fmt} has no place for it")
    if flags["show_settings"] and fmt not in ("text", "json"):
        fail("--show-settings prints text or, with --format json, JSON")
    if flags["training"] and not flags["memory_budget"]:
        fail("--training prices training memory against a budget: give --memory-budget SIZE too")
    if flags["baseline"] and flags["write_baseline"]:
        fail("--write-baseline records every finding, ignoring any baseline: drop --baseline")


def _settings_table(flags: dict) -> dict:
    """The command line's settings, as a [tool.onnxlint] table (validated by the same SETTINGS table)."""
    table = {"select": split(flags["select"]), "extend-select": split(flags["extend_select"]),
             "ignore": split(flags["ignore"]), "fail-on": flags["fail_on"], "memory-budget": flags["memory_budget"],
             "training": flags["training"], "max-size": flags["max_size"], "exclude": split(flags["exclude"]),
             "extend-exclude": split(flags["extend_exclude"]), "respect-gitignore": flags["respect_gitignore"],
             "force-exclude": flags["force_exclude"],
             "baseline": str(flags["baseline"]) if flags["baseline"] else None, "target": flags["target"]}
    table = {k: v for k, v in table.items() if v not in (None, [])}
    if flags["input_shape"]:
        table["input-shapes"] = common.input_shapes(flags["input_shape"])
    if flags["rule_options"]:
        table["options"] = common.rule_options(flags["rule_options"])
    if flags["ignore_node"]:
        table["ignore-nodes"] = common.node_ignores(flags["ignore_node"])
    return table


def _show_settings(models: list[str], settings_for: dict, fmt: str) -> None:
    if fmt == "json":
        import json

        echo(json.dumps({"models": [{"path": m, "error": s} if isinstance(s, str) else
                                    {"path": m, "settings": s.to_dict(), "origin": s.origins()}
                                    for m, s in ((m, settings_for[m]) for m in models)]},
                        indent=2, ensure_ascii=False))
        return
    for model in models:
        settings = settings_for[model]
        echo(f"# {printable(model)}\n{settings if isinstance(settings, str) else settings.show()}")


def _lint(models: list[str], settings_for: dict, flags: dict, stdin: bytes | None, run: dict) -> list:
    """Every model's report; with --format jsonl each is written as a line the moment its model is done."""
    from onnxlint.runner import iter_lint

    settings_for = {**settings_for, **({} if not flags["write_baseline"] else {
        m: s if isinstance(s, str) else s.without_baseline() for m, s in settings_for.items()})}
    reports_iter = iter_lint(models, settings_for, jobs=flags["jobs"], stdin=stdin, ordered=flags["fmt"] != "jsonl",
                             **run)
    if flags["fmt"] == "jsonl":
        from onnxlint.reporters.json import line

        reports = []
        with common.opened(flags["output"]) as out:
            for report in reports_iter:
                out.write(line(report))
                out.flush()
                reports.append(report)
        return reports
    if sys.stderr.isatty() and (len(models) > 3 or run["verify"] or run["what_if"]):  # long work: show progress
        with click.progressbar(reports_iter, length=len(models), label="onnxlint", file=sys.stderr) as bar:
            return list(bar)
    return list(reports_iter)


def _render(reports: list, flags: dict) -> None:
    from onnxlint.reporters import renderer
    from onnxlint.reporters.text import statistics_lines

    fmt, output = flags["fmt"], flags["output"]
    if fmt == "json":  # streamed: each layer's record written and dropped in turn (a 200k-node model's report)
        from onnxlint.reporters.json import chunks

        with common.opened(output) as out:
            for piece in chunks(reports, statistics=flags["statistics"]):
                if output is not None:
                    out.write(piece)
                else:
                    echo(piece, nl=False)
        return
    color = output is None and fmt == "text" and common.color_wanted(flags["color"])
    width = shutil.get_terminal_size().columns if output is None and fmt == "text" and sys.stdout.isatty() else None
    rendered = renderer(fmt)(reports, color=color, summary=flags["summary"], statistics=flags["statistics"],
                             quiet=flags["quiet"], show_all=flags["show_all"], width=width, depth=flags["depth"],
                             verbose=flags["verbose"])
    common.emit(rendered, output, color=color)
    if flags["statistics"] and fmt not in ("text", "json"):  # the machine format stays valid: the table to stderr
        echo("\n".join(statistics_lines(reports)), err=True)


def _fail_on(settings):
    from onnxlint.diagnostics import Severity

    return settings.fail_on if settings is not None and not isinstance(settings, str) else Severity.WARNING


def _warn_unused_suppressions(reports: list, settings_for: dict) -> None:
    """As ruff's RUF100: an --ignore-node glob, or a baseline entry, that matched no finding in this run is said
    (a warning on stderr; the exit code is the findings'): it is stale, or it never matched what was meant."""
    linted = [r for r in reports if r.error is None]
    used_globs = set().union(*(r.suppressed.globs for r in linted if r.suppressed)) if linted else set()
    globs, baselines = {}, {}
    for report in linted:
        settings = settings_for.get(report.path)
        if settings is None or isinstance(settings, str):
            continue
        for key, patterns in settings.ignore_nodes.items():
            for pattern in patterns:
                globs.setdefault(f"{key}:{pattern}", 0)
        if settings.baseline is not None:
            baselines[settings.baseline.path] = baselines.get(settings.baseline.path, 0) + (
                report.suppressed.stale if report.suppressed else 0)
    for key in sorted(set(globs) - used_globs):
        echo(f"onnxlint: warning: --ignore-node / ignore {printable(key)} matched no finding in the "
             f"{len(linted):,} model{'s' if len(linted) != 1 else ''} linted", err=True)
    for path, stale in baselines.items():
        shown = printable(_relative(path))
        if stale > 0:
            echo(f"onnxlint: warning: {stale:,} finding{'s' if stale != 1 else ''} of the baseline {shown} no longer "
                 f"occur{'s' if stale == 1 else ''} (fixed?): --write-baseline {shown} drops "
                 f"{'it' if stale == 1 else 'them'}", err=True)


def _relative(path: Path) -> str:
    """A path as the user would type it here: relative to the working folder when it lies below it."""
    try:
        return str(Path(path).resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)
