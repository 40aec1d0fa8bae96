"""Regularizing layers that act only while training: ``SpatialDropout1D/2D``,
``GaussianNoise`` and ``GaussianDropout``. At inference each is the identity; all pass a
mask on unchanged, as Keras 2's do.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch

from ._core import Dropout, _as_float_input
from ._layer import Layer
from ._spatial import check_data_format, check_rank


class SpatialDropout1D(Dropout):
    """Drops whole feature channels of a sequence while training (Keras 2's
    ``SpatialDropout1D``): one keep/drop draw per ``(sample, channel)``, shared by every step.

    Args:
        rate: the fraction of channels to drop, in ``[0, 1]``.
        noise_shape: written to the config as Keras does, but not used: the shape is always
            ``(batch, 1, channels)``.
        seed: optional int; draws from a private generator seeded with it.
        **kwargs: base layer arguments.

    Call arguments:
        inputs: ``(batch, steps, channels)``.
        training: dropout on or off; ``None`` follows ``module.train()``/``eval()``.

    Example:
        >>> y = SpatialDropout1D(0.5, seed=0)(torch.ones(1, 4, 6), training=True)
        >>> bool((y == y[:, :1]).all())  # the same channels are dropped at every step
        True
    """

    def __init__(
        self,
        rate: float,
        noise_shape: Sequence[int | None] | None = None,
        seed: int | None = None,
        **kwargs: Any,
    ):
        super().__init__(rate, noise_shape=noise_shape, seed=seed, **kwargs)

    def _noise_shape(self, inputs: torch.Tensor) -> tuple[int, ...]:
        check_rank(self, inputs, 3, "(batch, steps, channels)")
        return (inputs.shape[0], 1, inputs.shape[2])


class SpatialDropout2D(Dropout):
    """Drops whole feature maps while training (Keras 2's ``SpatialDropout2D``): one draw per
    ``(sample, channel)``, shared by every row and column.

    Args:
        rate: the fraction of channels to drop, in ``[0, 1]``.
        data_format: ``"channels_last"`` (also for ``None``) or ``"channels_first"``; like
            Keras, not written to the config.
        noise_shape: written to the config as Keras does, but not used.
        seed: optional int.
        **kwargs: base layer arguments.

    Example:
        >>> SpatialDropout2D(0.5)(torch.ones(1, 2, 2, 3), training=False).shape
        torch.Size([1, 2, 2, 3])
    """

    def __init__(
        self,
        rate: float,
        data_format: str | None = None,
        noise_shape: Sequence[int | None] | None = None,
        seed: int | None = None,
        **kwargs: Any,
    ):
        super().__init__(rate, noise_shape=noise_shape, seed=seed, **kwargs)
        self.data_format = check_data_format("SpatialDropout2D", data_format)

    def _noise_shape(self, inputs: torch.Tensor) -> tuple[int, ...]:
        if self.data_format == "channels_first":
            check_rank(self, inputs, 4, "(batch, channels, rows, cols)")
            return (inputs.shape[0], inputs.shape[1], 1, 1)
        check_rank(self, inputs, 4, "(batch, rows, cols, channels)")
        return (inputs.shape[0], 1, 1, inputs.shape[3])


class _Noise(Layer):
    """A layer that draws Gaussian noise while training, optionally from a seeded generator."""

    def __init__(self, seed: int | None, **kwargs: Any):
        super().__init__(**kwargs)
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            raise ValueError(
                f"{type(self).__name__}: seed must be an int or None. Received: seed={seed!r}."
            )
        self.seed = seed
        self._generator: torch.Generator | None = None

    def _normal(self, like: torch.Tensor) -> torch.Tensor:
        generator = None
        if self.seed is not None:
            if self._generator is None or self._generator.device != like.device:
                self._generator = torch.Generator(like.device).manual_seed(self.seed)
            generator = self._generator
        return torch.randn(like.shape, generator=generator, device=like.device, dtype=like.dtype)

    def _noisy(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def forward(self, inputs: torch.Tensor, training: bool | None = None) -> torch.Tensor:
        x = _as_float_input(self, inputs)
        training = self.training if training is None else bool(training)
        return self._noisy(x) if training else x


class GaussianNoise(_Noise):
    """Adds zero-mean Gaussian noise of standard deviation ``stddev`` while training
    (Keras 2's ``GaussianNoise``).

    Args:
        stddev: the noise's standard deviation, >= 0.
        seed: optional int; draws from a private generator seeded with it.
        **kwargs: base layer arguments.

    Example:
        >>> GaussianNoise(0.1)(torch.ones(2), training=False)
        tensor([1., 1.])
    """

    def __init__(self, stddev: float, seed: int | None = None, **kwargs: Any):
        super().__init__(seed, **kwargs)
        if isinstance(stddev, bool) or not isinstance(stddev, (int, float)) or stddev < 0:
            raise ValueError(
                f"GaussianNoise: stddev must be a number >= 0. Received: stddev={stddev!r}."
            )
        self.stddev = stddev
        self._build_from_constructor()

    def _noisy(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.stddev * self._normal(x)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update({"stddev": self.stddev, "seed": self.seed})
        return config


class GaussianDropout(_Noise):
    """Multiplies by Gaussian noise of mean 1 and standard deviation
    ``sqrt(rate / (1 - rate))`` while training (Keras 2's ``GaussianDropout``).

    Args:
        rate: the drop probability it imitates, in ``[0, 1)``; 0 changes nothing.
        seed: optional int.
        **kwargs: base layer arguments.

    Example:
        >>> GaussianDropout(0.2)(torch.ones(2), training=False)
        tensor([1., 1.])
    """

    def __init__(self, rate: float, seed: int | None = None, **kwargs: Any):
        super().__init__(seed, **kwargs)
        if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 <= rate < 1:
            raise ValueError(
                f"GaussianDropout: rate must be a float in [0, 1). Received: rate={rate!r}."
            )
        self.rate = rate
        self._build_from_constructor()

    def _noisy(self, x: torch.Tensor) -> torch.Tensor:
        if self.rate == 0:
            return x
        return x * (1.0 + math.sqrt(self.rate / (1.0 - self.rate)) * self._normal(x))

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update({"rate": self.rate, "seed": self.seed})
        return config
