"""Symbolic tensors for the Functional API: ``Input`` and what a layer returns when it is
called on one.

A ``KerasTensor`` stands for a batch that does not exist yet: it knows its shape (``None``
for the batch and any unknown axis), its dtype and the layer call (``Node``) that makes it.
Calling a layer on ``KerasTensor``s records a ``Node`` on the layer and returns new
``KerasTensor``s. Shapes come from running the layer once, in eval mode and without
gradients, on a small probe batch of the right shapes (twice when an axis other than the
batch is unknown, to tell which output axes follow it), so every layer, plain
``torch.nn.Module``s included, gets its output shape and is built as Keras builds it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import nn

PROBE_BATCH = 2
# Two sizes for unknown non-batch axes; an output axis that differs between them is unknown.
PROBE_SIZES = (6, 7)


class KerasTensor:
    """A symbolic batch: the input or output of a layer call in a Functional model.

    Attributes:
        shape: the shape, batch first, ``None`` where unknown.
        dtype: the torch dtype.
        name: a readable name (``"<layer>/<node>/<index>"``).
        node: the ``Node`` that makes it.
        tensor_index: its position among that node's (flattened) outputs.
    """

    def __init__(self, shape: tuple, dtype: torch.dtype, node: Node, tensor_index: int, probes):
        self.shape = tuple(shape)
        self.dtype = dtype
        self.node = node
        self.tensor_index = tensor_index
        self._probes = probes

    @property
    def name(self) -> str:
        return f"{self.node.layer.name}/{self.node.index}/{self.tensor_index}"

    @property
    def _keras_history(self) -> tuple[nn.Module, int, int]:
        return self.node.layer, self.node.index, self.tensor_index

    def __repr__(self) -> str:
        dtype = str(self.dtype).removeprefix("torch.")
        return f"<KerasTensor shape={self.shape} dtype={dtype} name={self.name!r}>"

    def __len__(self) -> int:
        raise TypeError(
            "A KerasTensor is symbolic: it has no length. Expected a layer call on it, e.g. "
            f"Dense(4)(x). Received: len() of {self!r}."
        )

    def __bool__(self) -> bool:
        raise TypeError(
            "A KerasTensor is symbolic: it has no truth value. Received: bool() of "
            f"{self!r}. Use layers (not Python conditions) in a Functional model."
        )


class Node:
    """One call of ``layer``: its arguments (with ``KerasTensor``s in them) and outputs.

    Attributes:
        layer: the layer called.
        args, kwargs: the call's arguments as given.
        outputs: the ``KerasTensor``s it returned, flattened.
        output_structure: the returned structure, with indices into ``outputs`` as leaves.
        index: this node's position in ``layer._inbound_nodes``.
    """

    def __init__(self, layer: nn.Module, args: tuple, kwargs: dict):
        self.layer = layer
        self.args = args
        self.kwargs = kwargs
        self.outputs: list[KerasTensor] = []
        self.output_structure: Any = None
        nodes = inbound_nodes(layer)
        self.index = len(nodes)
        nodes.append(self)

    @property
    def inputs(self) -> list[KerasTensor]:
        """Every ``KerasTensor`` in the call's arguments, in order, first argument first."""
        return [t for t in flatten((self.args, self.kwargs)) if isinstance(t, KerasTensor)]

    @property
    def first_inputs(self) -> list[KerasTensor]:
        """The ``KerasTensor``s of the first argument (Keras's "connected to")."""
        first = self.args[0] if self.args else None
        return [t for t in flatten(first) if isinstance(t, KerasTensor)]


def inbound_nodes(layer: nn.Module) -> list[Node]:
    """The nodes recorded on ``layer`` (created on first use, also on plain modules)."""
    nodes = layer.__dict__.get("_inbound_nodes")
    if nodes is None:
        nodes = []
        layer.__dict__["_inbound_nodes"] = nodes
    return nodes


# -- structures ---------------------------------------------------------------------------


def flatten(structure: Any) -> list[Any]:
    """Leaves of nested lists, tuples and dicts (dicts in sorted key order, as ``tf.nest``)."""
    if isinstance(structure, (list, tuple)):
        return [leaf for item in structure for leaf in flatten(item)]
    if isinstance(structure, dict):
        return [leaf for key in sorted(structure) for leaf in flatten(structure[key])]
    return [structure]


def map_structure(function: Callable[[Any], Any], structure: Any) -> Any:
    """``structure`` with ``function`` applied to every leaf (lists, tuples and dicts kept)."""
    if isinstance(structure, list):
        return [map_structure(function, item) for item in structure]
    if isinstance(structure, tuple):
        return tuple(map_structure(function, item) for item in structure)
    if isinstance(structure, dict):
        return {key: map_structure(function, value) for key, value in structure.items()}
    return function(structure)


