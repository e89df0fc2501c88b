from cases import Case, conv_model

RULE = "OL101"
CASES = [
    Case("AlexNet's conv1 on 224 (DOMAIN.md §1)", conv_model([1, 3, 224, 224], [96, 3, 11, 11], "strides = [4, 4]"),
         fires={"Conv_2": ["(224 + 0 − 11) / 4 + 1 = 54.25 → 54", "the last 1 row and 1 column"]}),
    Case("the same conv on 227: exact", conv_model([1, 3, 227, 227], [96, 3, 11, 11], "strides = [4, 4]")),
    Case("I=10, k=3, s=2: 4.5 → 4", conv_model([1, 1, 10, 10], [1, 1, 3, 3], "strides = [2, 2]"),
         fires={"Conv_2": ["(10 + 0 − 3) / 2 + 1 = 4.5 → 4"]}),
    Case("I=128, k=5, p=1, s=2: only the padding column skipped",
         conv_model([1, 32, 128, 128], [512, 32, 5, 5], "strides = [2, 2], pads = [1, 1, 1, 1]")),
    Case("1×1 stride-2 projection: the regular gap", conv_model([1, 64, 56, 56], [128, 64, 1, 1], "strides = [2, 2]")),
]
