"""`--target cuda`: which nodes the CUDA execution provider of onnxruntime-gpu runs and which it leaves to the
CPU provider, and why, predicted from the model's own graph by the provider's own rules (onnxruntime's
cuda_execution_provider.cc GetCapability and framework/fallback_cpu_capability.cc GetCpuPreferredNodes, ported):

- a node is the provider's when it has a kernel for it: its op at the version the model's opset gives it, every
  input and output bound to a type variable of the kernel of a type the kernel takes (onnxruntime's
  VerifyKernelDef; float16 only where the kernel takes float16), and its GetCapability does not refuse it: an
  LSTM, GRU or RNN with another activation than the default ones, a clip, activation_alpha/beta or input_forget,
  a GRU with linear_before_reset 0, an LSTM with peepholes; a ConvTranspose with asymmetric pads or auto_pad
  SAME_UPPER/SAME_LOWER; a Cast to string;
- then the nodes that compute on CPU tensors only move to the CPU (GetCpuPreferredNodes): from the results the
  provider's kernels leave in CPU memory (a Shape's, a Size's) and those of nodes already on the CPU, each reader
  whose every input is such a tensor, a small initializer (≤ 100 elements) or a graph input moves, unless one of
  its inputs is float16 (or bfloat16, float8) or the CUDA kernel reads it from CPU memory anyway (a Reshape's
  shape): the shape arithmetic of a dynamic dim stays beside its Shape, which saves a copy each way. The RNNs and
  ConvTranspose are never moved.

The kernels, and which of their inputs and outputs live in CPU memory, are onnxruntime-gpu 1.31.1's (its registry
as cuda_registry.py reads it, cuda_kernels.json). The graph is the one onnxruntime's basic optimizations leave
(mobile.ort_graph). Not proven on a device: `--verify` proves it with the provider itself, in the environment whose
python ONNXLINT_CUDA_PYTHON names (onnxruntime-gpu replaces onnxruntime)."""
from __future__ import annotations

import heapq
import json
import math
from functools import cache

from onnxlint.deploy.cuda_registry import SHIPPED
from onnxlint.deploy.mobile import Partitions, dynamic_tensors, ort_graph
from onnxlint.dtypes import onnx_type_name
from onnxlint.graph import Graph, Node, attr_text
from onnxlint.proto import TensorProto
from onnxlint.shapes import Shapes
from onnxlint.shapes.kernels import bound_types, registry, serving
from onnxlint.shapes.schema import schema_for

# what the view says it stands on, for the onnxruntime-gpu whose registry cuda_kernels.json holds
SOURCE = "{}'s CUDA provider (its kernel registry, GetCapability and GetCpuPreferredNodes)"
CAVEAT = "{}'s CUDA provider, not proven on a device"
NO_KERNEL = "no CUDA kernel"
MODE = "op mode refused"
BIAS = "int32 bias"  # a QDQ model's bias DequantizeLinear: the provider's kernel takes int8/uint8 (and 4-bit)
SHAPE = "shape arithmetic on the CPU"  # by design: cheaper than a copy each way, not a fallback
SMALL = 100  # kSmallInitializerThreshold
NARROW = {TensorProto.FLOAT16, TensorProto.BFLOAT16, TensorProto.FLOAT8E4M3FN, TensorProto.FLOAT8E4M3FNUZ,
          TensorProto.FLOAT8E5M2, TensorProto.FLOAT8E5M2FNUZ}
RNN_ACTIVATIONS = {"LSTM": ("sigmoid", "tanh", "tanh") * 2, "GRU": ("sigmoid", "tanh") * 2, "RNN": ("tanh",) * 2}
ADVICE = {
    NO_KERNEL: "give these ops a form the CUDA provider has kernels for (a QOperator model as QDQ, whose "
               "DequantizeLinear → float op → QuantizeLinear it runs; other element types cast to float32 or float16 "
               "in the exporter), or accept them on the CPU, a copy each way",
    BIAS: "the provider's DequantizeLinear takes int8 and uint8, not int32: quantize with quantize_static(..., "
          "extra_options={'QuantizeBias': False}), the biases stay float and each layer runs whole on the GPU",
    MODE: "export the op in a form the provider takes (symmetric explicit pads for a ConvTranspose; default "
          "activations for an RNN), or accept it on the CPU",
}
INSTALL = ("on a machine with an NVIDIA GPU: `python3 -m venv GPU && GPU/bin/pip install onnxruntime-gpu==1.31.1`, "
           "then ONNXLINT_CUDA_PYTHON=GPU/bin/python (without a GPU: benchmarks/gpu_standin.py)")
PROOF = {"package": "onnxruntime-gpu", "provider": "CUDAExecutionProvider", "options": {},
         "python": "ONNXLINT_CUDA_PYTHON", "max_ir": 13, "install": INSTALL}  # IR 14 it refuses


