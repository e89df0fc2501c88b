from cases import Case, FixCase, weights

RULE = "OL203"
HEAD = """
<ir_version: 8, opset_import: ["" : 17]>
g (float[1,512,{h2},{h2}] x) => (float y) {{
  p = MaxPool <kernel_shape = [2, 2], strides = [2, 2]> (x)
  f = Flatten (p)
  s = Constant <value = int64[2] {{4096, {features}}}> ()
  w = ConstantOfShape <value = float[1] {{0.01}}> (s)
  y = Gemm <transB = 1> (f, w)
}}"""
CASES = [
    Case("VGG's fc6 on 7×7×512 (DOMAIN.md §8)", HEAD.format(h2=14, features=25088),
         fires={"Gemm_4": ["is exactly a 7×7 conv with 4,096 filters", "7·7·512·4096 = 102,760,448 weights"]}),
    Case("after a global pool the FC already is a 1×1 conv", HEAD.format(h2=2, features=512)),
    Case("the same FC on a graph input: no conv or pool made that map", """
<ir_version: 8, opset_import: ["" : 17]>
g (float[1,512,7,7] x) => (float y) {
  f = Flatten (x)
  s = Constant <value = int64[2] {4096, 25088}> ()
  w = ConstantOfShape <value = float[1] {0.01}> (s)
  y = Gemm <transB = 1> (f, w)
}"""),
    Case("attention's out-projection: heads × tokens × features reshaped, no map (ViT)", """
<ir_version: 8, opset_import: ["" : 17]>
g (float[1,12,197,64] attn) => (float y) {
  t = Transpose <perm = [0, 2, 1, 3]> (attn)
  s0 = Constant <value = int64[2] {197, 768}> ()
  f = Reshape (t, s0)
  s = Constant <value = int64[2] {768, 768}> ()
  w = ConstantOfShape <value = float[1] {0.01}> (s)
  y = MatMul (f, w)
}"""),
]

FIXES = [
    FixCase("pool → Flatten → Gemm → Relu → Gemm: a 2×2 conv, then a 1×1 conv", f"""
<ir_version: 8, opset_import: ["" : 17]>
g (float[1,2,4,4] x) => (float[1,3] y) {{
  p = MaxPool <kernel_shape = [2, 2], strides = [2, 2]> (x)
  f = Flatten (p)
  w1 = Constant <value = float[5,8] {{{weights(40, 1)}}}> ()
  b1 = Constant <value = float[5] {{{weights(5, 2)}}}> ()
  h = Gemm <transB = 1> (f, w1, b1)
  r = Relu (h)
  w2 = Constant <value = float[5,3] {{{weights(15, 3)}}}> ()
  y = MatMul (r, w2)
}}""", ops=["MaxPool", "Conv", "Relu", "Conv", "Flatten"]),
]
