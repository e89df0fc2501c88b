import time

from onnxlint.diagnostics import Severity
from onnxlint.engine import Rule
from onnxlint.units import axes_label

_SEARCH = 64  # candidate sizes tried on each side of the current one
_BUDGET_SECONDS = 2.0  # each try re-runs shape inference: on a very large graph, stop early


class InputSizeNotDivisible(Rule):
    """The model's input size makes some downsampling stage round and drop real pixels.

    What it checks
        For each model input with known spatial size, whether any strided Conv or pool fed by
        it loses real input rows/columns (the OL101/OL102 arithmetic). When one does, it
        re-runs shape inference on nearby input sizes and lists the nearest ones for which
        every stage is exact (up to 64 sizes each way, within about two seconds of re-inference
        on very large graphs). It also names the network's total stride (the product of
        strides down the deepest path).

    Why it matters
        An input not divisible the way the network downsamples produces non-integer sizes
        downstream; frameworks floor them silently. The fix belongs at the input, not at each
        layer.

    Example
        input 'data_0' 224×224 into AlexNet (total stride 32): conv1 and pool1 round; the
        nearest sizes where every stage is exact are 227 and 211.

    What to do
        Resize (or crop) inputs to one of the listed sizes, or change the padding of the layers
        named in the message.
    """
    code = "OL104"
    name = "input-size-not-divisible"
    severity = Severity.WARNING
    summary = "an input's spatial size makes a strided stage round; lists the nearest exact sizes"

    def check_model(self, ctx):
        for name, dims in ctx.shapes.input_dims.items():
            if dims is None or len(dims) < 3 or None in dims:
                continue
            reached = [ctx.by_node[n] for n in _downstream(ctx, name)]
            losing = [layer for layer in reached if layer.window is not None and layer.window.kind != "transpose"
                      and any(a.dropped > 0 and a.stride > 1 for a in layer.window.axes)]
            if not losing:
                continue
            stride = max((float(max(layer.jump)) for layer in reached if layer.jump and layer.window), default=1)
            below, above = _nearest_exact(ctx, name, dims)
            options = " or ".join(axes_label(s) for s in (above, below) if s)
            names = ", ".join(layer.name for layer in losing[:5]) + (" …" if len(losing) > 5 else "")
            yield self.report(
                f"input '{name}' is {axes_label(dims[2:])}; with the network's total stride {stride:g}, "
                f"{len(losing)} strided layer(s) drop real input rows/columns ({names})",
                suggestion=(f"feed {options}: every stage is exact there" if options else
                            "no size the search tried is exact at every stage; fix the padding of the layers named"))


def _downstream(ctx, tensor: str) -> list:
    """Main-graph nodes that depend on `tensor`, in execution order."""
    seen, todo = set(), [tensor]
    while todo:
        for node in ctx.graph.consumers.get(todo.pop(), ()):
            if node not in seen:
                seen.add(node)
                todo.extend(o for o in node.outputs if o)
    return [n for n in ctx.graph.main_nodes() if n in seen]


def _nearest_exact(ctx, name, dims):
    """The nearest sizes below and above (all spatial axes scaled together) where nothing is dropped."""
    if ctx.reinfer is None:
        return None, None
    found = [None, None]
    deadline = time.monotonic() + _BUDGET_SECONDS
    for delta in range(1, _SEARCH + 1):
        if time.monotonic() > deadline:
            break
        for side, sign in ((0, -1), (1, 1)):
            if found[side] is not None:
                continue
            candidate = tuple(d + sign * delta for d in dims[2:])
            if min(candidate) < 1:
                continue
            shapes = ctx.reinfer({name: tuple(dims[:2]) + candidate})
            windows = shapes.windows.values()
            if all(a.output is not None and (a.dropped == 0 or a.stride == 1) for w in windows
                   if w.kind != "transpose" for a in w.axes):
                found[side] = candidate
        if None not in found:
            break
    return found[0], found[1]
