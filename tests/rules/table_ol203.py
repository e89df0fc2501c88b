from cases import Case

RULE = "OL203"
HEAD = """
<ir_version: 8, opset_import: ["" : 17]>
g (float[1,512,{h},{h}] x) => (float y) {{
  f = Flatten (x)
  s = Constant <value = int64[2] {{4096, {features}}}> ()
  w = ConstantOfShape <value = float[1] {{0.01}}> (s)
  y = Gemm <transB = 1> (f, w)
}}"""
CASES = [
    Case("VGG's fc6 on 7×7×512 (DOMAIN.md §8)", HEAD.format(h=7, features=25088),
         fires={"Gemm_3": ["is exactly a 7×7 conv with 4,096 filters", "7·7·512·4096 = 102,760,448 weights"]}),
    Case("after a global pool the FC already is a 1×1 conv", HEAD.format(h=1, features=512)),
]
