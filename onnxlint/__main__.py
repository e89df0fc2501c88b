"""`python -m onnxlint`: the command line."""
from onnxlint.cli import run

run()
