"""fp16 on onnxruntime's CPU provider: which layers run in fp16 and which in fp32, and how many Cast nodes
onnxruntime inserts between them. Read from the kernels the installed onnxruntime registers for its CPU provider
(its own table, with the types each kernel takes), by the rule of its InsertCastTransformer: a node whose op has
no float16 kernel runs in fp32 between inserted casts; a node with a float16 kernel between such nodes runs in
fp32 too (its IsIsolatedFp16NodeOnCpu, read with the op schemas of the installed onnxruntime); the casts that
cancel out are removed (RemoveDuplicateCastTransformer). Imported only for `--target ort-cpu` on an fp16 model."""
from __future__ import annotations

from functools import cache

from onnxlint.graph import Graph, Node
from onnxlint.lookthrough import ort_producer, ort_readers, ort_removed, ort_tensor
from onnxlint.proto import TensorProto
from onnxlint.shapes import Shapes

_HALF = TensorProto.FLOAT16


@cache
def fp16_kernels() -> frozenset:
    """(domain, op, first opset, last opset) of every CPU kernel that takes float16, from onnxruntime itself."""
    from onnxruntime.capi import onnxruntime_pybind11_state as C

    return frozenset((k.domain, k.op_name, *k.version_range) for k in C.get_all_opkernel_def()
                     if k.provider == "CPUExecutionProvider"
                     and any("tensor(float16)" in types for types in k.type_constraints.values()))


def has_fp16_kernel(node: Node, opsets: dict) -> bool:
    version = opsets.get(node.domain, 0)
    return any(d == node.domain and op == node.op_type and first <= version <= last
               for d, op, first, last in fp16_kernels())


def fp32_fallbacks(nodes: list[Node], graph: Graph, shapes: Shapes) -> tuple[list[Node], set[Node], int]:
    """(the nodes that compute on float16 tensors, those of them that run in fp32, the Cast nodes onnxruntime
    inserts between the two). onnxruntime removes Identity and Dropout nodes first; they are looked through."""
    def half(t):
        return bool(t) and shapes.dtype.get(t) == _HALF

    def edge(t):  # the node a tensor comes from in onnxruntime's graph (a Constant is an initializer there)
        node = ort_producer(graph, t)
        return node if node is not None and node.op_type != "Constant" else None

    nodes = [n for n in nodes if n.op_type not in ("Cast", "Constant") and not ort_removed(n, graph)
             and any(half(t) for t in (*n.inputs, *n.outputs))]
    fp32 = {n for n in nodes if not has_fp16_kernel(n, shapes.opsets) and any(half(t) for t in n.inputs)}
    # IsIsolatedFp16NodeOnCpu, one pass in the file's order (each forced node seen by those after it): a node with
    # a float16 kernel runs in fp32 when it reads some node's output, makes no graph output, and the float16
    # tensors it checks (per formal parameter of its schema, the first one given) come only from, and go only
    # to, nodes that run in fp32
    for n in nodes:
        slots = _checked_slots(n, shapes.opsets)
        if n in fp32 or slots is None or n.op_type in _SUBGRAPHS or any(o in graph.outputs for o in n.outputs) \
                or not any(edge(t) for t in n.inputs if t):
            continue
        inputs = [n.inputs[i] for i in slots[0] if half(n.inputs[i])]
        outputs = [n.outputs[i] for i in slots[1] if half(n.outputs[i])]
        if inputs and outputs and all(edge(t) is None or edge(t) in fp32 for t in inputs) \
                and all(r in fp32 for t in outputs for r in ort_readers(graph, t)):
            fp32.add(n)
    return nodes, fp32, _casts(fp32, graph, shapes)


@cache
def _schemas() -> dict:
    from onnxruntime.capi import onnxruntime_pybind11_state as C

    found: dict = {}
    for schema in C.get_all_operator_schema():
        found.setdefault((schema.domain, schema.name), []).append(schema)
    return found


def _checked_slots(node: Node, opsets: dict) -> tuple[list[int], list[int]] | None:
    """The input and output positions onnxruntime looks at for float16: per formal parameter typed by a type
    variable, the first tensor given (a variadic one's first only); None without a schema."""
    version = opsets.get(node.domain, 0)
    schemas = [s for s in _schemas().get((node.domain, node.op_type), []) if s.since_version <= version]
    if not schemas:
        return None
    schema = max(schemas, key=lambda s: s.since_version)
    typed = {c.type_param_str for c in schema.type_constraints}
    inputs, at = [], 0
    for formal in schema.inputs:
        count = max(len(node.inputs) - at, 0) if str(formal.option).endswith("Variadic") else 1
        given = [i for i in range(at, min(at + count, len(node.inputs))) if node.inputs[i]]
        if formal.typeStr in typed and given:
            inputs.append(given[0])
        at += count
    outputs = [i for i, formal in enumerate(schema.outputs[:len(node.outputs)])
               if formal.typeStr in typed and node.outputs[i]]
    return inputs, outputs


def _casts(fp32: set, graph: Graph, shapes: Shapes) -> int:
    """The Cast nodes left once onnxruntime has removed each pair that cancels out (RemoveDuplicateCastTransformer):
    one per float16 tensor an fp32 node reads that does not come from an fp32 node or from a Cast of a float32
    value, and one per float16 result of an fp32 node that the graph's output or an fp16 node reads."""
    def from_float(node):
        return node is not None and node.op_type == "Cast" and shapes.dtype.get(node.inputs[0]) == TensorProto.FLOAT

    into = {ort_tensor(graph, t) for n in fp32 for t in n.inputs if t and shapes.dtype.get(t) == _HALF}
    into = {t for t in into if not from_float(graph.producer.get(t)) and graph.producer.get(t) not in fp32}
    out = [t for n in fp32 for t in n.outputs if t and shapes.dtype.get(t) == _HALF and (
        t in graph.outputs or any(r not in fp32 and not (r.op_type == "Cast" and r.attrs.get("to") == TensorProto.FLOAT)
                                 for r in ort_readers(graph, t)))]
    return len(into) + len(out)


_SUBGRAPHS = frozenset(("If", "Loop", "Scan"))
