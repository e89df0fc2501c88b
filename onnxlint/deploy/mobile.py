"""Mobile execution providers (`--target nnapi|coreml`): how the graph splits between the accelerator and the
CPU. The ops each provider takes, and their caveats, are read at run time from the tables the installed
onnxruntime ships (onnxruntime/tools/mobile_helpers/*.md, never copied here); the partitions are counted by the
algorithm of onnxruntime's own usability checker (its port of partitioning_utils.cc), on the graph onnxruntime's
basic optimizations leave: constants folded, Identity and Dropout gone."""
from __future__ import annotations

import importlib.util
import os
import re
from collections import deque
from dataclasses import dataclass, field
from functools import cache

from onnxlint.graph import MAIN, AttributeRef, Graph, Node
from onnxlint.shapes import Shapes, infer_shapes

# the table each target reads, and the tensor rank its provider takes at most (onnxruntime's checker's figures)
TABLES = {"nnapi": ("nnapi_supported_ops.md", 999), "coreml": ("coreml_supported_mlprogram_ops.md", 5)}


def predict(graph: Graph, shapes: Shapes, found, model=None) -> None:
    """The partitions of the graph between the provider and the CPU, in `found.mobile`."""
    found.mobile = partitions(graph, shapes, found.target)


@cache
def supported_ops(target: str) -> dict[str, str]:
    """'domain:Op' → its caveat, from the installed onnxruntime's table for `target` ({} without one)."""
    spec = importlib.util.find_spec("onnxruntime")  # its folder, without importing it
    if spec is None or not spec.submodule_search_locations:
        return {}
    path = os.path.join(spec.submodule_search_locations[0], "tools", "mobile_helpers", TABLES[target][0])
    ops = {}
    try:
        with open(path, encoding="utf-8") as table:
            for line in table:  # a markdown table: | domain:Op | caveats |
                pieces = line.strip().split("|")
                if line.startswith("|") and len(pieces) == 4 and ":" in pieces[1]:
                    ops[pieces[1]] = pieces[2].replace("<br/>", " ").strip()
    except OSError:
        return {}
    return ops


@dataclass
class Partitions:
    """The accelerator's partitions, and the nodes that stay on the CPU with why."""
    target: str
    table: str
    nodes: int  # nodes after onnxruntime's basic optimizations
    groups: list = field(default_factory=list)  # each partition: its nodes
    cpu: dict = field(default_factory=dict)  # Node → why it stays on the CPU
    provider: str = ""  # the execution provider's name in onnxruntime, for a target whose placement is proved
    advice: dict = field(default_factory=dict)  # a fallback's cause (its reason's prefix) → what to do about it
    readers: dict = field(default_factory=dict, repr=False)  # each kept node → the kept nodes that read it
    caveat: str = ""  # what the prediction stands on, when no device of the target proved its source
    compiled: bool = True  # each partition a graph the provider compiles (OL603 counts them); not CUDA's kernels

    def compared(self, assigned: dict[str, str]) -> list[tuple[Node, str, str]]:
        """(node, predicted provider, the provider onnxruntime assigned) for each node onnxruntime placed.
        onnxruntime names the nodes its layout transformation rewrites `<name>_token_<n>` and the copies of a
        shared DequantizeLinear `<name>/duplicated`, a MatMul it fused with its Add into a Gemm
        `<name>/MatMulAddFusion`; the nodes it inserted, and those its optimizations removed,
        are not compared."""
        actual: dict[str, str] = {}
        for name, provider in assigned.items():
            actual.setdefault(re.sub(r"(_token_\d+|/duplicated|/MatMulAddFusion)+$", "", name), provider)
        return [(node, "CPUExecutionProvider" if node in self.cpu else self.provider, actual[node.name])
                for node in [*(n for g in self.groups for n in g), *self.cpu] if node.name in actual]

    def crossings(self) -> int:
        """The results passed between the accelerator and the CPU, or between two partitions, inside the graph (a
        node's result counted once per side that reads it): each a copy or a hand-over at run time."""
        side = {n: i for i, group in enumerate(self.groups) for n in group}
        return sum(len({side.get(r, -1) for r in readers} - {side.get(n, -1)})
                   for n, readers in self.readers.items() if n in side or n in self.cpu)

    def summary(self, macs: dict) -> dict:
        total = sum(m or 0 for m in macs.values())
        on_cpu = sum(macs.get(n) or 0 for n in self.cpu)
        return {"table": self.table, **({"caveat": self.caveat} if self.caveat else {}),
                "partitions": len(self.groups), "nodes": self.nodes,
                "accelerated_nodes": sum(len(g) for g in self.groups), "cpu_share": on_cpu / total if total else None,
                "crossings": self.crossings(),
                "cpu_nodes": [{"node": n.name, "op_type": n.op_type, "why": why, "macs": macs.get(n)}
                              for n, why in self.cpu.items()]}


