from cases import Case, conv_model

RULE = "OL301"
CASES = [
    Case("a 12.2 MiB pair at 224×224", conv_model([1, 64, 224, 224], [64, 64, 3, 3], "pads = [1, 1, 1, 1]"),
         fires={"Conv_2": ["activation memory peaks at 24.5 MiB", "'x' 12.2 MiB (model input, 50%)",
                           "width of the layers producing these tensors"]}),  # batch 1: no batch advice (below)
    Case("a batch of 4: the batch is advice too", conv_model([4, 64, 112, 112], [64, 64, 3, 3], "pads = [1, 1, 1, 1]"),
         fires={"Conv_2": ["activation memory peaks at 24.5 MiB", "or the batch size (now 4)"]}),
    Case("under min-peak", conv_model([1, 8, 32, 32], [8, 8, 3, 3], "pads = [1, 1, 1, 1]")),
    Case("min-peak lowered", conv_model([1, 8, 32, 32], [8, 8, 3, 3], "pads = [1, 1, 1, 1]"),
         fires={"Conv_2": ["activation memory peaks at 64.0 KiB"]}, options={"min-peak": "1KiB"}),
]
