"""The fuzzer in CI: a short, seeded budget of structure-aware mutants (fuzz/mutators.py) through the library and
every format (fuzz/oracle.py), and a sample through the command line. Hypothesis draws the seed model and the
mutations, derandomized (the same examples every run), and shrinks any failure to its fewest mutations. The long
campaign is `python fuzz/campaign.py --count 5000`."""
import sys
from pathlib import Path

import pytest
from conftest import ROOT

sys.path.insert(0, str(ROOT / "fuzz"))
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from mutators import KINDS, apply  # noqa: E402
from oracle import classify, cli_outcome, lint_outcome  # noqa: E402

pytestmark = pytest.mark.slow  # hundreds of models, onnxruntime in child processes

SEEDS = {}


def _seeds() -> dict[str, bytes]:
    if not SEEDS:
        from campaign import seeds

        SEEDS.update(seeds())
    return SEEDS


mutation = st.tuples(st.sampled_from(KINDS), st.integers(0, 1 << 16), st.integers(0, 1 << 16))
budget = settings(max_examples=250, derandomize=True, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))


@budget
@given(st.data())
def test_no_mutant_reaches_an_internal_error_or_a_stray_line(data):
    names = sorted(_seeds())
    name = data.draw(st.sampled_from(names))
    mutations = data.draw(st.lists(mutation, min_size=1, max_size=3))
    failure, _ = lint_outcome(apply(_seeds()[name], mutations))
    assert failure is None, (name, mutations, failure)


@budget
@given(st.data())
def test_a_model_onnx_and_onnxruntime_refuse_never_lints_clean(tmp_path_factory, data):
    names = sorted(_seeds())
    name = data.draw(st.sampled_from(names))
    mutations = data.draw(st.lists(st.tuples(st.sampled_from(KINDS), st.integers(0, 1 << 16),
                                             st.integers(0, 1 << 16)), min_size=1, max_size=2))
    folder = tmp_path_factory.mktemp("mutants")
    assert classify(apply(_seeds()[name], mutations), folder) is None, (name, mutations)


def test_every_command_on_mutants_is_a_report_or_one_line(tmp_path):
    """A sample through the command line: lint, --verify, fix --diff and diff; nothing but onnxlint's own lines on
    stderr, the file unchanged, in time."""
    import random

    from mutators import random_mutations

    rng = random.Random(7)
    names = sorted(_seeds())
    path = tmp_path / "mutant.onnx"
    for _ in range(6):
        name = rng.choice(names)
        path.write_bytes(apply(_seeds()[name], random_mutations(rng, rng.randint(1, 3))))
        for command in ([str(path)], [str(path), "--verify", "--timeout", "20"],
                        ["fix", str(path), "--diff", "--timeout", "20"], ["diff", str(path), str(path)]):
            assert cli_outcome(Path(path), *command) is None, (name, command)


# what the long campaigns found, each with its mutations: a regression test per finding
FOUND = [
    # seed 51: a model-local function called with a name that is not valid UTF-8 (protobuf hands it over as
    # bytes and refuses to store it back): internal errors (UnicodeDecodeError) in inlining
    ("node/test_maxpool_2d_same_upper", [("flip", 4061, 51164), ("opset", 36686, 64619), ("function", 43549, 47884)]),
    ("node/test_bitwise_and_i16_3d", [("flip", 43800, 10430), ("function", 59045, 43755)]),
    # seed 101, a --target per mutant: openvino's prediction on an element type onnx does not name (40), and on a
    # graph whose nodes are all folded away
    ("node/test_reduce_max_keepdims_random", [("elem_type", 36570, 64810)]),
    ("node/test_rms_normalization_2d_axis1", [("opset", 34234, 52061), ("function", 19443, 10292)]),
    # seed 111: a one-element constant with a dim of unknown size (params' a·x + b), a Transpose whose perm is a
    # float (the input's channel axis)
    ("node/test_attention_4d_softcap_expanded", [("dim", 792, 54722)]),
    ("node/test_transpose_all_permutations_1", [("dim", 47266, 45257), ("attr_type", 22399, 182)]),
    # seed 141: a Conv kernel of 2³² + 1, whose output onnx's inference sizes at -4294967278: a negative dim taken
    # as known made the HTML cost chart lay out 350 million label rows (MemoryError)
    ("fixtures/params/weight_norm_dynamo.onnx", [("attr_value", 55832, 44086)]),
    # seed 151: a call whose domain is not valid UTF-8 (protobuf hands it over as bytes) beside ones that are: the
    # function check sorted bytes with str (TypeError)
    ("fixtures/plain_3x3_256.onnx", [("flip", 24129, 21709), ("function", 33803, 25449)]),
    # seed 161: an LSTM whose hidden_size is a graph attribute: its MACs counted with int() of it (TypeError)
    ("node/test_lstm_with_initial_bias", [("attr_type", 27709, 45784), ("input_type_removed", 28390, 4358)]),
]


@pytest.mark.parametrize("name,mutations", FOUND)
def test_what_the_campaigns_found_stays_fixed(name, mutations):
    failure, _ = lint_outcome(apply(_seeds()[name], mutations))
    assert failure is None, failure
