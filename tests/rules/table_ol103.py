from cases import Case

RULE = "OL103"
UNET = """
<ir_version: 8, opset_import: ["" : 17]>
g (float[1,32,128,128] x, float[1,16,256,256] skip) => (float y) {{
  s = Constant <value = int64[4] {{32, 16, 3, 3}}> ()
  w = ConstantOfShape <value = float[1] {{0.01}}> (s)
  up = ConvTranspose <strides = [2, 2], pads = [1, 1, 1, 1]{extra}> (x, w)
  y = Concat <axis = 1> (up, skip)
}}"""
# paddle2onnx (PP-OCRv4 det): ConvTranspose 2×2/2 exactly doubles, then its bias is added apart as a
# [1,C,1,1] tensor that broadcasts: no size to match
PADDLE_BIAS = """
<ir_version: 8, opset_import: ["" : 12]>
g (float[1,24,160,160] x) => (float y) {
  s = Constant <value = int64[4] {24, 24, 2, 2}> ()
  w = ConstantOfShape <value = float[1] {0.01}> (s)
  bs = Constant <value = int64[4] {1, 24, 1, 1}> ()
  b = ConstantOfShape <value = float[1] {0.1}> (bs)
  up = ConvTranspose <strides = [2, 2]> (x, w)
  y = Add (up, b)
}"""
CASES = [
    Case("paddle2onnx's bias added apart broadcasts: not a 1×1 size to meet", PADDLE_BIAS),
    Case("DOMAIN.md §2: 2·127 − 2 + 3 = 255, not the skip's 256", UNET.format(extra=""),
         fires={"ConvTranspose_2": ["2·(128 − 1) + 3 − 2 = 255", "set output_padding=[1, 1]"]}),
    Case("output_padding=1 restores 256", UNET.format(extra=", output_padding = [1, 1]")),
]
