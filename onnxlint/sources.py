"""Where a node's PyTorch code is, as a path a person (or GitHub) can open from the repository.

The file names come from the export's stack trace: the model's own strings, so hostile. They are resolved
lexically; nothing outside the repository (the working folder) is opened or stat'ed, no symlink is followed,
and a location is kept only for a regular file inside the repository that has that line.
"""
from __future__ import annotations

import os
import stat
from functools import cache
from pathlib import Path, PurePosixPath

_MAX_LINE = 10**7  # a stack-trace line number past this is no line of a source file


def in_repository(file: str, line: int | None = None, root: str | None = None) -> str | None:
    """The path of `file` (often absolute on another machine) relative to the repository at `root` (the working
    folder): the path under it, or the longest tail of the path that exists there (/home/ci/proj/models/net.py
    → models/net.py), reached without `..` or a symlink, and holding `line` when one is given. None otherwise."""
    return _in_repository(file, line, str(Path(root or Path.cwd()).absolute()))


@cache
def _in_repository(file: str, line: int | None, base: str) -> str | None:
    if not file or "\0" in file or any(not c.isprintable() for c in file) or (line is not None and not
                                                                              0 < line <= _MAX_LINE):
        return None
    parts = PurePosixPath(file.replace("\\", "/")).parts
    absolute = bool(parts) and parts[0] == "/"
    parts = [p for p in parts if p not in ("/", ".")]
    if ".." in parts:
        return None
    if not absolute:
        return _relative(base, parts, line)
    base_parts = PurePosixPath(base).parts[1:]
    if tuple(parts[:len(base_parts)]) == tuple(base_parts):  # under the repository, spelled absolutely
        return _relative(base, parts[len(base_parts):], line)
    for start in range(1, len(parts)):  # a path on another machine: the longest tail that is here
        found = _relative(base, parts[start:], line)
        if found:
            return found
    return None


def _relative(base: str, parts: list[str], line: int | None) -> str | None:
    """'a/b.py' when base/a/b.py is a regular file reached through no symlink (lstat only, inside base) and has
    `line` lines or more."""
    if not parts:
        return None
    path = base
    for part in parts:
        path = os.path.join(path, part)
        try:
            mode = os.lstat(path).st_mode
        except OSError:
            return None
        if stat.S_ISLNK(mode):
            return None
    if not stat.S_ISREG(mode) or (line is not None and not _has_line(path, line)):
        return None
    return "/".join(parts)


def _has_line(path: str, line: int) -> bool:
    try:
        with open(path, "rb") as f:
            return sum(1 for _ in zip(range(line), f)) == line
    except OSError:
        return False


def model_in_repository(path: str, root: str | None = None) -> str | None:
    """The model file's path relative to the repository (the working folder), or None when it lies outside
    (a path the user named: only `..` is resolved, lexically)."""
    base = Path(root or Path.cwd()).absolute()
    relative = os.path.relpath(os.path.abspath(path), base)
    return None if relative == ".." or relative.startswith(("../", "..\\")) else Path(relative).as_posix()


def shown(file: str, line: int | None) -> str:
    """'models/net.py:87': the repository path when the file is there, else the path as the export wrote it."""
    return f"{in_repository(file) or file}:{line}"
