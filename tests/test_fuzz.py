"""Corrupted models (random byte flips of the fixtures) never crash the analysis: a LoadError or a report."""
import random

from conftest import fixture

from onnxlint.api import lint_safely
from onnxlint.config import Settings


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
