"""A long fuzzing campaign on demand: structure-aware mutants of the seeds (the light models, the fixtures, onnx's
node-test cases), each through lint, every format and the library (fuzz/oracle.py), a sample through the command
line (plain, --verify, fix --diff, diff); a failure is minimized (its mutations dropped one by one while it still
fails) and written to fuzz/cases/ as the seed's name and the mutations, which tests/test_fuzzer.py replays.

    python fuzz/campaign.py --count 5000 --seed 1 [--cli-every 25] [--write-cases]
"""
from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from mutators import apply, random_mutations  # noqa: E402
from oracle import classify, cli_outcome, refused_by_onnx  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
CASES = ROOT / "fuzz" / "cases"


def seeds() -> dict[str, bytes]:
    """Name → bytes of every seed: the fixtures (small ones), the onnx wheel's light models, and a sample of its
    node-test cases (generated, never committed)."""
    import warnings

    import onnx

    found = {f"fixtures/{p.relative_to(ROOT / 'fixtures')}": p.read_bytes()
             for p in sorted((ROOT / "fixtures").rglob("*.onnx")) if p.stat().st_size < 2_000_000}
    light = Path(onnx.__file__).parent / "backend" / "test" / "data" / "light"
    found.update({f"light/{p.name}": p.read_bytes() for p in sorted(light.glob("*.onnx"))})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from onnx.backend.test.case.node import collect_testcases

        cases = collect_testcases()
    for case in cases[::12]:  # every 12th of about 1,900: each op family, a sample
        found[f"node/{case.name}"] = case.model.SerializeToString()
    # a seed onnx's checker refuses (the fixtures whose weights were stripped) would make every mutant "invalid"
    return {name: data for name, data in found.items() if not refused_by_onnx(data)}


def minimize(seed: bytes, mutations: list, failure: str, check) -> list:
    """Drop mutations one at a time while the same class of failure remains."""
    kind = failure.split(" ")[0]
    current = list(mutations)
    changed = True
    while changed and len(current) > 1:
        changed = False
        for i in range(len(current)):
            trial = current[:i] + current[i + 1:]
            found = check(apply(seed, trial))
            if found is not None and found.split(" ")[0] == kind:
                current, changed = trial, True
                break
    return current


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--cli-every", type=int, default=25, help="every Nth mutant also through the command line")
    parser.add_argument("--write-cases", action="store_true", help="write minimized failures to fuzz/cases/")
    args = parser.parse_args()
    import resource

    # onnx's full checker, run in this process on every mutant, can try to allocate without bound (a campaign of
    # 5,000 was once killed at 24 GiB by it): past 8 GiB it raises MemoryError instead, which counts as a refusal
    resource.setrlimit(resource.RLIMIT_AS, (8 * 2**30, 8 * 2**30))
    rng = random.Random(args.seed)
    pool = seeds()
    names = sorted(pool)
    outcomes: Counter = Counter()
    failures = []
    start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="onnxlint-fuzz-") as tmp:
        folder = Path(tmp)
        for i in range(args.count):
            name = rng.choice(names)
            mutations = random_mutations(rng, rng.randint(1, 3))
            data = apply(pool[name], mutations)
            failure = classify(data, folder)
            if failure is None and args.cli_every and i % args.cli_every == 0:
                path = folder / "mutant.onnx"
                path.write_bytes(data)
                for command in ([str(path)], [str(path), "--verify", "--timeout", "20"],
                                ["fix", str(path), "--diff", "--timeout", "20"], ["diff", str(path), str(path)]):
                    failure = cli_outcome(path, *command)
                    if failure:
                        break
            outcomes[failure.split(" ")[0] if failure else "ok"] += 1
            if failure:
                small = minimize(pool[name], mutations, failure, lambda d: classify(d, folder)) \
                    if not failure.startswith(("hang", "input-written")) else mutations
                failures.append({"seed": name, "mutations": small, "failure": failure})
                print(f"[{i}] {failure} — {name} {small}", flush=True)
    print(f"{args.count:,} mutants in {time.monotonic() - start:.0f} s: " +
          ", ".join(f"{k} {v:,}" for k, v in outcomes.most_common()))
    if args.write_cases and failures:
        CASES.mkdir(exist_ok=True)
        index = CASES / "cases.json"
        known = json.loads(index.read_text()) if index.is_file() else []
        known += [{"seed": f["seed"], "mutations": f["mutations"], "was": f["failure"]} for f in failures]
        index.write_text(json.dumps(known, indent=1) + "\n")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
