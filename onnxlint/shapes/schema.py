"""Each node against its operator's schema, as onnx's checker and onnxruntime check it: an op its domain does not
have at the model's opset, attributes of the wrong type, given twice, unknown or required and missing, input and
output counts, a required input left empty, input types outside the op's type constraints, and element types that
do not exist. The schemas are onnx's own (`onnx.defs`), read from `schemas.json` beside this module, generated from
the installed onnx by `python -m onnxlint.shapes.schema`: a schema never changes once its opset version is
released, so the table holds for every model up to the opsets it covers, and the plain lint path need not import
the onnx package. A newer opset than the table's is read from `onnx.defs` itself."""
from __future__ import annotations

import functools
import json
import re
from pathlib import Path

from onnxlint.dtypes import ELEM_TYPES, dtype_name, onnx_type_name
from onnxlint.graph import Graph, Node, attr_text
from onnxlint.proto import AttributeProto
from onnxlint.shapes.kernels import DOMAINS, kernel_problem, registry

TABLE = Path(__file__).with_name("schemas.json")
ONNX_DOMAINS = ("", "ai.onnx.ml", "ai.onnx.preview.training", "ai.onnx.preview")
_KINDS = {v: k for k, v in AttributeProto.AttributeType.items()}  # 7 → "INTS"


def _compact(schema) -> list:
    """One schema as the table stores it: since, deprecated, (min, max) inputs and outputs, formal inputs
    (option, type string, homogeneous), attributes {name: (type, required)}, constraints {type string: allowed},
    formal outputs, whether it has a function body (onnxruntime expands an op it has no kernel for into it)."""
    def params(formal):
        return [[int(p.option.value), p.type_str, bool(p.is_homogeneous)] for p in formal]
    return [schema.since_version, bool(schema.deprecated), schema.min_input, schema.max_input, schema.min_output,
            schema.max_output, params(schema.inputs),
            {name: [_KINDS[int(a.type.value)], bool(a.required)] for name, a in schema.attributes.items()},
            {c.type_param_str: sorted(c.allowed_type_strs) for c in schema.type_constraints}, params(schema.outputs),
            bool(schema.has_function or schema.has_context_dependent_function)]


def generate() -> dict:
    """The table, from the installed onnx: every schema of every version, and each domain's newest opset."""
    import onnx
    from onnx import defs

    ops: dict[str, list] = {}
    opsets: dict[str, int] = {}
    for schema in defs.get_all_schemas_with_history():
        ops.setdefault(f"{schema.domain}:{schema.name}", []).append(_compact(schema))
        opsets[schema.domain] = max(opsets.get(schema.domain, 0), schema.since_version)
    # a domain's current opset may be past its newest schema (an opset that changed no op of it)
    opsets[""] = max(opsets[""], defs.onnx_opset_version())
    opsets["ai.onnx.ml"] = max(opsets["ai.onnx.ml"], defs.onnx_ml_opset_version())
    for entries in ops.values():
        entries.sort(key=lambda e: e[0])
    return {"onnx": onnx.__version__, "opsets": dict(sorted(opsets.items())), "ops": dict(sorted(ops.items()))}


@functools.cache
def _table() -> dict:
    return json.loads(TABLE.read_text(encoding="utf-8"))


@functools.cache
def schema_for(domain: str, op: str, version: int) -> list | None:
    """The compact schema (see _compact) of `op` in `domain` at opset `version`, or None when the domain has no
    such op at that version."""
    table = _table()
    if version > table["opsets"].get(domain, 0):  # newer than the table: onnx's own registry decides
        from onnx import defs

        try:
            return _compact(defs.get_schema(op, version, domain))
        except defs.SchemaError:
            return None
    found = None
    for entry in table["ops"].get(f"{domain}:{op}", ()):
        if entry[0] <= version:
            found = entry
    return found


