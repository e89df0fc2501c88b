"""The README tells the truth: its set-up commands, every command block it shows (run here, output compared
line by line), its rules table (generated from the catalog) and its links."""
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_readme_opens_with_the_two_setup_commands_and_ci_runs_the_second():
    first_block = README.split("```sh\n", 1)[1].split("```", 1)[0].strip().splitlines()
    assert first_block == ["pip install . && onnxlint fixtures/demo.onnx",
                           "pip install -e '.[test]' && python -m pytest"]
    assert first_block[1] in (ROOT / ".ci" / "run").read_text()


def _blocks() -> list[list[tuple[str, list[str]]]]:
    """Each ```console block: its commands (`$ …`), each with the lines it prints."""
    blocks = []
    for body in re.findall(r"```console\n(.*?)```", README, re.S):
        commands: list[tuple[str, list[str]]] = []
        for line in body.splitlines():
            if line.startswith("$ "):
                commands.append((line[2:], []))
            else:
                commands[-1][1].append(line)
        blocks.append(commands)
    return blocks


def _matches(expected: list[str], printed: list[str]) -> bool:
    """Line for line; a line `…` stands for any number of lines, a line ending in `…` for any line it begins."""
    if not expected:
        return not printed
    head, rest = expected[0], expected[1:]
    if head == "…":
        return any(_matches(rest, printed[i:]) for i in range(len(printed) + 1))
    if not printed:
        return False
    same = printed[0].startswith(head[:-1]) if head.endswith("…") else printed[0] == head
    return same and _matches(rest, printed[1:])


@pytest.mark.slow
@pytest.mark.parametrize("index", range(len(_blocks())))
def test_every_command_block_prints_what_the_readme_shows(index, tmp_path):
    """Run in one shell, in a folder where fixtures/ is the repository's: what each command prints is the
    README's text, exit codes (`echo $?`) included; a file it names that the repository does not ship fails it."""
    (tmp_path / "fixtures").symlink_to(ROOT / "fixtures")
    commands = _blocks()[index]
    # the marker keeps the previous command's exit status for `echo $?`
    script = "".join(f"rc=$?; echo '@@{i}@@'; (exit $rc)\n{command}\n" for i, (command, _) in enumerate(commands))
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    env.pop("NO_COLOR", None)
    done = subprocess.run(["bash", "-c", script], cwd=tmp_path, capture_output=True, text=True, env=env,
                          timeout=600)
    printed = re.split(r"^@@\d+@@\n", done.stdout, flags=re.M)[1:]
    assert len(printed) == len(commands), done.stdout + done.stderr
    for (command, expected), out in zip(commands, printed):
        assert _matches(expected, out.splitlines()), f"$ {command}\n--- README ---\n" + "\n".join(expected) + \
            f"\n--- printed ---\n{out}{done.stderr}"


def test_the_rules_table_is_the_catalog():
    from onnxlint.docs import with_rules_table

    assert README == with_rules_table(README), "regenerate: python -m onnxlint.docs --readme"
    from onnxlint.catalog import all_rules

    assert all(f"| {rule.code} | {rule.name} |" in README for rule in all_rules())


def test_links_and_the_files_examples_name_exist():
    for link in re.findall(r"\]\(((?:docs/|fixtures/)[^)#]+)", README):
        assert (ROOT / link).exists(), link
    for name in re.findall(r"(fixtures/[\w/.-]+\.onnx)", README):
        assert (ROOT / name).is_file(), name
