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

import onnx


def _number(message, field: str) -> int:
    return message.DESCRIPTOR.fields_by_name[field].number


# message kind → {field number: kind of the sub-message}; field numbers read from onnx's own descriptors
_CHILDREN = {
    "model": {_number(onnx.ModelProto, "graph"): "graph", _number(onnx.ModelProto, "functions"): "function"},
    "graph": {_number(onnx.GraphProto, "node"): "node", _number(onnx.GraphProto, "initializer"): "tensor",
              _number(onnx.GraphProto, "sparse_initializer"): "sparse"},
    "function": {_number(onnx.FunctionProto, "node"): "node"},
    "node": {_number(onnx.NodeProto, "attribute"): "attribute"},
    "attribute": {_number(onnx.AttributeProto, "t"): "tensor", _number(onnx.AttributeProto, "tensors"): "tensor",
                  _number(onnx.AttributeProto, "g"): "graph", _number(onnx.AttributeProto, "graphs"): "graph",
                  _number(onnx.AttributeProto, "sparse_tensor"): "sparse",
                  _number(onnx.AttributeProto, "sparse_tensors"): "sparse"},
    "sparse": {_number(onnx.SparseTensorProto, "values"): "tensor",
               _number(onnx.SparseTensorProto, "indices"): "tensor"},
    "tensor": {},
}
_PAYLOAD = {_number(onnx.TensorProto, f) for f in ("raw_data", "float_data", "int32_data", "int64_data",
                                                    "double_data", "uint64_data")}
_LENGTH_DELIMITED = 2


def _varint(buf, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return result, pos
        shift += 7
        if shift > 63:
            raise ValueError("varint too long")


def _encode_varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _strip(buf, start: int, end: int, kind: str, limit: int, depth: int = 0) -> list:
    """Chunks of the message buf[start:end] with the big tensor payloads left out."""
    if depth > 100:
        raise ValueError("nesting too deep")
    chunks, pos, children = [], start, _CHILDREN[kind]
    while pos < end:
        field_start = pos
        key, pos = _varint(buf, pos)
        number, wire = key >> 3, key & 7
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
                continue  # the weight payload: dropped
            child = children.get(number)
            if child is not None and length > limit:
                inner = _strip(buf, value_start, pos, child, limit, depth + 1)
                size = sum(len(c) for c in inner)
                chunks += [buf[field_start:length_start], _encode_varint(size), *inner]
                continue
        else:
            raise ValueError(f"unsupported wire type {wire}")
        chunks.append(buf[field_start:pos])
    if pos != end:
        raise ValueError("truncated")
    return chunks


def _stripped_bytes(mapped: mmap.mmap, limit: int) -> bytes:
    with memoryview(mapped) as view:
        chunks = _strip(view, 0, len(view), "model", limit)
        data = b"".join(chunks)
        for chunk in chunks:
            if isinstance(chunk, memoryview):
                chunk.release()
    return data


def parse_without_payloads(file, limit: int = 4096) -> onnx.ModelProto:
    """The model in `file` (an open binary file) with every tensor payload larger than `limit` bytes left
    unread: the file is memory-mapped and only the kept fields are copied."""
    with mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
        data = _stripped_bytes(mapped, limit)  # every view into the map is gone before it closes
    model = onnx.ModelProto()
    model.ParseFromString(data)
    return model
