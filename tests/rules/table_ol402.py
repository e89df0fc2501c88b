from cases import Case

RULE = "OL402"
MODEL = """
<ir_version: 8, opset_import: ["" : 17]>
g (float[1,8] x) => (float[1,8] y) {{
  t = Constant <value = bool {{{training}}}> ()
  r = Relu (x)
  y, m = Dropout (r, , t)
}}"""
CASES = [
    Case("a Dropout in inference mode", MODEL.format(training=0), fires={"Dropout_2": ["does nothing at inference"]}),
    Case("a Dropout whose training_mode is a constant true is not a no-op", MODEL.format(training=1)),
]
