"""The patterns rules look through, on real torch exports (fixtures/build_lookthrough.py, both exporters):
YOLO's 1×1 reduction with SiLU as x·sigmoid(x), and BiT's 1×1 with GroupNorm as Reshape → InstanceNorm →
Reshape → Mul → Add, before a 3×3: OL202 is silent there, and still names the 3×3 that has no 1×1."""
import onnx
import pytest
from conftest import FIXTURES

import onnxlint

LOOKTHROUGH = FIXTURES / "lookthrough"


@pytest.mark.parametrize("exporter", ["torchscript", "dynamo"])
@pytest.mark.parametrize("block", ["yolo", "bit"])
def test_a_reduced_3x3_is_not_told_to_reduce(block, exporter):
    reduced = onnxlint.lint(LOOKTHROUGH / f"{block}_reduced_{exporter}.onnx", select=["OL202"])
    plain = onnxlint.lint(LOOKTHROUGH / f"{block}_plain_{exporter}.onnx", select=["OL202"])
    assert reduced.diagnostics == []
    [finding] = plain.diagnostics
    assert "runs on all 256 input channels" in finding.message


SILERO = FIXTURES / "silero"  # fixtures/build_silero.py: the files silero-vad's wheel ships
SIGNAL = {"input": (1, 512), "state": (2, 1, 128)}  # one 512-sample chunk at 16 kHz


@pytest.mark.parametrize("name", ["silero_vad.onnx", "silero_vad_op18_ifless.onnx", "silero_vad_16k_sequence.onnx",
                                  "silero_vad_16k_op15.onnx"])
def test_ol101_is_silent_where_the_unread_tail_is_a_pads_reflection(name):
    """silero-vad's STFT conv (kernel 256, stride 128; 128/64 at 8 kHz) reads 576 samples reflect-padded at
    the end through a Pad whose pads are computed, then Unsqueezed: (832 − 256) / 128 + 1 = 5.5, and the 64
    unread positions all lie in the 128 of padding. Before: a false OL101, in every If branch."""
    inputs = {i.name for i in onnx.load(SILERO / name, load_external_data=False).graph.input}
    given = {k: v for k, v in SIGNAL.items() if k in inputs and "sequence" not in name}  # it declares its own
    report = onnxlint.lint(SILERO / name, input_shapes=given)
    assert not [d for d in report.diagnostics if d.code == "OL101"]
    stft = [a for layer in report.layers if layer.op_type == "Conv" and layer.window is not None
            and layer.window.kernel in ((256,), (128,)) for a in layer.window.axes if a.remainder]
    assert stft and all(a.outer_pad_end in (32, 64, 128) and a.dropped == 0 for a in stft)


def test_a_contradiction_in_a_branch_of_runtime_condition_is_a_warning_onnxruntime_confirms():
    """silero_vad.onnx picks its 16 kHz or 8 kHz branch by the value of `sr`, known only when it runs. At 512
    samples (a 16 kHz chunk) the 8 kHz branch's LSTM gets a rank-5 input: a warning that names the branch,
    not an error, since the 16 kHz branch runs. onnxruntime agrees on both counts."""
    import numpy as np
    import onnxruntime

    from onnxlint.diagnostics import Severity

    report = onnxlint.lint(SILERO / "silero_vad.onnx", input_shapes=SIGNAL)
    [finding] = [d for d in report.diagnostics if d.code == "OL004"]
    assert finding.severity == Severity.WARNING and "else_branch of If_0" in finding.message
    assert finding.node.endswith("decoder/rnn/LSTM")
    session = onnxruntime.InferenceSession(SILERO / "silero_vad.onnx", providers=["CPUExecutionProvider"])
    feed = {"input": np.zeros(SIGNAL["input"], np.float32), "state": np.zeros(SIGNAL["state"], np.float32)}
    session.run(None, {**feed, "sr": np.array(16000, np.int64)})
    with pytest.raises(Exception, match="rnn/LSTM"):
        session.run(None, {**feed, "sr": np.array(8000, np.int64)})
    assert not [d for d in onnxlint.lint(SILERO / "silero_vad.onnx", input_shapes={**SIGNAL, "input": (1, 256)})
                .diagnostics if d.code == "OL004"]
