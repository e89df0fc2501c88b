from cases import Case, conv_model

RULE = "OL202"
CASES = [
    Case("3×3 256→256 with no reduction", conv_model([1, 256, 56, 56], [256, 256, 3, 3], "pads = [1, 1, 1, 1]"),
         fires={"Conv_2": ["runs on all 256 input channels", "a 1×1 reduction to 64 channels"]}),
    Case("C_in below min-channels", conv_model([1, 64, 56, 56], [64, 64, 3, 3], "pads = [1, 1, 1, 1]")),
    Case("min-channels lowered", conv_model([1, 64, 56, 56], [64, 64, 3, 3], "pads = [1, 1, 1, 1]"),
         fires={"Conv_2": ["runs on all 64 input channels"]}, options={"min-channels": 64}),
]
