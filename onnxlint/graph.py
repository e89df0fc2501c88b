"""A read-only view of the model graph: nodes in execution order, producers and consumers.

Subgraph nodes (If/Loop/Scan bodies) are included, placed just before the node that owns
them, each with the path of the graph that holds it (`graph/If_0/then_branch`).
"""
from __future__ import annotations

import heapq
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from onnxlint.dtypes import dtype_name
from onnxlint.inline import inline
from onnxlint.loader import LoadError
from onnxlint.origin import MalformedMetadata, Origin, name_origin, origin
from onnxlint.proto import (
    AttributeProto,
    GraphProto,
    ModelProto,
    NodeProto,
    TensorProto,
    ValueInfoProto,
    display_name,
)
from onnxlint.walk import SLICE as _SLICE
from onnxlint.walk import outer_names, subgraphs

MAIN = "graph"
_MS = "com.microsoft"
# Quantized and fused forms, by (domain, op type), and the float op they compute: the rules treat them alike.
CANONICAL = {("", "QLinearConv"): "Conv", ("", "ConvInteger"): "Conv", (_MS, "FusedConv"): "Conv",
             (_MS, "QGemm"): "Gemm", (_MS, "FusedGemm"): "Gemm", ("", "QLinearMatMul"): "MatMul",
             ("", "MatMulInteger"): "MatMul", (_MS, "FusedMatMul"): "MatMul",
             (_MS, "QLinearAveragePool"): "AveragePool", (_MS, "QLinearGlobalAveragePool"): "GlobalAveragePool"}


def canonical_op(domain: str, op_type: str) -> str:
    """The float op a node computes: `Conv` for QLinearConv; `domain:Op` for an op of a custom domain."""
    domain = "" if domain == "ai.onnx" else domain
    found = CANONICAL.get((domain, op_type))
    if found is not None:
        return found
    return op_type if domain in ("", "ai.onnx.ml") else f"{domain}:{op_type}"


@dataclass(frozen=True, slots=True)
class AttributeRef:
    """A tensor-, graph- or type-valued attribute, left where it is in the file: `Graph.attribute` reads it."""
    held: int  # the node list in Graph.held
    at: int  # the node's position in it
    name: str


@dataclass(slots=True, eq=False)
class Node:
    """One node of the graph: plain data, read-only once the graph is built (its costs are the cost stage's
    `Layer`). Its protobuf stays in the file's node list: `Graph.proto(node)` reads it when asked."""
    name: str  # display name; `<op>_<index>` when the model leaves it empty
    op_type: str
    domain: str
    inputs: tuple[str, ...]  # "" marks an omitted optional input
    outputs: tuple[str, ...]
    # by name: numbers, strings and their tuples, an AttributeRef for a tensor, graph or type; shared by the
    # nodes whose attributes are equal, so never modified
    attrs: dict
    location: str  # path of the graph holding the node
    held: int = field(repr=False)  # its proto: Graph.held[held][at]
    at: int = field(repr=False)
    index: int  # position in its graph's node list in the file (of the call, for a node inlined from a function)
    parent: Node | None = None  # the If/Loop/Scan node whose body holds this node
    branch: str = ""  # the attribute of `parent` that holds it (then_branch, body...)
    function: str | None = None  # "domain.Function" (nested: "outer/inner") for a node inlined from a function
    op: str = ""  # the float op it computes (canonical_op): what rules dispatch on
    origin: Origin | None = None  # where in the PyTorch code it came from, when the exporter said

    @property
    def label(self) -> str:
        """How a person names the node: its module path when the exporter wrote one, else its name."""
        return self.origin.module if self.origin is not None and self.origin.module else self.name

    @property
    def scope(self) -> str:
        """Where a person finds the node: its graph, and the function call it was inlined from."""
        return self.location if self.function is None else f"{self.location}/{self.function}"

    @property
    def path(self) -> str:
        return f"{self.scope}/{self.name}"


@dataclass(slots=True)
class TensorType:
    elem_type: int
    dims: tuple | None  # int, str (symbolic) or None per axis; None when the rank is unknown


