"""``Dense``, ``Activation`` and ``Dropout``: Keras 2's core layers on the last axis.

All three pass an incoming mask on unchanged, as Keras's do (``supports_masking``).
``Dense`` and ``Activation`` leave the pre-activation logits on a softmax or sigmoid
output (``output._keras_logits``), as tf-keras does, so that crossentropy losses
read the logits instead of clipped probabilities.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch

from .. import activations
from .. import regularizers as regularizers_module
from ._layer import Layer, check_units, serialize_weight_options

_LOGIT_ACTIVATIONS = (activations.get("softmax"), activations.get("sigmoid"))


def apply_activation(activation: Callable, x: torch.Tensor) -> torch.Tensor:
    """Applies ``activation``; a softmax or sigmoid output remembers its logits ``x``.

    Example:
        >>> y = apply_activation(activations.get("softmax"), torch.zeros(1, 2))
        >>> y, y._keras_logits
        (tensor([[0.5000, 0.5000]]), tensor([[0., 0.]]))
    """
    output = activation(x)
    if activation in _LOGIT_ACTIVATIONS:
        output._keras_logits = x  # tf-keras caches these for its crossentropy losses
    return output


def _as_float_input(layer: Layer, inputs: Any) -> torch.Tensor:
    if not torch.is_tensor(inputs):
        raise ValueError(
            f"{type(layer).__name__} '{layer.name}': inputs must be a torch.Tensor. "
            f"Received: {type(inputs).__name__}."
        )
    if inputs.is_complex():
        raise ValueError(
            f"{type(layer).__name__} '{layer.name}': inputs must be real (integer, bool or "
            f"floating-point). Received: dtype {inputs.dtype}."
        )
    weight = next(layer.parameters(), None)
    if weight is not None and inputs.device != weight.device:
        raise ValueError(
            f"{type(layer).__name__} '{layer.name}': inputs must be on the layer's device "
            f"{weight.device}. Received: a tensor on {inputs.device}."
        )
    if inputs.dtype != layer.dtype and not torch.is_autocast_enabled():
        inputs = inputs.to(layer.dtype)
    return inputs


def kernel_options(layer: Layer) -> dict[str, Any]:
    """The kernel/bias initializer, regularizer and constraint entries (and the activity
    regularizer between them) of a layer with a kernel and a bias, in Keras's config order."""
    return {
        **serialize_weight_options(
            {
                "kernel_initializer": layer.kernel_initializer,
                "bias_initializer": layer.bias_initializer,
                "kernel_regularizer": layer.kernel_regularizer,
                "bias_regularizer": layer.bias_regularizer,
            }
        ),
        "activity_regularizer": regularizers_module.serialize(layer.activity_regularizer),
        **serialize_weight_options(
            {"kernel_constraint": layer.kernel_constraint, "bias_constraint": layer.bias_constraint}
        ),
    }


def kernel_layer_options(layer: Layer) -> dict[str, Any]:
    """The config entries that Dense and the convolutions write after their sizes, in Keras's
    order: ``activation``, ``use_bias``, then :func:`kernel_options`."""
    return {
        "activation": activations.serialize(layer.activation),
        "use_bias": layer.use_bias,
        **kernel_options(layer),
    }


def add_kernel_and_bias(
    layer: Layer, kernel_shape: tuple, bias_shape: tuple, prefix: str = ""
) -> None:
    """Adds ``{prefix}kernel`` and, with ``use_bias``, ``{prefix}bias`` (else sets it to
    ``None``) from the layer's kernel/bias initializers, regularizers and constraints: the
    weights of Dense, the convolutions and each projection of MultiHeadAttention."""
    layer.add_weight(
        prefix + "kernel",
        kernel_shape,
        layer.kernel_initializer,
        layer.kernel_regularizer,
        layer.kernel_constraint,
    )
    if layer.use_bias:
        layer.add_weight(
            prefix + "bias",
            bias_shape,
            layer.bias_initializer,
            layer.bias_regularizer,
            layer.bias_constraint,
        )
    else:
        setattr(layer, prefix + "bias", None)