def partitions(graph: Graph, shapes: Shapes, target: str) -> Partitions:
    ops = supported_ops(target)
    max_rank = TABLES[target][1]
    # a symbolic input dim (a batch taken as 1 included) reaches every activation: no fixed size anywhere
    dynamic = bool(shapes.unresolved_inputs or shapes.assumed_batch)
    return partition(graph, shapes, Partitions(target, TABLES[target][0], 0),
                     lambda node: _unsupported(node, ops, shapes, dynamic, max_rank))


def partition(graph: Graph, shapes: Shapes, found: Partitions, why, keep_dequantize: bool = False,
              unfolded: set = frozenset()) -> Partitions:
    """Fill `found` with the provider's partitions: the nodes onnxruntime's basic optimizations leave, walked by
    its CreateSupportedPartitionNodeGroups (as its usability checker writes it); `why(node)` says why a node stays
    on the CPU (None: the provider takes it). `keep_dequantize`: a DequantizeLinear of a constant is not folded
    (onnxruntime keeps QDQ groups whole for a provider that runs them); `unfolded`: tensors whose value onnxlint
    knows at the size it took but onnxruntime cannot fold (they follow a symbolic input dim)."""
    kept, producers, consumers, _ = ort_graph(graph, shapes, keep_dequantize, unfolded)
    found.nodes, found.readers = len(kept), consumers
    in_degree = {n: len(producers[n]) for n in kept}
    ready, later = deque(n for n in kept if not in_degree[n]), deque()
    group: list = []
    border: set = set()
    while ready or later:
        if not ready:
            if group:
                found.groups.append(group)
            group, border = [], set()
            ready, later = later, deque()
            continue
        node = ready.popleft()
        reason = why(node)
        if reason and node in border:
            later.append(node)
            continue
        if reason:
            found.cpu[node] = reason
        else:
            group.append(node)
            border.discard(node)
            border.update(consumers[node])
        for consumer in consumers[node]:
            in_degree[consumer] -= 1
            if not in_degree[consumer]:
                ready.append(consumer)
    if group:
        found.groups.append(group)
    return found


def ort_graph(graph: Graph, shapes: Shapes, keep_dequantize: bool = False, unfolded: set = frozenset()
              ) -> tuple[list[Node], dict, dict, dict]:
    """The graph onnxruntime's basic optimizations leave, as its providers see it: the kept nodes in onnxruntime's
    topological order, each node's producers (a set) and readers (in that order), and the results of the nodes
    its common subexpression elimination removed → the same result of the node it kept."""
    kept, live = [], set()  # live: the results of kept nodes (and of what onnxruntime removes after one)
    fused = _reshape_fusion(graph, shapes, unfolded)
    for n in graph.nodes:
        if n.location != MAIN or n in shapes.dead or n in fused:
            continue
        # onnxruntime folds a node whose inputs are constants: not one that reads a kept node's result (a kept
        # DequantizeLinear's, whatever onnxlint knows of its value), but for a Shape or Size of static dims
        if any(o in unfolded for o in n.outputs) or not _folded(n, graph, shapes, keep_dequantize) or (
                n.op_type not in ("Shape", "Size", "Identity", "Dropout") and _constant(n, shapes, keep_dequantize)
                and any(t in live for t in n.inputs if t)):
            kept.append(n)
            live.update(o for o in n.outputs if o)
        elif n.op_type in ("Identity", "Dropout") and any(t in live for t in n.inputs if t) or not _constant(
                n, shapes, keep_dequantize):  # removed, or fused into the Conv before it: its result lives on
            live.update(o for o in n.outputs if o)
    kept, alias = _common_subexpressions(kept, set(graph.outputs))
    alive = set(kept)
    producer = {o: n for n in kept for o in n.outputs if o}
    consumers: dict[Node, list] = {n: [] for n in kept}
    producers: dict[Node, set] = {n: set() for n in kept}
    for n in kept:
        for t in n.inputs:
            p = _source(producer, graph, alias.get(t, t), alive, shapes)
            if p is not None and p is not n:
                producers[n].add(p)
                if n not in consumers[p]:
                    consumers[p].append(n)
    kept = _onnxruntime_order(kept, producers, consumers)
    position = {n: i for i, n in enumerate(kept)}
    for n in kept:  # each node's readers in the order onnxruntime's graph lists them
        consumers[n].sort(key=position.__getitem__)
    return kept, producers, consumers, alias


