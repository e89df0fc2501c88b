"""The deployment view (`--target`): how a target will run the model, predicted from the model's own graph by the
target's own rules, before the rules run (a stage of facts, like execution: rules/ol6* read them), and proved by
the target itself with `--verify` where it can run here.

One table of targets. Each declares what it predicts, where its facts come from, and how `--verify` proves it;
its module (in this package) has `predict(graph, shapes, deployment)`, which fills the Deployment, and, when the
target can be proved here, `prove(loaded, shapes, limits)`, which returns what the target itself did (from the
sandboxed child) or why not. Adding a target is one entry here and one module: docs/architecture.md."""
from __future__ import annotations

import importlib
import platform
from dataclasses import dataclass

from onnxlint.deploy.facts import INT8_RUNS, QOPERATOR, Deployment, Run, runtime_version
from onnxlint.graph import Graph
from onnxlint.proto import TensorProto
from onnxlint.shapes import Shapes

__all__ = ["INT8_RUNS", "TARGETS", "Deployment", "Run", "Target", "deployment", "prove", "runtime_version"]


@dataclass(frozen=True)
class Target:
    name: str  # the --target value
    module: str  # onnxlint.deploy.<module>: predict(), and prove() when it can be proved here
    predicts: str  # what the view says
    facts: str  # where the prediction's facts come from
    proof: str  # how --verify proves it (or why it cannot here)


TARGETS = {t.name: t for t in (
    Target("ort-cpu", "ort_cpu",
           "per Conv, Gemm and MatMul: int8 or float (a quantized model), fp16 or fp32 (an fp16 model), and the "
           "reason of each fallback",
           "onnxruntime's QDQ selectors (ported, by version) and the installed onnxruntime's CPU kernel registry",
           "the graph onnxruntime's optimizer makes (ORT_ENABLE_EXTENDED) in the sandboxed child: OL604 where a "
           "layer differs"),
    Target("nnapi", "mobile",
           "the partitions between NNAPI and the CPU, and why each CPU node stays there",
           "the installed onnxruntime's tools/mobile_helpers/nnapi_supported_ops.md, partitioned by its "
           "usability checker's algorithm",
           "none here: NNAPI runs on Android devices only"),
    Target("coreml", "mobile",
           "the partitions between CoreML (ML Program) and the CPU, and why each CPU node stays there",
           "the installed onnxruntime's tools/mobile_helpers/coreml_supported_mlprogram_ops.md, partitioned by its "
           "usability checker's algorithm",
           "none here: CoreML runs on Apple devices only"),
    Target("qnn-htp", "qnn",
           "which nodes Qualcomm's QNN provider runs on the HTP and which stay on the CPU, with the cause of each "
           "(an op without a QNN op builder, a dynamic dim, a size not known before it runs), and the partitions",
           "onnxruntime-qnn 2.7.0's op builders (onnxruntime's qnn/builder/op_builder_factory.cc), its static-shape "
           "rule and QDQ node groups, partitioned by onnxruntime's partitioning walk",
           "with onnxruntime-qnn installed (pip install onnxlint[qnn]): the provider's own node assignment "
           "(session.record_ep_graph_assignment_info) in the sandboxed child, its HTP backend emulating an SM8650; "
           "OL604 where a node differs"),
    Target("openvino", "openvino",
           "which nodes Intel's OpenVINO provider (device CPU) takes and which stay on onnxruntime's CPU provider, "
           "with the cause of each (an op or an element type it does not take, a scalar, an op mode it refuses, "
           "its partitioning rules), and the subgraphs",
           "onnxruntime-openvino 1.24.1's GetCapability (intel/onnxruntime v5.9: ov_versions/data_ops.cc and "
           "capability.cc, OpenVINO 2025.4), ported",
           "with onnxruntime-openvino in the environment whose python ONNXLINT_OPENVINO_PYTHON names, or in this "
           "one (it bundles its own onnxruntime): the provider's own node assignment in the sandboxed child; OL604 "
           "where a node differs"),
    Target("cuda", "cuda",
           "which nodes onnxruntime-gpu's CUDA provider runs and which stay on the CPU provider, with the cause of "
           "each (an op or an element type it has no kernel for, an op mode it refuses, the shape arithmetic it "
           "leaves to the CPU); not proven on a device",
           "onnxruntime-gpu 1.31.1's CUDA kernel registry (read from it: deploy/cuda_registry.py), its GetCapability "
           "and GetCpuPreferredNodes, ported",
           "with onnxruntime-gpu in the environment whose python ONNXLINT_CUDA_PYTHON names, or in this one: the "
           "provider's own node assignment in the sandboxed child (on a machine without a GPU, through "
           "benchmarks/gpu_standin.py's stand-in CUDA runtime); OL604 where a node differs"),
)}


def model_kind(graph: Graph, shapes: Shapes) -> str:
    """"int8" (Q/DQ or QOperator nodes), "fp16" (a float16 tensor) or "float": what the model is."""
    if any(n.op_type in ("QuantizeLinear", "DequantizeLinear") or (n.domain, n.op_type) in QOPERATOR
           for n in graph.nodes):
        return "int8"
    return "fp16" if any(t == TensorProto.FLOAT16 for t in shapes.dtype.values()) else "float"


def deployment(graph: Graph, shapes: Shapes, target: str, model=None) -> Deployment:
    """The prediction for `target` (a key of TARGETS); `model`, the ModelProto, for a target that sizes the graph
    again (qnn-htp: which tensors follow a symbolic input dim)."""
    found = Deployment(target, runtime_version(), platform.machine().lower(), model_kind(graph, shapes))
    _module(target).predict(graph, shapes, found, model)
    return found


def prove(found: Deployment, loaded, shapes: Shapes, limits) -> None:
    """With --verify: what the target itself did, in `found.proved`, where the target can run here."""
    module = _module(found.target)
    if (found.runs or found.mobile is not None) and hasattr(module, "prove"):
        found.proved = module.prove(loaded, shapes, limits)


def _module(target: str):
    return importlib.import_module(f"onnxlint.deploy.{TARGETS[target].module}")
