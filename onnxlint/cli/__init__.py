"""The command line: the `onnxlint` group and its entry point. The cli package is the only one that imports
click; each command is a module (check.py; commands.py: rules, explain, fix, diff)."""
from __future__ import annotations

import os
import sys

import click

from onnxlint.cli.check import check
from onnxlint.cli.commands import diff_command, explain, fix_command, rules_command
from onnxlint.cli.common import EXIT_USAGE, fail
from onnxlint.version import __version__


class _DefaultGroup(click.Group):
    """`onnxlint MODEL...` runs `check`; `onnxlint rules|explain|fix` are subcommands."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if not args:  # a bare `onnxlint`: a usage error with the help, as ruff and mypy (exit 2)
            click.echo(ctx.get_help(), err=True)
            ctx.exit(EXIT_USAGE)
        if "--fix" in args or "--unsafe-fixes" in args:  # what a ruff user types: say where fixes are
            fail("fixes are a command of their own, verified by onnxruntime before anything is written: "
                 "onnxlint fix MODEL -o OUT.onnx (or --in-place, or --diff)")
        if args[0] not in self.commands and args[0] not in ("--help", "-h", "--version"):
            args = ["check", *args]
        return super().parse_args(ctx, args)


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


for _command in (check, rules_command, explain, fix_command, diff_command):
    main.add_command(_command)
