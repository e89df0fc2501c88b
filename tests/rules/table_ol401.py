from cases import Case, FixCase, weights

RULE = "OL401"
MODEL = """
<ir_version: 8, opset_import: ["" : 17]>
g (float[1,4,8,8] x) => (float y) {{
  w = Constant <value = float[16,4,3,3] {{{weights}}}> ()
  g1 = Constant <value = float[16] {{{ones}}}> ()
  c = Conv <pads = [1, 1, 1, 1]> (x, w)
  {between}
  y = BatchNormalization (c2, g1, g1, g1, g1)
}}"""
W = ", ".join(["0.1"] * (16 * 4 * 9))
ONES = ", ".join(["1.0"] * 16)
CASES = [
    Case("BatchNorm right after a Conv", MODEL.format(weights=W, ones=ONES, between="c2 = Identity (c)").replace(
        "c2 = Identity (c)", "").replace("(c2,", "(c,"),
         fires={"BatchNormalization_3": ["BatchNormalization on 16 channels directly follows Conv_2 (Conv)"]}),
    Case("a Relu between them: not foldable", MODEL.format(weights=W, ones=ONES, between="c2 = Relu (c)")),
]

FIXES = [
    FixCase("BatchNorm folded into the Conv's weights and bias", f"""
<ir_version: 8, opset_import: ["" : 17]>
g (float[1,4,8,8] x) => (float[1,6,8,8] y) {{
  w = Constant <value = float[6,4,3,3] {{{weights(6 * 4 * 9, 1)}}}> ()
  b = Constant <value = float[6] {{{weights(6, 2)}}}> ()
  gamma = Constant <value = float[6] {{{weights(6, 3, 0.5, 1.5)}}}> ()
  beta = Constant <value = float[6] {{{weights(6, 4)}}}> ()
  mean = Constant <value = float[6] {{{weights(6, 5)}}}> ()
  var = Constant <value = float[6] {{{weights(6, 6, 0.5, 2.0)}}}> ()
  c = Conv <pads = [1, 1, 1, 1]> (x, w, b)
  y = BatchNormalization <epsilon = 0.001> (c, gamma, beta, mean, var)
}}""", ops=["Conv"]),
    FixCase("a Conv without a bias gets one", f"""
<ir_version: 8, opset_import: ["" : 17]>
g (float[1,4,8,8] x) => (float[1,6,8,8] y) {{
  w = Constant <value = float[6,4,3,3] {{{weights(6 * 4 * 9, 7)}}}> ()
  gamma = Constant <value = float[6] {{{weights(6, 8, 0.5, 1.5)}}}> ()
  beta = Constant <value = float[6] {{{weights(6, 9)}}}> ()
  mean = Constant <value = float[6] {{{weights(6, 10)}}}> ()
  var = Constant <value = float[6] {{{weights(6, 11, 0.5, 2.0)}}}> ()
  c = Conv <pads = [1, 1, 1, 1]> (x, w)
  r = BatchNormalization (c, gamma, beta, mean, var)
  y = Relu (r)
}}""", ops=["Conv", "Relu"]),
]
