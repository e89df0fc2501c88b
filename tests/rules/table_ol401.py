from cases import Case

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
