from cases import Case, conv_model

RULE = "OL302"
MODEL = conv_model([1, 64, 224, 224], [64, 64, 3, 3], "pads = [1, 1, 1, 1]")
CASES = [
    Case("24.5 MiB of activations against 16 MiB", MODEL, settings={"memory_budget": "16MiB"},
         fires={"Conv_2": ["peak activations 24.5 MiB exceed the budget of 16.0 MiB"]}),
    Case("within 32 MiB", MODEL, settings={"memory_budget": "32MiB"}),
    Case("no budget, no claim", MODEL),
]
