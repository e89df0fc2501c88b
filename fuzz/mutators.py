"""Structure-aware mutations of ONNX models, for onnxlint's fuzzer (fuzz/campaign.py, tests/test_fuzzer.py).

A mutation is data: `(kind, a, b)` with two small integers that pick its target and value, so a mutant is a seed
and a list of mutations — reproducible, printable, and minimized by dropping mutations. `apply(seed_bytes, muts)`
returns the mutant's bytes; a mutation that finds nothing to act on does nothing.
"""
from __future__ import annotations

import random

import onnx
from onnx import AttributeProto, TensorProto, helper

# values that break arithmetic and assumptions: zero, negative, past int32, past int64 arithmetic
EDGE_INTS = [0, -1, -7, 1, 2, 3, 2**31, 2**62, 2**63 - 1, -(2**63)]
ELEM_TYPES = [0, 1, 6, 7, 9, 10, 16, 23, 24, 25, 40, 99]


def _nodes(model: onnx.ModelProto) -> list:
    """Every node, subgraph bodies included (a mutation reaches them too)."""
    found, stack = [], [model.graph]
    while stack:
        graph = stack.pop()
        for node in graph.node:
            found.append(node)
            for attr in node.attribute:
                if attr.type == AttributeProto.GRAPH:
                    stack.append(attr.g)
                stack.extend(attr.graphs)
    return found


def _pick(items, a: int):
    return items[a % len(items)] if items else None


def _value_infos(model):
    g = model.graph
    return list(g.input) + list(g.output) + list(g.value_info)


def attr_value(model, a, b):
    node = _pick([n for n in _nodes(model) if n.attribute], a)
    if node is None:
        return
    attr = node.attribute[b % len(node.attribute)]
    value = EDGE_INTS[b % len(EDGE_INTS)]
    if attr.type == AttributeProto.INT:
        attr.i = value
    elif attr.type == AttributeProto.INTS and attr.ints:
        attr.ints[(a + b) % len(attr.ints)] = value
    elif attr.type == AttributeProto.FLOAT:
        attr.f = [float("nan"), float("inf"), -1e30, 0.0][b % 4]
    elif attr.type == AttributeProto.STRING:
        attr.s = [b"", b"GARBAGE", b"\x00\xff", b"NOTSET"][b % 4]


def attr_type(model, a, b):
    """An attribute of another type than its schema's: an INT as INTS, a GRAPH as an INT..."""
    node = _pick([n for n in _nodes(model) if n.attribute], a)
    if node is None:
        return
    attr = node.attribute[b % len(node.attribute)]
    replacement = [helper.make_attribute(attr.name, [1, 2]), helper.make_attribute(attr.name, 3),
                   helper.make_attribute(attr.name, 1.5), helper.make_attribute(attr.name, "x"),
                   helper.make_attribute(attr.name, helper.make_graph([], "empty", [], []))][b % 5]
    attr.CopyFrom(replacement)


def attr_duplicate(model, a, b):
    node = _pick([n for n in _nodes(model) if n.attribute], a)
    if node is not None:
        node.attribute.append(node.attribute[b % len(node.attribute)])


def attr_drop(model, a, b):
    node = _pick([n for n in _nodes(model) if n.attribute], a)
    if node is not None:
        del node.attribute[b % len(node.attribute)]


def dim(model, a, b):
    infos = [vi for vi in _value_infos(model) if vi.type.tensor_type.shape.dim]
    vi = _pick(infos, a)
    if vi is None:
        return
    dims = vi.type.tensor_type.shape.dim
    d = dims[b % len(dims)]
    if b % 3 == 2:
        d.dim_param = "sym"
    else:
        d.dim_value = [0, 1, 3, 7, 2**40, 2**62][b % 6]


def elem_type(model, a, b):
    infos = _value_infos(model)
    tensors = list(model.graph.initializer)
    target = _pick(infos + tensors, a)
    if target is None:
        return
    value = ELEM_TYPES[b % len(ELEM_TYPES)]
    if isinstance(target, TensorProto):
        target.data_type = value
    else:
        target.type.tensor_type.elem_type = value


def input_type_removed(model, a, b):
    vi = _pick(list(model.graph.input), a)
    if vi is not None:
        vi.ClearField("type") if b % 2 else vi.type.tensor_type.ClearField("shape")


def op_type(model, a, b):
    """A typo, another op, or a move to another domain."""
    node = _pick(_nodes(model), a)
    if node is None:
        return
    choice = b % 4
    if choice == 0:
        node.op_type = node.op_type[::-1] if len(node.op_type) > 1 else "Xx"
    elif choice == 1:
        node.op_type = ["Conv", "Relu", "Gemm", "Reshape", "Concat", "If", "Loop", "Scan"][b % 8]
    elif choice == 2:
        node.domain = ["ai.onnx.ml", "com.microsoft", "custom.unknown", "ai.onnx.preview.training"][b % 4]
    else:
        node.op_type = node.op_type + "V2"


