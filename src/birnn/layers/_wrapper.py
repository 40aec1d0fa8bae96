"""``Wrapper``, the base of layers that wrap another layer, and the one rule for calling a
wrapped layer with only the call arguments it accepts."""

from __future__ import annotations

import inspect
from typing import Any

from torch import nn

from ._layer import Layer
from ._serialization import deserialize, serialize


def accepted_call_arguments(module: nn.Module) -> frozenset[str]:
    """The keyword arguments ``module.forward`` takes (all of Keras's call arguments when it
    takes ``**kwargs``)."""
    parameters = inspect.signature(module.forward).parameters
    if any(p.kind is p.VAR_KEYWORD for p in parameters.values()):
        return frozenset({"mask", "training", "initial_state"})
    return frozenset(parameters)


def call_with_accepted_arguments(
    module: nn.Module, inputs: Any, accepted: frozenset[str], **arguments: Any
) -> Any:
    """``module(inputs, **arguments)``, passing only the arguments that are not ``None`` and
    that ``module`` accepts (``accepted``: its ``accepted_call_arguments``), as Keras passes
    ``mask`` and ``training`` to a layer only when its ``call`` takes them.

    Example:
        >>> dense = Dense(2)
        >>> call_with_accepted_arguments(dense, torch.ones(1, 3), frozenset(), mask=None).shape
        torch.Size([1, 2])
    """
    kwargs = {key: value for key, value in arguments.items() if value is not None}
    return module(inputs, **{key: value for key, value in kwargs.items() if key in accepted})


class Wrapper(Layer):
    """Base class of layers that wrap another layer (Keras's ``Wrapper``).

    Args:
        layer: the wrapped layer, a ``torch.nn.Module``.
        **kwargs: base layer arguments (``name``, ``input_shape``, ...).

    Raises:
        ValueError: if ``layer`` is not a ``torch.nn.Module``.
    """

    def __init__(self, layer: nn.Module, **kwargs: Any):
        if not isinstance(layer, nn.Module):
            raise ValueError(
                f"{type(self).__name__}: layer must be a layer (a torch.nn.Module). "
                f"Received: {layer!r:.200} of type {type(layer).__name__}."
            )
        super().__init__(**kwargs)
        self._keep_layer(layer)

    def _keep_layer(self, layer: nn.Module) -> None:
        """Keeps the wrapped layer; by default as a submodule whose weights are this layer's."""
        self.layer = layer

    def _sublayers(self) -> list[nn.Module]:
        return [self.layer]

    def build(self, input_shape: tuple) -> None:
        if isinstance(self.layer, Layer):
            self.layer._maybe_build(input_shape, self._build_device)
        self.built = True

    def _input_shape_from_weights(self, state_dict: dict, prefix: str) -> tuple | None:
        if not isinstance(self.layer, Layer):
            return None
        return self.layer._input_shape_from_weights(state_dict, prefix + "layer.")

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config["layer"] = serialize(self.layer)
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any], custom_objects: dict | None = None):
        config = dict(config)
        config["layer"] = deserialize(config["layer"], custom_objects)
        return cls(**config)
