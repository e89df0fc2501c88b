"""The one way onnxlint reads a weight's values: one stored tensor at a time, on request, from wherever the file
keeps it — embedded in the protobuf already in memory, left unread in a large file by the loader (wire.py: its
offset and length are on the tensor), or in an external-data file (its reference checked by the loader) — by
reading only that tensor's bytes. Nothing is cached: a rule that walks every weight holds one at a time.

Bounded as the loader is: a reference the loader found unsafe (OL003) is never followed, a length that is not
what the tensor's dims and type give is refused, and nothing is ever written. numpy (and onnx, for the element
types numpy lacks) is imported only when a weight is read: the plain lint path never reads one.
"""
from __future__ import annotations

import math
import os
from pathlib import Path

from onnxlint.dtypes import tensor_nbytes
from onnxlint.external import unsafe_external_references
from onnxlint.proto import TensorProto

# element types numpy reads straight from little-endian bytes
_NUMPY = {TensorProto.FLOAT: "<f4", TensorProto.DOUBLE: "<f8", TensorProto.FLOAT16: "<f2", TensorProto.INT8: "i1",
          TensorProto.UINT8: "u1", TensorProto.INT16: "<i2", TensorProto.UINT16: "<u2", TensorProto.INT32: "<i4",
          TensorProto.UINT32: "<u4", TensorProto.INT64: "<i8", TensorProto.UINT64: "<u8", TensorProto.BOOL: "?"}


class WeightError(ValueError):
    """A weight whose stored bytes cannot be what its dims and type say (truncated, or the wrong length)."""


def data_reference(tensor: TensorProto, source: str | None, base_dir: Path | None) -> tuple[Path, int, int] | None:
    """(file, offset, length) of a tensor whose bytes are outside the parsed protobuf: left unread in the model
    file itself (`source`), or in an external-data file under `base_dir`; None for an embedded tensor."""
    from onnxlint.wire import PAYLOAD_KEY

    info = {e.key: e.value for e in tensor.external_data}
    if PAYLOAD_KEY in info and source is not None:
        offset, length = (int(v) for v in info[PAYLOAD_KEY].split(","))
        return Path(source), offset, length
    if tensor.data_location != TensorProto.EXTERNAL:
        return None
    if base_dir is None or not info.get("location"):
        raise WeightError(f"tensor '{tensor.name}' keeps its data in an external file that cannot be found")
    file = Path(base_dir) / info["location"]
    offset = int(info.get("offset", 0))
    length = int(info["length"]) if "length" in info else os.path.getsize(file) - offset
    return file, offset, length


def read_bytes(file: Path, offset: int, length: int, name: str) -> bytes:
    """Exactly `length` bytes of `file` from `offset` (one positioned read, no more)."""
    with open(file, "rb") as f:
        data = os.pread(f.fileno(), length, offset)
    if len(data) != length:
        raise WeightError(f"tensor '{name}': its data ends early in {file.name}")
    return data


def values(tensor: TensorProto, source: str | None = None, base_dir: Path | None = None):
    """The tensor's values as a numpy array of its dims; None when the file holds none (dims only, a stripped
    export) or its external reference is unsafe. `source`: the model file (for payloads the loader left in
    it); `base_dir`: where its external data lives."""

    reference = data_reference(tensor, source, base_dir)
    if reference is not None:
        if tensor.data_location == TensorProto.EXTERNAL and list(unsafe_external_references([tensor], base_dir)):
            return None  # OL003 says why; nothing outside the model's folder is read
        file, offset, length = reference
        expected = tensor_nbytes(tensor.data_type, math.prod(tensor.dims))
        if expected is not None and length != expected:
            raise WeightError(f"tensor '{tensor.name}' has {length:,} bytes, not the {expected:,} its dims and type "
                              "give")
        return _from_bytes(tensor, read_bytes(file, offset, length, tensor.name))
    if _stripped(tensor):
        return None
    if tensor.raw_data and tensor.data_type in _NUMPY:
        return _from_bytes(tensor, tensor.raw_data)
    from onnx import numpy_helper  # the typed fields, and the element types numpy has no name for

    return numpy_helper.to_array(tensor)


def _from_bytes(tensor: TensorProto, data: bytes):
    import numpy as np

    dims = tuple(tensor.dims)
    if tensor.data_type in _NUMPY:
        array = np.frombuffer(data, dtype=_NUMPY[tensor.data_type])
        if array.size != math.prod(dims):
            raise WeightError(f"tensor '{tensor.name}' holds {array.size:,} elements, not the "
                              f"{math.prod(dims):,} of its dims")
        return array.reshape(dims)
    from onnx import numpy_helper

    stub = TensorProto(name=tensor.name, data_type=tensor.data_type, dims=dims, raw_data=data)
    return numpy_helper.to_array(stub)


def _stripped(tensor: TensorProto) -> bool:
    return math.prod(tensor.dims) > 0 and not (
        tensor.raw_data or tensor.float_data or tensor.double_data or tensor.int32_data or tensor.int64_data
        or tensor.uint64_data or tensor.string_data)


class WeightReader:
    """`read(name)`: the values of one stored tensor of the model — an initializer or a Constant node's value —
    read on request (Context.weight). Counts what it read, for the tests and the benchmark."""

    def __init__(self, loaded, graph) -> None:
        self.loaded, self.graph = loaded, graph
        self.tensors_read = 0
        self.bytes_from_files = 0  # bytes read from the model file or external-data files

    def stored(self, name: str) -> TensorProto | None:
        if name in self.graph.initializers:
            return self.graph.tensor(name)
        producer = self.graph.producer.get(name)
        if producer is None or producer.op_type != "Constant" or "value" not in producer.attrs:
            return None
        value = self.graph.attribute(producer.attrs["value"])
        return value if isinstance(value, TensorProto) else None

    def read(self, name: str):
        """A numpy array, or None when `name` is not a stored tensor or the file holds no readable data for it
        (dims only; external data of an in-memory model, whose folder is unknown; a file that changed since it
        was checked): a rule then has no fact, and says nothing."""
        tensor = self.stored(name)
        if tensor is None:
            return None
        source = self.loaded.source if self.loaded.payloads_skipped else None
        try:
            reference = data_reference(tensor, source, self.loaded.base_dir)
            found = values(tensor, source, self.loaded.base_dir)
        except (WeightError, OSError):
            return None
        if found is not None:
            self.tensors_read += 1
            self.bytes_from_files += reference[2] if reference is not None else 0
        return found
