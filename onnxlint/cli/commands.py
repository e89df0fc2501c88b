"""The commands besides linting: `rules`, `explain`, `fix` and `diff`."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from onnxlint.cli.common import EXIT_CLEAN, EXIT_FINDINGS, EXIT_USAGE, emit, fail, input_shapes, say, split
from onnxlint.deploy import TARGETS


@click.command("rules")
@click.option("--format", "--output-format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="json: every rule with its documentation and options, as `ruff rule --all "
                                      "--output-format json` gives them.")
def rules_command(fmt: str) -> None:
    """List every rule: code, name, severity, on by default, whether `onnxlint fix` can fix it, summary."""
    from onnxlint.catalog import all_rules

    if fmt == "json":
        import json

        from onnxlint.catalog import rule_docs_url

        click.echo(json.dumps([{"code": r.code, "name": r.name, "severity": str(r.severity),
                                "default_enabled": r.default_enabled, "fix": r.applicability,
                                "summary": r.summary_text(), "explanation": r.doc(),
                                "options": [{"name": o.name, "type": o.type.__name__, "default": str(o.default),
                                             "doc": o.doc} for o in r.options],
                                "url": rule_docs_url(r)} for r in all_rules()], indent=2, ensure_ascii=False))
        return
    click.echo(f"{'code':<5}  {'name':<28} {'severity':<10} {'on':<6} {'fix':<3}  summary")
    for rule in all_rules():
        default = "on" if rule.default_enabled else "opt-in"
        fixable = "fix" if rule.applicability else ""
        click.echo(f"{rule.code}  {rule.name:<28} {str(rule.severity):<10} {default:<6} {fixable:<3}  "
                   f"{rule.summary_text()}")


@click.command("explain")
@click.argument("code")
def explain(code: str) -> None:
    """Print a rule's documentation and its options."""
    from onnxlint.catalog import find_rule
    from onnxlint.docs import rule_doc

    rule = find_rule(code)
    if rule is None:
        fail(f"no rule '{code}' (see `onnxlint rules`)")
    click.echo(rule_doc(rule, heading="#"))


@click.command("fix")
@click.argument("model", type=click.Path(path_type=Path))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Where to write the fixed model.")
@click.option("--in-place", is_flag=True, help="Overwrite MODEL (only after the fix is verified).")
@click.option("--select", multiple=True, metavar="CODES",
              help="Fixes to apply: codes, names or prefixes of fixable rules (`onnxlint rules` marks them; "
                   "default: those of the rules on by default; an opt-in rule's, such as OL402, by its code).")
@click.option("--diff", is_flag=True, help="Print what would change, verified, without writing anything.")
@click.option("--input-shape", multiple=True, metavar="[NAME=]DIMS", help="Fix an input's shape (repeatable).")
@click.option("--target", type=click.Choice(list(TARGETS)), default="ort-cpu", show_default=True,
              help="The deployment view the fixes read: qnn-htp for OL605 (fix a dynamic dim for the HTP).")
@click.option("--timeout", type=click.FloatRange(min=0.1), default=60.0, show_default=True,
              help="Limit in seconds for each onnxruntime run.")
@click.option("--memory-limit", default=None, metavar="SIZE",
              help="Address-space limit of each onnxruntime run  [default: 4GiB plus twice the model's weights]")
