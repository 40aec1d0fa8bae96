"""Functional model configs: writing tf-keras 2.x's and reading tf-keras 2.x's and Keras 3's.

Two node formats exist for one layer call:

- tf-keras 2.x: ``[[layer_name, node_index, tensor_index, kwargs], ...]``, one entry per
  tensor of the first argument; tensors in ``kwargs`` are ``[layer_name, node_index,
  tensor_index]``; an RNN's ``initial_state`` tensors follow its input in the list. A
  nested model built on an ``InputLayer`` numbers its calls from 1.
- Keras 3: ``{"args": [...], "kwargs": {...}}`` with each tensor a ``__keras_tensor__``
  dict whose ``keras_history`` is ``[layer_name, node_index, tensor_index]``; only
  ``input_layers``/``output_layers`` number a nested Functional model's calls from 1.
  Most masks are explicit: ``mask=`` arguments computed by operation nodes
  (``keras.src.ops.numpy``); a model read from this format merges masks by Keras 3's rules.
"""

from __future__ import annotations

import inspect
from typing import Any

from torch import nn

from ..layers._input import InputLayer, input_tensor_of
from ..layers._keras_tensor import KerasTensor, flatten, map_structure, symbolic_call
from ..layers._serialization import deserialize, serialize
from ._graph import layer_name, node_offset
from ._keras3_ops import MODULE as OPS_MODULE
from ._keras3_ops import OPERATIONS, Operation
from ._sequential import Sequential

_MODEL_CLASSES = ("Functional", "Model")


# -- writing ------------------------------------------------------------------------------


def _serialize_layer(layer: nn.Module) -> dict[str, Any]:
    if isinstance(layer, Operation):
        return {
            "module": OPS_MODULE,
            "class_name": type(layer).__name__,
            "config": layer.get_config(),
            "registered_name": None,
        }
    entry = serialize(layer)
    if getattr(layer, "_nested_inputs", None) is not None:
        entry["class_name"] = "Functional"
    return entry


def functional_config(model: Any) -> dict[str, Any]:
    """``model``'s config in tf-keras 2.x's format (Keras 3's node format when the model
    came from a Keras 3 file)."""
    relevant = {id(node) for node in model._graph.node_depths}
    numbering: dict[int, int] = {}
    for layer in model.layers:
        kept = node_offset(layer)
        for node in layer.__dict__.get("_inbound_nodes", []):
            if id(node) in relevant:
                numbering[id(node)] = kept
                kept += 1
    keras3 = model._keras3_masks

    def reference(tensor: KerasTensor, outer: bool = True) -> list:
        index = numbering[id(tensor.node)]
        if keras3 and not outer:
            index -= node_offset(tensor.node.layer)
        return [layer_name(tensor.node.layer), index, tensor.tensor_index]

    layers = []
    for layer in model.layers:
        entry = _serialize_layer(layer)
        entry["name"] = layer_name(layer)
        nodes = [n for n in layer.__dict__.get("_inbound_nodes", []) if id(n) in relevant]
        nodes = [n for n in nodes if n.args or n.kwargs]
        write = _keras3_node if keras3 else _keras2_node
        entry["inbound_nodes"] = [write(node, reference) for node in nodes]
        layers.append(entry)
    config: dict[str, Any] = {"name": model.name, "trainable": model.trainable, "layers": layers}
    for key, structure in (
        ("input_layers", model._nested_inputs),
        ("output_layers", model._nested_outputs),
    ):
        refs = map_structure(reference, structure)
        config[key] = [refs] if isinstance(structure, KerasTensor) else refs
    return config


def _keras2_node(node: Any, reference) -> Any:
    kwargs = dict(node.kwargs)
    first = node.args[0] if node.args else None
    initial_state = kwargs.get("initial_state")
    if initial_state is not None and all(
        isinstance(t, KerasTensor) for t in flatten(initial_state)
    ):
        # tf-keras passes an RNN's initial states as extra inputs.
        first = [first, *flatten(kwargs.pop("initial_state"))]
    names = list(inspect.signature(node.layer.forward).parameters)
    kwargs.update(dict(zip(names[1:], node.args[1:])))

    def value(item: Any) -> Any:
        return reference(item, False) if isinstance(item, KerasTensor) else item

    kwargs = map_structure(value, kwargs)

    def entry(item: Any) -> list:
        if isinstance(item, KerasTensor):
            return [*reference(item, False), kwargs]
        return ["_CONSTANT_VALUE", -1, item, kwargs]

    data = map_structure(entry, first)
    return [data] if not isinstance(first, (list, tuple, dict)) else data


def _keras3_node(node: Any, reference) -> dict[str, Any]:
    def value(item: Any) -> Any:
        if not isinstance(item, KerasTensor):
            return item
        dtype = str(item.dtype).removeprefix("torch.")
        history = reference(item, False)
        return {
            "class_name": "__keras_tensor__",
            "config": {"shape": list(item.shape), "dtype": dtype, "keras_history": history},
        }

    return {
        "args": map_structure(value, list(node.args)),
        "kwargs": map_structure(value, dict(node.kwargs)),
    }


# -- reading ------------------------------------------------------------------------------


def _is_reference(value: Any) -> bool:
    return (
        isinstance(value, list)
        and len(value) in (3, 4)
        and isinstance(value[0], str)
        and isinstance(value[1], int)
        and isinstance(value[2], int)
    )


class _Pending(Exception):
    """A node reads a tensor that is not made yet: try it again after other layers."""


