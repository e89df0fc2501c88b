from cases import Case, FixCase, weights
from table_ol701 import DEPTHWISE

RULE = "OL704"
WIDE, ZERO = weights(9, 1, 0.5, 1.0), ", ".join(["0.0"] * 9)
CASES = [
    Case("an all-zero filter: its channel outputs the BatchNorm's shift everywhere",
         DEPTHWISE.format(w0=WIDE, w1=ZERO, w2=WIDE, w3=WIDE, gamma="1.0, 1.0, 1.0, 1.0"),
         fires={"Conv_1": ["1 of 4 output channels are constant (all-zero weights after folding the "
                           "BatchNormalization after it)", "25% of the layer's MACs, 576"]}),
    Case("γ = 0 makes the folded filter zero", DEPTHWISE.format(w0=WIDE, w1=WIDE, w2=WIDE, w3=WIDE,
                                                              gamma="1.0, 1.0, 0.0, 1.0"),
         fires={"Conv_1": ["1 of 4 output channels are constant"]}),
    Case("near miss: tiny weights are not zero", DEPTHWISE.format(w0=WIDE, w1=", ".join(["1e-6"] * 9), w2=WIDE,
                                                                w3=WIDE, gamma="1.0, 1.0, 1.0, 1.0")),
]

# conv1 (4 channels, channel 1 all zero) → BatchNorm → Relu → conv2 (3×3, padded): the dead channel's constant
# relu(β′) is 0 when its folded bias is ≤ 0, and then removing it is exact even with the padding
PRUNE = """
<ir_version: 8, opset_import: ["" : 17]>
g (float[1,2,6,6] x) => (float[1,3,6,6] y) {{
  w1 = Constant <value = float[4,2,3,3] {{{w1}}}> ()
  gamma = Constant <value = float[4] {{1.0, 1.0, 1.0, 1.0}}> ()
  beta = Constant <value = float[4] {{{beta}}}> ()
  mean = Constant <value = float[4] {{0.0, 0.0, 0.0, 0.0}}> ()
  var = Constant <value = float[4] {{1.0, 1.0, 1.0, 1.0}}> ()
  w2 = Constant <value = float[3,4,{k},{k}] {{{w2}}}> ()
  c1 = Conv <pads = [1, 1, 1, 1]> (x, w1)
  n1 = BatchNormalization <epsilon = 0.0> (c1, gamma, beta, mean, var)
  a = Relu (n1)
  y = Conv <pads = [{p}, {p}, {p}, {p}]> (a, w2)
}}"""
W1 = ", ".join([weights(18, 1), ", ".join(["0.0"] * 18), weights(18, 2), weights(18, 3)])
CASES += [
    Case("near miss for the fix: a positive constant the next conv's zero padding would not see",
         PRUNE.format(w1=W1, beta="0.1, 0.5, 0.2, 0.3", w2=weights(108, 4), k=3, p=1),
         fires={"Conv_6": ["1 of 4 output channels are constant", "`onnxlint fix` cannot do it here: the next "
                           "conv pads the channels' constant with zeros at the borders"]}),
]
FIXES = [
    FixCase("the dead channel's ReLU output is 0: removed, even before a padded conv",
            PRUNE.format(w1=W1, beta="0.1, -0.5, 0.2, 0.3", w2=weights(108, 4), k=3, p=1),
            ops=["Conv", "Relu", "Conv"]),
    FixCase("a positive constant into an unpadded 1×1 conv: it moves into that conv's bias",
            PRUNE.format(w1=W1, beta="0.1, 0.5, 0.2, 0.3", w2=weights(12, 5), k=1, p=0), ops=["Conv", "Relu", "Conv"]),
]