def fix_command(model, output, in_place, select, diff, input_shape, target, timeout, memory_limit) -> None:
    """Apply exact rewrites (fc-as-conv, BatchNorm folding, no-op removal), verified by onnxruntime.

    The rewritten model is written beside its target first; those very files are checked (onnx.checker)
    and run beside the original on the same random inputs, and only when their outputs agree are they moved
    into place (os.replace). The input is never overwritten without --in-place, and an interrupted
    --in-place leaves it whole.
    """
    # the arguments first, before onnx is imported: a typo is said at once, not after seconds of imports
    given = [flag for flag, on in (("-o", output is not None), ("--in-place", in_place), ("--diff", diff)) if on]
    if len(given) > 1:
        fail(f"{' and '.join(given)} contradict each other: give one of -o OUT.onnx, --in-place or --diff")
    if not given:
        fail("say where to write the fixed model: -o OUT.onnx (or --in-place, or --diff)")
    deploy_target, target = target, model if in_place else output
    if output is not None and os.path.realpath(output) == os.path.realpath(model):
        fail(f"{model}: -o names the input file; use --in-place to overwrite it")
    if target is not None and not os.path.isdir(os.path.dirname(os.path.abspath(target))):
        fail(f"{target}: the folder {target.parent} does not exist")  # said before minutes of verifying
    if in_place and os.path.islink(model):
        fail(f"{model}: is a symlink; --in-place would replace the link, not its target: give -o OUT.onnx")
    from onnxlint.config import parse_size

    try:
        memory = parse_size(memory_limit) if memory_limit is not None else None
    except ValueError as exc:
        fail(f"--memory-limit: {exc}")
    from onnxlint.catalog import check_selector
    from onnxlint.engine import selected_rules
    from onnxlint.fix import FixError, fix, fixable_rules
    from onnxlint.loader import LoadError, load
    from onnxlint.verify import Limits

    try:  # the same selectors as `check --select`: codes, names or prefixes
        wanted = [check_selector(s) for s in split(select)]
    except ValueError as exc:
        fail(str(exc))
    fixable = tuple(fixable_rules())
    # by default the fixes of the findings a default lint shows; an opt-in rule's when named (--select OL402)
    codes = tuple(r.code for r in selected_rules(wanted) if r.code in fixable)
    if not codes:
        fail(f"no fix among {', '.join(wanted)} (fixable: {', '.join(fixable)})")
    try:
        load(str(model))  # the same safe loader as every command, before any path is followed further
    except LoadError as exc:
        fail(str(exc))
    try:
        options = {"input_shapes": input_shapes(input_shape)} if input_shape else {}
        options["target"] = deploy_target
        limits = Limits(seconds=timeout) if memory is None else Limits(seconds=timeout, memory=memory)
        result = fix(str(model), output=None if diff else target, select=codes, limits=limits,
                     scale_memory=memory is None, keep_model=False, **options)
    except OSError as exc:  # writing the output: a full disk, a folder without write permission
        fail(f"{target}: cannot write: {exc.strerror or exc}; nothing was written")
    except LoadError as exc:
        fail(str(exc))
    except (FixError, ValueError) as exc:
        fail(f"{model}: {exc}")
    except Exception as exc:  # a bug on input nobody foresaw: one line, and nothing was written
        fail(f"{model}: internal error ({type(exc).__name__}: {exc}); nothing was written; please report it")
    for skipped in result.skipped[:5]:
        say(f"  skipped {skipped}")
    if len(result.skipped) > 5:
        say(f"  skipped {len(result.skipped) - 5} more for the same reasons")
    if not result.changes:  # exit 1: nothing was written, so a script does not go on with a file that is not there
        why = "every fix was skipped" if result.skipped else f"nothing to fix ({', '.join(codes)})"
        say(f"{model}: {why}; nothing written{f' to {target}' if target is not None and not diff else ''}")
        sys.exit(EXIT_FINDINGS)
    for change in result.changes:
        say(f"  {change}")
    say(f"verified by onnxruntime: max abs error {result.max_abs_error:.3g}, max rel error "
          f"{result.max_rel_error:.3g} (tolerance {result.tolerance:.3g}); the rewritten model passes onnx.checker")
    before = {(d.code, d.location, d.node) for d in result.before.diagnostics}
    after = {(d.code, d.location, d.node) for d in result.after.diagnostics}
    gone = _counts(key for key in before - after)
    created = [d for d in result.after.diagnostics if (d.code, d.location, d.node) not in before]
    say(f"findings gone: {', '.join(f'{c} ×{n}' for c, n in sorted(gone.items())) or 'none'}; "
          f"new: {', '.join(f'{c} ×{n}' for c, n in sorted(_counts((d.code,) for d in created).items())) or 'none'}; "
          f"{result.after.count_text()} remain")
    for d in created:  # what the rewrite itself brings: the FC that became a conv may now be a wide one
        say(f"  new {d.code} at {d.node or '-'}: {d.message}")
    for name, (larger, shape) in result.score_maps.items():
        say(f"fully convolutional: at {larger} the new output '{name}' is the score map {'×'.join(map(str, shape))}, "
             "as the conv arithmetic predicts (onnxruntime)")
    if diff:
        say(f"{model}: --diff: nothing written")
        return
    for note in result.notes:
        say(f"  note: {note}")
    weights = f" (weights in {result.written[1].name})" if len(result.written) > 1 else ""
    say(f"{model} → {target}: {len(result.changes):,} rewrite{'s' if len(result.changes) != 1 else ''}{weights}; "
        "the files written are the ones verified")