def _make_layer(entry: dict, custom_objects: dict | None, model_class: type) -> nn.Module:
    class_name = entry.get("class_name")
    if str(entry.get("module", "")).startswith("keras.src.ops"):
        return OPERATIONS[class_name].from_config(dict(entry.get("config") or {}))
    models = {"Functional": model_class, "Model": model_class, "Sequential": Sequential}
    layer = deserialize(entry, {**models, **(custom_objects or {})})
    if not hasattr(layer, "name"):
        layer.name = entry.get("name") or (entry.get("config") or {}).get("name")
    return layer


def functional_from_config(
    model_class: type, config: dict[str, Any], custom_objects: dict | None = None
) -> Any:
    """Builds a Functional model from its config (tf-keras 2.x or Keras 3 format).

    Raises:
        ValueError: for a malformed config or a node that reads a tensor nothing makes.
    """
    if (
        not isinstance(config, dict)
        or not isinstance(config.get("layers"), list)
        or not config.get("input_layers")
        or not config.get("output_layers")
    ):
        raise ValueError(
            "Functional.from_config: expected a dict with 'layers', 'input_layers' and "
            f"'output_layers'. Received: {config!r:.200}."
        )
    entries = config["layers"]
    keras3 = any(
        isinstance(node, dict) for entry in entries for node in entry.get("inbound_nodes") or []
    )
    created: dict[str, nn.Module] = {}
    outputs: dict[str, list[list[KerasTensor]]] = {}
    for entry in entries:
        name = entry.get("name") or (entry.get("config") or {}).get("name")
        layer = _make_layer(entry, custom_objects, model_class)
        created[name] = layer
        outputs[name] = [[input_tensor_of(layer)]] if isinstance(layer, InputLayer) else []

    def tensor(history: list, outer: bool) -> KerasTensor:
        name, index, tensor_index = history[0], history[1], history[2]
        if name not in created:
            raise ValueError(
                f"Functional.from_config: a node reads layer {name!r}, which the config "
                f"does not define. Expected one of {sorted(created)}."
            )
        layer = created[name]
        if not isinstance(layer, InputLayer) and (outer or not keras3):
            index -= node_offset(layer)
        made = outputs[name]
        if index >= len(made):
            raise _Pending
        return made[index][tensor_index]

    def keras3_value(value: Any) -> Any:
        if isinstance(value, dict) and value.get("class_name") == "__keras_tensor__":
            return tensor(value["config"]["keras_history"], False)
        if isinstance(value, dict):
            return {key: keras3_value(item) for key, item in value.items()}
        if isinstance(value, list):
            return [keras3_value(item) for item in value]
        return value

    def keras2_value(value: Any) -> Any:
        if _is_reference(value):
            return tensor(value, False)
        if isinstance(value, dict):
            return {key: keras2_value(item) for key, item in value.items()}
        if isinstance(value, list):
            return [keras2_value(item) for item in value]
        return value

    def call(layer: nn.Module, node: Any) -> None:
        if isinstance(node, dict):
            args = keras3_value(node.get("args", []))
            kwargs = {k: v for k, v in keras3_value(node.get("kwargs", {})).items()}
            kwargs = {
                k: v for k, v in kwargs.items() if not (k in ("mask", "training") and v is None)
            }
        else:
            first, kwargs = _keras2_call(node, keras2_value)
            if (
                isinstance(first, list)
                and len(first) > 1
                and "initial_state" in inspect.signature(layer.forward).parameters
            ):
                first, kwargs["initial_state"] = first[0], first[1:]
            args = [first]
        result = symbolic_call(layer, tuple(args), kwargs)
        outputs[layer_name(layer)].append(flatten(result))

    pending = {
        name: list(entry.get("inbound_nodes") or []) for name, entry in zip(created, entries)
    }
    while any(pending.values()):
        progressed = False
        for name, nodes in pending.items():
            while nodes:
                try:
                    call(created[name], nodes[0])
                except _Pending:
                    break
                nodes.pop(0)
                progressed = True
        if not progressed:
            stuck = sorted(name for name, nodes in pending.items() if nodes)
            raise ValueError(
                f"Functional.from_config: the calls of layers {stuck} read tensors that no "
                "layer of the config makes. Expected a complete graph."
            )

    def resolve(structure: Any) -> Any:
        if _is_reference(structure):
            return tensor(structure, True)
        if isinstance(structure, dict):
            return {key: resolve(value) for key, value in structure.items()}
        return [resolve(item) for item in structure]

    try:
        inputs = resolve(config.get("input_layers") or [])
        model_outputs = resolve(config.get("output_layers") or [])
    except _Pending:
        raise ValueError(
            "Functional.from_config: input_layers or output_layers name a call that the "
            "config does not make."
        ) from None
    return model_class(
        inputs,
        model_outputs,
        name=config.get("name"),
        trainable=config.get("trainable", True) is not False,
        keras3_masks=keras3,
    )


def _keras2_call(node: Any, value) -> tuple[Any, dict]:
    """The first argument and keyword arguments of a tf-keras 2.x node."""
    kwargs: dict = {}

    def entry(item: list) -> Any:
        nonlocal kwargs
        if len(item) == 4 and isinstance(item[3], dict) and item[3]:
            kwargs = value(item[3])
        if item[0] == "_CONSTANT_VALUE":
            return item[2]
        return value(item[:3])

    if isinstance(node, dict):
        first = {key: entry(item) for key, item in node.items()}
    elif node and _is_reference(node):
        first = entry(node)
    else:
        first = [entry(item) for item in node]
        if len(first) == 1:
            first = first[0]
    return first, dict(kwargs)
