"""The report page's two charts on one x-axis — the model's layers in execution order, constants and shape
arithmetic left out — with axes in values and units, hover titles, and labels placed so that none covers
another: the MACs and params per layer, and the live activation memory."""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from onnxlint import units
from onnxlint.diagnostics import Severity
from onnxlint.escape import html as _e
from onnxlint.report import Report

MAX_BARS = 400  # the charts draw at most this many positions; more layers are summed into bins (and it says so)
COLOUR = {Severity.ERROR: "#c62828", Severity.WARNING: "#ef6c00", Severity.SUGGESTION: "#1565c0"}
# the charts' frame, in SVG units: both charts share the plot area's left and right edges
_W, _LEFT, _RIGHT, _FONT = 1000, 100, 12, 10
_CHAR = 0.62 * _FONT  # the width of a character, generously: labels are placed by this estimate


@dataclass
class _Bin:
    """Consecutive layers of the x-axis: their costs summed, the live memory at its largest among them."""
    first: int  # position of its first layer on the axis
    labels: list = field(default_factory=list)
    ops: list = field(default_factory=list)
    macs: int = 0
    bound_macs: int = 0  # MACs the data decides, at their bound (drawn hatched, on top of the exact ones)
    params: int = 0
    ms: float = 0.0
    memory: int | None = None
    memory_upper: int | None = None  # the live bytes at the bounds, where the data decides some size
    shape: str = ""
    worst: Severity | None = None
    codes: set = field(default_factory=set)

    @property
    def label(self) -> str:
        return self.labels[0] if len(self.labels) == 1 else f"{self.labels[0]} … {self.labels[-1]}"