def pack_as(structure: Any, leaves: list[Any]) -> Any:
    """Puts ``leaves`` (in ``flatten`` order) into the shape of ``structure``."""
    iterator = iter(leaves)

    def fill(item: Any) -> Any:
        if isinstance(item, list):
            return [fill(value) for value in item]
        if isinstance(item, tuple):
            return tuple(fill(value) for value in item)
        if isinstance(item, dict):
            filled = {key: fill(item[key]) for key in sorted(item)}
            return {key: filled[key] for key in item}
        return next(iterator)

    return fill(structure)


def is_symbolic(args: tuple) -> bool:
    """Whether the first call argument is, or directly holds, a ``KerasTensor`` (cheap: it
    runs on every layer call)."""
    if not args:
        return False
    first = args[0]
    if isinstance(first, KerasTensor):
        return True
    if isinstance(first, (list, tuple)):
        return any(isinstance(item, KerasTensor) for item in first)
    if isinstance(first, dict):
        return any(isinstance(item, KerasTensor) for item in first.values())
    return False


# -- calling a layer on KerasTensors ------------------------------------------------------


class _EvalMode:
    """Runs a block with every submodule in eval mode and restores each one's mode after."""

    def __init__(self, module: nn.Module):
        self.module = module

    def __enter__(self) -> None:
        self.modes = [(m, m.training) for m in self.module.modules()]
        self.module.eval()

    def __exit__(self, *exc: Any) -> None:
        for module, training in self.modes:
            module.training = training


def _run_probe(layer: nn.Module, args: tuple, kwargs: dict, which: int) -> Any:
    def concrete(value: Any) -> Any:
        return value._probes[which] if isinstance(value, KerasTensor) else value

    with torch.no_grad(), _EvalMode(layer):
        return layer(*map_structure(concrete, args), **map_structure(concrete, kwargs))


def probe_tensor(shape: tuple, dtype: torch.dtype, size: int) -> torch.Tensor:
    """Ones of ``shape``, the batch ``PROBE_BATCH`` and unknown axes ``size`` long."""
    sizes = [PROBE_BATCH] + [size if s is None else s for s in shape[1:]]
    return torch.ones(sizes, dtype=dtype)


def probe_output_shape(module: nn.Module, input_shape: tuple, dtype: torch.dtype) -> Any:
    """The output shape of ``module`` (any ``torch.nn.Module``) for inputs of
    ``input_shape``, found by running it on probe batches; ``None`` where unknown."""
    unknown = any(size is None for size in input_shape[1:])
    sizes = PROBE_SIZES if unknown else PROBE_SIZES[:1]
    results = []
    for size in sizes:
        with torch.no_grad(), _EvalMode(module):
            results.append(flatten(module(probe_tensor(tuple(input_shape), dtype, size))))
    shapes = []
    for first, last in zip(results[0], results[-1]):
        shape = [None if a != b else a for a, b in zip(first.shape, last.shape)]
        shapes.append(tuple([None, *shape[1:]]))
    return shapes[0] if len(shapes) == 1 else shapes


def symbolic_call(layer: nn.Module, args: tuple, kwargs: dict) -> Any:
    """Records a call of ``layer`` on ``KerasTensor``s and returns its symbolic outputs.

    Raises:
        ValueError: naming the layer, if it cannot run on inputs of these shapes.
    """
    node_inputs = [t for t in flatten((args, kwargs)) if isinstance(t, KerasTensor)]
    first = args[0] if args else None
    build = getattr(layer, "_maybe_build", None)
    if isinstance(first, KerasTensor) and build is not None and not getattr(layer, "built", True):
        build(first.shape, None)
    name = getattr(layer, "name", type(layer).__name__)
    try:
        results = [_run_probe(layer, args, kwargs, 0)]
        if any(t._probes[1] is not t._probes[0] for t in node_inputs):
            results.append(_run_probe(layer, args, kwargs, 1))
    except (RuntimeError, ValueError, TypeError, IndexError) as error:
        shapes = [t.shape for t in node_inputs]
        raise ValueError(
            f"Layer '{name}' ({type(layer).__name__}) cannot be called on inputs of shapes "
            f"{shapes}: {error}"
        ) from None
    node = Node(layer, args, kwargs)
    flat = [flatten(result) for result in results]
    index = iter(range(len(flat[0])))
    node.output_structure = map_structure(lambda _: next(index), results[0])
    for tensor_index, probe in enumerate(flat[0]):
        if not torch.is_tensor(probe):
            raise ValueError(
                f"Layer '{name}' ({type(layer).__name__}) must return tensors in a "
                f"Functional model. Received: {type(probe).__name__} at output {tensor_index}."
            )
        other = flat[-1][tensor_index]
        shape = [None if a != b else a for a, b in zip(probe.shape, other.shape)]
        shape[0] = None if probe.dim() else shape[0]
        probes = (probe, other)
        node.outputs.append(KerasTensor(tuple(shape), probe.dtype, node, tensor_index, probes))
    return pack_as(results[0], node.outputs)
