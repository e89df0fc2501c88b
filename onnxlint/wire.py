"""Parse a large model without its weight payloads.

A model with 1.5 GB of weights embedded costs a protobuf parse of seconds and gigabytes, though
linting needs only the tensors' dims. This walks the protobuf wire format of a memory-mapped
file, copies every field except the data fields of tensors larger than `limit` bytes, and parses
what is left: dims, names, graphs and small constants survive; no weight payload is read into
memory. Only messages larger than `limit` are descended into, so the walk touches a handful of
fields, not every node.
"""
from __future__ import annotations

import mmap

from onnxlint.proto import (
    AttributeProto,
    FunctionProto,
    GraphProto,
    ModelProto,
    NodeProto,
    SparseTensorProto,
    TensorProto,
)


def _number(message, field: str) -> int:
    return message.DESCRIPTOR.fields_by_name[field].number


# message kind → {field number: kind of the sub-message}; field numbers read from onnx's own descriptors
_CHILDREN = {
    "model": {_number(ModelProto, "graph"): "graph", _number(ModelProto, "functions"): "function"},
    "graph": {_number(GraphProto, "node"): "node", _number(GraphProto, "initializer"): "tensor",
              _number(GraphProto, "sparse_initializer"): "sparse"},
    "function": {_number(FunctionProto, "node"): "node"},
    "node": {_number(NodeProto, "attribute"): "attribute"},
    "attribute": {_number(AttributeProto, "t"): "tensor", _number(AttributeProto, "tensors"): "tensor",
                  _number(AttributeProto, "g"): "graph", _number(AttributeProto, "graphs"): "graph",
                  _number(AttributeProto, "sparse_tensor"): "sparse",
                  _number(AttributeProto, "sparse_tensors"): "sparse"},
    "sparse": {_number(SparseTensorProto, "values"): "tensor",
               _number(SparseTensorProto, "indices"): "tensor"},
    "tensor": {},
}
_PAYLOAD = {_number(TensorProto, f) for f in ("raw_data", "float_data", "int32_data", "int64_data",
                                                    "double_data", "uint64_data")}
_LENGTH_DELIMITED = 2
# payload fields whose bytes are exactly the tensor's raw little-endian data (packed fixed-width)
_RAW = {_number(TensorProto, f) for f in ("raw_data", "float_data", "double_data")}
PAYLOAD_KEY = "onnxlint:payload"  # an external_data entry "offset,length" on a tensor whose data was left unread


def _payload_entry(offset: int, length: int) -> bytes:
    """A TensorProto.external_data field holding (PAYLOAD_KEY, "offset,length"): the dropped data's place in
    the file, so that --verify can hand the file itself to onnxruntime instead of a copy of the weights."""
    key, value = PAYLOAD_KEY.encode(), f"{offset},{length}".encode()
    entry = b"\x0a" + encode_varint(len(key)) + key + b"\x12" + encode_varint(len(value)) + value
    return bytes([(_number(TensorProto, "external_data") << 3) | _LENGTH_DELIMITED]) + \
        encode_varint(len(entry)) + entry


def _varint(buf, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(buf):
            raise ValueError("truncated")
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return result, pos
        shift += 7
        if shift > 63:
            raise ValueError("varint too long")


def encode_varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _strip(buf, start: int, end: int, kind: str, limit: int, depth: int = 0) -> list:
    """The message buf[start:end] with the big tensor payloads left out, as pieces: (begin, end) ranges of
    buf to keep, and bytes (the new length of a message that lost payloads). Consecutive kept fields are one
    range, so the pieces grow with the rewritten messages, not with the fields; the walk visits each byte of
    a level once, so work is bounded by the file's size."""
    if depth > 100:
        raise ValueError("nesting too deep")
    pieces, pos, keep, children = [], start, start, _CHILDREN[kind]
    while pos < end:
        field_start = pos
        key, pos = _varint(buf, pos)
        number, wire = key >> 3, key & 7
        if number == 0:
            raise ValueError("field number 0")  # never valid: a file of zeros fails here, at once
        if wire == 0:
            _, pos = _varint(buf, pos)
        elif wire == 1:
            pos += 8
        elif wire == 5:
            pos += 4
        elif wire == _LENGTH_DELIMITED:
            length_start = pos
            length, value_start = _varint(buf, pos)
            pos = value_start + length
            if pos > end:
                raise ValueError("truncated")
            if kind == "tensor" and number in _PAYLOAD and length > limit:
                pieces.append((keep, field_start))  # the weight payload: dropped
                if number in _RAW:  # its bytes are the tensor's little-endian data: say where they sit
                    pieces.append(_payload_entry(value_start, length))
                keep = pos
                continue
            child = children.get(number)
            if child is not None and length > limit:
                inner = _strip(buf, value_start, pos, child, limit, depth + 1)
                size = sum(len(p) if isinstance(p, bytes) else p[1] - p[0] for p in inner)
                pieces += [(keep, length_start), encode_varint(size), *inner]
                keep = pos
                continue
        else:
            raise ValueError(f"unsupported wire type {wire}")
    if pos != end:
        raise ValueError("truncated")
    pieces.append((keep, end))
    return pieces


def payload_bytes(file, limit: int = 4096) -> int:
    """About how many bytes parse_without_payloads would leave unread from `file`: the length of every node,
    initializer and sparse initializer of the main graph larger than `limit` (the fields that hold weights).
    Reads field headers only, on two levels: instant on a file of weights, linear on a file of many small
    nodes (for which a plain parse is the faster one). ValueError on a malformed file."""
    with mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
        total = 0
        for number, start, end in _fields(mapped, 0, len(mapped)):
            if number == _GRAPH:
                total += sum(end - start for number, start, end in _fields(mapped, start, end)
                             if number in _WEIGHTY and end - start > limit)
        return total


_GRAPH = _number(ModelProto, "graph")
_WEIGHTY = {_number(GraphProto, f) for f in ("node", "initializer", "sparse_initializer")}


def _fields(buf, start: int, end: int):
    """(field number, value start, value end) of each length-delimited field of the message buf[start:end]."""
    pos = start
    while pos < end:
        key = buf[pos]
        key, pos = (key, pos + 1) if key < 0x80 else _varint(buf, pos)
        if key >> 3 == 0:
            raise ValueError("field number 0")  # never valid: a file of zeros fails here, at once
        wire = key & 7
        if wire == _LENGTH_DELIMITED:
            length = buf[pos]
            length, pos = (length, pos + 1) if length < 0x80 else _varint(buf, pos)
            if pos + length > end:
                raise ValueError("truncated")
            yield key >> 3, pos, pos + length
            pos += length
        elif wire == 0:
            _, pos = _varint(buf, pos)
        elif wire in (1, 5):
            pos += 8 if wire == 1 else 4
        else:
            raise ValueError(f"unsupported wire type {wire}")


def _stripped_bytes(mapped: mmap.mmap, limit: int) -> bytes:
    pieces = _strip(mapped, 0, len(mapped), "model", limit)  # offsets only: no view outlives the map
    return b"".join(p if isinstance(p, bytes) else mapped[p[0]:p[1]] for p in pieces if not
                    (isinstance(p, tuple) and p[0] == p[1]))


def parse_without_payloads(file, limit: int = 4096) -> ModelProto:
    """The model in `file` (an open binary file) with every tensor payload larger than `limit` bytes left
    unread: the file is memory-mapped and only the kept fields are copied."""
    with mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
        data = _stripped_bytes(mapped, limit)  # every view into the map is gone before it closes
    model = ModelProto()
    model.ParseFromString(data)
    return model
