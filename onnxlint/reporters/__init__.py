"""Reporters: pure functions from reports to text."""
from onnxlint.reporters import github, gitlab, html, json, sarif, table, text

RENDERERS = {"text": text.render, "json": json.render, "sarif": sarif.render, "github": github.render,
             "gitlab": gitlab.render, "markdown": table.render_markdown, "csv": table.render_csv, "html": html.render}
