"""``Functional``: a model made of a graph of layer calls, ``Model(inputs, outputs)``."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import torch
from torch import nn

from ..layers._input import InputLayer
from ..layers._keras_tensor import KerasTensor, flatten, pack_as
from ..layers._layer import unique_name
from . import _data, _graph
from ._functional_config import functional_config, functional_from_config
from ._graph import layer_name as _layer_name
from ._graph import node_offset
from ._model import Model, _functional_class
from ._summary import print_summary


def _unwrap_single(structure: Any) -> Any:
    # Keras 2: a model made with a list of one tensor behaves as made with the tensor.
    if isinstance(structure, (list, tuple)) and len(structure) == 1:
        return structure[0]
    return structure


class Functional(Model):
    """A model defined by calling layers on ``Input``s: ``Model(inputs, outputs)``.

    Runs its layer graph as tf-keras 2.x does: each layer call in the order the data needs,
    a layer called several times sharing its weights, nested models as layers, Keras 2's
    masks flowing from layer to layer (``compute_mask``, and merge layers' rules).

    Args:
        inputs: an ``Input`` tensor, or a list or dict of them.
        outputs: a tensor computed from them, or a list or dict of such tensors.
        name: the model's name (``"model"``, ``"model_1"``... by default).
        trainable: whether the weights are trained.
        keras3_masks: run the graph with Keras 3's mask rules (set for models read from
            Keras 3 files, whose calls pass most masks explicitly).

    Call arguments:
        inputs: a tensor, or a list (in ``model.inputs`` order) or dict (by input name).
        training: ``None`` follows ``module.train()``/``eval()``.
        mask: optional masks of the inputs, in the same structure.

    Returns:
        The outputs in the structure of ``outputs``; each carries its Keras mask as
        ``tensor._keras_mask`` when it has one.

    Example:
        >>> from birnn.layers import LSTM, Bidirectional, Dense, Embedding, Input
        >>> ids = Input(shape=(None,), dtype="int32", name="ids")
        >>> x = Embedding(100, 8, mask_zero=True)(ids)
        >>> x = Bidirectional(LSTM(4))(x)
        >>> model = Model(ids, Dense(1, activation="sigmoid")(x))
        >>> model(torch.tensor([[3, 5, 0]])).shape
        torch.Size([1, 1])
    """

    def __init__(
        self,
        inputs: Any,
        outputs: Any,
        name: str | None = None,
        trainable: bool = True,
        keras3_masks: bool = False,
    ):
        super().__init__(name=name or _model_name())
        inputs, outputs = _unwrap_single(inputs), _unwrap_single(outputs)
        for label, structure in (("inputs", inputs), ("outputs", outputs)):
            bad = [leaf for leaf in flatten(structure) if not isinstance(leaf, KerasTensor)]
            if bad or not flatten(structure):
                raise ValueError(
                    f"Model: {label} must be KerasTensors from Input(...) and layer calls "
                    f"(or lists or dicts of them). Received: {structure!r:.200}."
                )
        for tensor in flatten(inputs):
            if not isinstance(tensor.node.layer, InputLayer):
                raise ValueError(
                    "Model: inputs must come from Input(...). Received: "
                    f"{tensor!r}, an output of layer '{tensor.node.layer.name}'."
                )
        self._nested_inputs = inputs
        self._nested_outputs = outputs
        self.inputs = flatten(inputs)
        self.outputs = flatten(outputs)
        # Keras 3 files pass most masks as call arguments (computed by mask op nodes) and
        # merge masks by Keras 3's rules.
        self._keras3_masks = bool(keras3_masks)
        graph = _graph.map_graph(self.inputs, self.outputs)
        self._graph = graph
        self._layers = nn.ModuleList(graph.layers)
        self._input_layers = [t.node.layer for t in self.inputs]
        slots = {id(t): index for index, t in enumerate(self.inputs)}
        self._plan = _graph.compile_plan(graph.nodes, slots, lambda m: isinstance(m, Model))
        self._slot_count = len(slots)
        self._output_slots = [slots[id(t)] for t in self.outputs]
        self.built = all(getattr(layer, "built", True) for layer in graph.layers)
        if not trainable:
            self.trainable = False

    # -- structure --------------------------------------------------------------------------

    @property
    def layers(self) -> list[nn.Module]:
        """The model's layers, input layers included, in Keras 2's order."""
        return list(self._layers)

    @property
    def input_names(self) -> list[str]:
        return [layer.name for layer in self._input_layers]

    @property
    def output_names(self) -> list[str]:
        """The names of the layers that make the outputs (keys for per-output losses)."""
        if isinstance(self._nested_outputs, dict):
            return list(self._nested_outputs)
        names: list[str] = []
        for tensor in self.outputs:
            name = _layer_name(tensor.node.layer)
            names.append(name if name not in names else f"{name}_{names.count(name)}")
        return names

    @property
    def input_shape(self) -> Any:
        shapes = [t.shape for t in self.inputs]
        return shapes[0] if len(shapes) == 1 else shapes

    @property
    def output_shape(self) -> Any:
        shapes = [t.shape for t in self.outputs]
        return shapes[0] if len(shapes) == 1 else shapes

    def get_layer(self, name: str | None = None, index: int | None = None) -> nn.Module:
        """Returns a layer by name or by index (in ``model.layers``).

        Raises:
            ValueError: if no layer has that name or index.
        """
        layers = self.layers
        if index is not None:
            if not -len(layers) <= index < len(layers):
                raise ValueError(
                    f"get_layer: index must be in [0, {len(layers)}). Received: {index}."
                )
            return layers[index]
        for layer in layers:
            if _layer_name(layer) == name:
                return layer
        names = [_layer_name(layer) for layer in layers]
        raise ValueError(f"get_layer: no layer named {name!r}. Expected one of {names}.")

    # -- calling ----------------------------------------------------------------------------

    def _flat_inputs(self, inputs: Any) -> list:
        names = self.input_names
        if isinstance(inputs, dict):
            missing = [name for name in names if name not in inputs]
            if missing:
                raise ValueError(
                    f"Model '{self.name}': inputs as a dict must have the keys {names}. "
                    f"Received: keys {sorted(inputs)}."
                )
            return [inputs[name] for name in names]
        if len(names) == 1:
            if isinstance(inputs, (list, tuple)) and len(inputs) == 1:
                return [inputs[0]]
            return [inputs]
        if not isinstance(inputs, (list, tuple)) or len(inputs) != len(names):
            count = len(inputs) if isinstance(inputs, (list, tuple)) else "one"
            raise ValueError(
                f"Model '{self.name}' expects {len(names)} inputs {names}, as a list in "
                f"this order or a dict by name. Received: {count} input(s)."
            )
        return list(inputs)

    def forward(self, inputs: Any, training: bool | None = None, mask: Any = None) -> Any:
        flat = self._flat_inputs(inputs)
        values: list = [None] * self._slot_count
        for index, (layer, value) in enumerate(zip(self._input_layers, flat)):
            values[index] = layer(value)
        masks: list = [None] * self._slot_count
        if mask is not None:
            for index, value in enumerate(self._flat_inputs(mask)):
                masks[index] = value
        _graph.run_plan(self._plan, values, masks, training, self._keras3_masks)
        outputs = [values[slot] for slot in self._output_slots]
        for slot, value in zip(self._output_slots, outputs):
            if masks[slot] is not None and torch.is_tensor(value):
                value._keras_mask = masks[slot]
        return pack_as(self._nested_outputs, outputs)

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        """The outputs' masks: runs the graph, as Keras 2's Functional does."""
        outputs = self(inputs, mask=mask)
        masks = [getattr(t, "_keras_mask", None) for t in flatten(outputs)]
        return pack_as(self._nested_outputs, masks)

    def compute_output_shape(self, input_shape: Any) -> Any:
        return pack_as(self._nested_outputs, [t.shape for t in self.outputs])

    # -- training ---------------------------------------------------------------------------

    def _output_names(self) -> list[str]:
        return self.output_names

    def _as_inputs(self, x: Any, name: str) -> Any:
        dtype = self._input_float_dtype()
        if isinstance(x, dict):
            return {
                key: _data.as_tensor(value, f"{name}[{key!r}]", dtype) for key, value in x.items()
            }
        if isinstance(x, (list, tuple)) and len(self.inputs) > 1:
            return [_data.as_tensor(value, f"{name}[{i}]", dtype) for i, value in enumerate(x)]
        return _data.as_tensor(x, name, dtype)

    def _as_targets(self, y: Any, name: str) -> list[torch.Tensor]:
        names = self.output_names
        dtype = self._input_float_dtype()
        if isinstance(y, dict):
            missing = [key for key in y if key not in names]
            if missing:
                raise ValueError(
                    f"{name} as a dict must be keyed by output names {names}. Received: "
                    f"keys {sorted(y)}."
                )
            # An output without targets needs no loss (Keras: loss dict without it).
            return [
                _data.as_tensor(y[key], f"{name}[{key!r}]", dtype) if key in y else None
                for key in names
            ]
        if len(names) == 1:
            if isinstance(y, (list, tuple)) and len(y) == 1 and not np.isscalar(y[0]):
                y = y[0]
            return [_data.as_tensor(y, name, dtype)]
        if not isinstance(y, (list, tuple)) or len(y) != len(names):
            raise ValueError(
                f"{name} must hold one array per output {names}, as a list in this order or a "
                f"dict by name. Received: {type(y).__name__}."
            )
        return [_data.as_tensor(value, f"{name}[{i}]", dtype) for i, value in enumerate(y)]

    def _output_list(self, y_pred: Any) -> list[torch.Tensor]:
        if isinstance(y_pred, dict):
            return [y_pred[name] for name in self.output_names]
        return flatten(y_pred)

    # -- summary ----------------------------------------------------------------------------

    def _relevant_nodes(self) -> set[int]:
        return {id(node) for node in self._graph.node_depths}

    def _sequential_like(self) -> bool:
        by_depth: dict[int, list] = {}
        for node, depth in self._graph.node_depths.items():
            by_depth.setdefault(depth, []).append(node)
        if any(len(nodes) > 1 or len(nodes[0].inputs) > 1 for nodes in by_depth.values()):
            return False
        relevant = self._relevant_nodes()
        for layer in self.layers:
            if sum(id(node) in relevant for node in _nodes(layer)) > 1:
                return False
        return True

    def _output_shape_of(self, layer: nn.Module) -> Any:
        relevant = self._relevant_nodes()
        shapes = []
        for node in _nodes(layer):
            if id(node) in relevant:
                structure = [0] if isinstance(layer, InputLayer) else node.output_structure
                shapes.append(pack_as(structure, [t.shape for t in node.outputs]))
        if not shapes or any(shape != shapes[0] for shape in shapes):
            return "multiple"
        return shapes[0]

    def _connections(self, layer: nn.Module) -> list[str]:
        relevant = self._relevant_nodes()
        connections = []
        for node in _nodes(layer):
            if id(node) not in relevant:
                continue
            for tensor in node.inputs:
                inbound = tensor.node.layer
                index = tensor.node.index + node_offset(inbound)
                connections.append(f"{_layer_name(inbound)}[{index}][{tensor.tensor_index}]")
        return connections

    def summary(
        self,
        line_length: int | None = None,
        positions: list[float] | None = None,
        print_fn: Any = None,
    ) -> None:
        """Prints Keras 2's summary: each layer's output shape, parameter count and, unless
        the graph is a plain chain, the layer outputs it is connected to."""
        rows = []
        sequential_like = self._sequential_like()
        for layer in self.layers:
            count = sum(w.numel() for w in self._layer_weights(layer))
            row = [f"{_layer_name(layer)} ({type(layer).__name__})", self._output_shape_of(layer)]
            row.append(count)
            if not sequential_like:
                row.append(self._connections(layer))
            rows.append(tuple(row))
        print_summary(self, rows, line_length, positions, print_fn)

    # -- config -----------------------------------------------------------------------------

    def get_config(self) -> dict[str, Any]:
        """The config tf-keras 2.x writes: ``layers`` with their ``inbound_nodes``, and
        ``input_layers``/``output_layers`` (Keras 3's node format for models loaded from
        Keras 3 files, whose masks travel as call arguments)."""
        return copy.deepcopy(functional_config(self))

    @classmethod
    def from_config(cls, config: dict[str, Any], custom_objects: dict | None = None) -> Functional:
        """Creates a model from ``get_config()``'s output or a Keras 2/3 Functional config.

        Raises:
            ValueError: for a malformed config, or unsupported layers (all named at once).
        """
        return functional_from_config(cls, config, custom_objects)

    def extra_repr(self) -> str:
        return f"name={self.name!r}"


def _nodes(layer: nn.Module) -> list:
    return layer.__dict__.get("_inbound_nodes", [])


def _model_name() -> str:
    return unique_name("model")


_functional_class.append(Functional)
