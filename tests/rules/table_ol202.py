from cases import Case, conv_model

RULE = "OL202"
_WEIGHTS = """
  s1 = Constant <value = int64[4] {128, 256, 1, 1}> ()
  w1 = ConstantOfShape <value = float[1] {0.01}> (s1)
  s3 = Constant <value = int64[4] {128, 128, 3, 3}> ()
  w3 = ConstantOfShape <value = float[1] {0.01}> (s3)
  c1 = Conv (x, w1)"""
_HEAD = '<ir_version: 8, opset_import: ["" : 17]>\ng (float[1,256,40,40] x) => (float y) {'
YOLO_SILU = _HEAD + _WEIGHTS + """
  g = Sigmoid (c1)
  m = Mul (c1, g)
  y = Conv <pads = [1, 1, 1, 1]> (m, w3)
}"""
GATED_BY_ANOTHER_BRANCH = _HEAD + _WEIGHTS + """
  s0 = Constant <value = int64[4] {128, 256, 3, 3}> ()
  w0 = ConstantOfShape <value = float[1] {0.01}> (s0)
  c0 = Conv <pads = [1, 1, 1, 1]> (x, w0)
  g = Sigmoid (c0)
  m = Mul (c1, g)
  y = Conv <pads = [1, 1, 1, 1]> (m, w3)
}"""
GROUP_NORM = _HEAD + _WEIGHTS + """
  grouped = Constant <value = int64[3] {1, 32, -1}> ()
  r1 = Reshape (c1, grouped)
  sg = Constant <value = int64[1] {32}> ()
  one = ConstantOfShape <value = float[1] {1}> (sg)
  zero = ConstantOfShape <value = float[1] {0}> (sg)
  n = InstanceNormalization (r1, one, zero)
  back = Constant <value = int64[4] {1, 128, 40, 40}> ()
  r2 = Reshape (n, back)
  sc = Constant <value = int64[3] {128, 1, 1}> ()
  gamma = ConstantOfShape <value = float[1] {1}> (sc)
  beta = ConstantOfShape <value = float[1] {0}> (sc)
  a = Mul (r2, gamma)
  b = Add (a, beta)
  r = Relu (b)
  y = Conv <pads = [1, 1, 1, 1]> (r, w3)
}"""
# YOLOv8's C2f at model.8 (nudenet 320n): 1×1 256→256, SiLU, Split into halves, the bottleneck's two 3×3
# convs on 128 channels; a Split along another axis keeps every channel and is no reduction
C2F = """<ir_version: 8, opset_import: ["" : 17]>
g (float[1,256,10,10] x) => (float y) {
  s1 = Constant <value = int64[4] {256, 256, 1, 1}> ()
  w1 = ConstantOfShape <value = float[1] {0.01}> (s1)
  s3 = Constant <value = int64[4] {128, 128, 3, 3}> ()
  w3 = ConstantOfShape <value = float[1] {0.01}> (s3)
  c1 = Conv (x, w1)
  g1 = Sigmoid (c1)
  m1 = Mul (c1, g1)
  halves = Constant <value = int64[2] {128, 128}> ()
  a, b = Split <axis = 1> (m1, halves)
  c2 = Conv <pads = [1, 1, 1, 1]> (b, w3)
  g2 = Sigmoid (c2)
  m2 = Mul (c2, g2)
  y = Conv <pads = [1, 1, 1, 1]> (m2, w3)
}"""
SPLIT_ROWS = C2F.replace("Split <axis = 1>", "Split <axis = 2>").replace("{128, 128}> ()", "{5, 5}> ()") \
    .replace("{128, 128, 3, 3}", "{128, 256, 3, 3}") \
    .replace("y = Conv <pads = [1, 1, 1, 1]> (m2, w3)", "y = Identity (m2)")
CASES = [
    Case("YOLOv8 C2f: 1×1 256→256, SiLU, Split in channel halves, then two 3×3 convs on 128", C2F),
    Case("near miss: a Split of the rows keeps all 256 channels", SPLIT_ROWS,
         fires={"Conv_9": ["runs on all 256 input channels"]}, options={"min-saving": 0.0}),
    Case("YOLO: 1×1 256→128, SiLU exported as x·sigmoid(x), then the 3×3", YOLO_SILU),
    Case("resnetv2 (BiT): 1×1 reduction, GroupNorm as Reshape → InstanceNorm → Reshape, affine, ReLU", GROUP_NORM),
    Case("near miss: the product gates the 1×1's output by another branch, not by itself", GATED_BY_ANOTHER_BRANCH,
         fires={"Conv_10": ["runs on all 128 input channels"], "Conv_7": ["runs on all 256 input channels"]}),
    Case("3×3 256→256 with no reduction", conv_model([1, 256, 56, 56], [256, 256, 3, 3], "pads = [1, 1, 1, 1]"),
         fires={"Conv_2": ["runs on all 256 input channels", "a 1×1 reduction to 64 channels"]}),
    Case("C_in below min-channels", conv_model([1, 64, 56, 56], [64, 64, 3, 3], "pads = [1, 1, 1, 1]")),
    Case("min-channels lowered", conv_model([1, 64, 56, 56], [64, 64, 3, 3], "pads = [1, 1, 1, 1]"),
         fires={"Conv_2": ["runs on all 64 input channels"]}, options={"min-channels": 64}),
]
