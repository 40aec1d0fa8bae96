"""The layer graph of a Functional model: which nodes it runs, in which order, and the
layers in Keras 2's order (``model.layers``, and so ``get_weights``).

``map_graph`` follows tf-keras's ``_map_graph_network``: a depth-first walk from the
outputs gives the nodes in an order where each comes after its inputs; a layer's depth is
the longest path from it to an output; ``layers`` lists the deepest first, ties in the
order the walk met them. ``compile_plan`` turns the nodes into steps that read and write
numbered slots, so a call does no graph work, only the layer calls.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from ..layers._keras_tensor import KerasTensor, Node, flatten, map_structure
from ..layers._wrapper import accepted_call_arguments


@dataclasses.dataclass
class Graph:
    """What ``map_graph`` finds.

    Attributes:
        nodes: the nodes to run, each after the nodes it reads from.
        layers: every layer, input layers included, in Keras 2's order.
        node_depths: each node's depth (0 for the output nodes).
    """

    nodes: list[Node]
    layers: list[nn.Module]
    node_depths: dict[Node, int]


def map_graph(inputs: list[KerasTensor], outputs: list[KerasTensor]) -> Graph:
    """Maps the graph from ``inputs`` to ``outputs``.

    Raises:
        ValueError: if an output needs a tensor that is not computed from ``inputs``, or the
            graph has a cycle.
    """
    order: list[Node] = []
    finished: set[int] = set()
    in_progress: set[int] = set()
    layer_indices: dict[int, int] = {}

    def visit(tensor: KerasTensor) -> None:
        node = tensor.node
        if id(node) in finished:
            return
        if id(node) in in_progress:
            raise ValueError(f"Model: the tensor {tensor!r} is part of a cycle.")
        layer_indices.setdefault(id(node.layer), len(layer_indices))
        in_progress.add(id(node))
        for parent in node.inputs:
            visit(parent)
        in_progress.discard(id(node))
        finished.add(id(node))
        order.append(node)

    for tensor in outputs:
        visit(tensor)
    node_depths: dict[Node, int] = {}
    layer_depths: dict[int, int] = {}
    layers_by_id: dict[int, nn.Module] = {}
    for node in reversed(order):
        depth = max(node_depths.setdefault(node, 0), layer_depths.get(id(node.layer), 0))
        layer_depths[id(node.layer)] = depth
        layers_by_id[id(node.layer)] = node.layer
        node_depths[node] = depth
        for parent in node.inputs:
            node_depths[parent.node] = max(depth + 1, node_depths.get(parent.node, 0))
    for tensor in inputs:
        layer = tensor.node.layer
        if id(layer) not in layer_depths:
            layer_depths[id(layer)] = 0
            layer_indices[id(layer)] = -1
            layers_by_id[id(layer)] = layer
            node_depths[tensor.node] = 0
    _check_computable(order, inputs)
    ranked = sorted(layer_depths, key=lambda key: (-layer_depths[key], layer_indices[key]))
    layers = [layers_by_id[key] for key in ranked]
    return Graph([n for n in order if n.args or n.kwargs], layers, node_depths)


def _check_computable(order: list[Node], inputs: list[KerasTensor]) -> None:
    available = {id(t) for t in inputs}
    for node in order:
        if not node.args and not node.kwargs:  # an input layer's own node
            if id(node.outputs[0]) not in available:
                raise ValueError(
                    "Model: the outputs need the input "
                    f"'{node.layer.name}', which is not in inputs. Expected every Input "
                    f"the outputs are computed from. Received: inputs "
                    f"{[t.node.layer.name for t in inputs]}."
                )
            continue
        available.update(id(t) for t in node.outputs)


def node_offset(layer: nn.Module) -> int:
    """1 for a nested model built on an ``InputLayer``: tf-keras numbers its calls from 1
    (call 0 is the model's own graph), in configs and in ``summary``."""
    if getattr(layer, "_nested_inputs", None) is not None:  # a Functional model
        return 1
    return int(getattr(layer, "_input_layer", None) is not None)


def layer_name(layer: nn.Module) -> str:
    """A layer's name (a plain torch module without one: its class name, snake case)."""
    return getattr(layer, "name", None) or type(layer).__name__.lower()


# -- the execution plan -------------------------------------------------------------------


class Slot:
    """A placeholder for the value in slot ``index`` of a running graph."""

    __slots__ = ("index",)

    def __init__(self, index: int):
        self.index = index


def _reader(template: Any) -> Callable[[list], Any]:
    """A function reading ``template``'s structure, with ``Slot``s filled from the values."""
    if isinstance(template, Slot):
        index = template.index
        return lambda values: values[index]
    leaves = flatten(template)
    if not any(isinstance(leaf, Slot) for leaf in leaves):
        return lambda values: template
    if isinstance(template, list) and all(isinstance(leaf, Slot) for leaf in template):
        indices = [leaf.index for leaf in template]
        return lambda values: [values[i] for i in indices]
    return lambda values: map_structure(
        lambda leaf: values[leaf.index] if isinstance(leaf, Slot) else leaf, template
    )


@dataclasses.dataclass
class Step:
    """One layer call of the plan: read arguments from slots, call, write outputs to slots."""

    layer: nn.Module
    args: Callable[[list], tuple]
    kwargs: Callable[[list], dict]
    first_masks: Callable[[list], Any]
    outputs: list[int]
    single_output: bool
    explicit: frozenset[str]
    takes_mask: bool
    takes_training: bool
    is_model: bool
    keras3_merge: bool


def compile_plan(nodes: list[Node], slots: dict[int, int], is_model: Callable) -> list[Step]:
    """The steps that run ``nodes``; ``slots`` maps each ``KerasTensor``'s id to its slot
    and gets the nodes' outputs added."""

    def as_template(value: Any) -> Any:
        return map_structure(
            lambda leaf: Slot(slots[id(leaf)]) if isinstance(leaf, KerasTensor) else leaf, value
        )

    steps = []
    for node in nodes:
        args = as_template(list(node.args))
        kwargs = as_template(dict(node.kwargs))
        read_args = _reader(args)
        read_kwargs = _reader(kwargs) if kwargs else (lambda values: {})
        first = args[0] if args else None
        read_first = _reader(first)
        for tensor in node.outputs:
            slots[id(tensor)] = len(slots)
        accepted = accepted_call_arguments(node.layer)
        steps.append(
            Step(
                layer=node.layer,
                args=(lambda read: lambda values: tuple(read(values)))(read_args),
                kwargs=read_kwargs,
                first_masks=read_first,
                outputs=[slots[id(t)] for t in node.outputs],
                single_output=isinstance(node.output_structure, int),
                explicit=frozenset(node.kwargs),
                takes_mask="mask" in accepted,
                takes_training="training" in accepted,
                is_model=is_model(node.layer),
                keras3_merge=type(node.layer).__name__ in _KERAS3_MERGES + ("Concatenate",),
            )
        )
    return steps


# Keras 3's merge layers combine masks their own way: None when any input has none, else
# OR (tf-keras: AND of the masks given); Concatenate: OR, an unmasked input all True.
_KERAS3_MERGES = ("Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum")


def _keras3_merge_mask(layer: nn.Module, masks: Any) -> Any:
    if not isinstance(masks, list):
        return masks
    name = type(layer).__name__
    if name == "Concatenate":
        if all(m is None for m in masks):
            return None
        present = [m for m in masks if m is not None]
        return torch.ones_like(present[0]) if len(present) < len(masks) else _or(present)
    return None if any(m is None for m in masks) else _or(masks)


def _or(masks: list) -> Any:
    result = masks[0]
    for mask in masks[1:]:
        result = result | mask
    return result


def run_plan(
    steps: list[Step],
    values: list,
    masks: list,
    training: bool | None,
    keras3: bool = False,
) -> None:
    """Runs the steps on ``values`` (inputs filled in), masks flowing as in Keras: a layer
    that takes ``mask`` gets its first argument's masks unless the node passes one, and
    ``compute_mask`` (a nested model: its outputs' masks) gives its outputs' masks.

    ``keras3``: a Keras 3 model's masks. Its nodes pass most masks explicitly; the layers'
    own masks are computed from their first argument's masks (never the explicit ones, as
    Keras 3 does at run time), with Keras 3's rules for merge layers."""
    for step in steps:
        args = step.args(values)
        kwargs = step.kwargs(values)
        previous = step.first_masks(masks)
        if isinstance(previous, list) and all(m is None for m in previous):
            previous = None
        if "mask" in step.explicit:
            if not keras3:
                previous = kwargs["mask"]
        elif previous is not None and step.takes_mask:
            kwargs["mask"] = previous
        if training is not None and step.takes_training and "training" not in step.explicit:
            kwargs["training"] = training
        if keras3 and isinstance(previous, list) and hasattr(step.layer, "_keras3_call"):
            # Keras 3's merge layers read their inputs' masks (Maximum, Minimum, Multiply).
            result = step.layer._keras3_call(args[0], previous)
        else:
            result = step.layer(*args, **kwargs)
        outputs = [result] if step.single_output else flatten(result)
        for slot, value in zip(step.outputs, outputs):
            values[slot] = value
        if step.is_model:
            output_masks = [getattr(value, "_keras_mask", None) for value in outputs]
        elif keras3 and step.keras3_merge:
            output_masks = [_keras3_merge_mask(step.layer, previous)]
        else:
            compute_mask = getattr(step.layer, "compute_mask", None)
            computed = None if compute_mask is None else compute_mask(args[0], previous)
            output_masks = [computed] if step.single_output else flatten(computed)
            if len(output_masks) != len(outputs):
                output_masks = [None] * len(outputs)
        for slot, mask in zip(step.outputs, output_masks):
            masks[slot] = mask
            if mask is not None and torch.is_tensor(values[slot]):
                # Layers that read their inputs' masks themselves (MultiHeadAttention's
                # query and value) find them where Keras leaves them.
                values[slot]._keras_mask = mask