@dataclass
class Graph:
    nodes: list[Node]  # every node, subgraphs included, in execution order
    inputs: dict[str, TensorType]  # real model inputs (initializers excluded)
    outputs: list[str]
    # the stored tensors of every graph level, by name: (dims, data type, external, store, position); the
    # TensorProto itself is read again from store `store` (its graph's initializers) only when asked for
    initializers: dict[str, tuple]
    declared: dict[str, TensorType]  # types the file declares: inputs, outputs, value_info, subgraph inputs
    producer: dict[str, Node] = field(default_factory=dict)
    # the main-graph nodes that read each tensor: the Node itself when one does (most tensors), else a list
    readers: dict[str, Node | list[Node]] = field(default_factory=dict, repr=False)
    last_use: dict[str, int] = field(default_factory=dict)  # tensor → main-graph step of its last consumer
    inlined: set[str] = field(default_factory=set)  # tensors that exist only inside an inlined function call
    stores: list = field(default_factory=list, repr=False)  # per graph level, the list its initializers are in
    held: list[Sequence[NodeProto]] = field(default_factory=list, repr=False)  # per graph level, its node list
    malformed_metadata: int = 0  # nodes whose exporter metadata was ignored (oversized or not a list)
    untyped: list[str] = field(default_factory=list)  # graph inputs and outputs declared with no (element) type
    ir_version: int = 0
    producer_name: str = ""  # the exporter the file names (tf2onnx, pytorch, PaddlePaddle...)
    model_problems: list[str] = field(default_factory=list)  # what onnx's checker refuses outside any node
    containers: bool = False  # a value declared a sequence, an optional, a map or a sparse tensor
    empty: list[str] = field(default_factory=list)  # initializers with dims and no data, not marked as stripped
    sparse_dims: dict[str, tuple] = field(default_factory=dict)  # a sparse initializer's dense dims, by its name
    # id(a node's attribute dict) → ((name, declared type), ...) as the file has them, duplicates included
    attr_kinds: dict[int, tuple] = field(default_factory=dict, repr=False)
    # the input sizes `onnxlint fix` recorded for a model it made size-free (metadata `onnxlint.input_shapes`)
    designed: dict[str, tuple[int, ...]] = field(default_factory=dict)

    def tensor(self, name: str) -> TensorProto:
        """The TensorProto of an initializer."""
        store, position = self.initializers[name][3:]
        return self.stores[store][position]

    def proto(self, node: Node) -> NodeProto:
        """A node's NodeProto, fetched on each use: 50k held protobuf wrappers would cost the GC a third of lint."""
        return self.held[node.held][node.at]

    def attribute(self, ref: AttributeRef):
        """The value of a tensor-, graph- or type-valued attribute: a TensorProto, a GraphProto, a list..."""
        for attr in self.held[ref.held][ref.at].attribute:
            if attr.name == ref.name:
                return _VALUE.get(attr.type, _untyped_value)(attr)
        raise KeyError(ref.name)

    def outer_names(self, node: Node) -> list[str]:
        """The enclosing-scope tensors that an If/Loop/Scan node's bodies read."""
        return sorted(outer_names(self.proto(node))) if node.attrs else []

    def consumers(self, tensor: str) -> list[Node]:
        """The main-graph nodes that read `tensor` (in their inputs or inside their subgraphs)."""
        found = self.readers.get(tensor)
        return [] if found is None else found if isinstance(found, list) else [found]

    def main_nodes(self) -> list[Node]:
        return [n for n in self.nodes if n.location == MAIN]

    def downstream(self, tensor: str) -> list[Node]:
        """Main-graph nodes that depend on `tensor`, in execution order."""
        seen, todo = set(), [tensor]
        while todo:
            for node in self.consumers(todo.pop()):
                if node not in seen:
                    seen.add(node)
                    todo.extend(o for o in node.outputs if o)
        return [n for n in self.main_nodes() if n in seen]


_CONTAINERS = ("sequence_type", "optional_type", "map_type", "sparse_tensor_type")


def attr_text(node: Node, name: str, default=None):
    """A string attribute as text (its bytes decoded, what is not valid UTF-8 escaped); any other value as it is."""
    value = node.attrs.get(name, default)
    return value.decode("utf-8", "backslashreplace") if isinstance(value, bytes) else value


def tensor_type(value_info: ValueInfoProto) -> TensorType | None:
    if not value_info.type.HasField("tensor_type"):
        return None
    t = value_info.type.tensor_type
    if not t.HasField("shape"):
        return TensorType(t.elem_type, None)
    dims = tuple(d.dim_value if d.HasField("dim_value") else (d.dim_param or None) for d in t.shape.dim)
    return TensorType(t.elem_type, dims)


