from cases import Case, conv_model

RULE = "OL001"
CASES = [
    Case("height and width symbolic", conv_model(["N", 3, "H", "W"], [8, 3, 3, 3]),
         fires={None: ["input 'x' has symbolic dims [N,3,H,W]", "--input-shape x=1,3,224,224"]}),
    Case("the sizes given", conv_model(["N", 3, "H", "W"], [8, 3, 3, 3]), input_shapes={"x": (1, 3, 32, 32)}),
    Case("a symbolic batch alone is taken as 1", conv_model(["N", 3, 32, 32], [8, 3, 3, 3])),
]
