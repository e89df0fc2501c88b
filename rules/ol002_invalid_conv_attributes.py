import functools

from onnxlint.diagnostics import Severity
from onnxlint.rule import Rule
from onnxlint.units import layer_label


class InvalidConvAttributes(Rule):
    """Conv/ConvTranspose/pooling attributes that make the node invalid.

    What it checks
        Kernel, stride or dilation ≤ 0, negative pads, a pool's pads not smaller than its kernel
        (onnxruntime: "Pad should be smaller than kernel"), `group` that does not divide the input
        or output channels, weight channels ≠ C_in / group, and a kernel larger than the padded
        input (I + P < k_eff, no valid output position).

    Why it matters
        onnxruntime rejects such a node when the session is created or fails when it runs; the
        export that produced it is broken.

    Example
        Conv with group=3 on 64 input channels: 64 is not divisible by 3.

    What to do
        Fix the exporter's arguments: the numbers in the message say which attribute is wrong.
    """
    code = "OL002"
    name = "invalid-conv-attributes"
    severity = Severity.ERROR
    summary = "kernel/stride/dilation ≤ 0, negative pads, bad group, wrong weight channels, kernel > padded input"
    op_types = ("Conv", "ConvTranspose", "MaxPool", "AveragePool", "LpPool")

    def check_node(self, ctx, layer):
        problems = _problems(layer.window) if layer.window is not None else ()
        if problems:
            yield self.report(f"{layer_label(layer)}: invalid attributes: {'; '.join(problems)}", layer,
                              suggestion="fix these attributes in the exporter; onnxruntime will reject the node")


@functools.lru_cache(maxsize=4096)
def _problems(w) -> tuple[str, ...]:
    """What makes these window facts invalid: worked out once for all the nodes that share them."""
    problems = []
    for i, a in enumerate(w.axes):
        if not a.valid:  # (most axes are: kernel, stride and dilation > 0, pads ≥ 0)
            if a.kernel <= 0:
                problems.append(f"kernel {a.kernel} on axis {i}")
            if a.stride <= 0:
                problems.append(f"stride {a.stride} on axis {i}")
            if a.dilation <= 0:
                problems.append(f"dilation {a.dilation} on axis {i}")
            if a.pad_begin < 0 or a.pad_end < 0:
                problems.append(f"negative pads {a.pad_begin}/{a.pad_end} on axis {i}")
        if w.kind == "pool" and (a.pad_begin >= a.kernel or a.pad_end >= a.kernel):  # onnxruntime: pad < kernel
            problems.append(f"pads {a.pad_begin}/{a.pad_end} not smaller than the kernel {a.kernel} on axis {i}")
        if w.kind != "transpose" and a.span is not None and a.span < 0 and a.dilation > 0:
            problems.append(f"kernel {a.k_eff} (dilated) is larger than the padded input "
                            f"{a.size} + {a.pad_begin + a.pad_end} on axis {i}")
    if w.kind != "pool":
        if w.group <= 0:
            problems.append(f"group {w.group}")
        else:
            for label, channels in (("input", w.c_in), ("output", w.c_out)):
                if channels is not None and channels % w.group:
                    problems.append(f"group {w.group} does not divide the {channels} {label} channels")
            weight = w.weight_shape
            if weight is not None and len(weight) != len(w.axes) + 2:
                problems.append(f"weight has rank {len(weight)}, expected {len(w.axes) + 2}")
            elif weight is not None and w.c_in is not None:
                # Conv weights are [C_out, C_in/g, k…]; ConvTranspose weights are [C_in, C_out/g, k…]
                got, expected = (weight[1], w.c_in // w.group) if w.kind == "conv" else (weight[0], w.c_in)
                if got is not None and got != expected:
                    problems.append(f"weight has {got} input channels, expected C_in/group = "
                                    f"{w.c_in}/{w.group} = {expected}" if w.kind == "conv" else
                                    f"weight has {got} input channels, the input has {w.c_in}")
    return tuple(problems)
