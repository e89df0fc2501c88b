from cases import Case

RULE = "OL005"
MODEL = """
<ir_version: 8, opset_import: ["" : 17]>
g (float[1,4,8,8] x) => (float{declared} y) {{
  s = Constant <value = int64[4] {{4, 4, 3, 3}}> ()
  w = ConstantOfShape <value = float[1] {{0.01}}> (s)
  y = Conv (x, w)
}}"""
CASES = [
    Case("declared [9,9,9,9], the Conv gives [1,4,6,6]", MODEL.format(declared="[9,9,9,9]"),
         fires={"Conv_2": ["declares output 'y' as [9,9,9,9], the arithmetic gives [1,4,6,6]"]}),
    Case("declared with a symbolic batch", MODEL.format(declared="[N,4,6,6]")),
    Case("declared as it is", MODEL.format(declared="[1,4,6,6]")),
]
