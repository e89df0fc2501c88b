"""The model inputs' shapes: declared dims, --input-shape overrides, a symbolic batch taken as 1."""
from __future__ import annotations

from onnxlint.graph import Graph
from onnxlint.shapes.facts import Shapes


class InputShapeError(ValueError):
    """A --input-shape that does not fit the model."""


def concrete(dims) -> tuple | None:
    """Declared dims as the analysis holds them: a symbolic dim is unknown (None); a declared 0 is a size
    (a dim with dim_value 0, which the graph reads apart from a dim with none)."""
    return None if dims is None else tuple(d if isinstance(d, int) and d >= 0 else None for d in dims)


def fmt_dims(dims) -> str:
    return "?" if dims is None else "[" + ",".join("?" if d is None else str(d) for d in dims) + "]"


def resolve_input_shapes(graph: Graph, overrides: dict[str, tuple[int, ...]] | None, shapes: Shapes) -> None:
    overrides = dict(overrides or {})
    unnamed = overrides.pop("", None)
    if unnamed is not None:
        overrides[None] = unnamed
    if None in overrides:  # `--input-shape 1,3,224,224` without a name: the model's only input
        if len(graph.inputs) != 1:
            raise InputShapeError(f"--input-shape without NAME= needs a model with one input; this one has "
                                  f"{len(graph.inputs)}: {', '.join(graph.inputs)}")
        overrides[next(iter(graph.inputs))] = overrides.pop(None)
    for name in overrides:
        if name not in graph.inputs:
            raise InputShapeError(f"--input-shape names '{name}', which is not a model input "
                                  f"(inputs: {', '.join(graph.inputs) or 'none'})")
    for name, declared in graph.inputs.items():
        dims = declared.dims
        if name in overrides:
            given = tuple(overrides[name])
            if dims is not None and len(dims) != len(given):
                raise InputShapeError(f"--input-shape {name} has rank {len(given)} but the model declares "
                                      f"rank {len(dims)} {fmt_dims(dims)}")
            fixed = _fixed_axis_changed(graph, name, dims, given)
            if fixed is not None:
                raise InputShapeError(f"--input-shape {name}={','.join(map(str, given))}: the model declares "
                                      f"{name} {fmt_dims(concrete(dims))}, whose axis {fixed} is fixed at "
                                      f"{dims[fixed]}; only the batch and spatial axes take another size")
            dims = given
        elif dims is None:
            shapes.unresolved_inputs[name] = None  # no shape declared at all
        else:
            designed = graph.designed.get(name)
            if designed is not None and _fits(dims, designed):  # the size `onnxlint fix` made it size-free at
                shapes.notes.append(f"input '{name}' {fmt_dims(concrete(dims))} taken at its designed size "
                                    f"{','.join(map(str, designed))}, recorded by onnxlint fix in the model's metadata "
                                    "(--input-shape overrides it)")
                dims = designed
            # a declared 0 is a real (empty) size; only a dim_param, or a dim with no value, is symbolic
            if dims and not isinstance(dims[0], int):
                shapes.info.append(f"input '{name}': symbolic batch dim '{dims[0] or '?'}' taken as 1")
                shapes.assumed_batch.add(name)
                dims = (1,) + dims[1:]
            if any(not isinstance(d, int) for d in dims):
                shapes.unresolved_inputs[name] = declared.dims  # as the model declares them: [batch,3,height,…]
                dims = concrete(dims)
        shapes.input_dims[name] = dims
        shapes.dims[name] = dims
        shapes.dtype[name] = declared.elem_type


def _fits(declared, dims) -> bool:
    """Whether `dims` keep every fixed dim `declared` has."""
    return len(declared) == len(dims) and all(not isinstance(d, int) or d == g for d, g in zip(declared, dims))


def channel_axis(graph: Graph, name: str, rank: int) -> int | None:
    """The channel axis of an image-like input (rank ≥ 3): 1 (NCHW), or the last when the graph transposes it
    to NCHW first (tf2onnx's NHWC); None for other inputs."""
    if rank < 3:
        return None
    for reader in graph.consumers(name):
        perm = reader.attrs.get("perm") if reader.op_type == "Transpose" else None
        if isinstance(perm, tuple) and perm == (0, rank - 1, *range(1, rank - 1)):
            return rank - 1
    return 1


def spatial_axes(graph: Graph, name: str, rank: int) -> tuple[int, ...]:
    """The spatial axes of an image-like input: those after the channels (NCHW), or between the batch and the
    channels when the graph transposes it to NCHW first (NHWC); () for an input of rank < 3."""
    channels = channel_axis(graph, name, rank)
    if channels is None:
        return ()
    return tuple(range(1, rank - 1)) if channels == rank - 1 else tuple(range(2, rank))


def _fixed_axis_changed(graph: Graph, name: str, declared, given) -> int | None:
    """The first axis whose fixed declared size --input-shape changes and no model runs at another size of: any
    but the batch (axis 0) and, of an image-like input, the spatial axes; None when the override may stand."""
    if declared is None:
        return None
    channels = channel_axis(graph, name, len(declared))
    for axis, (d, g) in enumerate(zip(declared, given)):
        if isinstance(d, int) and d >= 0 and d != g and axis != 0 and (channels is None or axis == channels):
            return axis
    return None
