from cases import Case, conv_model

RULE = "OL002"
CASES = [
    Case("group 3 on 64 channels", conv_model([1, 64, 8, 8], [64, 21, 3, 3], "group = 3"),
         fires={"Conv_2": ["group 3 does not divide the 64 input channels"]}),
    Case("stride 0", conv_model([1, 4, 8, 8], [4, 4, 3, 3], "strides = [0, 0]"),
         fires={"Conv_2": ["stride 0 on axis 0"]}),
    Case("a kernel larger than the padded input", conv_model([1, 4, 2, 2], [4, 4, 5, 5]),
         fires={"Conv_2": ["kernel 5 (dilated) is larger than the padded input 2 + 0"]}),
    Case("a valid conv", conv_model([1, 4, 8, 8], [4, 4, 3, 3], "pads = [1, 1, 1, 1]")),
]