def build_graph(model: ModelProto, source: str) -> Graph:
    g = model.graph
    graph = Graph(nodes=[], inputs={}, outputs=_names(o.name for o in g.output), initializers={}, declared={})
    functions = {(f.domain, f.name): f for f in model.functions}
    _walk(g, MAIN, set(), graph, source, functions)
    for vi in g.input:
        name = display_name(vi.name)
        if name not in graph.initializers:
            t = tensor_type(vi)
            graph.inputs[name] = t if t is not None else TensorType(0, None)
    for vi in [*g.input, *g.output]:  # onnx's checker requires a complete type on each
        if not _complete(vi.type):
            graph.untyped.append(display_name(vi.name))
    graph.ir_version = model.ir_version
    graph.producer_name = model.producer_name
    if len(model.functions):
        graph.model_problems += _function_problems(model, graph)
    listed = set()
    for vi in g.input:  # an initializer also listed as a graph input (IR < 4): the same tensor, declared alike
        name = display_name(vi.name)
        listed.add(name)
        stored, t = graph.initializers.get(name), graph.declared.get(name)
        if stored is not None and t is not None and (t.elem_type != stored[1] or (
                t.dims is not None and all(isinstance(d, int) for d in t.dims) and tuple(t.dims) != stored[0])):
            graph.model_problems.append(f"graph input '{name}' is declared {dtype_name(t.elem_type)} "
                                        f"{list(t.dims or ())}, its initializer holds {dtype_name(stored[1])} "
                                        f"{list(stored[0])}")
    if model.ir_version < 4:  # onnx's checker: before IR 4 every initializer is a graph input too
        graph.model_problems += [f"initializer '{display_name(t.name)}' is not a graph input, as IR version "
                                 f"{model.ir_version} requires" for t in g.initializer
                                 if display_name(t.name) not in listed]
    if model.ir_version < 3 and len(model.opset_import):
        graph.model_problems.append(f"IR version {model.ir_version} cannot have opset_import (onnx's checker)")
    if graph.empty:
        graph.model_problems.append(f"{len(graph.empty):,} initializer{'s' if len(graph.empty) > 1 else ''} "
                                    f"{'have' if len(graph.empty) > 1 else 'has'} dims and no data, first "
                                    f"'{graph.empty[0]}' (onnx: 'should contain one and only one value field'; "
                                    "onnxruntime: 'data field count (0) does not match'); a file stripped on purpose "
                                    "marks them with a doc_string containing 'stripped'")
    graph.sparse_dims = {display_name(s.values.name): tuple(s.dims) for s in g.sparse_initializer}
    for name in graph.outputs:
        if name not in graph.inputs and name not in graph.initializers and name not in graph.producer:
            raise LoadError(source, f"graph output '{display_name(name)}' is produced by no node")
    graph.designed = designed_sizes(model)
    return graph


_RUNTIME_DOMAINS = {"", "ai.onnx", "ai.onnx.ml", "com.microsoft", "com.microsoft.nchwc", "ai.onnx.preview.training"}


def _function_problems(model: ModelProto, graph: Graph) -> list[str]:
    """What onnx's checker and onnxruntime refuse in model-local functions: a body that leaves an output unmade, a
    call into a domain only the model's functions define that names no function, a function that calls itself."""
    defined = {(f.domain, f.name): f for f in model.functions}
    domains = {domain for domain, _ in defined} - _RUNTIME_DOMAINS
    problems = []
    for f in model.functions:  # onnx's checker: a body's node of a domain the function does not import
        imported = {"" if o.domain == "ai.onnx" else o.domain for o in f.opset_import}
        problems += [f"function {display_name(f.domain)}.{display_name(f.name)} calls {display_name(n.op_type)} of "
                     f"the domain '{display_name(n.domain)}', which it does not import (onnx: 'No opset import for "
                     f"domain')" for n in f.node if ("" if n.domain == "ai.onnx" else n.domain) not in imported][:1]
    for (domain, name), f in defined.items():
        made = {o for n in f.node for o in n.output} | set(f.input)
        problems += [f"function {display_name(domain)}.{display_name(name)} never makes its output "
                     f"'{display_name(o)}'" for o in f.output if o not in made]
    for n in [*model.graph.node, *(n for f in model.functions for n in f.node)]:
        f = defined.get((n.domain, n.op_type))
        if f is not None and (len(n.input) > len(f.input) or len(n.output) > len(f.output)):
            problems.append(f"{_node_label(n.op_type, n.name)} passes {len(n.input)} inputs "
                            f"and {len(n.output)} outputs to a function of {len(f.input)} and {len(f.output)} "
                            "(onnxruntime: 'Number of actual parameters cannot exceed number of formal parameters')")
    calls = [(n.domain, n.op_type) for f in model.functions for n in f.node] + [
        (node.domain, node.op_type) for node in graph.nodes if node.function is None]
    problems += [f"{display_name(d)}.{display_name(op)} is called, and the model defines no such function (the "
                 f"domain '{display_name(d)}' holds only the model's own functions)"
                 for d, op in sorted(set(calls), key=repr)  # (a name not valid UTF-8 comes as bytes)
                 if d in domains and (d, op) not in defined]

    def reaches(start, target, seen) -> bool:
        for n in defined[start].node:
            callee = (n.domain, n.op_type)
            if callee == target or (callee in defined and callee not in seen
                                    and reaches(callee, target, seen | {callee})):
                return True
        return False
    problems += [f"function {display_name(d)}.{display_name(n)} calls itself" for d, n in defined
                 if reaches((d, n), (d, n), {(d, n)})]
    return problems