@dataclass
class Axis:
    """The x-axis both charts share: the main graph's layers in execution order, without constants and shape
    arithmetic (a subgraph's layers are counted in the node that owns them), in at most MAX_BARS bins."""
    bins: list
    layers: int
    size: int  # layers per bin
    index: dict = field(default_factory=dict)  # id(layer) → its position on the axis (the table's # column)

    @classmethod
    def of(cls, report: Report, by_node: dict) -> Axis:
        main = [layer for layer in report.layers if layer.parent is None]
        timeline = report.totals.timeline if len(report.totals.timeline) == len(main) else [None] * len(main)
        bounds = report.totals.bounds
        upper = {node: most for node, _, most, _ in bounds.layers} if bounds is not None else {}
        timeline_upper = bounds.timeline if bounds is not None and len(bounds.timeline) == len(main) else None
        step = {id(layer.node): i for i, layer in enumerate(main)}
        kept = [i for i, layer in enumerate(main) if not layer.constant]
        size = max(1, math.ceil(len(kept) / MAX_BARS))
        position = {index: n for n, index in enumerate(kept)}
        bins = [_Bin(n) for n in range(0, len(kept), size)]
        axis_index = {}
        for layer in report.layers:
            owner = layer.node
            while owner.parent is not None:  # a loop or branch body: in the step of the node that runs it
                owner = owner.parent
            index = step.get(id(owner))
            if index not in position:
                continue
            axis_index[id(layer)] = position[index]
            b = bins[position[index] // size]
            if layer.parent is None:
                b.labels.append(layer.label)
                b.ops.append(layer.op_type)
                b.shape = units.shape(layer.output_shape)
                if timeline[index] is not None:
                    b.memory = max(b.memory or 0, timeline[index])
                if timeline_upper is not None:
                    b.memory_upper = max(b.memory_upper or 0, timeline_upper[index])
            b.macs += layer.macs or 0
            if layer.macs is None:
                b.bound_macs += upper.get(layer.name, 0)
            b.params += layer.params
            b.ms += layer.measured_ms or 0
            for d in by_node.get(layer.path, ()):
                b.codes.add(d.code)
                b.worst = d.severity if b.worst is None else max(b.worst, d.severity)
        return cls(bins, len(kept), size, axis_index)

    def x(self, i: float) -> float:
        """The centre of bin `i` (fractions between)."""
        return _LEFT + (i + 0.5) * (_W - _LEFT - _RIGHT) / max(1, len(self.bins))

    @property
    def step(self) -> float:
        return (_W - _LEFT - _RIGHT) / max(1, len(self.bins))

    def ticks(self, bottom: float, placer: _Placer) -> list[str]:
        """The x-axis at `bottom`: its line, ticks at round layer numbers, and its title below them."""
        marks = [f"<line class='axis' x1='{_LEFT}' x2='{_W - _RIGHT}' y1='{bottom}' y2='{bottom}'/>"]
        every = _round_step(self.layers, 8)
        for n in range(0, self.layers, every):
            x = self.x(n / self.size)
            marks.append(f"<line class='axis tick' x1='{x:.1f}' x2='{x:.1f}' y1='{bottom}' y2='{bottom + 4}'/>")
            marks.append(placer.add(f"{n:,}", x, bottom + 15, "middle", "tick-label", low=_LEFT))
        marks.append(placer.add(f"layers in execution order (constants and shape arithmetic left out)"
                                f"{_binned(self)}", _W - _RIGHT, bottom + 29, "end", "axis-title"))
        return marks

    def title(self, b: _Bin) -> str:
        ops = b.ops[0] if len(b.ops) == 1 else f"{len(b.ops):,} layers"
        memory = f" · live {units.nbytes(b.memory)}" if b.memory is not None else ""
        ms = f" · {b.ms:.3f} ms measured" if b.ms else ""
        codes = f" · {', '.join(sorted(b.codes))}" if b.codes else ""
        return _e(f"{b.label} ({ops}) · {units.count(b.macs)} MACs · {units.count(b.params)} params · "
                  f"out {b.shape}{memory}{ms}{codes}")


def _binned(axis: Axis) -> str:
    return f"; {axis.layers:,} layers in {len(axis.bins):,} bins of {axis.size:,}" if axis.size > 1 else ""


def _round_step(n: float, count: int) -> int:
    """A round step (1, 2, 5 × 10^k) that cuts 0..n into at most about `count` parts."""
    raw = max(1.0, n / count)
    base = 10 ** math.floor(math.log10(raw))
    return int(next(m * base for m in (1, 2, 5, 10) if m * base >= raw))


def _y_ticks(placer: _Placer, top: float, height: float, most: int, unit, down: bool = False,
             zero: bool = True) -> list[str]:
    """Ticks of a value axis from 0 at one end to `most` at the other, with values and units."""
    marks = []
    for fraction in (0, 0.5, 1)[0 if zero else 1:]:
        y = top + (height * fraction if down else height * (1 - fraction))
        marks.append(f"<line class='grid' x1='{_LEFT}' x2='{_W - _RIGHT}' y1='{y:.1f}' y2='{y:.1f}'/>")
        marks.append(placer.add(unit(int(most * fraction)) if fraction else "0", _LEFT - 6, y + 3.5, "end",
                                "tick-label"))
    return marks


class _Placer:
    """A chart's text, placed so that none covers another: the axes' labels where they belong, then each other
    label at the first of its candidate places that is free (boxes estimated generously from the characters), or
    left out (its numbers stay in the hover title)."""

    def __init__(self) -> None:
        self.boxes: list[tuple] = []

    def block(self, x0: float, x1: float, y0: float, y1: float) -> None:
        """A drawn mark (a bar) that no label may cross."""
        self.boxes.append((x0, x1, y0, y1))

    def add(self, text: str, x: float, y: float, anchor: str, css: str, low: float = 0) -> str:
        """A label that must be shown (an axis'), kept inside [low, _W]."""
        return self.place(text, [(x, y, anchor)], css, low=low, fixed=True)

    def place(self, text: str, candidates: list[tuple[float, float, str]], css: str, low: float = _LEFT,
              fixed: bool = False, lead: tuple[float, float] | None = None) -> str:
        """The label at its first free candidate place; with `lead` (the point it names), a leader line from that
        point to a label placed away from it."""
        width = len(text) * _CHAR
        for x, y, anchor in candidates:
            x0 = x - width if anchor == "end" else x - width / 2 if anchor == "middle" else x
            x0 = min(max(x0, low), _W - _RIGHT - width)  # never clipped by the chart's edges
            box = (x0 - 2, x0 + width + 2, y - _FONT - 1, y + 3)
            if fixed or all(box[1] < b[0] or b[1] < box[0] or box[3] < b[2] or b[3] < box[2] for b in self.boxes):
                self.boxes.append(box)
                label = f"<text class='{css}' x='{x0:.1f}' y='{y:.1f}'>{_e(text)}</text>"
                if lead is None or box[0] <= lead[0] <= box[1] and box[2] <= lead[1] + 6 <= box[3] + 6:
                    return label
                tx = min(max(lead[0], box[0] + 2), box[1] - 2)  # to the label's nearest edge
                return (f"<line class='leader' x1='{lead[0]:.1f}' y1='{lead[1]:.1f}' x2='{tx:.1f}' y2='{box[3]:.1f}' "
                        f"stroke='#757575' stroke-width='0.6'/>{label}")
        return ""


def cost_chart(axis: Axis, uid: str = "onnxlint") -> str:
    """The MACs (up; a size the data decides hatched, at its bound) and params (down) of each position on the axis;
    the largest named, with a leader line where the label cannot sit on its bar. `uid`: unique in the page."""
    if not any(b.macs or b.bound_macs or b.params for b in axis.bins):
        return "<p class='note'>No layer with params or MACs.</p>"
    top, half, gap = 42, 110, 4
    most_macs = max(b.macs + b.bound_macs for b in axis.bins) or 1
    most_params = max(b.params for b in axis.bins) or 1
    most_ms = max(b.ms for b in axis.bins)
    width = max(axis.step - 0.5, 0.5)
    placer = _Placer()
    marks = [*_y_ticks(placer, top, half, most_macs, lambda v: f"{units.count(v)} MACs"),
             *_y_ticks(placer, top + half + gap, half, most_params, lambda v: f"{units.count(v)} params", down=True,
                       zero=False)]
    bottom = top + 2 * half + gap + 8
    marks += axis.ticks(bottom, placer)
    hatch = f"{uid}-bound"
    marks.insert(0, f"<defs><pattern id='{hatch}' width='6' height='6' patternUnits='userSpaceOnUse' "
                    "patternTransform='rotate(45)'><rect width='6' height='6' fill='#c5cae9'/><line x1='0' y1='0' "
                    "x2='0' y2='6' stroke='#5c6bc0' stroke-width='3'/></pattern></defs>")
    for i, b in enumerate(axis.bins):
        x, title = axis.x(i) - axis.step / 2, f"<title>{axis.title(b)}</title>"
        h = half * b.macs / most_macs
        marks.append(f"<rect class='bar-macs' x='{x:.2f}' y='{top + half - h:.2f}' width='{width:.2f}' "
                     f"height='{h:.2f}' fill='#5c6bc0'>{title}</rect>")
        if b.bound_macs:  # at most this many more: the rows the data decides, at their bound
            hb = half * b.bound_macs / most_macs
            marks.append(f"<rect class='bar-bound' data-macs='{b.bound_macs}' x='{x:.2f}' "
                         f"y='{top + half - h - hb:.2f}' width='{width:.2f}' height='{hb:.2f}' "
                         f"fill='url(#{hatch})'>{title}</rect>")
            h += hb
        placer.block(x, x + width, top + half - h, top + half)
        hp = half * b.params / most_params
        marks.append(f"<rect class='bar-params' x='{x:.2f}' y='{top + half + gap:.2f}' width='{width:.2f}' "
                     f"height='{hp:.2f}' fill='#26a69a'>{title}</rect>")
        placer.block(x, x + width, top + half + gap, top + half + gap + hp)
        if most_ms:  # measured time beside the static MACs: where estimate and reality disagree shows
            marks.append(f"<circle class='ms-mark' cx='{axis.x(i):.2f}' cy='{top + half - half * b.ms / most_ms:.2f}'"
                         f" r='2.5' fill='#ef6c00'>{title}</circle>")
        if b.worst is not None:
            marks.append(f"<circle class='finding-mark' cx='{axis.x(i):.2f}' cy='{top - 34}' r='3.5' "
                         f"fill='{COLOUR[b.worst]}'>{title}</circle>")
    bounded = any(b.bound_macs for b in axis.bins)
    total = sum(b.macs + b.bound_macs for b in axis.bins) or 1  # the header's total: at the bounds where there are
    ranked = sorted(range(len(axis.bins)), key=lambda i: -(axis.bins[i].macs + axis.bins[i].bound_macs))
    for rank, i in enumerate(ranked[:12]):
        b = axis.bins[i]
        cost = b.macs + b.bound_macs
        if cost * 20 < total and rank >= 3:
            break  # the three largest always, then any other ≥ 5% of the model's MACs
        bar_top = top + half - half * cost / most_macs
        x = axis.x(i)
        rows = [bar_top - 4 - 12 * r for r in range(int((bar_top - 16) // 12) + 1)]
        shifts = [(0, "middle"), (6, "start"), (-6, "end")] + [(sign * 40 * k, "middle") for k in range(1, 13)
                                                               for sign in (1, -1)]
        candidates = [(x + dx, y, anchor) for y in rows for dx, anchor in shifts]  # near its bar first
        marks.append(placer.place(f"{b.labels[0]} {'≤ ' if b.bound_macs else ''}{100 * cost / total:.0f}%",
                                  candidates, "top-label", lead=(x, bar_top)))
    params = sum(b.params for b in axis.bins) or 1
    for i in sorted(range(len(axis.bins)), key=lambda i: -axis.bins[i].params)[:6]:
        b = axis.bins[i]
        if b.params * 5 < params:
            break  # the params' giants only (≥ 20%): VGG's fc6
        y, edge = top + half + gap + half * b.params / most_params, axis.step / 2 + 4
        rows = [y - 2 + 12 * r for r in range(int((bottom - 4 - y) // 12) + 1)]
        marks.append(placer.place(f"{b.labels[0]} {100 * b.params / params:.0f}% of params",
                                  [(axis.x(i) + dx, row, anchor) for row in rows
                                   for dx, anchor in ((edge, "start"), (-edge, "end"), (0, "middle"))],
                                  "params-label", lead=(axis.x(i), y)))
    legend = ("<p class='legend'><i style='background:#5c6bc0'></i>MACs (up) <i style='background:#26a69a'></i>"
              "params (down) · dots above: findings (<i style='background:#c62828;border-radius:50%'></i>error "
              "<i style='background:#ef6c00;border-radius:50%'></i>warning <i style='background:#1565c0;"
              f"border-radius:50%'></i>suggestion){' · orange points: measured ms' if most_ms else ''}"
              f"{' · hatched: MACs at most, where the data decides a size (≤)' if bounded else ''}; hover a bar "
              "for its numbers</p>")
    return (f"<svg class='cost-chart' data-bars='{len(axis.bins)}' data-x0='{axis.x(0):.2f}' "
            f"data-x1='{axis.x(len(axis.bins) - 1):.2f}' viewBox='0 0 {_W} {bottom + 36}' role='img' "
            f"aria-label='MACs and params per layer'>{''.join(marks)}</svg>{legend}")


def timeline(report: Report, axis: Axis) -> str:
    t = report.totals
    points = [(i, b.memory) for i, b in enumerate(axis.bins) if b.memory is not None]
    upper = [(i, b.memory_upper) for i, b in enumerate(axis.bins) if b.memory_upper is not None]
    if not points or not t.peak_activation_bytes:
        return "<p class='note'>The activation sizes are unknown: no timeline.</p>"
    top, height = 24, 170
    most = max(max(v for _, v in points + upper), report.memory_budget or 0) or 1

    def y(value: float) -> float:
        return top + height - height * value / most

    placer = _Placer()
    marks = _y_ticks(placer, top, height, most, units.nbytes)
    marks += axis.ticks(top + height + 4, placer)
    marks.append(f"<polyline class='memory-line' points='{' '.join(f'{axis.x(i):.1f},{y(v):.1f}' for i, v in points)}'"
                 " fill='none' stroke='#8e24aa' stroke-width='1.5'/>")
    if upper:  # where the data decides sizes: the live bytes at their bounds, dashed
        marks.append(f"<polyline class='memory-bound' points='"
                     f"{' '.join(f'{axis.x(i):.1f},{y(v):.1f}' for i, v in upper)}' fill='none' stroke='#8e24aa' "
                     "stroke-width='1.2' stroke-dasharray='4 3'/>")
    for line in (points, upper):  # no label may cross the curves
        for (i, a), (j, b) in zip(line, line[1:]):
            placer.block(axis.x(i), axis.x(j), min(y(a), y(b)), max(y(a), y(b)))
    marks += [f"<rect class='hover' x='{axis.x(i) - axis.step / 2:.2f}' y='{top}' width='{axis.step:.2f}' "
              f"height='{height}'><title>{axis.title(axis.bins[i])}</title></rect>" for i, _ in points]
    bounded = t.bounds is not None and t.bounds.peak is not None and bool(upper)
    peak_bin, peak = max(upper if bounded else points, key=lambda p: p[1])
    if report.memory_budget:
        by = y(report.memory_budget)
        marks.append(f"<line class='budget-line' x1='{_LEFT}' x2='{_W - _RIGHT}' y1='{by:.1f}' y2='{by:.1f}' "
                     "stroke='#ef6c00' stroke-dasharray='6 4'/>")
        marks.append(placer.place(f"budget {units.nbytes(report.memory_budget)}",
                                  [(_W - _RIGHT - 4, by - 4, "end"), (_LEFT + 4, by - 4, "start"),
                                   (_W - _RIGHT - 4, by + 13, "end")], "budget-label"))
    px, py = axis.x(peak_bin), y(peak)
    marks.append(f"<circle class='peak-mark' cx='{px:.1f}' cy='{py:.1f}' r='4' fill='#c62828'/>")
    placer.block(px - 4, px + 4, py - 4, py + 4)
    peak_text = (f"≤ {units.nbytes(t.bounds.peak)}", t.bounds.peak_label) if bounded else (
        units.nbytes(t.peak_activation_bytes), t.peak_label)
    rows = sorted({min(max(py + 4 + 12 * r, top + 10), top + height - 4) for r in range(-14, 15)},
                  key=lambda row: abs(row - py))
    marks.append(placer.place(f"peak {peak_text[0]} at {peak_text[1]}",
                              [(px + dx, row, anchor) for row in rows
                               for dx, anchor in ((8, "start"), (-8, "end"), (0, "middle"))],
                              "peak-label", lead=(px, py)))
    if bounded:
        caption = (f"<p class='note peak-note'>The peak, at most {_e(units.nbytes(t.bounds.peak))} at "
                   f"{_e(t.bounds.peak_label)}, with every size the data decides at its bound (dashed); the sizes "
                   f"known exactly reach {_e(units.nbytes(t.peak_activation_bytes))} at {_e(t.peak_label)} "
                   "(solid).</p>")
    else:
        live = ", ".join(f"{name} {units.nbytes(size)}" for name, size in t.peak_live[:3])
        caption = (f"<p class='note peak-note'>The peak, {_e(units.nbytes(t.peak_activation_bytes))} at "
                   f"{_e(t.peak_label)}, holds {_e(live)}{' …' if len(t.peak_live) > 3 else ''}.</p>")
    return (f"<svg class='memory-chart' data-points='{len(points)}' data-x0='{axis.x(0):.2f}' "
            f"data-x1='{axis.x(len(axis.bins) - 1):.2f}' viewBox='0 0 {_W} {top + height + 40}' role='img' "
            f"aria-label='live activation bytes over the layers'>{''.join(marks)}</svg>{caption}")
