from cases import Case

RULE = "OL703"
FC = """
<ir_version: 8, opset_import: ["" : 17]>
g (float[1,4] x) => (float y) {{
  w = Constant <value = float[4,2] {{{values}}}> ()
  y = MatMul (x, w)
}}"""
CASES = [
    Case("one weight beyond 65,504 becomes inf: a warning, with its reason",
         FC.format(values="70000.0, 0.5, -0.25, 1.0, 2.0, -3.0, 0.125, 4.0"),
         fires={"MatMul_1": ["of its 8 weights, 1 exceed 65,504 and become ±inf in float16",
                             "(warning, not suggestion: an inf weight makes its outputs inf or NaN)"]}),
    Case("one weight becomes 0, one subnormal",
         FC.format(values="1e-9, 1e-6, -0.25, 1.0, 2.0, -3.0, 0.125, 4.0"),
         fires={"MatMul_1": ["1 non-zero ones are below its smallest subnormal and become 0",
                             "1 fall below fp16's smallest normal 6.1e-5"]}),
    Case("near miss: 65,504 itself and fp16's smallest normal are representable",
         FC.format(values="65504.0, 0.00006103515625, -0.25, 1.0, 2.0, -3.0, 0.125, 0.0")),
]
