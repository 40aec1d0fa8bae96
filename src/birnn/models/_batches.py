"""Batches for ``fit``, ``evaluate`` and ``predict``: from arrays, or from a PyTorch
``DataLoader`` or any other iterable of batches.

A batch from a loader is unpacked as Keras unpacks one: ``x``, ``(x,)``, ``(x, y)`` or
``(x, y, sample_weight)``, a list counting as a tuple (a ``DataLoader`` over a
``TensorDataset`` yields ``[x, y]``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np
import torch

from . import _data


def is_batches(data: Any) -> bool:
    """Whether ``data`` is an iterable of batches (a ``DataLoader``, a generator...) rather
    than one array of samples.

    Example:
        >>> is_batches(torch.utils.data.DataLoader(torch.zeros(4, 2))), is_batches(np.zeros(3))
        (True, False)
    """
    if isinstance(data, (torch.Tensor, np.ndarray, list, tuple, dict, str, bytes)):
        return False
    return isinstance(data, Iterable)


def check_not_a_dataset(data: Any, name: str) -> None:
    """A ``Dataset`` (samples, not batches) gets an error that says to wrap it."""
    if isinstance(data, torch.utils.data.Dataset) and not is_batches(data):
        raise ValueError(
            f"{name} must be an array, a tensor or an iterable of batches. Received: a "
            f"{type(data).__name__}, which holds samples; wrap it in "
            "torch.utils.data.DataLoader(dataset, batch_size=...)."
        )


def batch_count(batches: Any) -> int | None:
    """The number of batches per pass when ``len()`` tells it, else ``None``."""
    try:
        return len(batches)
    except TypeError:  # an IterableDataset's DataLoader, a generator
        return None


def unpack_batch(batch: Any, method: str, number: int, needs_targets: bool) -> tuple[Any, Any]:
    """A loader's batch as ``(x, y)`` (``y`` is ``None`` for ``predict``'s ``x`` alone).

    Raises:
        ValueError: for a batch that is not ``x``, ``(x,)`` or ``(x, y)``, for sample
            weights, and for a missing ``y`` when ``needs_targets``.
    """
    expected = "a tuple (x, y) of inputs and targets" if needs_targets else "x, (x,) or (x, y)"
    if isinstance(batch, list):
        batch = tuple(batch)
    if not isinstance(batch, tuple):
        batch = (batch,)
    if len(batch) == 3 and batch[2] is not None:
        raise ValueError(
            f"{method}: each batch must be {expected}; sample weights are not supported. "
            f"Received: batch {number} with 3 items (x, y, sample_weight)."
        )
    if not 1 <= len(batch) <= 3 or (needs_targets and (len(batch) < 2 or batch[1] is None)):
        raise ValueError(
            f"{method}: each batch must be {expected}. Received: batch {number}, "
            f"{describe(batch[0] if len(batch) == 1 else batch)}."
        )
    return batch[0], batch[1] if len(batch) > 1 else None


def describe(value: Any) -> str:
    """What ``value`` is, for errors: its type, and its shape or length."""
    if torch.is_tensor(value) or isinstance(value, np.ndarray):
        return f"{type(value).__name__} of shape {tuple(value.shape)}"
    if isinstance(value, (list, tuple)):
        return f"{type(value).__name__} of length {len(value)}"
    return type(value).__name__


def array_batches(
    x: Any, y: Any, batch_size: int, shuffle: bool, device: torch.device
) -> Iterator[tuple[Any, Any]]:
    """Consecutive ``(x, y)`` batches of tensors (or lists or dicts of them, for models with
    several inputs or outputs), on ``device``; reshuffled when ``shuffle``."""
    for index in _data.batch_indices(_data.sample_count(x), batch_size, shuffle):
        yield _data.take(x, index, device), None if y is None else _data.take(y, index, device)
