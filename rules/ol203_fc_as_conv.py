from onnxlint.diagnostics import Severity
from onnxlint.lookthrough import FEATURE_MAP_OPS, MAP_PRESERVING, NO_OPS, PASSTHROUGH, to_channels_last, walk_back
from onnxlint.rule import Rule
from onnxlint.units import num


def flattened_map(ctx, layer):
    """(the Flatten/Reshape layer, (C, H, W), the layer that reads the N×C×H×W map (that one, or the Transpose
    before it), channels_last) when this FC layer reads,
    through one, an N×C×H×W feature map that a conv or pool made (through ops that keep positions and
    channels), else None. Keras's Flatten reads the map channels last: tf2onnx exports it as
    Transpose(0,2,3,1) → Reshape, flattening in H, W, C order. A 4-D tensor of heads × tokens × features in
    attention is no map."""
    flat = walk_back(ctx.producer, layer.inputs[0], NO_OPS)
    if flat is None or flat.op_type not in ("Flatten", "Reshape") or not flat.inputs or ctx.invalid(flat):
        return None
    reader, channels_last = flat, False
    transpose = ctx.producer(flat.inputs[0])
    if transpose is not None and to_channels_last(transpose):
        reader, channels_last = transpose, True
    tensor = reader.inputs[0]
    made_by = walk_back(ctx.producer, tensor, MAP_PRESERVING)
    if made_by is None or made_by.op not in FEATURE_MAP_OPS:
        return None
    source = ctx.shapes.dims.get(tensor)
    out = flat.output_shape
    if source is None or len(source) != 4 or None in source or out is None or len(out) != 2:
        return None
    if out[1] != source[1] * source[2] * source[3] or source[2] * source[3] <= 1:
        return None
    return flat, tuple(source[1:]), reader, channels_last


def fc_weight(ctx, layer):
    """(inputs, outputs, has_bias) of a Gemm/MatMul with a constant 2-D weight (its bias: Gemm's C, or the
    Add of a constant vector right after a MatMul, as Keras's Dense exports), or None."""
    operands = ctx.shapes.matmuls.get(layer.node)
    if operands is None or operands.trans_a or operands.b not in ctx.shapes.constants:
        return None
    w = ctx.shapes.dims.get(operands.b)
    if w is None or len(w) != 2 or None in w:
        return None
    n_in, n_out = (w[1], w[0]) if operands.trans_b else w
    return n_in, n_out, operands.bias is not None or bias_add(ctx, layer) is not None


def bias_add(ctx, layer):
    """The Add of a constant [n_out] vector that is a MatMul's only reader (Keras's Dense: MatMul → Add), or None."""
    if layer.op_type != "MatMul":
        return None
    users = ctx.consumers(layer.outputs[0])
    if len(users) != 1 or users[0].op_type != "Add" or layer.outputs[0] in ctx.graph.outputs:
        return None
    other = [n for n in users[0].inputs if n != layer.outputs[0]]
    dims = ctx.shapes.dims.get(other[0]) if len(other) == 1 else None
    w = ctx.shapes.dims.get(layer.inputs[1])
    if dims is None or other[0] not in ctx.shapes.constants or w is None or tuple(dims) != (w[-1],):
        return None
    return users[0]


def fc_end(ctx, layer) -> str:
    """The tensor an FC layer's result is in: after its bias Add when it has one."""
    add = bias_add(ctx, layer)
    return (add or layer).outputs[0]


def following_fcs(ctx, layer):
    """The FC layers that follow this one through activations/dropout: they become 1×1 convs."""
    found, tensor = [], fc_end(ctx, layer)
    while True:
        users = ctx.consumers(tensor)
        if len(users) != 1:
            return found
        user = users[0]
        if user.op_type in ("Gemm", "MatMul") and fc_weight(ctx, user):
            found.append(user)
            tensor = fc_end(ctx, user)
            continue
        if user.op_type not in PASSTHROUGH:
            return found
        tensor = user.outputs[0]


