"""--verify and --profile: execute the model with onnxruntime in a sandboxed child process
(onnxlint/sandbox.py, the only place that imports it for the user's model) and check every
inferred shape against what actually ran."""
from __future__ import annotations

import json
import math
import os
import re
import resource
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from onnxlint.graph import MAIN, Graph
from onnxlint.loader import LoadedModel
from onnxlint.memory import tensor_bytes
from onnxlint.shapes import Shapes

DEFAULT_TIMEOUT = 60.0
DEFAULT_MEMORY = 4 * 1024**3


@dataclass(frozen=True)
class Limits:
    seconds: float = DEFAULT_TIMEOUT
    memory: int = DEFAULT_MEMORY


@dataclass
class ExecutionFacts:
    """What execution found, as plain facts for the rules (OL501-OL503 state them): the summary for the report,
    the measured times, the executed shapes of what static analysis left unknown."""
    summary: dict | None = None
    node_ms: dict[str, float] | None = None
    filled: dict | None = None  # executed shapes of the tensors the static analysis left unknown
    mismatches: list[dict] = field(default_factory=list)  # tensor, node, inferred or bound, executed
    declared_wrong: list[tuple[str, tuple, tuple]] = field(default_factory=list)  # tensor, declared, executed
    aborted: str | None = None  # why execution was refused or did not finish
    aborted_at: str | None = None  # the tensor that made it refuse, when one did


def verify(loaded: LoadedModel, graph: Graph, shapes: Shapes, *, upper: Shapes | None = None, profile_runs: int = 0,
           limits: Limits = Limits()) -> ExecutionFacts:
    """Run the model once (and `profile_runs` more times with the profiler) and compare shapes: an exact one
    must be equal, a bounded one (`upper`, the bound pass) within its bound. Shapes the static analysis left
    unknown, and bounded ones, are filled in from execution, before costs are counted."""
    found = _verify(loaded, graph, shapes, upper, profile_runs, limits)
    return found if isinstance(found, ExecutionFacts) else ExecutionFacts(aborted=found[0], aborted_at=found[1])


def _verify(loaded: LoadedModel, graph: Graph, shapes: Shapes, upper: Shapes | None, profile_runs: int,
            limits: Limits):
    """ExecutionFacts, or (why it aborted, the tensor that made it refuse)."""
    deadline = time.monotonic() + limits.seconds  # the whole verification, preparation included, ends in time
    start = time.perf_counter()
    if loaded.unsafe_external:
        return "verification refused: the model has unsafe external data (OL003); nothing was executed", None
    main_nodes = graph.main_nodes()
    # tensors inside an inlined function call do not exist in the file: only the call's outputs can be exposed
    exposed = [o for n in main_nodes for o in n.outputs if o and o not in shapes.constants and o not in graph.inlined]
    for name in exposed:
        size = tensor_bytes(shapes, name)
        if size is not None and size > limits.memory:
            return (f"verification refused: tensor '{name}' would need {size:,} bytes, over the memory limit of "
                    f"{limits.memory:,}", name)
    inputs = []
    for name, dims in shapes.input_dims.items():
        if dims is None or None in dims:
            return f"verification needs concrete input shapes: pass --input-shape {name}=...", None
        inputs.append({"name": name, "dims": list(dims), "elem_type": shapes.dtype.get(name, 1)})
    with tempfile.TemporaryDirectory(prefix="onnxlint-verify-") as tmp:
        try:
            run_model = _prepare(loaded, shapes, exposed, Path(tmp))
        except (OSError, ValueError) as exc:
            return f"verification aborted: the weights could not be read: {exc}", None
        job = {"model": str(run_model), "tmp": tmp, "inputs": inputs, "outputs": exposed,
               "profile_runs": profile_runs}
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return (f"verification aborted: preparing the model took longer than the limit of {limits.seconds:g} s",
                    None)
        result, problem = run_child(job, Limits(remaining, limits.memory), shown_limit=limits.seconds)
    if problem:
        return problem, None
    executed = {name: tuple(dims) for name, dims in result["shapes"].items()}
    facts = ExecutionFacts(node_ms=result.get("node_ms"), filled={})
    within = 0
    for name, got in executed.items():
        inferred = shapes.dims.get(name)
        producer = graph.producer[name]
        bound = upper.dims.get(name) if upper is not None and name in upper.bounded else None
        if inferred is not None and None not in inferred:
            if tuple(inferred) != got:
                facts.mismatches.append({"tensor": name, "node": producer.name, "inferred": list(inferred),
                                         "executed": list(got)})
        elif bound is not None and None not in bound:
            if len(bound) != len(got) or any(g > b for g, b in zip(got, bound)):
                facts.mismatches.append({"tensor": name, "node": producer.name, "bound": list(bound),
                                         "executed": list(got)})
            within += 1
        else:
            facts.filled[name] = got
        declared = graph.declared.get(name)
        if declared is not None and declared.dims is not None and _contradicts(declared.dims, got):
            facts.declared_wrong.append((name, tuple(declared.dims), got))
    unchecked = sum(1 for n in graph.nodes if n.location != MAIN for o in n.outputs if o)
    unchecked += sum(1 for n in main_nodes for o in n.outputs if o and (o in shapes.constants or o in graph.inlined))
    facts.summary = {"runtime": f"onnxruntime {result['runtime']}",
                     "tensors_checked": len(executed) - len(facts.filled), "tensors_within_bound": within,
                     "tensors_unknown_filled": len(facts.filled), "tensors_unchecked": unchecked,
                     "mismatches": facts.mismatches, "seconds": round(time.perf_counter() - start, 3)}
    if profile_runs:
        facts.summary["profile_runs"] = profile_runs
        facts.summary["profile_total_ms"] = round(sum(result["node_ms"].values()), 3)
    return facts


