from cases import Case

RULE = "OL004"
MODEL = """
<ir_version: 8, opset_import: ["" : 17]>
g (float[1,8,6,6] x, float[1,8,{size},{size}] z) => (float y) {{
  y = Add (x, z)
}}"""
CONV = """
<ir_version: 8, opset_import: ["" : 17]>
g ({x_type}[1,4,8,8] x) => (float y) {{
  s = Constant <value = int64[4] {{4, 4, 3, 3}}> ()
  w = ConstantOfShape <value = float[1] {{0.01}}> (s)
  y = {op} <{attrs}> (x, w)
}}"""
CASES = [
    Case("an auto_pad ONNX does not define", CONV.format(x_type="float", op="Conv", attrs='auto_pad = "GARBAGE"'),
         fires={"Conv_2": ["auto_pad 'GARBAGE' is none of NOTSET, SAME_UPPER, SAME_LOWER, VALID"]}),
    Case("kernel_shape against the weight", CONV.format(x_type="float", op="Conv", attrs="kernel_shape = [7, 7]"),
         fires={"Conv_2": ["kernel_shape 7×7 contradicts its weight's 3×3 (weight [4, 4, 3, 3])"]}),
    Case("kernel_shape as the weight has it", CONV.format(x_type="float", op="Conv", attrs="kernel_shape = [3, 3]")),
    Case("a conv on a string input: its schema's (OL006), not a contradiction",
         CONV.format(x_type="string", op="Conv", attrs="pads = [0, 0, 0, 0]")),
    Case("output_padding past the stride", CONV.format(x_type="float", op="ConvTranspose",
                                                       attrs="strides = [2, 2], output_padding = [1099511627776, 0]"),
         fires={"ConvTranspose_2": ["output_padding 1099511627776 on axis 0 is not in [0, max(stride 2, "
                                    "dilation 1))"]}),
    Case("output_padding below the stride", CONV.format(x_type="float", op="ConvTranspose",
                                                        attrs="strides = [2, 2], output_padding = [1, 1]")),
    Case("an output_shape size ≤ 0", CONV.format(x_type="float", op="ConvTranspose", attrs="output_shape = [-7, -7]"),
         fires={"ConvTranspose_2": ["output_shape [-7, -7] holds a size ≤ 0"]}),
    Case("operands that cannot broadcast", MODEL.format(size=5),
         fires={"Add_0": ["its inputs [1,8,6,6] and [1,8,5,5] cannot broadcast"]}),
    Case("a 1 broadcasts", MODEL.format(size=1)),
]
