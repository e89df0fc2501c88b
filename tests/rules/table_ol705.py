from cases import Case, FixCase, weights

RULE = "OL705"
# conv1 (4 output channels, one 100× narrower than the rest) → BatchNorm → {act} → conv2 (dense, 4 → 3)
PAIR = """
<ir_version: 8, opset_import: ["" : 17]>
g (float[1,2,6,6] x) => (float[1,3,6,6] y) {{
  w1 = Constant <value = float[4,2,3,3] {{{w1}}}> ()
  b1 = Constant <value = float[4] {{{b1}}}> ()
  gamma = Constant <value = float[4] {{{gamma}}}> ()
  beta = Constant <value = float[4] {{{beta}}}> ()
  mean = Constant <value = float[4] {{{mean}}}> ()
  var = Constant <value = float[4] {{{var}}}> ()
  w2 = Constant <value = float[3,4,1,1] {{{w2}}}> ()
  c1 = Conv <pads = [1, 1, 1, 1]> (x, w1, b1)
  n1 = BatchNormalization (c1, gamma, beta, mean, var)
  a = {act}
  y = Conv (a, w2)
}}"""
W1 = ", ".join([weights(18, 1, 0.5, 1.0), weights(18, 2, 0.5, 1.0), weights(18, 3, -0.01, 0.01),
                weights(18, 4, 0.5, 1.0)])
VALUES = dict(w1=W1, b1=weights(4, 5), gamma=weights(4, 6, 0.5, 1.5), beta=weights(4, 7), mean=weights(4, 8),
              var=weights(4, 9, 0.5, 1.5), w2=weights(12, 10))
CASES = [
    Case("a ReLU between them: equalizing is exact", PAIR.format(act="Relu (n1)", **VALUES),
         fires={"Conv_7": ["Conv 3×3, 2→4, 6×6 → Relu → Conv_10: equalizing them (after folding the "
                           "BatchNormalization) brings the first conv's channel range spread from 122× to 10.2×",
                           "the float function is unchanged"]}),
    Case("a LeakyReLU is positively homogeneous too", PAIR.format(act="LeakyRelu <alpha = 0.1> (n1)", **VALUES),
         fires={"Conv_7": ["→ LeakyRelu →"]}),
    Case("near miss: ReLU6 does not commute with the scaling", PAIR.format(
        act="Clip (n1, lo, hi)", **VALUES).replace("  a = Clip", "  lo = Constant <value = float {0.0}> ()\n"
                                                   "  hi = Constant <value = float {6.0}> ()\n  a = Clip")),
    Case("near miss: the ranges are even", PAIR.format(act="Relu (n1)", **{**VALUES, "w1": weights(72, 1, 0.5, 1.0)})),
]
FIXES = [
    FixCase("equalized: the BatchNorm folded into conv1, conv1's channels scaled by 1/s, conv2's inputs by s",
            PAIR.format(act="Relu (n1)", **VALUES), ops=["Conv", "Relu", "Conv"]),
]
