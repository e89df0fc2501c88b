"""External-data references checked before anything is read: each must name a regular file inside the model's
folder (no absolute path, `..`, symlink or hard link), and its offset and length must fit that file and the
tensor's dims. Checked by `stat` alone, never by opening a file."""
from __future__ import annotations

import os
import stat
from pathlib import Path

from onnxlint.dtypes import tensor_nbytes
from onnxlint.proto import TensorProto, display_name

ORT_MEM_MARKER = "_ORT_MEM_ADDR_"


def unsafe_external_references(external: list[TensorProto], base_dir: Path | None):
    """One sentence per problem; the tensors that share one (a missing weight file) are counted, not listed."""
    by_problem: dict[str, list[str]] = {}
    for tensor in external:
        problem = _external_problem(tensor, base_dir)
        if problem:
            by_problem.setdefault(problem, []).append(display_name(tensor.name))
    for problem, tensors in by_problem.items():
        if len(tensors) == 1:
            yield f"tensor '{tensors[0]}': {problem}"
        else:
            more = ", …" if len(tensors) > 2 else ""
            yield f"{problem} ({len(tensors)} tensors: '{tensors[0]}', '{tensors[1]}'{more})"


def _external_problem(tensor: TensorProto, base_dir: Path | None) -> str | None:
    info = {display_name(entry.key): entry.value for entry in tensor.external_data}
    location = info.get("location", "")
    if isinstance(location, bytes):
        return f"location '{display_name(location)}' is not valid UTF-8"
    if not location:
        return "external data has no location"
    if "\0" in location:
        return f"location '{display_name(location)!r}' holds a NUL character"
    if ORT_MEM_MARKER in location:
        return f"location '{display_name(location)}' is an in-memory address marker"
    if os.path.isabs(location) or location.startswith(("/", "\\")) or (len(location) > 1 and location[1] == ":"):
        return f"location '{display_name(location)}' is an absolute path"
    if location.endswith(("/", "\\")):  # onnx's checker and onnxruntime: "is not regular file"
        return f"location '{display_name(location)}' ends in a path separator: it names a folder, not a file"
    parts = location.replace("\\", "/").split("/")
    if ".." in parts:
        return f"location '{display_name(location)}' leaves the model's folder ('..')"
    try:
        offset = int(info.get("offset", 0))
        length = int(info["length"]) if "length" in info else None
    except ValueError:
        return "external data offset/length is not an integer"
    if offset < 0 or (length is not None and length < 0):
        return "external data offset/length is negative"
    if base_dir is None:
        return None  # in-memory model without base_dir: only the path itself can be checked
    path = base_dir
    for part in parts:
        path = path / part
        try:
            info_l = os.lstat(path)
        except OSError:
            return f"the external data file '{display_name(location)}' is missing beside the model"
        if stat.S_ISLNK(info_l.st_mode):
            return f"location '{display_name(location)}' goes through a symlink"
    if not stat.S_ISREG(info_l.st_mode):
        return f"external data '{display_name(location)}' is not a regular file"
    if info_l.st_nlink != 1:
        return f"external data '{display_name(location)}' has {info_l.st_nlink} hard links"
    expected = _declared_nbytes(tensor)
    if length is None:
        length = info_l.st_size - offset
    if offset + length > info_l.st_size:
        return (f"offset {offset:,} + length {length:,} exceeds the size of '{display_name(location)}' "
                f"({info_l.st_size:,} bytes)")
    if expected is not None and expected != length:
        return f"length {length:,} does not match dims × dtype size = {expected:,} bytes"
    return None


def _declared_nbytes(tensor: TensorProto) -> int | None:
    count = 1
    for d in tensor.dims:  # Python ints: no overflow, nothing materialised
        count *= d
    return tensor_nbytes(tensor.data_type, count)
