"""Report: model facts + layers + totals + diagnostics, and its JSON form (schema_version 1:
fields are only ever added, never renamed or removed)."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from onnxlint.cost import Layer, Totals
from onnxlint.diagnostics import Diagnostic, Group, Severity
from onnxlint.version import __version__

SCHEMA_VERSION = 1


@dataclass(repr=False)
class Report:
    path: str
    opset: int | None = None
    inputs: list[dict] = field(default_factory=list)
    totals: Totals | None = None
    layers: list[Layer] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)  # every finding, one per node
    groups: list[Group] = field(default_factory=list)  # the repeated ones, as a person reads them
    notes: list[str] = field(default_factory=list)
    info: list[str] = field(default_factory=list)  # notes with nothing to do (the symbolic batch taken as 1): -v
    verification: dict | None = None
    memory_budget: int | None = None  # the --memory-budget it was linted against, if any
    error: str | None = None  # why the model could not be read (then nothing else is set)
    error_class: str | None = None
    external_data: bool = False  # the model keeps its weights in external files
    suppressed: Any = None  # engine.Suppressed: what --ignore-node globs and the baseline took (not in the JSON)
    deployment: dict | None = None  # with --target: how the target runs each layer (deploy.Deployment.summary)

    def __repr__(self) -> str:  # one line in a REPL, not every layer's record
        if self.error is not None:
            return f"<Report {self.path}: {self.error_class}: {self.error}>"
        t = self.totals
        return (f"<Report {self.path}: {t.nodes:,} nodes, {t.params:,} params, {t.macs:,} MACs"
                f"{'' if t.macs_complete else ' (partial)'}, {self.count_text()}>")

    def count(self, severity: Severity) -> int:
        """The findings of this severity as a person reads them: a group once, a folded finding under its root."""
        return sum(item.severity == severity for item in self.findings())

    def count_text(self, diagnostics: list[Diagnostic] | None = None) -> str:
        """'1 warning, 4 suggestions (9 per node)': the one count every output gives, of `diagnostics` (default:
        all of this report's) as findings, with the per-node number beside it when it differs."""
        return count_text(self, self.diagnostics if diagnostics is None else diagnostics)

    def failing(self, fail_on: Severity) -> list[Diagnostic]:
        """The per-node findings at or above `fail_on` (what decides exit 1)."""
        return [d for d in self.diagnostics if d.severity >= fail_on]

    def finding_index(self) -> dict[int, Diagnostic | Group]:
        """id(per-node finding) → the finding a person reads it in: its group, or the root cause it is folded
        under; a finding that stands alone is not in it."""
        index: dict[int, Diagnostic | Group] = {}
        for group in self.groups:
            index.update((id(m), group) for m in group.members)
        roots = {(root.code, node): root for root in self.diagnostics if root.folded_into is None
                 for node in root.nodes}
        for member in self.diagnostics:
            root = roots.get((member.folded_into, member.node)) if member.folded_into else None
            if root is not None:
                index[id(member)] = index.get(id(root), root)
        return index

    def per_node(self) -> list[tuple[Diagnostic, Severity, str]]:
        """Every per-node finding as the CI formats (SARIF, GitHub, GitLab) annotate it: its severity and its text
        (message → suggestion). One folded under a root cause (OL101 under OL104) is a note that names the root
        and carries the root's advice, never its own: the root is the one finding to act on."""
        roots = {(root.code, node): root for root in self.diagnostics if root.folded_into is None
                 for node in root.nodes}
        out = []
        for d in self.diagnostics:
            root = roots.get((d.folded_into, d.node)) if d.folded_into else None
            if root is None:
                out.append((d, d.severity, d.message + (f" → {d.suggestion}" if d.suggestion else "")
                            + (f"; {d.measured}" if d.measured else "")))
                continue
            advice = f" → {root.suggestion}" if root.suggestion else ""
            out.append((d, Severity.SUGGESTION, f"{d.message} (a note, not a {d.severity}: a consequence of "
                        f"{root.code} at {root.where or 'the model input'}, the finding to act on: "
                        f"{root.message}){advice}"))
        return out

    def findings(self) -> list[Diagnostic | Group]:
        """What a person reads: groups for repeats, no finding whose root cause another one states; by
        severity, then by what acting on it saves the model, then in execution order."""
        position = {id(d): i for i, d in enumerate(self.diagnostics)}
        grouped = {id(d) for g in self.groups for d in g.members}
        items = list(self.groups) + [d for d in self.diagnostics if id(d) not in grouped and d.folded_into is None]

        def key(item):
            first = item.members[0] if isinstance(item, Group) else item
            return (-item.severity, item.worth is None, -(item.worth or 0), position.get(id(first), 0))
        return sorted(items, key=key)

    def model_dict(self, with_records: bool = True) -> dict:
        data: dict = {"path": self.path}
        if self.error is not None:
            data.update(error=self.error, error_class=self.error_class, diagnostics=[
                d.to_dict() for d in self.diagnostics])
            return data
        t = self.totals
        b = t.bounds
        data.update(
            opset=self.opset, inputs=self.inputs,
            totals={"nodes": t.nodes, "params": t.params, "param_bytes": t.param_bytes, "macs": t.macs,
                    "peak_activation_bytes": t.peak_activation_bytes, "peak_at": t.peak_at,
                    "peak_label": t.peak_label,
                    # macs and the peak count what is exact: lower bounds unless macs_complete / no unknown
                    # tensor; macs_upper and peak_upper hold the worst case where the data decides a size
                    "complete": t.complete, "macs_complete": t.macs_complete,
                    "macs_upper": t.macs_upper, "peak_upper": t.peak_upper, "unknown_tensors": t.unbounded_tensors,
                    "bounded_tensors": b.tensors if b is not None else 0,
                    "unknown_layers": [{"node": node, "op_type": op, "reason": why}
                                       for node, op, why in t.unbounded_layers],
                    "bounded_layers": [{"node": node, "op_type": op, "macs_upper": most, "bounded_by": by}
                                       for node, op, most, by in (b.layers if b is not None else ())],
                    "unplaced_initializers": [{"name": name, "elements": n, "copies": copies}
                                              for name, n, copies in t.unplaced]},
            layers=[layer_dict(layer, b.dims if b is not None else {}) for layer in self.layers]
            if with_records else [],
            diagnostics=[d.to_dict() for d in self.diagnostics] if with_records else [],
            groups=[g.to_dict() for g in self.groups],
            verification=self.verification, notes=self.notes + self.info)
        if self.deployment is not None:
            data["deployment"] = self.deployment
        return data

    def to_dict(self) -> dict:
        return envelope([self])

    # Presentation hooks, the one place data reaches up to its reporters: Jupyter's display protocol asks the
    # object itself for its HTML. Imported on call, so the reporters stay a layer above this module.
    def to_html(self) -> str:
        """The self-contained HTML page of this report (`--format html`)."""
        from onnxlint.reporters.html import render

        return render([self])

    def _repr_html_(self) -> str:  # Jupyter: the same report, without the page around it
        from onnxlint.reporters.html import fragment

        return fragment(self)


def count_text(report: Report, diagnostics: list[Diagnostic]) -> str:
    index = report.finding_index()
    items = {id(item): item for item in (index.get(id(d), d) for d in diagnostics)}.values()
    parts = [f"{n:,} {s}{'s' if n != 1 else ''}" for s in sorted(Severity, reverse=True)
             if (n := sum(item.severity == s for item in items))]
    per_node = f" ({len(diagnostics):,} per node)" if len(diagnostics) != len(items) else ""
    return (", ".join(parts) or "no findings") + per_node


def envelope(reports: list[Report], *, with_records: bool = True) -> dict:
    """The JSON document; `with_records=False` leaves each model's layer and finding records out
    (reporters/json.py streams them in)."""
    return {"schema_version": SCHEMA_VERSION, "onnxlint_version": __version__,
            "models": [r.model_dict(with_records) for r in reports]}


def layer_dict(layer: Layer, bounded: dict) -> dict:
    """`bounded`: tensor → its upper-bound dims, for the sizes the data decides (worstcase.Bounds.dims)."""
    shape = layer.output_shape
    origin = layer.origin
    return {"node": layer.name, "op_type": layer.op_type, "location": layer.scope,
            "module": origin.module if origin is not None else None,
            "module_class": origin.module_class if origin is not None else None,
            "output_shape": list(shape) if shape is not None else None,
            "outputs": [_output_dict(name, dims, elem, bounded.get(name))
                        for name, (dims, elem) in zip(layer.outputs, layer.output_types) if name],
            "params": layer.params, "macs": layer.macs, "output_bytes": layer.output_bytes, "constant": layer.constant,
            "receptive_field": list(layer.receptive_field) if layer.receptive_field is not None else None}


def _output_dict(name: str, dims, elem: int, bound: tuple | None) -> dict:
    """One output of a layer (Split, TopK, LSTM, MaxPool's indices... have several): unknown is None; a size
    the data decides has its upper bound (`bound`, `bytes_upper`)."""
    from onnxlint.dtypes import dtype_name, tensor_nbytes

    known = dims is not None and None not in dims
    return {"name": name, "shape": list(dims) if dims is not None else None,
            "dtype": dtype_name(elem) if elem else None,
            "bytes": tensor_nbytes(elem, math.prod(dims)) if known and elem else None,
            "bound": list(bound) if bound is not None else None,
            "bytes_upper": tensor_nbytes(elem, math.prod(bound)) if bound is not None and elem else None}
