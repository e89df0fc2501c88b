"""The one walker over nested graphs: which graphs a node holds (If/Loop/Scan bodies), the names those bodies
read from the enclosing scope, and every tensor a model stores (initializers and tensor attributes of every
graph and function). The loader, the graph builder and the rewriter walk subgraphs through it; wire.py walks
the same nesting in the file's bytes, before there is a message to walk."""
from __future__ import annotations

from collections.abc import Iterator

from onnxlint.proto import AttributeProto, GraphProto, ModelProto, NodeProto, TensorProto

_GRAPH, _GRAPHS = AttributeProto.GRAPH, AttributeProto.GRAPHS
_HOLDERS = {AttributeProto.TENSOR, AttributeProto.TENSORS, _GRAPH, _GRAPHS}
SLICE = 4096  # protobuf wrappers made at a time: iterating a container costs several times more than slicing
# it, and a slice's wrappers are freed with it instead of living through the walk


def subgraphs(proto: NodeProto) -> list[tuple[str, GraphProto]]:
    """(attribute label, body) for every graph-valued attribute of a node (If/Loop/Scan...)."""
    found = []
    for attr in proto.attribute:
        if attr.type == _GRAPH:
            found.append((attr.name, attr.g))
        elif attr.type == _GRAPHS:
            found.extend((f"{attr.name}[{i}]", g) for i, g in enumerate(attr.graphs))
    return found


def outer_names(proto: NodeProto) -> set[str]:
    """The enclosing-scope tensors that a node's bodies read: names used inside them, at any depth, that the
    bodies do not define themselves."""
    used: set[str] = set()

    def visit(g: GraphProto, defined: set[str]) -> None:
        local = defined | {vi.name for vi in g.input} | {i.name for i in g.initializer}
        for node in g.node:
            used.update(n for n in node.input if n and n not in local)
            for _label, sub in subgraphs(node) if len(node.attribute) else ():
                visit(sub, local)
            local |= set(node.output)
        used.update(o.name for o in g.output if o.name not in local)

    for _label, sub in subgraphs(proto) if len(proto.attribute) else ():
        visit(sub, set())
    return used


def tensors(model: ModelProto, initializers: bool = True) -> Iterator[TensorProto]:
    """Every TensorProto that can hold data: initializers, sparse initializers, tensor attributes, in the main
    graph, its subgraphs and the model-local functions (`initializers=False`: but the main graph's
    initializers). One pass over each node's attributes."""
    def from_graph(graph: GraphProto, top: bool = False):
        if initializers or not top:
            yield from graph.initializer[:]
        for sparse in graph.sparse_initializer:
            yield sparse.values
            yield sparse.indices
        yield from from_nodes(graph.node)

    def from_nodes(nodes):
        for start in range(0, len(nodes), SLICE):
            for node in nodes[start:start + SLICE]:
                if not len(node.attribute):
                    continue
                for attr in node.attribute[:]:
                    if attr.type not in _HOLDERS:
                        continue
                    if attr.HasField("t"):
                        yield attr.t
                    yield from attr.tensors
                    if attr.HasField("g"):
                        yield from from_graph(attr.g)
                    for g in attr.graphs:
                        yield from from_graph(g)

    yield from from_graph(model.graph, top=True)
    for function in model.functions:
        yield from from_nodes(function.node)
