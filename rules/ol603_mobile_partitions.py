"""A rule over the deployment view (--target nnapi|coreml|qnn-htp|openvino: the partitions of onnxlint.deploy)."""
from onnxlint.diagnostics import Severity
from onnxlint.rule import Option, Rule


class MobilePartitions(Rule):
    """A model that a mobile execution provider would split into many partitions, or whose heavy layers
    stay on the CPU.

    What it checks
        With `--target nnapi` or `--target coreml`, the partitions of the graph onnxruntime would hand
        the accelerator, counted by onnxruntime's own usability checker's algorithm over the ops
        the installed onnxruntime's table lists for that provider (its
        tools/mobile_helpers/*.md), after onnxruntime's basic optimizations; a node stays on the CPU
        when its op is not in the table, its input has a symbolic size, or its rank is too high.

    Why it matters
        Every partition boundary copies tensors between the accelerator and the CPU: beyond a few
        partitions the copies cost more than the accelerator saves, and a heavy layer left on the CPU
        keeps its MACs there.

    Example
        nnapi: 4 partitions; 3 nodes (12.4% of the MACs) stay on the CPU: ai.onnx:LRN is not in the
        provider's table.

    What to do
        Replace the ops named with ones the provider takes, fix symbolic input sizes
        (onnxruntime.tools.make_dynamic_shape_fixed), or deploy on the CPU provider.

    Options
        `max-partitions` (int, default `2`): the most partitions that are not a finding
        (onnxruntime's checker calls more than 2 unsuitable; with `--target qnn-htp|openvino` only this counts,
        its CPU nodes are OL605's; `--target cuda` compiles no partitions, it runs kernels node by node, so
        this rule says nothing there: its CPU nodes are OL605's, its copies the view's crossings);
        `max-cpu-share` (float, default `0.1`):
        the largest share of the MACs left on the CPU that is not a finding.
    """
    code = "OL603"
    name = "mobile-partitions"
    severity = Severity.WARNING
    summary = ("--target of an accelerator: more than {max-partitions} partitions, or over {max-cpu-share:%} of the "
               "MACs on the CPU")
    options = (Option("max-partitions", int, 2, "the most partitions that are not a finding", 1),
               Option("max-cpu-share", float, 0.1, "the largest share of the MACs on the CPU that is not a finding",
                      0.0, 1.0))

    def check_model(self, ctx):
        found = ctx.deployment.mobile if ctx.deployment is not None else None
        if found is None or not found.compiled:
            return
        macs = {layer.node: layer.macs or 0 for layer in ctx.layers}
        total = sum(macs.values())
        on_cpu = sum(macs.get(n, 0) for n in found.cpu)
        share = on_cpu / total if total else 0.0
        if len(found.groups) <= self.opts["max-partitions"] and (share <= self.opts["max-cpu-share"] or found.provider):
            return  # an accelerator's CPU nodes are OL605's, by cause
        reasons: dict[str, int] = {}
        for why in found.cpu.values():
            reasons[why] = reasons.get(why, 0) + 1
        heavy = sorted(found.cpu, key=lambda n: -macs.get(n, 0))[:3]
        heavy_text = ", ".join(f"{n.label} ({n.op_type})" for n in heavy if macs.get(n))
        why = "; ".join(f"{n} × {w}" for w, n in sorted(reasons.items(), key=lambda r: -r[1])[:4])
        yield self.report(
            f"{ctx.deployment.target} (onnxruntime {ctx.deployment.runtime}'s {found.table}): {len(found.groups)} "
            f"partition{'s' if len(found.groups) != 1 else ''}; {len(found.cpu)} of {found.nodes} nodes "
            f"({100 * share:.1f}% of the MACs) stay on the CPU"
            f"{f', the heaviest {heavy_text}' if heavy_text else ''}: {why}",
            suggestion="replace the ops named by ones the provider takes, fix symbolic input sizes "
                       "(python -m onnxruntime.tools.make_dynamic_shape_fixed), or deploy on the CPU provider")
