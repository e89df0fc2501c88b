"""The Rewriter a rule's fix works through: every edit of the model's copy goes through its methods, which keep
the producer/consumer maps current (no rewrite scans the graph), and it records what was changed or left out
(onnxlint/fix.py drives it). A fix receives the match its rule's check made (layers of the analysis) and asks
the Rewriter for their nodes in the copy."""
from __future__ import annotations

import numpy as np
import onnx
from onnx import helper, numpy_helper

from onnxlint.graph import DESIGNED, MAIN
from onnxlint.shapes.inputs import spatial_axes
from onnxlint.walk import outer_names
from onnxlint.weights import values


class Rewriter:
    """The copy of the model being rewritten, the analysis it was linted with (`ctx`), and what was changed or
    left out. Nodes are added next to an existing node (`replace`, `insert_after`) and placed when `prune`
    writes the node list: positions are never searched."""

    def __init__(self, model: onnx.ModelProto, ctx) -> None:
        self.model, self.ctx, self.changes, self.skipped = model, ctx, [], []
        self.graph = model.graph
        # protobuf (upb) hands out one wrapper per live message: held here, a node's id names it for the rewrite
        self.held = nodes = self.graph.node[:]
        # the analysis' main-graph nodes, by name: the copy's node sits at the same file position
        self.nodes = {n.name: nodes[n.index] for n in ctx.graph.nodes if n.location == MAIN and n.function is None}
        self.inits = {t.name: t for t in self.graph.initializer}
        self.outputs = {o.name for o in self.graph.output}
        self.inputs = {i.name for i in self.graph.input}
        self.producers = {o: n for n in nodes for o in n.output if o}
        self.users: dict[str, list] = {}
        for n in nodes:
            for name in n.input:
                self.users.setdefault(name, []).append(n)
        self.removed: set[int] = set()  # nodes to drop, by identity
        self.after: dict[int, list] = {}  # id(anchor) → the nodes placed right after it, in order
        self.first: list = []  # nodes placed before every other (constants)
        self.stale: set[str] = set()  # tensors whose declared shape the rewrites made wrong
        self.maps: list[str] = []  # score maps made graph outputs: checked at a larger input (score_map)
        self.spatial: dict[str, tuple[int, ...]] = {}  # input → the height and width axes score_map freed

    # -- reading --------------------------------------------------------------------------------
    def changed(self, what: str) -> None:
        self.changes.append(what)

    def skip(self, what: str) -> None:
        self.skipped.append(what)

    def node(self, layer) -> onnx.NodeProto:
        """The copy's node of an analysed layer of the main graph (not one inlined from a function)."""
        return self.nodes[layer.name]

    def producer(self, name: str) -> onnx.NodeProto | None:
        node = self.producers.get(name)
        return None if node is None or id(node) in self.removed else node

    def consumers(self, tensor: str) -> list[onnx.NodeProto]:
        return [n for n in self.users.get(tensor, ()) if id(n) not in self.removed and tensor in n.input]

    def is_output(self, tensor: str) -> bool:
        return tensor in self.outputs

    def value(self, name: str) -> np.ndarray:
        """The value of a constant tensor: initializer, Constant or ConstantOfShape of a constant."""
        if name in self.inits:
            found = values(self.inits[name], None, self.ctx.loaded.base_dir)
            if found is None:
                raise ValueError(f"'{name}' holds no data (dims only): it cannot be rewritten")
            return found
        producer = self.producer(name)
        if producer is None:
            raise ValueError(f"'{name}' is a model input, not a constant: it cannot be rewritten")
        if producer.op_type == "Constant":
            return values(producer.attribute[0].t)
        if producer.op_type == "ConstantOfShape":
            fill = next((values(a.t) for a in producer.attribute if a.name == "value"),
                        np.zeros(1, np.float32))
            return np.full(self.value(producer.input[0]).astype(np.int64), fill.reshape(-1)[0], fill.dtype)
        raise ValueError(f"'{name}' is not a constant")

    def fill(self, name: str) -> tuple[np.ndarray, list[int]] | None:
        """(the fill value, dims) when `name` is a ConstantOfShape placeholder weight (as in the onnx package's
        light models): rewritten weights then stay placeholders instead of megabytes of real data."""
        producer = self.producer(name)
        if producer is None or producer.op_type != "ConstantOfShape":
            return None
        value = next((values(a.t) for a in producer.attribute if a.name == "value"),
                     np.zeros(1, np.float32))
        return value.reshape(-1)[:1], [int(d) for d in self.value(producer.input[0])]

    def dtype(self, name: str) -> np.dtype:
        return helper.tensor_dtype_to_np_dtype(self.inits[name].data_type)

    # -- editing --------------------------------------------------------------------------------
    def replace(self, old: onnx.NodeProto, new: onnx.NodeProto) -> onnx.NodeProto:
        """`new` in the place of `old`, which is removed."""
        self.insert_after(old, new)
        self.remove(old)
        return new

    def insert_after(self, anchor: onnx.NodeProto, new: onnx.NodeProto) -> onnx.NodeProto:
        self.after.setdefault(id(anchor), []).append(new)
        return self._enter(new)

    def remove(self, node: onnx.NodeProto) -> None:
        self.removed.add(id(node))

    def set_input(self, node: onnx.NodeProto, index: int, tensor: str) -> None:
        """Make input `index` of `node` read `tensor` (one past the last: append it)."""
        if index == len(node.input):
            node.input.append(tensor)
        else:
            node.input[index] = tensor
        self.users.setdefault(tensor, []).append(node)

    def rename_input(self, old: str, new: str) -> None:
        """Every reader of `old` reads `new` instead."""
        for node in self.consumers(old):
            for i, name in enumerate(node.input):
                if name == old:
                    node.input[i] = new
            self.users.setdefault(new, []).append(node)

    def rename_output(self, node: onnx.NodeProto, old: str, new: str) -> None:
        node.output[list(node.output).index(old)] = new
        self.producers[new] = node

    def add_initializer(self, array: np.ndarray, name: str) -> str:
        tensor = numpy_helper.from_array(array, name)
        self.graph.initializer.append(tensor)
        self.inits[name] = tensor
        if self.model.ir_version < 4:  # before IR 4 every initializer is also a graph input
            self.graph.input.append(helper.make_tensor_value_info(name, tensor.data_type, array.shape))
        return name

    def reshaped(self, name: str, dims: list[int], new_name: str) -> str:
        """An initializer holding `name`'s elements in `dims`: `name` itself, re-dimensioned in place, when the
        node being rewritten is its only reader (no copy of the weights), else a copy named `new_name`."""
        tensor = self.inits.get(name)
        if tensor is None:  # a Constant node's value
            return self.add_initializer(self.value(name).reshape(dims), new_name)
        if len(self.consumers(name)) == 1 and name not in self.inputs:
            del tensor.dims[:]
            tensor.dims.extend(dims)
            return name
        copy = self.graph.initializer.add()
        copy.CopyFrom(tensor)
        copy.name = new_name
        del copy.dims[:]
        copy.dims.extend(dims)
        self.inits[new_name] = copy
        return new_name

    def add_fill(self, fill: np.ndarray, dims: list[int], name: str) -> str:
        """A ConstantOfShape placeholder `name` of `dims`, filled with `fill`."""
        shape = self.add_initializer(np.array(dims, dtype=np.int64), f"{name}_shape")
        self.first.append(self._enter(helper.make_node("ConstantOfShape", [shape], [name], name=f"{name}_fill",
                                                       value=numpy_helper.from_array(fill.reshape(1)))))
        return name

    def forget_shape(self, tensor: str) -> None:
        self.stale.add(tensor)

    def score_map(self, name: str, flattened: str) -> None:
        """Make `name`, an N×K×h×w score map, a graph output, and the inputs' height and width free: a larger
        input then runs and gives a larger map. `flattened`, the original output it feeds, keeps its name and,
        at the designed size, its value; its declared feature count is freed too."""
        if name in self.maps:
            return
        self.maps.append(name)
        n, k = (self.ctx.shapes.dims.get(flattened) or (None, None))[:2]
        self.graph.output.append(helper.make_tensor_value_info(name, self.ctx.shapes.dtype.get(flattened, 1),
                                                               [n, k, "map_height", "map_width"]))
        self.outputs.add(name)
        for value in self.graph.output:
            if value.name == flattened and value.type.tensor_type.HasField("shape"):
                for dim in value.type.tensor_type.shape.dim[1:]:
                    dim.dim_param = "features"
        designed = []
        for value in self.graph.input:
            dims = value.type.tensor_type.shape.dim
            if value.name not in self.inits and len(dims) == 4:
                height, width = self.spatial[value.name] = spatial_axes(self.ctx.graph, value.name, 4)
                dims[height].dim_param, dims[width].dim_param = "height", "width"
                size = self.ctx.shapes.input_dims.get(value.name)
                if size is not None and None not in size:
                    designed.append(f"{value.name}={','.join(map(str, size))}")
        # lint takes these sizes for the freed dims, so the fixed model lints as it did (graph.designed_sizes)
        kept = [e for e in self.model.metadata_props if e.key != DESIGNED]
        del self.model.metadata_props[:]
        self.model.metadata_props.extend(kept)
        if designed:
            self.model.metadata_props.add(key=DESIGNED, value=";".join(designed))

    def _enter(self, node: onnx.NodeProto) -> onnx.NodeProto:
        for name in node.output:
            self.producers[name] = node
        for name in node.input:
            self.users.setdefault(name, []).append(node)
        return node

    # -- cleanup --------------------------------------------------------------------------------
    def prune(self) -> None:
        """Write the node list — the added nodes in their places, the removed ones gone — then drop the nodes
        (ONNX ops have no side effects) and initializers that nothing reads any more, and the declarations the
        rewrites made stale: one backward walk from the outputs."""
        placed: list = []

        def place(node) -> None:
            if id(node) not in self.removed:
                placed.append(node)
            for later in self.after.get(id(node), ()):
                place(later)

        for node in [*self.first, *self.graph.node]:
            place(node)
        alive, stack = set(), [o.name for o in self.graph.output]
        while stack:
            node = self.producer(stack.pop())
            if node is not None and id(node) not in alive:
                alive.add(id(node))
                stack.extend(node.input)
                stack.extend(outer_names(node))
        kept = [n for n in placed if id(n) in alive]
        used = {o.name for o in self.graph.output} | {i for n in kept for i in n.input}
        used |= {i for n in kept for i in outer_names(n)}
        nodes = [type(n)() for n in kept]  # node protos are small; weights are never copied
        for copy, node in zip(nodes, kept):
            copy.CopyFrom(node)
        self.graph.ClearField("node")
        self.graph.node.extend(nodes)
        for items, drop in ((self.graph.initializer, lambda t: t.name not in used),
                            (self.graph.input, lambda v: v.name not in used and v.name in self.inits),
                            (self.graph.value_info, lambda v: v.name in self.stale)):
            for index in reversed([i for i, item in enumerate(items) if drop(item)]):
                del items[index]
