"""What a deployment view says, whatever the target: how each layer runs (Run), the partitions, and the proof
(Deployment, the facts the OL6 rules read and the report keeps)."""
from __future__ import annotations

from dataclasses import dataclass, field

from onnxlint.graph import Node
from onnxlint.proto import TensorProto

# the MAC-bearing ops a QOperator model already holds in integer form, and the float ones a QDQ model fuses
QOPERATOR = {("", "QLinearConv"), ("", "ConvInteger"), ("", "QLinearMatMul"), ("", "MatMulInteger"),
             ("com.microsoft", "QGemm"), ("com.microsoft", "MatMulIntegerToFloat"),
             ("com.microsoft", "DynamicQuantizeMatMul"), ("com.microsoft", "QAttention")}
FLOAT_MACS = {"Conv", "Gemm", "MatMul"}
INT8_KERNEL = {"Conv": "QLinearConv", "Gemm": "QGemm"}
# what onnxruntime's optimized graph runs in integer arithmetic (its own ops and the com.microsoft ones it fuses to)
INT8_RUNS = {op for _, op in QOPERATOR} | {"QLinearConv", "QGemm", "QLinearMatMul", "MatMulIntegerToFloat",
                                          "NhwcQLinearConv"}


@dataclass(frozen=True)
class Run:
    """How one layer runs on the target: its precision, the kernel, and why it is not the precision the
    model asks for (None when it is)."""
    precision: str  # "int8", "float32", "float16"
    kernel: str
    reason: str | None = None
    detail: str | None = None  # the layer's own numbers behind the reason, when they differ from layer to layer


@dataclass
class Deployment:
    """What the target runs: per MAC-bearing layer (`runs`, by node), the fp16 casts onnxruntime inserts, and
    what onnxruntime's own optimizer made of it when --verify ran it (`proved`)."""
    target: str
    runtime: str  # the onnxruntime version the answer holds for
    machine: str  # the processor family of this onnxruntime build (x86_64, arm64...)
    kind: str  # "int8", "fp16" or "float": what the model is
    runs: dict = field(default_factory=dict)  # Node → Run
    casts: int = 0  # fp16: the Cast nodes onnxruntime inserts around the layers it runs in fp32
    proved: dict | str | None = None  # --verify: onnxruntime's optimized graph (sandbox.optimized), or why not
    mobile: object = None  # mobile.Partitions for nnapi/coreml

    def disagreements(self) -> list[tuple[Node, str, str]]:
        """(layer, predicted, what onnxruntime's optimized graph runs) wherever the two differ."""
        if not isinstance(self.proved, dict):
            return []
        if self.mobile is not None:
            return [c for c in self.mobile.compared(self.proved["nodes"]) if c[1] != c[2]]
        found = []
        for node, run in self.runs.items():
            op, elem = self.proved["nodes"].get(node.name, (None, 0))
            actual = ("int8" if op in INT8_RUNS else "float32") if self.kind == "int8" else \
                {TensorProto.FLOAT16: "float16", TensorProto.FLOAT: "float32"}.get(elem, f"type {elem}")
            if op is None or actual != run.precision:
                found.append((node, run.precision, f"{op or 'no node of that name'} ({actual})"))
        return found

    def summary(self, layers) -> dict:
        """The deployment as the report holds it (JSON `deployment`): per layer how it runs, the share of MACs
        in the precision the model asks for, and the proof when there is one."""
        macs = {layer.node: layer.macs for layer in layers}
        rows = [{"node": n.name, "module": n.origin.module if n.origin else None, "op_type": n.op_type,
                 "precision": r.precision, "kernel": r.kernel, "reason": r.reason, "detail": r.detail,
                 "macs": macs.get(n)}
                for n, r in self.runs.items()]
        data = {"target": self.target, "onnxruntime": self.runtime, "machine": self.machine, "model": self.kind,
                "layers": rows}
        if self.runs:
            wanted = "int8" if self.kind == "int8" else "float16"
            total = sum(macs.get(n) or 0 for n in self.runs)
            kept = sum(macs.get(n) or 0 for n, r in self.runs.items() if r.precision == wanted)
            data.update({f"{wanted}_macs": kept, "macs": total, f"{wanted}_share": round(kept / total, 4) if total
                         else None})
        if self.kind == "fp16":
            data["casts"] = self.casts
        if self.mobile is not None:
            data.update(self.mobile.summary(macs))
        if isinstance(self.proved, dict) and self.mobile is not None:
            compared = self.mobile.compared(self.proved["nodes"])
            data["proved"] = {"by": f"{self.proved['provider']}'s own node assignment", "unit": "nodes",
                              "layers": len(compared), "disagree": [{"node": n.name, "predicted": p, "provider": a}
                                                                    for n, p, a in compared if p != a]}
        elif self.proved is not None:
            data["proved"] = {"error": self.proved} if isinstance(self.proved, str) else {
                "by": f"onnxruntime {self.proved['runtime']}'s optimized graph (ORT_ENABLE_EXTENDED)",
                "layers": len(self.runs), "disagree": [{"node": n.name, "predicted": p, "onnxruntime": a}
                                                      for n, p, a in self.disagreements()],
                "casts": self.proved["casts"] if self.kind == "fp16" else None}
        return data


def runtime_version() -> str:
    from onnxlint.shapes.kernels import installed_build

    try:
        build = installed_build()
    except (OSError, ValueError):
        build = None
    return build[0] if build is not None else "not installed"