def names(model, a, b):
    """Dangling inputs, cycles, duplicate outputs, empty names."""
    nodes = _nodes(model)
    node = _pick([n for n in nodes if n.input], a)
    if node is None:
        return
    choice = b % 4
    i = b % len(node.input)
    if choice == 0:
        node.input[i] = "nowhere"
    elif choice == 1 and node.output:
        node.input[i] = node.output[0]  # a node that reads its own output
    elif choice == 2:
        other = _pick(nodes, a + b)
        if other is not None and other.output and node.output:
            node.output[0] = other.output[0]  # produced twice
    else:
        node.input[i] = ""


def io_count(model, a, b):
    node = _pick(_nodes(model), a)
    if node is None:
        return
    if b % 2 and node.input:
        node.input.append(node.input[0])
    elif node.input:
        del node.input[-1]


def initializer(model, a, b):
    init = _pick(list(model.graph.initializer), a)
    if init is None:
        return
    choice = b % 4
    if choice == 0 and init.raw_data:
        init.raw_data = init.raw_data[: len(init.raw_data) // 2]
    elif choice == 1:
        init.dims.append(EDGE_INTS[b % len(EDGE_INTS)] if b % 3 else 2**31)
    elif choice == 2:
        init.ClearField("raw_data")
        init.data_location = TensorProto.EXTERNAL
        for key, value in (("location", ["w.bin", "../w.bin", "/etc/passwd", "w.bin/", ""][b % 5]),
                           ("offset", str(EDGE_INTS[b % len(EDGE_INTS)])), ("length", "16")):
            init.external_data.add(key=key, value=value)
    else:
        sparse = model.graph.sparse_initializer.add()
        sparse.values.CopyFrom(helper.make_tensor("sv", TensorProto.FLOAT, [1], [1.0]))
        sparse.indices.CopyFrom(helper.make_tensor("si", TensorProto.INT64, [1], [0]))
        sparse.dims.extend([2**31, 2**31] if b % 2 else [4])


def opset(model, a, b):
    choice = b % 3
    if choice == 0 and model.opset_import:
        model.opset_import[a % len(model.opset_import)].version = [0, 1, 6, 99, 10**6][b % 5]
    elif choice == 1:
        model.ir_version = [0, 1, 3, 99][b % 4]
    else:
        model.opset_import.add(domain=["ai.onnx.ml", "custom", ""][b % 3], version=b % 5)


def subgraph(model, a, b):
    """A body replaced by another graph, an empty one, or an op given a body it does not take."""
    nodes = _nodes(model)
    owner = _pick([n for n in nodes if any(at.type == AttributeProto.GRAPH for at in n.attribute)], a)
    body = helper.make_graph([helper.make_node("Identity", ["p"], ["q"])], "b",
                             [helper.make_tensor_value_info("p", TensorProto.FLOAT, [2])],
                             [helper.make_tensor_value_info("q", TensorProto.FLOAT, [2])])
    if owner is not None:
        for at in owner.attribute:
            if at.type == AttributeProto.GRAPH:
                at.g.CopyFrom(body if b % 2 else helper.make_graph([], "empty", [], []))
                return
    node = _pick(nodes, a)
    if node is not None:
        node.attribute.append(helper.make_attribute("body", body))


def function(model, a, b):
    """A model-local function that shadows an op, or calls itself."""
    node = _pick(_nodes(model), a)
    if node is None:
        return
    fn = helper.make_function(node.domain or "local", node.op_type, list(node.input), list(node.output),
                              [helper.make_node(node.op_type if b % 2 else "Identity", [node.input[0]] if node.input
                                                else [], [node.output[0]] if node.output else [],
                                                domain=node.domain or "local")],
                              [helper.make_opsetid("", 17), helper.make_opsetid(node.domain or "local", 1)])
    node.domain = node.domain or "local"
    model.functions.append(fn)
    model.opset_import.add(domain=node.domain, version=1)


STRUCTURED = [attr_value, attr_type, attr_duplicate, attr_drop, dim, elem_type, input_type_removed, op_type, names,
              io_count, initializer, opset, subgraph, function]
BYTE_KINDS = ["truncate", "flip"]
KINDS = [f.__name__ for f in STRUCTURED] + BYTE_KINDS
_BY_NAME = {f.__name__: f for f in STRUCTURED}


def apply(seed: bytes, mutations: list[tuple[str, int, int]]) -> bytes:
    """The mutant: the structured mutations on the parsed seed, then the byte-level ones on its serialization."""
    model = onnx.ModelProto()
    model.ParseFromString(seed)
    for kind, a, b in mutations:
        if kind in _BY_NAME:
            _BY_NAME[kind](model, a, b)
    data = bytearray(model.SerializeToString())
    for kind, a, b in mutations:
        if not data:
            break
        if kind == "truncate":
            del data[a % len(data):]
        elif kind == "flip":
            data[a % len(data)] = b % 256
    return bytes(data)


def random_mutations(rng: random.Random, count: int) -> list[tuple[str, int, int]]:
    return [(rng.choice(KINDS), rng.randrange(1 << 16), rng.randrange(1 << 16)) for _ in range(count)]
