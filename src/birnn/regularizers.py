"""Weight regularizers with Keras 2's names: ``L1``, ``L2``, ``L1L2``.

A layer's regularization penalties are in ``layer.losses``; ``Sequential.fit``
adds them to the loss, as Keras does.
"""

from __future__ import annotations

from typing import Any

import torch

from ._objects import resolve_object, serialize_object

__all__ = ["Regularizer", "L1", "L2", "L1L2", "get", "serialize"]


class Regularizer:
    """Maps a weight tensor to a scalar penalty."""

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def get_config(self) -> dict[str, Any]:
        return {}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Regularizer:
        return cls(**config)


class L1L2(Regularizer):
    """``l1 * sum(|x|) + l2 * sum(x**2)``.

    Args:
        l1: the factor on ``sum(|x|)``.
        l2: the factor on ``sum(x**2)``.

    Example:
        >>> L1L2(l1=0.1, l2=0.01)(torch.tensor([1.0, -2.0]))
        tensor(0.3500)
    """

    def __init__(self, l1: float = 0.0, l2: float = 0.0):
        for name, value in (("l1", l1), ("l2", l2)):
            if not isinstance(value, (int, float)) or value < 0:
                raise ValueError(f"{name} must be a non-negative number. Received: {value!r}.")
        self.l1, self.l2 = float(l1), float(l2)

    def __call__(self, x):
        penalty = x.new_zeros(())
        if self.l1:
            penalty = penalty + self.l1 * x.abs().sum()
        if self.l2:
            penalty = penalty + self.l2 * x.square().sum()
        return penalty

    def get_config(self):
        return {"l1": self.l1, "l2": self.l2}


class L1(L1L2):
    """``l1 * sum(|x|)``; Keras 2 default ``l1=0.01``.

    Args:
        l1: the factor on ``sum(|x|)``.
    """

    def __init__(self, l1: float = 0.01):
        super().__init__(l1=l1)

    def get_config(self):
        return {"l1": self.l1}


class L2(L1L2):
    """``l2 * sum(x**2)``; Keras 2 default ``l2=0.01``.

    Args:
        l2: the factor on ``sum(x**2)``.
    """

    def __init__(self, l2: float = 0.01):
        super().__init__(l2=l2)

    def get_config(self):
        return {"l2": self.l2}


_CLASSES = {"L1": L1, "L2": L2, "L1L2": L1L2, "l1": L1, "l2": L2, "l1_l2": L1L2}


def serialize(regularizer: Regularizer | None) -> dict[str, Any] | None:
    """Returns the dict tf-keras 2.x writes for a regularizer, or ``None``.

    Args:
        regularizer: a ``Regularizer``, or ``None``.
    """
    return serialize_object(regularizer, "keras.regularizers")


def get(identifier: Any) -> Regularizer | None:
    """Resolves a regularizer from ``None``, a name, a serialized dict or an instance.

    Args:
        identifier: ``None``, a Keras name (``'l2'``...), a serialized dict, a
            ``Regularizer`` or a callable.

    Raises:
        ValueError: if the name or config is not a known regularizer.

    Example:
        >>> get("l2").l2
        0.01
    """
    if identifier == "l1_l2":  # Keras's string default, unlike L1L2()'s zeros
        return L1L2(l1=0.01, l2=0.01)
    return resolve_object(identifier, "regularizer", Regularizer, _CLASSES)
