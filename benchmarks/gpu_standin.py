"""A stand-in CUDA runtime, so that onnxruntime-gpu's own CUDA provider places a model's nodes on a machine
without a GPU: `--target cuda --verify` proves onnxlint's placement against the provider itself, and
`python -m onnxlint.deploy.cuda_registry` reads the provider's kernel table, here.

The provider libraries of onnxruntime-gpu link the CUDA runtime, cuBLAS, cuRAND, cuDNN and TensorRT. This script
writes, for each, a library of the same name that exports every function the provider libraries import from it:
each returns success; memory is host memory (cudaMalloc is calloc, cudaMemcpy is memcpy); the one device reports
compute capability 8.0 and 16 GiB. The provider's code runs unmodified: its kernel registry, its GetCapability,
onnxruntime's partitioning and copy insertion. No kernel runs (a session's outputs would be garbage), and nothing
the provider decides from the device (its compute capability, free memory) is proved. On a machine with a GPU,
skip this script and point ONNXLINT_CUDA_PYTHON at the environment's own python.

    python benchmarks/gpu_standin.py GPU_VENV OUT_DIR
        GPU_VENV: a virtual environment with onnxruntime-gpu installed (its python is GPU_VENV/bin/python)
        OUT_DIR: where the libraries go, with OUT_DIR/python, which runs GPU_VENV's python with them
    then: ONNXLINT_CUDA_PYTHON=OUT_DIR/python onnxlint MODEL --target cuda --verify

Needs gcc and nm (binutils)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

# libraries whose symbols carry a version named after the library (nm shows name@libcudart.so.13)
VERSIONED = ("libcudart", "libcublas", "libcurand", "libcudnn")
# unversioned imports, by the library that exports them
UNVERSIONED = {"cu": "libcuda.so.1", "createInfer": "libnvinfer.so.10", "getInfer": "libnvinfer.so.10",
               "getPlugin": "libnvinfer.so.10", "createNvOnnx": "libnvonnxparser.so.10"}
ALLOC = "{ *p = calloc(1, n ? n : 1); return 0; }"
HANDLE = "{ *h = calloc(1, 64); return 0; }"
# cudaDeviceProp at CUDA 13: 1008 bytes; totalGlobalMem at 288, major at 360, multiProcessorCount at 384
DEVICE = ("{ memset(p, 0, 1008); strcpy(p, \"onnxlint stand-in\"); *(size_t *)(p + 288) = (size_t)16 << 30; "
          "*(int *)(p + 360) = 8; *(int *)(p + 384) = 80; return 0; }")
BODIES = {
    "cudaGetDeviceCount": ("int *n", "{ *n = 1; return 0; }"),
    "cudaGetDevice": ("int *d", "{ *d = 0; return 0; }"),
    "cudaMalloc": ("void **p, size_t n", ALLOC),
    "cudaMallocHost": ("void **p, size_t n", ALLOC),
    "cudaHostAlloc": ("void **p, size_t n, unsigned f", ALLOC),
    "cudaMallocFromPoolAsync": ("void **p, size_t n, void *pool, void *s", ALLOC),
    "cudaFree": ("void *p", "{ free(p); return 0; }"),
    "cudaFreeHost": ("void *p", "{ free(p); return 0; }"),
    "cudaFreeAsync": ("void *p, void *s", "{ free(p); return 0; }"),
    "cudaMemcpy": ("void *d, const void *s, size_t n, int k", "{ memcpy(d, s, n); return 0; }"),
    "cudaMemcpyAsync": ("void *d, const void *s, size_t n, int k, void *st", "{ memcpy(d, s, n); return 0; }"),
    "cudaMemset": ("void *d, int v, size_t n", "{ memset(d, v, n); return 0; }"),
    "cudaMemsetAsync": ("void *d, int v, size_t n, void *s", "{ memset(d, v, n); return 0; }"),
    "cudaMemGetInfo": ("size_t *f, size_t *t", "{ *f = *t = (size_t)16 << 30; return 0; }"),
    "cudaGetDeviceProperties": ("char *p, int d", DEVICE),
    "cudaDeviceGetAttribute": ("int *v, int a, int d", "{ *v = 1; return 0; }"),
    "cudaDriverGetVersion": ("int *v", "{ *v = 13000; return 0; }"),
    "cudaRuntimeGetVersion": ("int *v", "{ *v = 13000; return 0; }"),
    "cudaStreamCreate": ("void **h", HANDLE),
    "cudaStreamCreateWithFlags": ("void **h, unsigned f", HANDLE),
    "cudaEventCreate": ("void **h", HANDLE),
    "cudaEventCreateWithFlags": ("void **h, unsigned f", HANDLE),
    "cublasCreate_v2": ("void **h", HANDLE),
    "cublasLtCreate": ("void **h", HANDLE),
    "cudnnCreate": ("void **h", HANDLE),
    "cudaStreamIsCapturing": ("void *s, int *c", "{ *c = 0; return 0; }"),
    "getInferLibVersion": ("void", "{ return 101300; }"),
}
TEXT = {"cudaGetErrorString", "cudaGetErrorName", "cublasGetStatusString", "cublasGetStatusName"}


def imports(library: Path) -> dict[str, set[str]]:
    """The functions the provider library imports, by the library that exports them."""
    listed = subprocess.run(["nm", "-D", "--undefined-only", str(library)], capture_output=True, text=True,
                            check=True).stdout
    found: dict[str, set[str]] = {}
    for line in listed.splitlines():
        symbol = line.split()[-1]
        name, _, version = symbol.partition("@")
        if version.startswith(VERSIONED):
            found.setdefault(version, set()).add(name)
        elif not version:
            owner = next((lib for prefix, lib in UNVERSIONED.items() if name.startswith(prefix)), None)
            if owner is not None:
                found.setdefault(owner, set()).add(name)
    return found


def source(names: set[str]) -> str:
    lines = ["#include <stdlib.h>", "#include <string.h>"]
    for name in sorted(names):
        if name in BODIES:
            params, body = BODIES[name]
            lines.append(f"int {name}({params}) {body}")
        elif name in TEXT:
            lines.append(f"const char *{name}(int e) {{ return \"onnxlint stand-in\"; }}")
        elif name == "__cudaRegisterFatBinary":
            lines.append("void **__cudaRegisterFatBinary(void *f) { static void *h[4]; return h; }")
        else:  # success, whatever the arguments
            lines.append(f"int {name}() {{ return 0; }}")
    return "\n".join(lines) + "\n"


def build(venv: Path, out: Path) -> None:
    capi = next(venv.glob("lib/python3*/site-packages/onnxruntime/capi"))
    wanted: dict[str, set[str]] = {}
    needed: set[str] = set()
    for library in capi.glob("libonnxruntime_providers_*.so"):
        for owner, names in imports(library).items():
            wanted.setdefault(owner, set()).update(names)
        dynamic = subprocess.run(["readelf", "-d", str(library)], capture_output=True, text=True).stdout
        needed.update(line.split("[")[1].rstrip("]") for line in dynamic.splitlines() if "(NEEDED)" in line)
    out.mkdir(parents=True, exist_ok=True)
    needed = {soname for soname in needed if soname.startswith(("libcu", "libnv"))}  # not the system's own (libc...)
    for soname in sorted(needed):
        names = wanted.get(soname, set()) or {"onnxlint_standin"}
        (out / f"{soname}.c").write_text(source(names))
        script = out / f"{soname}.map"
        script.write_text(f"{soname} {{ global: *; }};\n" if soname.startswith(VERSIONED) else "{ global: *; };\n")
        subprocess.run(["gcc", "-shared", "-fPIC", "-w", f"-Wl,-soname,{soname}", f"-Wl,--version-script={script}",
                        "-o", str(out / soname), str(out / f"{soname}.c")], check=True)
    python = out / "python"
    python.write_text(f"#!/bin/sh\nLD_LIBRARY_PATH={out}${{LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}} "
                      f"exec {venv / 'bin' / 'python'} \"$@\"\n")
    python.chmod(0o755)
    print(f"{python}: {venv}'s python with the stand-in CUDA runtime ({len(needed)} libraries)")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    build(Path(sys.argv[1]).resolve(), Path(sys.argv[2]).resolve())
