"""Activation functions by their Keras names.

Keras 2 serializes an activation as its plain name (``"tanh"``), and so do we.
``hard_sigmoid`` is Keras 2's ``clip(0.2 * x + 0.5, 0, 1)``, not PyTorch's
``relu6(x + 3) / 6``.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

from ._objects import lookup

__all__ = ["get", "serialize", "tanh", "sigmoid", "hard_sigmoid", "relu", "linear"]


def linear(x: torch.Tensor) -> torch.Tensor:
    """Returns ``x`` unchanged.

    Args:
        x: the input tensor.
    """
    return x


def hard_sigmoid(x: torch.Tensor) -> torch.Tensor:
    """Keras 2's piecewise-linear sigmoid: ``clip(0.2 * x + 0.5, 0, 1)``.

    Args:
        x: the input tensor.

    Example:
        >>> hard_sigmoid(torch.tensor([-3.0, 0.0, 1.0, 3.0]))
        tensor([0.0000, 0.5000, 0.7000, 1.0000])
    """
    return torch.clamp(0.2 * x + 0.5, 0.0, 1.0)


tanh = torch.tanh
sigmoid = torch.sigmoid
relu = torch.relu

_ACTIVATIONS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "tanh": torch.tanh,
    "sigmoid": torch.sigmoid,
    "hard_sigmoid": hard_sigmoid,
    "relu": torch.relu,
    "linear": linear,
    "elu": F.elu,
    "selu": F.selu,
    "softplus": F.softplus,
    "softsign": F.softsign,
    "swish": F.silu,
    "silu": F.silu,
    "gelu": F.gelu,
    "exponential": torch.exp,
    "mish": F.mish,
    "softmax": lambda x: torch.softmax(x, dim=-1),
}
_NAMES = {fn: name for name, fn in _ACTIVATIONS.items() if name != "silu"}
_ELEMENTWISE = frozenset(fn for name, fn in _ACTIVATIONS.items() if name != "softmax")


def is_elementwise(fn: Callable) -> bool:
    """Whether ``fn`` is a built-in activation that acts on each element on its own.

    Example:
        >>> is_elementwise(get("hard_sigmoid")), is_elementwise(get("softmax"))
        (True, False)
    """
    return fn in _ELEMENTWISE


def get(identifier: str | Callable | None) -> Callable[[torch.Tensor], torch.Tensor]:
    """Returns the activation function for a Keras name, a callable, or ``None``.

    Args:
        identifier: a name such as ``"tanh"``, a Keras serialized dict
            (``{"class_name": "tanh", ...}``), a callable, or ``None`` (linear).

    Returns:
        A function from tensors to tensors.

    Raises:
        ValueError: if the name is not a known activation.

    Example:
        >>> get("relu")(torch.tensor([-1.0, 2.0]))
        tensor([0., 2.])
    """
    if identifier is None:
        return linear
    if isinstance(identifier, dict):
        identifier = identifier.get("config", {}).get("name") or identifier.get("class_name")
    if isinstance(identifier, str):
        return lookup("activation", identifier, _ACTIVATIONS, " or a callable")
    if callable(identifier):
        return identifier
    raise ValueError(
        f"activation must be a name, a callable or None. Received: {identifier!r} "
        f"of type {type(identifier).__name__}."
    )


def serialize(activation: Callable) -> str:
    """Returns the Keras name of an activation (its ``__name__`` for custom callables).

    Args:
        activation: an activation function (built-in or your own callable).

    Example:
        >>> serialize(get("hard_sigmoid"))
        'hard_sigmoid'
    """
    name = _NAMES.get(activation)
    if name is not None:
        return name
    return getattr(activation, "__name__", repr(activation))
