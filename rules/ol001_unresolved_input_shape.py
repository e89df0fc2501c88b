from onnxlint.diagnostics import Severity
from onnxlint.rule import Rule


class UnresolvedInputShape(Rule):
    """An input's non-batch dims are symbolic, so shapes and costs downstream are unknown.

    What it checks
        Every model input whose dims (other than the batch dim, which defaults to 1) are
        symbolic or missing when no `--input-shape` was given for it.

    Why it matters
        Without concrete sizes onnxlint cannot compute output sizes, MACs or memory, and every
        rule that needs them stays silent: a clean report would mean nothing.

    Example
        Input `image` declared as [N, 3, H, W]: H and W are unknown.

    What to do
        Pass the size you deploy with: `--input-shape image=1,3,224,224`, or set
        `input-shapes = {image = [1, 3, 224, 224]}` under `[tool.onnxlint]`.
    """
    code = "OL001"
    name = "unresolved-input-shape"
    severity = Severity.WARNING
    summary = "an input's spatial dims are symbolic and no --input-shape was given"

    def check_model(self, ctx):
        unknown = sum(1 for layer in ctx.layers if layer.output_shape is None or None in layer.output_shape)
        for name, dims in ctx.shapes.unresolved_inputs.items():
            if dims is None:
                what, example = "has no declared shape", "1,3,224,224"
            else:
                shown = ",".join(str(d) if isinstance(d, int) and d > 0 else str(d or "?") for d in dims)
                what = f"has symbolic dims [{shown}]"
                example = ",".join(str(d) if isinstance(d, int) and d > 0 else "224" for d in (1, *dims[1:]))
            yield self.report(f"input '{name}' {what}: {unknown} of {len(ctx.layers)} layers have unknown shapes, "
                              "MACs or memory",
                              suggestion=f"pass the deployed size, e.g. --input-shape {name}={example}")
