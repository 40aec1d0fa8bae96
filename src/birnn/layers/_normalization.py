"""``BatchNormalization`` and ``LayerNormalization`` with Keras 2's arguments, weights and
numbers.

``BatchNormalization`` keeps Keras's momentum convention, ``moving = moving * momentum +
batch * (1 - momentum)`` (PyTorch's ``momentum`` is the other way round), and its moving
statistics are non-trainable weights after ``gamma`` and ``beta``, in Keras's order. Both
pass a mask on; a mask restricts ``BatchNormalization``'s batch statistics to valid steps.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from ._core import _as_float_input
from ._layer import Layer, serialize_weight_options


def _checked_axes(owner: str, axis: Any) -> list[int]:
    axes = [axis] if isinstance(axis, int) and not isinstance(axis, bool) else axis
    if (
        not isinstance(axes, (list, tuple))
        or not axes
        or not all(isinstance(a, int) and not isinstance(a, bool) for a in axes)
    ):
        raise ValueError(
            f"{owner}: axis must be an int or a list of ints. Received: axis={axis!r}."
        )
    return list(axes)


def _positive_axes(layer: Layer, axes: list[int], input_shape: Sequence) -> list[int]:
    """``axes`` counted from 0, checked against ``input_shape`` (the batch axis is not allowed)."""
    rank = len(input_shape)
    positive = [a + rank if a < 0 else a for a in axes]
    if any(not 0 < a < rank for a in positive) or len(set(positive)) != len(positive):
        raise ValueError(
            f"{type(layer).__name__} '{layer.name}': axis must name distinct non-batch axes of "
            f"the inputs. Received: axis={axes} for input_shape={tuple(input_shape)}."
        )
    if any(input_shape[a] is None for a in positive):
        raise ValueError(
            f"{type(layer).__name__} '{layer.name}': the inputs' size on axis {positive} must "
            f"be known. Received: input_shape={tuple(input_shape)}."
        )
    return positive


class _Normalization(Layer):
    """Shared by both layers: axes, ``center``/``scale`` and their weights' options."""

    def __init__(
        self,
        axis: Any,
        epsilon: float,
        center: bool,
        scale: bool,
        beta_initializer: Any,
        gamma_initializer: Any,
        beta_regularizer: Any,
        gamma_regularizer: Any,
        beta_constraint: Any,
        gamma_constraint: Any,
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        owner = type(self).__name__
        self.axis: int | list[int] = axis if isinstance(axis, int) else list(axis or [])
        self._axes = _checked_axes(owner, axis)
        if isinstance(epsilon, bool) or not isinstance(epsilon, (int, float)) or epsilon < 0:
            raise ValueError(
                f"{owner}: epsilon must be a number >= 0. Received: epsilon={epsilon!r}."
            )
        self.epsilon = float(epsilon)
        self.center = bool(center)
        self.scale = bool(scale)
        self._set_options(
            beta_initializer=beta_initializer,
            gamma_initializer=gamma_initializer,
            beta_regularizer=beta_regularizer,
            gamma_regularizer=gamma_regularizer,
            beta_constraint=beta_constraint,
            gamma_constraint=gamma_constraint,
        )

    def _gamma_beta_names(self) -> tuple[str | None, str | None]:
        return ("gamma" if self.scale else None, "beta" if self.center else None)

    def _add_gamma_beta(self, shape: tuple[int, ...]) -> None:
        if self.scale:
            self.add_weight(
                "gamma",
                shape,
                self.gamma_initializer,
                self.gamma_regularizer,
                self.gamma_constraint,
            )
        else:
            self.gamma = None
        if self.center:
            self.add_weight(
                "beta", shape, self.beta_initializer, self.beta_regularizer, self.beta_constraint
            )
        else:
            self.beta = None

    def _checked_input(self, inputs: Any) -> torch.Tensor:
        x = _as_float_input(self, inputs)
        if x.dim() != len(self._built_input_shape) or any(
            x.shape[a] != self._built_input_shape[a] for a in self.axis
        ):
            raise ValueError(
                f"{type(self).__name__} '{self.name}': expected inputs of rank "
                f"{len(self._built_input_shape)} with sizes "
                f"{[self._built_input_shape[a] for a in self.axis]} on axes {self.axis} (the "
                f"layer was built for that). Received: shape {tuple(x.shape)}."
            )
        return x

    def _broadcast(self, weight: torch.Tensor | None, rank: int) -> torch.Tensor | None:
        if weight is None:
            return None
        shape = [1] * rank
        for a in self.axis:
            shape[a] = self._built_input_shape[a]
        return weight.reshape(shape)

    def _normalized(self, x: torch.Tensor, mean: torch.Tensor, variance: torch.Tensor):
        gamma = self._broadcast(self.gamma, x.dim())
        beta = self._broadcast(self.beta, x.dim())
        inverse = torch.rsqrt(variance + self.epsilon)
        if gamma is not None:
            inverse = inverse * gamma
        offset = -mean * inverse
        if beta is not None:
            offset = offset + beta
        return x * inverse + offset

    def _options_config(self) -> dict[str, Any]:
        return {
            "axis": self.axis,
            "epsilon": self.epsilon,
            "center": self.center,
            "scale": self.scale,
            **serialize_weight_options(
                {
                    "beta_initializer": self.beta_initializer,
                    "gamma_initializer": self.gamma_initializer,
                }
            ),
        }

    def _regularizer_config(self) -> dict[str, Any]:
        return serialize_weight_options(
            {
                "beta_regularizer": self.beta_regularizer,
                "gamma_regularizer": self.gamma_regularizer,
                "beta_constraint": self.beta_constraint,
                "gamma_constraint": self.gamma_constraint,
            }
        )


class BatchNormalization(_Normalization):
    """Keras 2's batch normalization.

    While training (``training=True``, or ``module.train()`` with ``training=None``) it
    normalises with the batch's mean and (biased) variance over every axis but ``axis`` and
    updates ``moving_mean``/``moving_variance`` as Keras does:
    ``moving = moving * momentum + batch * (1 - momentum)``. Otherwise it uses the moving
    statistics. A layer with ``trainable=False`` always uses them, as in Keras 2.

    Args:
        axis: the feature axis (or list of axes) that keeps its own statistics.
        momentum: the moving statistics' momentum, Keras's convention.
        epsilon: added to the variance.
        center: whether to learn the offset ``beta``.
        scale: whether to learn the factor ``gamma``.
        beta_initializer: initializer of ``beta``.
        gamma_initializer: initializer of ``gamma``.
        moving_mean_initializer: initializer of ``moving_mean``.
        moving_variance_initializer: initializer of ``moving_variance``.
        beta_regularizer: optional penalty on ``beta``.
        gamma_regularizer: optional penalty on ``gamma``.
        beta_constraint: optional projection of ``beta`` after optimizer steps.
        gamma_constraint: optional projection of ``gamma`` after optimizer steps.
        synchronized: Keras 2's cross-replica statistics; only ``False`` is supported.
        renorm: Keras 2's batch renormalization; only ``False`` is supported.
        renorm_clipping: only ``None`` is supported.
        renorm_momentum: unused without ``renorm``.
        fused: Keras's choice of kernel; it changes only speed, and is ignored.
        virtual_batch_size: only ``None`` is supported.
        adjustment: only ``None`` is supported.
        **kwargs: base layer arguments.

    Call arguments:
        inputs: any rank >= 2.
        training: batch statistics (and updates) or moving statistics.
        mask: optional bool tensor ``(batch, steps)`` (or broadcastable to the inputs without
            their last axis): only valid positions count in the batch statistics.

    Example:
        >>> layer = BatchNormalization(momentum=0.9)
        >>> y = layer(torch.tensor([[1.0], [3.0]]), training=True)
        >>> y[:, 0], layer.moving_mean.data
        (tensor([-0.9995,  0.9995], grad_fn=<SelectBackward0>), tensor([0.2000]))
    """

    def __init__(
        self,
        axis: int | Sequence[int] = -1,
        momentum: float = 0.99,
        epsilon: float = 1e-3,
        center: bool = True,
        scale: bool = True,
        beta_initializer: Any = "zeros",
        gamma_initializer: Any = "ones",
        moving_mean_initializer: Any = "zeros",
        moving_variance_initializer: Any = "ones",
        beta_regularizer: Any = None,
        gamma_regularizer: Any = None,
        beta_constraint: Any = None,
        gamma_constraint: Any = None,
        synchronized: bool = False,
        renorm: bool = False,
        renorm_clipping: dict | None = None,
        renorm_momentum: float = 0.99,
        fused: bool | None = None,
        virtual_batch_size: int | None = None,
        adjustment: Any = None,
        **kwargs: Any,
    ):
        super().__init__(
            axis, epsilon, center, scale, beta_initializer, gamma_initializer,
            beta_regularizer, gamma_regularizer, beta_constraint, gamma_constraint, **kwargs,
        )  # fmt: skip
        unsupported = {
            "synchronized": (synchronized, False),
            "renorm": (renorm, False),
            "renorm_clipping": (renorm_clipping, None),
            "virtual_batch_size": (virtual_batch_size, None),
            "adjustment": (adjustment, None),
        }
        for name, (value, default) in unsupported.items():
            if value != default and value is not default:
                raise ValueError(
                    f"BatchNormalization: {name} is not supported by birnn; expected its "
                    f"default {default!r}. Received: {name}={value!r}."
                )
        del renorm_momentum, fused  # no effect without renorm; fused only changes speed
        if isinstance(momentum, bool) or not isinstance(momentum, (int, float)):
            raise ValueError(
                f"BatchNormalization: momentum must be a number. Received: momentum={momentum!r}."
            )
        self.momentum = float(momentum)
        self._set_options(
            moving_mean_initializer=moving_mean_initializer,
            moving_variance_initializer=moving_variance_initializer,
        )
        self._declare_weights(*self._gamma_beta_names(), "moving_mean", "moving_variance")
        self._build_from_constructor()

    def build(self, input_shape: tuple) -> None:
        self.axis = _positive_axes(self, self._axes, input_shape)
        if len(self.axis) == 1:
            shape: tuple[int, ...] = (input_shape[self.axis[0]],)
        else:
            shape = tuple(input_shape[a] if a in self.axis else 1 for a in range(len(input_shape)))
        self._add_gamma_beta(shape)
        self.add_weight("moving_mean", shape, self.moving_mean_initializer, trainable=False)
        self.add_weight("moving_variance", shape, self.moving_variance_initializer, trainable=False)
        self.built = True

    def forward(
        self, inputs: torch.Tensor, training: bool | None = None, mask: torch.Tensor | None = None
    ) -> torch.Tensor:
        x = self._checked_input(inputs)
        training = self.training if training is None else bool(training)
        if not (training and self.trainable):
            mean = self._broadcast(self.moving_mean, x.dim())
            variance = self._broadcast(self.moving_variance, x.dim())
            return self._normalized(x, mean, variance)
        reduce = [a for a in range(x.dim()) if a not in self.axis]
        if mask is None:
            mean = x.mean(dim=reduce, keepdim=True)
            variance = ((x - mean) ** 2).mean(dim=reduce, keepdim=True)
        else:
            weights = mask.to(x.dtype)
            while weights.dim() < x.dim():
                weights = weights.unsqueeze(-1)
            weights = weights.expand_as(x)
            count = weights.sum(dim=reduce, keepdim=True)
            mean = (weights * x).sum(dim=reduce, keepdim=True) / count
            variance = (weights * (x - mean) ** 2).sum(dim=reduce, keepdim=True) / count
        moving_variance = variance
        if x.dim() in (4, 5) and self.axis in ([1], [x.dim() - 1]):
            # tf-keras runs TensorFlow's fused kernel here, which updates the moving variance
            # with the unbiased (n / (n - 1)) batch variance.
            count = x.numel() // x.shape[self.axis[0]]
            moving_variance = variance * (count / max(count - 1, 1))
        with torch.no_grad():
            for moving, batch in (
                (self.moving_mean, mean),
                (self.moving_variance, moving_variance),
            ):
                moving.sub_((moving - batch.reshape(moving.shape)) * (1.0 - self.momentum))
        return self._normalized(x, mean, variance)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        options = self._options_config()
        config.update(
            {
                "axis": options.pop("axis"),
                "momentum": self.momentum,
                **options,
                **serialize_weight_options(
                    {
                        "moving_mean_initializer": self.moving_mean_initializer,
                        "moving_variance_initializer": self.moving_variance_initializer,
                    }
                ),
                **self._regularizer_config(),
            }
        )
        return config

    def extra_repr(self) -> str:
        return f"axis={self.axis}, momentum={self.momentum}, epsilon={self.epsilon}"


class LayerNormalization(_Normalization):
    """Keras 2's layer normalization: each sample is normalised over ``axis`` with its own
    mean and (biased) variance, then scaled by ``gamma`` and shifted by ``beta``.

    Args:
        axis: the axis or list of axes to normalise over (``-1``: the features).
        epsilon: added to the variance.
        center: whether to learn the offset ``beta`` (shape: the sizes on ``axis``).
        scale: whether to learn the factor ``gamma`` (same shape).
        beta_initializer: initializer of ``beta``.
        gamma_initializer: initializer of ``gamma``.
        beta_regularizer: optional penalty on ``beta``.
        gamma_regularizer: optional penalty on ``gamma``.
        beta_constraint: optional projection of ``beta`` after optimizer steps.
        gamma_constraint: optional projection of ``gamma`` after optimizer steps.
        **kwargs: base layer arguments.

    Example:
        >>> LayerNormalization()(torch.tensor([[1.0, 3.0]]))
        tensor([[-0.9995,  0.9995]], grad_fn=<AddBackward0>)
    """

    def __init__(
        self,
        axis: int | Sequence[int] = -1,
        epsilon: float = 1e-3,
        center: bool = True,
        scale: bool = True,
        beta_initializer: Any = "zeros",
        gamma_initializer: Any = "ones",
        beta_regularizer: Any = None,
        gamma_regularizer: Any = None,
        beta_constraint: Any = None,
        gamma_constraint: Any = None,
        **kwargs: Any,
    ):
        super().__init__(
            axis, epsilon, center, scale, beta_initializer, gamma_initializer,
            beta_regularizer, gamma_regularizer, beta_constraint, gamma_constraint, **kwargs,
        )  # fmt: skip
        self._declare_weights(*self._gamma_beta_names())
        self._build_from_constructor()

    def build(self, input_shape: tuple) -> None:
        self.axis = _positive_axes(self, self._axes, input_shape)
        self._add_gamma_beta(tuple(input_shape[a] for a in self.axis))
        self.built = True

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        x = self._checked_input(inputs)
        mean = x.mean(dim=self.axis, keepdim=True)
        variance = ((x - mean) ** 2).mean(dim=self.axis, keepdim=True)
        return self._normalized(x, mean, variance)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update({**self._options_config(), **self._regularizer_config()})
        return config

    def extra_repr(self) -> str:
        return f"axis={self.axis}, epsilon={self.epsilon}"
