"""onnx's own per-op shape inference, node by node, fed with the types and the constant values onnxlint
already holds: the exact shape of every op of the default domain that has no own handler."""
from __future__ import annotations

from onnxlint.dtypes import ELEM_TYPES
from onnxlint.graph import Node, tensor_type
from onnxlint.proto import TypeProto, ValueInfoProto, full
from onnxlint.shapes.facts import Shapes

_schemas: dict = {}


def _schema(domain: str, op_type: str, version: int):
    key = (domain, op_type, version)
    if key not in _schemas:
        try:
            _schemas[key] = full().defs.get_schema(op_type, version, domain)
        except Exception:  # not an op onnx knows (a custom domain, or a misspelt op)
            _schemas[key] = None
    return _schemas[key]


def has_schema(node: Node, opsets: dict[str, int]) -> bool:
    domain = "" if node.domain == "ai.onnx" else node.domain
    return _schema(domain, node.op_type, opsets.get(domain, 1)) is not None


def _type_proto(shapes: Shapes, name: str) -> TypeProto | None:
    dtype = shapes.dtype.get(name)
    if not dtype or dtype not in ELEM_TYPES:  # an element type that does not exist is the schema check's
        return None
    proto = TypeProto()
    proto.tensor_type.elem_type = dtype
    dims = shapes.dims.get(name)
    if dims is not None:
        shape = proto.tensor_type.shape
        shape.SetInParent()
        for d in dims:
            dim = shape.dim.add()
            if d is not None and 0 <= d < 2**63:  # past int64: left unknown (the size check says so)
                dim.dim_value = d
    return proto


def infer(node: Node, shapes: Shapes, opsets: dict[str, int], ir_version: int, outer: list[str] = ()):
    """[(dims, dtype)] per output, or a str when onnx finds the inputs contradict each other, or None."""
    domain = "" if node.domain == "ai.onnx" else node.domain
    schema = _schema(domain, node.op_type, opsets.get(domain, 1))
    if schema is None:
        return None
    types, data = {}, {}
    for name in [*node.inputs, *outer]:
        if not name or name in types:
            continue
        proto = _type_proto(shapes, name)
        if proto is None:
            if name in node.inputs:
                return None  # onnx cannot infer without every input's type
            continue
        types[name] = proto
        value = shapes.value(name) if name in node.inputs else None
        if value is not None:
            from onnx import numpy_helper

            data[name] = numpy_helper.from_array(value, name)
    onnx = full()
    imports = [onnx.helper.make_opsetid(d, v) for d, v in opsets.items()]
    try:
        inferred = onnx.shape_inference.infer_node_outputs(schema, shapes.graph.proto(node), types, data,
                                                           opset_imports=imports, ir_version=ir_version)
    except Exception as exc:  # onnx's InferenceError: with every input known, a real contradiction
        if all(shapes.dims.get(n) is not None and None not in shapes.dims[n] for n in node.inputs if n):
            return " ".join(str(exc).split())[:300]
        return None
    results = []
    for out in node.outputs:
        vi = ValueInfoProto()
        if out in inferred:
            vi.type.CopyFrom(inferred[out])
        t = tensor_type(vi) if out in inferred else None
        results.append((None, 0) if t is None else  # a negative dim (a window larger than its input): not known
                       (None if t.dims is None else tuple(d if isinstance(d, int) and d >= 0 else None
                                                          for d in t.dims), t.elem_type))
    return results
