"""ONNX element types: their size in bytes and their name (float32, int8...)."""
from __future__ import annotations

from onnxlint.proto import TensorProto

# Bits per element of each ONNX tensor type (sub-byte types pack; strings have no fixed size).
_DTYPE_BITS = {1: 32, 2: 8, 3: 8, 4: 16, 5: 16, 6: 32, 7: 64, 9: 8, 10: 16, 11: 64, 12: 32, 13: 64, 14: 64,
               15: 128, 16: 16, 17: 8, 18: 8, 19: 8, 20: 8, 21: 4, 22: 4, 23: 4, 24: 8, 25: 2, 26: 2, 27: 6, 28: 6}


def tensor_nbytes(elem_type: int, count: int) -> int | None:
    """Bytes of `count` packed elements of an ONNX type, or None for strings/unknown types."""
    bits = _DTYPE_BITS.get(elem_type)
    return None if bits is None else (count * bits + 7) // 8


ELEM_TYPES = frozenset(TensorProto.DataType.values()) - {0}  # the element types that exist (UNDEFINED is none)

_DTYPE_NAMES = {value: {"FLOAT": "float32", "DOUBLE": "float64", "FLOAT16": "float16"}.get(name, name.lower())
                for name, value in TensorProto.DataType.items()}


def dtype_name(elem_type: int) -> str:
    return _DTYPE_NAMES.get(elem_type, "unknown")


def onnx_type_name(elem: int) -> str:
    """The type name onnx's schemas use (float16, bfloat16, int8...): TensorProto's, lower case."""
    return {TensorProto.FLOAT: "float", TensorProto.DOUBLE: "double"}.get(
        elem, TensorProto.DataType.Name(elem).lower() if elem in ELEM_TYPES else str(elem))
