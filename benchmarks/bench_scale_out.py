"""lint_many over the 30 corpus models: one process, a process pool and a Dask cluster of the same size, in one
run (wall clock, this machine). `python benchmarks/bench_scale_out.py [--workers 2]`"""
from __future__ import annotations

import argparse
import json
import tarfile
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import onnxlint

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--workers", type=int, default=2)
    workers = parser.parse_args().workers
    refs = json.loads((ROOT / "fixtures" / "corpus" / "references.json").read_text())
    with tempfile.TemporaryDirectory() as tmp:
        with tarfile.open(ROOT / "fixtures" / "corpus" / "zoo-dev.tar.gz") as archive:
            archive.extractall(tmp, filter="data")
        paths = sorted(Path(tmp).rglob("*.onnx"))
        assert len(paths) == len(refs) == 30, len(paths)
        runs = {}
        list(onnxlint.lint_many(paths[:1]))  # every column starts warm: its processes have imported onnxlint
        start = time.perf_counter()
        serial = list(onnxlint.lint_many(paths))
        runs["one process"] = time.perf_counter() - start
        with ProcessPoolExecutor(workers) as pool:
            list(pool.map(onnxlint.lint_file, paths[:workers], [onnxlint.Settings()] * workers))
            start = time.perf_counter()
            pooled = list(onnxlint.lint_many(paths, executor=pool))
            runs[f"process pool, {workers} workers"] = time.perf_counter() - start
        import distributed

        with distributed.LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                      dashboard_address=None) as cluster, distributed.Client(cluster) as client:
            list(onnxlint.lint_many(paths[:workers], executor=client.get_executor()))
            start = time.perf_counter()
            dasked = list(onnxlint.lint_many(paths, executor=client.get_executor()))
            runs[f"Dask LocalCluster, {workers} workers"] = time.perf_counter() - start
        def same(reports):
            return sorted(json.dumps(r, sort_keys=True) for r in reports)
        assert same(serial) == same(pooled) == same(dasked)
    print(f"lint_many over the {len(paths)} corpus models (same reports in every column)")
    for label, seconds in runs.items():
        print(f"  {label:<32} {seconds:6.2f} s   {runs['one process'] / seconds:4.2f}× one process")


if __name__ == "__main__":
    main()
