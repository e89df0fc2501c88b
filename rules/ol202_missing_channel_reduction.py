from onnxlint.cost import ConvSpec
from onnxlint.diagnostics import Severity
from onnxlint.lookthrough import split_axis, walk_back_channels
from onnxlint.rule import Option, Rule, share
from onnxlint.units import layer_label, num, savings_text


def reduced_by_1x1(ctx, tensor: str) -> bool:
    """Whether `tensor` comes from a 1×1 conv, looking through what keeps its channels (lookthrough: BatchNorm,
    activations, gates, constant affines, norms); also through the spatial convs of a branch that a 1×1 conv
    reduced (Inception's 1×1 → 3×3 → 3×3), and a Split of the channels (a part of a reduced tensor is reduced)."""
    through_spatial, width = False, None  # width: the channels a Split on the way kept
    for _ in range(32):
        producer = walk_back_channels(ctx.producer, ctx.shapes.constants, ctx.shapes.dims, tensor)
        if producer is not None and _channel_split(ctx, producer):  # YOLOv8's C2f: 1×1 conv → Split in halves
            kept = (ctx.shapes.dims.get(tensor) or (None, None))[1]
            width = kept if width is None or kept is None else min(width, kept)
            tensor = producer.inputs[0]
            continue
        if producer is None or producer.op != "Conv":  # QLinearConv, ConvInteger too
            return False
        w = producer.window
        if w is None or w.group != 1 or w.c_in is None or w.c_out is None:
            return False
        if all(k == 1 for k in w.kernel):
            return not through_spatial or min(w.c_out, width or w.c_out) < w.c_in
        through_spatial = True
        tensor = producer.inputs[0]
    return False


def _channel_split(ctx, node) -> bool:
    """Whether `node` splits a feature map along its channels (axis 1)."""
    dims = ctx.shapes.dims.get(node.inputs[0]) if node.inputs else None
    return dims is not None and len(dims) >= 3 and split_axis(node, len(dims)) == 1


class MissingChannelReduction(Rule):
    """An expensive spatial conv on a wide input with no 1×1 channel reduction before it.

    What it checks
        Dense (group = 1) Convs with a k×k kernel, k ≥ 3, whose input has at least `min-channels` channels and does
        not come from a 1×1 conv (a float or quantized one: QLinearConv, ConvInteger; looking through BatchNorm,
        activations, activations written as products such as SiLU's x·sigmoid(x) in YOLO, GroupNorm as exported
        (Reshape → InstanceNormalization → Reshape), constant scale/shift, a Split of the channels (YOLOv8's C2f: 1×1
        conv → Split in halves → 3×3 convs), and the spatial convs of a branch that a 1×1 conv reduced, as in
        Inception's 1×1 → 3×3 → 3×3). It prices a 1×1 conv C_in → C_in/`reduction` before the k×k conv and fires when
        that saves at least `min-saving` of the layer's MACs and `min-model-saving` of the model's.

    Why it matters
        A 1×1 conv changes depth, not resolution: it is the cheap way to shrink channels before
        an expensive spatial conv (the Inception and ResNet bottleneck). 3×3 256→512 with bias
        costs 1,180,160 weights; 1×1 256→32 then 3×3 32→512 costs 156,192. Reducing channels
        also reduces information: it pays most on wide inputs. VGG and ResNet-18/34 basic
        blocks trigger it; ResNet-50 bottlenecks, DenseNet and Inception's reduced branches
        already have the 1×1.

    Example
        conv3x3 (Conv 3×3, 256→256, 56×56): a 1×1 reduction to 64 channels first gives 72%
        fewer params (589,824 → 16,384 + 147,456 = 163,840) and MACs.

    What to do
        Insert a 1×1 conv (with BatchNorm and activation) that reduces the channels, then run
        the spatial conv on the reduced tensor; retrain.
    """
    code = "OL202"
    name = "missing-channel-reduction"
    severity = Severity.SUGGESTION
    measurable = True  # --what-if times its replacement
    summary = "a wide k×k Conv (k ≥ 3, C_in ≥ {min-channels}) not preceded by a 1×1 channel reduction"
    op_types = ("Conv",)
    group_advice = "insert a 1×1 conv that reduces the channels before each (retrain)"
    options = (Option("min-channels", int, 128, "smallest input width worth reducing", 1),
               Option("reduction", int, 4, "reduce the channels by this factor (C_in / reduction)", 2),
               Option("min-saving", float, 0.25, "smallest MACs saving (fraction of the layer) worth reporting",
                      0.0, 1.0),
               share())

    def check_node(self, ctx, layer):
        spec = layer.conv
        if spec is None or spec.group != 1 or min(spec.kernel) < 3 or spec.c_in < self.opts["min-channels"]:
            return
        if reduced_by_1x1(ctx, layer.inputs[0]):
            return
        reduced = max(1, spec.c_in // self.opts["reduction"])
        in_size = tuple(a.size for a in layer.window.axes)
        after = [ConvSpec((1, 1), spec.c_in, reduced, in_size, 1, 1, spec.bias),
                 ConvSpec(spec.kernel, reduced, spec.c_out, spec.out_size, 1, spec.stride, spec.bias)]
        savings = ctx.savings(spec, after, layer.output_shape[0])
        if savings.macs_saved_pct < 100 * self.opts["min-saving"] or not self.material(savings):
            return
        yield self.report(
            f"{layer_label(layer)} runs on all {spec.c_in} input channels: a 1×1 reduction to {reduced} channels "
            f"first gives {savings_text(savings)}", layer,
            suggestion=f"insert a 1×1 conv {spec.c_in}→{reduced} before it ({num(after[0].params)} params) and run "
                       f"the {spec.kernel[0]}×{spec.kernel[1]} conv {reduced}→{spec.c_out} "
                       f"({num(after[1].params)} params); retrain",
            savings=savings, replacement=tuple(after))
