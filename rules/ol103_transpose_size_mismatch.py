from onnxlint.diagnostics import Severity
from onnxlint.rule import Rule
from onnxlint.units import axes_label, layer_label

_COMBINING = ("Concat", "Add", "Sub", "Mul")


class TransposeSizeMismatch(Rule):
    """A strided ConvTranspose that cannot restore the size it was meant to.

    What it checks
        ConvTranspose with stride > 1 and neither `output_padding` nor `output_shape`, whose
        output O = s·(I − 1) + k_eff − P either (a) is combined (Concat/Add/Sub/Mul) with a
        tensor of a different spatial size (one that broadcasts, with a size of 1, is none), or
        (b) falls short of s·I by less than s, the size an upsampling by s clearly meant.

    Why it matters
        With s > 1, s different input sizes of the matching strided conv produce the same
        output size, so the transpose cannot know which one to restore: 256 → conv(k3, s2, p1)
        → 128 → ConvTranspose(k3, s2, p1) → 255, not 256. The skip connection then fails at
        run time, or a decoder silently produces an off-by-one map.

    Example
        up (ConvTranspose 3×3/2, 32→16, 128×128): 2·(128 − 1) + 3 − 2 = 255, but the skip
        tensor it is added to is 256×256.

    What to do
        Set `output_padding` to the missing rows (the message computes it), or give
        `output_shape` explicitly.
    """
    code = "OL103"
    name = "transpose-size-mismatch"
    severity = Severity.WARNING
    summary = "a strided ConvTranspose's output misses s·I or the size of the tensor it is combined with"
    op_types = ("ConvTranspose",)

    def check_node(self, ctx, layer):
        w, out = layer.window, layer.output_shape
        if (w is None or out is None or None in out or all(a.stride <= 1 for a in w.axes)
                or w.explicit_output_shape or any(w.output_padding)):
            return
        sizes = tuple(out[2:])
        formula = "; ".join(dict.fromkeys(
            f"{a.stride}·({a.size} − 1) + {a.k_eff} − {a.pad_begin + a.pad_end} = {a.output}" for a in w.axes))
        for consumer in ctx.consumers(layer.outputs[0]):
            if consumer.op_type not in _COMBINING:
                continue
            for other in consumer.inputs:
                dims = ctx.shapes.dims.get(other)
                if other == layer.outputs[0] or dims is None or len(dims) != len(out) or None in dims[2:]:
                    continue
                target = tuple(dims[2:])
                if consumer.op_type != "Concat" and 1 in target:
                    continue  # a tensor that broadcasts (paddle2onnx's [1,C,1,1] bias) is no size to match
                if target != sizes:
                    yield self._mismatch(layer, formula, sizes, target, f"the {axes_label(target)} tensor "
                                         f"'{other}' it meets in {consumer.label} ({consumer.op_type})")
                    return
        meant = tuple(a.stride * a.size for a in w.axes)
        if all(0 <= m - s < a.stride for m, s, a in zip(meant, sizes, w.axes)) and meant != sizes:
            yield self._mismatch(layer, formula, sizes, meant, f"s·I = {axes_label(meant)}, the size an "
                                 "upsampling by the stride restores")

    def _mismatch(self, layer, formula, sizes, target, what):
        padding = [t - s for t, s in zip(target, sizes)]
        strides = layer.window.strides
        if all(0 <= p < s for p, s in zip(padding, strides)):
            fix = f"set output_padding={padding} (output {axes_label(target)})"
        else:
            fix = f"output_padding cannot reach it (must be < stride); set output_shape={list(target)} or fix the pads"
        return self.report(f"{layer_label(layer)}: {formula} gives {axes_label(sizes)}, not {what}", layer,
                           suggestion=fix)