def optimized_graph(loaded: LoadedModel, shapes: Shapes, limits: Limits = Limits()) -> dict | str:
    """What onnxruntime's optimizer makes of the model (sandbox.optimized), or why it could not say. Nothing is
    executed; the same child, limits and refusals as --verify."""
    if loaded.unsafe_external:
        return "refused: the model has unsafe external data (OL003); nothing was read"
    with tempfile.TemporaryDirectory(prefix="onnxlint-verify-") as tmp:
        try:
            run_model = _prepare(loaded, shapes, [], Path(tmp))
        except (OSError, ValueError) as exc:
            return f"the weights could not be read: {exc}"
        result, problem = run_child({"model": str(run_model), "tmp": tmp, "optimize": True}, limits)
    return problem or result


def provider_assignment(loaded: LoadedModel, shapes: Shapes, spec: dict, limits: Limits = Limits()) -> dict | str:
    """Where an execution provider places each node of the model as the file has it, dynamic dims and all
    (sandbox.assignment; in the interpreter the environment variable `spec["python"]` names, when it has one), or
    why it could not say. Nothing is executed; the same child, limits and refusals as
    --verify."""
    if loaded.unsafe_external:
        return "refused: the model has unsafe external data (OL003); nothing was read"
    with tempfile.TemporaryDirectory(prefix="onnxlint-verify-") as tmp:
        try:
            run_model = _prepare(loaded, shapes, [], Path(tmp), as_declared=True, max_ir=spec.get("max_ir"))
        except (OSError, ValueError) as exc:
            return f"the weights could not be read: {exc}"
        python = os.environ.get(spec["python"]) if "python" in spec else None
        if python is not None and not os.access(python, os.X_OK):
            return f"{spec['python']} names {python!r}, which is not a program here"
        result, problem = run_child({"model": str(run_model), "tmp": tmp, "assign": spec}, limits, python=python)
    if result is not None and "missing" in result:
        install = spec.get("install") or f"pip install onnxlint[{spec['extra']}]"
        return f"{result['missing']} is not installed ({install})"
    return problem or result


def _contradicts(declared, got) -> bool:
    if len(declared) != len(got):
        return True
    return any(isinstance(d, int) and d > 0 and d != g for d, g in zip(declared, got))


def _clean(message: str) -> str:
    """onnxruntime's message without its build paths and C++ signatures (they say nothing to a user)."""
    message = re.sub(r"\S*onnxruntime_src\S*\s*", "", message)
    message = re.sub(r"(?:[\w:<>~]+::)+[\w<>~]+\([^()]*\)(?: const)?\s*", "", message)
    return " ".join(message.split())


