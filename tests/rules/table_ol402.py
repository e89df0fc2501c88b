from cases import Case, FixCase

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

FIXES = [
    FixCase("a Dropout and an Identity before the output", """
<ir_version: 8, opset_import: ["" : 17]>
g (float[1,8] x) => (float[1,8] y) {
  t = Constant <value = bool {0}> ()
  r = Relu (x)
  d, m = Dropout (r, , t)
  i = Identity (d)
  y = Identity (i)
}""", ops=["Relu"]),
    FixCase("a Dropout inside the graph", """
<ir_version: 8, opset_import: ["" : 17]>
g (float[1,8] x) => (float[1,8] y) {
  r = Relu (x)
  d = Dropout (r)
  y = Sigmoid (d)
}""", ops=["Relu", "Sigmoid"]),
]
