"""A read-only view of the model graph: nodes in execution order, producers and consumers.

Subgraph nodes (If/Loop/Scan bodies) are included, placed just before the node that owns
them, each with the path of the graph that holds it (`graph/If_0/then_branch`).
"""
from __future__ import annotations

import heapq
from dataclasses import dataclass, field

import onnx
from onnx.helper import get_attribute_value

from onnxlint.loader import LoadError, display_name

MAIN = "graph"


@dataclass(slots=True, eq=False)
class Node:
    name: str  # display name; `<op>_<index>` when the model leaves it empty
    op_type: str
    domain: str
    inputs: list[str]  # "" marks an omitted optional input
    outputs: list[str]
    attrs: dict
    location: str  # path of the graph holding the node
    proto: onnx.NodeProto
    index: int  # position in its graph's node list in the file

    @property
    def path(self) -> str:
        return f"{self.location}/{self.name}"


@dataclass(slots=True)
class TensorType:
    elem_type: int
    dims: tuple | None  # int, str (symbolic) or None per axis; None when the rank is unknown


@dataclass
class Graph:
    nodes: list[Node]  # every node, subgraphs included, in execution order
    inputs: dict[str, TensorType]  # real model inputs (initializers excluded)
    outputs: list[str]
    initializers: dict[str, onnx.TensorProto]  # of every graph level, by name
    declared: dict[str, TensorType]  # types the file declares: inputs, outputs, value_info, subgraph inputs
    producer: dict[str, Node] = field(default_factory=dict)
    consumers: dict[str, list[Node]] = field(default_factory=dict)  # main-graph nodes only

    def main_nodes(self) -> list[Node]:
        return [n for n in self.nodes if n.location == MAIN]


def tensor_type(value_info: onnx.ValueInfoProto) -> TensorType | None:
    if not value_info.type.HasField("tensor_type"):
        return None
    t = value_info.type.tensor_type
    if not t.HasField("shape"):
        return TensorType(t.elem_type, None)
    dims = tuple(d.dim_value if d.HasField("dim_value") else (d.dim_param or None) for d in t.shape.dim)
    return TensorType(t.elem_type, dims)


def build_graph(model: onnx.ModelProto, source: str) -> Graph:
    g = model.graph
    graph = Graph(nodes=[], inputs={}, outputs=_names(o.name for o in g.output), initializers={}, declared={})
    _walk(g, MAIN, set(), graph, source)
    for vi in g.input:
        name = display_name(vi.name)
        if name not in graph.initializers:
            t = tensor_type(vi)
            graph.inputs[name] = t if t is not None else TensorType(0, None)
    known = set(graph.inputs) | set(graph.initializers) | set(graph.producer)
    for name in graph.outputs:
        if name not in known:
            raise LoadError(source, f"graph output '{display_name(name)}' is produced by no node")
    for node in graph.nodes:
        if node.location != MAIN:
            continue
        for name in node.inputs:
            graph.consumers.setdefault(name, []).append(node)
        # a value read inside a node's subgraphs stays alive until that node has run
        for name in _names(_outer_names(subgraphs(node.proto))) if node.proto.attribute else ():
            users = graph.consumers.setdefault(name, [])
            if node not in users:
                users.append(node)
    return graph


