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
TF2ONNX = f"""
<ir_version: 8, opset_import: ["" : 17]>
g (float[1,4,8,8] x) => (float y) {{{{
  w = Constant <value = float[6,4,3,3] {{{{{weights(6 * 4 * 9, 12)}}}}}> ()
  s = Constant <value = float[1,6,1,1] {{{{{weights(6, 13, 0.5, 1.5)}}}}}> ()
  t = Constant <value = float[1,6,1,1] {{{{{weights(6, 14)}}}}}> ()
  c = Conv <pads = [1, 1, 1, 1]> (x, w)
  m = Mul (c, s)
  y = {{add}} (m, t)
}}}}"""
POSITIONAL = TF2ONNX.format(add="Add").replace("float[1,6,1,1] {" + weights(6, 13, 0.5, 1.5),
                                               "float[1,1,8,8] {" + weights(64, 13, 0.5, 1.5))
ONES = ", ".join(["1.0"] * 16)
CASES = [
    Case("BatchNorm right after a Conv", MODEL.format(weights=W, ones=ONES, between="c2 = Identity (c)").replace(
        "c2 = Identity (c)", "").replace("(c2,", "(c,"),
         fires={"BatchNormalization_3": ["BatchNormalization on 16 channels directly follows Conv_2 (Conv)"]}),
    Case("a Relu between them: not foldable", MODEL.format(weights=W, ones=ONES, between="c2 = Relu (c)")),
    Case("tf2onnx's BatchNorm left as Mul → Add on the conv: one finding, at the Add", TF2ONNX.format(add="Add"),
         fires={"Add_5": ["Mul → Add by a per-channel constant on 6 channels (a BatchNorm written out) directly "
                          "follows Conv_3 (Conv)", "2 nodes and 2 passes over 3.0 KiB of activations fewer"]}),
    Case("near miss: a Mul by a per-position constant is no per-channel affine", POSITIONAL),
    Case("near miss: the conv's output is also read elsewhere", TF2ONNX.format(add="Sum").replace(
        "y = Sum (m, t)", "y = Sum (m, t, c)")),
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
    FixCase("tf2onnx's Mul → Add after a conv without a bias", TF2ONNX.format(add="Add").replace(
        "float y", "float[1,6,8,8] y"), ops=["Conv"]),
    FixCase("paddle2onnx's ConvTranspose bias added apart, and a Div and Sub by per-channel constants", f"""
<ir_version: 8, opset_import: ["" : 12]>
g (float[1,6,5,5] x) => (float[1,4,10,10] y) {{
  w = Constant <value = float[6,2,2,2] {{{weights(6 * 2 * 2 * 2, 15)}}}> ()
  d = Constant <value = float[4,1,1] {{{weights(4, 16, 0.5, 1.5)}}}> ()
  b = Constant <value = float[1,4,1,1] {{{weights(4, 17)}}}> ()
  up = ConvTranspose <strides = [2, 2], group = 2> (x, w)
  q = Div (up, d)
  r = Sub (q, b)
  y = Add (r, b)
}}""", ops=["ConvTranspose"]),
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