class FcAsConv(Rule):
    """A fully-connected layer on a flattened feature map: it is exactly a conv over the whole map.

    What it checks
        Gemm/MatMul layers whose input is a Flatten/Reshape of an N×C×H×W map with H·W > 1 that a
        conv or pool made (looking back through activations, BatchNorm, Q/DQ, residual adds and
        channel concats); never a Reshape of attention's heads, tokens or features.

    Why it matters
        An FC layer on a flattened C×H×W map is exactly a conv with C_out filters of size
        H×W×C, pad 0, stride 1; the FCs after it are 1×1 convs. The weight count does not drop
        (it is often mis-stated as H·W·C_out): what changes is that the network becomes fully
        convolutional, so a larger input yields a spatial map of scores in one pass
        (sliding-window evaluation for free, dense prediction) instead of failing on the
        Flatten. VGG's fc6 on 7×7×512 → 4096 is a 7×7 conv with 102,760,448 weights.

    Example
        fc6 (Gemm 25088→4096) on the flattened 512×7×7 map = Conv 7×7, 512→4096, pad 0.

    What to do
        Run `onnxlint fix MODEL -o OUT.onnx --select OL203` (exact, verified by onnxruntime): the
        original outputs are unchanged at the designed input size; the input's height and width become
        free and a new output, `<logits>_spatial`, holds the N×K×h×w score map, which onnxlint checks at
        twice the input size (at other sizes the original output is that map, flattened). Or replace
        the Flatten + Linear layers by Conv layers in the training code.
    """
    code = "OL203"
    name = "fc-as-conv"
    severity = Severity.SUGGESTION
    summary = "Gemm/MatMul on a flattened C×H×W map (H·W > 1) is exactly an H×W conv: make the net fully convolutional"
    op_types = ("Gemm", "MatMul")
    applicability = "exact"

    def check_node(self, ctx, layer):
        found, weight = flattened_map(ctx, layer), fc_weight(ctx, layer)
        if found is None or weight is None:
            return
        c, h, w = found[1]
        n_in, n_out, bias = weight
        order = " (flattened channels last: the weight's rows in H, W, C order)" if found[3] else ""
        later = following_fcs(ctx, layer)
        tail = ""
        if later:
            tail = "; then " + ", ".join(f"{fc.label} becomes a 1×1 conv "
                                         f"{fc_weight(ctx, fc)[0]}→{fc_weight(ctx, fc)[1]}"
                                         for fc in later)
        yield self.report(
            f"{layer.op_type} {num(n_in)}→{num(n_out)} on the flattened {c}×{h}×{w} map is exactly a "
            f"{h}×{w} conv with {num(n_out)} filters, pad 0: the same {h}·{w}·{c}·{n_out} = {num(n_in * n_out)} weights"
            f"{f' (+{num(n_out)} bias)' if bias else ''}{order}{tail}", layer,
            suggestion="make the network fully convolutional: the weight count stays the same, but a larger input "
                       f"then yields a spatial map of scores in one pass instead of failing on the Flatten"
                       f"{self.fix_hint()}", match=(found[0], found[1], found[2], found[3], [layer, *later]))

    def fix(self, rw, match) -> None:
        """Flatten/Reshape + Gemm (or MatMul + bias Add) on N×C×H×W → a Conv with the reshaped weights (k = H×W; a
        channels-last Flatten's weight rows permuted from H, W, C to C, H, W); the FCs after it → 1×1 convs; one
        Flatten at the end, so the original outputs are unchanged at the designed input size (exact). The model
        becomes fully convolutional: the input's height and width are left free and the conv's N×K×h×w score map is a
        new output (`<logits>_spatial`); `onnxlint fix` runs the written model at twice the input size and checks the
        map against the conv arithmetic."""
        import numpy as np
        from onnx import helper

        flat_layer, (c, h, w), map_reader, channels_last, fcs = match
        map_tensor = rw.node(map_reader).input[0]  # as the rewrite has it now (an earlier fix may rename it)
        kernel = rw.ctx.shapes.dims.get(map_reader.inputs[0])[2:]
        big = next((fc for fc in fcs if fc.param_bytes >= 2**31), None)
        if big is not None:  # measured with onnxruntime 1.32: its optimizer re-lays out a conv weight as one
            # embedded initializer, refused past 2 GiB ("exceeds the 2147483648 byte limit")
            rw.skip(f"OL203 {fcs[0].name}: not converted; {big.label}'s weight would be a Conv weight of 2 GiB or "
                    "more, which onnxruntime's default graph optimizations cannot load")
            return
        for i, fc_layer in enumerate(fcs):
            fc, attrs = rw.node(fc_layer), fc_layer.attrs
            placeholder = rw.fill(fc.input[1])
            if placeholder is not None:  # the same fill, reshaped: no weight is written out
                value, dims = placeholder
                n_out = dims[0] if fc.op_type == "Gemm" and attrs.get("transB", 0) else dims[1]
                weight_name = rw.add_fill((value * attrs.get("alpha", 1.0)).astype(value.dtype),
                                            [n_out, c, h, w] if i == 0 else [n_out, dims[0] * dims[1] // n_out, 1, 1],
                                            f"{fc.input[1]}_as_conv")
                _to_conv(rw, fc, fc_layer, map_tensor, kernel, i, weight_name, n_out, value.dtype, attrs)
                continue
            transposed, alpha = fc.op_type == "Gemm" and attrs.get("transB", 0), attrs.get("alpha", 1.0)
            n_in, n_out, _ = fc_weight(rw.ctx, fc_layer)
            dims = [n_out, c, h, w] if i == 0 else [n_out, n_in, 1, 1]
            if transposed and alpha == 1.0 and not (i == 0 and channels_last):
                # torch's Linear: its [out, in] bytes already are the kernel's
                weight_name = rw.reshaped(fc.input[1], dims, f"{fc.input[1]}_as_conv")
                dtype = rw.dtype(weight_name)
            else:
                weight = rw.value(fc.input[1])
                weight = weight if transposed else weight.T  # now [out, in]
                dtype = weight.dtype
                if alpha != 1.0:
                    weight = (weight * alpha).astype(dtype, copy=False)
                if i == 0 and channels_last:  # the rows of a channels-last Flatten are in H, W, C order
                    weight = weight.reshape(n_out, h, w, c).transpose(0, 3, 1, 2)
                weight_name = rw.add_initializer(np.ascontiguousarray(weight).reshape(dims), f"{fc.input[1]}_as_conv")
            _to_conv(rw, fc, fc_layer, map_tensor, kernel, i, weight_name, n_out, dtype, attrs)
        # the map now stays 4-D through the former FCs and their activations: flatten once at the end
        last = fc_end(rw.ctx, fcs[-1])
        flat_out = f"{last}_spatial"
        producer = rw.producer(last)
        rw.rename_output(producer, last, flat_out)
        rw.insert_after(producer, helper.make_node("Flatten", [flat_out], [last], name=f"{fcs[-1].name}_flatten"))
        _forget_between(rw, fcs)  # the Flatten/Reshape (and a Transpose before it), now unread, go in prune()
        rw.score_map(flat_out, last)  # the N×K×h×w map an input larger than the designed one gives


def _to_conv(rw, fc, fc_layer, map_tensor: str, map_kernel, i: int, weight_name: str, n_out: int, dtype,
             attrs: dict) -> None:
    """Replace the FC node (and the bias Add after a MatMul) by the Conv reading `weight_name` (the first on
    the 4-D map, later ones 1×1)."""
    import numpy as np
    from onnx import helper

    inputs = [map_tensor if i == 0 else fc.input[0], weight_name]
    add = bias_add(rw.ctx, fc_layer)
    bias = None
    if fc.op_type == "Gemm" and len(fc.input) > 2 and fc.input[2]:
        bias = rw.value(fc.input[2]) * attrs.get("beta", 1.0)
    elif add is not None:
        bias = rw.value(next(n for n in add.inputs if n != fc_layer.outputs[0]))
    if bias is not None:
        bias = np.broadcast_to(bias, (n_out,)).astype(dtype)
        inputs.append(rw.add_initializer(np.ascontiguousarray(bias), f"{fc.input[1]}_as_conv_bias"))
    kernel = map_kernel if i == 0 else (1, 1)
    out = (add or fc_layer).outputs[0]
    conv = helper.make_node("Conv", inputs, [out], name=f"{fc_layer.name}_conv", kernel_shape=list(kernel))
    if add is not None:
        rw.remove(rw.node(add))
    rw.replace(fc, conv)
    rw.forget_shape(out)
    rw.changed(f"OL203 {fc_layer.name} ({fc.op_type}{' + bias Add' if add else ''}) → Conv {kernel[0]}×{kernel[1]}")


def _forget_between(rw, fcs) -> None:
    # activations between the converted FCs are 4-D now: their declared shapes are stale
    for fc in fcs:
        for user in rw.ctx.consumers(fc_end(rw.ctx, fc)):
            for out in user.outputs:
                rw.forget_shape(out)
