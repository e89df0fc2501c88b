from cases import Case
from table_ol004 import CONV  # a conv whose input type and attributes each case sets

RULE = "OL006"
TWO = """
<ir_version: 8, opset_import: ["" : 17]>
g (float[1,4] a, {b_type}[1,4] b) => (float[1,4] y) {{
  y = Add (a, b)
}}"""
CASES = [
    Case("an op the domain does not have", CONV.format(x_type="float", op="Cnov", attrs="pads = [0, 0, 0, 0]"),
         fires={"Cnov_2": ["the ONNX domain has no op Cnov at opset 17",
                           "No Op registered for Cnov with domain_version of 17"]}),
    Case("an op newer than the model's opset", """
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[1,4,8,8] x) => (float[1,4,8,8] y) { y = Gelu (x) }""",
         fires={"Gelu_0": ["the ONNX domain has no op Gelu at opset 17"]}),
    Case("the same op at its opset", """
    <ir_version: 8, opset_import: ["" : 20]>
    g (float[1,4,8,8] x) => (float[1,4,8,8] y) { y = Gelu (x) }"""),
    Case("an attribute of the wrong type", CONV.format(x_type="float", op="Conv", attrs="group = [1]"),
         fires={"Conv_2": ["attribute 'group' is INTS, Conv takes INT", "Mismatched attribute type"]}),
    Case("an attribute the op does not have", CONV.format(x_type="float", op="Conv", attrs="padding = [0, 0, 0, 0]"),
         fires={"Conv_2": ["Conv has no attribute 'padding'", "Unrecognized attribute: padding for operator Conv"]}),
    Case("a conv on a string input", CONV.format(x_type="string", op="Conv", attrs="pads = [0, 0, 0, 0]"),
         fires={"Conv_2": ["input 0 'x' of Conv is string; it takes double, float, float16"]}),
    Case("operands of one type variable that differ", TWO.format(b_type="int64"),
         fires={"Add_0": ["input 1 'b' of Add is int64 where an earlier input of the same type T is float32"]}),
    Case("operands of one type", TWO.format(b_type="float")),
    Case("too many inputs", """
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[1,4] a) => (float[1,4] y) { y = Relu (a, a) }""",
         fires={"Relu_0": ["Relu takes 1 inputs, this one has 2"]}),
    Case("a required attribute missing", """
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[1,4,8,8] x) => (float[1,4,8,8] y) { y = DepthToSpace (x) }""",
         fires={"DepthToSpace_0": ["DepthToSpace requires attribute 'blocksize', which is missing"]}),
    Case("an optional input left empty", """
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[1,4] a) => (float[1,4] y) { y = Clip (a, , ) }"""),
    Case("a required input left empty", """
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[1,4] a) => (float[1,4] y) { y = Add (, a) }""",
         fires={"Add_0": ["input 0 of Add is required, and it is empty"]}),
    Case("a custom domain's op the model declares: unknown, not invalid", """
    <ir_version: 8, opset_import: ["" : 17, "custom" : 1]>
    g (float[1,4] a) => (float[1,4] y) { y = custom.Foo (a) }"""),
]
