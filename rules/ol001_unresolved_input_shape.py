from onnxlint.diagnostics import Severity
from onnxlint.rule import Rule
from onnxlint.shapes.inputs import channel_axis


class UnresolvedInputShape(Rule):
    """An input's non-batch dims are symbolic, so shapes and costs downstream are unknown.

    What it checks
        Every model input whose dims (other than the batch dim, which defaults to 1) are
        symbolic or missing when no `--input-shape` was given for it, and the model records no
        designed size (`onnxlint fix` records one when it makes a network fully convolutional).

    Why it matters
        Without concrete sizes onnxlint cannot compute output sizes, MACs or memory, and every
        rule that needs them stays silent: a clean report would mean nothing. A model whose
        height and width are free on purpose (segmentation, a fully convolutional net) is valid,
        so this is a suggestion, not a warning: it never fails a default run, as ruff and mypy do
        not fail a run for what they cannot infer.

    Example
        Input `image` declared as [N, 3, H, W]: H and W are unknown.

    What to do
        Pass the size you deploy with: `--input-shape image=1,3,224,224`, or set
        `input-shapes = {image = [1, 3, 224, 224]}` under `[tool.onnxlint]`.
    """
    code = "OL001"
    name = "unresolved-input-shape"
    severity = Severity.SUGGESTION
    summary = "an input's spatial dims are symbolic and no --input-shape was given"

    def check_model(self, ctx):
        unknown = sum(1 for layer in ctx.layers if layer.output_shape is None or None in layer.output_shape)
        for name, dims in ctx.shapes.unresolved_inputs.items():
            if dims is None:
                what, example = "has no declared shape", "1,3,224,224"
            else:
                shown = ",".join(str(d) if isinstance(d, int) and d > 0 else str(d or "?") for d in dims)
                what = f"has symbolic dims [{shown}]"
                example = ",".join(_example(ctx, name, dims, axis) for axis in range(len(dims)))
            yield self.report(f"input '{name}' {what}: {unknown} of {len(ctx.layers)} layers have unknown shapes, "
                              "MACs or memory",
                              suggestion=f"pass the deployed size, e.g. --input-shape {name}={example}")


def _example(ctx, name: str, dims, axis: int) -> str:
    """A dim of the example size: a fixed dim as declared, a batch 1, an image's height and width 224, any
    other symbolic dim by its name (the user knows what `sequence` is; onnxlint does not)."""
    d = dims[axis]
    if isinstance(d, int) and d > 0:
        return str(d)
    label = str(d or "").lower()
    if axis == 0 or label in ("n", "b", "batch", "batch_size", "batchsize", "n_batch") or "batch" in label:
        return "1"
    channels = channel_axis(ctx.graph, name, len(dims))
    if channels is not None and axis != channels:
        return "224"
    return (str(d) if d else f"D{axis}").upper()
