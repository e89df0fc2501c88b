"""Issue 32's smallest triggers: each once an internal error or a model onnxruntime refuses that linted clean, now a
finding (OL006 schema-violation, OL004, OL003) or one line; and the schema table itself is onnx's."""
import json
import subprocess
import sys
import warnings

import numpy as np
import onnx
import pytest
from conftest import ROOT
from onnx import TensorProto, helper, numpy_helper, parser

import onnxlint
from onnxlint.api import lint_safely
from onnxlint.config import Settings


def _graph(nodes, inputs, outputs, inits=(), opset=17) -> onnx.ModelProto:
    return helper.make_model(helper.make_graph(nodes, "g", inputs, outputs, list(inits)),
                             opset_imports=[helper.make_opsetid("", opset)])


def _found(model, code: str) -> list[str]:
    report = lint_safely(model.SerializeToString(), Settings(), name="m.onnx")
    assert report.error_class != "InternalError", report.error
    return [d.message for d in report.diagnostics if d.code == code]


def _scan(value) -> onnx.ModelProto:
    body = parser.parse_graph("body (float[2] s, float[2] xi) => (float[2] s2, float[2] yi) {\n"
                              "  s2 = Add (s, xi)\n  yi = Identity (s2)\n}")
    node = helper.make_node("Scan", ["s0", "xs"], ["sN", "ys"], body=body)
    node.attribute.append(helper.make_attribute("num_scan_inputs", value))
    return _graph([node], [helper.make_tensor_value_info("s0", 1, [2]), helper.make_tensor_value_info("xs", 1, [5, 2])],
                  [helper.make_tensor_value_info("sN", 1, [2]), helper.make_tensor_value_info("ys", 1, [5, 2])])


@pytest.mark.parametrize("value, code, piece", [([1, 2], "OL006", "'num_scan_inputs' is INTS, Scan takes INT"),
                                                (None, "OL006", "'num_scan_inputs' is GRAPH, Scan takes INT"),
                                                (-3, "OL004", "-3")])
def test_scan_num_scan_inputs_of_the_wrong_type_or_range(value, code, piece):
    if value is None:
        value = parser.parse_graph("b (float[2] s) => (float[2] t) {\n  t = Identity (s)\n}")
    assert any(piece in m for m in _found(_scan(value), code))


def test_a_loop_body_that_is_not_a_graph():
    node = helper.make_node("Loop", ["n", "c", "v"], ["vo"])
    node.attribute.append(helper.make_attribute("body", 5))
    model = _graph([node], [helper.make_tensor_value_info("n", TensorProto.INT64, []),
                            helper.make_tensor_value_info("c", TensorProto.BOOL, []),
                            helper.make_tensor_value_info("v", 1, [2])], [helper.make_tensor_value_info("vo", 1, [2])])
    assert _found(model, "OL006") == ["Loop: attribute 'body' is INT, Loop takes GRAPH (onnx: 'Mismatched attribute "
                                      "type in 'Loop_0 : body'')"]


def test_pads_past_int64_duplicated_or_not():
    weight = [numpy_helper.from_array(np.ones((4, 3, 3, 3), np.float32), "w")]
    io = [helper.make_tensor_value_info("x", 1, [1, 3, 8, 8])], [helper.make_tensor_value_info("y", 1, None)]
    twice = helper.make_node("Conv", ["x", "w"], ["y"], pads=[1, 1, 1, 1])
    twice.attribute.append(helper.make_attribute("pads", [2**63 - 1] * 4))
    assert _found(_graph([twice], *io, weight), "OL006") == [
        "Conv: attribute 'pads' is given 2 times (onnx: 'Attribute 'pads' appeared multiple times')"]
    huge = _graph([helper.make_node("Conv", ["x", "w"], ["y"], pads=[2**63 - 1] * 4)], *io, weight)
    [overflow] = _found(huge, "OL004")
    assert "past int64" in overflow
    report = onnxlint.lint(huge)
    assert report.totals.params == 108 and not report.totals.macs_complete  # counted, never an absurd total