RANDOM = {"RandomNormal", "RandomUniform", "RandomNormalLike", "RandomUniformLike", "Multinomial", "Bernoulli"}


def _common_subexpressions(nodes: list[Node], outputs: set) -> tuple[list[Node], dict]:
    """onnxruntime's CommonSubexpressionElimination: of the nodes that compute the same op with the same attributes
    on the same inputs (two Shape nodes of one tensor, as exporters write them), the first stays and the others go,
    their readers reading its results (not a random op, not one with a subgraph, not one that writes a graph
    output)."""
    alias: dict[str, str] = {}
    seen: dict[tuple, Node] = {}
    kept = []
    for n in nodes:
        inputs = tuple(alias.get(t, t) for t in n.inputs)
        if n.op_type in RANDOM or any(o in outputs for o in n.outputs) or any(
                isinstance(v, AttributeRef) for v in n.attrs.values()):
            kept.append(n)
            continue
        key = (n.domain, n.op_type, inputs, repr(sorted(n.attrs.items())), len(n.outputs))
        first = seen.setdefault(key, n)
        if first is n:
            kept.append(n)
        else:
            alias.update((o, f) for o, f in zip(n.outputs, first.outputs) if o)
    return kept, alias


def _onnxruntime_order(nodes: list[Node], producers: dict, consumers: dict) -> list[Node]:
    """The nodes in the topological order onnxruntime's GraphViewer gives them (the order its optimized model is
    written in, which its partitioning walks): a reverse depth-first walk from the nodes nothing reads, each node's
    producers taken highest index first (GraphViewer's NodeCompare sorts them ascending onto a stack), each node
    listed once its producers are. Checked against onnxruntime's written order: the same on 37 of 41 models (the
    fixtures, the corpus; the rest differ in the Shape arithmetic of dynamic dims)."""
    index = {n: n.index for n in nodes}
    stack = [(n, False) for n in nodes if not consumers[n]]
    seen, order = set(), []
    while stack:
        node, leave = stack.pop()
        if leave:
            order.append(node)
            continue
        if node in seen:
            continue
        seen.add(node)
        stack.append((node, True))
        for p in sorted(producers[node], key=index.__getitem__):  # the highest index on top: taken first
            if p not in seen:
                stack.append((p, False))
    return order


def _folded(node: Node, graph: Graph, shapes: Shapes, keep_dequantize: bool = False) -> bool:
    """Gone after onnxruntime's basic optimizations: constant folding (outputs known without the input data), the
    removal of Identity and Dropout, and a BatchNormalization, or an Add or Mul of a constant, folded into the
    Conv before it when it is that Conv's only reader (ConvBNFusion, ConvAddFusion, ConvMulFusion)."""
    if node.op_type in ("Identity", "Dropout") or _constant(node, shapes, keep_dequantize):
        return True
    if node.op_type not in ("BatchNormalization", "Add", "Mul") or node.domain:
        return False
    data = [t for t in node.inputs if t and t not in shapes.constants]
    before = graph.producer.get(data[0]) if len(data) == 1 else None
    if before is None or before.domain or len(graph.consumers(data[0])) != 1 or data[0] in graph.outputs:
        return False
    return before.op_type == "Conv" or (before.op_type != node.op_type
                                        and _folded(before, graph, shapes, keep_dequantize)
                                        and before.op_type in ("BatchNormalization", "Add", "Mul"))


