"""Where a node came from in the PyTorch code, as the exporter wrote it: the dynamo exporter's metadata_props
(name scopes, class hierarchy, stack trace) or the TorchScript exporter's node name."""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from onnxlint.proto import NodeProto


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a node came from in the PyTorch code: its module path (`layer1.0.conv2`, "" for the root module),
    the module's class, and the innermost frame of user code in the export's stack trace."""
    module: str
    module_class: str | None = None
    file: str | None = None
    line: int | None = None


_FRAME = re.compile(r'File "([^"]{1,4096})", line (\d{1,9})\b')  # a longer number is no line of a source file
_MAX_METADATA = 64 * 1024  # a name scope list or stack trace longer than this is not the exporter's: ignored
_LIBRARY = ("site-packages", "dist-packages", "/torch/", "\\torch\\", "<frozen", "<string>")


class MalformedMetadata(ValueError):
    """Exporter metadata that is not what the exporter writes (oversized, not a list): ignored, with a note."""


def origin(proto: NodeProto) -> Origin | None:
    """The Origin the exporter wrote: the dynamo exporter's metadata_props (name scopes, class hierarchy,
    stack trace), or the TorchScript exporter's node name (`/layer1/layer1.0/conv2/Conv`); None without.
    Raises MalformedMetadata for metadata no exporter writes."""
    meta = {e.key: e.value for e in proto.metadata_props} if proto.metadata_props else {}
    scopes = _literal_list(meta.get("pkg.torch.onnx.name_scopes"))
    if scopes:
        classes = _literal_list(meta.get("pkg.torch.onnx.class_hierarchy")) or []
        trace = meta.get("pkg.torch.onnx.stack_trace", "")
        if not isinstance(trace, str) or len(trace) > _MAX_METADATA:
            raise MalformedMetadata("stack trace")
        frames = [(f, int(n)) for f, n in _FRAME.findall(trace) if not any(mark in f for mark in _LIBRARY)]
        file, line = frames[-1] if frames else (None, None)
        # the last scope is the traced op itself (conv2d, relu_1), the one before it the innermost module
        return Origin(scopes[-2] if len(scopes) > 1 else "", classes[-2] if len(classes) > 1 else None, file, line)
    return name_origin(proto.name)


def name_origin(name) -> Origin | None:
    """The Origin a TorchScript node name spells (`/layer1/layer1.0/conv2/Conv`), or None."""
    return _scope_origin(tuple([p for p in name.split("/") if p][:-1])) if isinstance(name, str) and \
        name.startswith("/") else None


@functools.lru_cache(maxsize=4096)
def _scope_origin(scopes: tuple[str, ...]) -> Origin:
    """The Origin of a TorchScript name's scopes (its parts but the last, the op), shared by the nodes of one
    module. Scopes are attribute names or already dotted: /layer1/layer1.0/conv2/Conv → layer1.0.conv2."""
    module = ""
    for part in scopes:
        module = part if not module or part.startswith(module + ".") else f"{module}.{part}"
    return Origin(module)


def _literal_list(text: str | None) -> list[str] | None:
    if not text or not isinstance(text, str):
        return None
    if not text.startswith("[") or len(text) > _MAX_METADATA:
        raise MalformedMetadata("name scopes")
    import ast

    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError, MemoryError, RecursionError, TypeError):
        raise MalformedMetadata("name scopes") from None
    if not isinstance(value, list):
        raise MalformedMetadata("name scopes")
    return [str(v) for v in value]