def _walk(g: onnx.GraphProto, location: str, outer: set[str], graph: Graph, source: str) -> None:
    for init in g.initializer:
        graph.initializers[display_name(init.name)] = init
    for sparse in g.sparse_initializer:
        graph.initializers[display_name(sparse.values.name)] = sparse.values
    for vi in list(g.input) + list(g.output) + list(g.value_info):
        t = tensor_type(vi)
        if t is not None:
            graph.declared.setdefault(display_name(vi.name), t)
    available = set(outer) | set(_names([vi.name for vi in g.input])) | set(_names([i.name for i in g.initializer])) \
        | set(_names([s.values.name for s in g.sparse_initializer]))
    protos = list(g.node)
    # One pass over the protobuf: reading its fields is the expensive part of the walk.
    inputs = [_names(p.input) for p in protos]
    outputs = [_names(p.output) for p in protos]
    subs = [subgraphs(p) if p.attribute else [] for p in protos]
    produced: dict[str, int] = {}
    for index, outs in enumerate(outputs):
        for out in outs:
            if out in produced or out in available:
                raise LoadError(source, f"tensor '{out}' is produced twice (duplicate output name)")
            if out:
                produced[out] = index
    reads = [ins + _names(_outer_names(sub)) if sub else ins for ins, sub in zip(inputs, subs)]
    for position, index in enumerate(_execution_order(protos, reads, available, produced, location, source)):
        proto = protos[index]
        name = display_name(proto.name) or f"{proto.op_type}_{position}"
        attrs = {a.name: get_attribute_value(a) for a in proto.attribute} if proto.attribute else {}
        node = Node(name, display_name(proto.op_type), display_name(proto.domain), inputs[index], outputs[index],
                    attrs, location, proto, index)
        if subs[index]:
            scope = available | set(produced)  # a subgraph sees every name of its enclosing graph
            for label, sub in subs[index]:
                _walk(sub, f"{location}/{name}/{label}", scope, graph, source)
        graph.nodes.append(node)
        for out in node.outputs:
            if out:
                graph.producer[out] = node


def _names(names) -> list[str]:
    names = list(names)
    try:
        "".join(names)  # C-speed check that every name is a str (protobuf gives bytes for invalid UTF-8)
        return names
    except TypeError:
        return [display_name(n) for n in names]


def _execution_order(protos: list[onnx.NodeProto], reads: list[list[str]], available: set[str],
                     produced: dict[str, int], location: str, source: str) -> list[int]:
    """Node indices in the file's order when it is valid, else in a topological order; errors on cycles
    and on inputs that nothing produces."""
    needs: list[list[str]] = []
    in_order = True
    for index, names in enumerate(reads):
        deps = [name for name in names if name and name not in available]
        for name in deps:
            if name not in produced:
                raise LoadError(source, f"node '{display_name(protos[index].name) or protos[index].op_type}' in "
                                        f"{location} reads '{name}', which no node produces and is not an input")
            if produced[name] >= index:
                in_order = False
        needs.append(deps)
    if in_order:
        return list(range(len(protos)))
    # Kahn's algorithm, always taking the earliest ready node so the file's order is kept where it can be.
    waiting = [len({produced[n] for n in deps}) for deps in needs]
    users: dict[int, list[int]] = {}
    for index, deps in enumerate(needs):
        for producer in {produced[n] for n in deps}:
            users.setdefault(producer, []).append(index)
    ready = [i for i, count in enumerate(waiting) if count == 0]
    heapq.heapify(ready)
    order = []
    while ready:
        index = heapq.heappop(ready)
        order.append(index)
        for user in users.get(index, ()):
            waiting[user] -= 1
            if waiting[user] == 0:
                heapq.heappush(ready, user)
    if len(order) < len(protos):
        stuck = next(protos[i] for i, count in enumerate(waiting) if count > 0)
        raise LoadError(source, f"graph has a cycle through node '{display_name(stuck.name) or stuck.op_type}' "
                                f"in {location}")
    return order


def subgraphs(proto: onnx.NodeProto) -> list[tuple[str, onnx.GraphProto]]:
    """(attribute label, body) for every graph-valued attribute of a node (If/Loop/Scan...)."""
    found = []
    for attr in proto.attribute:
        if attr.type == onnx.AttributeProto.GRAPH:
            found.append((attr.name, attr.g))
        elif attr.type == onnx.AttributeProto.GRAPHS:
            found.extend((f"{attr.name}[{i}]", g) for i, g in enumerate(attr.graphs))
    return found


def _outer_names(subs: list[tuple[str, onnx.GraphProto]]) -> set[str]:
    """Names used inside a node's subgraphs that those subgraphs do not define themselves."""
    used: set[str] = set()

    def visit(g: onnx.GraphProto, defined: set[str]) -> None:
        local = defined | {vi.name for vi in g.input} | {i.name for i in g.initializer}
        for node in g.node:
            used.update(n for n in node.input if n and n not in local)
            for _label, sub in subgraphs(node):
                visit(sub, local)
            local |= set(node.output)
        used.update(o.name for o in g.output if o.name not in local)

    for _label, sub in subs:
        visit(sub, set())
    return used
