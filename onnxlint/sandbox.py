"""The onnxruntime child of --verify/--profile/fix. Run as `python -m onnxlint.sandbox JOB.json` under the
limits the parent sets; it imports only onnxruntime and numpy (not the rest of onnxlint; onnx only for a
job that asks for onnx.checker on the files `fix` wrote), so that its start-up stays small, and writes
result.json beside the job."""
from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path

# ONNX elem_type → numpy dtype name, for the inputs the child makes up.
_DTYPES = {1: "float32", 2: "uint8", 3: "int8", 4: "uint16", 5: "int16", 6: "int32", 7: "int64", 9: "bool",
           10: "float16", 11: "float64", 12: "uint32", 13: "uint64"}


def main() -> None:
    job_path = Path(sys.argv[1])
    job = json.loads(job_path.read_text())
    try:
        result = execute(job)
    except MemoryError:
        result = {"error": "the model needs more than the memory limit"}
    except Exception as exc:  # onnxruntime's own errors: one line for the user
        message = " ".join(str(exc).split())[:300]
        result = {"error": f"onnxruntime could not run the model: {type(exc).__name__}: {message}"}
    (job_path.parent / "result.json").write_text(json.dumps(result))


def _session(ort, path: str, tmp: str, profiling: bool):
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL  # the file's own nodes run
    options.intra_op_num_threads = options.inter_op_num_threads = 1
    options.log_severity_level = 4
    options.enable_profiling = profiling
    options.profile_file_prefix = str(Path(tmp) / "profile")  # never beside the model
    return ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])


def execute(job: dict) -> dict:
    import numpy as np
    import onnxruntime as ort

    ort.set_default_logger_severity(4)
    if job.get("check_model"):  # in the child: onnx.checker reads a file's weights whole
        import onnx

        try:
            onnx.checker.check_model(job["model"])
        except onnx.checker.ValidationError as exc:
            return {"checker": " ".join(str(exc).split("\n")[0].split())[:300]}
        if job.get("check_only"):
            return {}
    if job.get("optimize"):  # --target --verify: what onnxruntime's optimizer makes of the model
        return optimized(ort, job)
    if job.get("assign"):  # --target qnn-htp --verify: where the provider places each node
        return assignment(ort, job)
    session = _session(ort, job["model"], job["tmp"], profiling=False)
    feeds = _feeds(job["inputs"])
    wanted = set(job["outputs"])
    names = [o.name for o in session.get_outputs()]
    values = session.run(names, feeds)
    result = {"runtime": ort.__version__,
              "shapes": {n: list(np.shape(v)) for n, v in zip(names, values) if n in wanted}}
    # further runs of the same session at other input sizes (fix: a fully convolutional model's larger input)
    result["more_runs"] = [{n: list(np.shape(v)) for n, v in zip(run["outputs"], session.run(run["outputs"],
                                                                                            _feeds(run["inputs"])))}
                           for run in job.get("more_runs", ())]
    if job.get("save_outputs"):  # the graph outputs' values, for comparing two models (onnxlint fix)
        np.savez(Path(job["tmp"]) / f"{job['save_outputs']}.npz", **dict(zip(names, values)))
    del values, session
    if job["profile_runs"]:
        result["node_ms"] = profile(ort, job, feeds)
    return result


def optimized(ort, job: dict) -> dict:
    """The graph onnxruntime's CPU provider runs after its optimizations (ORT_ENABLE_EXTENDED: its QDQ fusions
    and fp16 casts, not yet the layout changes): each node's op and the element type of its first input, and the
    Cast nodes it inserted. Nothing is executed."""
    import onnx

    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
    options.log_severity_level = 4
    options.optimized_model_filepath = str(Path(job["tmp"]) / "optimized.onnx")
    ort.InferenceSession(job["model"], options, providers=["CPUExecutionProvider"])
    model = onnx.load(options.optimized_model_filepath)
    try:
        model = onnx.shape_inference.infer_shapes(model)
    except Exception:  # an op onnx does not know: the types known so far
        pass
    types = {v.name: v.type.tensor_type.elem_type for v in (*model.graph.input, *model.graph.value_info,
                                                              *model.graph.output)}
    types.update({t.name: t.data_type for t in model.graph.initializer})
    nodes = model.graph.node
    return {"runtime": ort.__version__,
            "nodes": {n.name: [n.op_type, types.get(n.input[0], 0) if n.input else 0] for n in nodes},
            "casts": sum(n.op_type == "Cast" and n.name.startswith("InsertedPrecisionFreeCast") for n in nodes)}


