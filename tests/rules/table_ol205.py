from cases import Case

RULE = "OL205"


def chain(widths):
    """Convs 3×3 of the given widths on 8×8, one after another."""
    lines, x = [], "x"
    for i, (c_in, c_out) in enumerate(zip(widths, widths[1:])):
        lines.append(f"s{i} = Constant <value = int64[4] {{{c_out}, {c_in}, 3, 3}}> ()")
        lines.append(f"w{i} = ConstantOfShape <value = float[1] {{0.01}}> (s{i})")
        lines.append(f"c{i} = Conv <pads = [1, 1, 1, 1]> ({x}, w{i})")
        x = f"c{i}"
    lines.append(f"y = Relu ({x})")
    body = "\n      ".join(lines)
    return f"""
    <ir_version: 8, opset_import: ["" : 17]>
    g (float[1,{widths[0]},8,8] x) => (float y) {{
      {body}
    }}"""


CASES = [
    Case("one conv of six holds most", chain([4, 4, 4, 4, 4, 4, 64]),
         fires={"Conv_17": ["holds 76% of the model's params (2,304 of 3,024)"]}),  # 9·4·64 of 9·4·64 + 5·9·4·4
    Case("a balanced chain", chain([8, 8, 8, 8, 8, 8, 8])),
    Case("too few layers to be news", chain([4, 4, 64])),
]
