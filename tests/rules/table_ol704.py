from cases import Case, weights
from table_ol701 import DEPTHWISE

RULE = "OL704"
WIDE, ZERO = weights(9, 1, 0.5, 1.0), ", ".join(["0.0"] * 9)
CASES = [
    Case("an all-zero filter: its channel outputs the BatchNorm's shift everywhere",
         DEPTHWISE.format(w0=WIDE, w1=ZERO, w2=WIDE, w3=WIDE, gamma="1.0, 1.0, 1.0, 1.0"),
         fires={"Conv_1": ["1 of 4 output channels are constant (all-zero weights after folding the "
                           "BatchNormalization after it)", "25% of the layer's MACs, 576"]}),
    Case("γ = 0 makes the folded filter zero", DEPTHWISE.format(w0=WIDE, w1=WIDE, w2=WIDE, w3=WIDE,
                                                              gamma="1.0, 1.0, 0.0, 1.0"),
         fires={"Conv_1": ["1 of 4 output channels are constant"]}),
    Case("near miss: tiny weights are not zero", DEPTHWISE.format(w0=WIDE, w1=", ".join(["1e-6"] * 9), w2=WIDE,
                                                                w3=WIDE, gamma="1.0, 1.0, 1.0, 1.0")),
]