def assignment(ort, job: dict) -> dict:
    """Where an execution provider places each node (onnxruntime's record of its graph assignment, made when the
    session is created; nothing is executed): {node name: provider}. A plugin provider's package is imported
    here only (onnxruntime_qnn); a built-in one is named (onnxruntime-openvino's); without it, why not."""
    import importlib
    from importlib.metadata import version

    spec = job["assign"]
    options = ort.SessionOptions()
    options.add_session_config_entry("session.record_ep_graph_assignment_info", "1")
    providers = None
    if "module" not in spec:  # a provider built into this onnxruntime (onnxruntime-openvino's)
        if spec["provider"] not in ort.get_available_providers():
            return {"missing": spec["package"]}
        providers = [(spec["provider"], spec["options"]), "CPUExecutionProvider"]
    else:  # a plugin provider, registered here
        try:
            plugin = importlib.import_module(spec["module"])
        except ImportError:
            return {"missing": spec["package"]}
        ort.register_execution_provider_library(plugin.get_ep_name(), plugin.get_library_path())
        devices = [d for d in ort.get_ep_devices() if d.ep_name == plugin.get_ep_name()]
        if not devices:  # a provider for hardware this machine does not have
            return {"error": f"{spec['package']} offers no device on this machine"}
        options.add_provider_for_devices(devices, {"backend_path": getattr(plugin, spec["backend"])(),
                                                   **spec["options"]})
    # onnxruntime's errors while it partitions (a node group it refuses from the provider) go to a file: the
    # reason a placement differs, said once
    log = Path(job["tmp"]) / "ort.log"
    saved = os.dup(2)
    with open(log, "wb") as sink:
        os.dup2(sink.fileno(), 2)
        ort.set_default_logger_severity(3)
        try:
            session = ort.InferenceSession(job["model"], options, providers=providers)
        finally:
            os.dup2(saved, 2)
            ort.set_default_logger_severity(4)
    errors = [re.sub(r"\x1b\[[0-9;]*m", "", line).split("] ", 1)[-1]
              for line in log.read_text("utf-8", "replace").splitlines() if "[E:" in line]
    if spec["provider"] not in session.get_providers():  # a provider onnxruntime lists but could not start here
        # (onnxruntime-gpu without CUDA): it fell back to the CPU, which proves nothing
        return {"error": f"{spec['package']} could not start {spec['provider']} here"
                         + (f": {errors[0][:300]}" if errors else "")}
    nodes = {node.name: part.ep_name for part in session.get_provider_graph_assignment_info()
             for node in part.get_nodes()}
    return {"runtime": ort.__version__, "provider": f"{spec['package']} {version(spec['package'])}",
            "errors": errors[:5], "nodes": nodes}


def _feeds(inputs: list[dict]) -> dict:
    import numpy as np

    rng = np.random.default_rng(0)
    feeds = {}
    for spec in inputs:
        dtype = np.dtype(_DTYPES.get(spec["elem_type"], "float32"))
        if np.issubdtype(dtype, np.floating):
            feeds[spec["name"]] = rng.standard_normal(spec["dims"]).astype(dtype)
        else:  # integer inputs are usually indices or sizes: zeros are always in range
            feeds[spec["name"]] = np.zeros(spec["dims"], dtype=dtype)
    return feeds


def profile(ort, job: dict, feeds: dict) -> dict[str, float]:
    """Mean kernel time per node over N profiled runs, after one warm-up run that is left out."""
    session = _session(ort, job["model"], job["tmp"], profiling=True)
    outputs = [session.get_outputs()[0].name]
    for _ in range(job["profile_runs"] + 1):
        session.run(outputs, feeds)
    trace = json.loads(Path(session.end_profiling()).read_text())
    runs = sorted((e for e in trace if e.get("cat") == "Session" and e.get("name") == "model_run"),
                  key=lambda e: e["ts"])
    warmup_end = runs[0]["ts"] + runs[0]["dur"] if runs else -1
    totals: dict[str, float] = {}
    for event in trace:
        name = event.get("name", "")
        if event.get("cat") == "Node" and name.endswith("_kernel_time") and event["ts"] > warmup_end:
            node = name[: -len("_kernel_time")]
            totals[node] = totals.get(node, 0.0) + event["dur"] / 1000.0
    return {node: ms / job["profile_runs"] for node, ms in totals.items()}


if __name__ == "__main__":
    main()
