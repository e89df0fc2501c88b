from cases import Case, conv_model

RULE = "OL101"
SILERO = """
<ir_version: 8, opset_import: ["" : 17]>
g (float[1,1,512] x) => (float[1,1,3] y) {{
  sh = Shape (x)
  i2 = Constant <value = int64[1] {{2}}> ()
  n = Gather <axis = 0> (sh, i2)
  d = Constant <value = int64[1] {{8}}> ()
  q = Div (n, d)
  before = Constant <value = int64[{before}] {{{zeros_before}}}> ()
  pads = Concat <axis = 0> (before, q{tail})
  p = Pad <mode = "reflect"> (x, pads)
  s = Constant <value = int64[3] {{1, 1, 256}}> ()
  w = ConstantOfShape <value = float[1] {{0.01}}> (s)
  y = Conv <strides = [128]> (p, w)
}}"""
CASES = [
    Case("AlexNet's conv1 on 224 (DOMAIN.md §1)", conv_model([1, 3, 224, 224], [96, 3, 11, 11], "strides = [4, 4]"),
         fires={"Conv_2": ["(224 + 0 − 11) / 4 + 1 = 54.25 → 54", "the last 1 row and 1 column"]}),
    Case("the same conv on 227: exact", conv_model([1, 3, 227, 227], [96, 3, 11, 11], "strides = [4, 4]")),
    Case("I=10, k=3, s=2: 4.5 → 4", conv_model([1, 1, 10, 10], [1, 1, 3, 3], "strides = [2, 2]"),
         fires={"Conv_2": ["(10 + 0 − 3) / 2 + 1 = 4.5 → 4"]}),
    Case("I=128, k=5, p=1, s=2: only the padding column skipped",
         conv_model([1, 32, 128, 128], [512, 32, 5, 5], "strides = [2, 2], pads = [1, 1, 1, 1]")),
    Case("1×1 stride-2 projection: the regular gap", conv_model([1, 64, 56, 56], [128, 64, 1, 1], "strides = [2, 2]")),
    Case("silero-vad's STFT conv: 64 samples of reflect padding at the end, pads computed from Shape (no drop)",
         SILERO.format(before=5, zeros_before="0, 0, 0, 0, 0", tail="")),
    Case("the same 64 padded at the beginning: the tail is real input",
         SILERO.format(before=2, zeros_before="0, 0", tail=", after").replace(
             "  pads = ", "  after = Constant <value = int64[3] {0, 0, 0}> ()\n  pads = "),
         fires={"Conv_11": ["(576 + 0 − 256) / 128 + 1 = 3.5 → 3", "the last 64 positions of the input are never "
                                                                     "read"]}),
]
