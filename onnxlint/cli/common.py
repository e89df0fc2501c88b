"""What the commands share: exit codes, one-line errors, output that any console can print, and the parsing
of the flags that several commands take."""
from __future__ import annotations

import os
import sys
from contextlib import contextmanager
from pathlib import Path

import click

from onnxlint.escape import terminal as printable

EXIT_CLEAN, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2


def split(values: tuple[str, ...]) -> list[str]:
    return [v.strip() for value in values for v in value.split(",") if v.strip()]


def fail(message: str) -> None:
    echo(f"onnxlint: {printable(message)}", err=True)
    sys.exit(EXIT_USAGE)


ASCII = str.maketrans({"→": "->", "×": "x", "≥": ">=", "≤": "<=", "·": "*", "−": "-", "…": "...", "²": "^2",
                        "√": "sqrt", "γ": "gamma", "σ": "sigma", "μ": "mu", "ε": "eps", "β": "beta", "›": ">"})


def echo(text: str, *, err: bool = False, nl: bool = True, color: bool | None = None) -> None:
    """click.echo, with an ASCII rendering when the stream cannot encode the output (a cp1252 console)."""
    stream = sys.stderr if err else sys.stdout
    encoding = getattr(stream, "encoding", None) or "utf-8"
    try:
        text.encode(encoding)
    except (UnicodeEncodeError, LookupError):
        text = text.translate(ASCII).encode(encoding, "replace").decode(encoding)
    click.echo(text, err=err, nl=nl, color=color)


def say(text: str) -> None:
    """A line of `onnxlint fix`'s report: node names inside it are the model's, so made printable."""
    echo(printable(text))


def emit(rendered: str, output: Path | None, *, color: bool = False) -> None:
    """The output to FILE (one line and exit 2 when it cannot be written) or to stdout."""
    if output is None:
        echo(rendered, nl=False, color=color)
        return
    try:
        output.write_text(rendered, encoding="utf-8")
    except OSError as exc:
        fail(f"{output}: cannot write the report: {exc.strerror or exc}")


def color_wanted(mode: str) -> bool:
    if mode != "auto":
        return mode == "always"
    return "NO_COLOR" not in os.environ and sys.stdout.isatty()


def input_shapes(values: tuple[str, ...]) -> dict:
    from onnxlint.config import parse_shape

    shapes = {}
    for value in values:
        name, dims = parse_shape(value)
        shapes[name or ""] = list(dims)
    return shapes


def node_ignores(values: tuple[str, ...]) -> dict:
    table: dict[str, list] = {}
    for value in values:
        code, sep, glob = value.partition(":")
        if not sep or not glob:
            raise ValueError(f"--ignore-node '{value}': expected CODE:GLOB, e.g. OL201:stem.*")
        table.setdefault(code, []).append(glob)
    return table


def rule_options(values: tuple[str, ...]) -> dict:
    options: dict[str, dict] = {}
    for value in values:
        key, sep, raw = value.partition("=")
        code, dot, name = key.partition(".")
        if not sep or not dot:
            raise ValueError(f"--option '{value}': expected CODE.KEY=VALUE, e.g. OL201.min-saving=0.2")
        options.setdefault(code, {})[name] = raw
    return options


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


@contextmanager
def opened(output: Path | None):
    """Where streamed output goes: FILE (one line and exit 2 when it cannot be opened) or stdout."""
    if output is None:
        yield sys.stdout
        return
    try:
        stream = output.open("w", encoding="utf-8")
    except OSError as exc:
        fail(f"{output}: cannot write the report: {exc.strerror or exc}")
    with stream:
        yield stream