def test_an_op_typo_and_an_element_type_that_does_not_exist():
    model = parser.parse_model('<ir_version: 8, opset_import: ["" : 17]>\n'
                               "g (float[1,4] a) => (float[1,4] y) {\n  y = Rleu (a)\n}")
    assert _found(model, "OL006") == ["Rleu: the ONNX domain has no op Rleu at opset 17 (onnx: 'No Op registered for "
                                      "Rleu with domain_version of 17'; onnxruntime refuses the model)"]
    model = parser.parse_model('<ir_version: 8, opset_import: ["" : 17]>\n'
                               "g (float[1,4] a) => (float[1,4] y) {\n  y = Relu (a)\n}")
    model.graph.input[0].type.tensor_type.elem_type = 99
    assert "tensor 'a' has element type 99, which does not exist" in _found(model, "OL006")


def test_external_data_whose_location_names_a_folder(tmp_path):
    model = parser.parse_model('<ir_version: 8, opset_import: ["" : 17]>\n'
                               "g (float[1,3,8,8] x) => (float[1,4,6,6] y) {\n  y = Conv (x, w)\n}")
    w = TensorProto(name="w", data_type=TensorProto.FLOAT, dims=[4, 3, 3, 3], data_location=TensorProto.EXTERNAL)
    for key, value in (("location", "weights.bin/"), ("offset", "0"), ("length", "432")):
        w.external_data.add(key=key, value=value)
    model.graph.initializer.append(w)
    (tmp_path / "weights.bin").write_bytes(bytes(432))
    onnx.save(model, tmp_path / "m.onnx")
    [problem] = [d.message for d in onnxlint.lint(tmp_path / "m.onnx").diagnostics if d.code == "OL003"]
    assert "ends in a path separator: it names a folder, not a file" in problem


def test_fix_on_an_input_with_no_dense_shape(tmp_path):
    from onnxlint.fix import FixError, fix

    model = parser.parse_model('<ir_version: 8, opset_import: ["" : 17]>\n'
                               "g (float[1,3,8,8] x) => (float[1,4,6,6] y) {\n  c = Conv (x, w)\n"
                               "  y = BatchNormalization (c, s, b, m, v)\n}")
    model.graph.initializer.extend([numpy_helper.from_array(np.full((4, 3, 3, 3), 0.1, np.float32), "w")] + [
        numpy_helper.from_array(np.full(4, 0.5, np.float32), n) for n in "sbmv"])
    for kind in ("sparse", "empty"):
        copy = onnx.ModelProto()
        copy.CopyFrom(model)
        extra = onnx.ValueInfoProto(name="extra")
        if kind == "sparse":
            extra.type.sparse_tensor_type.elem_type = TensorProto.FLOAT
        copy.graph.input.append(extra)
        with pytest.raises(FixError, match="input 'extra' has no dense shape to feed"):
            fix(copy.SerializeToString())


