"""Scale-out on an existing engine: the per-model work is a plain function of one file (path and settings in,
JSON-able report out), so any concurrent.futures executor runs it — here a real Dask cluster of two worker
processes, whose reports must be the ones `-j 1` makes."""
import json

import pytest
from conftest import corpus_references, run_cli

import onnxlint

pytestmark = pytest.mark.slow  # starts a Dask cluster


def test_a_dask_cluster_gives_the_reports_of_one_process(corpus_dir, tmp_path):
    import distributed  # in the test extras: never skipped
    names = sorted(ref["file"] for ref in corpus_references().values())[:12]
    paths = [corpus_dir / name for name in names] + [tmp_path / "missing.onnx"]
    here = {r["path"]: r for r in onnxlint.lint_many(paths)}
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
    with cluster, distributed.Client(cluster) as client:
        there = {r["path"]: r for r in onnxlint.lint_many(paths, executor=client.get_executor())}
    assert there == here and len(there) == 13
    assert "error" in there[str(tmp_path / "missing.onnx")]  # reported, not fatal
    # the command line's -j 1 reports are the same data
    lines = run_cli(*paths[:3], "--format", "jsonl").stdout.splitlines()
    assert [json.loads(line)["models"][0] for line in lines] == [here[str(p)] for p in paths[:3]]
