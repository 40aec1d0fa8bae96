"""Weight initializers with Keras 2's names, defaults and formulas.

Each initializer is a callable ``init(shape, dtype=torch.float32) -> Tensor``
with ``get_config()``; ``get`` resolves Keras names (``"glorot_uniform"``),
class names (``"GlorotUniform"``) and serialized dicts.
"""

from __future__ import annotations

import math
from typing import Any

import torch

from ._objects import resolve_object, serialize_object

__all__ = [
    "Initializer",
    "Zeros",
    "Ones",
    "Constant",
    "RandomUniform",
    "RandomNormal",
    "TruncatedNormal",
    "VarianceScaling",
    "GlorotUniform",
    "GlorotNormal",
    "HeUniform",
    "HeNormal",
    "LecunUniform",
    "LecunNormal",
    "Orthogonal",
    "Identity",
    "get",
    "serialize",
]


# Config keys that hold plain numbers (Constant's value may also be an array).
_NUMBER_KEYS = frozenset({"minval", "maxval", "mean", "stddev", "gain", "scale"})


class Initializer:
    """Base class: subclasses implement ``__call__(shape, dtype)`` and ``get_config()``."""

    def __call__(self, shape: tuple[int, ...], dtype: torch.dtype = torch.float32) -> torch.Tensor:
        raise NotImplementedError

    def get_config(self) -> dict[str, Any]:
        return {}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Initializer:
        for key in _NUMBER_KEYS.intersection(config):
            value = config[key]
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ValueError(
                    f"{cls.__name__}: {key} must be a number. Received: {key}={value!r}."
                )
        return cls(**config)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class _Seeded(Initializer):
    """An initializer that draws random numbers, reproducibly when ``seed`` is set."""

    def __init__(self, seed: int | None = None):
        if seed is not None and not isinstance(seed, int):
            raise ValueError(f"seed must be an int or None. Received: {seed!r}.")
        self.seed = seed

    def _generator(self) -> torch.Generator | None:
        if self.seed is None:
            return None
        return torch.Generator().manual_seed(self.seed)


class Zeros(Initializer):
    """Fills with 0.

    Example:
        >>> Zeros()((2,))
        tensor([0., 0.])
    """

    def __call__(self, shape, dtype=torch.float32):
        return torch.zeros(shape, dtype=dtype)


class Ones(Initializer):
    """Fills with 1.

    Example:
        >>> Ones()((2,))
        tensor([1., 1.])
    """

    def __call__(self, shape, dtype=torch.float32):
        return torch.ones(shape, dtype=dtype)


class Constant(Initializer):
    """Fills with ``value``.

    Args:
        value: the value every entry gets.

    Example:
        >>> Constant(0.5)((2,))
        tensor([0.5000, 0.5000])
    """

    def __init__(self, value: float = 0.0):
        self.value = value

    def __call__(self, shape, dtype=torch.float32):
        return torch.full(shape, float(self.value), dtype=dtype)

    def get_config(self):
        return {"value": self.value}


class RandomUniform(_Seeded):
    """Draws from ``U(minval, maxval)``; Keras 2 defaults ``[-0.05, 0.05]``.

    Args:
        minval: the lower bound of the range.
        maxval: the upper bound of the range.
        seed: optional seed, for a reproducible draw.

    Example:
        >>> RandomUniform(seed=1)((3,)).abs().max().item() <= 0.05
        True
    """

    def __init__(self, minval: float = -0.05, maxval: float = 0.05, seed: int | None = None):
        super().__init__(seed)
        self.minval, self.maxval = minval, maxval

    def __call__(self, shape, dtype=torch.float32):
        x = torch.rand(shape, generator=self._generator(), dtype=torch.float64)
        return (self.minval + (self.maxval - self.minval) * x).to(dtype)

    def get_config(self):
        return {"minval": self.minval, "maxval": self.maxval, "seed": self.seed}


class RandomNormal(_Seeded):
    """Draws from ``N(mean, stddev**2)``; Keras 2 defaults ``mean=0, stddev=0.05``.

    Args:
        mean: the mean of the normal distribution.
        stddev: its standard deviation.
        seed: optional seed, for a reproducible draw.

    Example:
        >>> RandomNormal(seed=1)((4, 4)).shape
        torch.Size([4, 4])
    """

    def __init__(self, mean: float = 0.0, stddev: float = 0.05, seed: int | None = None):
        super().__init__(seed)
        self.mean, self.stddev = mean, stddev

    def __call__(self, shape, dtype=torch.float32):
        x = torch.randn(shape, generator=self._generator(), dtype=torch.float64)
        return (self.mean + self.stddev * x).to(dtype)

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed}


def _truncated_normal(shape, stddev: float, generator, dtype) -> torch.Tensor:
    x = torch.empty(shape, dtype=torch.float64)
    torch.nn.init.trunc_normal_(x, 0.0, 1.0, -2.0, 2.0, generator=generator)
    return (x * stddev).to(dtype)


