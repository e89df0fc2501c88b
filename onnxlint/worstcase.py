"""The worst case where the data decides a size: MACs and peak activation memory with every
bounded size at its bound (shapes/bounds.py), a Loop at its trip count and an If whose condition is unknown at
its costlier branch. What a deployment sizes its memory and latency for; exact figures stay exact."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from onnxlint.cost import Totals, macs, op_label, runs_of
from onnxlint.graph import Graph
from onnxlint.memory import peak_activation
from onnxlint.shapes import Shapes


@dataclass(slots=True)
class Bounds:
    macs: int | None  # every layer at its bound; None when some layer has none (unknown_layers)
    peak: int | None  # the activation peak at the bounded sizes; None when some size has no bound
    peak_at: str | None
    layers: list = field(default_factory=list)  # (node, op, MACs at the bound, the op that bounds it)
    tensors: int = 0  # activations counted at their bound
    unknown_layers: list = field(default_factory=list)  # (node, op, why) of the layers with no bound
    unknown_tensors: int = 0  # activations with no bound
    dims: dict = field(default_factory=dict, repr=False)  # tensor → its bounded dims (where it has a bound)
    peak_label: str | None = None  # as Totals.peak_label
    timeline: list = field(default_factory=list, repr=False)  # live bytes per main-graph step at the bounds

    def sources(self) -> str:
        """'TopK ×2, NonZero': the ops whose data-decided sizes bound the layers, most layers first."""
        found = Counter(by for *_, by in self.layers if by)
        return ", ".join(op if n == 1 else f"{op} ×{n}" for op, n in found.most_common())


def worst_case(graph: Graph, exact: Shapes, upper: Shapes | None, totals: Totals, layers) -> Bounds | None:
    """The totals at the bounds, or None when the exact totals are complete. `upper`: the bound pass' shapes
    (None when no size has a data-decided bound: then only Loops and Ifs can be bounded)."""
    if not totals.unknown_layers and not totals.unknown_tensors:
        return None
    upper = upper or exact
    bounded_by = upper.bounded or {}
    total, bounded, unknown, branches = 0, [], [], {}
    for layer in layers:
        node = layer.node
        if node in upper.dead:
            continue
        exact_runs = 1 if node.parent is None else runs_of(node, exact)[0]
        runs, branch = (1, None) if node.parent is None else runs_of(node, upper, most=True)
        found, why = (layer.macs, None) if layer.macs is not None else macs(node, upper)
        if found is None or (runs is None and found):
            unknown.append((layer.name, op_label(layer), why or "runs inside a loop whose trip count is unknown"))
            continue
        if runs is None:
            continue  # no MACs
        if layer.macs is None or (exact_runs is None and found):
            by = next((bounded_by[n] for n in (*layer.outputs, *layer.inputs) if n in bounded_by), None)
            bounded.append((layer.name, op_label(layer), found * runs, by[1].op_type if by is not None else "Loop"))
        if branch is not None:
            cost = branches.setdefault(branch[0], {"then_branch": 0, "else_branch": 0})
            cost[branch[1]] += found * runs
        else:
            total += found * runs
    for if_node, cost in branches.items():
        total += max(cost.values())
        if cost["then_branch"] != cost["else_branch"]:
            bounded.append((if_node.name, "If", max(cost.values()), "If"))
    memory = peak_activation(graph, upper) if totals.unknown_tensors else None
    if memory is None:
        peak, peak_at, label, left = totals.peak_activation_bytes, totals.peak_at, totals.peak_label, 0
    else:
        left = memory.unknown
        peak = memory.peak if not left else None
        peak_at = memory.peak_node.name if memory.peak_node is not None else None
        label = memory.peak_node.label if memory.peak_node is not None else None
    dims = {name: upper.dims[name] for name in bounded_by
            if _whole(upper.dims.get(name)) and not _whole(exact.dims.get(name))}
    return Bounds(None if unknown else total, peak, peak_at, bounded, totals.unknown_tensors - left, unknown, left,
                  dims, label, memory.timeline if memory is not None and not left else [])


def _whole(dims) -> bool:
    return dims is not None and None not in dims
