"""Which files a run lints: the paths as given, folders searched for `*.onnx` as ruff searches for Python files
— hidden folders, virtual environments and the usual build and cache folders skipped, `.gitignore` respected,
`exclude`/`extend-exclude` globs applied. A file named on the command line is linted even when a pattern would
exclude it (unless `force-exclude`), as in ruff."""
from __future__ import annotations

import fnmatch
import os
from dataclasses import dataclass, field
from pathlib import Path

# ruff's default `exclude`, less the Python-only entries, plus what holds models that are not the project's
DEFAULT_EXCLUDE = (".bzr", ".direnv", ".eggs", ".git", ".git-rewrite", ".hg", ".mypy_cache", ".nox", ".pants.d",
                   ".pytype", ".ruff_cache", ".svn", ".tox", ".venv", "__pypackages__", "_build", "buck-out",
                   "dist", "node_modules", "site-packages", "venv")


@dataclass
class Found:
    models: list[str] = field(default_factory=list)  # in the order given, each folder's files sorted
    empty: list[str] = field(default_factory=list)  # folders where no model was found
    skipped: list[str] = field(default_factory=list)  # named files left out by force-exclude


@dataclass(frozen=True)
class Walk:
    """How folders are searched: the settings of the configuration that governs the path."""
    exclude: tuple[str, ...] = DEFAULT_EXCLUDE
    extend_exclude: tuple[str, ...] = ()
    respect_gitignore: bool = True
    force_exclude: bool = False
    root: Path | None = None  # the folder patterns with a '/' are relative to (the configuration's)


def find_models(paths, walk_for) -> Found:
    """The models to lint. `walk_for(path)` gives the Walk (the settings) for a path argument."""
    found = Found()
    for path in paths:
        walk = walk_for(path)
        if path == "-" or not os.path.isdir(path):
            if walk.force_exclude and path != "-" and (_excluded(Path(path), walk, _root(walk)) or (
                    walk.respect_gitignore and _ignored(Path(path).resolve(), _ancestor_ignores(Path(path).resolve()),
                                                        False))):
                found.skipped.append(path)
            else:
                found.models.append(path)  # a missing path is reported as unreadable, in its place
            continue
        models = _search(Path(path), walk)
        found.models.extend(models)
        if not models:
            found.empty.append(path)
    found.models = list(dict.fromkeys(found.models))
    return found


def _root(walk: Walk) -> Path:
    return walk.root if walk.root is not None else Path.cwd()


def _search(top: Path, walk: Walk) -> list[str]:
    """The models under `top`, named as the user wrote `top`; .gitignore rules matched on absolute paths."""
    root, absolute_top = _root(walk), top.resolve()
    ignores = _ancestor_ignores(absolute_top) if walk.respect_gitignore else []
    found = []
    for folder, dirs, files in os.walk(top, followlinks=False):
        here = Path(folder)
        absolute = absolute_top / here.relative_to(top)
        if walk.respect_gitignore:
            ignores = [(base, spec) for base, spec in ignores if base == absolute or base in absolute.parents]
            spec = _gitignore(absolute)
            if spec is not None:
                ignores.append((absolute, spec))
        dirs[:] = sorted(d for d in dirs if not (
            d.startswith(".") or (here / d / "pyvenv.cfg").is_file() or _excluded(here / d, walk, root)
            or _ignored(absolute / d, ignores, True)))
        found.extend(str(here / f) for f in sorted(files) if f.lower().endswith(".onnx") and not (
            _excluded(here / f, walk, root) or _ignored(absolute / f, ignores, False) or (here / f).is_dir()))
    return found


def _excluded(path: Path, walk: Walk, root: Path) -> bool:
    """A pattern without '/' matches any component's name; one with '/' the path relative to `root`."""
    for pattern in (*walk.exclude, *walk.extend_exclude):
        pattern = pattern.rstrip("/")
        if "/" in pattern:
            try:
                relative = path.resolve().relative_to(root.resolve()).as_posix()
            except ValueError:
                continue
            if fnmatch.fnmatchcase(relative, pattern.lstrip("./")) or fnmatch.fnmatchcase(relative, pattern + "/*"):
                return True
        elif any(fnmatch.fnmatchcase(part, pattern) for part in path.parts):
            return True
    return False


def _gitignore(folder: Path):
    """The patterns of `folder`'s .gitignore (and, at a repository's top, .git/info/exclude), or None."""
    lines = []
    for name in (".gitignore", os.path.join(".git", "info", "exclude")):
        try:
            lines += (folder / name).read_text("utf-8", "replace").splitlines()
        except OSError:
            continue
    if not lines:
        return None
    import pathspec  # gitignore's rules (negation, anchoring, `**`, folder-only patterns), as git applies them

    return pathspec.GitIgnoreSpec.from_lines(lines)


def _ancestor_ignores(top: Path) -> list:
    """The .gitignore files above `top` (absolute) up to its repository's top folder (none outside one)."""
    chain = []
    for folder in top.parents:
        chain.append(folder)
        if (folder / ".git").exists():
            break
    else:
        return []
    return [(folder, spec) for folder in reversed(chain) if (spec := _gitignore(folder)) is not None]


def _ignored(path: Path, ignores, is_dir: bool) -> bool:
    """Whether a .gitignore in force ignores `path` (absolute); a folder's patterns are relative to it."""
    for base, spec in ignores:
        if spec.match_file(path.relative_to(base).as_posix() + ("/" if is_dir else "")):
            return True
    return False
