from onnxlint.diagnostics import Severity
from onnxlint.rule import Rule
from onnxlint.units import nbytes, num
from onnxlint.weightfacts import chain_affine

_AFFINE = ("BatchNormalization", "Mul", "Add")  # what folds into a branch's conv (or makes the identity branch)


class ReparameterizableBranches(Rule):
    """Parallel conv branches of one input summed by Add (RepVGG, ACNet, DBB, YOLOv6/v7's RepConv) that fold
    exactly into one conv.

    What it checks
        An Add (or a tree of Adds, each the only reader of the one before) whose terms are all linear maps
        of the same tensor: a k×k Conv, a 1×1 (or smaller odd) Conv with the same stride, group and
        centre, each optionally followed by a BatchNorm or per-channel Mul/Add, and an identity branch
        (the tensor itself, or a BatchNorm of it) when the stride is 1 and the channels match. With
        every weight and statistic stored, their sum is one k×k conv: each kernel padded to k×k at its
        centre, the identity as a centred unit kernel, every BatchNorm folded.

    Why it matters
        Training-time branches cost inference MACs, kernels and activation passes for nothing: timm's
        RepVGG-A0 export folds from 44 Conv + 39 Add + 17 BatchNorm to 22 Conv, with outputs equal to a
        relative 2.9e-7, and onnxruntime's CPU provider runs it 1.20× faster (155 → 129 ms); onnxruntime's
        own optimizer leaves all 44 convs. Folded RepVGG weights quantize badly per tensor (QARepVGG:
        52.2% top-1 against 70.4%): after folding, `--select OL701,OL702` says so on your own weights.

    Example
        stage1.0 (Add of conv_kxk 3×3, conv_1x1 and identity BatchNorm on 64 channels): one 3×3 conv;
        1 conv, 1 BatchNorm and 2 Adds fewer, 12.8 M MACs fewer.

    What to do
        `onnxlint fix MODEL -o OUT.onnx --select OL706` (exact, verified by onnxruntime), or call the
        model's own `reparameterize()`/`switch_to_deploy()` before export.
    """
    code = "OL706"
    name = "reparameterizable-branches"
    severity = Severity.SUGGESTION
    summary = "parallel conv branches of one input summed by Add (RepVGG-style) fold exactly into one conv"
    op_types = ("Add", "Sum")
    applicability = "exact"

    def check_node(self, ctx, layer):
        found = branches(ctx, layer)
        if found is None:
            return
        main, terms, adds = found
        convs = [t for t in terms if t[0] is not None]
        folded_nodes = sum(len(t[1]) for t in terms) + len(convs) - 1 + len(adds)
        saved = sum(t[0].macs or 0 for t in convs if t[0] is not main)
        identity = [t for t in terms if t[0] is None]
        kinds = " + ".join(
            [f"Conv {'×'.join(map(str, t[0].window.kernel))}" for t in convs] + ["identity"] * len(identity))
        passes = sum(t[0].output_bytes or 0 for t in convs if t[0] is not main) + \
            sum(a.output_bytes or 0 for a in adds[1:])
        yield self.report(
            f"{kinds} of '{main.inputs[0]}' summed here fold exactly into one "
            f"{'×'.join(map(str, main.window.kernel))} conv: {folded_nodes} nodes fewer "
            f"({len(convs) - 1} conv{'s' if len(convs) != 2 else ''}, {len(adds)} Add{'s' if len(adds) != 1 else ''}"
            f", the BatchNorms), {num(saved)} MACs and {nbytes(passes)} of activation passes fewer", layer,
            suggestion=f"fold the branches{self.fix_hint()}; then `--select OL701,OL702` on the folded model: folded "
                       "RepVGG weights quantize badly per tensor (QARepVGG)",
            match=(main, terms, adds))

    def summarize(self, members, ctx):
        saved = sum(sum(t[0].macs or 0 for t in d.match[1] if t[0] is not None and t[0] is not d.match[0])
                    for d in members)
        return (f"{len(members)} blocks of parallel conv branches (RepVGG-style) fold exactly into one conv each: "
                f"{num(saved)} MACs fewer", f"fold them{self.fix_hint()}; --show-all lists them")

    def fix(self, rw, match) -> None:
        """Fold each branch's BatchNorm (or Mul/Add) into its conv (the identity branch: a centred unit kernel),
        pad every kernel to the largest at its centre, and sum kernels and biases into one Conv that reads the
        shared input and writes the Add's output (float64, exact up to rounding)."""
        import numpy as np
        from onnx import helper

        main, terms, adds = match
        conv = rw.node(main)
        kernel = main.window.kernel
        weight = rw.value(conv.input[1])
        c_out, per_group = weight.shape[0], weight.shape[1]
        group = main.window.group
        total_w = np.zeros((c_out, per_group, *kernel))
        total_b = np.zeros(c_out)
        for source, chain in terms:
            if source is None:  # the identity: a unit kernel at the centre, channel o from input o (in its group)
                w = np.zeros((c_out, per_group, *kernel))
                w[(np.arange(c_out), np.arange(c_out) % per_group, *[[k // 2] * c_out for k in kernel])] = 1.0
                b = np.zeros(c_out)
            else:
                node = rw.node(source)
                w = rw.value(node.input[1]).astype(np.float64)
                b = rw.value(node.input[2]).astype(np.float64) if len(node.input) > 2 and node.input[2] \
                    else np.zeros(c_out)
                offsets = [(K - k) // 2 for K, k in zip(kernel, w.shape[2:])]
                padded = np.zeros((c_out, per_group, *kernel))
                padded[(slice(None), slice(None), *[slice(o, o + k) for o, k in zip(offsets, w.shape[2:])])] = w
                w = padded
            scale, shift = chain_affine(chain, c_out, rw.value, rw.ctx.shapes.constants)
            total_w += w * scale.reshape(-1, *([1] * (w.ndim - 1)))
            total_b += b * scale + shift
        dtype = weight.dtype
        out = adds[-1].outputs[0]
        attrs = {k: v for k, v in main.attrs.items() if k in ("strides", "pads", "dilations", "auto_pad")}
        merged = helper.make_node(
            "Conv", [conv.input[0], rw.add_initializer(total_w.astype(dtype), f"{conv.input[1]}_reparameterized"),
                     rw.add_initializer(total_b.astype(dtype), f"{out}_reparameterized_bias")], [out],
            name=f"{main.name}_reparameterized", group=group, kernel_shape=list(kernel),
            **{k: (v.decode() if isinstance(v, bytes) else v) for k, v in attrs.items()})
        rw.replace(rw.node(adds[-1]), merged)
        for source, chain in terms:
            for layer in ([source] if source is not None else []) + list(chain):
                rw.remove(rw.node(layer))
        for add in adds[:-1]:
            rw.remove(rw.node(add))
        rw.forget_shape(out)
        rw.changed(f"OL706 folded {len(terms)} branches at {adds[-1].name} into Conv {merged.name}")


def branches(ctx, layer):
    """(the branch conv with the largest kernel, [(branch conv or None for the identity, its affine chain)], the
    Adds from the innermost to `layer`) when `layer` is the root of an Add tree over linear maps of one tensor
    that fold into one conv; None otherwise."""
    readers = ctx.consumers(layer.outputs[0])
    if len(readers) == 1 and readers[0].op_type in ("Add", "Sum") and layer.outputs[0] not in ctx.graph.outputs:
        return None  # not the root: it fires once, at the last Add
    adds, leaves = [], []
    if not _collect(ctx, layer, adds, leaves) or len(leaves) < 2:
        return None
    terms = [_term(ctx, tensor) for tensor in leaves]
    if any(t is None for t in terms):
        return None
    sources = {t[2] for t in terms}
    convs = [t[0] for t in terms if t[0] is not None]
    if len(sources) != 1 or not convs:
        return None
    main = max(convs, key=lambda c: c.window.kernel)
    w = main.window
    for conv in convs:
        cw = conv.window
        if cw is None or not cw.valid or cw.group != w.group or cw.strides != w.strides or cw.c_out != w.c_out \
                or any(a.dilation != 1 for a in cw.axes) or any(k % 2 == 0 for k in cw.kernel) \
                or len(conv.inputs) < 2 or conv.inputs[1] not in ctx.shapes.constants \
                or len(conv.inputs) > 2 and conv.inputs[2] and conv.inputs[2] not in ctx.shapes.constants:
            return None
        # the same centre: pad minus half the kernel is the same on every branch and axis end
        if any(a.pad_begin - a.kernel // 2 != m.pad_begin - m.kernel // 2 or
               a.pad_end - a.kernel // 2 != m.pad_end - m.kernel // 2 for a, m in zip(cw.axes, w.axes)):
            return None
    if any(t[0] is None for t in terms) and (any(s != 1 for s in w.strides) or w.c_in != w.c_out
                                           or any(a.pad_begin != a.kernel // 2 or a.pad_end != a.kernel // 2
                                                  for a in w.axes)):
        return None
    return main, [(t[0], t[1]) for t in terms], adds


def _collect(ctx, node, adds, leaves) -> bool:
    """The leaves of the Add tree under `node` (a term that is itself an Add with no other reader is opened)."""
    if len(node.inputs) < 2 or ctx.invalid(node):
        return False
    for tensor in node.inputs:
        producer = ctx.producer(tensor)
        if producer is not None and producer.op_type in ("Add", "Sum") and len(ctx.consumers(tensor)) == 1 \
                and tensor not in ctx.graph.outputs:
            if not _collect(ctx, producer, adds, leaves):
                return False
        else:
            leaves.append(tensor)
    adds.append(node)
    return True


def _term(ctx, tensor):
    """(the conv or None, its affine chain, the tensor it is a linear map of) of one summed term: Conv → affine
    chain, an affine chain (an identity BatchNorm) on the shared input, or the input itself. A producer joins the
    term only when the term is its output's one reader."""
    chain = []
    for _ in range(8):
        producer = ctx.producer(tensor)
        if producer is None or len(ctx.consumers(tensor)) != 1 or tensor in ctx.graph.outputs:
            return None, chain[::-1], tensor
        if producer.op_type == "Conv" and producer.function is None and not ctx.invalid(producer):
            return producer, chain[::-1], producer.inputs[0]
        if producer.op_type not in _AFFINE or not _constant_affine(ctx, producer):
            return None, chain[::-1], tensor
        chain.append(producer)
        tensor = producer.inputs[0]
    return None


def _constant_affine(ctx, layer) -> bool:
    """A BatchNormalization in inference mode with stored statistics, or a Mul/Add of its first input by a
    stored per-channel (or one-value) constant."""
    constants = ctx.shapes.constants
    if layer.op_type == "BatchNormalization":
        return ctx.shapes.training.get(layer.node) is False and all(n in constants for n in layer.inputs[1:5])
    if len(layer.inputs) != 2 or layer.inputs[0] in constants or layer.inputs[1] not in constants:
        return False
    dims = ctx.shapes.dims.get(layer.inputs[1])
    return dims is not None and sum(1 for d in dims if d != 1) <= 1
