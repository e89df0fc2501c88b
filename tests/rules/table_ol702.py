from cases import Case, weights
from table_ol701 import DEPTHWISE

RULE = "OL702"
WIDE, NARROW = weights(9, 1, 0.5, 1.0), weights(9, 2, -0.05, 0.05)
CASES = [
    Case("a BatchNorm's γ folded in widens the spread from about 1.2× to 1000×: the narrowest keeps 0.13 levels",
         DEPTHWISE.format(w0=WIDE, w1=WIDE, w2=WIDE, w3=WIDE, gamma="1.0, 1.0, 0.001, 1.0"),
         fires={"Conv_1": ["spread 1e+03× (", "before folding the BatchNormalization after it)",
                           "leaves the narrowest channel 0.13 levels"]}, options={"min-spread": 2.0}),
    Case("a spread of about 17× in the weight itself, below the default 32×",
         DEPTHWISE.format(w0=WIDE, w1=WIDE, w2=NARROW, w3=WIDE, gamma="1.0, 1.0, 1.0, 1.0")),
    Case("the same at min-spread 8: no fold changed it, so no 'before'",
         DEPTHWISE.format(w0=WIDE, w1=WIDE, w2=NARROW, w3=WIDE, gamma="1.0, 1.0, 1.0, 1.0"),
         fires={"Conv_1": ["weight ranges spread 1"]}, options={"min-spread": 8.0}),
]
