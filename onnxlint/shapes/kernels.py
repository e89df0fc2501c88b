"""Whether the installed onnxruntime's CPU provider has a kernel for each node. onnxruntime refuses a model in which
one node has none ('Could not find an implementation for RoiAlign(22) node'): an op newer than the runtime, or an
element type its kernels do not take (Max on int16, Pow with a uint64 exponent).

A node is matched as onnxruntime matches it (KernelRegistry::VerifyKernelDef): the op's version is the newest of
onnxruntime's own schemas at the model's opset, and a kernel registered since version s (until e) serves it when s
equals that version, or s is older and e is a bounded version at or past it; then every input and output bound to
a type variable of the kernel must be of a type the kernel takes. An op with no such kernel but with a function
body is expanded into it by onnxruntime: unknown here, never reported.

The registry of the onnxruntime version onnxlint is tested with ships beside this module (`kernels.json`, written by
`python -m onnxlint.shapes.kernels --write`). For another installed version it is read from onnxruntime itself
(`get_all_opkernel_def`) in a child process, once per installed build, and kept in the user's cache directory
($XDG_CACHE_HOME/onnxlint): the lint never imports onnxruntime, and finding the build costs a file read."""
from __future__ import annotations

import functools
import importlib.util
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from onnxlint.dtypes import ELEM_TYPES, onnx_type_name
from onnxlint.graph import Node
from onnxlint.proto import TensorProto

SHIPPED = Path(__file__).with_name("kernels.json")
DOMAINS = ("", "ai.onnx.ml")  # the domains whose schemas (and function bodies) onnx's table holds
_FOREVER = 2**31 - 1


def generate() -> dict:
    """The CPU provider's kernels and onnxruntime's own schema versions, from the installed onnxruntime."""
    from onnxruntime.capi import onnxruntime_pybind11_state as C

    since: dict[str, set] = {}
    for schema in C.get_all_operator_schema():
        since.setdefault(f"{schema.domain}:{schema.name}", set()).add(schema.since_version)
    kernels: dict[str, list] = {}
    for k in C.get_all_opkernel_def():
        if k.provider == "CPUExecutionProvider" and k.domain in DOMAINS:
            kernels.setdefault(f"{k.domain}:{k.op_name}", []).append(
                [*k.version_range, {name: sorted(types) for name, types in k.type_constraints.items()}])
    return {"since": {op: sorted(versions) for op, versions in since.items() if op.split(":")[0] in DOMAINS},
            "kernels": kernels}


@functools.cache
def installed_build() -> tuple[str, Path | None] | None:
    """(the installed onnxruntime's version, its native module), found without importing it (and without
    importlib.metadata, which scans every installed distribution: 36 ms); None if absent."""
    spec = importlib.util.find_spec("onnxruntime")
    if spec is None or spec.origin is None:
        return None
    root = Path(spec.origin).parent
    found = re.search(r'__version__ = "([^"]+)"', root.joinpath("__init__.py").read_text(encoding="utf-8"))
    native = next(root.joinpath("capi").glob("onnxruntime_pybind11_state*"), None)
    return (found.group(1) if found else "unknown"), native


@functools.cache
def registry() -> dict | None:
    """The table for the installed onnxruntime (see generate), from the cache or made and cached; None when
    onnxruntime is not installed or cannot be read."""
    try:
        build = installed_build()
        if build is None:
            return None
        version, native = build
        stamp = f"{version}-{native.stat().st_size if native else 0}"
        cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "onnxlint" / f"kernels-{stamp}.json"
    except (OSError, RuntimeError, KeyError, ValueError):  # an unreadable install, no home directory
        return None
    for path in (SHIPPED, cache):
        try:
            table = json.loads(path.read_text(encoding="utf-8"))
            if isinstance(table, dict) and {"since", "kernels"} <= table.keys() and table.get("onnxruntime") == version:
                return table
        except (OSError, ValueError):
            pass
    try:  # in a child: the linting process never imports onnxruntime, and a build whose registry query crashes
        # (the GPU wheel's, without CUDA) costs that child only; its HOME a temporary folder, where onnxruntime
        # leaves its telemetry id
        with tempfile.TemporaryDirectory(prefix="onnxlint-kernels-") as home:
            done = subprocess.run([sys.executable, "-m", "onnxlint.shapes.kernels"], capture_output=True,
                                  timeout=120, env={**os.environ, "HOME": home, "XDG_CACHE_HOME": home})
        table = {"onnxruntime": version, **json.loads(done.stdout)}
    except (OSError, ValueError, subprocess.SubprocessError):  # a registry that cannot be read: no fact
        return None
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        partial = cache.with_suffix(f".{os.getpid()}.tmp")
        partial.write_text(json.dumps(table, separators=(",", ":")), encoding="utf-8")
        partial.replace(cache)  # whole or not at all, whatever runs beside it
    except OSError:
        pass  # a read-only home: read from onnxruntime again next time
    return table