def schema_problems(graph: Graph, shapes) -> tuple[dict[Node, str], dict[Node, str]]:
    """(node → what is wrong with it against its schema, in one sentence naming what onnx's checker says; node →
    why the installed onnxruntime has no kernel for it, for the nodes that keep their schema). Each signature (op,
    attribute types, element types) is checked once."""
    opsets = shapes.opsets
    groups: dict[tuple, list[Node]] = {}
    found: dict[Node, str] = {}
    kernel_refuses: dict[Node, str] = {}  # attributes onnxruntime's CPU kernel refuses when it is created
    kinds_of, dtype = graph.attr_kinds, shapes.dtype
    for node in graph.nodes:
        domain = "" if node.domain == "ai.onnx" else node.domain
        if node.function is not None:
            continue  # a function body has its own opsets
        if domain not in ONNX_DOMAINS:  # a custom domain's op is unknown, and said so, if the model imports it
            names = [name for name, _ in kinds_of.get(id(node.attrs)) or ()]
            twice = next((name for name in names if names.count(name) > 1), None)
            if twice is not None:  # onnx's checker refuses it in every domain
                found[node] = f"attribute '{twice}' is given {names.count(twice)} times (onnx: 'Attribute " \
                              f"'{twice}' appeared multiple times')"
            elif domain not in opsets:
                found[node] = f"its domain '{domain}' is not imported by the model (onnx: 'No opset import for " \
                              f"domain '{domain}'')"
            continue
        problem = _axis_problem(node, shapes) if node.op_type in _AXIS_OPS else None
        if node.op_type == "Constant" and domain == "" and len(node.attrs) != 1:
            problem = (f"a Constant takes exactly one value attribute, this one has {len(node.attrs)} (onnx: 'One and "
                       "only one of the attributes 'value', 'value_*' or 'sparse_value' must be specified')")
        if problem is None and node.op_type == "If":
            problem = _branches_problem(node, graph)
        if problem is None and node.op_type in ("Loop", "Scan") and domain == "":
            problem = _body_problem(node, graph, opsets.get("", 0))
        if problem is None and node.op_type in _MODES and domain == "":
            problem = _mode_problem(node)
        if node.op_type in _KERNEL_CHECKS and domain == "" and (refused := _KERNEL_CHECKS[node.op_type](node)):
            kernel_refuses[node] = refused
        if problem is not None:
            found[node] = problem
        for key in _FLAGS.get(node.op_type, ()):
            value = node.attrs.get(key, 0)
            if type(value) is int and value not in (0, 1):
                found[node] = f"attribute '{key}' = {value}; onnxruntime's kernel takes 0 or 1 (it refuses the " \
                              f"model: '{key} attribute must be 0 or 1')"
        for key in _TYPE_ATTRIBUTES.get(node.op_type, ()):
            value = node.attrs.get(key)
            if type(value) is int and value not in ELEM_TYPES:
                found[node] = f"attribute '{key}' = {value} names an element type that does not exist"
        inputs = node.inputs
        key = (domain, node.op_type, kinds_of.get(id(node.attrs)), inputs.count(""),
               tuple([dtype.get(name, 0) if name else -1 for name in inputs]), tuple(map(dtype.get, node.outputs)))
        group = groups.get(key)
        if group is None:
            groups[key] = [node]
        else:
            group.append(node)
    table = registry()
    no_kernel: dict[Node, str] = {}
    for (domain, op, kinds, _, ins, outs), nodes in groups.items():
        first = nodes[0]
        problem = _check(first, domain, opsets.get(domain), kinds, ins, graph.ir_version >= 2)
        if problem is not None:
            for node in nodes:
                found.setdefault(node, problem)
        elif table is not None and domain in DOMAINS and domain in opsets and op != "Constant":
            # (a Constant becomes an initializer)
            problem = kernel_problem(table, first, schema_for(domain, op, opsets[domain]), opsets[domain], ins, outs)
            if problem is not None:
                no_kernel.update((node, problem) for node in nodes if node not in found)
    for node, problem in kernel_refuses.items():
        if node not in found:
            no_kernel.setdefault(node, problem)
    return found, no_kernel


# ops whose `axis` must name an axis of their first input: [-r, r − 1] (Flatten: [-r, r])
_AXIS_OPS = {"Softmax", "LogSoftmax", "Hardmax", "Gather", "GatherElements", "Concat", "Split", "ArgMax", "ArgMin",
             "LpNormalization", "Flatten", "CumSum"}


