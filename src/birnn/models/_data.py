"""Arrays in, batches out: what ``fit``, ``evaluate`` and ``predict`` accept."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import torch


def as_tensor(array: Any, name: str, float_dtype: torch.dtype) -> torch.Tensor:
    """A numpy array, tensor or nested list as a tensor; floats in ``float_dtype``.

    Integer arrays stay integer (token ids for ``Embedding``); booleans become floats.

    Raises:
        ValueError: if ``array`` is ``None``, not numeric, or has no batch axis.
    """
    if array is None:
        raise ValueError(f"{name} must be an array or tensor. Received: None.")
    if isinstance(array, (list, tuple)) and array and not np.isscalar(array[0]):
        if any(torch.is_tensor(a) or isinstance(a, np.ndarray) for a in array):
            raise ValueError(
                f"{name} must be one array or tensor (a Sequential model has one input and "
                f"one output). Received: a {type(array).__name__} of {len(array)} arrays."
            )
    try:
        tensor = array if torch.is_tensor(array) else torch.as_tensor(np.asarray(array))
    except (TypeError, ValueError, RuntimeError) as error:
        raise ValueError(
            f"{name} must be a numeric array or tensor. Received: {type(array).__name__} ({error})."
        ) from None
    if tensor.dim() == 0:
        raise ValueError(f"{name} must have a batch axis. Received: a scalar.")
    if tensor.dtype == torch.bool:
        tensor = tensor.to(float_dtype)
    elif tensor.is_floating_point() and tensor.dtype != float_dtype:
        tensor = tensor.to(float_dtype)
    elif not tensor.is_floating_point() and tensor.is_complex():
        raise ValueError(f"{name} must be real. Received: dtype {tensor.dtype}.")
    return tensor


def check_same_length(x: torch.Tensor, y: torch.Tensor, x_name: str, y_name: str) -> None:
    if x.shape[0] != y.shape[0]:
        raise ValueError(
            f"{x_name} and {y_name} must have the same number of samples. Received: "
            f"{x_name} with {x.shape[0]}, {y_name} with {y.shape[0]}."
        )


def check_batch_size(batch_size: Any) -> int:
    if batch_size is None:
        return 32
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size <= 0:
        raise ValueError(f"batch_size must be a positive integer. Received: {batch_size!r}.")
    return batch_size


def check_int(value: Any, name: str, minimum: int) -> int:
    """``value`` as an int ``>= minimum``, or a ValueError naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        kind = "a positive integer" if minimum == 1 else f"an integer >= {minimum}"
        raise ValueError(f"{name} must be {kind}. Received: {name}={value!r}.")
    return int(value)


def check_validation_split(validation_split: Any) -> float:
    """``validation_split`` as a float in ``[0, 1)`` (0: no split), or a ValueError."""
    if (
        isinstance(validation_split, bool)
        or not isinstance(validation_split, (int, float, np.floating))
        or not 0.0 <= validation_split < 1.0
    ):
        raise ValueError(
            "validation_split must be a float in [0, 1). Received: "
            f"validation_split={validation_split!r}."
        )
    return float(validation_split)


def batch_indices(count: int, batch_size: int, shuffle: bool) -> Iterator[torch.Tensor]:
    """Index tensors of consecutive batches; a fresh permutation when ``shuffle``."""
    order = torch.randperm(count) if shuffle else torch.arange(count)
    for start in range(0, count, batch_size):
        yield order[start : start + batch_size]


def split_validation(
    x: torch.Tensor, y: torch.Tensor, validation_split: float
) -> tuple[torch.Tensor, torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
    """Keras's split: the *last* ``validation_split`` of the samples, before shuffling.

    ``validation_split`` is checked once, at ``fit``'s boundary (``check_validation_split``).
    """
    split_at = int(x.shape[0] * (1.0 - validation_split))
    if split_at == 0 or split_at == x.shape[0]:
        raise ValueError(
            f"validation_split={validation_split} leaves no samples for training or for "
            f"validation. Received: {x.shape[0]} samples."
        )
    return x[:split_at], y[:split_at], (x[split_at:], y[split_at:])