def test_numpy_warnings_of_onnx_reference_code_never_reach_the_user():
    """A shape computed through onnx's reference BatchNormalization with a negative variance: numpy warns of an
    invalid sqrt inside it; the user sees onnxlint's lines only."""
    model = parser.parse_model('<ir_version: 8, opset_import: ["" : 17]>\n'
                               "g (float[4] x) => (float[2,2] y) {\n"
                               "  c = Constant <value = float[1,1] {4.0}> ()\n"
                               "  s = Constant <value = float[1] {1.0}> ()\n"
                               "  b = Constant <value = float[1] {0.0}> ()\n"
                               "  m = Constant <value = float[1] {0.0}> ()\n"
                               "  v = Constant <value = float[1] {-1.0}> ()\n"
                               "  n = BatchNormalization (c, s, b, m, v)\n"
                               "  i = Cast <to = 7> (n)\n"
                               "  one = Constant <value = int64[1] {1}> ()\n"
                               "  flat = Reshape (i, one)\n"
                               "  k = Constant <value = int64[1] {2}> ()\n"
                               "  shape = Concat <axis = 0> (k, flat)\n"
                               "  q = Reshape (x, shape)\n"
                               "  y = Identity (q)\n}")
    path = ROOT / "build" / "negative_variance.onnx"
    path.parent.mkdir(exist_ok=True)
    onnx.save(model, path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any warning that escapes fails here
        onnxlint.lint(model)
    done = subprocess.run([sys.executable, "-m", "onnxlint", str(path)], capture_output=True, text=True)
    assert done.stderr == "" and "Warning" not in done.stdout
    path.unlink()


def test_a_load_error_is_printable_for_a_library_caller():
    model = parser.parse_model('<ir_version: 8, opset_import: ["" : 17]>\n'
                               "g (float[1,4] a) => (float[1,4] y) {\n  y = Relu (a)\n}")
    model.graph.output[0].name = "y\x1dz"
    with pytest.raises(onnxlint.LoadError) as raised:
        onnxlint.lint(model)
    assert "\x1d" not in str(raised.value) and "y\\x1dz" in str(raised.value)


def test_the_schema_table_is_onnxs():
    """The committed table holds every schema the installed onnx has, for every opset the table covers."""
    from onnxlint.shapes.schema import _table, generate

    committed, installed = _table(), generate()
    for key, entries in installed["ops"].items():
        domain = key.split(":")[0]
        covered = [e for e in entries if e[0] <= committed["opsets"].get(domain, 0)]
        assert committed["ops"].get(key, [])[:len(covered)] == covered, key


@pytest.mark.parametrize("text, code, piece", [
    ("y = Constant ()", "OL006", "a Constant takes exactly one value attribute, this one has 0"),
    ("y = Dropout (x, x)", "OL004", "its ratio 'x' is not a scalar"),
    ("y = BatchNormalization (x, s, s, s, s)", "OL004", "'s' holds 5 values for 3 channels"),
])
def test_what_the_long_campaign_found_last(text, code, piece):
    """Three classes of mutant onnx's checker and onnxruntime refuse that linted clean in the 5,000-mutant campaign."""
    model = parser.parse_model('<ir_version: 8, opset_import: ["" : 17]>\n'
                               "g (float[1,3,4,4] x) => (float[1,3,4,4] y) {\n"
                               "  s = Constant <value = float[5] {1, 1, 1, 1, 1}> ()\n"
                               f"  {text}\n}}")
    assert any(piece in m for m in _found(model, code)), _found(model, code)


def _refusal(model) -> str:
    import onnxruntime as ort

    try:
        ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    except Exception as e:  # noqa: BLE001 — what onnxruntime says is the oracle
        return str(e)
    return ""


@pytest.mark.parametrize("text, opset, piece", [
    ("y = Max (x, x)", 13, "has no Max(13) kernel for input 0 of type int16 (its kernels take"),
    ("y = RoiAlign (f, r, i)", 22,
     "has no kernel for RoiAlign as of opset 22 (its kernels are for versions 10–15, 16)"),
])
def test_an_op_onnxruntime_has_no_kernel_for(text, opset, piece):
    """OL007: a node the installed onnxruntime's CPU provider has no kernel for, by op version or element type,
    and onnxruntime refusing the same model for that node."""
    inputs = "int16[2,3] x" if "Max" in text else "float[1,1,4,4] f, float[1,4] r, int64[1] i"
    model = parser.parse_model(f'<ir_version: 10, opset_import: ["" : {opset}]>\ng ({inputs}) => (y) {{\n  {text}\n}}')
    found = _found(model, "OL007")
    assert len(found) == 1 and piece in found[0], found
    op = text.split()[2]
    assert f"for {op}({opset if op == 'Max' and opset == 13 else 22})" in _refusal(model)


def test_the_kernel_check_writes_nothing_and_imports_no_onnxruntime(tmp_path):
    """With the shipped registry (the tested onnxruntime's), a lint finds OL007 without importing onnxruntime and
    without writing a cache."""
    import os

    env = {**os.environ, "HOME": str(tmp_path), "XDG_CACHE_HOME": str(tmp_path / ".cache")}
    code = ("import sys, onnxlint; r = onnxlint.lint(sys.argv[1]); "
            "print([d.code for d in r.diagnostics if d.code == 'OL007'], 'onnxruntime' in sys.modules)")
    model = tmp_path / "m.onnx"
    model.write_bytes(parser.parse_model('<ir_version: 10, opset_import: ["" : 13]>\n'
                                         'g (int16[2,3] x) => (y) {\n  y = Max (x, x)\n}').SerializeToString())
    done = subprocess.run([sys.executable, "-c", code, str(model)], capture_output=True, text=True, env=env)
    assert done.stdout.strip() == "['OL007'] False", done.stdout + done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.onnx"]


def test_another_onnxruntimes_registry_is_read_in_a_child_once_and_cached(tmp_path, monkeypatch):
    """For an onnxruntime other than the shipped table's, the registry is read by a child process (whose HOME is a
    temporary folder: onnxruntime leaves its telemetry id there), once per build, into the cache directory."""
    from onnxlint.shapes import kernels

    monkeypatch.setattr(kernels, "SHIPPED", tmp_path / "none.json")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    kernels.registry.cache_clear()
    try:
        table = kernels.registry()
        cached = list((tmp_path / "cache" / "onnxlint").glob("kernels-*.json"))
        assert len(cached) == 1
        assert table["since"][":RoiAlign"] == [10, 16, 22] and table["kernels"][":RoiAlign"]
        kernels.registry.cache_clear()
        assert kernels.registry() == table  # from the cache this time
    finally:
        kernels.registry.cache_clear()


def test_the_shipped_kernel_table_is_onnxruntimes():
    from onnxlint.shapes import kernels

    shipped = json.loads(kernels.SHIPPED.read_text(encoding="utf-8"))
    build = kernels.installed_build()
    if build is None or build[0] != shipped["onnxruntime"]:
        pytest.skip(f"the table is onnxruntime {shipped['onnxruntime']}'s; installed: {build and build[0]}")
    assert {k: v for k, v in shipped.items() if k != "onnxruntime"} == kernels.generate()


@pytest.mark.slow  # ~1,900 models, each linted and loaded by onnxruntime
def test_no_kernel_findings_are_onnxruntimes_own_refusals():
    """On onnx's node-test suite, every OL007 is a model onnxruntime refuses for want of that kernel, or whose
    kernel refuses its attributes when created (no false finding), and most refusals for want of a kernel are found
    (the rest are ops onnxruntime expands into a function body whose ops then have no kernel: unknown here)."""
    import re

    from onnx.backend.test.case.node import collect_testcases

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cases = collect_testcases()
    found = refused = 0
    for case in cases:
        predicted = _found(case.model, "OL007")
        refusal = _refusal(case.model)
        missing = re.search(r"(?:Could not find an implementation|Failed to find kernel) for (\w+)\((\d+)\)", refusal)
        assert not predicted or missing or "Exception during initialization" in refusal, (case.name, predicted)
        found, refused = found + bool(predicted and missing), refused + bool(missing)
    assert found >= 70 and found >= 0.8 * refused, (found, refused)


def _function_model(call_inputs: int, body_domain: str = "") -> onnx.ModelProto:
    body = onnx.helper.make_function("lo_al", "Fnc_", ["a"], ["b"],
                                     [helper.make_node("Identity", ["a"], ["b"], domain=body_domain)],
                                     [helper.make_opsetid("", 17)])
    call = helper.make_node("Fnc_", ["x", "x"][:call_inputs], ["y"], domain="lo_al")
    model = _graph([call], [helper.make_tensor_value_info("x", 1, [2])], [helper.make_tensor_value_info("y", 1, [2])])
    model.opset_import.append(helper.make_opsetid("lo_al", 1))
    model.functions.append(body)
    return model


@pytest.mark.parametrize("case, code, piece", [
    ("too many actuals", "OL006", "a Fnc_ node passes 2 inputs and 1 outputs to a function of 1 and 1"),
    ("body of a domain not imported", "OL006", "function lo_al.Fnc_ calls Identity of the domain 'lo\\xc9al', which "
                                               "it does not import"),
    ("CumSum <reverse = 3>", "OL006", "attribute 'reverse' = 3; onnxruntime's kernel takes 0 or 1"),
    ("Split <num_outputs = -1>", "OL004", "num_outputs = -1 for its 2 outputs"),
    ("sequence declared a tensor", "OL006", "Identity: type case mismatch"),
])
def test_what_the_campaign_of_seed_61_found(case, code, piece):
    """Mutants onnx's checker and onnxruntime both refuse that linted without an error in a 5,000-mutant campaign,
    each as its smallest hand-made model; onnxruntime refuses each of them too."""
    if case == "too many actuals":
        data = _function_model(2).SerializeToString()
    elif case == "body of a domain not imported":  # as the fuzzer made it: not valid UTF-8 either (protobuf will
        # not store such a string, so the bytes are edited)
        data = _function_model(1, "lo_bl").SerializeToString().replace(b"lo_bl", b"lo\xc9al")
    elif case == "sequence declared a tensor":
        data = parser.parse_model('<ir_version: 10, opset_import: ["" : 17]>\n'
                                  'g (seq(float[2]) x) => (float[2] y) {\n  y = Identity (x)\n}').SerializeToString()
    else:
        outputs = "y, z" if "Split" in case else "y"
        data = parser.parse_model(f'<ir_version: 10, opset_import: ["" : 18]>\ng (float[4] x, int64 a) => ({outputs}) '
                                  f'{{\n  {outputs} = {case} (x{", a" if "Cum" in case else ""})\n}}')
        data = data.SerializeToString()
    report = lint_safely(data, Settings(), name="m.onnx")
    assert report.error_class != "InternalError", report.error
    assert any(piece in d.message for d in report.diagnostics if d.code == code), report.diagnostics
    if case != "Split <num_outputs = -1>":  # onnxruntime loads that one and aborts the process when it runs
        import onnxruntime as ort

        with pytest.raises(Exception):  # noqa: B017 — any refusal
            ort.InferenceSession(data, providers=["CPUExecutionProvider"])


def test_names_that_are_not_valid_utf8_are_shown_escaped():
    """A model whose function name and opset domain are not valid UTF-8 (onnxruntime runs it): no internal error,
    and the names escaped wherever they are shown."""
    data = _function_model(1).SerializeToString().replace(b"lo_al", b"lo\xc9al").replace(b"Fnc_", b"Fn\xc9_")
    report = lint_safely(data, Settings(), name="m.onnx")
    assert report.error is None, report.error
    assert report.totals.nodes == 1


def _seed_71(case: str) -> bytes:
    text = {
        "Gemm with transB = -2^63 (onnx reads it as a C++ int: 0)":
            '<ir_version: 8, opset_import: ["" : 13]>\ng (float[3,6] a, float[4,6] b) => (y) {\n'
            '  y = Gemm <transB = -9223372036854775808> (a, b)\n}',
        "LSTM with hidden_size 2^62":
            '<ir_version: 8, opset_import: ["" : 14]>\ng (float[1,3,3] X, float[1,16,3] W, float[1,16,4] R) => (Y_h) '
            '{\n  Y, Y_h = LSTM <hidden_size = 4611686018427387904> (X, W, R)\n}',
        "Identity of a sequence at opset 2":
            '<ir_version: 8, opset_import: ["" : 2]>\ng (seq(float[2]) x) => (seq(float[2]) y) {\n'
            '  y = Identity (x)\n}',
        "a weight with dims and no data":
            '<ir_version: 8, opset_import: ["" : 17]>\ng (float[1,1,4,4] x) => (float[1,2,4,4] y) '
            '<float[2,1,1,1] w = {1, 2}> {\n  y = Conv (x, w)\n}',
        "MaxPool with an auto_pad that is not UTF-8":
            '<ir_version: 8, opset_import: ["" : 17]>\ng (float[1,1,4,4] x) => (float[1,1,3,3] y) {\n'
            '  y = MaxPool <auto_pad = "XX", kernel_shape = [2, 2]> (x)\n}',
    }[case]
    model = parser.parse_model(text)
    if case == "a weight with dims and no data":
        model.graph.initializer[0].ClearField("float_data")
    data = model.SerializeToString()
    return data.replace(b"XX", b"\x00\xff") if "auto_pad" in case else data


@pytest.mark.parametrize("case, code, piece", [
    ("Gemm with transB = -2^63 (onnx reads it as a C++ int: 0)", "OL004", "the inner dimensions differ: 6"),
    ("LSTM with hidden_size 2^62", "OL004", "its output would hold 2^63 elements or more"),
    ("Identity of a sequence at opset 2", "OL006", "has unsupported type: seq(tensor(float))"),
    ("a weight with dims and no data", "OL006", "1 initializer has dims and no data, first 'w'"),
    ("MaxPool with an auto_pad that is not UTF-8", "OL004", "\\xff' is none of NOTSET"),
])
def test_what_the_campaign_of_seed_71_found(case, code, piece):
    """The mutants of the next 5,000-mutant campaign that linted without an error, each as its smallest model;
    onnxruntime refuses each of them."""
    import onnxruntime as ort

    data = _seed_71(case)
    report = lint_safely(data, Settings(), name="m.onnx")
    assert report.error_class != "InternalError", report.error
    assert any(piece in d.message for d in report.diagnostics if d.code == code), report.diagnostics
    with pytest.raises(Exception):  # noqa: B017 — any refusal
        ort.InferenceSession(data, providers=["CPUExecutionProvider"])


def test_a_weight_stripped_on_purpose_is_linted_for_its_graph():
    """The corpus's weights carry no data, marked `zoo:stripped`: its graphs are linted, with no error."""
    model = parser.parse_model('<ir_version: 8, opset_import: ["" : 17]>\ng (float[1,1,4,4] x) => (float[1,2,4,4] y) '
                               '<float[2,1,1,1] w = {1, 2}> {\n  y = Conv (x, w)\n}')
    model.graph.initializer[0].ClearField("float_data")
    model.graph.initializer[0].doc_string = "zoo:stripped"
    assert _found(model, "OL006") == []


def test_a_duplicated_attribute_of_a_custom_domain_op():
    node = helper.make_node("QGemm", ["a"], ["y"], domain="com.microsoft", transB=1)
    node.attribute.append(helper.make_attribute("transB", 1))
    model = _graph([node], [helper.make_tensor_value_info("a", 1, [2, 2])],
                   [helper.make_tensor_value_info("y", 1, [2, 2])])
    model.opset_import.append(helper.make_opsetid("com.microsoft", 1))
    assert _found(model, "OL006") == ["QGemm: attribute 'transB' is given 2 times (onnx: 'Attribute 'transB' appeared "
                                      "multiple times')"]


@pytest.mark.parametrize("text, piece", [
    ('y = Pad <mode = "XX"> (x, p)', "attribute 'mode' is '\x00\\xff', not one of constant, edge, reflect, wrap"),
    ('y = Pad <mode = "mirror"> (x, p)', "attribute 'mode' is 'mirror', not one of constant, edge, reflect, wrap"),
])
def test_what_the_campaign_of_seed_81_found(text, piece):
    """A string attribute onnxruntime's kernel takes from a fixed set (Pad's mode; GridSample's, found with an
    empty mode): onnxruntime refuses the model when it creates the kernel."""
    import onnxruntime as ort

    model = parser.parse_model('<ir_version: 8, opset_import: ["" : 19]>\n'
                               'g (float[1,1,4,4] x, int64[8] p) => (float[1,1,4,4] y) {\n' + f"  {text}\n}}")
    data = model.SerializeToString().replace(b"XX", b"\x00\xff")
    report = lint_safely(data, Settings(), name="m.onnx")
    assert [d.message for d in report.diagnostics if d.code == "OL006"] == [f"Pad: {piece} (onnxruntime refuses the "
                                                                            "model when it creates the kernel)"]
    with pytest.raises(Exception):  # noqa: B017 — any refusal
        ort.InferenceSession(data, providers=["CPUExecutionProvider"])


def test_a_scan_body_of_the_wrong_arity():
    body = parser.parse_graph("body () => (float[2] s2) {\n  s2 = Constant <value = float[2] {1, 2}> ()\n}")
    node = helper.make_node("Scan", ["s0", "xs"], ["sN", "ys"], body=body, num_scan_inputs=1)
    io = ([helper.make_tensor_value_info("s0", 1, [2]), helper.make_tensor_value_info("xs", 1, [5, 2])],
          [helper.make_tensor_value_info("sN", 1, [2]), helper.make_tensor_value_info("ys", 1, [5, 2])])
    model = _graph([node], *io)
    assert "Scan: its body takes 0 inputs for the node's 2 (onnxruntime: 'Size mismatch validating subgraph inputs')" \
        in _found(model, "OL006")


def test_what_fuzz_seeds_101_and_111_found_onnxruntime_refuses_is_an_error(tmp_path):
    """A Reshape whose -1 sits beside a dim of 0 and a ConvTranspose whose weight has a kernel dim of 0 (onnx's
    inference refuses both), an LRN with alpha ≤ 0 and a
    ReverseSequence whose batch and time axes are one (onnxruntime's kernels refuse them when they are created):
    each lints with an error naming the node."""
    def lints(nodes, inputs, inits=()):
        graph = helper.make_graph(nodes, "g", inputs, [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
                                  list(inits))
        path = tmp_path / "m.onnx"
        onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))
        return [(d.code, d.node, d.message) for d in onnxlint.lint(str(path)).diagnostics
                if d.severity.name == "ERROR"]

    shape = helper.make_tensor("shape", TensorProto.INT64, [2], [0, -1])
    found = lints([helper.make_node("Reshape", ["x", "shape"], ["y"], "reshape", allowzero=1)],
                  [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3])], [shape])
    assert found and found[0][:2] == ("OL004", "reshape") and "a -1 beside a dim of 0" in found[0][2]
    found = lints([helper.make_node("LRN", ["x"], ["y"], "lrn", size=3, alpha=-1.0)],
                  [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 8, 4, 4])])
    assert found and found[0][:2] == ("OL007", "lrn") and "alpha > 0" in found[0][2]
    found = lints([helper.make_node("ReverseSequence", ["x", "lens"], ["y"], "reverse", batch_axis=0, time_axis=0)],
                  [helper.make_tensor_value_info("x", TensorProto.FLOAT, [4, 4]),
                   helper.make_tensor_value_info("lens", TensorProto.INT64, [4])])
    assert found and found[0][:2] == ("OL007", "reverse") and "batch_axis != time_axis" in found[0][2]
    found = lints([helper.make_node("ConvTranspose", ["x", "w"], ["y"], "up", strides=[2, 2])],
                  [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1, 3, 3]),
                   helper.make_tensor_value_info("w", TensorProto.FLOAT, [1, 2, 0, 3])])
    assert found and found[0][:2] == ("OL002", "up") and "kernel 0 on axis 0" in found[0][2]
    assert not lints([helper.make_node("LRN", ["x"], ["y"], "lrn", size=3)],
                     [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 8, 4, 4])])


