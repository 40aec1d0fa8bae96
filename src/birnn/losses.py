"""Keras 2's loss functions: per-sample values, reduced over the last axis only.

Each function maps ``(y_true, y_pred)`` to losses of shape ``y_pred.shape[:-1]``;
``reduce_loss`` then averages them as ``fit`` does, over the valid entries of a mask.

Crossentropies on probabilities follow tf-keras: predictions are clipped to
``[1e-7, 1 - 1e-7]``, and when the predictions come straight from a softmax or
sigmoid layer (``y_pred._keras_logits``, see ``birnn.layers.Dense``) the loss is
computed from the logits instead, exactly as tf-keras does.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import torch
import torch.nn.functional as F

from ._objects import as_config, lookup

__all__ = [
    "EPSILON",
    "binary_crossentropy",
    "categorical_crossentropy",
    "get",
    "mean_absolute_error",
    "mean_squared_error",
    "reduce_loss",
    "sparse_categorical_crossentropy",
]

EPSILON = 1e-7  # Keras's backend.epsilon()


def _logits(y_pred: torch.Tensor, from_logits: bool) -> torch.Tensor | None:
    return y_pred if from_logits else getattr(y_pred, "_keras_logits", None)


def categorical_crossentropy(
    y_true: torch.Tensor,
    y_pred: torch.Tensor,
    from_logits: bool = False,
    label_smoothing: float = 0.0,
) -> torch.Tensor:
    """``-sum(y_true * log(y_pred), axis=-1)`` on one-hot (or soft) targets.

    Args:
        y_true: one-hot (or soft) targets ``(..., classes)``, shaped like ``y_pred``.
        y_pred: predictions: probabilities, or logits with ``from_logits=True``.
        from_logits: whether ``y_pred`` holds logits rather than probabilities.
        label_smoothing: in ``[0, 1]``: targets become ``y * (1 - s) + s / classes``.

    Example:
        >>> y_true = torch.tensor([[0.0, 1.0], [1.0, 0.0]])
        >>> categorical_crossentropy(y_true, torch.tensor([[0.5, 0.5], [0.9, 0.1]]))
        tensor([0.6931, 0.1054])
    """
    y_true = y_true.to(y_pred.dtype)
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + label_smoothing / y_true.shape[-1]
    logits = _logits(y_pred, from_logits)
    if logits is not None:
        return -(y_true * F.log_softmax(logits, dim=-1)).sum(dim=-1)
    probabilities = y_pred / y_pred.sum(dim=-1, keepdim=True)
    probabilities = probabilities.clamp(EPSILON, 1.0 - EPSILON)
    return -(y_true * torch.log(probabilities)).sum(dim=-1)


def sparse_categorical_crossentropy(
    y_true: torch.Tensor, y_pred: torch.Tensor, from_logits: bool = False
) -> torch.Tensor:
    """Categorical crossentropy on integer class ids ``(...)`` or ``(..., 1)``.

    Args:
        y_true: integer class ids ``(...)`` or ``(..., 1)``.
        y_pred: ``(..., classes)`` probabilities, or logits with ``from_logits=True``.
        from_logits: whether ``y_pred`` holds logits rather than probabilities.

    Example:
        >>> y_pred = torch.tensor([[0.5, 0.5], [0.9, 0.1]])
        >>> sparse_categorical_crossentropy(torch.tensor([1, 0]), y_pred)
        tensor([0.6931, 0.1054])
    """
    labels = y_true.reshape(y_pred.shape[:-1]).long()
    logits = _logits(y_pred, from_logits)
    if logits is None:
        # Keras takes log(clip(p)) as logits, which also renormalises the clipped p.
        logits = torch.log(y_pred.clamp(EPSILON, 1.0 - EPSILON))
    log_probabilities = F.log_softmax(logits, dim=-1)
    return -log_probabilities.gather(-1, labels.unsqueeze(-1)).squeeze(-1)


def binary_crossentropy(
    y_true: torch.Tensor,
    y_pred: torch.Tensor,
    from_logits: bool = False,
    label_smoothing: float = 0.0,
) -> torch.Tensor:
    """Mean over the last axis of ``-(y log p + (1 - y) log(1 - p))``, on probabilities.

    Args:
        y_true: 0/1 (or soft) targets, shaped like ``y_pred``.
        y_pred: predictions: probabilities, or logits with ``from_logits=True``.
        from_logits: whether ``y_pred`` holds logits rather than probabilities.
        label_smoothing: in ``[0, 1]``: targets become ``y * (1 - s) + s / 2``.

    Example:
        >>> binary_crossentropy(torch.tensor([[1.0, 0.0]]), torch.tensor([[0.8, 0.4]]))
        tensor([0.3670])
    """
    y_true = y_true.to(y_pred.dtype)
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing
    logits = _logits(y_pred, from_logits)
    if logits is not None:
        losses = F.binary_cross_entropy_with_logits(logits, y_true, reduction="none")
        return losses.mean(dim=-1)
    p = y_pred.clamp(EPSILON, 1.0 - EPSILON)
    log_likelihood = y_true * torch.log(p + EPSILON) + (1 - y_true) * torch.log(1 - p + EPSILON)
    return -log_likelihood.mean(dim=-1)


def mean_squared_error(y_true: torch.Tensor, y_pred: torch.Tensor) -> torch.Tensor:
    """``mean((y_pred - y_true) ** 2, axis=-1)``.

    Args:
        y_true: targets, shaped like ``y_pred``.
        y_pred: predictions.

    Example:
        >>> mean_squared_error(torch.tensor([[0.0, 1.0]]), torch.tensor([[1.0, 1.0]]))
        tensor([0.5000])
    """
    return (y_pred - y_true.to(y_pred.dtype)).square().mean(dim=-1)


def mean_absolute_error(y_true: torch.Tensor, y_pred: torch.Tensor) -> torch.Tensor:
    """``mean(abs(y_pred - y_true), axis=-1)``.

    Args:
        y_true: targets, shaped like ``y_pred``.
        y_pred: predictions.

    Example:
        >>> mean_absolute_error(torch.tensor([[0.0, 1.0]]), torch.tensor([[1.0, 1.0]]))
        tensor([0.5000])
    """
    return (y_pred - y_true.to(y_pred.dtype)).abs().mean(dim=-1)


def match_ranks(y_true: torch.Tensor, y_pred: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Keras's rank fix-up before a loss: a ``(batch,)`` target against ``(batch, 1)``
    predictions gets its last axis back, and a size-1 last axis too many is squeezed."""
    if y_true.dim() == 1 and y_pred.dim() == 2:
        y_true = y_true.unsqueeze(-1)
    if y_pred.dim() - y_true.dim() == 1 and y_pred.shape[-1] == 1:
        y_pred = y_pred.squeeze(-1)
    elif y_true.dim() - y_pred.dim() == 1 and y_true.shape[-1] == 1:
        y_true = y_true.squeeze(-1)
    return y_true, y_pred


