"""`onnxlint check` (the default command): lint models, render the reports, exit 0/1/2."""
from __future__ import annotations

import shutil
import sys
from pathlib import Path

import click

from onnxlint.cli import common
from onnxlint.cli.common import EXIT_CLEAN, EXIT_FINDINGS, EXIT_USAGE, echo, fail, split
from onnxlint.escape import terminal as printable
from onnxlint.reporters import FORMATS


@click.command("check")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=str))
@click.option("--summary", is_flag=True, help="Print the per-layer table (shape, params, MACs, memory, RF).")
@click.option("--show-all", is_flag=True,
              help="List every node behind a grouped finding and the per-layer findings folded under a root cause.")
@click.option("-q", "--quiet", is_flag=True, help="Print the findings only (no totals, notes or count).")
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when findings reach --fail-on (2 still means unreadable).")
@click.option("--format", "--output-format", "fmt",
              type=click.Choice(FORMATS),
              default="text", show_default=True,
              help="Output format (gitlab: a GitLab Code Quality report; markdown, csv: the per-layer table, for "
                   "papers and reviews; html: a self-contained report page, use with -o report.html).")
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
@click.option("--statistics", is_flag=True, help="Print the number of findings per rule.")
@click.option("--show-settings", is_flag=True, help="Print the resolved settings and where each came from, then exit.")
@click.option("--color", type=click.Choice(["auto", "always", "never"]), default="auto", show_default=True,
              help="Colour the text output (NO_COLOR is respected).")
@click.option("-j", "--jobs", type=click.IntRange(min=1), default=1, show_default=True,
              help="Lint models in N parallel processes.")
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
def check(paths, summary, show_all, quiet, exit_zero, fmt, depth, output, select, extend_select, ignore, ignore_node,
          fail_on,
          input_shape, memory_budget, training, rule_options, config, max_size, statistics, show_settings, color, jobs,
          verify, profile, what_if, runs, timeout, memory_limit) -> None:
    """Lint ONNX models (files or directories, searched recursively for *.onnx; `-` reads one from stdin)."""
    import gc

    from onnxlint.config import ConfigError, parse_size
    from onnxlint.diagnostics import Severity
    from onnxlint.runner import expand_paths, iter_lint, resolve_settings

    # this process is the command's own and ends with it: the analysis allocates many small objects and
    # frees none, so the cyclic garbage collector only costs time (a library call pauses it for the call only)
    gc.disable()
    from onnxlint.verify import Limits

    if training and not memory_budget:
        fail("--training prices training memory against a budget: give --memory-budget SIZE too")
    cli = {"select": split(select), "extend-select": split(extend_select), "ignore": split(ignore),
           "fail-on": fail_on, "memory-budget": memory_budget, "training": training, "max-size": max_size}
    try:
        cli_table = {k: v for k, v in cli.items() if v not in (None, [])}
        if input_shape:
            cli_table["input-shapes"] = common.input_shapes(input_shape)
        if rule_options:
            cli_table["options"] = common.rule_options(rule_options)
        if ignore_node:
            cli_table["ignore-nodes"] = common.node_ignores(ignore_node)
        models = expand_paths(paths)
        settings_for = resolve_settings(models, config, cli_table)
        limits = Limits(timeout, parse_size(memory_limit))
    except (ConfigError, ValueError) as exc:
        fail(str(exc))
    if not models:
        fail(f"no .onnx files found in {', '.join(paths)}")
    if show_settings:
        for model in models:
            settings = settings_for[model]
            echo(f"# {model}\n{settings if isinstance(settings, str) else settings.show()}")
        sys.exit(EXIT_CLEAN)
    stdin = read_stdin(settings_for["-"]) if "-" in models and not isinstance(settings_for["-"], str) else None
    run = {"verify": verify or profile, "profile": runs if profile else 0, "what_if": runs if what_if else 0,
           "limits": limits}
    reports_iter = iter_lint(models, settings_for, jobs=jobs, stdin=stdin, **run)
    if sys.stderr.isatty() and (len(models) > 3 or run["verify"] or what_if):  # long work: show progress
        with click.progressbar(reports_iter, length=len(models), label="onnxlint", file=sys.stderr) as bar:
            reports = list(bar)
    else:
        reports = list(reports_iter)
    for report in reports:
        if report.error is not None:
            echo(f"onnxlint: {printable(report.path)}: {printable(report.error)}", err=True)
    from onnxlint.reporters import renderer
    from onnxlint.reporters.text import statistics_lines

    use_color = output is None and fmt == "text" and common.color_wanted(color)
    width = shutil.get_terminal_size().columns if output is None and fmt == "text" and sys.stdout.isatty() else None
    rendered = renderer(fmt)(reports, color=use_color, summary=summary, statistics=statistics, quiet=quiet,
                              show_all=show_all, width=width, depth=depth)
    common.emit(rendered, output, color=use_color)
    if statistics and fmt not in ("text", "json"):  # the machine format stays valid: the table goes to stderr
        echo("\n".join(statistics_lines(reports)), err=True)
    failing = not exit_zero and any(r.failing(settings_for[r.path].fail_on if r.path in settings_for
                                              and not isinstance(settings_for[r.path], str) else Severity.WARNING)
                                    for r in reports)
    # a Git LFS pointer is skipped, not a failure: a commit that only touches pointers passes
    unreadable = any(r.error and r.error_class != "LFSPointer" for r in reports)
    sys.exit(EXIT_FINDINGS if failing else EXIT_USAGE if unreadable else EXIT_CLEAN)


def read_stdin(settings) -> bytes:
    """The model on standard input, read in chunks up to the size cap (the loader then refuses a larger one)."""
    chunks, size = [], 0
    while size <= settings.max_size:
        chunk = sys.stdin.buffer.read(min(1 << 20, settings.max_size + 1 - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)
