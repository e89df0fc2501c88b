import platform

from cases import Case, FixCase

X86 = platform.machine().lower() in ("x86_64", "amd64")  # Arm builds of onnxruntime take int8 activations

RULE = "OL601"
# x → Q → DQ read by a Conv and a Relu: with int8 activations the shared pair stays int8 on x86-64 (float conv)
MODEL = """
<ir_version: 10, opset_import: ["" : 21]>
g (float[1,1,4,4] x) => (float y, float r) <float s = {{0.05}}, {act}[1] z = {{{zero}}}, float[2] ws = {{0.01, 0.02}},
                                            int8[2] wz = {{0, 0}}, int8[2,1,1,1] w = {{3, -2}}> {{
  xq = QuantizeLinear (x, s, z)
  xd = DequantizeLinear (xq, s, z)
  wd = DequantizeLinear <axis = 0> (w, ws, wz)
  c = Conv (xd, wd)
  cq = QuantizeLinear (c, s, z)
  y = DequantizeLinear (cq, s, z)
  r = Relu (xd)
}}"""
CASES = [
    Case("int8 activations read twice", MODEL.format(act="int8", zero=0), settings={"target": "ort-cpu"},
         fires={"Conv_3": ["runs in float", "its int8 input feeds 2 nodes", "uint8 its x86-64 kernels take"]}
         if X86 else {}),
    Case("the same with uint8 activations: int8 kernels", MODEL.format(act="uint8", zero=128),
         settings={"target": "ort-cpu"}),
    Case("no target, no deployment view", MODEL.format(act="int8", zero=0)),
]
FIXES = [] if not X86 else [
    FixCase("the shared int8 activations become uint8", MODEL.format(act="int8", zero=3),
            ops=["QuantizeLinear", "DequantizeLinear", "DequantizeLinear", "Conv", "QuantizeLinear",
                 "DequantizeLinear", "Relu"]),
]