class Dense(Layer):
    """Keras 2's densely connected layer: ``activation(inputs @ kernel + bias)``.

    Acts on the last axis of inputs of any rank ``(..., input_dim)``.

    Args:
        units: the output size, a positive integer.
        activation: an activation name or callable; ``None`` is linear.
        use_bias: whether to add ``bias``.
        kernel_initializer: initializer of ``kernel`` ``(input_dim, units)``.
        bias_initializer: initializer of ``bias`` ``(units,)``.
        kernel_regularizer: optional penalty on ``kernel``, added to ``losses``.
        bias_regularizer: optional penalty on ``bias``, added to ``losses``.
        activity_regularizer: optional penalty on the output.
        kernel_constraint: optional projection of ``kernel`` after optimizer steps.
        bias_constraint: optional projection of ``bias`` after optimizer steps.
        **kwargs: base layer arguments (``name``, ``input_shape``, ``input_dim``, ...).

    Call arguments:
        inputs: ``(..., input_dim)``; any dtype, cast to the layer's dtype.

    Returns:
        ``(..., units)``.

    Raises:
        ValueError: if ``units`` is not a positive integer, or the inputs' last dimension
            is unknown or differs from the one the layer was built for.

    Example:
        >>> layer = Dense(3, activation="relu")
        >>> layer(torch.ones(2, 5, 4)).shape
        torch.Size([2, 5, 3])
        >>> [w.shape for w in layer.get_weights()]
        [(4, 3), (3,)]
    """

    def __init__(
        self,
        units: int,
        activation: Any = None,
        use_bias: bool = True,
        kernel_initializer: Any = "glorot_uniform",
        bias_initializer: Any = "zeros",
        kernel_regularizer: Any = None,
        bias_regularizer: Any = None,
        activity_regularizer: Any = None,
        kernel_constraint: Any = None,
        bias_constraint: Any = None,
        **kwargs: Any,
    ):
        # Keras 2's Dense reads input_dim as the whole sample shape, not (None, input_dim).
        if kwargs.get("input_shape") is None and "input_dim" in kwargs:
            kwargs["input_shape"] = (kwargs.pop("input_dim"),)
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        self.units = check_units("Dense", units)
        self.use_bias = bool(use_bias)
        self._set_options(
            activation=activation,
            kernel_initializer=kernel_initializer,
            bias_initializer=bias_initializer,
            kernel_regularizer=kernel_regularizer,
            bias_regularizer=bias_regularizer,
            kernel_constraint=kernel_constraint,
            bias_constraint=bias_constraint,
        )
        self._declare_weights("kernel", "bias" if self.use_bias else None)
        self._build_from_constructor()

    def build(self, input_shape: tuple) -> None:
        input_dim = input_shape[-1] if input_shape else None
        if input_dim is None:
            raise ValueError(
                f"Dense '{self.name}': the last dimension of the inputs must be known. "
                f"Received: input_shape={tuple(input_shape)}."
            )
        self.input_dim = input_dim
        add_kernel_and_bias(self, (input_dim, self.units), (self.units,))
        self.built = True

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        inputs = _as_float_input(self, inputs)
        if inputs.dim() == 0 or inputs.shape[-1] != self.input_dim:
            raise ValueError(
                f"Dense '{self.name}': inputs must have {self.input_dim} features on the last "
                f"axis (the layer was built for that). Received: shape {tuple(inputs.shape)}."
            )
        outputs = torch.matmul(inputs, self.kernel)
        if self.bias is not None:
            outputs = outputs + self.bias
        return apply_activation(self.activation, outputs)

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return tuple(input_shape)[:-1] + (self.units,)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.pop("activity_regularizer", None)
        config.update(
            {
                "units": self.units,
                **kernel_layer_options(self),
            }
        )
        return config

    def extra_repr(self) -> str:
        return f"units={self.units}, name={self.name!r}"


