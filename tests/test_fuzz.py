"""Corrupted models (random byte flips of the fixtures) never crash the analysis: a LoadError or a report."""
import random

import pytest  # noqa: E402
from conftest import fixture

from onnxlint.api import lint_safely
from onnxlint.config import Settings

pytestmark = pytest.mark.slow  # runs onnxruntime or subprocesses: `-m 'not slow'` skips it


def test_random_byte_flips_never_raise():
    rng = random.Random(0)
    seeds = [fixture(n).read_bytes() for n in ("demo", "deploy_leftovers", "unet_no_output_padding", "vgg_head")]
    outcomes = {"report": 0, "error": 0}
    for _ in range(400):
        data = bytearray(rng.choice(seeds))
        for _ in range(rng.randint(1, 6)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        report = lint_safely(bytes(data), Settings())
        assert report.error_class != "InternalError", report.error
        outcomes["error" if report.error else "report"] += 1
    assert outcomes["report"] > 50 and outcomes["error"] > 50  # both paths were exercised


def test_byte_flips_and_cuts_on_the_large_file_path(tmp_path):
    """The memory-mapped walker of files over 64 MiB: flipped and truncated mutants are a LoadError or a report,
    quickly and never an internal error."""
    import time

    import numpy as np
    import onnx
    from onnx import numpy_helper

    from onnxlint.loader import SKIP_PAYLOADS_ABOVE

    model = onnx.load(fixture("demo"))
    model.graph.initializer.append(numpy_helper.from_array(np.zeros(SKIP_PAYLOADS_ABOVE // 4 + 16, np.float32), "pad"))
    data = model.SerializeToString()
    rng = random.Random(1)
    path = tmp_path / "mutant.onnx"
    start = time.monotonic()
    for i in range(24):
        mutant = bytearray(data)
        if i % 2:
            del mutant[rng.randrange(len(mutant) // 2, len(mutant)):]
        for _ in range(rng.randint(1, 4)):
            mutant[rng.randrange(min(len(mutant), 20_000))] = rng.randrange(256)  # the graph, not the zeros
        path.write_bytes(bytes(mutant))
        report = lint_safely(str(path), Settings())
        assert report.error_class != "InternalError", report.error
    assert time.monotonic() - start < 120
    path.unlink()


def test_fix_on_mutants_is_one_line_or_a_fix(tmp_path):
    from conftest import run_cli

    rng = random.Random(2)
    seed = fixture("deploy_leftovers").read_bytes()
    for i in range(12):
        data = bytearray(seed)
        for _ in range(rng.randint(1, 4)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        path = tmp_path / f"m{i}.onnx"
        path.write_bytes(bytes(data))
        result = run_cli("fix", path, "--diff")
        assert "Traceback" not in result.stderr, result.stderr
        assert result.returncode in (0, 1, 2), (result.returncode, result.stderr)  # 1: nothing to fix
        if result.returncode == 2:
            assert len(result.stderr.strip().splitlines()) == 1