def reduce_loss(losses: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
    """Averages per-sample losses as Keras 2's ``fit`` does.

    Without a mask: the mean of all entries. With a mask (the model output's, e.g. from
    ``Embedding(mask_zero=True)``), each entry is weighted by it: the mean over the valid
    entries only (tf-keras's ``apply_valid_mask``); 0 when none is valid.

    Args:
        losses: per-sample losses, e.g. ``(batch,)`` or ``(batch, time)``.
        mask: optional bool mask of the same shape; only its ``True`` entries count.

    Example:
        >>> reduce_loss(torch.tensor([[1.0, 3.0]]), torch.tensor([[True, False]]))
        tensor(1.)
    """
    if mask is None:
        return losses.mean()
    if tuple(mask.shape) != tuple(losses.shape):
        raise ValueError(
            f"reduce_loss: the mask must have the losses' shape {tuple(losses.shape)}. "
            f"Received: mask of shape {tuple(mask.shape)}."
        )
    weights = mask.to(losses.dtype)
    valid = weights.sum()
    total = (losses * weights).sum()
    return torch.where(valid > 0, total / valid.clamp(min=1.0), total * 0)


_FUNCTIONS: dict[str, Callable] = {
    "categorical_crossentropy": categorical_crossentropy,
    "sparse_categorical_crossentropy": sparse_categorical_crossentropy,
    "binary_crossentropy": binary_crossentropy,
    "mean_squared_error": mean_squared_error,
    "mse": mean_squared_error,
    "MSE": mean_squared_error,
    "mean_absolute_error": mean_absolute_error,
    "mae": mean_absolute_error,
    "MAE": mean_absolute_error,
}
_CLASS_NAMES = {
    "CategoricalCrossentropy": "categorical_crossentropy",
    "SparseCategoricalCrossentropy": "sparse_categorical_crossentropy",
    "BinaryCrossentropy": "binary_crossentropy",
    "MeanSquaredError": "mean_squared_error",
    "MeanAbsoluteError": "mean_absolute_error",
}
_OPTIONS = ("from_logits", "label_smoothing")
_IGNORED = ("reduction", "name", "axis", "ignore_class", "fn")


def get(identifier: Any) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    """Resolves a loss from a Keras name, a Keras class name or dict, or a callable.

    Args:
        identifier: ``'categorical_crossentropy'``, ``'sparse_categorical_crossentropy'``,
            ``'binary_crossentropy'``, ``'mse'``/``'mean_squared_error'``,
            ``'mae'``/``'mean_absolute_error'``, their class names
            (``'CategoricalCrossentropy'``), a serialized Keras loss
            (``{"class_name": ..., "config": {"from_logits": ...}}``), or a callable
            ``(y_true, y_pred) -> per-sample losses``.

    Returns:
        A function ``(y_true, y_pred) -> losses`` with the last axis reduced.

    Raises:
        ValueError: for unknown names or unsupported options.

    Example:
        >>> get("mse") is mean_squared_error
        True
    """
    serialized = as_config(identifier)
    if serialized is not None:
        class_name, given = serialized["class_name"], serialized["config"]
        function = lookup(
            "loss",
            _CLASS_NAMES.get(class_name, class_name),
            _FUNCTIONS,
            " (or their Keras class names) or a callable",
        )
        config = {k: v for k, v in given.items() if k not in _IGNORED}
        axis = given.get("axis", -1)
        unknown = sorted(set(config) - set(_OPTIONS))
        if unknown or axis != -1 or given.get("ignore_class"):
            raise ValueError(
                f"loss {class_name}: unsupported option(s) "
                f"{unknown or ['axis' if axis != -1 else 'ignore_class']}. Expected only "
                f"{list(_OPTIONS)}. Received: config={given!r}."
            )
        options = {k: v for k, v in config.items() if v}
        return partial(function, **options) if options else function
    if callable(identifier):
        return identifier
    raise ValueError(
        f"loss must be a Keras loss name, a serialized Keras loss or a callable. "
        f"Received: {identifier!r:.200}."
    )
