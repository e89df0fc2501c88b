"""The README tells the truth: its set-up commands and its sample output."""
from conftest import ROOT, run_cli


def test_readme_opens_with_the_two_setup_commands_and_ci_runs_the_second():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    first_block = readme.split("```sh\n", 1)[1].split("```", 1)[0].strip().splitlines()
    assert first_block == ["pip install . && onnxlint fixtures/demo.onnx",
                           "pip install -e '.[test]' && python -m pytest"]
    assert first_block[1] in (ROOT / ".ci" / "run").read_text()


def test_sample_output_lines_are_what_onnxlint_prints():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    sample = readme.split("$ onnxlint fixtures/demo.onnx\n", 1)[1].split("```", 1)[0].splitlines()
    printed = run_cli("fixtures/demo.onnx", cwd=ROOT).stdout.splitlines()
    assert len(sample) > 5
    assert [line for line in sample if line != "…" and line not in printed] == []
