"""Escaping of the strings a model holds (names, op types, doc and metadata strings, file paths), one function
per output format, applied where that format is written: every one of them is hostile."""
from __future__ import annotations

import re


def terminal(text: str) -> str:
    """One printable line: control characters (newline, \\r, ESC), bidi overrides and zero-width characters
    (all outside str.isprintable) shown escaped, so that a name can neither print a line of its own (a
    `::error::` workflow command in a CI log) nor reorder, hide or colour what the terminal shows."""
    text = str(text)
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() or c == "\t" else repr(c)[1:-1] for c in text)


_MARKDOWN_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")  # every ASCII punctuation character may be escaped


def markdown(text: str) -> str:
    """Text for a markdown table cell or list item: one line, every ASCII punctuation character
    backslash-escaped, so that `|` cannot split a cell and nothing becomes a code span, link, image,
    emphasis or raw HTML."""
    return _MARKDOWN_PUNCTUATION.sub(r"\\\1", terminal(text))


def markdown_code(text: str) -> str:
    """A name as a markdown code span: nothing inside one is a link, autolink, image or HTML. Its fence is one
    backtick longer than any run inside, and `|` is escaped as GFM tables require (inside code spans too)."""
    text = terminal(text).replace("|", "\\|")
    fence = "`" * (max((len(run) for run in re.findall("`+", text)), default=0) + 1)
    pad = " " if not text or text[0] in "` " or text[-1] in "` " else ""
    return f"{fence}{pad}{text}{pad}{fence}"


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value):
    """A CSV cell: numbers as they are; text on one line, and prefixed with ' when a spreadsheet would read
    it as a formula (OWASP's CSV-injection guidance)."""
    if not isinstance(value, str):
        return value
    if value.startswith(_FORMULA_START):
        value = "'" + value
    return terminal(value)


def html(text) -> str:
    import html  # the HTML output only: html.entities is several ms of every run's start-up otherwise

    return html.escape(str(text), quote=True)


def github(text: str, *, prop: bool = False) -> str:
    """A GitHub Actions workflow command's message (or, with `prop`, property value): its own escapes, so the
    text stays inside the one command."""
    text = str(text).replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return text.replace(":", "%3A").replace(",", "%2C") if prop else text


def uri(path: str) -> str:
    """A relative URI reference for a path inside the repository (percent-encoded; `/` kept)."""
    from urllib.parse import quote  # SARIF only: not on every run's start-up

    return quote(path, safe="/")
