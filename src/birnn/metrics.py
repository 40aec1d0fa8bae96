"""Keras 2's metric functions and the running mean ``fit`` reports them with.

A metric maps ``(y_true, y_pred)`` to per-sample values (the last axis reduced);
``Mean`` accumulates them over an epoch, weighted by the output mask as Keras does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from . import losses

__all__ = [
    "Mean",
    "binary_accuracy",
    "categorical_accuracy",
    "get",
    "sparse_categorical_accuracy",
]


def binary_accuracy(
    y_true: torch.Tensor, y_pred: torch.Tensor, threshold: float = 0.5
) -> torch.Tensor:
    """Mean over the last axis of ``(y_pred > threshold) == y_true``.

    Args:
        y_true: 0/1 targets, shaped like ``y_pred``.
        y_pred: predicted probabilities.
        threshold: predictions above it count as 1.

    Example:
        >>> binary_accuracy(torch.tensor([[1.0], [0.0]]), torch.tensor([[0.7], [0.6]]))
        tensor([1., 0.])
    """
    predicted = (y_pred > threshold).to(y_pred.dtype)
    return (predicted == y_true.to(y_pred.dtype)).to(y_pred.dtype).mean(dim=-1)


def categorical_accuracy(y_true: torch.Tensor, y_pred: torch.Tensor) -> torch.Tensor:
    """Whether ``argmax(y_pred)`` is ``argmax(y_true)`` (one-hot targets).

    Args:
        y_true: one-hot targets ``(..., classes)``.
        y_pred: predictions ``(..., classes)``.

    Example:
        >>> y_pred = torch.tensor([[0.2, 0.8], [0.3, 0.7]])
        >>> categorical_accuracy(torch.tensor([[0, 1], [1, 0]]), y_pred)
        tensor([1., 0.])
    """
    return (y_true.argmax(dim=-1) == y_pred.argmax(dim=-1)).to(y_pred.dtype)


def sparse_categorical_accuracy(y_true: torch.Tensor, y_pred: torch.Tensor) -> torch.Tensor:
    """Whether ``argmax(y_pred)`` is the integer class ``y_true`` (``(...)`` or ``(..., 1)``).

    Args:
        y_true: integer class ids ``(...)`` or ``(..., 1)``.
        y_pred: predictions ``(..., classes)``.

    Example:
        >>> y_pred = torch.tensor([[0.2, 0.8], [0.3, 0.2]])
        >>> sparse_categorical_accuracy(torch.tensor([1, 1]), y_pred)
        tensor([1., 0.])
    """
    if y_true.dim() == y_pred.dim():
        y_true = y_true.squeeze(-1)
    return (y_true.long() == y_pred.argmax(dim=-1)).to(y_pred.dtype)


_FUNCTIONS: dict[str, Callable] = {
    "binary_accuracy": binary_accuracy,
    "categorical_accuracy": categorical_accuracy,
    "sparse_categorical_accuracy": sparse_categorical_accuracy,
    "mse": losses.mean_squared_error,
    "mean_squared_error": losses.mean_squared_error,
    "mae": losses.mean_absolute_error,
    "mean_absolute_error": losses.mean_absolute_error,
    "categorical_crossentropy": losses.categorical_crossentropy,
    "sparse_categorical_crossentropy": losses.sparse_categorical_crossentropy,
    "binary_crossentropy": losses.binary_crossentropy,
}
_AUTO = ("accuracy", "acc")


def get(identifier: Any, y_true: torch.Tensor, y_pred: torch.Tensor) -> Callable:
    """Resolves a metric; ``'accuracy'`` picks the variant Keras 2 picks from the shapes.

    ``'accuracy'``/``'acc'`` is binary accuracy when the predictions' last axis has size 1,
    sparse categorical accuracy when the targets have fewer axes (or a last axis of 1),
    categorical accuracy otherwise.

    Args:
        identifier: a metric name (``'accuracy'``, ``'binary_accuracy'``, ``'mse'``, ...)
            or a callable ``(y_true, y_pred) -> per-sample values``.
        y_true: a batch of targets, to pick the variant of ``'accuracy'``.
        y_pred: a batch of predictions, to pick the variant of ``'accuracy'``.

    Raises:
        ValueError: for unknown names.

    Example:
        >>> get("accuracy", torch.tensor([2]), torch.ones(1, 3)).__name__
        'sparse_categorical_accuracy'
    """
    if identifier in _AUTO:
        if y_pred.shape[-1] == 1:
            return binary_accuracy
        if y_true.dim() < y_pred.dim() or y_true.shape[-1] == 1:
            return sparse_categorical_accuracy
        return categorical_accuracy
    if isinstance(identifier, str):
        if identifier not in _FUNCTIONS:
            raise ValueError(
                f"metrics must be names among {sorted((*_AUTO, *_FUNCTIONS))} or callables. "
                f"Received: {identifier!r}."
            )
        return _FUNCTIONS[identifier]
    if callable(identifier):
        return identifier
    raise ValueError(
        f"metrics must be names or callables (y_true, y_pred) -> values. "
        f"Received: {identifier!r:.200}."
    )


def name_of(identifier: Any) -> str:
    """The key a metric gets in ``History.history`` (its name, or a function's name)."""
    return identifier if isinstance(identifier, str) else getattr(identifier, "__name__", "metric")


class Mean:
    """A running weighted mean, as Keras's ``Mean`` metric accumulates over an epoch.

    Example:
        >>> mean = Mean()
        >>> mean.update(torch.tensor([1.0, 0.0]), torch.tensor([True, False]))
        >>> mean.update(torch.tensor(4.0), weight=3)
        >>> mean.result()
        3.25
    """

    def __init__(self) -> None:
        self.total = 0.0
        self.count = 0.0

    def update(self, values: torch.Tensor, weight: Any = None) -> None:
        values = values.detach().double()
        if weight is None:
            self.total += float(values.sum())
            self.count += values.numel()
        elif torch.is_tensor(weight):
            weight = weight.detach().to(values.dtype)
            self.total += float((values * weight).sum())
            self.count += float(weight.expand_as(values).sum())
        else:
            self.total += float(values.sum()) * weight
            self.count += values.numel() * weight

    def result(self) -> float:
        return self.total / self.count if self.count else 0.0
