from cases import Case, conv_model

RULE = "OL204"
CASES = [
    Case("3×3 256→256 on 14×14: 1×3 + 3×1 (DOMAIN.md §5)",
         conv_model([1, 256, 14, 14], [256, 256, 3, 3], "pads = [1, 1, 1, 1]"),
         fires={"Conv_2": ["1×3 then 3×1 (width 256) gives 33% fewer params (589,824 → 393,216)"]}),
    Case("on 56×56: outside the mid-size maps", conv_model([1, 256, 56, 56], [256, 256, 3, 3], "pads = [1, 1, 1, 1]")),
]
