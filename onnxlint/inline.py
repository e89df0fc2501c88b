"""Model-local functions inlined into the graph: each call replaced by the function's body, its formal inputs
and outputs renamed to the call's tensors, its own tensors prefixed with the call's name, its attribute
references bound to the call's values."""
from __future__ import annotations

from onnxlint.loader import LoadError
from onnxlint.proto import AttributeProto, FunctionProto, NodeProto, display_name

_MAX_INLINE_DEPTH = 16


def inline(protos: list[NodeProto], functions: dict, inlined: set[str], source: str, depth: int = 0,
            label: str | None = None, file_index: int | None = None, caller=None) -> tuple[list, list]:
    """The nodes with every call of a model-local function replaced by the function's body, and for each node
    (function label, file index): the label names the functions it sits in, outermost first
    ("local.Stage/local.ConvRelu"); the node's name starts with the calls' names."""
    if not functions:
        return protos, [(None, i, None) for i in range(len(protos))]
    out, calls = [], []
    for i, proto in enumerate(protos):
        index = i if file_index is None else file_index
        function = functions.get((proto.domain, proto.op_type))
        if function is None:
            out.append(proto)
            calls.append((label, index, caller))
            continue
        if depth >= _MAX_INLINE_DEPTH:
            raise LoadError(source, f"model-local function '{display_name(proto.op_type)}' calls itself "
                                    f"(more than {_MAX_INLINE_DEPTH} levels deep)")
        name = display_name(proto.name) or f"{proto.op_type}_{i}"
        here = f"{display_name(function.domain)}.{display_name(function.name)}"
        body, body_calls = inline(_function_body(proto, function, name, inlined), functions, inlined, source,
                                   depth + 1, here if label is None else f"{label}/{here}", index,
                                   caller if caller is not None else proto)
        out.extend(body)
        calls.extend(body_calls)
    return out, calls


def _function_body(call: NodeProto, function: FunctionProto, prefix: str, inlined: set[str]) -> list:
    """The function's nodes for this call: formal inputs/outputs renamed to the call's tensors, the function's
    own tensors prefixed with the call's name, attribute references replaced by the call's values."""
    # names as the graph holds them: protobuf hands a name that is not valid UTF-8 over as bytes, which it then
    # refuses to store (display_name makes it a printable str, as everywhere else)
    rename = {display_name(formal): display_name(call.input[i]) if i < len(call.input) else ""
              for i, formal in enumerate(function.input)}
    rename.update({display_name(formal): display_name(call.output[i]) if i < len(call.output) else ""
                   for i, formal in enumerate(function.output)})
    given = {a.name: a for a in function.attribute_proto}  # defaults
    given.update({a.name: a for a in call.attribute})
    body = []
    for inner in function.node:
        node = NodeProto()
        node.CopyFrom(inner)
        node.name = f"{prefix}/{display_name(inner.name or inner.op_type)}"
        for field_ in (node.input, node.output):
            for j, tensor in enumerate(field_):
                tensor = display_name(tensor)
                if tensor and tensor not in rename:
                    rename[tensor] = f"{prefix}/{tensor}"
                    inlined.add(rename[tensor])
                field_[j] = rename.get(tensor, "")
        attributes = []
        for attr in node.attribute:
            if attr.ref_attr_name:
                if attr.ref_attr_name not in given:
                    continue  # an optional attribute the call leaves out
                value = AttributeProto()
                value.CopyFrom(given[attr.ref_attr_name])
                value.name = attr.name
                attr = value
            attributes.append(attr)
        del node.attribute[:]
        node.attribute.extend(attributes)
        body.append(node)
    return body