def _complete(t) -> bool:
    """A TypeProto with its value set and, down to its tensors, an element type."""
    kind = t.WhichOneof("value")
    if kind in ("tensor_type", "sparse_tensor_type"):
        return getattr(t, kind).elem_type != 0
    if kind in ("sequence_type", "optional_type"):
        return _complete(getattr(t, kind).elem_type)
    if kind == "map_type":
        return t.map_type.key_type != 0 and _complete(t.map_type.value_type)
    return False


DESIGNED = "onnxlint.input_shapes"  # model metadata: `image=1,3,224,224;mask=1,1,224,224`


def designed_sizes(model: ModelProto) -> dict[str, tuple[int, ...]]:
    """The input sizes `onnxlint fix` recorded in the model's metadata; a malformed entry is ignored."""
    found: dict[str, tuple[int, ...]] = {}
    for entry in model.metadata_props:
        if entry.key != DESIGNED or len(entry.value) > 4096:
            continue
        for part in entry.value.split(";"):
            name, _, dims = part.rpartition("=")
            try:
                found[name] = tuple(int(d) for d in dims.split(","))
            except ValueError:
                return {}
    return found


def _walk(g: GraphProto, location: str, outer: set[str], graph: Graph, source: str, functions: dict,
          parent: Node | None = None, branch: str = "") -> None:
    """Read the graph's nodes once (protobuf field reads are the expensive part), order them, and make a Node
    of each; the main graph's nodes are also entered in the consumer map."""
    # read from slices too: a TensorProto wrapper per weight kept alive would cost the GC more than the read
    store = g.initializer if not len(g.sparse_initializer) else g.initializer[:] + [
        sparse.values for sparse in g.sparse_initializer]
    graph.stores.append(store)
    init_names = []
    for start in range(0, len(store), _SLICE):
        for position, init in enumerate(store[start:start + _SLICE], start):
            name = init.name if isinstance(init.name, str) else display_name(init.name)
            init_names.append(name)
            external = init.data_location == TensorProto.EXTERNAL
            graph.initializers[name] = (tuple(init.dims[:]), init.data_type, external, len(graph.stores) - 1,
                                        position)
            # (a large file's payloads, left in the file, are references: loader.PAYLOAD_KEY)
            if not external and not init.HasField("raw_data") and not len(init.external_data) \
                    and _holds_nothing(init):
                graph.empty.append(name)
    for vi in list(g.input) + list(g.output) + list(g.value_info):
        t = tensor_type(vi)
        if t is not None:
            graph.declared.setdefault(display_name(vi.name), t)
        elif vi.type.WhichOneof("value") in _CONTAINERS:
            graph.containers = True
    if parent is not None and parent.op_type == "Loop":  # the iteration number and condition are scalars
        for vi, elem in zip(g.input[:2], (TensorProto.INT64, TensorProto.BOOL)):
            name = display_name(vi.name)
            if graph.declared.get(name, TensorType(elem, None)).dims is None:
                graph.declared[name] = TensorType(elem, ())
    available = set(outer) | set(_names([vi.name for vi in g.input])) | set(init_names)
    if functions:
        held, calls = inline(g.node[:], functions, graph.inlined, source)  # inlined nodes exist only in this list
    else:
        held, calls = g.node, None
    level = len(graph.held)
    graph.held.append(held)
    tables: list[dict] = []  # the attribute dicts, shared by the nodes whose attributes are equal
    shared: dict[tuple, int] = {}
    # each node's fields as a tuple of strings and numbers (the GC untracks it), read from slices of the node
    # list: a slice reads fast, and its protobuf wrappers are freed with it instead of living through the walk
    read = []
    for start in range(0, len(held), _SLICE):
        read += [_read(proto, tables, shared, level, at)
                 for at, proto in enumerate(held[start:start + _SLICE], start)]
    for items, table in shared.items():  # the declared attribute types, for the schema check
        graph.attr_kinds[id(tables[table])] = tuple(zip((name for name, _ in items[1:]), items[0])) if items else ()
    bodies = {index: subgraphs(held[index]) for index, fields in enumerate(read) if fields[7]}
    reads = [fields[0] + tuple(_names(outer_names(held[i]))) if i in bodies else fields[0]
             for i, fields in enumerate(read)]
    produced: dict[str, int] = {}
    in_order = True  # every read available or produced by an earlier node: the file's order is an execution order
    for index, fields in enumerate(read):
        if in_order:
            for name in reads[index]:
                if name and name not in available and name not in produced:
                    in_order = False
                    break
        for out in fields[1]:
            if out in produced or out in available:
                raise LoadError(source, f"tensor '{out}' is produced twice (duplicate output name)")
            if out:
                produced[out] = index
    order = range(len(read)) if in_order else _execution_order(held, reads, available, produced, location, source)
    main = location == MAIN
    producer, readers, last_use, nodes = graph.producer, graph.readers, graph.last_use, graph.nodes
    for position, index in enumerate(order):
        inputs, outputs, table, domain, op_type, raw_name, tagged, _graphs = read[index]
        op_type, domain, op = _OPS.get((domain, op_type)) or _op_names(domain, op_type)
        name = (raw_name if isinstance(raw_name, str) else display_name(raw_name)) or f"{op_type}_{position}"
        call, file_index, caller = calls[index] if calls is not None else (None, index, None)
        if caller is not None or tagged:  # the exporter's metadata (of the call, for an inlined node)
            try:
                found = origin(caller if caller is not None else held[index])
            except MalformedMetadata:
                found = name_origin(raw_name)
                graph.malformed_metadata += 1
        else:
            found = name_origin(raw_name)
        node = Node(name, op_type, domain, inputs, outputs, tables[table], location, level, index, file_index,
                    parent, branch, call, op, found)
        if index in bodies:
            scope = available | set(produced)  # a subgraph sees every name of its enclosing graph
            for label, sub in bodies[index]:
                _walk(sub, f"{location}/{name}/{label}", scope, graph, source, functions, node, label)
        nodes.append(node)
        for out in outputs:
            if out:
                producer[out] = node
        if main:
            # a value read inside a node's subgraphs stays alive until that node has run
            for tensor in reads[index]:
                last_use[tensor] = position
                users = readers.get(tensor)
                if users is None:
                    readers[tensor] = node
                elif type(users) is list:
                    if users[-1] is not node:
                        users.append(node)
                elif users is not node:
                    readers[tensor] = [users, node]