@cache
def table() -> dict:
    return json.loads(SHIPPED.read_text(encoding="utf-8"))


def predict(graph: Graph, shapes: Shapes, found, model=None) -> None:
    """The nodes the provider takes, in connected groups, and each CPU node with its cause, in `found.mobile`."""
    unfolded = dynamic_tensors(graph, shapes, model)[1]
    nodes, producers, consumers, alias = ort_graph(graph, shapes, keep_dequantize=True, unfolded=unfolded)
    version = table()["onnxruntime"]
    out = Partitions(found.target, SOURCE.format(version), len(nodes), provider=PROOF["provider"], advice=ADVICE,
                     readers=consumers, caveat=CAVEAT.format(version), compiled=False)
    memory, refused = {}, {}
    for node in nodes:
        why, memory[node] = _kernel(node, shapes)
        if why and node.op_type == "DequantizeLinear" and shapes.dtype.get(node.inputs[0]) == TensorProto.INT32:
            why = f"{BIAS}: '{node.inputs[0]}'"
        why = why or _mode(node)
        if why:
            refused[node] = why
    made = {o for n in nodes for o in n.outputs if o}
    small = {t for t in {alias.get(t, t) for n in nodes for t in n.inputs if t} - made
             if (t in graph.initializers or t in shapes.values or t in shapes.pending) and t not in unfolded
             and (dims := shapes.dims.get(t)) is not None and None not in dims and math.prod(dims) <= SMALL}
    moved = _cpu_preferred(graph, nodes, consumers, refused, memory, small, shapes, alias)
    out.cpu.update(refused)
    out.cpu.update((n, f"{SHAPE}: {n.op_type} computes on CPU tensors only") for n in moved)
    out.groups = _connected([n for n in nodes if n not in out.cpu], producers, consumers)
    found.mobile = out


def prove(loaded, shapes: Shapes, limits):
    """The provider's own placement of each node (or why not): verify.provider_assignment, in the interpreter
    ONNXLINT_CUDA_PYTHON names, else in this one (an environment whose onnxruntime is onnxruntime-gpu)."""
    from onnxlint.verify import provider_assignment

    return provider_assignment(loaded, shapes, PROOF, limits)


def _kernel(node: Node, shapes: Shapes) -> tuple[str | None, tuple]:
    """(why the provider has no kernel for the node, or None; (its inputs, its outputs) in CPU memory)."""
    domain = "" if node.domain == "ai.onnx" else node.domain
    key, found = f"{domain}:{node.op_type}", table()
    opset = shapes.opsets.get(domain)
    versions = [v for v in found["since"].get(key, ()) if opset is not None and v <= opset]
    if not versions:  # an op the runtime does not know (OL006/OL007 say so)
        return f"{NO_KERNEL}: {node.op_type if not domain else key}", ((), ())
    since = versions[-1]
    kernels = serving(found, key, since)
    memory = _memory(key, since)
    schema = schema_for(domain, node.op_type, opset) if domain in ("", "ai.onnx.ml") else None
    if not kernels:
        cpu = registry()
        if schema is not None and schema[-1] and cpu is not None and not serving(cpu, key, since):
            return None, memory  # no provider has a kernel: onnxruntime expands its function body, whose nodes the
            # CUDA provider takes (not compared: they are named anew)
        return f"{NO_KERNEL}: {node.op_type if not domain else key}" + (f"({since})" if key in found["kernels"]
                                                                         else ""), memory
    if schema is None:  # an op onnx's table does not describe (com.microsoft): its types are not known here
        return None, memory
    ins = [shapes.dtype.get(t, 0) if t else -1 for t in node.inputs]
    outs = [shapes.dtype.get(t, 0) for t in node.outputs]
    bound = bound_types(schema, ins, outs)
    strict = lambda types, elem: f"tensor({onnx_type_name(elem)})" in types  # noqa: E731 — no float16-as-float
    if any(all(strict(types[var], elem) for var, uses in bound.items() if var in types for _, elem in uses)
           for types, _ in kernels):
        return None, memory
    for var, uses in bound.items():
        taken = {t for types, _ in kernels for t in types.get(var, ())}
        wrong = [(what, elem) for what, elem in uses if taken and not strict(taken, elem)]
        if wrong:
            return f"{NO_KERNEL}: {node.op_type}({since}) for {wrong[0][0]} of type {onnx_type_name(wrong[0][1])}", \
                memory
    return f"{NO_KERNEL}: {node.op_type}({since}) for this combination of types", memory


