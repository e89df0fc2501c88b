"""The command line. The only module that imports click."""
from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import click

from onnxlint.escape import terminal as printable
from onnxlint.reporters import FORMATS
from onnxlint.version import __version__

EXIT_CLEAN, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2


class _DefaultGroup(click.Group):
    """`onnxlint MODEL...` runs `check`; `onnxlint rules|explain|fix` are subcommands."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if not args:  # a bare `onnxlint`: the help, as any command-line tool
            click.echo(ctx.get_help())
            ctx.exit(EXIT_CLEAN)
        if args[0] not in self.commands and args[0] not in ("--help", "-h", "--version"):
            args = ["check", *args]
        return super().parse_args(ctx, args)


def _split(values: tuple[str, ...]) -> list[str]:
    return [v.strip() for value in values for v in value.split(",") if v.strip()]


def _fail(message: str) -> None:
    _echo(f"onnxlint: {printable(message)}", err=True)
    sys.exit(EXIT_USAGE)


_ASCII = str.maketrans({"→": "->", "×": "x", "≥": ">=", "≤": "<=", "·": "*", "−": "-", "…": "...", "²": "^2",
                        "√": "sqrt", "γ": "gamma", "σ": "sigma", "μ": "mu", "ε": "eps", "β": "beta", "›": ">"})


def _echo(text: str, *, err: bool = False, nl: bool = True, color: bool | None = None) -> None:
    """click.echo, with an ASCII rendering when the stream cannot encode the output (a cp1252 console)."""
    stream = sys.stderr if err else sys.stdout
    encoding = getattr(stream, "encoding", None) or "utf-8"
    try:
        text.encode(encoding)
    except (UnicodeEncodeError, LookupError):
        text = text.translate(_ASCII).encode(encoding, "replace").decode(encoding)
    click.echo(text, err=err, nl=nl, color=color)


def run() -> None:
    """The `onnxlint` command: main(), then leave at once. The analysis of a large model is hundreds of
    thousands of objects that the interpreter would otherwise free one by one on the way out."""
    try:
        main.main(prog_name="onnxlint")
        code = 0
    except SystemExit as exc:
        code = exc.code
    if isinstance(code, str):  # sys.exit("message")
        print(code, file=sys.stderr)
        code = 1
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code or 0)


@click.group(cls=_DefaultGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="onnxlint")
def main() -> None:
    """A static linter for ONNX convolutional networks.

    \b
      onnxlint MODEL.onnx [DIR ...]   lint models (the default command)
      onnxlint rules                  list every rule
      onnxlint explain CODE           print a rule's documentation
      onnxlint fix MODEL -o OUT.onnx  apply the exact fixes, verified by onnxruntime
      onnxlint diff OLD.onnx NEW.onnx what a change cost, fixed or broke

    Lint options: `onnxlint check --help`. Exit codes: 0 no finding at or above --fail-on,
    1 some, 2 usage error or unreadable model.
    """


@main.command("check")
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
        _fail("--training prices training memory against a budget: give --memory-budget SIZE too")
    cli = {"select": _split(select), "extend-select": _split(extend_select), "ignore": _split(ignore),
           "fail-on": fail_on, "memory-budget": memory_budget, "training": training, "max-size": max_size}
    try:
        cli_table = {k: v for k, v in cli.items() if v not in (None, [])}
        if input_shape:
            cli_table["input-shapes"] = _input_shapes(input_shape)
        if rule_options:
            cli_table["options"] = _rule_options(rule_options)
        if ignore_node:
            cli_table["ignore-nodes"] = _node_ignores(ignore_node)
        models = expand_paths(paths)
        settings_for = resolve_settings(models, config, cli_table)
        limits = Limits(timeout, parse_size(memory_limit))
    except (ConfigError, ValueError) as exc:
        _fail(str(exc))
    if not models:
        _fail(f"no .onnx files found in {', '.join(paths)}")
    if show_settings:
        for model in models:
            settings = settings_for[model]
            _echo(f"# {model}\n{settings if isinstance(settings, str) else settings.show()}")
        sys.exit(EXIT_CLEAN)
    stdin = _read_stdin(settings_for["-"]) if "-" in models and not isinstance(settings_for["-"], str) else None
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
            _echo(f"onnxlint: {printable(report.path)}: {printable(report.error)}", err=True)
    from onnxlint.reporters import renderer
    from onnxlint.reporters.text import statistics_lines

    use_color = output is None and fmt == "text" and _color_wanted(color)
    width = shutil.get_terminal_size().columns if output is None and fmt == "text" and sys.stdout.isatty() else None
    rendered = renderer(fmt)(reports, color=use_color, summary=summary, statistics=statistics, quiet=quiet,
                              show_all=show_all, width=width, depth=depth)
    _emit(rendered, output, color=use_color)
    if statistics and fmt not in ("text", "json"):  # the machine format stays valid: the table goes to stderr
        _echo("\n".join(statistics_lines(reports)), err=True)
    failing = not exit_zero and any(r.failing(settings_for[r.path].fail_on if r.path in settings_for
                                              and not isinstance(settings_for[r.path], str) else Severity.WARNING)
                                    for r in reports)
    # a Git LFS pointer is skipped, not a failure: a commit that only touches pointers passes
    unreadable = any(r.error and r.error_class != "LFSPointer" for r in reports)
    sys.exit(EXIT_FINDINGS if failing else EXIT_USAGE if unreadable else EXIT_CLEAN)


def _say(text: str) -> None:
    """A line of `onnxlint fix`'s report: node names inside it are the model's, so made printable."""
    _echo(printable(text))


def _emit(rendered: str, output: Path | None, *, color: bool = False) -> None:
    """The output to FILE (one line and exit 2 when it cannot be written) or to stdout."""
    if output is None:
        _echo(rendered, nl=False, color=color)
        return
    try:
        output.write_text(rendered, encoding="utf-8")
    except OSError as exc:
        _fail(f"{output}: cannot write the report: {exc.strerror or exc}")


def _read_stdin(settings) -> bytes:
    """The model on standard input, read in chunks up to the size cap (the loader then refuses a larger one)."""
    chunks, size = [], 0
    while size <= settings.max_size:
        chunk = sys.stdin.buffer.read(min(1 << 20, settings.max_size + 1 - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def _color_wanted(mode: str) -> bool:
    if mode != "auto":
        return mode == "always"
    return "NO_COLOR" not in os.environ and sys.stdout.isatty()


def _input_shapes(values: tuple[str, ...]) -> dict:
    from onnxlint.config import parse_shape

    shapes = {}
    for value in values:
        name, dims = parse_shape(value)
        shapes[name or ""] = list(dims)
    return shapes


def _node_ignores(values: tuple[str, ...]) -> dict:
    table: dict[str, list] = {}
    for value in values:
        code, sep, glob = value.partition(":")
        if not sep or not glob:
            raise ValueError(f"--ignore-node '{value}': expected CODE:GLOB, e.g. OL201:stem.*")
        table.setdefault(code, []).append(glob)
    return table


def _rule_options(values: tuple[str, ...]) -> dict:
    options: dict[str, dict] = {}
    for value in values:
        key, sep, raw = value.partition("=")
        code, dot, name = key.partition(".")
        if not sep or not dot:
            raise ValueError(f"--option '{value}': expected CODE.KEY=VALUE, e.g. OL201.min-saving=0.2")
        options.setdefault(code, {})[name] = raw
    return options


@main.command("rules")
def rules_command() -> None:
    """List every rule: code, name, severity, on by default, whether `onnxlint fix` can fix it, summary."""
    from onnxlint.catalog import all_rules

    for rule in all_rules():
        default = "on" if rule.default_enabled else "opt-in"
        fixable = "fix" if rule.applicability else ""
        click.echo(f"{rule.code}  {rule.name:<28} {str(rule.severity):<10} {default:<6} {fixable:<3}  "
                   f"{rule.summary_text()}")


@main.command("explain")
@click.argument("code")
def explain(code: str) -> None:
    """Print a rule's documentation and its options."""
    from onnxlint.catalog import find_rule
    from onnxlint.docs import rule_doc

    rule = find_rule(code)
    if rule is None:
        _fail(f"no rule '{code}' (see `onnxlint rules`)")
    click.echo(rule_doc(rule, heading="#"))


