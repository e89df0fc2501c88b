from cases import Case, conv_model

RULE = "OL201"
CASES = [
    Case("5×5 96→256 at width 96 (DOMAIN.md §5)",
         conv_model([1, 96, 28, 28], [256, 96, 5, 5], "pads = [2, 2, 2, 2]"),
         fires={"Conv_2": ["two stacked 3×3 convs see the same 5×5 window", "50% fewer params (614,400 → 304,128)"]}),
    Case("7×7 64→64: three 3×3", conv_model([1, 64, 56, 56], [64, 64, 7, 7], "pads = [3, 3, 3, 3]"),
         fires={"Conv_2": ["three stacked 3×3 convs see the same 7×7 window", "45% fewer params"]}),
    Case("a 3×3 is not large", conv_model([1, 64, 56, 56], [64, 64, 3, 3], "pads = [1, 1, 1, 1]")),
    Case("a patchify stem (stride = kernel) is not a stack", conv_model([1, 3, 224, 224], [96, 3, 4, 4],
                                                                          "strides = [4, 4]")),
    Case("a 7×7 stem on 3 channels saves nothing", conv_model([1, 3, 224, 224], [64, 3, 7, 7],
                                                               "strides = [2, 2], pads = [3, 3, 3, 3]")),
]
