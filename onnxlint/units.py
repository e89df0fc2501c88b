"""Human units: K/M/G for counts, KiB/MiB/GiB for bytes; names made printable."""


def printable(text: str) -> str:
    """Text as one line: control characters (a newline in a node or file name) escaped, so that a name in a
    model can never print a line of its own."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() or c == "\t" else repr(c)[1:-1] for c in text)


def count(n: int | None) -> str:
    if n is None:
        return "?"
    for unit, size in (("G", 10**9), ("M", 10**6), ("K", 10**3)):
        if abs(n) >= size:
            return f"{n / size:.1f} {unit}"
    return str(n)


def nbytes(n: int | None) -> str:
    if n is None:
        return "?"
    for unit, size in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if abs(n) >= size:
            return f"{n / size:.1f} {unit}"
    return f"{n} B"


def shape(dims) -> str:
    if dims is None:
        return "?"
    return "×".join("?" if d is None else str(d) for d in dims)


def num(n: int) -> str:
    """Exact figure with thousands separators: 102,464."""
    return f"{n:,}"


def pct(part: float, whole: float) -> str:
    return f"{100 * part / whole:.0f}%" if whole else "0%"


def axes_label(values) -> str:
    """(5, 5) → '5×5'; a single axis stays a single number."""
    return "×".join(str(v) for v in values)


def layer_label(layer) -> str:
    """'Conv 5×5/2, 64→128, 56×56': the facts a reader needs to judge a layer (its name is the finding's
    location, printed once)."""
    w = layer.window
    if w is None:
        return layer.op_type
    kernel = axes_label(w.kernel)
    if any(s != 1 for s in w.strides):
        kernel += "/" + axes_label(sorted(set(w.strides))) if len(set(w.strides)) == 1 else "/" + axes_label(w.strides)
    size = axes_label(a.size if a.size is not None else "?" for a in w.axes)
    if w.kind == "pool":
        return f"{layer.op_type} {kernel}, {w.c_in} channels, {size}"
    groups = "" if w.group == 1 else (", depthwise" if w.depthwise else f", {w.group} groups")
    return f"{layer.op_type} {kernel}, {w.c_in}→{w.c_out}{groups}, {size}"


def savings_text(s) -> str:
    """'28% fewer params (102,464 → 73,856) and MACs (321.1 M → 231.2 M; this layer is 4.1% of the model's MACs)'."""
    share = (f"this layer is {100 * s.macs_before / s.model_macs:.1f}% of the model's MACs" if s.model_macs
             else "the model's total MACs are unknown")
    return (f"{s.params_saved_pct:.0f}% fewer params ({num(s.params_before)} → {num(s.params_after)}) and "
            f"{s.macs_saved_pct:.0f}% fewer MACs ({count(s.macs_before)} → {count(s.macs_after)}; {share})")


def model_share(s) -> str:
    """'27.4% of the model's MACs', or the saving in MACs when the model's total is unknown."""
    saved = s.macs_before - s.macs_after
    return f"{100 * saved / s.model_macs:.1f}% of the model's MACs" if s.model_macs else f"{count(saved)} MACs"


def unknown_layers(entries) -> str:
    """'3 layers unknown: LSTM ×2, custom.Foo ×1' from (node, op, why) entries."""
    counts: dict[str, int] = {}
    for _node, op, _why in entries:
        counts[op] = counts.get(op, 0) + 1
    kinds = ", ".join(f"{op} ×{n}" for op, n in sorted(counts.items(), key=lambda item: (-item[1], item[0])))
    return f"{len(entries)} layer{'s' if len(entries) != 1 else ''} unknown: {kinds}"


def macs_total(totals) -> str:
    """'191.4 M MACs', '≥ 1.2 G MACs (3 layers unknown: …)' or 'unknown MACs (…)': never a silent zero."""
    if totals.macs_complete:
        return f"{count(totals.macs)} MACs"
    known = f"≥ {count(totals.macs)} MACs" if totals.macs else "unknown MACs"
    return f"{known} ({unknown_layers(totals.unknown_layers)})"


def peak_total(totals) -> str:
    if not totals.unknown_tensors:
        return f"peak activations {nbytes(totals.peak_activation_bytes)} at {totals.peak_at or '-'}"
    unknown = f"{totals.unknown_tensors} tensor{'s' if totals.unknown_tensors != 1 else ''} of unknown size"
    if not totals.peak_activation_bytes or totals.inputs_unknown:  # a bound without the input says nothing
        return f"peak activations unknown ({unknown})"
    return f"peak activations ≥ {nbytes(totals.peak_activation_bytes)} at {totals.peak_at or '-'} ({unknown})"
