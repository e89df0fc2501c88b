from onnxlint.cli import main

main(prog_name="onnxlint")
