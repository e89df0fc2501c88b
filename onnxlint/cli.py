"""The command line. The only module that imports click."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from onnxlint import __version__

EXIT_CLEAN, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2


class _DefaultGroup(click.Group):
    """`onnxlint MODEL...` runs `check`; `onnxlint rules|explain|fix` are subcommands."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if not args or args[0] not in self.commands and args[0] not in ("--help", "-h", "--version"):
            args = ["check", *args]
        return super().parse_args(ctx, args)


def _split(values: tuple[str, ...]) -> list[str]:
    return [v.strip() for value in values for v in value.split(",") if v.strip()]


def _fail(message: str) -> None:
    click.echo(f"onnxlint: {message}", err=True)
    sys.exit(EXIT_USAGE)


@click.group(cls=_DefaultGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="onnxlint")
def main() -> None:
    """A static linter for ONNX convolutional networks.

    \b
      onnxlint MODEL.onnx [DIR ...]   lint models (the default command)
      onnxlint rules                  list every rule
      onnxlint explain CODE           print a rule's documentation

    Lint options: `onnxlint check --help`. Exit codes: 0 no finding at or above --fail-on,
    1 some, 2 usage error or unreadable model.
    """


@main.command("check")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=str))
@click.option("--summary", is_flag=True, help="Print the per-layer table (shape, params, MACs, memory, RF).")
@click.option("--format", "--output-format", "fmt", type=click.Choice(["text", "json", "sarif", "github"]),
              default="text", show_default=True, help="Output format.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the report to FILE instead of stdout.")
@click.option("--select", multiple=True, metavar="CODES", help="Rules to run (codes, names or prefixes like OL2).")
@click.option("--extend-select", multiple=True, metavar="CODES", help="Rules to add to the selection (opt-in rules).")
@click.option("--ignore", multiple=True, metavar="CODES", help="Rules to skip.")
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
def check(paths, summary, fmt, output, select, extend_select, ignore, fail_on, input_shape, memory_budget,
          training, rule_options, config, max_size, statistics, show_settings, color, jobs, verify, profile, what_if,
          runs, timeout, memory_limit) -> None:
    """Lint ONNX models (files or directories, searched recursively for *.onnx)."""
    from onnxlint.config import ConfigError, parse_size
    from onnxlint.diagnostics import Severity
    from onnxlint.runner import expand_paths, iter_lint, resolve_settings
    from onnxlint.verify import Limits

    cli = {"select": _split(select), "extend-select": _split(extend_select), "ignore": _split(ignore),
           "fail-on": fail_on, "memory-budget": memory_budget, "training": training, "max-size": max_size}
    try:
        cli_table = {k: v for k, v in cli.items() if v not in (None, [])}
        if input_shape:
            cli_table["input-shapes"] = _input_shapes(input_shape)
        if rule_options:
            cli_table["options"] = _rule_options(rule_options)
        models = expand_paths(paths)
        settings_for = resolve_settings(models, config, cli_table)
        limits = Limits(timeout, parse_size(memory_limit))
    except (ConfigError, ValueError) as exc:
        _fail(str(exc))
    if not models:
        _fail(f"no .onnx files found in {', '.join(paths)}")
    if show_settings:
        for model in models:
            click.echo(f"# {model}\n{settings_for[model].show()}")
        sys.exit(EXIT_CLEAN)
    run = {"verify": verify or profile, "profile": runs if profile else 0, "what_if": runs if what_if else 0,
           "limits": limits}
    reports_iter = iter_lint(models, settings_for, jobs=jobs, **run)
    if sys.stderr.isatty() and (len(models) > 3 or run["verify"] or what_if):  # long work: show progress
        with click.progressbar(reports_iter, length=len(models), label="onnxlint", file=sys.stderr) as bar:
            reports = list(bar)
    else:
        reports = list(reports_iter)
    for report in reports:
        if report.error is not None:
            click.echo(f"onnxlint: {report.path}: {report.error}", err=True)
    from onnxlint.reporters import RENDERERS

    use_color = output is None and fmt == "text" and _color_wanted(color)
    rendered = RENDERERS[fmt](reports, color=use_color, summary=summary, statistics=statistics)
    if output is not None:
        output.write_text(rendered, encoding="utf-8")
    else:
        click.echo(rendered, nl=False, color=use_color)
    failing = any(r.failing(settings_for[r.path].fail_on if r.path in settings_for else Severity.WARNING)
                  for r in reports)
    sys.exit(EXIT_FINDINGS if failing else EXIT_USAGE if any(r.error for r in reports) else EXIT_CLEAN)


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
    """List every rule: code, name, severity, on by default, summary."""
    from onnxlint.engine import all_rules

    for rule in all_rules():
        default = "on" if rule.default_enabled else "opt-in"
        click.echo(f"{rule.code}  {rule.name:<28} {str(rule.severity):<10} {default:<6}  {rule.summary}")


