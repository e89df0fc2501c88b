"""Human units: K/M/G for counts, KiB/MiB/GiB for bytes, sizes read back."""
import re

_UNITS = {"": 1, "b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12,
          "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40, "k": 2**10, "m": 2**20, "g": 2**30}


def parse_size(text: str | int) -> int:
    """'512MB' → 512,000,000; '1.5GiB' → 1,610,612,736; a plain number is bytes."""
    if isinstance(text, int) and not isinstance(text, bool):
        return text
    match = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*([a-zA-Z]*)\s*", str(text))
    if not match or match.group(2).lower() not in _UNITS:
        raise ValueError(f"'{text}' is not a size (examples: 512MB, 1.5GiB, 2000000)")
    return int(float(match.group(1)) * _UNITS[match.group(2).lower()])


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


def receptive_field(layer, inputs: list[dict]) -> str:
    """A layer's receptive field as a person reads it: "whole input" once a global operation has collapsed the
    map (its field is then larger than the input, a number that means nothing), or when it covers every pixel
    of the input; else its size per axis (7×7)."""
    field = layer.receptive_field
    if not field:
        return "?" if layer.window is not None else ""  # a window whose field cannot be known: never a guess
    spatial = [tuple(i["shape"][2:]) for i in inputs if i.get("shape") and len(i["shape"]) == len(field) + 2]
    if layer.jump is None or (spatial and all(None not in s and all(f >= d for f, d in zip(field, s))
                                              for s in spatial)):
        return "whole input"
    return shape(field)


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
    """'191.4 M MACs', '≤ 2.9 G MACs (719.0 M exact, 4 layers at their bound: NonZero)', '≥ 1.2 G MACs
    (3 layers unknown: …)' or 'unknown MACs (…)': never a silent zero."""
    if totals.macs_complete:
        return f"{count(totals.macs)} MACs"
    bounds = totals.bounds
    bounded = f"{plural(len(bounds.layers), 'layer')} at their bound: {bounds.sources()}" if bounds and bounds.layers \
        else ""
    if totals.macs_upper is not None:
        return f"≤ {count(totals.macs_upper)} MACs ({count(totals.macs)} exact, {bounded})"
    known = f"≥ {count(totals.macs)} MACs" if totals.macs else "unknown MACs"
    return f"{known} ({unknown_layers(totals.unbounded_layers)}{'; ' + bounded if bounded else ''})"


def plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'s' if n != 1 else ''}"


def peak_total(totals) -> str:
    if not totals.unknown_tensors:
        return f"peak activations {nbytes(totals.peak_activation_bytes)} at {totals.peak_label or '-'}"
    if totals.peak_upper is not None:
        return (f"peak activations ≤ {nbytes(totals.peak_upper)} at {totals.bounds.peak_label or '-'} "
                f"({plural(totals.bounds.tensors, 'tensor')} at their bound)")
    unknown = f"{plural(totals.unbounded_tensors, 'tensor')} of unknown size"
    if not totals.peak_activation_bytes or totals.inputs_unknown:  # a bound without the input says nothing
        return f"peak activations unknown ({unknown})"
    return f"peak activations ≥ {nbytes(totals.peak_activation_bytes)} at {totals.peak_label or '-'} ({unknown})"


def deployment(d: dict) -> str:
    """'ort-cpu, onnxruntime 1.32.0 (x86_64): 77.6% of the MACs run in int8 (23 of 32 layers)…': a report's
    deployment view (JSON `deployment`) in one line."""
    where = f"{d['target']}, onnxruntime {d['onnxruntime']} ({d['machine']})" + (
        f" [{d['caveat']}]" if d.get("caveat") else "")
    if "partitions" in d:
        text = (f"{where}: {plural(d['partitions'], 'partition')}, {d['accelerated_nodes']:,} of {d['nodes']:,} nodes "
                "on the accelerator" + (f", {d['cpu_share'] * 100:.1f}% of the MACs on the CPU"
                                        if d["cpu_share"] is not None else ""))
        if d.get("crossings"):
            text += f", {plural(d['crossings'], 'tensor')} crossing between the accelerator and the CPU"
    elif d["model"] == "float":
        text = f"{where}: a float32 model, every layer runs in float32"
    else:
        precision = "int8" if d["model"] == "int8" else "float16"
        kept = sum(row["precision"] == precision for row in d["layers"])
        share = d.get(f"{precision}_share")
        text = (f"{where}: {'?' if share is None else f'{100 * share:.1f}%'} of the MACs run in {precision} "
                f"({kept:,} of {len(d['layers']):,} layers)")
        if d["model"] == "fp16":
            text += f", {plural(d['casts'], 'Cast node')} inserted"
    proof = d.get("proved")
    if proof:
        text += (f"; not proved: {proof['error']}" if "error" in proof else
                 f"; proved by {proof['by']}: {proof['layers'] - len(proof['disagree']):,} of {proof['layers']:,} "
                 f"{proof.get('unit', 'layers')} agree")
    return text


# --- window arithmetic in words (OL101, OL102) -----------------------------------------------

_AXIS_NAMES = {1: ("position",), 2: ("row", "column"), 3: ("depth slice", "row", "column")}


def dropped_axes(layer):
    """[(axis, AxisWindow)] of the axes that lose real input pixels."""
    return [(i, a) for i, a in enumerate(layer.window.axes) if a.dropped > 0] if layer.window.drops else []


def describe_drop(layer, lost) -> tuple[str, str]:
    w = layer.window
    names = _AXIS_NAMES.get(len(w.axes), tuple(f"axis {i}" for i in range(len(w.axes))))
    sums = []
    for _, a in lost:
        exact = a.span / a.stride + 1
        sums.append(f"({a.size} + {a.pad_begin + a.pad_end} − {a.k_eff}) / {a.stride} + 1 = {exact:g} → {a.output}")
    losses = " and ".join(f"{a.dropped} {names[i]}{'s' if a.dropped > 1 else ''}" for i, a in lost)
    verb = "is" if len(lost) == 1 and lost[0][1].dropped == 1 else "are"
    axes = [a for _, a in lost]
    why = f"remainder {axes_label(a.remainder for a in axes)} > pad_end {axes_label(a.pad_end for a in axes)}"
    if any(a.outer_pad_end for a in axes) or any(a.gap for a in axes):
        why = (f"remainder {axes_label(a.remainder for a in axes)} − pad_end {axes_label(a.pad_end for a in axes)}"
               + (f" − the Pad node's {axes_label(a.outer_pad_end for a in axes)}"
                  if any(a.outer_pad_end for a in axes) else "")
               + f" = {axes_label(a.dropped for a in axes)} real rows past the last window"
               + (f", more than the regular gap of {axes_label(a.gap for a in axes)} between windows"
                  if any(a.gap for a in axes) else ""))
    message = (f"{layer_label(layer)}: {'; '.join(dict.fromkeys(sums))}: the last {losses} of the input "
               f"{verb} never read ({why})")
    below = [a.size - a.remainder for a in axes]
    above = [a.size + a.stride - a.remainder for a in axes]
    extra = [a.stride - a.remainder for a in axes]
    fix = (f"make the arithmetic exact: feed this layer {axes_label(above)} or {axes_label(below)}, "
           f"or add {axes_label(extra)} to its end padding so the last window covers the tail")
    return message, fix
