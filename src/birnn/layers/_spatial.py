"""Argument checks and window arithmetic shared by the convolution, pooling and shaping layers.

Keras 2 normalises ``kernel_size``, ``strides``, ``pool_size`` and the like to tuples, writes
``data_format`` as ``"channels_last"`` or ``"channels_first"`` and pads ``"same"`` windows as
TensorFlow does: the odd extra step goes at the end.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from ._layer import Layer


def int_tuple(owner: str, name: str, value: Any, rank: int, minimum: int = 1) -> tuple[int, ...]:
    """``value`` (an int, or a list/tuple of ``rank`` ints) as a tuple of ``rank`` ints.

    Example:
        >>> int_tuple("Conv2D", "kernel_size", 3, 2)
        (3, 3)
    """
    values = (value,) * rank if _is_int(value) else value
    if (
        not isinstance(values, (list, tuple))
        or len(values) != rank
        or not all(_is_int(v) and v >= minimum for v in values)
    ):
        what = "an int" if rank == 1 else f"an int or a tuple of {rank} ints"
        raise ValueError(
            f"{owner}: {name} must be {what}, each >= {minimum}. Received: {name}={value!r}."
        )
    return tuple(int(v) for v in values)


def _is_int(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def check_choice(owner: str, name: str, value: Any, choices: tuple[str, ...]) -> str:
    """``value`` lower-cased if it is one of ``choices``, else a ValueError naming ``name``."""
    normalized = value.lower() if isinstance(value, str) else value
    if normalized not in choices:
        expected = ", ".join(repr(c) for c in choices)
        raise ValueError(f"{owner}: {name} must be one of {expected}. Received: {name}={value!r}.")
    return normalized


def check_data_format(owner: str, data_format: Any) -> str:
    """Keras's ``data_format``; ``None`` means ``"channels_last"`` (Keras's default)."""
    if data_format is None:
        return "channels_last"
    return check_choice(owner, "data_format", data_format, ("channels_last", "channels_first"))


def check_rank(layer: Layer, inputs: Any, rank: int, layout: str) -> torch.Tensor:
    """``inputs`` if it is a tensor of ``rank`` dimensions, else a ValueError naming ``layout``."""
    if not torch.is_tensor(inputs) or inputs.dim() != rank:
        received = f"shape {tuple(inputs.shape)}" if torch.is_tensor(inputs) else type(inputs)
        raise ValueError(
            f"{type(layer).__name__} '{layer.name}': expected inputs of rank {rank} {layout}. "
            f"Received: {received}."
        )
    return inputs


def window_output_length(
    length: int | None, window: int, padding: str, stride: int, dilation: int = 1
) -> int | None:
    """The number of window positions along one axis, as Keras's ``conv_output_length``.

    Example:
        >>> window_output_length(7, 3, "same", 2), window_output_length(7, 3, "valid", 2)
        (4, 3)
    """
    if length is None:
        return None
    if padding == "valid":
        length = length - (window - 1) * dilation
    return max(0, (length + stride - 1) // stride)


def same_padding(length: int, window: int, stride: int, dilation: int = 1) -> tuple[int, int]:
    """TensorFlow's ``"same"`` padding ``(before, after)``: the odd step goes after.

    Example:
        >>> same_padding(7, 4, 1)
        (1, 2)
    """
    out = math.ceil(length / stride)
    total = max((out - 1) * stride + (window - 1) * dilation + 1 - length, 0)
    return total // 2, total - total // 2


def pad_spatial(
    x: torch.Tensor,
    windows: tuple[int, ...],
    padding: str,
    strides: tuple[int, ...],
    dilations: tuple[int, ...] | None = None,
    value: float = 0.0,
) -> torch.Tensor:
    """Pads the trailing ``len(windows)`` axes of a channels-first ``x`` for ``padding``
    (``"valid"``: none; ``"same"``: TensorFlow's; ``"causal"``: all before)."""
    if padding == "valid":
        return x
    dilations = dilations or (1,) * len(windows)
    pads: list[int] = []
    axes = range(x.dim() - len(windows), x.dim())
    for axis, window, stride, dilation in zip(axes, windows, strides, dilations):
        if padding == "causal":
            before, after = (window - 1) * dilation, 0
        else:
            before, after = same_padding(x.shape[axis], window, stride, dilation)
        pads = [before, after, *pads]  # F.pad lists the last axis first
    return F.pad(x, pads, value=value)


def channels_first(x: torch.Tensor, data_format: str) -> torch.Tensor:
    """Moves a channels-last ``x``'s channels to axis 1 (no-op for channels-first)."""
    if data_format == "channels_first":
        return x
    return x.movedim(-1, 1)


def channels_back(x: torch.Tensor, data_format: str) -> torch.Tensor:
    """Undoes :func:`channels_first`."""
    if data_format == "channels_first":
        return x
    return x.movedim(1, -1)


class DropsMask:
    """Mixin of layers that do not support masking: like Keras 2 in a model, the mask stops
    at them (``compute_mask`` returns ``None``)."""

    def compute_mask(self, inputs: Any, mask: Any = None) -> None:
        return None