def kernel_problem(table: dict, node: Node, schema: list | None, opset: int, ins, outs) -> str | None:
    """Why the CPU provider has no kernel for the node, whose inputs and outputs have these element types (0 or
    None: unknown, -1: omitted), by onnx's schema of its op at the opset (schema.py's compact form); None when it
    has one, or when that is not known."""
    domain = "" if node.domain == "ai.onnx" else node.domain
    op, runtime = node.op_type, f"onnxruntime {table['onnxruntime']}"
    if schema is None or schema[-1]:
        return None  # an op onnx does not know is the schema check's; one with a function body is expanded
    versions = [v for v in table["since"].get(f"{domain}:{op}", ()) if v <= opset]
    if not versions:
        return f"{runtime} does not know {op} at opset {opset} (it refuses the model: 'No Op registered for " \
               f"{op} with domain_version of {opset}')"
    since = versions[-1]
    kernels = serving(table, f"{domain}:{op}", since)
    refusal = f"it refuses the model ('Failed to find kernel for {op}({since})', 'Could not find an implementation')"
    if not kernels:
        had = sorted({f"{first}" if last == _FOREVER else f"{first}–{last}"
                      for first, last, _ in table["kernels"].get(f"{domain}:{op}", ())},
                     key=lambda v: int(v.split("–")[0]))
        which = f"its kernels are for versions {', '.join(had)}" if had else "no kernel at all"
        return f"{runtime}'s CPU provider has no kernel for {op} as of opset {since} ({which}): {refusal}"
    bound = bound_types(schema, ins, outs)
    for types, _ in kernels:
        if all(_takes(types[var], elem) for var, uses in bound.items() if var in types for _, elem in uses):
            return None
    for var, uses in bound.items():  # the first type variable no kernel takes as the node has it
        taken = {t for types, _ in kernels for t in types.get(var, ())}
        wrong = [(what, elem) for what, elem in uses if taken and not _takes(taken, elem)]
        if wrong:
            names = ", ".join(t[7:-1] for t in sorted(taken) if t.startswith("tensor("))
            return f"{runtime}'s CPU provider has no {op}({since}) kernel for {wrong[0][0]} of type " \
                   f"{onnx_type_name(wrong[0][1])} (its kernels take {names}): {refusal}"
    return f"{runtime}'s CPU provider has no {op}({since}) kernel for this combination of types: {refusal}"


def serving(table: dict, key: str, since: int) -> list[tuple[dict, int]]:
    """(type constraints, first version) of the kernels that serve `since`, the op's version at the model's opset:
    registered since it, or since an older version until a bounded one at or past it."""
    return [(types, first) for first, last, types in table["kernels"].get(key, ())
            if first == since or first < since and last != _FOREVER and last >= since]


def bound_types(schema: list, ins, outs) -> dict[str, list]:
    """Type variable → [("input i" or "output i", element type)] of the node's inputs and outputs, by its op's
    schema (schema.py's compact form)."""
    formal_in, formal_out = schema[6], schema[9]
    bound: dict[str, list] = {}
    for formal, actual, what in ((formal_in, ins, "input"), (formal_out, outs, "output")):
        for i, elem in enumerate(actual):
            if formal and elem in ELEM_TYPES:  # a type that does not exist is the schema check's
                bound.setdefault(formal[min(i, len(formal) - 1)][1], []).append((f"{what} {i}", elem))
    return bound


def _takes(types, elem: int) -> bool:
    """Whether a kernel's allowed types take the element type; float16 where a float kernel exists runs in fp32
    between the casts onnxruntime inserts (InsertCastTransformer)."""
    return f"tensor({onnx_type_name(elem)})" in types or (elem == TensorProto.FLOAT16 and "tensor(float)" in types)


if __name__ == "__main__":  # the registry of the installed onnxruntime: for registry(), or shipped (--write)
    if sys.argv[1:] == ["--write"]:
        import onnxruntime

        SHIPPED.write_text(json.dumps({"onnxruntime": onnxruntime.__version__, **generate()}, separators=(",", ":"))
                           + "\n", encoding="utf-8")
    else:
        print(json.dumps(generate(), separators=(",", ":")))