def _reshape_fusion(graph: Graph, shapes: Shapes, unfolded: set) -> set[Node]:
    """The nodes onnxruntime's ReshapeFusion removes: a Reshape's shape made by a Concat (read by that Reshape
    only) of constants and of dims of the Reshape's own input (Shape → Gather(i) → Unsqueeze, at position i: a 0,
    'copy that dim') becomes a constant, e.g. [0, -1] for `x.view(x.size(0), -1)`; the Concat goes, and the
    Shape → Gather → Unsqueeze paths that nothing else reads."""
    removed: set[Node] = set()
    for reshape in graph.nodes:
        if reshape.op_type != "Reshape" or reshape.domain or len(reshape.inputs) < 2 or reshape.location != MAIN:
            continue
        concat = graph.producer.get(reshape.inputs[1])
        if concat is None or concat.op_type != "Concat" or concat.domain or concat.outputs[0] in graph.outputs \
                or len(graph.consumers(concat.outputs[0])) != 1:
            continue
        value, paths = [], []
        for t in concat.inputs:
            ints = shapes.ints(t) if t and t not in unfolded else None
            path = _dim_path(graph, shapes, t, reshape.inputs[0]) if ints is None else None
            if ints is None and (path is None or path[1] != len(value)):
                break
            value += ints if ints is not None else [0]
            if path is not None:
                paths.append(path[0])
        else:
            if value.count(-1) <= 1:
                removed.add(concat)
                for path in paths:  # bottom up, each node its output no longer read
                    for node in path:
                        if all(r in removed for o in node.outputs for r in graph.consumers(o)):
                            removed.add(node)
    return removed


def _dim_path(graph: Graph, shapes: Shapes, tensor: str, root: str) -> tuple[list, int] | None:
    """([Unsqueeze, Gather, Shape], i) when `tensor` is Unsqueeze(axes 0) of Gather(Shape(root), scalar i)."""
    unsqueeze = graph.producer.get(tensor) if tensor else None
    if unsqueeze is None or unsqueeze.op_type != "Unsqueeze" or unsqueeze.domain:
        return None
    axes = unsqueeze.attrs.get("axes") if len(unsqueeze.inputs) < 2 else shapes.ints(unsqueeze.inputs[1])
    gather = graph.producer.get(unsqueeze.inputs[0])
    if list(axes or ()) != [0] or gather is None or gather.op_type != "Gather" or len(gather.inputs) < 2:
        return None
    shape = graph.producer.get(gather.inputs[0])
    index = shapes.ints(gather.inputs[1])
    if shape is None or shape.op_type != "Shape" or shape.inputs[0] != root or shape.attrs.get("start") is not None \
            or shape.attrs.get("end") is not None or index is None or len(index) != 1 \
            or shapes.dims.get(gather.inputs[1]) != () or gather.attrs.get("axis", 0) != 0:
        return None
    return [unsqueeze, gather, shape], index[0]


def _constant(node: Node, shapes: Shapes, keep_dequantize: bool) -> bool:
    """Whether onnxlint knows the node's outputs without the input data (constant folding's candidates)."""
    return all(not o or o in shapes.constants or o in shapes.values or o in shapes.pending for o in node.outputs) \
        and not (keep_dequantize and node.op_type == "DequantizeLinear")


def _source(producer: dict, graph: Graph, tensor: str, alive: set, shapes: Shapes) -> Node | None:
    """The kept node a tensor comes from, looking through the nodes onnxruntime removed or fused into the Conv
    before them (None for a constant)."""
    for _ in range(64):
        if tensor in producer:
            return producer[tensor]
        node = graph.producer.get(tensor)
        data = [t for t in node.inputs if t and t not in shapes.constants] if node is not None else []
        if node is None or node in alive or len(data) != 1:
            return None
        tensor = data[0]
    return None


