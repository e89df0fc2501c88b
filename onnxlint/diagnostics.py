"""What a rule reports."""
from __future__ import annotations

import enum
from dataclasses import asdict, dataclass, field
from typing import Any


class Severity(enum.IntEnum):
    SUGGESTION = 1  # an efficiency opportunity
    WARNING = 2  # a likely bug or silent loss
    ERROR = 3  # the model is invalid or will fail at runtime

    @classmethod
    def parse(cls, text: str | Severity) -> Severity:
        if isinstance(text, Severity):
            return text
        try:
            return cls[str(text).upper()]
        except KeyError:
            raise ValueError(f"unknown severity '{text}' (expected error, warning or suggestion)") from None

    def __str__(self) -> str:
        return self.name.lower()


@dataclass(frozen=True)
class Savings:
    """What a suggestion saves, before → after, for this layer and as a share of the model."""
    params_before: int
    params_after: int
    macs_before: int
    macs_after: int
    model_params: int
    model_macs: int
    extra: dict = field(default_factory=dict)  # e.g. measured_ms_before/after from --what-if

    @property
    def params_saved_pct(self) -> float:
        return _pct(self.params_before - self.params_after, self.params_before)

    @property
    def macs_saved_pct(self) -> float:
        return _pct(self.macs_before - self.macs_after, self.macs_before)

    def to_dict(self) -> dict:
        data = asdict(self)
        extra = data.pop("extra")
        data.update(params_saved_pct=round(self.params_saved_pct, 1), macs_saved_pct=round(self.macs_saved_pct, 1),
                    model_macs_saved_pct=round(_pct(self.macs_before - self.macs_after, self.model_macs), 2),
                    model_params_saved_pct=round(_pct(self.params_before - self.params_after, self.model_params), 2))
        data.update(extra)
        return data


def _pct(part: int, whole: int) -> float:
    return 100.0 * part / whole if whole else 0.0


@dataclass
class Diagnostic:
    code: str
    name: str
    severity: Severity
    message: str
    node: str | None = None
    op_type: str | None = None
    location: str = "graph"
    suggestion: str | None = None
    savings: Savings | None = None
    source: str = "static"  # "onnxruntime" for findings from execution
    replacement: tuple = ()  # ConvSpecs of a suggested rewrite, for --what-if (not serialised)
    worth: float | None = None  # what acting on it saves, as a share of the model (MACs); None: not a number
    nodes: tuple = ()  # the other nodes the finding names (OL104: the layers its input size makes round)
    folded_into: str | None = None  # the code of the finding that states its root cause (OL104)
    module: str | None = None  # the node's PyTorch module path (layer1.0.conv2), when the exporter wrote it
    module_class: str | None = None
    source_file: str | None = None  # the innermost frame of user code that made the node
    source_line: int | None = None
    measured: str | None = None  # what --what-if measured of the replacement it suggests, in a sentence
    fix: str | None = None  # "exact" / "changes numerics" when `onnxlint fix` applies to it here
    fix_blocked: str | None = None  # why `onnxlint fix` would skip it here (then `fix` is None)
    # what the rule's check matched (the layers a fix rewrites), handed to its fix (not serialised)
    match: Any = field(default=None, repr=False, compare=False)

    @property
    def where(self) -> str | None:
        """How a person finds the node: the module path when there is one, else the node's name."""
        return self.module or self.node

    def to_dict(self) -> dict:
        return {"code": self.code, "name": self.name, "severity": str(self.severity), "node": self.node,
                "op_type": self.op_type, "location": self.location, "message": self.message,
                "suggestion": self.suggestion, "savings": self.savings.to_dict() if self.savings else None,
                "source": self.source, "worth": None if self.worth is None else round(self.worth, 4),
                "nodes": list(self.nodes), "folded_into": self.folded_into, "module": self.module,
                "module_class": self.module_class,
                "source_location": {"file": self.source_file, "line": self.source_line} if self.source_file else None,
                "measured": self.measured,
                "fix": ({"available": True, "applicability": self.fix} if self.fix else
                        {"available": False, "reason": self.fix_blocked} if self.fix_blocked else None)}


@dataclass
class Group:
    """One finding for a pattern that repeats on many nodes: the nodes stay listed (JSON, SARIF, --show-all)."""
    code: str
    name: str
    severity: Severity
    message: str
    suggestion: str | None
    members: list[Diagnostic]
    worth: float | None = None
    measured: str | None = None  # what --what-if measured of the members' replacements, together

    def to_dict(self) -> dict:
        return {"code": self.code, "name": self.name, "severity": str(self.severity), "message": self.message,
                "suggestion": self.suggestion, "measured": self.measured, "count": len(self.members),
                "worth": None if self.worth is None else round(self.worth, 4),
                "nodes": [{"node": d.node, "location": d.location} for d in self.members]}