@main.command("explain")
@click.argument("code")
def explain(code: str) -> None:
    """Print a rule's documentation and its options."""
    from onnxlint.docs import rule_doc
    from onnxlint.engine import find_rule

    rule = find_rule(code)
    if rule is None:
        _fail(f"no rule '{code}' (see `onnxlint rules`)")
    click.echo(rule_doc(rule, heading="#"))


@main.command("fix")
@click.argument("model", type=click.Path(path_type=Path))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Where to write the fixed model.")
@click.option("--in-place", is_flag=True, help="Overwrite MODEL (only after the fix is verified).")
@click.option("--select", multiple=True, metavar="CODES", help="Fixes to apply: OL203, OL401, OL402 (default: all).")
@click.option("--diff", is_flag=True, help="Print what would change, verified, without writing anything.")
@click.option("--input-shape", multiple=True, metavar="[NAME=]DIMS", help="Fix an input's shape (repeatable).")
@click.option("--timeout", type=click.FloatRange(min=0.1), default=60.0, show_default=True,
              help="Limit in seconds for each onnxruntime run.")
def fix_command(model, output, in_place, select, diff, input_shape, timeout) -> None:
    """Apply exact rewrites (fc-as-conv, BatchNorm folding, no-op removal), verified by onnxruntime.

    The original and the rewritten model run on the same random inputs; nothing is written unless
    their outputs agree. The input file is never overwritten without --in-place.
    """
    from onnxlint.api import LoadError
    from onnxlint.fix import FIXABLE, FixError, fix, save
    from onnxlint.verify import Limits

    codes = tuple(c.upper() for c in _split(select)) or FIXABLE
    if unknown := [c for c in codes if c not in FIXABLE]:
        _fail(f"no fix for {', '.join(unknown)} (fixable: {', '.join(FIXABLE)})")
    if not diff and not in_place and output is None:
        _fail("say where to write the fixed model: -o OUT.onnx (or --in-place, or --diff)")
    target = model if in_place else output
    if not in_place and target is not None and target.resolve() == model.resolve():
        _fail(f"{model}: -o names the input file; use --in-place to overwrite it")
    try:
        options = {"input_shapes": _input_shapes(input_shape)} if input_shape else {}
        result = fix(str(model), select=codes, limits=Limits(seconds=timeout), **options)
    except LoadError as exc:
        _fail(str(exc))
    except (FixError, ValueError) as exc:
        _fail(f"{model}: {exc}")
    if not result.changes:
        click.echo(f"{model}: nothing to fix ({', '.join(codes)})")
        return
    for change in result.changes:
        click.echo(f"  {change}")
    click.echo(f"verified by onnxruntime: max abs error {result.max_abs_error:.3g}, max rel error "
               f"{result.max_rel_error:.3g} (tolerance {result.tolerance:.3g}); the rewritten model passes "
               "onnx.checker")
    gone = _counts(result.before) - _counts(result.after)
    click.echo(f"findings gone: {', '.join(f'{c} ×{n}' for c, n in sorted(gone.items())) or 'none'}; "
               f"{len(result.after.diagnostics)} remain")
    if diff:
        click.echo(f"{model}: --diff: nothing written")
        return
    external = _uses_external_data(result.before)
    save(result.model, target, external=external)
    weights = f" (weights in {target.name}.data)" if external else ""
    click.echo(f"{model} → {target}: {len(result.changes)} rewrites{weights}")


def _counts(report):
    from collections import Counter

    return Counter(d.code for d in report.diagnostics)


def _uses_external_data(report) -> bool:
    import onnx

    return any(t.data_location == onnx.TensorProto.EXTERNAL for t in report.context.loaded.model.graph.initializer)