def _axis_problem(node: Node, shapes) -> str | None:
    axis = node.attrs.get("axis")
    dims = shapes.dims.get(node.inputs[0]) if node.inputs and node.inputs[0] else None
    if type(axis) is not int or dims is None:
        return None
    rank = len(dims) + (node.op_type == "Flatten")
    if not -rank <= axis < rank:
        return f"axis {axis} is outside [{-rank}, {rank - 1}] for its rank-{len(dims)} input (onnx: \"'axis' must be " \
               f"in [{-rank} , {rank - 1}]\")"
    return None


def _branches_problem(node: Node, graph: Graph) -> str | None:
    from onnxlint.graph import AttributeRef

    refs = [node.attrs.get(b) for b in ("then_branch", "else_branch")]
    if not all(isinstance(r, AttributeRef) for r in refs):
        return None
    branches = [graph.attribute(r) for r in refs]
    counts = [len(b.output) for b in branches]
    if counts[0] != counts[1] or counts[0] != len(node.outputs):
        return f"then_branch and else_branch produce {counts[0]} and {counts[1]} outputs for its {len(node.outputs)}" \
               " (onnx: 'then_branch and else_branch produce different number of outputs')"
    for name, branch in zip(("then_branch", "else_branch"), branches):
        if len(branch.input):  # a branch reads the enclosing graph's tensors, it takes no input
            return f"its {name} declares {len(branch.input)} input(s); a branch takes none (onnxruntime: 'Size " \
                   "mismatch validating subgraph inputs')"
    return None


# 0-or-1 attributes onnxruntime's kernels refuse any other value of, by op
_FLAGS = {"CumSum": ("exclusive", "reverse"), "CumProd": ("exclusive", "reverse")}


def _body_problem(node: Node, graph: Graph, opset: int) -> str | None:
    """A Loop's or Scan's body whose input count is not its node's (onnx: 'Size mismatch validating subgraph
    inputs'): a Loop body reads the iteration, the condition and each loop-carried value, a Scan body (opset 9 on)
    each state and scan input."""
    from onnxlint.graph import AttributeRef

    ref = node.attrs.get("body")
    if not isinstance(ref, AttributeRef) or (node.op_type == "Scan" and opset < 9):
        return None
    got = len(graph.attribute(ref).input)
    if got != len(node.inputs):
        return f"its body takes {got} inputs for the node's {len(node.inputs)} (onnxruntime: 'Size mismatch " \
               "validating subgraph inputs')"
    return None


# string attributes whose value onnxruntime's kernels take from a fixed set (others: 'Invalid 'mode' attribute
# value', 'mode "" not supported'), by op
_MODES = {"Pad": {"mode": {"constant", "reflect", "edge", "wrap"}},
          "GridSample": {"mode": {"bilinear", "nearest", "bicubic", "linear", "cubic"},
                         "padding_mode": {"zeros", "border", "reflection"}},
          "DepthToSpace": {"mode": {"DCR", "CRD"}},
          "RoiAlign": {"mode": {"avg", "max"}},
          "Resize": {"mode": {"nearest", "linear", "cubic"}},
          "LSTM": {"direction": {"forward", "reverse", "bidirectional"}},
          "GRU": {"direction": {"forward", "reverse", "bidirectional"}},
          "RNN": {"direction": {"forward", "reverse", "bidirectional"}}}


def _mode_problem(node: Node) -> str | None:
    for key, allowed in _MODES[node.op_type].items():
        value = attr_text(node, key)
        if isinstance(value, str) and value not in allowed:
            return f"attribute '{key}' is '{value}', not one of {', '.join(sorted(allowed))} (onnxruntime refuses " \
                   "the model when it creates the kernel)"
    return None


def _lrn_problem(node: Node) -> str | None:
    """What onnxruntime's LRN kernel enforces when it is created (size odd and positive, alpha and beta positive)."""
    size, alpha, beta = (node.attrs.get(key, default) for key, default in (("size", 1), ("alpha", 1e-4),
                                                                           ("beta", 0.75)))
    if isinstance(size, int) and (size <= 0 or size % 2 == 0):
        return f"size = {size}; onnxruntime's kernel takes an odd size > 0 (it refuses the model: 'size_ % 2 == 1')"
    for key, value in (("alpha", alpha), ("beta", beta)):
        if isinstance(value, (int, float)) and not value > 0:
            return f"{key} = {value:g}; onnxruntime's kernel takes {key} > 0 (it refuses the model: '{key}_ > 0.0f')"
    return None


