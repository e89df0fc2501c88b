"""The CUDA provider's kernel table, which `--target cuda` predicts from (cuda_kernels.json beside this module),
read from onnxruntime-gpu itself: `python -m onnxlint.deploy.cuda_registry --write`, run in an environment whose
onnxruntime is onnxruntime-gpu, on a machine with a GPU or on one without through the stand-in CUDA runtime of
benchmarks/gpu_standin.py (the provider library loads and creates sessions; no kernel runs).

Two facts per kernel:
- what onnxruntime's registry says of it (op, domain, versions, type constraints: `get_all_opkernel_def`);
- which of its inputs and outputs it keeps in CPU memory (its definition's memory types, which the registry's
  Python view does not show): measured, by creating a session of each of onnx's node tests with every input and
  output passed through an Identity, and reading where onnxruntime inserted a copy to or from the host."""
from __future__ import annotations

import json
import sys
import tempfile
import warnings
from pathlib import Path

SHIPPED = Path(__file__).with_name("cuda_kernels.json")
DOMAINS = ("", "ai.onnx.ml", "com.microsoft")
PROVIDER = "CUDAExecutionProvider"


def generate() -> dict:
    """The table of the installed onnxruntime-gpu: {"onnxruntime", "since", "kernels", "memory"}."""
    from importlib.metadata import version

    from onnxruntime.capi import onnxruntime_pybind11_state as C

    since: dict[str, set] = {}
    for schema in C.get_all_operator_schema():
        if schema.domain in DOMAINS:
            since.setdefault(f"{schema.domain}:{schema.name}", set()).add(schema.since_version)
    kernels: dict[str, list] = {}
    for k in C.get_all_opkernel_def():
        if k.provider == PROVIDER and k.domain in DOMAINS:
            kernels.setdefault(f"{k.domain}:{k.op_name}", []).append(
                [*k.version_range, {name: sorted(types) for name, types in k.type_constraints.items()}])
    for entries in kernels.values():
        entries.sort(key=lambda e: (e[0], e[1], json.dumps(e[2], sort_keys=True)))
    return {"onnxruntime": f"onnxruntime-gpu {version('onnxruntime-gpu')}",
            "since": {op: sorted(v) for op, v in sorted(since.items())}, "kernels": dict(sorted(kernels.items())),
            "memory": memory_types(kernels, since)}


def memory_types(kernels: dict, since_of: dict) -> dict:
    """'domain:Op' → {since version: [the inputs it reads from CPU memory, the outputs it writes there]}, for the
    kernels onnx's node tests reach (an op none reaches: none said)."""
    import onnxruntime as ort
    from onnx.backend.test.case.node import collect_testcases

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cases = [c for c in collect_testcases(None) if c.model is not None and len(c.model.graph.node) == 1]
    found: dict[str, dict[int, list]] = {}
    ort.set_default_logger_severity(4)
    with tempfile.TemporaryDirectory() as tmp:
        for case in cases:
            node = case.model.graph.node[0]
            domain = "" if node.domain == "ai.onnx" else node.domain
            key = f"{domain}:{node.op_type}"
            if key not in kernels:
                continue
            opset = next((o.version for o in case.model.opset_import
                          if o.domain == domain or (not domain and o.domain == "ai.onnx")), 1)
            # each version of the op the runtime knows, up to the test's: the test's model at that opset (one the
            # older schema refuses fails, and says nothing)
            for since in [v for v in since_of.get(key, ()) if v <= opset]:
                placed = _probe(case.model, domain, since, Path(tmp))
                if placed is not None:
                    ins, outs = found.setdefault(key, {}).setdefault(since, [[], []])
                    ins[:] = sorted(set(ins) | placed[0])
                    outs[:] = sorted(set(outs) | placed[1])
    return {key: {str(v): sides for v, sides in sorted(by.items())} for key, by in sorted(found.items())}


def _probe(model, domain: str, version: int, tmp: Path) -> tuple[set, set] | None:
    """(the node's inputs read from CPU memory, its outputs written there) when onnxruntime places the model's one
    node, at that version of its domain, on the CUDA provider, else None. A CPU input has a copy to the host
    before it; a CPU output, a copy from the host after it, or a reader onnxruntime moved to the CPU because of it
    (the CUDA provider's GetCpuPreferredNodes)."""
    import onnx
    import onnxruntime as ort
    from onnx import helper

    m = onnx.ModelProto()
    m.CopyFrom(model)
    graph, node = m.graph, m.graph.node[0]
    node.name = "probe"
    for o in m.opset_import:
        if o.domain == domain or (not domain and o.domain == "ai.onnx"):
            o.version = version
    declared = {v.name: v for v in graph.input}
    wrappers = []
    for i, name in enumerate(node.input):
        value = declared.get(name)
        if value is None or not value.type.HasField("tensor_type") or \
                value.type.tensor_type.elem_type == onnx.TensorProto.STRING:
            continue
        wrappers.append(helper.make_node("Identity", [name], [f"{name}__in{i}"], name=f"in{i}"))
        node.input[i] = f"{name}__in{i}"
    outputs = {v.name for v in graph.output if v.type.HasField("tensor_type")}
    for i, name in enumerate(node.output):
        if name in outputs:
            node.output[i] = f"{name}__out{i}"
            wrappers.append(helper.make_node("Identity", [f"{name}__out{i}"], [name], name=f"out{i}"))
    graph.node.extend(wrappers)
    path, optimized = tmp / "probe.onnx", tmp / "probe.optimized.onnx"
    onnx.save(m, path)
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    options.optimized_model_filepath = str(optimized)
    options.add_session_config_entry("session.record_ep_graph_assignment_info", "1")
    try:
        session = ort.InferenceSession(str(path), options, providers=[PROVIDER, "CPUExecutionProvider"])
    except Exception:  # a test the runtime refuses (an opset newer than it, a type it has no kernel for)
        return None
    placed = {n.name: part.ep_name for part in session.get_provider_graph_assignment_info() for n in part.get_nodes()}
    if placed.get("probe") != PROVIDER:
        return None
    result = onnx.load(optimized)
    producer = {o: n for n in result.graph.node for o in n.output}
    readers: dict[str, list] = {}
    for n in result.graph.node:
        for t in n.input:
            readers.setdefault(t, []).append(n)
    probe = next(n for n in result.graph.node if n.name == "probe")
    cpu_in = {i for i, t in enumerate(probe.input) if t and producer.get(t) is not None
              and producer[t].op_type == "MemcpyToHost"}
    cpu_out = {i for i, t in enumerate(probe.output) if any(
        r.op_type == "MemcpyFromHost" or placed.get(r.name) == "CPUExecutionProvider" for r in readers.get(t, ()))}
    return cpu_in, cpu_out


if __name__ == "__main__":
    table = generate()
    if sys.argv[1:] == ["--write"]:
        SHIPPED.write_text(json.dumps(table, separators=(",", ":")) + "\n", encoding="utf-8")
    else:
        print(json.dumps(table, separators=(",", ":")))
