"""The pre-commit hook, for real: `pre-commit try-repo` on this checkout, in a temporary git repo."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest  # noqa: E402
from conftest import ROOT, fixture

pytestmark = pytest.mark.slow  # runs onnxruntime or subprocesses: `-m 'not slow'` skips it


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)


def test_hook_fails_on_a_warning_and_passes_on_a_clean_model(tmp_path):
    repo = tmp_path / "repo"
    repo.mkdir()
    _git(repo, "init", "-q")
    shutil.copy(fixture("demo"), repo / "demo.onnx")  # OL101/OL102 warnings
    shutil.copy(fixture("clean"), repo / "clean.onnx")
    _git(repo, "add", ".")
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "cache"), "GIT_AUTHOR_NAME": "t",
           "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}
    pre_commit = [sys.executable, "-m", "pre_commit", "try-repo", str(ROOT), "onnxlint", "--files"]

    failing = subprocess.run([*pre_commit, "demo.onnx"], cwd=repo, env=env, capture_output=True, text=True,
                             timeout=1800)
    assert failing.returncode == 1, failing.stdout + failing.stderr
    assert "demo.onnx: warning OL104" in failing.stdout

    passing = subprocess.run([*pre_commit, "clean.onnx"], cwd=repo, env=env, capture_output=True, text=True,
                             timeout=1800)
    assert passing.returncode == 0, passing.stdout + passing.stderr
    assert "Passed" in passing.stdout
