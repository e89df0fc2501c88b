from cases import Case, weights

RULE = "OL701"
# a depthwise 3×3 conv on 4 channels: channel 2's weights are 300× smaller than the layer's largest, so
# symmetric per-tensor int8 (scale max|W|/127) rounds them all to 0; a BatchNorm after it can widen or close
# the gap, as onnxruntime's fusion folds it into the weight first
DEPTHWISE = """
<ir_version: 8, opset_import: ["" : 17]>
g (float[1,4,8,8] x) => (float y) {{
  w = Constant <value = float[4,1,3,3] {{{w0}, {w1}, {w2}, {w3}}}> ()
  c = Conv <group = 4, pads = [1, 1, 1, 1]> (x, w)
  gamma = Constant <value = float[4] {{{gamma}}}> ()
  beta = Constant <value = float[4] {{0.1, 0.2, 0.3, 0.4}}> ()
  mean = Constant <value = float[4] {{0.0, 0.0, 0.0, 0.0}}> ()
  var = Constant <value = float[4] {{1.0, 1.0, 1.0, 1.0}}> ()
  y = BatchNormalization <epsilon = 0.0> (c, gamma, beta, mean, var)
}}"""
WIDE, TINY = weights(9, 1, 0.5, 1.0), weights(9, 2, -0.003, 0.003)
CASES = [
    Case("a depthwise channel 300× below the layer's largest rounds to zero",
         DEPTHWISE.format(w0=WIDE, w1=WIDE, w2=TINY, w3=WIDE, gamma="1.0, 1.0, 1.0, 1.0"),
         fires={"Conv_1": ["per-tensor int8 (scale max|W|/127 = 0.00649, after folding the BatchNormalization after "
                           "it) zeroes 1 of 4 output channels (max|w_c| ≤ max|W|/254 = 0.00324)",
                           "per-channel int8 keeps 1 of them"]}),
    Case("near miss: the BatchNorm's γ folded into the weight closes the gap (γ = 300 on that channel)",
         DEPTHWISE.format(w0=WIDE, w1=WIDE, w2=TINY, w3=WIDE, gamma="1.0, 1.0, 300.0, 1.0")),
    Case("the BatchNorm's γ folded into the weight opens the gap (γ = 0.001 on channel 1)",
         DEPTHWISE.format(w0=WIDE, w1=WIDE, w2=WIDE, w3=WIDE, gamma="1.0, 0.001, 1.0, 1.0"),
         fires={"Conv_1": ["after folding the BatchNormalization after it) zeroes 1 of 4 output channels"]}),
]
