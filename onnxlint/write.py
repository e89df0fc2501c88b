"""Writing a model: staged in a private folder beside its target, checked from disk, then moved into place.

`stage()` writes the model under the names it will have, inside `.onnxlint-*` in the target's folder (the
same file system, so the final `os.replace` is atomic); the caller verifies exactly those files; `commit()`
moves the weights file, then the model, into place. The user's file is replaced only by a complete, synced
model, and a weights file the original (or the file being replaced) still reads is never overwritten: a
crash, a kill or a full disk at any moment leaves the original as it was.

The writer streams the protobuf wire format itself: the ModelProto it is given is never modified (onnx.save
with external data rewrites its tensors in place), the weights are never serialized as one copy (memory
stays at the model plus one tensor), and models over protobuf's 2 GiB are written with external data.
"""
from __future__ import annotations

import math
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from onnx import numpy_helper

from onnxlint.dtypes import tensor_nbytes
from onnxlint.proto import GraphProto, ModelProto, TensorProto
from onnxlint.weights import data_reference, read_bytes
from onnxlint.wire import encode_varint as _varint

PROTOBUF_LIMIT = 2**31 - 1  # the largest message protobuf parses
EXTERNAL_THRESHOLD = 1024  # tensors smaller than this stay inside the .onnx, as onnx.save does
_PAGE = 4096  # large tensors start on a page, so onnxruntime can map them
_PAYLOAD_FIELDS = ("raw_data", "float_data", "int32_data", "int64_data", "double_data", "uint64_data",
                   "string_data", "external_data", "data_location")
_GRAPH_FIELD = ModelProto.DESCRIPTOR.fields_by_name["graph"].number
_INITIALIZER_FIELD = GraphProto.DESCRIPTOR.fields_by_name["initializer"].number
_RAW_DATA_FIELD = TensorProto.DESCRIPTOR.fields_by_name["raw_data"].number
_CHUNK = 16 * 1024**2  # referenced weights are copied this much at a time