def _unsupported(node: Node, ops: dict, shapes: Shapes, dynamic: bool, max_rank: int) -> str | None:
    key = f"{node.domain or 'ai.onnx'}:{node.op_type}"
    if key not in ops:
        return f"{key} is not in the provider's table"
    if "" in node.inputs:  # onnxruntime's checker finds no shape for an omitted optional input: not fixed
        return "an omitted optional input, which onnxruntime's checker counts as not of fixed size"
    data = [t for t in node.inputs if t not in shapes.constants]
    if dynamic and data:
        return "its input has a symbolic size (fix the input shapes: onnxruntime.tools.make_dynamic_shape_fixed)"
    if any(shapes.dims.get(t) is None or None in shapes.dims[t] for t in data):
        return "its input's size is not known"
    if any(len(shapes.dims[t]) > max_rank for t in data):
        return f"an input of rank > {max_rank}"
    return None


def dynamic_tensors(graph: Graph, shapes: Shapes, model) -> tuple[set[str], set[str]]:
    """The tensors whose size follows a symbolic dim of a graph input, as the file declares it (whatever size the
    lint took for it): inferred again with each such dim doubled, those whose size changes; and those whose value
    changes (sizes computed in the graph: Shape → Gather → Concat), which onnxruntime cannot fold."""
    symbolic = {name: [i for i, d in enumerate(t.dims) if not isinstance(d, int) or d < 0]
                for name, t in graph.inputs.items() if t.dims is not None}
    symbolic = {name: axes for name, axes in symbolic.items() if axes}
    if not symbolic or model is None:
        return set(), set()
    other = {}
    for name, dims in shapes.input_dims.items():
        if dims is not None and None not in dims:
            other[name] = tuple(2 * d if i in symbolic.get(name, ()) else d for i, d in enumerate(dims))
    try:
        again = infer_shapes(model, graph, other, base=shapes)
    except Exception:  # noqa: BLE001 — a model that cannot be sized twice: every tensor it reads counts as dynamic
        return set(shapes.dims) - set(shapes.constants), set()
    moving = {t for t, dims in shapes.dims.items() if t not in shapes.constants and again.dims.get(t) != dims}
    known = [t for t in (*shapes.values, *shapes.pending) if t not in shapes.constants]
    computed = {t for t in known if not again.known(t) or again.ints(t) != shapes.ints(t)}
    # and those computed from a symbolic dim whatever its size (320 / H · H): onnxruntime folds a node only when
    # its inputs are constants, a Shape or Size only when the dims it reads are static
    tainted = set(graph.inputs)
    for node in graph.nodes:
        if node.location == MAIN and any(
                t in tainted and (node.op_type not in ("Shape", "Size") or t in moving) for t in node.inputs if t):
            tainted.update(o for o in node.outputs if o)
    computed |= tainted & set(known)
    # and the sizes onnxruntime's own shape inference cannot know, since it reads no computed value: a tensor made
    # to a size such a value gives (a ConstantOfShape of it, a Reshape to it), and what is computed from one
    opaque: set[str] = set()
    for node in graph.nodes:
        if node.location == MAIN and node.op_type not in ("Shape", "Size") and any(
                t in opaque or (t in computed and i in SIZING.get(node.op_type, ()))
                for i, t in enumerate(node.inputs) if t):
            opaque.update(o for o in node.outputs if o)
    return moving | opaque, computed


# the inputs whose value sets an op's output size
SIZING = {"Reshape": (1,), "Expand": (1,), "Tile": (1,), "ConstantOfShape": (0,), "Range": (0, 1, 2),
          "Slice": (1, 2, 3, 4), "Resize": (2, 3), "Upsample": (1,), "Pad": (1, 3), "Squeeze": (1,), "Unsqueeze": (1,),
          "TopK": (1,), "Split": (1,), "OneHot": (1,), "CenterCropPad": (1,), "ReduceSum": (1,), "ReduceMean": (1,),
          "ReduceMax": (1,), "ReduceMin": (1,), "ReduceProd": (1,), "ReduceL1": (1,), "ReduceL2": (1,),
          "ReduceLogSum": (1,), "ReduceLogSumExp": (1,), "ReduceSumSquare": (1,)}