def _layout_problem(node: Node) -> str | None:
    if node.attrs.get("layout", 0) != 0:
        return (f"layout = {node.attrs['layout']!r}; onnxruntime's {node.op_type} kernels take layout 0 only (it "
                "refuses the model: 'Batchwise recurrent operations (layout == 1) are not supported')")
    return None


def _sequence_axes_problem(node: Node) -> str | None:
    batch, time = node.attrs.get("batch_axis", 1), node.attrs.get("time_axis", 0)
    if batch == time:
        return f"batch_axis and time_axis are both {batch!r} (onnxruntime refuses the model: 'batch_axis != time_axis')"
    return None


# what onnxruntime's CPU kernels enforce of their attributes when the session creates them, by op (OL007: the
# model may be valid ONNX)
_KERNEL_CHECKS = {"LRN": _lrn_problem, "LSTM": _layout_problem, "GRU": _layout_problem, "RNN": _layout_problem,
                  "ReverseSequence": _sequence_axes_problem}


# attributes that name an element type, by op
_TYPE_ATTRIBUTES = {"Cast": ("to",), "EyeLike": ("dtype",), "RandomNormal": ("dtype",), "RandomUniform": ("dtype",),
                    "RandomNormalLike": ("dtype",), "RandomUniformLike": ("dtype",), "Multinomial": ("dtype",),
                    "Bernoulli": ("dtype",), "DequantizeLinear": ("output_dtype",), "QuantizeLinear": ("output_dtype",)}


def _check(node: Node, domain: str, version: int | None, kinds, dtypes, untyped_refused: bool) -> str | None:
    op = node.op_type
    where = f"the {domain} domain" if domain else "the ONNX domain"
    if version is None:
        return f"{op} is an op of {where}, which the model does not import (no opset_import for '{domain}')"
    schema = schema_for(domain, op, version)
    if schema is None:
        return f"{where} has no op {op} at opset {version} (onnx: 'No Op registered for {op} with domain_version " \
               f"of {version}'; onnxruntime refuses the model)"
    _, deprecated, min_in, max_in, min_out, max_out, formal, attributes, constraints, *_ = schema
    if deprecated:
        return f"{op} is deprecated at opset {version} of {where}: onnxruntime has no kernel for it"
    if kinds is not None:
        names = [name for name, _ in kinds]
        for name, kind in kinds:
            if names.count(name) > 1:
                return f"attribute '{name}' is given {names.count(name)} times (onnx: 'Attribute '{name}' appeared " \
                       "multiple times')"
            if name not in attributes:
                return f"{op} has no attribute '{name}' (onnx: 'Unrecognized attribute: {name} for operator {op}')"
            expected = attributes[name][0]
            if not kind and untyped_refused:
                return f"attribute '{name}' has no type (onnx: 'Field 'type' of 'attr' is required but missing')"
            if kind and _KINDS.get(kind) != expected:
                return f"attribute '{name}' is {_KINDS.get(kind, kind)}, {op} takes {expected} (onnx: 'Mismatched " \
                       f"attribute type in '{node.name} : {name}'')"
        missing = [name for name, (_, required) in attributes.items() if required and name not in names]
        if missing:
            return f"{op} requires attribute '{missing[0]}', which is missing"
    n_in, n_out = len(node.inputs), len(node.outputs)
    if not min_in <= n_in <= max_in:
        return f"{op} takes {_range(min_in, max_in)} inputs, this one has {n_in}"
    if not min_out <= n_out <= max_out:
        return f"{op} has {_range(min_out, max_out)} outputs, this one declares {n_out}"
    bound: dict[str, int] = {}
    for i, name in enumerate(node.inputs):
        option, type_str, homogeneous = formal[min(i, len(formal) - 1)] if formal else (0, "", True)
        if not name:
            if option == 0:  # Single: a required input may not be left empty
                return f"input {i} of {op} is required, and it is empty (onnx: 'Input {i} is marked single but " \
                       "has an empty string in the graph')"
            continue
        elem = dtypes[i]
        allowed = constraints.get(type_str, [type_str])
        if not elem or not any(t.startswith("tensor(") for t in allowed):
            continue
        shown = f"tensor({onnx_type_name(elem)})"
        if shown not in allowed:
            kinds_allowed = ", ".join(t[7:-1] for t in allowed if t.startswith("tensor("))
            return f"input {i} '{name}' of {op} is {dtype_name(elem)}; it takes {kinds_allowed}"
        if type_str in constraints and (option != 2 or homogeneous):
            if bound.setdefault(type_str, elem) != elem:
                return f"input {i} '{name}' of {op} is {dtype_name(elem)} where an earlier input of the same " \
                       f"type {type_str} is {dtype_name(bound[type_str])}"
    return None