def test_what_fuzz_seed_121_found_onnxruntime_refuses_is_an_error(tmp_path):
    """An If branch that declares an input (onnxruntime: 'Size mismatch validating subgraph inputs'), and a tensor
    declared with element type 0 (onnxruntime: 'Invalid tensor data type 0'): each lints with an OL006 error."""
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [2])
    branch = lambda name, inputs: helper.make_graph(  # noqa: E731
        [helper.make_node("Identity", ["x"], [f"{name}_y"])], name, inputs,
        [helper.make_tensor_value_info(f"{name}_y", TensorProto.FLOAT, [2])])
    node = helper.make_node("If", ["c"], ["y"], "choose", then_branch=branch("then", [x]),
                            else_branch=branch("else", []))
    graph = helper.make_graph([node], "g", [helper.make_tensor_value_info("c", TensorProto.BOOL, []), x],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    found = _found(model, "OL006")
    assert found and "its then_branch declares 1 input(s); a branch takes none" in found[0], found
    relu = helper.make_node("Relu", ["x"], ["r"])
    graph = helper.make_graph([relu, helper.make_node("Relu", ["r"], ["y"])], "g", [x],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2])],
                              value_info=[helper.make_tensor_value_info("r", TensorProto.UNDEFINED, [2])])
    found = _found(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), "OL006")
    assert found and "tensor 'r' is declared a tensor of element type 0" in found[0], found