class Activation(Layer):
    """Applies an activation function to its input (Keras 2's ``Activation``).

    Args:
        activation: an activation name (``"softmax"``, ``"relu"``...) or a callable.
        **kwargs: base layer arguments.

    Example:
        >>> Activation("softmax")(torch.zeros(1, 4))
        tensor([[0.2500, 0.2500, 0.2500, 0.2500]])
    """

    def __init__(self, activation: Any, **kwargs: Any):
        super().__init__(**kwargs)
        self.activation = activations.get(activation)
        self._build_from_constructor()

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        return apply_activation(self.activation, _as_float_input(self, inputs))

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config["activation"] = activations.serialize(self.activation)
        return config

    def extra_repr(self) -> str:
        return f"{activations.serialize(self.activation)!r}, name={self.name!r}"


class Dropout(Layer):
    """Zeroes input units with probability ``rate`` while training, scaling the rest by
    ``1 / (1 - rate)`` (Keras 2's ``Dropout``); the identity otherwise.

    Args:
        rate: the fraction of units to drop, in ``[0, 1]``.
        noise_shape: optional shape of the keep/drop pattern, broadcast over the inputs;
            ``None`` entries take the inputs' size (e.g. ``(None, 1, None)`` drops the same
            features at every time step).
        seed: optional int; draws from a private generator seeded with it.
        **kwargs: base layer arguments.

    Call arguments:
        inputs: any float tensor.
        training: dropout on or off; ``None`` follows ``module.train()``/``eval()``.

    Example:
        >>> layer = Dropout(0.5, seed=1)
        >>> layer(torch.ones(2, 3), training=False)
        tensor([[1., 1., 1.],
                [1., 1., 1.]])
        >>> sorted(set(layer(torch.ones(100), training=True).tolist()))
        [0.0, 2.0]
    """

    def __init__(
        self,
        rate: float,
        noise_shape: Sequence[int | None] | None = None,
        seed: int | None = None,
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 <= rate <= 1:
            raise ValueError(f"Dropout: rate must be a float in [0, 1]. Received: rate={rate!r}.")
        if noise_shape is not None and not isinstance(noise_shape, (list, tuple)):
            raise ValueError(
                "Dropout: noise_shape must be a list or tuple of ints (or None entries). "
                f"Received: noise_shape={noise_shape!r}."
            )
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            raise ValueError(f"Dropout: seed must be an int or None. Received: seed={seed!r}.")
        self.rate = float(rate)
        self.noise_shape = None if noise_shape is None else tuple(noise_shape)
        self.seed = seed
        self._generator: torch.Generator | None = None
        self._build_from_constructor()

    def _noise_shape(self, inputs: torch.Tensor) -> tuple[int, ...]:
        if self.noise_shape is None:
            return tuple(inputs.shape)
        if len(self.noise_shape) != inputs.dim() or any(
            wanted not in (None, 1, size) for wanted, size in zip(self.noise_shape, inputs.shape)
        ):
            raise ValueError(
                f"Dropout '{self.name}': noise_shape must have one entry per input axis, each "
                "None, 1 or the inputs' size on that axis. Received: "
                f"noise_shape={self.noise_shape} for inputs of shape {tuple(inputs.shape)}."
            )
        return tuple(
            size if wanted is None else wanted
            for wanted, size in zip(self.noise_shape, inputs.shape)
        )

    def forward(self, inputs: torch.Tensor, training: bool | None = None) -> torch.Tensor:
        if not torch.is_tensor(inputs):
            raise ValueError(
                f"Dropout '{self.name}': inputs must be a torch.Tensor. "
                f"Received: {type(inputs).__name__}."
            )
        training = self.training if training is None else bool(training)
        if not training or self.rate == 0:
            return inputs
        if self.rate == 1:
            return torch.zeros_like(inputs)
        keep = 1.0 - self.rate
        generator = None
        if self.seed is not None:
            if self._generator is None or self._generator.device != inputs.device:
                self._generator = torch.Generator(inputs.device).manual_seed(self.seed)
            generator = self._generator
        noise = torch.rand(self._noise_shape(inputs), generator=generator, device=inputs.device)
        return inputs * (noise < keep).to(inputs.dtype) / keep

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(
            {
                "rate": self.rate,
                "noise_shape": None if self.noise_shape is None else list(self.noise_shape),
                "seed": self.seed,
            }
        )
        return config

    def extra_repr(self) -> str:
        return f"rate={self.rate}, name={self.name!r}"
