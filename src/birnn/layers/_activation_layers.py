"""Activation layers with arguments: ``ReLU``, ``LeakyReLU``, ``ELU`` and ``Softmax``.

Like tf-keras 2, they keep their numeric arguments as float32 (a config says
``0.30000001192092896`` for 0.3) and pass a mask on; ``Softmax`` also reads one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from ._core import _as_float_input
from ._layer import Layer


def _float32(owner: str, name: str, value: Any, allow_none: bool = False) -> float | None:
    """``value`` rounded to float32 as tf-keras stores it; a ValueError if it is not >= 0."""
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating)) or value < 0:
        raise ValueError(
            f"{owner}: {name} must be a number >= 0{' or None' if allow_none else ''}. "
            f"Received: {name}={value!r}."
        )
    return float(np.float32(value))


class ReLU(Layer):
    """Keras 2's rectified linear unit with options:
    ``max_value`` for ``x >= max_value``, ``x`` for ``threshold <= x < max_value``, and
    ``negative_slope * (x - threshold)`` below ``threshold``.

    Args:
        max_value: the ceiling, or ``None`` for none.
        negative_slope: the slope below the threshold.
        threshold: where the unit turns on.
        **kwargs: base layer arguments.

    Example:
        >>> ReLU(max_value=1.0)(torch.tensor([-1.0, 0.5, 2.0]))
        tensor([0.0000, 0.5000, 1.0000])
    """

    def __init__(
        self,
        max_value: float | None = None,
        negative_slope: float = 0.0,
        threshold: float = 0.0,
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        self.max_value = _float32("ReLU", "max_value", max_value, allow_none=True)
        self.negative_slope = _float32("ReLU", "negative_slope", negative_slope)
        self.threshold = _float32("ReLU", "threshold", threshold)
        self._build_from_constructor()

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        x = _as_float_input(self, inputs)
        slope, ceiling, threshold = self.negative_slope, self.max_value, self.threshold
        if slope and ceiling is None and not threshold:
            return F.leaky_relu(x, slope)
        # tf-keras's order of operations: zero below the threshold, clip, then the slope.
        below = F.relu(threshold - x) if slope else None
        x = x * (x > threshold).to(x.dtype) if threshold else F.relu(x)
        if ceiling is not None:
            x = torch.clamp(x, 0.0, ceiling)
        return x - slope * below if slope else x

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(
            {
                "max_value": self.max_value,
                "negative_slope": self.negative_slope,
                "threshold": self.threshold,
            }
        )
        return config


class LeakyReLU(Layer):
    """Keras 2's leaky ReLU: ``x`` for ``x > 0``, ``alpha * x`` otherwise.

    Args:
        alpha: the slope below zero, >= 0 (Keras 2's name; Keras 3 says ``negative_slope``).
        **kwargs: base layer arguments.

    Example:
        >>> LeakyReLU(0.5)(torch.tensor([-2.0, 3.0]))
        tensor([-1.,  3.])
    """

    def __init__(self, alpha: float = 0.3, **kwargs: Any):
        super().__init__(**kwargs)
        self.alpha = _float32("LeakyReLU", "alpha", alpha)
        self._build_from_constructor()

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        return F.leaky_relu(_as_float_input(self, inputs), self.alpha)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config["alpha"] = self.alpha
        return config


class ELU(Layer):
    """Keras 2's exponential linear unit: ``x`` for ``x > 0``, ``alpha * (exp(x) - 1)``
    otherwise.

    Args:
        alpha: the scale of the negative part, >= 0.
        **kwargs: base layer arguments.

    Example:
        >>> ELU()(torch.tensor([0.0, 1.0]))
        tensor([0., 1.])
    """

    def __init__(self, alpha: float = 1.0, **kwargs: Any):
        super().__init__(**kwargs)
        self.alpha = _float32("ELU", "alpha", alpha)
        self._build_from_constructor()

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        return F.elu(_as_float_input(self, inputs), self.alpha)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config["alpha"] = self.alpha
        return config


class Softmax(Layer):
    """Keras 2's softmax layer over ``axis`` (an int, or a list of axes normalised together).

    With a mask, masked positions get ``-1e9`` added to their logits (Keras's way: a row whose
    positions are all masked comes out uniform), or, with ``robust_masking=True``, are
    replaced by ``-1e9``.

    Args:
        axis: the axis or axes to normalise.
        robust_masking: replace masked logits instead of adding to them.
        **kwargs: base layer arguments.

    Call arguments:
        inputs: logits.
        mask: optional bool tensor broadcastable to ``inputs``, ``True`` where kept.

    Example:
        >>> Softmax()(torch.zeros(1, 3), mask=torch.tensor([[True, True, False]]))
        tensor([[0.5000, 0.5000, 0.0000]])
    """

    def __init__(self, axis: int | Sequence[int] = -1, robust_masking: bool = False, **kwargs: Any):
        super().__init__(**kwargs)
        is_int = isinstance(axis, int) and not isinstance(axis, bool)
        if not is_int and not (
            isinstance(axis, (list, tuple))
            and axis
            and all(isinstance(a, int) and not isinstance(a, bool) for a in axis)
        ):
            raise ValueError(
                f"Softmax: axis must be an int or a list of ints. Received: axis={axis!r}."
            )
        self.axis = axis if is_int else list(axis)
        self.robust_masking = bool(robust_masking)
        self._build_from_constructor()

    def forward(self, inputs: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        x = _as_float_input(self, inputs)
        if mask is not None:
            x = masked_logits(x, mask, self.robust_masking)
        if isinstance(self.axis, int):
            return torch.softmax(x, dim=self.axis)
        if len(self.axis) == 1:
            return torch.softmax(x, dim=self.axis[0])
        return torch.exp(x - torch.logsumexp(x, dim=self.axis, keepdim=True))

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config["axis"] = self.axis
        if self.robust_masking:
            config["robust_masking"] = True
        return config


def masked_logits(x: torch.Tensor, mask: torch.Tensor, robust: bool = False) -> torch.Tensor:
    """Keras's masked softmax logits: ``-1e9`` (half float16's minimum in float16) added at
    masked positions, or put there when ``robust``.

    Example:
        >>> masked_logits(torch.zeros(2), torch.tensor([True, False]))
        tensor([ 0.0000e+00, -1.0000e+09])
    """
    large_negative = torch.finfo(torch.float16).min / 2 if x.dtype == torch.float16 else -1e9
    if robust:
        keep = mask if mask.dtype == torch.bool else mask > 0.5
        return torch.where(keep, x, torch.full_like(x, large_negative))
    return x + (1.0 - mask.to(x.dtype)) * large_negative
