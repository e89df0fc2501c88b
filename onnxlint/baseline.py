"""A baseline: the findings a team accepted when it adopted onnxlint, so that only new ones fail. A finding is
known by a fingerprint of its code, its model's path relative to the baseline file, where it is (module path,
else node name) and the numbers of its message — the same idea as SARIF's partialFingerprints — so a model
retrained with the same architecture keeps its baseline, and a changed layer is a new finding."""
from __future__ import annotations

import hashlib
import json
import os
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

FORMAT = 1
_NUMBER = re.compile(r"\d[\d,.]*")


def fingerprint(code: str, model: str, where: str | None, message: str) -> str:
    numbers = " ".join(n.rstrip(".,") for n in _NUMBER.findall(message))
    return hashlib.sha256("\x1f".join((code, model, where or "", numbers)).encode()).hexdigest()[:32]


def model_key(path: str, folder: Path) -> str:
    """A model's path as the baseline names it: relative to the baseline's folder, with '/'."""
    if path.startswith("<") or path == "-":
        return path
    try:
        return Path(os.path.relpath(Path(path).resolve(), folder.resolve())).as_posix()
    except ValueError:  # another drive (Windows)
        return Path(path).resolve().as_posix()


@dataclass(frozen=True)
class Baseline:
    path: Path
    entries: dict = field(default_factory=dict, compare=False, repr=False)  # model key → Counter of fingerprints
    codes: dict = field(default_factory=dict, compare=False, repr=False)  # fingerprint → the rule code it is of

    def for_model(self, path: str) -> Counter:
        """This model's accepted fingerprints (a fresh Counter: matching consumes it)."""
        return Counter(self.entries.get(model_key(path, self.path.parent), {}))

    def size(self, models=None) -> int:
        keys = self.entries if models is None else {model_key(m, self.path.parent) for m in models}
        return sum(sum(self.entries.get(k, {}).values()) for k in keys)


def read(path: str | os.PathLike) -> Baseline:
    """The baseline in `path`; ValueError naming the problem when it is not one."""
    path = Path(path)
    try:
        data = json.loads(path.read_text("utf-8"))
    except OSError as exc:
        raise ValueError(f"cannot read the baseline {path}: {exc.strerror or exc}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path} is not an onnxlint baseline (invalid JSON: {exc})") from None
    if not isinstance(data, dict) or data.get("onnxlint_baseline") != FORMAT or not isinstance(
            data.get("findings"), list):
        raise ValueError(f"{path} is not an onnxlint baseline (written by --write-baseline)")
    entries: dict = {}
    codes: dict = {}
    for item in data["findings"]:
        if not isinstance(item, dict) or not isinstance(item.get("model"), str) or not isinstance(
                item.get("fingerprint"), str):
            raise ValueError(f"{path}: a finding without a model or fingerprint")
        entries.setdefault(item["model"], Counter())[item["fingerprint"]] += 1
        codes[item["fingerprint"]] = item.get("code")
    return Baseline(path, entries, codes)


def write(path: str | os.PathLike, reports) -> int:
    """Write every finding of `reports` (per node, as the engine made them) to `path`; the count written. The
    entries are sorted, so the file changes only when the findings do."""
    path = Path(path)
    items = []
    for report in reports:
        if report.error is not None:
            continue
        model = model_key(report.path, path.parent)
        for d in report.diagnostics:
            items.append({"model": model, "code": d.code, "where": d.where, "message": d.message,
                          "fingerprint": fingerprint(d.code, model, d.where, d.message)})
    items.sort(key=lambda item: (item["model"], item["code"], item["where"] or "", item["fingerprint"]))
    path.write_text(json.dumps({"onnxlint_baseline": FORMAT, "findings": items}, indent=1, ensure_ascii=False)
                    + "\n", encoding="utf-8")
    return len(items)