class TruncatedNormal(_Seeded):
    """Draws from a normal truncated to two standard deviations around ``mean``.

    Args:
        mean: the mean of the normal distribution.
        stddev: its standard deviation before truncation.
        seed: optional seed, for a reproducible draw.

    Example:
        >>> bool((TruncatedNormal(stddev=1.0, seed=0)((100,)).abs() <= 2.0).all())
        True
    """

    def __init__(self, mean: float = 0.0, stddev: float = 0.05, seed: int | None = None):
        super().__init__(seed)
        self.mean, self.stddev = mean, stddev

    def __call__(self, shape, dtype=torch.float32):
        return self.mean + _truncated_normal(shape, self.stddev, self._generator(), dtype)

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed}


def _fans(shape: tuple[int, ...]) -> tuple[int, int]:
    if len(shape) < 1:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    if len(shape) == 2:
        return shape[0], shape[1]
    receptive = math.prod(shape[:-2])
    return shape[-2] * receptive, shape[-1] * receptive


class VarianceScaling(_Seeded):
    """Scales a uniform or (truncated) normal draw by the weight's fan, as Keras 2 does.

    Args:
        scale: positive scaling factor.
        mode: ``"fan_in"``, ``"fan_out"`` or ``"fan_avg"``.
        distribution: ``"truncated_normal"``, ``"untruncated_normal"`` or ``"uniform"``.
        seed: optional int for reproducible draws.

    Example:
        >>> w = VarianceScaling(1.0, "fan_avg", "uniform", seed=0)((4, 8))
        >>> bool(w.abs().max() <= (6 / 12) ** 0.5)
        True
    """

    _MODES = ("fan_in", "fan_out", "fan_avg")
    _DISTRIBUTIONS = ("truncated_normal", "untruncated_normal", "uniform", "normal")

    def __init__(self, scale=1.0, mode="fan_in", distribution="truncated_normal", seed=None):
        super().__init__(seed)
        if scale <= 0.0:
            raise ValueError(f"scale must be positive. Received: {scale!r}.")
        if mode not in self._MODES:
            raise ValueError(f"mode must be one of {self._MODES}. Received: {mode!r}.")
        if distribution not in self._DISTRIBUTIONS:
            raise ValueError(
                f"distribution must be one of {self._DISTRIBUTIONS}. Received: {distribution!r}."
            )
        self.scale, self.mode, self.distribution = scale, mode, distribution

    def __call__(self, shape, dtype=torch.float32):
        fan_in, fan_out = _fans(tuple(shape))
        fan = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2.0}
        variance = self.scale / max(1.0, fan[self.mode])
        generator = self._generator()
        if self.distribution == "uniform":
            limit = math.sqrt(3.0 * variance)
            x = torch.rand(shape, generator=generator, dtype=torch.float64)
            return ((2.0 * x - 1.0) * limit).to(dtype)
        if self.distribution in ("untruncated_normal", "normal"):
            x = torch.randn(shape, generator=generator, dtype=torch.float64)
            return (x * math.sqrt(variance)).to(dtype)
        # Keras 2 corrects the stddev for truncation at two standard deviations.
        return _truncated_normal(shape, math.sqrt(variance) / 0.87962566103423978, generator, dtype)

    def get_config(self):
        return {
            "scale": self.scale,
            "mode": self.mode,
            "distribution": self.distribution,
            "seed": self.seed,
        }


class _FixedVarianceScaling(VarianceScaling):
    """A VarianceScaling preset whose config holds only the seed, as in Keras."""

    _PRESET: tuple[float, str, str] = (1.0, "fan_avg", "uniform")

    def __init__(self, seed: int | None = None):
        super().__init__(*self._PRESET, seed=seed)

    def get_config(self):
        return {"seed": self.seed}


class GlorotUniform(_FixedVarianceScaling):
    """Uniform in ``[-limit, limit]``, ``limit = sqrt(6 / (fan_in + fan_out))``.

    Args:
        seed: optional seed, for a reproducible draw.

    Example:
        >>> bool(GlorotUniform(seed=0)((10, 40)).abs().max() <= (6 / 50) ** 0.5)
        True
    """

    _PRESET = (1.0, "fan_avg", "uniform")


class GlorotNormal(_FixedVarianceScaling):
    """Truncated normal with ``stddev = sqrt(2 / (fan_in + fan_out))``.

    Args:
        seed: optional seed, for a reproducible draw.
    """

    _PRESET = (1.0, "fan_avg", "truncated_normal")


class HeUniform(_FixedVarianceScaling):
    """Uniform in ``[-limit, limit]``, ``limit = sqrt(6 / fan_in)``.

    Args:
        seed: optional seed, for a reproducible draw.
    """

    _PRESET = (2.0, "fan_in", "uniform")


class HeNormal(_FixedVarianceScaling):
    """Truncated normal with ``stddev = sqrt(2 / fan_in)``.

    Args:
        seed: optional seed, for a reproducible draw.
    """

    _PRESET = (2.0, "fan_in", "truncated_normal")


