from cases import Case, FixCase, weights

RULE = "OL706"
# a RepVGG block on 4 channels: 3×3 conv + 1×1 conv (biases: BatchNorm folded by the exporter) + identity BatchNorm
BLOCK = """
<ir_version: 8, opset_import: ["" : 17]>
g (float[1,4,6,6] x) => (float[1,4,6,6] y) {{
  w3 = Constant <value = float[4,4,3,3] {{{w3}}}> ()
  b3 = Constant <value = float[4] {{{b3}}}> ()
  w1 = Constant <value = float[4,4,1,1] {{{w1}}}> ()
  b1 = Constant <value = float[4] {{{b1}}}> ()
  gamma = Constant <value = float[4] {{{gamma}}}> ()
  beta = Constant <value = float[4] {{{beta}}}> ()
  mean = Constant <value = float[4] {{{mean}}}> ()
  var = Constant <value = float[4] {{{var}}}> ()
  k = Conv <pads = [1, 1, 1, 1]{stride}> (x, w3, b3)
  p = Conv <{one_by_one}> (x, w1, b1)
  i = BatchNormalization (x, gamma, beta, mean, var)
  s = Add (k, p)
  y = {last}
}}"""
VALUES = dict(w3=weights(144, 1), b3=weights(4, 2), w1=weights(16, 3), b1=weights(4, 4),
              gamma=weights(4, 5, 0.5, 1.5), beta=weights(4, 6), mean=weights(4, 7), var=weights(4, 8, 0.5, 1.5))
IDENTITY = BLOCK.format(stride="", one_by_one="pads = [0, 0, 0, 0]", last="Add (s, i)", **VALUES)
CASES = [
    Case("3×3 + 1×1 + identity BatchNorm: one finding, at the last Add", IDENTITY,
         fires={"Add_12": ["Conv 3×3 + Conv 1×1 + identity of 'x' summed here fold exactly into one 3×3 conv: "
                           "4 nodes fewer (1 conv, 2 Adds, the BatchNorms)"]}),
    Case("near miss: a 1×1 conv padded by 1 is not centred with the 3×3 (its output is larger)",
         BLOCK.format(stride="", one_by_one="pads = [1, 1, 1, 1]", last="Identity (s)", **VALUES)),
    Case("near miss: a residual Add of a conv of another tensor", IDENTITY.replace("p = Conv <pads = [0, 0, 0, 0]> (x,",
                                                                                 "p = Conv <pads = [0, 0, 0, 0]> (k,")),
]
FIXES = [
    FixCase("3×3 + 1×1 + identity BatchNorm → one 3×3 conv", IDENTITY, ops=["Conv"]),
]
