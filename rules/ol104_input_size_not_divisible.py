from onnxlint.diagnostics import Severity
from onnxlint.rule import Rule
from onnxlint.shapes.inputs import spatial_axes
from onnxlint.units import axes_label

_SEARCH = 64  # candidate sizes tried on each side of the current one
_WORK = 400_000  # nodes re-inferred in all (candidates × graph size): the same bound on every machine


class InputSizeNotDivisible(Rule):
    """The model's input size makes some downsampling stage round and drop real pixels.

    What it checks
        For each model input with known spatial size (NCHW, or NHWC when the graph transposes it to
        NCHW first, as tf2onnx does), whether any strided Conv or pool fed by
        it loses real input rows/columns (the OL101/OL102 arithmetic). When one does, it
        infers the shapes again at nearby input sizes and lists the nearest ones at which every
        stage is exact and the whole graph still runs (no shape contradiction, OL004); up to 64
        sizes each way, fewer on graphs so large that this would re-infer more than 400,000
        nodes. A size at which an output's batch changes is no answer (a Flatten exported as a
        reshape to [-1, features] turns a larger map into more rows). When a layer pins the input
        size (a fully-connected layer on a flattened map only accepts one size), it says so instead
        of suggesting a size. It also names the network's
        total stride (the product of strides down the deepest path).

    Why it matters
        An input not divisible the way the network downsamples produces non-integer sizes
        downstream; frameworks floor them silently. The fix belongs at the input, not at each
        layer.

    Example
        input 'data_0' 224×224 into a fully convolutional net (total stride 32): conv1 and pool1
        round; the nearest sizes where every stage is exact are 227 and 211.

    What to do
        Resize (or crop) inputs to one of the listed sizes, or change the padding of the layers
        named in the message.
    """
    code = "OL104"
    name = "input-size-not-divisible"
    severity = Severity.WARNING
    explains = ("OL101", "OL102")  # the per-layer drops its input size causes fold under it
    summary = "an input's spatial size makes a strided stage round; lists the nearest exact sizes that run"

    def check_model(self, ctx):
        if not any(a.dropped > 0 and a.stride > 1 for w in ctx.shapes.windows.values()
                   if w.drops and w.kind != "transpose" for a in w.axes):
            return  # no strided window drops anything: no input to follow
        for name, dims in ctx.shapes.input_dims.items():
            if dims is None or len(dims) < 3 or None in dims:
                continue
            reached = ctx.downstream(name)
            losing = [layer for layer in reached if layer.window is not None and layer.window.drops
                      and layer.window.kind != "transpose"
                      and any(a.dropped > 0 and a.stride > 1 for a in layer.window.axes)]
            if not losing:
                continue
            jumps = [max(layer.jump) for layer in reached if layer.jump and layer.window is not None]
            stride = f"; with the network's total stride {float(max(jumps)):g}," if jumps else ","
            names = ", ".join(layer.label for layer in losing[:5]) + (" …" if len(losing) > 5 else "")
            spatial = spatial_axes(ctx.graph, name, len(dims))
            yield self.report(
                f"input '{name}' is {axes_label([dims[a] for a in spatial])}{stride} {len(losing):,} strided layer"
                f"{'s drop' if len(losing) != 1 else ' drops'} real input rows/columns ({names})",
                suggestion=_advice(ctx, name, dims, spatial),
                nodes=tuple(layer.name for layer in losing))


def _advice(ctx, name, dims, spatial) -> str:
    below, above, pinned = _nearest_exact(ctx, name, dims, spatial)
    options = " or ".join(axes_label(s) for s in (above, below) if s)
    if options:
        declared = ctx.graph.declared.get(name)
        fixed = [declared.dims[a] for a in spatial] if declared is not None and declared.dims is not None \
            and len(declared.dims) == len(dims) else []
        pinned_by_file = "" if not fixed or not all(isinstance(d, int) and d > 0 for d in fixed) else (
            f" (re-exported at that size: the file fixes {axes_label(fixed)})")
        return f"feed {options}: every stage is exact there and the model runs{pinned_by_file}"
    if pinned:
        return (f"no other input size runs ({pinned}): pad or crop inside the model, or fix the padding of the "
                "layers named")
    return "no size the search tried is exact at every stage; fix the padding of the layers named"


def _nearest_exact(ctx, name, dims, spatial):
    """The nearest sizes below and above (all spatial axes moved together; NHWC's as well as NCHW's) where
    nothing is dropped and no shape contradicts another; and, when every size tried contradicts, the
    contradiction that pins the size."""
    if ctx.reinfer is None:
        return None, None, None
    found, runs, first_problem, tried = [None, None], 0, None, 0
    budget = min(2 * _SEARCH, max(2, _WORK // max(1, len(ctx.graph.nodes))))
    for delta in range(1, _SEARCH + 1):
        for side, sign in ((0, -1), (1, 1)):
            candidate = tuple(dims[a] + sign * delta for a in spatial)
            if found[side] is not None or min(candidate) < 1 or tried >= budget:
                continue
            tried += 1
            moved = dict(zip(spatial, candidate))
            shapes = ctx.reinfer({name: tuple(moved.get(a, d) for a, d in enumerate(dims))})
            if shapes.problems:
                node, problem = next(iter(shapes.problems.items()))
                first_problem = first_problem or f"{node.label}: {problem.split(', its ')[-1]}"
                continue
            moved_batch = _batch_moved(ctx, shapes)
            if moved_batch:  # it runs, but a reshape to [-1, features] folds the extra pixels into the batch
                first_problem = first_problem or moved_batch
                continue
            runs += 1
            if all(a.output is not None and (a.dropped == 0 or a.stride == 1) for w in shapes.windows.values()
                   if w.kind != "transpose" for a in w.axes):
                found[side] = candidate
    return found[0], found[1], first_problem if tried and not runs else None


def _batch_moved(ctx, shapes) -> str | None:
    """Why a size that runs is still no answer: a graph output whose batch differs from the designed run's
    (Keras's Flatten exports as a reshape to [-1, features], so a larger map becomes more rows)."""
    for output in ctx.graph.outputs:
        before, after = ctx.shapes.dims.get(output), shapes.dims.get(output)
        if before and after and before[0] is not None and after[0] is not None and before[0] != after[0]:
            return f"output '{output}' would hold {after[0]} rows for a batch of {before[0]}"
    return None
