"""Reporters: pure functions from reports to text."""
from onnxlint.reporters import github, gitlab, json, sarif, text

RENDERERS = {"text": text.render, "json": json.render, "sarif": sarif.render, "github": github.render,
             "gitlab": gitlab.render}
