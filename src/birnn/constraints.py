"""Weight constraints with Keras 2's names: ``MaxNorm``, ``MinMaxNorm``, ``NonNeg``, ``UnitNorm``.

Keras applies a weight's constraint after each optimizer step; so does
``Sequential.fit``. In your own training loop call ``layer.apply_constraints()``
after ``optimizer.step()``.
"""

from __future__ import annotations

from typing import Any

import torch

from ._objects import resolve_object, serialize_object

__all__ = ["Constraint", "MaxNorm", "MinMaxNorm", "NonNeg", "UnitNorm", "get", "serialize"]

_EPSILON = 1e-7  # Keras's backend.epsilon()


class Constraint:
    """Maps a weight tensor to its projection onto the constraint set."""

    def __call__(self, w: torch.Tensor) -> torch.Tensor:
        return w

    def get_config(self) -> dict[str, Any]:
        return {}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Constraint:
        return cls(**config)


class NonNeg(Constraint):
    """Zeroes negative weights.

    Example:
        >>> NonNeg()(torch.tensor([-1.0, 2.0]))
        tensor([0., 2.])
    """

    def __call__(self, w):
        return w.clamp(min=0.0)


class MaxNorm(Constraint):
    """Rescales slices along ``axis`` whose L2 norm exceeds ``max_value``.

    Args:
        max_value: the largest L2 norm a slice may keep.
        axis: the axis along which norms are taken (0: each output unit's incoming weights).

    Example:
        >>> MaxNorm(1.0)(torch.tensor([[3.0], [4.0]]))
        tensor([[0.6000],
                [0.8000]])
    """

    def __init__(self, max_value: float = 2.0, axis: int = 0):
        self.max_value, self.axis = max_value, axis

    def __call__(self, w):
        norms = w.square().sum(dim=self.axis, keepdim=True).sqrt()
        desired = norms.clamp(0, self.max_value)
        return w * (desired / (_EPSILON + norms))

    def get_config(self):
        return {"max_value": self.max_value, "axis": self.axis}


class MinMaxNorm(Constraint):
    """Keeps slice norms along ``axis`` within ``[min_value, max_value]`` at ``rate``.

    Args:
        min_value: the smallest L2 norm a slice may keep.
        max_value: the largest L2 norm a slice may keep.
        rate: how far each step moves the norm into range (1.0: all the way).
        axis: the axis along which norms are taken.
    """

    def __init__(self, min_value=0.0, max_value=1.0, rate=1.0, axis=0):
        self.min_value, self.max_value, self.rate, self.axis = min_value, max_value, rate, axis

    def __call__(self, w):
        norms = w.square().sum(dim=self.axis, keepdim=True).sqrt()
        desired = self.rate * norms.clamp(self.min_value, self.max_value) + (1 - self.rate) * norms
        return w * (desired / (_EPSILON + norms))

    def get_config(self):
        return {
            "min_value": self.min_value,
            "max_value": self.max_value,
            "rate": self.rate,
            "axis": self.axis,
        }


class UnitNorm(Constraint):
    """Scales slices along ``axis`` to unit L2 norm.

    Args:
        axis: the axis along which norms are taken.
    """

    def __init__(self, axis: int = 0):
        self.axis = axis

    def __call__(self, w):
        return w / (_EPSILON + w.square().sum(dim=self.axis, keepdim=True).sqrt())

    def get_config(self):
        return {"axis": self.axis}


_CLASSES = {
    "MaxNorm": MaxNorm,
    "max_norm": MaxNorm,
    "MinMaxNorm": MinMaxNorm,
    "min_max_norm": MinMaxNorm,
    "NonNeg": NonNeg,
    "non_neg": NonNeg,
    "UnitNorm": UnitNorm,
    "unit_norm": UnitNorm,
}


def serialize(constraint: Constraint | None) -> dict[str, Any] | None:
    """Returns the dict tf-keras 2.x writes for a constraint, or ``None``.

    Args:
        constraint: a ``Constraint``, or ``None``.
    """
    return serialize_object(constraint, "keras.constraints")


def get(identifier: Any) -> Constraint | None:
    """Resolves a constraint from ``None``, a name, a serialized dict or an instance.

    Args:
        identifier: ``None``, a Keras name (``'max_norm'``...), a serialized dict, a
            ``Constraint`` or a callable.

    Raises:
        ValueError: if the name or config is not a known constraint.

    Example:
        >>> get("non_neg")(torch.tensor([-1.0]))
        tensor([0.])
    """
    return resolve_object(identifier, "constraint", Constraint, _CLASSES)
