from cases import Case

RULE = "OL102"
POOL = """
<ir_version: 8, opset_import: ["" : 17]>
g (float[1,16,{size},{size}] x) => (float y) {{
  y = MaxPool <kernel_shape = [3, 3], strides = [2, 2]{extra}> (x)
}}"""
CASES = [
    Case("3×3/2 max pool on 28: 13.5 → 13", POOL.format(size=28, extra=""),
         fires={"MaxPool_0": ["(28 + 0 − 3) / 2 + 1 = 13.5 → 13", "or set ceil_mode=1"]}),
    Case("on 29: exact", POOL.format(size=29, extra="")),
    Case("ceil_mode=1 covers the tail", POOL.format(size=28, extra=", ceil_mode = 1")),
]
