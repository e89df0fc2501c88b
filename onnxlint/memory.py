"""Live activation memory over the main graph's execution order: the peak, where it is, the timeline, and
what is live there (DOMAIN.md §9); and the size of a tensor."""
from __future__ import annotations

import math
from dataclasses import dataclass

from onnxlint.dtypes import tensor_nbytes
from onnxlint.graph import Node
from onnxlint.shapes import Shapes


def tensor_bytes(shapes: Shapes, name: str) -> int | None:
    return dims_nbytes(shapes.dims.get(name), shapes.dtype.get(name, 0))


def dims_nbytes(dims: tuple | None, elem_type: int) -> int | None:
    return None if dims is None or None in dims else tensor_nbytes(elem_type, math.prod(dims))


@dataclass(slots=True)
class Memory:
    """Live activation memory over the main graph's execution order (DOMAIN.md §9)."""
    peak: int
    peak_index: int | None  # the step where it peaks
    peak_node: Node | None
    unknown: int  # activations of unknown size (then every figure is a lower bound)
    timeline: list[int]  # live bytes after each step allocates its outputs
    peak_live: list[tuple[str, int]]  # the tensors live at the peak, largest first


def peak_activation(graph, shapes: Shapes, sizes: dict | None = None) -> Memory:
    """Walk the main graph in execution order: each node allocates its outputs, and a tensor is freed after
    its last consumer has run (DOMAIN.md §9). Inputs count, weights and other constants do not; graph
    outputs, and inputs no node reads, are never freed. One walk gives the peak, where it is and the whole
    timeline; a second, up to the peak, what is live there. `sizes`: output bytes already computed."""
    last, keep, constants = graph.last_use, set(graph.outputs), shapes.constants
    sizes = sizes or {}

    def size_of(out: str) -> int | None:
        return sizes[out] if out in sizes else tensor_bytes(shapes, out)

    freed: dict[int, int] = {}  # step → bytes freed after it
    current = unknown = 0
    for name in shapes.input_dims:
        size = tensor_bytes(shapes, name)
        unknown += size is None
        current += size or 0
        if name not in keep and name in last:
            freed[last[name]] = freed.get(last[name], 0) + (size or 0)
    peak, peak_index, peak_node, timeline = 0, None, None, []
    main = [node for node in graph.nodes if node.parent is None]  # a subgraph's tensors live in its owner's step
    for index, node in enumerate(main):
        for out in node.outputs:
            if out and out not in constants:
                size = size_of(out)
                if size is None:
                    unknown += 1
                    continue
                current += size
                if out not in keep:  # freed after its last reader (after its own step when nothing reads it)
                    end = max(last.get(out, index), index)
                    freed[end] = freed.get(end, 0) + size
        timeline.append(current)
        if current > peak:
            peak, peak_index, peak_node = current, index, node
        current -= freed.pop(index, 0)
    at_peak = []
    if peak_index is not None:  # alive at the peak: made at or before it, last read at or after it
        for name in shapes.input_dims:
            if name in keep or name not in last or last[name] >= peak_index:
                at_peak.append((name, tensor_bytes(shapes, name) or 0))
        for index, node in enumerate(main[:peak_index + 1]):
            for out in node.outputs:
                if out and out not in constants and (out in keep or max(last.get(out, index), index) >= peak_index):
                    at_peak.append((out, size_of(out) or 0))
        at_peak.sort(key=lambda item: (-item[1], item[0]))
    return Memory(peak, peak_index, peak_node, unknown, timeline, at_peak)
