from cases import Case

RULE = "OL004"
MODEL = """
<ir_version: 8, opset_import: ["" : 17]>
g (float[1,8,6,6] x, float[1,8,{size},{size}] z) => (float y) {{
  y = Add (x, z)
}}"""
CASES = [
    Case("operands that cannot broadcast", MODEL.format(size=5),
         fires={"Add_0": ["its inputs [1,8,6,6] and [1,8,5,5] cannot broadcast"]}),
    Case("a 1 broadcasts", MODEL.format(size=1)),
]
