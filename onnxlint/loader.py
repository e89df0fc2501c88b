"""Safe loading: every model file is treated as hostile.

The loader never follows a FIFO or device, never reads more than the size cap, never opens
external-data files (it only stats them) and never writes anything.
"""
from __future__ import annotations

import math
import mmap
import os
import stat
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from google.protobuf.message import DecodeError

from onnxlint import walk
from onnxlint.dtypes import tensor_nbytes
from onnxlint.external import unsafe_external_references
from onnxlint.proto import IR_VERSION, ModelProto, TensorProto, display_name, full

DEFAULT_MAX_SIZE = 2 * 1024**3
SKIP_PAYLOADS_ABOVE = 64 * 1024**2  # weights this large are parsed without their payloads (wire.py)
_LFS_MAGIC = b"version https://git-lfs"


class LoadError(Exception):
    """A model that cannot be analysed at all; the message is one line for the user."""

    def __init__(self, source: str, problem: str, *, lfs_pointer: bool = False) -> None:
        from onnxlint.escape import terminal

        # printable once, here: a library caller logs the message as it is (a name may hold control characters)
        problem = terminal(problem)
        super().__init__(f"{terminal(source)}: {problem}")
        self.source = source
        self.problem = problem
        self.lfs_pointer = lfs_pointer  # not a broken model: the real one was never fetched


@dataclass
class LoadedModel:
    model: ModelProto
    source: str  # a path, or "<bytes>" / "<model>" for in-memory input
    base_dir: Path | None  # where external data lives; None when unknown
    unsafe_external: list[str] = field(default_factory=list)  # one sentence per bad reference
    notes: list[str] = field(default_factory=list)
    payloads_skipped: bool = False  # embedded weights were left unread (a large file)
    external_data: bool = False  # some tensor keeps its data in an external file

    def copy_with_weights(self) -> ModelProto:
        """A private copy of the model with its weights (embedded and external), for the modes that
        execute or rewrite it (--verify, fix). The caller may modify it."""
        if self.payloads_skipped:  # parsed straight from the mapped file: no second copy of the weights
            size = os.path.getsize(self.source)
            with _open_regular_file(self.source, size) as f, \
                    mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as mapped, memoryview(mapped) as view:
                model = ModelProto()
                try:
                    model.ParseFromString(view)
                except Exception as exc:
                    raise LoadError(self.source, f"not a valid ONNX protobuf ({type(exc).__name__})") from None
        else:
            model = ModelProto()
            model.CopyFrom(self.model)
        if self.base_dir is not None:  # references already validated (OL003)
            with warnings.catch_warnings():  # onnx's own warnings (unknown keys) are not the user's to read
                warnings.simplefilter("ignore")
                full().external_data_helper.load_external_data_for_model(model, str(self.base_dir))
        return model

    def copy_with_references(self, location: str | None = None) -> ModelProto | None:
        """A private copy without the weights the large-file parse left in the file: each such initializer is
        an external-data reference into the file itself (`location`: the file's name as the reader finds
        it, by default its own name in `base_dir`), like the external data the model may already have. None
        when some payload cannot be referenced (packed varints, a tensor outside the main graph's
        initializers): then only `copy_with_weights` will do."""
        from onnxlint.wire import PAYLOAD_KEY

        model = ModelProto()
        model.CopyFrom(self.model)
        if not self.payloads_skipped:
            return model
        location = location or os.path.basename(self.source)
        held = model.graph.initializer[:]  # kept alive: a wrapper's id names its tensor only while it lives
        initializers = {id(t) for t in held}
        for tensor in walk.tensors(model):
            entry = next((e.value for e in tensor.external_data if e.key == PAYLOAD_KEY), None)
            if entry is None:
                if stripped(tensor):
                    return None
                continue
            if id(tensor) not in initializers:
                return None
            offset, length = entry.split(",")
            tensor.ClearField("external_data")
            tensor.data_location = TensorProto.EXTERNAL
            for key, value in (("location", location), ("offset", offset), ("length", length)):
                tensor.external_data.add(key=key, value=value)
        return model


def stripped(tensor) -> bool:
    """A tensor whose elements are not in the file: no payload field and not external (dims only)."""
    return math.prod(tensor.dims) > 0 and tensor.data_location != TensorProto.EXTERNAL and not (
        tensor.raw_data or tensor.float_data or tensor.double_data or tensor.int32_data or tensor.int64_data
        or tensor.uint64_data or tensor.string_data)


def weights_missing(model: ModelProto) -> str | None:
    """Why the model cannot run as stored: its weights carry no data (dims only, as in a stripped export), in
    one clause; None when every initializer has its data (embedded, external, or left in a large file)."""
    from onnxlint.wire import PAYLOAD_KEY

    empty = [t.name for t in model.graph.initializer
             if stripped(t) and not any(e.key == PAYLOAD_KEY for e in t.external_data)]
    if not empty:
        return None
    return (f"the weights carry no data ({len(empty):,} initializer{'s' if len(empty) > 1 else ''} with dims only, "
            f"e.g. '{display_name(empty[0])}')")


