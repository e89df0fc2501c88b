"""`--format json`: the reports as one JSON document (schema_version 1, report.py); `--format jsonl`: one
report per line, the same envelope around one model, so each line stands alone and can be written the moment its
model is done. The document is made as a stream of pieces (`chunks`): each layer's record is made, written and
dropped in turn, so a 200,000-node model never holds every record, nor the whole text, at once."""
import gc
import json
import secrets
from collections.abc import Iterator

from onnxlint.report import Report, envelope, layer_dict


def chunks(reports: list[Report], *, statistics: bool = False) -> Iterator[str]:
    """The document `render` returns, piece by piece: the envelope with each model's layers and findings left out,
    and those written one record at a time into their place (indented as json.dumps(indent=2) would)."""
    hole = f"onnxlint-records-{secrets.token_hex(16)}-"  # where a model's records go: no model can write this
    arrays = []  # (the records, how each becomes a dict)
    data = envelope(reports, with_records=False)
    for report, model in zip(reports, data["models"]):
        if report.error is not None:
            continue
        bounded = report.totals.bounds.dims if report.totals.bounds is not None else {}
        for key, records, as_dict in (("layers", report.layers, lambda layer, b=bounded: layer_dict(layer, b)),
                                      ("diagnostics", report.diagnostics, lambda d: d.to_dict())):
            model[key] = f"{hole}{len(arrays)}"
            arrays.append((records, as_dict))
    if statistics:  # findings per rule over every model, as --statistics prints them in text
        counts: dict[str, int] = {}
        for r in reports:
            for d in r.diagnostics:
                counts[d.code] = counts.get(d.code, 0) + 1
        data["statistics"] = dict(sorted(counts.items()))
    text = json.dumps(data, indent=2, ensure_ascii=False)
    for index, (records, as_dict) in enumerate(arrays):
        before, text = text.split(json.dumps(f"{hole}{index}"), 1)
        yield before
        yield from _array(records, as_dict)
    yield text + "\n"


def _array(records, as_dict) -> Iterator[str]:
    """A model's array of records, at the depth json.dumps(indent=2) puts it (models[i].key: 8 spaces)."""
    if not records:
        yield "[]"
        return
    # json.dumps with an indent encodes through closures that refer to each other: a cycle per call, which only
    # the garbage collector frees (the command runs with it paused), so it runs here, a generation at a time
    paused = not gc.isenabled()
    gc.enable()
    try:
        yield "["
        for i, record in enumerate(records):
            text = json.dumps(as_dict(record), indent=2, ensure_ascii=False).replace("\n", "\n        ")
            yield f"{',' if i else ''}\n        {text}"
        yield "\n      ]"
    finally:
        if paused:
            gc.disable()


def render(reports: list[Report], *, statistics: bool = False, **_options) -> str:
    return "".join(chunks(reports, statistics=statistics))


def line(report: Report) -> str:
    """One model's report as one line of JSON (its envelope included)."""
    return json.dumps(envelope([report]), ensure_ascii=False, separators=(",", ":")) + "\n"


def render_lines(reports: list[Report], **_options) -> str:
    return "".join(line(r) for r in reports)
