"""fp16 on onnxruntime's CPU provider: which layers run in fp16 and which in fp32, and how many Cast nodes
onnxruntime inserts between them. Read from the kernels the installed onnxruntime registers for its CPU provider
(its own table, with the types each kernel takes), by the rule of its InsertCastTransformer: a node whose op has
no float16 kernel runs in fp32 between inserted casts; a node that only moves data (Flatten, Reshape...) with a
float16 kernel of its own runs in fp32 too when everything around it does, so no cast is spent on it; one Cast
per tensor that crosses between the two. Imported only for `--target ort-cpu` on an fp16 model."""
from __future__ import annotations

from functools import cache

from onnxlint.graph import Graph, Node
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
    inserts between the two)."""
    half = [n for n in nodes if any(shapes.dtype.get(t) == _HALF for t in (*n.inputs, *n.outputs) if t)
            and n.op_type not in ("Cast", "Constant")]
    fp32 = {n for n in half if not has_fp16_kernel(n, shapes.opsets)}
    moved = True
    while moved:  # a data mover surrounded by fp32 nodes runs in fp32 too (no cast is spent on it)
        moved = False
        for n in half:
            if n in fp32 or n.op not in _DATA_MOVERS or any(o in graph.outputs for o in n.outputs):
                continue
            around = [graph.producer.get(t) for t in n.inputs if t] + [c for o in n.outputs for c in graph.consumers(o)]
            if around and all(a in fp32 for a in around if a is not None) and any(a is not None for a in around):
                fp32.add(n)
                moved = True
    return half, fp32, _casts(fp32, graph, shapes)


def _casts(fp32: set, graph: Graph, shapes: Shapes) -> int:
    """One Cast per float16 tensor read in fp32 (an input, a weight, an fp16 node's output) and per fp32 result
    that an fp16 node or the graph's output reads."""
    into = {t for n in fp32 for t in n.inputs if t and shapes.dtype.get(t) == _HALF
            and graph.producer.get(t) not in fp32}
    out = {t for n in fp32 for t in n.outputs if t and shapes.dtype.get(t) == _HALF
           and (t in graph.outputs or any(c not in fp32 for c in graph.consumers(t)))}
    return len(into) + len(out)


# ops that only move or reshape data: onnxruntime runs them in fp32 with their neighbours rather than cast around
_DATA_MOVERS = frozenset("Flatten Reshape Squeeze Unsqueeze Transpose Identity Concat Split Slice Gather Expand "
                         "Tile Pad".split())