def _memory(key: str, since: int) -> tuple:
    """(inputs, outputs) the kernel keeps in CPU memory, as measured for that version of the op, or for the
    nearest version measured (the node tests do not reach every version; an op's shape-like inputs keep their
    memory across versions)."""
    measured = table()["memory"].get(key)
    if not measured:
        return (), ()
    nearest = min(measured, key=lambda v: (abs(int(v) - since), -int(v)))
    return tuple(measured[nearest][0]), tuple(measured[nearest][1])


def _mode(node: Node) -> str | None:
    """The provider's GetCapability refusals (RNNNeedFallbackToCPU, ConvTransposeNeedFallbackToCPU,
    CastNeedFallbackToCPU)."""
    op, attrs = node.op_type, node.attrs
    if op in RNN_ACTIVATIONS and not node.domain:
        for key in ("activation_alpha", "activation_beta", "clip"):
            if key in attrs:
                return f"{MODE}: {op} with {key}"
        given = attrs.get("activations")
        if isinstance(given, tuple) and any(
                i >= len(RNN_ACTIVATIONS[op]) or (a.decode("utf-8", "replace") if isinstance(a, bytes) else str(a)
                                                  ).lower() != RNN_ACTIVATIONS[op][i] for i, a in enumerate(given)):
            return f"{MODE}: {op} with activations other than the default"
        if op == "LSTM" and attrs.get("input_forget", 0) != 0:
            return f"{MODE}: LSTM with input_forget"
        if op == "GRU" and attrs.get("linear_before_reset", 0) != 1:
            return f"{MODE}: GRU with linear_before_reset 0 (cuDNN's GRU takes 1 only)"
        if op == "LSTM" and len(node.inputs) == 8 and node.inputs[7]:
            return f"{MODE}: LSTM with peepholes"
    if op == "ConvTranspose" and not node.domain:
        pads = attrs.get("pads")
        if isinstance(pads, tuple) and len(pads) % 2 == 0 and pads[:len(pads) // 2] != pads[len(pads) // 2:]:
            return f"{MODE}: ConvTranspose with asymmetric pads {list(pads)}"
        if attr_text(node, "auto_pad") in ("SAME_UPPER", "SAME_LOWER"):
            return f"{MODE}: ConvTranspose with auto_pad {attr_text(node, 'auto_pad')}"
    if op == "Cast" and not node.domain and attrs.get("to") == TensorProto.STRING:
        return f"{MODE}: Cast to string"
    return None


def _cpu_preferred(graph: Graph, nodes: list, consumers: dict, refused: dict, memory: dict, small: set,
                   shapes: Shapes, alias: dict) -> list:
    """The provider's nodes that GetCpuPreferredNodes moves to the CPU, in the order it moves them."""
    position = {n: i for i, n in enumerate(nodes)}
    forced = {n for n in nodes if n.op_type in RNN_ACTIVATIONS or n.op_type == "ConvTranspose"}  # force_inside
    tentative = {n for n in nodes if n not in refused and n not in forced}
    on_cpu: set[str] = set()
    heap: list = []
    for node in tentative:  # the readers of each result a kernel leaves in CPU memory
        for i, t in enumerate(node.outputs):
            if t and i in memory[node][1]:
                on_cpu.add(t)
                heap.extend((position[r], r.index, r) for r in consumers[node])
    heapq.heapify(heap)
    inputs = set(graph.inputs)
    seen, moved = set(), []
    while heap:
        _, _, node = heapq.heappop(heap)
        if node in seen:
            continue
        seen.add(node)
        if node not in tentative:  # taken as on the CPU (no kernel, refused; a forced one too, as onnxruntime
            # has it): its results are CPU tensors
            on_cpu.update(t for t in node.outputs if t)
            for r in consumers[node]:
                heapq.heappush(heap, (position[r], r.index, r))
            continue
        place = True
        for i, t in enumerate(alias.get(t, t) for t in node.inputs):
            if t and shapes.dtype.get(t) in NARROW:
                place = False
                break
            if t and (t in small or t in inputs):
                continue
            if not t or t not in on_cpu or i in memory[node][0]:
                place = False
                break
        if place:
            moved.append(node)
            on_cpu.update(t for t in node.outputs if t)
            for r in consumers[node]:
                heapq.heappush(heap, (position[r], r.index, r))
    return moved


def _connected(kept: list, producers: dict, consumers: dict) -> list[list]:
    """The provider's nodes in connected groups (each node is a subgraph of its own to onnxruntime; the groups
    are what runs on the GPU between two hand-overs to the CPU)."""
    inside, groups, order = set(kept), [], {n: i for i, n in enumerate(kept)}
    for start in kept:
        if start not in inside:
            continue
        group, todo = [], [start]
        inside.discard(start)
        while todo:
            node = todo.pop()
            group.append(node)
            for other in (*producers[node], *consumers[node]):
                if other in inside:
                    inside.discard(other)
                    todo.append(other)
        groups.append(sorted(group, key=order.__getitem__))
    return groups
