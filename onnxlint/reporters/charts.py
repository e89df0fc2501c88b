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
    params: int = 0
    ms: float = 0.0
    memory: int | None = None
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

    @classmethod
    def of(cls, report: Report, by_node: dict) -> Axis:
        main = [layer for layer in report.layers if layer.parent is None]
        timeline = report.totals.timeline if len(report.totals.timeline) == len(main) else [None] * len(main)
        step = {id(layer.node): i for i, layer in enumerate(main)}
        kept = [i for i, layer in enumerate(main) if not layer.constant]
        size = max(1, math.ceil(len(kept) / MAX_BARS))
        position = {index: n for n, index in enumerate(kept)}
        bins = [_Bin(n) for n in range(0, len(kept), size)]
        for layer in report.layers:
            owner = layer.node
            while owner.parent is not None:  # a loop or branch body: in the step of the node that runs it
                owner = owner.parent
            index = step.get(id(owner))
            if index not in position:
                continue
            b = bins[position[index] // size]
            if layer.parent is None:
                b.labels.append(layer.label)
                b.ops.append(layer.op_type)
                b.shape = units.shape(layer.output_shape)
                if timeline[index] is not None:
                    b.memory = max(b.memory or 0, timeline[index])
            b.macs += layer.macs or 0
            b.params += layer.params
            b.ms += layer.measured_ms or 0
            for d in by_node.get(layer.path, ()):
                b.codes.add(d.code)
                b.worst = d.severity if b.worst is None else max(b.worst, d.severity)
        return cls(bins, len(kept), size)

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

    def add(self, text: str, x: float, y: float, anchor: str, css: str, low: float = 0) -> str:
        """A label that must be shown (an axis'), kept inside [low, _W]."""
        return self.place(text, [(x, y, anchor)], css, low=low, fixed=True)

    def place(self, text: str, candidates: list[tuple[float, float, str]], css: str, low: float = _LEFT,
              fixed: bool = False) -> str:
        width = len(text) * _CHAR
        for x, y, anchor in candidates:
            x0 = x - width if anchor == "end" else x - width / 2 if anchor == "middle" else x
            x0 = min(max(x0, low), _W - _RIGHT - width)  # never clipped by the chart's edges
            box = (x0 - 2, x0 + width + 2, y - _FONT - 1, y + 3)
            if fixed or all(box[1] < b[0] or b[1] < box[0] or box[3] < b[2] or b[3] < box[2] for b in self.boxes):
                self.boxes.append(box)
                return f"<text class='{css}' x='{x0:.1f}' y='{y:.1f}'>{_e(text)}</text>"
        return ""


def cost_chart(axis: Axis) -> str:
    if not any(b.macs or b.params for b in axis.bins):
        return "<p class='note'>No layer with params or MACs.</p>"
    top, half, gap = 30, 110, 4
    most_macs, most_params = max(b.macs for b in axis.bins) or 1, max(b.params for b in axis.bins) or 1
    most_ms = max(b.ms for b in axis.bins)
    width = max(axis.step - 0.5, 0.5)
    placer = _Placer()
    marks = [*_y_ticks(placer, top, half, most_macs, lambda v: f"{units.count(v)} MACs"),
             *_y_ticks(placer, top + half + gap, half, most_params, lambda v: f"{units.count(v)} params", down=True,
                       zero=False)]
    bottom = top + 2 * half + gap + 8
    marks += axis.ticks(bottom, placer)
    for i, b in enumerate(axis.bins):
        x, title = axis.x(i) - axis.step / 2, f"<title>{axis.title(b)}</title>"
        h = half * b.macs / most_macs
        marks.append(f"<rect class='bar-macs' x='{x:.2f}' y='{top + half - h:.2f}' width='{width:.2f}' "
                     f"height='{h:.2f}' fill='#5c6bc0'>{title}</rect>")
        h = half * b.params / most_params
        marks.append(f"<rect class='bar-params' x='{x:.2f}' y='{top + half + gap:.2f}' width='{width:.2f}' "
                     f"height='{h:.2f}' fill='#26a69a'>{title}</rect>")
        if most_ms:  # measured time beside the static MACs: where estimate and reality disagree shows
            marks.append(f"<circle class='ms-mark' cx='{axis.x(i):.2f}' cy='{top + half - half * b.ms / most_ms:.2f}'"
                         f" r='2.5' fill='#ef6c00'>{title}</circle>")
        if b.worst is not None:
            marks.append(f"<circle class='finding-mark' cx='{axis.x(i):.2f}' cy='{top - 20}' r='3.5' "
                         f"fill='{COLOUR[b.worst]}'>{title}</circle>")
    total = sum(b.macs for b in axis.bins) or 1
    for i in sorted(range(len(axis.bins)), key=lambda i: -axis.bins[i].macs)[:12]:
        b = axis.bins[i]
        if b.macs * 20 < total:
            break  # a label only where the cost is (≥ 5% of the model's MACs)
        y = max(top + half - half * b.macs / most_macs - 4, top - 4)
        marks.append(placer.place(f"{b.labels[0]} {100 * b.macs / total:.0f}%",
                                  [(axis.x(i), y, "middle"), (axis.x(i), y + 12, "middle")], "top-label"))
    params = sum(b.params for b in axis.bins) or 1
    for i in sorted(range(len(axis.bins)), key=lambda i: -axis.bins[i].params)[:6]:
        b = axis.bins[i]
        if b.params * 5 < params:
            break  # the params' giants only (≥ 20%): VGG's fc6
        y, edge = top + half + gap + half * b.params / most_params, axis.step / 2 + 4
        marks.append(placer.place(f"{b.labels[0]} {100 * b.params / params:.0f}% of params",
                                  [(axis.x(i) + edge, y - 2, "start"), (axis.x(i) - edge, y - 2, "end"),
                                   (axis.x(i), min(y + 13, bottom - 4), "middle")], "params-label"))
    legend = ("<p class='legend'><i style='background:#5c6bc0'></i>MACs (up) <i style='background:#26a69a'></i>"
              "params (down) · dots above: findings (<i style='background:#c62828;border-radius:50%'></i>error "
              "<i style='background:#ef6c00;border-radius:50%'></i>warning <i style='background:#1565c0;"
              f"border-radius:50%'></i>suggestion){' · orange points: measured ms' if most_ms else ''}; hover a bar "
              "for its numbers</p>")
    return (f"<svg class='cost-chart' data-bars='{len(axis.bins)}' data-x0='{axis.x(0):.2f}' "
            f"data-x1='{axis.x(len(axis.bins) - 1):.2f}' viewBox='0 0 {_W} {bottom + 36}' role='img' "
            f"aria-label='MACs and params per layer'>{''.join(marks)}</svg>{legend}")


def timeline(report: Report, axis: Axis) -> str:
    t = report.totals
    points = [(i, b.memory) for i, b in enumerate(axis.bins) if b.memory is not None]
    if not points or not t.peak_activation_bytes:
        return "<p class='note'>The activation sizes are unknown: no timeline.</p>"
    top, height = 24, 170
    most = max(max(v for _, v in points), report.memory_budget or 0) or 1

    def y(value: float) -> float:
        return top + height - height * value / most

    placer = _Placer()
    marks = _y_ticks(placer, top, height, most, units.nbytes)
    marks += axis.ticks(top + height + 4, placer)
    marks.append(f"<polyline class='memory-line' points='{' '.join(f'{axis.x(i):.1f},{y(v):.1f}' for i, v in points)}'"
                 " fill='none' stroke='#8e24aa' stroke-width='1.5'/>")
    marks += [f"<rect class='hover' x='{axis.x(i) - axis.step / 2:.2f}' y='{top}' width='{axis.step:.2f}' "
              f"height='{height}'><title>{axis.title(axis.bins[i])}</title></rect>" for i, _ in points]
    peak_bin, peak = max(points, key=lambda p: p[1])
    if report.memory_budget:
        by = y(report.memory_budget)
        marks.append(f"<line class='budget-line' x1='{_LEFT}' x2='{_W - _RIGHT}' y1='{by:.1f}' y2='{by:.1f}' "
                     "stroke='#ef6c00' stroke-dasharray='6 4'/>")
        marks.append(placer.place(f"budget {units.nbytes(report.memory_budget)}",
                                  [(_W - _RIGHT - 4, by - 4, "end"), (_LEFT + 4, by - 4, "start"),
                                   (_W - _RIGHT - 4, by + 13, "end")], "budget-label"))
    px, py = axis.x(peak_bin), y(peak)
    marks.append(f"<circle class='peak-mark' cx='{px:.1f}' cy='{py:.1f}' r='4' fill='#c62828'/>")
    label = f"peak {units.nbytes(t.peak_activation_bytes)} at {t.peak_label}"
    marks.append(placer.place(label, [(px + 8, max(py, top + 10) + 4, "start"), (px - 8, max(py, top + 10) + 4, "end"),
                                      (px, py + 18, "middle"), (px, min(py + 32, top + height - 4), "middle")],
                              "peak-label"))
    live = ", ".join(f"{name} {units.nbytes(size)}" for name, size in t.peak_live[:3])
    caption = (f"<p class='note peak-note'>The peak, {_e(units.nbytes(t.peak_activation_bytes))} at "
               f"{_e(t.peak_label)}, holds {_e(live)}{' …' if len(t.peak_live) > 3 else ''}.</p>")
    return (f"<svg class='memory-chart' data-points='{len(points)}' data-x0='{axis.x(0):.2f}' "
            f"data-x1='{axis.x(len(axis.bins) - 1):.2f}' viewBox='0 0 {_W} {top + height + 40}' role='img' "
            f"aria-label='live activation bytes over the layers'>{''.join(marks)}</svg>{caption}")
