"""Where a node's PyTorch code is, as a path a person (or GitHub) can open from the repository."""
from __future__ import annotations

from functools import cache
from pathlib import Path


@cache
def in_repository(file: str, root: str | None = None) -> str | None:
    """The path of `file` (from an export's stack trace, often absolute on another machine) relative to the
    repository at `root` (the working folder): the path under it, or the longest tail of the path that exists
    there (/home/ci/proj/models/net.py → models/net.py). None when no such file exists."""
    base = Path(root or Path.cwd()).resolve()
    path = Path(file)
    if not path.is_absolute():
        return path.as_posix() if (base / path).is_file() else None
    try:
        return path.resolve().relative_to(base).as_posix()
    except (ValueError, OSError):
        pass
    parts = path.parts[1:]
    for i in range(len(parts)):
        tail = Path(*parts[i:])
        if (base / tail).is_file():
            return tail.as_posix()
    return None


def shown(file: str, line: int | None) -> str:
    """'models/net.py:87': the repository path when the file is there, else the path as the export wrote it."""
    return f"{in_repository(file) or file}:{line}"