def _product(dims) -> int:
    total = 1
    for d in dims:
        total *= d
    return total


def _range(low: int, high: int) -> str:
    return f"{low}" if low == high else f"{low} to {high}" if high < 2**31 - 1 else f"at least {low}"


def unknown_elem_types(graph: Graph, shapes) -> list[str]:
    """Tensors onnxruntime refuses for their type: an element type that does not exist, a graph input or output
    with no type, a declared type that contradicts the one its node computes."""
    bad = [f"tensor '{name}' has element type {t.elem_type}, which does not exist"
           for name, t in graph.declared.items() if t.elem_type and t.elem_type not in ELEM_TYPES]
    untyped = set(graph.untyped)  # (said below, as onnx's checker says it)
    bad += [f"tensor '{name}' is declared a tensor of element type 0, undefined (onnxruntime: 'Invalid tensor data "
            "type 0')" for name, t in graph.declared.items() if t.elem_type == 0 and name not in untyped]
    bad += [f"tensor '{name}' has element type {entry[1]}, which does not exist"
            for name, entry in graph.initializers.items() if entry[1] not in ELEM_TYPES]
    bad += [f"sparse initializer '{name}' of dims {list(dims)} holds 2^63 bytes or more, past int64 (onnxruntime: "
            "'SafeIntExceptionHandler')" for name, dims in graph.sparse_dims.items()
            if _product(dims) * 16 >= 2**63 or any(d < 0 for d in dims)]
    bad += graph.model_problems
    bad += [f"graph input or output '{name}' has no type (onnx: 'Field 'type' of 'value_info' is required but "
            "missing')" for name in graph.untyped]
    for name, declared in graph.declared.items():
        computed = shapes.dtype.get(name, 0)
        producer = graph.producer.get(name)
        if declared.elem_type in ELEM_TYPES and computed in ELEM_TYPES and computed != declared.elem_type \
                and producer is not None and producer not in shapes.invalid:  # one root cause, one finding
            bad.append(f"tensor '{name}' is declared {dtype_name(declared.elem_type)}, and its node computes "
                       f"{dtype_name(computed)} (onnxruntime: 'Type Error: … does not match')")
    return bad


_CONTAINER_OPS = ("Sequence", "Optional", "SplitToSequence", "ConcatFromSequence")


def container_type_problems(model, graph: Graph) -> list[str]:
    """On a graph of sequences or optionals, whose types onnxlint does not follow: the errors of onnx's own check
    (strict inference), which onnxruntime refuses too ('Type Error: Type (seq(tensor(float))) … does not match',
    a SequenceMap body of the wrong arity). A declared shape that differs from the inferred one is left out:
    onnxruntime merges those leniently (OL005 says them)."""
    if not graph.containers and not any(op.startswith(_CONTAINER_OPS) for op in {n.op_type for n in graph.nodes}):
        return []
    from onnxlint.proto import full

    shape_inference = full().shape_inference
    try:
        shape_inference.infer_shapes(model, check_type=True, strict_mode=True)
    except shape_inference.InferenceError as e:
        return [f"{op}{f' node {name!r}' if name else ''}: {why.strip()} (onnx's inference; onnxruntime refuses the "
                "model too)" for op, name, why in _INFERENCE_ERROR.findall(str(e))
                if "existing shape differ" not in why]
    except Exception:  # noqa: BLE001 — a model onnx cannot serialize or check (past 2 GB): no fact
        return []
    return []


_INFERENCE_ERROR = re.compile(r"\(op_type:([^,)]+)(?:, node name: ([^)]*))?\):\s*(?:\[\w+Error\]\s*)?([^\n]*)")


if __name__ == "__main__":  # regenerate the table from the installed onnx
    TABLE.write_text(json.dumps(generate(), separators=(",", ":")) + "\n", encoding="utf-8")