_OPS: dict = {}  # (domain, op_type) as the file spells them → (op_type, domain, canonical op), printable


def _op_names(domain, op_type) -> tuple[str, str, str]:
    found = _OPS.get((domain, op_type))
    if found is None:
        op_type_, domain_ = display_name(op_type), display_name(domain)
        found = _OPS[(domain, op_type)] = (op_type_, domain_, canonical_op(domain_, op_type_))
    return found


def _read(proto: NodeProto, tables: list[dict], shared: dict[tuple, int], level: int, at: int) -> tuple:
    """A node's (inputs, outputs, index of its attribute dict in `tables`, domain, op type, name, whether it
    has metadata, whether it has graph-valued attributes), each field read once; the node is Graph.held[level]
    [at]. Nodes with equal attributes share one dict (`shared`: the attributes as a tuple → index), which no
    one modifies."""
    graphs = False
    if len(proto.attribute):
        pairs, kinds = [], ()
        for attr in proto.attribute[:]:  # a list: iterating the protobuf container itself costs 4× more
            kind = attr.type
            read = _PLAIN.get(kind)
            if read is not None:
                value = read(attr)
            elif kind in _VALUE:
                value = AttributeRef(level, at, attr.name)  # left in the file: Graph.attribute reads it
            else:  # no declared type (old exporters)
                value = _untyped_value(attr)
                if _is_message(value):
                    value = AttributeRef(level, at, attr.name)
            pairs.append((attr.name, value))
            kinds += (kind,)
            graphs = graphs or kind == _A.GRAPH or kind == _A.GRAPHS
        items = (kinds, *pairs)  # with the declared types: an INT 1 and a FLOAT 1.0 are equal, but not the same
    else:
        pairs = items = ()
    try:
        table = shared.get(items)
    except TypeError:  # an untyped list value: a dict of its own
        table = items = None
    if table is None:
        table = len(tables)
        tables.append(dict(pairs))
        if items is not None:
            shared[items] = table
    inputs, outputs = tuple(proto.input[:]), tuple(proto.output[:])  # tuples of str: the GC untracks them
    try:
        "".join(inputs) + "".join(outputs)  # C-speed check that every name is a str (bytes: invalid UTF-8)
    except TypeError:
        inputs, outputs = tuple(_names(inputs)), tuple(_names(outputs))
    return inputs, outputs, table, proto.domain, proto.op_type, proto.name, len(proto.metadata_props) > 0, graphs


