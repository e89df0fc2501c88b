"""ONNX's protobuf classes (ModelProto, TensorProto...) without importing the onnx package.

`import onnx` costs about 100 ms more than its generated protobuf module, most of it numpy pulled in
through onnx.helper; the plain lint path needs the classes alone. The module is loaded from onnx's own
file under its own name, so a later `import onnx` finds it in sys.modules and every class is the same
object either way. Anything that needs the rest of onnx (schemas, shape inference, the reference
evaluator, numpy_helper) imports it where it is used, through `full()`.
"""
from __future__ import annotations

import importlib.util
import os
import sys


def _protobuf_module():
    module = sys.modules.get("onnx.onnx_ml_pb2")
    if module is not None:
        return module
    spec = importlib.util.find_spec("onnx")  # finds the package without running its __init__
    path = os.path.join(spec.submodule_search_locations[0], "onnx_ml_pb2.py") if spec is not None else ""
    if "onnx" in sys.modules or not os.path.isfile(path):  # already paid for, or a build laid out otherwise
        return full().onnx_ml_pb2
    file_spec = importlib.util.spec_from_file_location("onnx.onnx_ml_pb2", path)
    module = importlib.util.module_from_spec(file_spec)
    sys.modules["onnx.onnx_ml_pb2"] = module
    try:
        file_spec.loader.exec_module(module)
    except BaseException:
        del sys.modules["onnx.onnx_ml_pb2"]
        raise
    sys.meta_path.insert(0, _BindOnImport())
    return module


class _BindOnImport:
    """Until the onnx package is imported: when it is, bind this module as its `onnx_ml_pb2` attribute, as its
    own import would have (`import onnx.onnx_ml_pb2; onnx.onnx_ml_pb2.X` keeps working); then step aside."""

    def find_spec(self, name, path=None, target=None):
        if name != "onnx":
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec("onnx")
        if spec is not None and spec.loader is not None:
            run = spec.loader.exec_module

            def bind_then_run(package):
                package.onnx_ml_pb2 = sys.modules["onnx.onnx_ml_pb2"]
                run(package)
            spec.loader.exec_module = bind_then_run
        return spec


def full():
    """The onnx package itself, imported on first use."""
    import onnx

    return onnx


_pb = _protobuf_module()
AttributeProto = _pb.AttributeProto
FunctionProto = _pb.FunctionProto
GraphProto = _pb.GraphProto
ModelProto = _pb.ModelProto
NodeProto = _pb.NodeProto
SparseTensorProto = _pb.SparseTensorProto
TensorProto = _pb.TensorProto
TypeProto = _pb.TypeProto
ValueInfoProto = _pb.ValueInfoProto
IR_VERSION = _pb.IR_VERSION


def display_name(text: str | bytes) -> str:
    """A printable str for a name; protobuf hands names that are not valid UTF-8 over as bytes."""
    if isinstance(text, str):
        return text
    return text.decode("utf-8", "backslashreplace")