def load(source: str | os.PathLike | bytes | ModelProto, *, base_dir: str | os.PathLike | None = None,
         max_size: int = DEFAULT_MAX_SIZE, name: str | None = None) -> LoadedModel:
    """Parse a model from a path, serialized bytes or a ModelProto, and validate its structure. `name`: what
    to call an in-memory model in messages (`-` for standard input)."""
    skipped = False
    if isinstance(source, ModelProto):
        name, model = name or "<model>", source
    elif isinstance(source, (bytes, bytearray, memoryview)):
        name = name or "<bytes>"
        model = _parse(name, bytes(source), max_size)
    else:
        name = os.fspath(source)
        with _open_regular_file(name, max_size) as f:
            size = os.fstat(f.fileno()).st_size  # reads are bounded by the file's own size, not only the cap
            skipped = size > SKIP_PAYLOADS_ABOVE and _weights_dominate(f)
            model = _parse_without_payloads(name, f) if skipped else _parse(name, f.read(size + 1), max_size)
        if base_dir is None:  # the folder the user named, not a symlink's target: data is read from there only
            base_dir = Path(os.path.abspath(name)).parent
    external = _check_structure(name, model, skipped)  # the main graph's external initializers
    loaded = LoadedModel(model, name, Path(base_dir) if base_dir is not None else None, payloads_skipped=skipped)
    external += [t for t in walk.tensors(model, initializers=False) if t.data_location == TensorProto.EXTERNAL]
    loaded.external_data = bool(external)
    loaded.unsafe_external = list(unsafe_external_references(external, loaded.base_dir))
    if loaded.base_dir is None and external:
        loaded.notes.append("external-data files were not checked (an in-memory model: pass base_dir= to check them)")
    return loaded


def _open_regular_file(path: str, max_size: int):
    """The file opened for reading, after checking (on the open descriptor) that it is a regular file
    of an acceptable size."""
    try:
        # O_NONBLOCK: opening a FIFO must not wait for a writer; fstat then rejects it.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except FileNotFoundError:
        raise LoadError(path, "no such file") from None
    except IsADirectoryError:
        raise LoadError(path, "is a directory, not a model file") from None
    except OSError as exc:
        raise LoadError(path, f"cannot open: {exc.strerror}") from None
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        if stat.S_ISDIR(info.st_mode):
            raise LoadError(path, "is a directory, not a model file")
        raise LoadError(path, "is not a regular file (FIFO, socket or device); refusing to read it")
    f = os.fdopen(fd, "rb")
    try:
        _check_size(path, info.st_size, max_size)  # before reading a byte
    except LoadError:
        f.close()
        raise
    return f


def _check_size(name: str, size: int, max_size: int) -> None:
    if size == 0:
        raise LoadError(name, "empty file")
    if size > max_size:
        raise LoadError(name, f"model is {size:,} bytes, over the size cap of {max_size:,} (see --max-size)")


def _refuse(name: str, head: bytes, problem: str) -> None:
    """Raise the error for a file that is not an ONNX model: what it looks like when that is clear. Only
    called after the parse failed: a real export may begin with long runs of printable metadata."""
    if head.startswith(_LFS_MAGIC):
        raise LoadError(name, "is a Git LFS pointer, not the model: run `git lfs pull` (skipped)", lfs_pointer=True)
    if _looks_like_text(head):
        raise LoadError(name, "is a text file, not a binary ONNX model")
    raise LoadError(name, problem)


def _depth_problem(exc: Exception) -> str:
    if "depth" in str(exc).lower() or "deep" in str(exc):
        return "nesting too deep: the protobuf exceeds the parser's depth limit"
    return "not a valid ONNX protobuf (truncated or corrupt)"


def _weights_dominate(f) -> bool:
    """Whether a large file's size is weights (parsed without their payloads) rather than nodes (for which a
    plain parse is faster): decided by the bytes the weights take, not by the file's size."""
    from onnxlint.wire import payload_bytes

    try:
        return payload_bytes(f) > SKIP_PAYLOADS_ABOVE
    except (ValueError, IndexError):
        return True  # malformed: the payload-skipping parse says what is wrong, without reading it all
    finally:
        f.seek(0)


def _parse_without_payloads(name: str, f) -> ModelProto:
    from onnxlint.wire import parse_without_payloads

    head = f.read(4096)
    f.seek(0)
    try:
        model = parse_without_payloads(f)
    except (ValueError, IndexError, DecodeError) as exc:
        _refuse(name, head, _depth_problem(exc))
    if not model.HasField("graph"):
        _refuse(name, head, "model has no graph (not an ONNX model, or an empty one)")
    return model


def _parse(name: str, data: bytes, max_size: int) -> ModelProto:
    _check_size(name, len(data), max_size)
    model = ModelProto()
    try:
        model.ParseFromString(data)
    except DecodeError as exc:
        _refuse(name, data[:4096], _depth_problem(exc))
    except Exception as exc:  # protobuf raises a few other types on hostile input
        _refuse(name, data[:4096], f"not a valid ONNX protobuf ({type(exc).__name__})")
    if not model.HasField("graph"):
        _refuse(name, data[:4096], "model has no graph (not an ONNX model, or an empty one)")
    return model


