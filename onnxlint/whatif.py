"""--what-if: build each suggested replacement (of a rule with `measurable`: OL201 3×3 stack, OL202 1×1
reduction, OL204 factorization) as a small standalone graph with random weights and the layer's real input shape,
check with onnxruntime that its output shape equals the original layer's, and time both.

The graphs are built here, not read from the user's file, so they run in process."""
from __future__ import annotations

import math
import statistics
import time
from dataclasses import dataclass

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from onnxlint.cost import ConvSpec

_WARMUP = 3


def _conv(name: str, x: str, spec: ConvSpec, in_size: tuple, rng, pads=None, dilations=(1, 1)) -> tuple:
    """A Conv node and its random weights for one spec; pads chosen to reach spec.out_size when not given."""
    kh, kw = spec.kernel
    if pads is None:  # the smallest total padding P with floor((I + P − k) / s) + 1 = O, split as evenly as SAME
        total = [max(0, (o - 1) * spec.stride + k - i) for o, k, i in zip(spec.out_size, spec.kernel, in_size)]
        pads = [p // 2 for p in total] + [p - p // 2 for p in total]
    weight = numpy_helper.from_array(
        rng.standard_normal((spec.c_out, spec.c_in // spec.group, kh, kw)).astype(np.float32) * 0.05, f"{name}_w")
    inputs, inits = [x, weight.name], [weight]
    if spec.bias:
        bias = numpy_helper.from_array(np.zeros(spec.c_out, np.float32), f"{name}_b")
        inputs.append(bias.name)
        inits.append(bias)
    node = helper.make_node("Conv", inputs, [name], kernel_shape=[kh, kw], strides=[spec.stride] * 2,
                            pads=list(pads), dilations=list(dilations), group=spec.group)
    return node, inits


def _model(nodes, inits, in_shape, out) -> onnx.ModelProto:
    graph = helper.make_graph(nodes, "what_if", [helper.make_tensor_value_info("x", TensorProto.FLOAT, in_shape)],
                              [helper.make_tensor_value_info(out, TensorProto.FLOAT, None)], inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def build_pair(layer, replacement: tuple[ConvSpec, ...], seed: int = 0):
    """(original, replacement) standalone models for a 2-D Conv layer, inputs of its real shape."""
    rng = np.random.default_rng(seed)
    spec, w = layer.conv, layer.window
    x_shape = [layer.output_shape[0], spec.c_in, *(a.size for a in w.axes)]
    pads = [a.pad_begin for a in w.axes] + [a.pad_end for a in w.axes]
    node, inits = _conv("y", "x", spec, tuple(x_shape[2:]), rng, pads, [a.dilation for a in w.axes])
    original = _model([node], inits, x_shape, "y")
    nodes, inits, x, size = [], [], "x", tuple(x_shape[2:])
    for i, step in enumerate(replacement):
        name = f"conv{i}"
        node, weights = _conv(name, x, step, size, rng)
        nodes.append(node)
        inits += weights
        x, size = name, step.out_size
        if i < len(replacement) - 1:  # the non-linearity between the stacked layers
            nodes.append(helper.make_node("Relu", [x], [f"{name}_relu"]))
            x = f"{name}_relu"
    return original, _model(nodes, inits, x_shape, x)


def _session(ort, model: onnx.ModelProto):
    options = ort.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = 1
    options.log_severity_level = 3
    session = ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
    shape = [d for d in session.get_inputs()[0].shape]
    return session, {"x": np.random.default_rng(0).standard_normal(shape).astype(np.float32)}


def _time_pair(ort, original: onnx.ModelProto, replaced: onnx.ModelProto, runs: int) -> tuple[list, list, tuple]:
    """Milliseconds of each of `runs` runs of both models, taken in turn (A, B, A, B...) so that both see the
    machine in the same state, after a warm-up; and both output shapes."""
    pairs = [_session(ort, model) for model in (original, replaced)]
    shapes = []
    for session, feed in pairs:
        for _ in range(_WARMUP):
            out = session.run(None, feed)[0]
        shapes.append(tuple(out.shape))
    times: tuple[list, list] = ([], [])
    for _ in range(runs):
        for (session, feed), taken in zip(pairs, times):
            start = time.perf_counter()
            session.run(None, feed)
            taken.append((time.perf_counter() - start) * 1000)
    return times[0], times[1], tuple(shapes)


@dataclass(frozen=True)
class Timing:
    """What --what-if measured of one replacement: the milliseconds of each run before and after, and the two
    output shapes. The runs are paired (A, B in turn): a difference is real when the replacement wins (or loses)
    so many pairs that a fair coin would do so less than 5% of the time (the sign test); one outlier run cannot
    hide a consistent difference, as an overlap of min–max ranges would."""
    before: tuple
    after: tuple
    shape_before: tuple
    shape_after: tuple

    @property
    def before_ms(self) -> float:
        return statistics.median(self.before)

    @property
    def after_ms(self) -> float:
        return statistics.median(self.after)

    @property
    def faster_pairs(self) -> int:
        """The paired runs in which the replacement was faster."""
        return sum(b < a for a, b in zip(self.before, self.after))

    @property
    def within_noise(self) -> bool:
        return sign_test(self.faster_pairs, len(self.before)) >= 0.05

    def text(self, savings) -> str:
        """What to add to the finding's suggestion."""
        if self.shape_before != self.shape_after:
            return (f"; what-if: the replacement's output {self.shape_after} differs from the layer's "
                    f"{self.shape_before}, not measured")
        change = f"{100 * (self.after_ms - self.before_ms) / self.before_ms:+.0f}%".replace("-", "−")
        wins, n = self.faster_pairs, len(self.before)
        verdict = ("too few paired runs to tell a difference from noise: --runs 6 or more" if n < 6 else
                   f"faster in {wins} of {n} paired runs: within this machine's noise" if self.within_noise else
                   f"faster in {wins} of {n} paired runs" if self.after_ms < self.before_ms else
                   f"slower in {n - wins} of {n} paired runs")
        return (f"what-if: MACs −{savings.macs_saved_pct:.0f}%, measured {_spread(self.before)} → "
                f"{_spread(self.after)} ({change}; {verdict}) on this machine (median, min–max of "
                f"{n} runs each, in turn, one thread); the replacement changes the function and needs retraining")

    @property
    def extra(self) -> dict:
        """What to add to the finding's savings."""
        if self.shape_before != self.shape_after:
            return {}
        return {"measured_ms_before": round(self.before_ms, 4), "measured_ms_after": round(self.after_ms, 4),
                "measured_ms_before_min": round(min(self.before), 4),
                "measured_ms_before_max": round(max(self.before), 4),
                "measured_ms_after_min": round(min(self.after), 4), "measured_ms_after_max": round(max(self.after), 4),
                "measured_runs": len(self.before), "measured_faster_pairs": self.faster_pairs,
                "measured_within_noise": self.within_noise}


def sign_test(wins: int, n: int) -> float:
    """The two-sided p-value of `wins` of `n` paired runs under no difference (each pair a fair coin)."""
    if n == 0:
        return 1.0
    tail = sum(math.comb(n, k) for k in range(min(wins, n - wins) + 1)) / 2 ** n
    return min(1.0, 2 * tail)


def _spread(times) -> str:
    return f"{statistics.median(times):.2f} ms ({min(times):.2f}–{max(times):.2f})"


def measurer(runs: int = 10):
    """The Context's `measure` for --what-if: builds a layer and its replacement and times both (`runs` runs)."""
    import onnxruntime as ort

    def measure(layer, replacement: tuple[ConvSpec, ...]) -> Timing:
        original, replaced = build_pair(layer, replacement)
        before, after, (shape_before, shape_after) = _time_pair(ort, original, replaced, runs)
        return Timing(tuple(before), tuple(after), shape_before, shape_after)
    return measure