class LecunUniform(_FixedVarianceScaling):
    """Uniform in ``[-limit, limit]``, ``limit = sqrt(3 / fan_in)``.

    Args:
        seed: optional seed, for a reproducible draw.
    """

    _PRESET = (1.0, "fan_in", "uniform")


class LecunNormal(_FixedVarianceScaling):
    """Truncated normal with ``stddev = sqrt(1 / fan_in)``.

    Args:
        seed: optional seed, for a reproducible draw.
    """

    _PRESET = (1.0, "fan_in", "truncated_normal")


class Orthogonal(_Seeded):
    """An orthogonal matrix (times ``gain``), from the QR decomposition of a normal draw.

    As in Keras 2, the shape is flattened to ``(prod(shape[:-1]), shape[-1])``, the QR
    factor's signs are fixed by ``diag(R)``, and a wide matrix is the transpose of a tall one.

    Args:
        gain: the factor on the orthogonal matrix.
        seed: optional seed, for a reproducible draw.

    Example:
        >>> w = Orthogonal(seed=0)((3, 12))
        >>> torch.allclose(w @ w.T, torch.eye(3), atol=1e-5)
        True
    """

    def __init__(self, gain: float = 1.0, seed: int | None = None):
        super().__init__(seed)
        self.gain = gain

    def __call__(self, shape, dtype=torch.float32):
        if len(shape) < 2:
            raise ValueError(
                f"Orthogonal needs a shape of rank >= 2. Received: shape={tuple(shape)}."
            )
        rows, cols = math.prod(shape[:-1]), shape[-1]
        a = torch.randn(
            max(rows, cols), min(rows, cols), generator=self._generator(), dtype=torch.float64
        )
        q, r = torch.linalg.qr(a)
        q = q * torch.sign(torch.diagonal(r))
        if rows < cols:
            q = q.T
        return (self.gain * q).reshape(shape).to(dtype)

    def get_config(self):
        return {"gain": self.gain, "seed": self.seed}


class Identity(Initializer):
    """``gain`` times the identity matrix (2-D shapes only).

    Args:
        gain: the factor on the identity matrix.

    Example:
        >>> Identity()((2, 2))
        tensor([[1., 0.],
                [0., 1.]])
    """

    def __init__(self, gain: float = 1.0):
        self.gain = gain

    def __call__(self, shape, dtype=torch.float32):
        if len(shape) != 2:
            raise ValueError(f"Identity needs a 2-D shape. Received: shape={tuple(shape)}.")
        return self.gain * torch.eye(*shape, dtype=dtype)

    def get_config(self):
        return {"gain": self.gain}


_CLASSES: dict[str, type[Initializer]] = {
    cls.__name__: cls
    for cls in (
        Zeros,
        Ones,
        Constant,
        RandomUniform,
        RandomNormal,
        TruncatedNormal,
        VarianceScaling,
        GlorotUniform,
        GlorotNormal,
        HeUniform,
        HeNormal,
        LecunUniform,
        LecunNormal,
        Orthogonal,
        Identity,
    )
}
_SNAKE_NAMES = {
    "zeros": Zeros,
    "zero": Zeros,
    "ones": Ones,
    "one": Ones,
    "constant": Constant,
    "random_uniform": RandomUniform,
    "uniform": RandomUniform,
    "random_normal": RandomNormal,
    "normal": RandomNormal,
    "truncated_normal": TruncatedNormal,
    "variance_scaling": VarianceScaling,
    "glorot_uniform": GlorotUniform,
    "glorot_normal": GlorotNormal,
    "he_uniform": HeUniform,
    "he_normal": HeNormal,
    "lecun_uniform": LecunUniform,
    "lecun_normal": LecunNormal,
    "orthogonal": Orthogonal,
    "identity": Identity,
}


def serialize(initializer: Initializer) -> dict[str, Any]:
    """Returns the dict tf-keras 2.x writes for an initializer.

    Args:
        initializer: an ``Initializer``.

    Example:
        >>> serialize(Orthogonal())["class_name"]
        'Orthogonal'
    """
    return serialize_object(initializer, "keras.initializers")


def get(identifier: Any) -> Initializer:
    """Resolves an initializer from a Keras name, a class name, a serialized dict or an instance.

    Args:
        identifier: ``"glorot_uniform"``, ``"GlorotUniform"``,
            ``{"class_name": "Orthogonal", "config": {"gain": 1.0}}``, an
            ``Initializer``, or any callable ``(shape, dtype) -> Tensor``.

    Returns:
        An initializer.

    Raises:
        ValueError: if the name is unknown or the config does not fit the class.

    Example:
        >>> get("orthogonal")
        Orthogonal(gain=1.0, seed=None)
    """
    return resolve_object(identifier, "initializer", Initializer, {**_CLASSES, **_SNAKE_NAMES})
