"""The Rewriter a rule's fix works through: the model's copy, its producer/consumer maps kept current by
every rewrite, and the record of what was changed or left out (onnxlint/fix.py drives it)."""
from __future__ import annotations

import numpy as np
import onnx
from onnx import helper, numpy_helper

from onnxlint.graph import MAIN
from onnxlint.write import with_data


class Rewriter:
    """What a rule's fix works with: the copy of the model, its producer/consumer maps kept current by every
    rewrite, the analysis it was linted with (`ctx`), and the record of what was changed or left out."""
    def __init__(self, model: onnx.ModelProto, ctx) -> None:
        self.model, self.ctx, self.changes, self.skipped = model, ctx, [], []
        self.graph = model.graph
        # the engine's nodes are views of the original: the copy's node sits at the same file position
        self.layers = {layer.name: layer for layer in ctx.layers if layer.location == MAIN and layer.function is None}
        self.nodes = {n.name: self.graph.node[n.index] for n in ctx.graph.nodes
                      if n.location == MAIN and n.function is None}
        self.inits = {t.name: t for t in self.graph.initializer}
        # producer/consumer maps of the copy, kept current by every rewrite: no rewrite scans the graph
        self.producers = {o: n for n in self.graph.node for o in n.output if o}
        self.users: dict[str, list] = {}
        for n in self.graph.node:
            for name in n.input:
                self.users.setdefault(name, []).append(n)
        # nodes to drop, by identity: protobuf (upb) hands out one wrapper per live message, and the maps above
        # keep every wrapper alive
        self.removed: set[int] = set()
        self.stale: set[str] = set()  # tensors whose declared shape the rewrites made wrong
        self.maps: list[str] = []  # score maps made graph outputs: checked at a larger input (score_map)

    # -- helpers --------------------------------------------------------------------------------
    def changed(self, what: str) -> None:
        self.changes.append(what)

    def skip(self, what: str) -> None:
        self.skipped.append(what)

    def layer(self, name: str):
        """The analysis' Layer of a main-graph node (not one inlined from a function)."""
        return self.layers[name]

    def producer(self, name: str) -> onnx.NodeProto | None:
        node = self.producers.get(name)
        return None if node is None or id(node) in self.removed else node

    def value(self, name: str) -> np.ndarray:
        """The value of a constant tensor: initializer, Constant or ConstantOfShape of a constant."""
        if name in self.inits:
            return numpy_helper.to_array(with_data(self.inits[name], self.ctx.loaded.base_dir))
        producer = self.producer(name)
        if producer is None:
            raise ValueError(f"'{name}' is a model input, not a constant: it cannot be rewritten")
        if producer.op_type == "Constant":
            return numpy_helper.to_array(producer.attribute[0].t)
        if producer.op_type == "ConstantOfShape":
            fill = next((numpy_helper.to_array(a.t) for a in producer.attribute if a.name == "value"),
                        np.zeros(1, np.float32))
            return np.full(self.value(producer.input[0]).astype(np.int64), fill.reshape(-1)[0], fill.dtype)
        raise ValueError(f"'{name}' is not a constant")

    def fill(self, name: str) -> tuple[np.ndarray, list[int]] | None:
        """(the fill value, dims) when `name` is a ConstantOfShape placeholder weight (as in the onnx package's
        light models): rewritten weights then stay placeholders instead of megabytes of real data."""
        producer = self.producer(name)
        if producer is None or producer.op_type != "ConstantOfShape":
            return None
        value = next((numpy_helper.to_array(a.t) for a in producer.attribute if a.name == "value"),
                     np.zeros(1, np.float32))
        return value.reshape(-1)[:1], [int(d) for d in self.value(producer.input[0])]

    def add_node(self, node: onnx.NodeProto, position: int) -> onnx.NodeProto:
        self.graph.node.insert(position, node)
        added = self.graph.node[position]
        for name in added.output:
            self.producers[name] = added
        for name in added.input:
            self.users.setdefault(name, []).append(added)
        return added

    def reshaped(self, name: str, dims: list[int], new_name: str) -> str:
        """An initializer holding `name`'s elements in `dims`: `name` itself, re-dimensioned in place, when the
        node being rewritten is its only reader (no copy of the weights), else a copy named `new_name`."""
        tensor = self.inits.get(name)
        if tensor is None:  # a Constant node's value
            return self.add_initializer(self.value(name).reshape(dims), new_name)
        if len(self.consumers(name)) == 1 and name not in {i.name for i in self.graph.input}:
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

    def dtype(self, name: str) -> np.dtype:
        return helper.tensor_dtype_to_np_dtype(self.inits[name].data_type)

    def add_fill(self, fill: np.ndarray, dims: list[int], name: str) -> str:
        shape = self.add_initializer(np.array(dims, dtype=np.int64), f"{name}_shape")
        self.add_node(helper.make_node("ConstantOfShape", [shape], [name], name=f"{name}_fill",
                                       value=numpy_helper.from_array(fill.reshape(1))), 0)
        return name

    def add_initializer(self, array: np.ndarray, name: str) -> str:
        tensor = numpy_helper.from_array(array, name)
        self.graph.initializer.append(tensor)
        self.inits[name] = tensor
        if self.model.ir_version < 4:  # before IR 4 every initializer is also a graph input
            self.graph.input.append(helper.make_tensor_value_info(name, tensor.data_type, array.shape))
        return name

    def consumers(self, tensor: str) -> list[onnx.NodeProto]:
        return [n for n in self.users.get(tensor, ()) if id(n) not in self.removed and tensor in n.input]

    def rename_input(self, old: str, new: str) -> None:
        for node in self.consumers(old):
            for i, name in enumerate(node.input):
                if name == old:
                    node.input[i] = new
            self.users.setdefault(new, []).append(node)

    def rename_output(self, node: onnx.NodeProto, old: str, new: str) -> None:
        node.output[list(node.output).index(old)] = new
        self.producers[new] = node

    def remove(self, node: onnx.NodeProto) -> None:
        self.removed.add(id(node))

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
        for value in self.graph.output:
            if value.name == flattened and value.type.tensor_type.HasField("shape"):
                for dim in value.type.tensor_type.shape.dim[1:]:
                    dim.dim_param = "features"
        stored = {t.name for t in self.graph.initializer}
        for value in self.graph.input:
            dims = value.type.tensor_type.shape.dim
            if value.name not in stored and len(dims) == 4:
                dims[2].dim_param, dims[3].dim_param = "height", "width"

    def forget_shape(self, tensor: str) -> None:
        self.stale.add(tensor)

    def position(self, node: onnx.NodeProto) -> int:
        return next(i for i, n in enumerate(self.graph.node) if n is node)

    # -- cleanup --------------------------------------------------------------------------------
    def prune(self) -> None:
        """Apply the removals, then drop the nodes (ONNX ops have no side effects) and initializers that nothing
        reads any more, and the declarations the rewrites made stale: one backward walk from the outputs."""
        from onnxlint.graph import _outer_names, subgraphs

        alive, stack = set(), [o.name for o in self.graph.output]
        while stack:
            node = self.producer(stack.pop())
            if node is not None and id(node) not in alive:
                alive.add(id(node))
                stack.extend(node.input)
                stack.extend(_outer_names(subgraphs(node)) if node.attribute else ())
        kept = [n for n in self.graph.node if id(n) in alive]
        used = {o.name for o in self.graph.output} | {i for n in kept for i in n.input}
        used |= {i for n in kept if n.attribute for i in _outer_names(subgraphs(n))}
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
