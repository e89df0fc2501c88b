from cases import Case

RULE = "OL104"
NET = """
<ir_version: 8, opset_import: ["" : 17]>
g (float[1,3,{size},{size}] x) => (float y) {{
  s = Constant <value = int64[4] {{8, 3, 3, 3}}> ()
  w = ConstantOfShape <value = float[1] {{0.01}}> (s)
  a = Conv <strides = [2, 2], pads = [1, 1, 1, 1]> (x, w)
  b = MaxPool <kernel_shape = [2, 2], strides = [2, 2]> (a)
  y = MaxPool <kernel_shape = [2, 2], strides = [2, 2]> (b)
}}"""
CASES = [
    Case("100 into a total stride of 8", NET.format(size=100),
         fires={None: ["input 'x' is 100×100; with the network's total stride 8,"]}),
    Case("104: every stage exact", NET.format(size=104)),
]