def run_child(job: dict, limits: Limits, shown_limit: float | None = None,
              python: str | None = None) -> tuple[dict | None, str | None]:
    """Run the job in a child with an address-space cap, a CPU cap, one thread and a wall-clock limit.
    `shown_limit`: the limit to name in messages (the user's, when this run has what is left of it); `python`:
    another environment's interpreter (a provider that bundles its own onnxruntime), which runs the sandbox's
    file isolated from this environment's packages."""
    shown = limits.seconds if shown_limit is None else shown_limit
    job_path = Path(job["tmp"]) / "job.json"
    job_path.write_text(json.dumps(job))
    result_path = Path(job["tmp"]) / "result.json"

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (limits.memory, limits.memory))
        cpu = int(math.ceil(limits.seconds)) + 1
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))

    # HOME and the caches inside the child's temporary folder: onnxruntime keeps a telemetry store under
    # ~/.cache (onnxruntime.db), and nothing but the requested output may be written
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
           "HOME": job["tmp"], "XDG_CACHE_HOME": job["tmp"], "XDG_CONFIG_HOME": job["tmp"],
           "XDG_DATA_HOME": job["tmp"]}
    try:
        command = [sys.executable, "-m", "onnxlint.sandbox", str(job_path)] if python is None else [
            python, "-I", "-c", "import runpy, sys; sys.argv = sys.argv[1:]; runpy.run_path(sys.argv[0], "
            "run_name='__main__')", str(Path(__file__).with_name("sandbox.py")), str(job_path)]
        proc = subprocess.run(command,
                              capture_output=True, timeout=limits.seconds, preexec_fn=limit, env=env,
                              cwd=job["tmp"])
    except subprocess.TimeoutExpired:
        return None, f"verification aborted: the model ran past the wall-clock limit of {shown:g} s"
    if proc.returncode < 0:
        name = signal.Signals(-proc.returncode).name
        reason = {"SIGXCPU": f"the CPU-time limit of {shown:g} s",
                  "SIGKILL": "a kill (out of memory?)"}.get(name, "a crash")
        return None, f"verification aborted: onnxruntime died by signal {name} ({reason})"
    if result_path.is_file():
        result = json.loads(result_path.read_text())
        if "error" in result:
            if any(sign in result["error"] for sign in ("Failed to allocate memory", "bad_alloc", "memory limit")):
                return None, (f"verification aborted: the model needs more than the memory limit of "
                              f"{limits.memory:,} bytes (onnxruntime could not allocate)")
            return None, f"verification aborted: {_clean(result['error'])}"
        return result, None
    tail = proc.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or ["no output"]
    if "MemoryError" in tail[0] or "bad_alloc" in proc.stderr.decode("utf-8", "replace"):
        return None, f"verification aborted: the model needs more than the memory limit of {limits.memory:,} bytes"
    return None, (f"verification aborted: the onnxruntime child exited with code {proc.returncode} "
                  f"({_clean(tail[0])[:200]})")


def _prepare(loaded: LoadedModel, shapes: Shapes, exposed: list[str], tmp: Path, as_declared: bool = False,
             max_ir: int | None = None) -> Path:
    """A copy of the model for execution: every exposed tensor an output, inputs at the resolved shapes (or as the
    file declares them), external weights (references already validated) read in; `max_ir`: the newest IR
    version the child's onnxruntime reads (the copy says no more; one that uses what a newer version adds is
    refused there, said). The user's model is never modified."""
    import onnx

    model = referencing_the_file(loaded, tmp) or loaded.copy_with_weights()
    if max_ir is not None and model.ir_version > max_ir:
        model.ir_version = max_ir
    for vi in () if as_declared else model.graph.input:
        dims = shapes.input_dims.get(vi.name)
        if dims is not None and vi.type.HasField("tensor_type"):
            shape = vi.type.tensor_type.shape
            shape.ClearField("dim")
            for d in dims:
                shape.dim.add().dim_value = d
    existing = {o.name for o in model.graph.output}
    for name in exposed:
        if name not in existing:
            vi = model.graph.output.add()
            vi.name = name
            if shapes.dtype.get(name):
                vi.type.tensor_type.elem_type = shapes.dtype[name]
    path = tmp / "run.onnx"
    # big weights go beside it: written tensor by tensor, never serialized as one copy (and under protobuf's 2 GB)
    big = not loaded.payloads_skipped and model.ByteSize() > 64 * 1024**2
    onnx.save(model, path, save_as_external_data=big, location="run.weights" if big else None)
    return path


def referencing_the_file(loaded: LoadedModel, tmp: Path):
    """For a large file parsed without its payloads: the model whose big initializers point, as external data,
    at their bytes inside the user's file (linked into the sandbox's folder). onnxruntime maps them in the
    child, under its memory limit; the parent never holds the weights. None when some payload cannot be
    referenced that way."""
    if not loaded.payloads_skipped:
        return None
    link = tmp / "source.onnx"
    model = loaded.copy_with_references(location=link.name)
    if model is None:
        return None
    try:
        os.link(loaded.source, link)
    except OSError:
        os.symlink(os.path.abspath(loaded.source), link)
    return model