def _looks_like_text(data: bytes) -> bool:
    head = data[:4096]
    if b"\0" in head:
        return False
    text = head.decode("utf-8", "replace")  # a multi-byte character may be cut at the end
    return sum(c != "\ufffd" and (c.isprintable() or c in "\n\r\t") for c in text) >= 0.95 * len(text)


# the default domain's opset of the oldest onnx this package accepts (pyproject: onnx>=1.22): a model at or
# below it needs no look at onnx's schemas, so the plain lint path does not import the onnx package
_OLDEST_ONNX_OPSET = 27


def _max_opset(version: int) -> int:
    return version if version <= _OLDEST_ONNX_OPSET else full().defs.onnx_opset_version()


_MAX_DECLARED_BYTES = 2**48  # 256 TiB: no real tensor is larger; a declaration beyond it is corrupt or hostile


def _check_structure(name: str, model: ModelProto, payloads_skipped: bool = False) -> list[TensorProto]:
    """Raise LoadError on a structure no analysis can stand on; return the main graph's initializers that keep
    their data in an external file (read here with the rest of each initializer)."""
    if not model.HasField("graph"):
        raise LoadError(name, "model has no graph (not an ONNX model, or an empty one)")
    if model.ir_version <= 0:
        raise LoadError(name, f"IR version {model.ir_version} is not valid: the file does not say which ONNX it is")
    if model.ir_version > IR_VERSION:
        raise LoadError(name, f"IR version {model.ir_version} is from the future: this onnx knows up to "
                              f"{IR_VERSION}; upgrade onnx")
    if not model.opset_import and model.ir_version >= 3:  # a model of ai.onnx.ml or training ops alone is valid
        raise LoadError(name, "the model imports no opset (every model from IR version 3 on must)")
    for opset in model.opset_import:
        if opset.version <= 0:
            raise LoadError(name, f"opset {opset.version} of domain '{display_name(opset.domain) or 'ai.onnx'}' "
                                  "is not valid")
        if opset.domain in ("", "ai.onnx") and opset.version > _max_opset(opset.version):
            raise LoadError(name, f"opset {opset.version} is from the future: this onnx knows up to opset "
                                  f"{_max_opset(opset.version)}; "
                                  "upgrade onnx")
    for value in model.graph.input:
        dims = value.type.tensor_type.shape.dim if value.type.HasField("tensor_type") else ()
        count = 1
        for d in dims:
            count *= max(d.dim_value, 1)
        if count * 16 > _MAX_DECLARED_BYTES:
            shown = ",".join(str(d.dim_value) if d.HasField("dim_value") else (d.dim_param or "?") for d in dims)
            raise LoadError(name, f"input '{display_name(value.name)}' declares [{shown}]: {count:.3g} elements, "
                                  "more than any tensor can hold")
    seen: set[str] = set()
    external = []
    for tensor in model.graph.initializer[:]:
        tensor_name = tensor.name
        if tensor_name in seen:
            raise LoadError(name, f"two initializers are named '{display_name(tensor_name)}'")
        seen.add(tensor_name)
        elsewhere = tensor.data_location == TensorProto.EXTERNAL
        if elsewhere:
            external.append(tensor)
        problem = _data_problem(tensor, check_payload=not payloads_skipped and not elsewhere)
        if problem:
            raise LoadError(name, f"initializer '{display_name(tensor_name)}' {problem}")
    return external


# the typed fields that hold one element each, by data type (others use raw_data, checked by size)
_TYPED = {TensorProto.FLOAT: "float_data", TensorProto.DOUBLE: "double_data",
          TensorProto.INT64: "int64_data", TensorProto.INT32: "int32_data",
          TensorProto.UINT64: "uint64_data"}


def _data_problem(tensor: TensorProto, *, check_payload: bool) -> str | None:
    """Why an embedded tensor's data cannot be its declared dims, or None. A tensor with dims and no data at
    all is fine (a shape-only export: linting needs the dims alone)."""
    dims = tensor.dims[:]
    if dims and min(dims) < 0:
        return f"has a negative dim {min(dims)}"
    count = math.prod(dims)
    size = tensor_nbytes(tensor.data_type, count)
    if size is not None and size > _MAX_DECLARED_BYTES:
        return f"declares {count:,} elements ({size:,} bytes), more than any tensor can hold"
    if not check_payload or size is None or tensor.data_location == TensorProto.EXTERNAL:
        return None
    held = len(tensor.raw_data)  # read once: each read of the field is a copy of the bytes
    if held:
        return None if held == size else f"holds {held:,} bytes of data for {count:,} elements ({size:,} bytes)"
    field_ = _TYPED.get(tensor.data_type)
    held = len(getattr(tensor, field_)) if field_ else 0
    if field_ and held and held != count:
        return f"holds {held:,} values for {count:,} elements"
    return None