_A = AttributeProto
# an attribute's value by its declared type: one dict lookup (onnx.helper.get_attribute_value tries fields in turn);
# lists of numbers and strings as tuples, which the cyclic GC untracks
_PLAIN = {_A.FLOAT: lambda a: a.f, _A.INT: lambda a: a.i, _A.STRING: lambda a: a.s,
          _A.FLOATS: lambda a: tuple(a.floats[:]), _A.INTS: lambda a: tuple(a.ints[:]),
          _A.STRINGS: lambda a: tuple(a.strings[:])}
# the protobuf values a Node holds an AttributeRef to, read by Graph.attribute
_VALUE = {_A.TENSOR: lambda a: a.t, _A.GRAPH: lambda a: a.g, _A.SPARSE_TENSOR: lambda a: a.sparse_tensor,
          _A.TYPE_PROTO: lambda a: a.tp, _A.TENSORS: lambda a: a.tensors[:], _A.GRAPHS: lambda a: a.graphs[:],
          _A.SPARSE_TENSORS: lambda a: a.sparse_tensors[:], _A.TYPE_PROTOS: lambda a: a.type_protos[:]}


def _is_message(value) -> bool:
    """Whether an untyped attribute's value is (or holds) a protobuf message."""
    return hasattr(value, "DESCRIPTOR") or (isinstance(value, list) and any(hasattr(v, "DESCRIPTOR") for v in value))


def _untyped_value(attr: AttributeProto):
    from onnx.helper import get_attribute_value  # an attribute without a declared type (old exporters)

    try:
        return get_attribute_value(attr)
    except Exception:  # no value at all: the handlers treat it as absent
        return None


def _holds_nothing(init: TensorProto) -> bool:
    """An embedded tensor with elements and no data field, unless its doc_string marks it as stripped on purpose
    (onnxlint's corpus: `zoo:stripped`, whose graphs are linted without their weights)."""
    return math.prod(init.dims) > 0 and not (len(init.float_data) or len(init.int32_data) or len(init.int64_data)
                                             or len(init.double_data) or len(init.uint64_data)
                                             or len(init.string_data)) and "stripped" not in init.doc_string


def _node_label(op_type, name) -> str:
    """`the Conv node 'conv1'`, or `a Conv node` when it has no name."""
    return f"the {display_name(op_type)} node '{display_name(name)}'" if name else f"a {display_name(op_type)} node"


def _names(names) -> list[str]:
    names = list(names)
    try:
        "".join(names)  # C-speed check that every name is a str (protobuf gives bytes for invalid UTF-8)
        return names
    except TypeError:
        return [display_name(n) for n in names]


def _execution_order(protos: list[NodeProto], reads: list[tuple[str, ...]], available: set[str],
                     produced: dict[str, int], location: str, source: str) -> list[int]:
    """Node indices in a topological order that keeps the file's order where it can (for a file whose order
    is not an execution order); errors on cycles and on inputs that nothing produces."""
    needs = [[name for name in names if name and name not in available] for names in reads]
    for index, names in enumerate(needs):
        for name in names:
            if name not in produced:
                raise LoadError(source, f"node '{display_name(protos[index].name) or protos[index].op_type}' in "
                                        f"{location} reads '{name}', which no node produces and is not an input")
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