def _counts(keys):
    from collections import Counter

    return Counter(key[0] for key in keys)


@click.command("diff")
@click.argument("old", type=click.Path(path_type=str))
@click.argument("new", type=click.Path(path_type=str))
@click.option("--format", "fmt", type=click.Choice(["text", "json", "markdown"]), default="text", show_default=True,
              help="Output format (markdown: for a pull-request comment).")
@click.option("--fail-on-increase", "budgets", metavar="BUDGETS",
              help="Exit 1 when a total grows past a budget: macs=5%,params=0,peak=10% (N% of the old value, or N).")
@click.option("--fail-on-new", type=click.Choice(["error", "warning", "suggestion"]),
              help="Exit 1 when NEW has a finding at or above this severity that OLD did not have.")
@click.option("--input-shape", multiple=True, metavar="[NAME=]DIMS", help="Fix an input's shape (repeatable).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write the diff to FILE.")
def diff_command(old, new, fmt, budgets, fail_on_new, input_shape, output) -> None:
    """Compare two models: params, MACs and peak memory per layer and in total, changed output shapes, and
    the findings fixed, new or unchanged. Layers are matched by module path, then name, then structure."""
    import json

    from onnxlint.api import lint_safely, make_settings
    from onnxlint.diff import compare, over_budget, parse_budgets, render_text, unchecked_budgets

    try:
        limits = parse_budgets(budgets) if budgets else {}
        settings = make_settings(input_shapes=input_shapes(input_shape) if input_shape else None)
    except ValueError as exc:
        fail(str(exc))
    reports = [lint_safely(path, settings) for path in (old, new)]  # the same safe loader as every command
    for report in reports:
        if report.error is not None:
            fail(f"{report.path}: {report.error}")
    notes = [] if input_shape else _at_the_same_size(reports, settings)
    result = compare(*reports)
    result.notes = notes
    unchecked = unchecked_budgets(result, limits)
    problems = over_budget(result, limits)
    if fail_on_new:
        from onnxlint.diagnostics import Severity

        floor = Severity.parse(fail_on_new)
        new_ones = [d for d in result.introduced if d.severity >= floor]
        if new_ones:
            problems.append(f"{result.new.count_text(new_ones)} new at or above {floor}: "
                            f"{', '.join(sorted({d.code for d in new_ones}))}")
    if fmt == "json":
        data = result.to_dict()
        data["over_budget"] = problems
        rendered = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    else:
        rendered = render_text(result, markdown=fmt == "markdown", problems=problems)
    emit(rendered, output)
    for problem in unchecked:  # a budget asked for and not checkable is the user's to know: exit 2, as for usage
        say(f"onnxlint: {problem}")
    sys.exit(EXIT_USAGE if unchecked else EXIT_FINDINGS if problems else EXIT_CLEAN)


def _at_the_same_size(reports: list, settings) -> list[str]:
    """A side whose input sizes are symbolic is linted again at the other side's sizes (inputs of the same name
    and rank), so the two compare at one size; the note says so."""
    from onnxlint.api import lint_safely, make_settings

    notes = []
    for i in (0, 1):
        this, other = reports[i], reports[1 - i]
        if not this.totals.inputs_unknown or other.totals.inputs_unknown:
            continue
        sizes = {i["name"]: i["shape"] for i in other.inputs if i["shape"] and None not in i["shape"]}
        mine = {i["name"]: i["shape"] for i in this.inputs}
        taken = {name: dims for name, dims in sizes.items() if name in mine and (
            mine[name] is None or len(mine[name]) == len(dims))}
        if not taken:
            continue
        again = lint_safely(this.path, make_settings(settings, input_shapes=taken))
        if again.error is None:
            reports[i] = again
            shown = "; ".join(f"{n}={','.join(map(str, d))}" for n, d in taken.items())
            notes.append(f"{this.path} has symbolic input sizes: compared at {shown}, those of {other.path}")
    return notes