@main.command("fix")
@click.argument("model", type=click.Path(path_type=Path))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Where to write the fixed model.")
@click.option("--in-place", is_flag=True, help="Overwrite MODEL (only after the fix is verified).")
@click.option("--select", multiple=True, metavar="CODES",
              help="Fixes to apply: codes, names or prefixes of fixable rules (`onnxlint rules` marks them; "
                   "default: all).")
@click.option("--diff", is_flag=True, help="Print what would change, verified, without writing anything.")
@click.option("--input-shape", multiple=True, metavar="[NAME=]DIMS", help="Fix an input's shape (repeatable).")
@click.option("--timeout", type=click.FloatRange(min=0.1), default=60.0, show_default=True,
              help="Limit in seconds for each onnxruntime run.")
@click.option("--memory-limit", default=None, metavar="SIZE",
              help="Address-space limit of each onnxruntime run  [default: 4GiB plus twice the model's weights]")
def fix_command(model, output, in_place, select, diff, input_shape, timeout, memory_limit) -> None:
    """Apply exact rewrites (fc-as-conv, BatchNorm folding, no-op removal), verified by onnxruntime.

    The rewritten model is written beside its target first; those very files are checked (onnx.checker)
    and run beside the original on the same random inputs, and only when their outputs agree are they moved
    into place (os.replace). The input is never overwritten without --in-place, and an interrupted
    --in-place leaves it whole.
    """
    from onnxlint.api import LoadError
    from onnxlint.catalog import check_selector
    from onnxlint.config import parse_size
    from onnxlint.engine import selected_rules
    from onnxlint.fix import FixError, fix, fixable_rules
    from onnxlint.loader import load
    from onnxlint.verify import Limits

    try:  # the same selectors as `check --select`: codes, names or prefixes
        wanted = [check_selector(s) for s in _split(select)]
    except ValueError as exc:
        _fail(str(exc))
    fixable = tuple(fixable_rules())
    codes = tuple(r.code for r in selected_rules(wanted) if r.code in fixable) if wanted else fixable
    if not codes:
        _fail(f"no fix among {', '.join(wanted)} (fixable: {', '.join(fixable)})")
    given = [flag for flag, on in (("-o", output is not None), ("--in-place", in_place), ("--diff", diff)) if on]
    if len(given) > 1:
        _fail(f"{' and '.join(given)} contradict each other: give one of -o OUT.onnx, --in-place or --diff")
    if not given:
        _fail("say where to write the fixed model: -o OUT.onnx (or --in-place, or --diff)")
    target = model if in_place else output
    try:
        load(str(model))  # the same safe loader as every command, before any path is followed further
    except LoadError as exc:
        _fail(str(exc))
    if output is not None and os.path.realpath(output) == os.path.realpath(model):
        _fail(f"{model}: -o names the input file; use --in-place to overwrite it")
    if target is not None and not os.path.isdir(os.path.dirname(os.path.abspath(target))):
        _fail(f"{target}: the folder {target.parent} does not exist")  # said before minutes of verifying
    try:
        memory = parse_size(memory_limit) if memory_limit is not None else None
    except ValueError as exc:
        _fail(f"--memory-limit: {exc}")
    if in_place and os.path.islink(model):
        _fail(f"{model}: is a symlink; --in-place would replace the link, not its target: give -o OUT.onnx")
    try:
        options = {"input_shapes": _input_shapes(input_shape)} if input_shape else {}
        limits = Limits(seconds=timeout) if memory is None else Limits(seconds=timeout, memory=memory)
        result = fix(str(model), output=None if diff else target, select=codes, limits=limits,
                     scale_memory=memory is None, keep_model=False, **options)
    except OSError as exc:  # writing the output: a full disk, a folder without write permission
        _fail(f"{target}: cannot write: {exc.strerror or exc}; nothing was written")
    except LoadError as exc:
        _fail(str(exc))
    except (FixError, ValueError) as exc:
        _fail(f"{model}: {exc}")
    except Exception as exc:  # a bug on input nobody foresaw: one line, and nothing was written
        _fail(f"{model}: internal error ({type(exc).__name__}: {exc}); nothing was written; please report it")
    for skipped in result.skipped[:5]:
        _say(f"  skipped {skipped}")
    if len(result.skipped) > 5:
        _say(f"  skipped {len(result.skipped) - 5} more for the same reasons")
    if not result.changes:
        _say(f"{model}: nothing to fix ({', '.join(codes)})")
        return
    for change in result.changes:
        _say(f"  {change}")
    _say(f"verified by onnxruntime: max abs error {result.max_abs_error:.3g}, max rel error "
          f"{result.max_rel_error:.3g} (tolerance {result.tolerance:.3g}); the rewritten model passes onnx.checker")
    before = {(d.code, d.location, d.node) for d in result.before.diagnostics}
    after = {(d.code, d.location, d.node) for d in result.after.diagnostics}
    gone = _counts(key for key in before - after)
    created = [d for d in result.after.diagnostics if (d.code, d.location, d.node) not in before]
    _say(f"findings gone: {', '.join(f'{c} ×{n}' for c, n in sorted(gone.items())) or 'none'}; "
          f"new: {', '.join(f'{c} ×{n}' for c, n in sorted(_counts((d.code,) for d in created).items())) or 'none'}; "
          f"{len(result.after.diagnostics)} remain")
    for d in created:  # what the rewrite itself brings: the FC that became a conv may now be a wide one
        _say(f"  new {d.code} at {d.node or '-'}: {d.message}")
    for name, (larger, shape) in result.score_maps.items():
        _say(f"fully convolutional: at {larger} the new output '{name}' is a {'×'.join(map(str, shape))} score map, "
             "as the conv arithmetic predicts (onnxruntime)")
    if diff:
        _say(f"{model}: --diff: nothing written")
        return
    for note in result.notes:
        _say(f"  note: {note}")
    weights = f" (weights in {result.written[1].name})" if len(result.written) > 1 else ""
    _say(f"{model} → {target}: {len(result.changes)} rewrites{weights}; the files written are the ones verified")


