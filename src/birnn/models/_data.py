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


def _leaves(structure: Any) -> list[torch.Tensor]:
    if isinstance(structure, dict):
        return [leaf for value in structure.values() for leaf in _leaves(value)]
    if isinstance(structure, (list, tuple)):
        return [leaf for value in structure for leaf in _leaves(value)]
    return [structure]


def sample_count(structure: Any) -> int:
    """The batch size of a tensor, or of a list or dict of tensors."""
    return int(_leaves(structure)[0].shape[0])


def take(structure: Any, index: torch.Tensor | None, device: torch.device) -> Any:
    """The samples ``index`` (all with ``None``) of each tensor, moved to ``device``."""
    if isinstance(structure, dict):
        return {key: take(value, index, device) for key, value in structure.items()}
    if isinstance(structure, (list, tuple)):
        return [take(value, index, device) for value in structure]
    return (structure if index is None else structure[index]).to(device)


def concatenate(batches: list[Any]) -> Any:
    """Per-batch outputs (tensors, lists or dicts of them) joined into numpy arrays."""
    first = batches[0]
    if isinstance(first, dict):
        return {key: concatenate([b[key] for b in batches]) for key in first}
    if isinstance(first, (list, tuple)):
        return [concatenate([b[i] for b in batches]) for i in range(len(first))]
    return torch.cat(batches).cpu().numpy()


def check_same_length(x: Any, y: Any, x_name: str, y_name: str) -> None:
    """Every array of ``x`` and ``y`` has the same number of samples, or a ValueError."""
    counts = [(x_name, t) for t in _leaves(x)] + [(y_name, t) for t in _leaves(y)]
    sizes = {int(t.shape[0]) for _, t in counts}
    if len(sizes) > 1:
        found = ", ".join(f"{name} with {int(t.shape[0])}" for name, t in counts)
        raise ValueError(
            f"{x_name} and {y_name} must have the same number of samples. Received: {found}."
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


def split_validation(x: Any, y: Any, validation_split: float) -> tuple[Any, Any, tuple]:
    """Keras's split: the *last* ``validation_split`` of the samples, before shuffling.

    ``validation_split`` is checked once, at ``fit``'s boundary (``check_validation_split``).
    """
    count = sample_count(x)
    split_at = int(count * (1.0 - validation_split))
    if split_at == 0 or split_at == count:
        raise ValueError(
            f"validation_split={validation_split} leaves no samples for training or for "
            f"validation. Received: {count} samples."
        )
    cpu = torch.device("cpu")
    first, rest = torch.arange(split_at), torch.arange(split_at, count)
    return (
        take(x, first, cpu),
        take(y, first, cpu),
        (take(x, rest, cpu), take(y, rest, cpu)),
    )
