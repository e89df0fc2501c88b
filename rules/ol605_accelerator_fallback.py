"""A rule over the deployment view of an accelerator (--target qnn-htp|openvino|cuda: onnxlint.deploy.qnn's,
openvino's and cuda's placement; each says what to do about each of its causes, its ADVICE)."""
from onnxlint.diagnostics import Severity
from onnxlint.rule import Rule


class AcceleratorFallback(Rule):
    """Nodes that fall back from the accelerator to the CPU, one finding per cause.

    What it checks
        With `--target qnn-htp`, every node that Qualcomm's QNN provider leaves on onnxruntime's
        CPU provider, grouped by why: an op the provider has no op builder for, a dynamic dim (the
        provider builds static-shape graphs only: a node that reads or writes a tensor whose size
        follows a symbolic input dim stays on the CPU), or a size not known before the model runs.
        The quantization of graph inputs and outputs, which the provider leaves to the CPU by design,
        is not a fallback. With `--target openvino`, every node Intel's OpenVINO provider (device
        CPU) leaves to onnxruntime's CPU provider, grouped the same way: an op it does not take, an
        element type it does not take (float64, bfloat16, strings), a scalar tensor (it takes scalars
        for a few ops only), a dim of 0, an op mode it refuses (a Resize with tf_crop_and_resize,
        antialias or exclude_outside), and the nodes its partitioning rules then leave behind (a
        subgraph of one node; a subgraph whose Conv output leaves it, which it drops whole). With
        `--target cuda`, every node onnxruntime-gpu's CUDA provider leaves to the CPU provider: an op
        or an element type it has no kernel for (a QOperator model's QLinearConv), a QDQ model's int32
        bias DequantizeLinear (its kernel takes int8 and uint8), or an op mode it refuses (a
        ConvTranspose with asymmetric pads or auto_pad SAME, an RNN with other than its default
        activations). The shape arithmetic it
        leaves to the CPU by design (the Slice and Concat that compute a Resize's sizes from a dynamic
        batch) is not a fallback.

    Why it matters
        Each fallback node runs on the CPU, and each boundary between the two copies tensors: the
        user finds out on the device, from a log ("Some nodes were not assigned to the preferred
        execution providers"), after the fact.

    Example
        qnn-htp: 382 of 382 nodes (100.0% of the MACs) stay on the CPU: dynamic dim ('x'
        [1,3,224,224] follows a symbolic input dim).

    What to do
        A dynamic dim: `onnxlint fix MODEL -o OUT.onnx --target qnn-htp --select OL605` writes the
        input dims at the size analysed (the batch taken as 1, or `--input-shape`), exact: the
        provider then takes those nodes (`--verify` proves it). Otherwise, what each cause's
        suggestion says: replace the ops named, cast the tensors named, quantize the biases no more
        (cuda: `quantize_static(..., extra_options={'QuantizeBias': False})`, after which the provider
        runs every layer whole, proved by it), or accept them on the CPU.
    """
    code = "OL605"
    name = "accelerator-fallback"
    severity = Severity.WARNING
    summary = ("--target qnn-htp|openvino|cuda: nodes fall back to the CPU (an op or type not taken, a dynamic "
               "dim, unknown sizes)")
    applicability = "exact"

    def check_model(self, ctx):
        found = ctx.deployment.mobile if ctx.deployment is not None else None
        if found is None or not found.provider:
            return
        macs = {layer.node: layer.macs or 0 for layer in ctx.layers}
        total = sum(macs.values())
        causes: dict[str, list] = {}
        for node, why in found.cpu.items():
            cause = why.split(":")[0]
            if cause in found.advice:
                causes.setdefault(cause, []).append((node, why))
        for cause, items in sorted(causes.items(), key=lambda c: -sum(macs.get(n, 0) for n, _ in c[1])):
            on_cpu = sum(macs.get(n, 0) for n, _ in items)
            share = f" ({100 * on_cpu / total:.1f}% of the MACs)" if total else ""
            ops = sorted({n.op_type for n, _ in items})
            details = sorted({why.split(": ", 1)[1] for _, why in items})
            first = ", ".join(details[:4]) + ("…" if len(details) > 4 else "")
            advice = found.advice[cause]
            if cause == "dynamic dim":  # the root: the inputs as the file declares them
                first = ", ".join(f"input '{name}' declared [{','.join('?' if d is None else str(d) for d in t.dims)}]"
                                  for name, t in ctx.graph.inputs.items() if t.dims is not None
                                  and not all(isinstance(d, int) and d >= 0 for d in t.dims))
            fixable = cause == "dynamic dim" and _fixed_size(ctx) is not None
            named = "" if all(op in first for op in ops) else f"; ops {', '.join(ops[:6])}{'…' if len(ops) > 6 else ''}"
            yield self.report(
                f"{ctx.deployment.target}: {len(items):,} of {found.nodes:,} nodes{share} stay on the CPU: {cause} "
                f"({first}{named})",
                suggestion=f"{advice}{self.fix_hint() if fixable else ''}",
                nodes=tuple(n.name for n, _ in items), match=cause if fixable else None)

    def fix_hint(self) -> str:
        return f" (`onnxlint fix MODEL -o OUT.onnx --target qnn-htp --select {self.code}`, {self.applicability})"

    def fix_blocked(self, ctx, match):
        return None if match == "dynamic dim" else "only a dynamic dim has an exact fix"

    def fix(self, rw, match) -> None:
        """Write each symbolic dim of the graph inputs at the size the lint analysed (the batch taken as 1, or
        --input-shape), the graph outputs' dims at the sizes that follow, and drop the declarations that held
        the symbolic sizes (onnxruntime infers them again)."""
        if match != "dynamic dim":
            return
        sizes = _fixed_size(rw.ctx)
        shapes = rw.ctx.shapes
        for values, sized in ((rw.graph.input, sizes), (rw.graph.output, shapes.dims)):
            for value in values:
                dims = sized.get(value.name)
                if value.name in rw.inits or dims is None or not value.type.HasField("tensor_type"):
                    continue
                for dim, size in zip(value.type.tensor_type.shape.dim, dims):
                    if not dim.HasField("dim_value") or dim.dim_value < 0:
                        if size is None:
                            continue
                        dim.Clear()
                        dim.dim_value = size
        for value in rw.graph.value_info:
            if not all(d.HasField("dim_value") and d.dim_value >= 0 for d in value.type.tensor_type.shape.dim):
                rw.forget_shape(value.name)
        shown = "; ".join(f"{name}={','.join(map(str, dims))}" for name, dims in sizes.items())
        rw.changed(f"OL605: the graph inputs' symbolic dims written at the size analysed ({shown})")


def _fixed_size(ctx) -> dict | None:
    """Each graph input whose declared dims are symbolic → the concrete dims the lint analysed; None when some
    input has no concrete size."""
    sizes = {}
    for name, declared in ctx.graph.inputs.items():
        if declared.dims is None or all(isinstance(d, int) and d >= 0 for d in declared.dims):
            continue
        dims = ctx.shapes.input_dims.get(name)
        if dims is None or None in dims:
            return None
        sizes[name] = tuple(dims)
    return sizes or None