def _counts(keys):
    from collections import Counter

    return Counter(key[0] for key in keys)


@main.command("diff")
@click.argument("old", type=click.Path(path_type=str))
@click.argument("new", type=click.Path(path_type=str))
@click.option("--format", "fmt", type=click.Choice(["text", "json", "markdown"]), default="text", show_default=True,
              help="Output format (markdown: for a pull-request comment).")
@click.option("--fail-on-increase", "budgets", metavar="BUDGETS",
              help="Exit 1 when a total grows past a budget: macs=5%,params=0,peak=10% (N% of the old value, or N).")
@click.option("--input-shape", multiple=True, metavar="[NAME=]DIMS", help="Fix an input's shape (repeatable).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write the diff to FILE.")
def diff_command(old, new, fmt, budgets, input_shape, output) -> None:
    """Compare two models: params, MACs and peak memory per layer and in total, changed output shapes, and
    the findings fixed, new or unchanged. Layers are matched by module path, then name, then structure."""
    import json

    from onnxlint.api import lint_safely, make_settings
    from onnxlint.diff import compare, over_budget, parse_budgets, render_text

    try:
        limits = parse_budgets(budgets) if budgets else {}
        settings = make_settings(input_shapes=_input_shapes(input_shape) if input_shape else None)
    except ValueError as exc:
        _fail(str(exc))
    reports = [lint_safely(path, settings) for path in (old, new)]  # the same safe loader as every command
    for report in reports:
        if report.error is not None:
            _fail(f"{report.path}: {report.error}")
    result = compare(*reports)
    problems = over_budget(result, limits)
    if fmt == "json":
        data = result.to_dict()
        data["over_budget"] = problems
        rendered = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    else:
        rendered = render_text(result, markdown=fmt == "markdown", problems=problems)
    _emit(rendered, output)
    sys.exit(EXIT_FINDINGS if problems else EXIT_CLEAN)