@dataclass
class Staged:
    """A model written into `folder` (inside the target's folder) under its final names."""
    folder: Path
    target: Path
    data_name: str | None  # the external weights file beside the model, if any
    notes: list[str] = field(default_factory=list)  # what the user should know about the names chosen

    @property
    def model_path(self) -> Path:
        return self.folder / self.target.name

    @property
    def files(self) -> list[Path]:
        """The files this delivers, at their final places."""
        data = [self.target.parent / self.data_name] if self.data_name else []
        return [self.target, *data]

    def commit(self, mode: int | None = None) -> list[Path]:
        """Move the weights, then the model into place (each `os.replace` is atomic); `mode`: permission bits
        to give the model (an --in-place rewrite keeps the original's)."""
        if mode is not None:
            os.chmod(self.model_path, mode)
        if self.data_name:
            os.replace(self.folder / self.data_name, self.target.parent / self.data_name)
        os.replace(self.model_path, self.target)
        _sync_folder(self.target.parent)
        self.discard()
        return self.files

    def discard(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


def stage(model: ModelProto, target: Path, *, external: bool, avoid: set[Path] = frozenset(),
          base_dir: Path | None = None) -> Staged:
    """Write `model` into a new private folder inside the target's folder, under the name the target will
    have. `external`: weights in `<target>.data` (also chosen for a model over 2 GiB). `avoid`: files the
    weights must not be written over (resolved paths), such as those the original still reads. `base_dir`:
    where the model's external references point (write_model)."""
    target = Path(os.path.abspath(target))  # the child that verifies runs in another folder
    notes = []
    if not external and embedded_size(model) > PROTOBUF_LIMIT:
        external = True
        notes.append("the model is over protobuf's 2 GiB limit: its weights are written to an external file")
    data_name = _free_data_name(target, avoid) if external else None
    if data_name and data_name != f"{target.name}.data":
        notes.append(f"{target.name}.data is still read by a model being kept or replaced: the weights go to "
                     f"{data_name} instead")
    staging = Path(tempfile.mkdtemp(prefix=".onnxlint-", dir=target.parent))
    staged = Staged(staging, target, data_name, notes)
    try:
        write_model(model, staged.model_path, data_name, base_dir)
    except BaseException:
        staged.discard()
        raise
    return staged


def write_model(model: ModelProto, path: Path, data_name: str | None = None, base_dir: Path | None = None) -> None:
    """Write `model` to `path` without modifying it; with `data_name`, tensors of 1 KiB or more go to that
    file beside it. A tensor with external data (for a model from `copy_with_references`, also the weights
    left in a large original file) is copied from its file under `base_dir`, a chunk at a time. Both files
    are synced to disk before this returns."""
    path = Path(path)
    tensors = model.graph.initializer
    stubs, copied = {}, {}  # index → TensorProto written instead; index → (file, offset, length) to copy in
    for index, tensor in enumerate(tensors):
        if tensor.data_location == TensorProto.EXTERNAL:
            copied[index] = _reference(tensor, base_dir)
    if data_name:
        with _new_file(path.parent / data_name) as data:
            for index, tensor in enumerate(tensors):
                if index in copied:
                    stubs[index] = _external_stub(tensor, data, data_name, copied.pop(index))
                else:
                    stub = _write_payload(tensor, data, data_name)
                    if stub is not None:
                        stubs[index] = stub
            _sync(data)
    for index in copied:  # embedded in the output: the stub without the reference, then raw_data
        stubs[index] = _without(tensors[index], _PAYLOAD_FIELDS)
    graph_shell = _without(model.graph, ("initializer",)).SerializeToString()
    model_shell = _without(model, ("graph",)).SerializeToString()
    sizes = [stubs[i].ByteSize() if i in stubs else _serialized_size(t) for i, t in enumerate(tensors)]
    for index, (_, _, length) in copied.items():
        sizes[index] += 1 + len(_varint(length)) + length
    graph_size = len(graph_shell) + sum(1 + len(_varint(n)) + n for n in sizes)
    if len(model_shell) + graph_size > PROTOBUF_LIMIT:
        raise ValueError(f"{path.name}: the model is over protobuf's 2 GiB limit; write its weights externally")
    with _new_file(path) as out:
        out.write(model_shell)
        out.write(_tag(_GRAPH_FIELD) + _varint(graph_size))
        out.write(graph_shell)  # a message's fields may come in any order: the initializers follow the rest
        for index, tensor in enumerate(tensors):
            body = (stubs[index] if index in stubs else tensor).SerializeToString()
            out.write(_tag(_INITIALIZER_FIELD) + _varint(sizes[index]))
            out.write(body)
            if index in copied:
                file, offset, length = copied[index]
                out.write(_tag(_RAW_DATA_FIELD) + _varint(length))
                _copy_range(file, offset, length, out)
            elif len(body) != sizes[index]:  # the lengths already written would be wrong
                raise ValueError(f"tensor '{tensor.name}' holds {len(body):,} bytes, not the {sizes[index]:,} "
                                 "its dims and type give")
        _sync(out)


def with_data(tensor: TensorProto, base_dir: Path | None) -> TensorProto:
    """The tensor itself, or for one with external data (references already checked by the loader) a copy
    with its bytes read in."""
    if tensor.data_location != TensorProto.EXTERNAL:
        return tensor
    file, offset, length = _reference(tensor, base_dir)
    data = read_bytes(file, offset, length, tensor.name)
    loaded = _without(tensor, _PAYLOAD_FIELDS)
    loaded.raw_data = data
    return loaded


def external_files(model: ModelProto, base_dir: Path) -> set[Path]:
    """The resolved paths of the external-data files a model reads (its main graph's initializers)."""
    files = set()
    for tensor in model.graph.initializer:
        if tensor.data_location == TensorProto.EXTERNAL:
            location = next((e.value for e in tensor.external_data if e.key == "location"), "")
            if location:
                files.add((Path(base_dir) / location).resolve())
    return files


def files_read_by(path: Path) -> set[Path]:
    """The model file at `path` and the external-data files it reads, when it is a readable model."""
    from onnxlint.loader import LoadError, load

    path = Path(path)
    if not path.is_file():
        return set()
    try:
        loaded = load(str(path))
    except LoadError:
        return {path.resolve()}
    return {path.resolve()} | external_files(loaded.model, path.parent)


# -- the pieces --------------------------------------------------------------------------------

def _reference(tensor: TensorProto, base_dir: Path | None) -> tuple[Path, int, int]:
    """(file, offset, length) of a tensor's external data."""
    return data_reference(tensor, None, base_dir)


def _copy_range(file: Path, offset: int, length: int, out) -> None:
    with open(file, "rb") as f:
        f.seek(offset)
        while length:
            chunk = f.read(min(length, _CHUNK))
            if not chunk:
                raise ValueError(f"{file.name}: ends before the tensor data it should hold")
            out.write(chunk)
            length -= len(chunk)


def _external_stub(tensor: TensorProto, data, data_name: str, reference) -> TensorProto:
    """Copy a referenced payload into the output's weights file; the TensorProto that refers to it there."""
    file, offset, length = reference
    start = _align(data, length)
    _copy_range(file, offset, length, data)
    return _stub(tensor, data_name, start, length)


def _align(data, length: int) -> int:
    offset = data.tell()
    align = _PAGE if length >= 64 * 1024 else 16
    if offset % align:
        data.write(b"\0" * (align - offset % align))
    return data.tell()


def _stub(tensor: TensorProto, data_name: str, offset: int, length: int) -> TensorProto:
    stub = _without(tensor, _PAYLOAD_FIELDS)
    stub.data_location = TensorProto.EXTERNAL
    for key, value in (("location", data_name), ("offset", str(offset)), ("length", str(length))):
        stub.external_data.add(key=key, value=value)
    return stub


def _free_data_name(target: Path, avoid: set[Path]) -> str:
    """`<target>.data`, or `<target>.N.data` when that file is still read by a model being kept."""
    taken = {Path(p).resolve() for p in avoid} | {target.resolve()}
    candidates = [f"{target.name}.data"] + [f"{target.name}.{n}.data" for n in range(1, 1000)]
    return next(name for name in candidates if (target.parent / name).resolve() not in taken)


def _write_payload(tensor: TensorProto, data, data_name: str) -> TensorProto | None:
    """Append the tensor's bytes to `data`; the TensorProto that refers to them, or None to keep it inside."""
    if tensor.data_type == TensorProto.STRING:
        return None
    if tensor.HasField("raw_data"):
        payload = tensor.raw_data
    elif tensor.ByteSize() < EXTERNAL_THRESHOLD:
        return None
    else:
        payload = numpy_helper.to_array(tensor).tobytes()  # typed fields: little-endian bytes, as raw_data
    if len(payload) < EXTERNAL_THRESHOLD:
        return None
    offset = _align(data, len(payload))
    data.write(payload)
    return _stub(tensor, data_name, offset, len(payload))


def _without(message, skip: tuple[str, ...]):
    """A new message with every field of `message` but those in `skip` (nothing is copied twice)."""
    copy = type(message)()
    for descriptor, value in message.ListFields():
        if descriptor.name in skip:
            continue
        if hasattr(value, "extend"):  # a repeated field (protobuf's descriptor API differs across versions)
            getattr(copy, descriptor.name).extend(value)
        elif hasattr(value, "CopyFrom"):
            getattr(copy, descriptor.name).CopyFrom(value)
        else:
            setattr(copy, descriptor.name, value)
    return copy


def embedded_size(model: ModelProto) -> int:
    """The serialized size of the model with every tensor inside, without serializing it."""
    return _without(model, ("graph",)).ByteSize() + _without(model.graph, ("initializer",)).ByteSize() + sum(
        _serialized_size(t) + 6 for t in model.graph.initializer)


def _serialized_size(tensor: TensorProto) -> int:
    """A tensor's serialized size with its data inside. upb's ByteSize() serializes a message to measure it
    (0.4 s for 300 MB): the size of raw or external data follows from the dims and type instead."""
    if tensor.data_location == TensorProto.EXTERNAL:
        nbytes = tensor_nbytes(tensor.data_type, math.prod(tensor.dims))
        return _without(tensor, _PAYLOAD_FIELDS).ByteSize() + 1 + len(_varint(nbytes or 0)) + (nbytes or 0)
    if not tensor.HasField("raw_data"):
        return tensor.ByteSize()
    nbytes = tensor_nbytes(tensor.data_type, math.prod(tensor.dims))
    if nbytes is None:
        return tensor.ByteSize()
    return _without(tensor, ("raw_data",)).ByteSize() + 1 + len(_varint(nbytes)) + nbytes


def _new_file(path: Path):
    # 0o666 less the umask, as any file the user writes; O_EXCL: the staging folder is ours alone
    return os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666), "wb")


def _sync(f) -> None:
    f.flush()
    os.fsync(f.fileno())


def _sync_folder(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _tag(number: int) -> bytes:
    return _varint(number << 3 | 2)  # length-delimited

