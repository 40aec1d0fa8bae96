"""``Conv1D`` and ``Conv2D``: Keras 2's convolutions on ``torch.nn.functional.conv*d``.

The kernel keeps Keras's layout, ``(*kernel_size, in_channels // groups, filters)``, so
``get_weights``/``set_weights`` and Keras files need no transposes; it is viewed in PyTorch's
``(filters, in_channels // groups, *kernel_size)`` layout at each call. ``"same"`` pads as
TensorFlow does (the odd extra step at the end) and ``"causal"`` pads before only. Like
tf-keras 2's convolutions, they stop a mask.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch.nn.parameter import is_lazy

from ._core import _as_float_input, add_kernel_and_bias, apply_activation, kernel_layer_options
from ._layer import Layer, check_units
from ._spatial import (
    DropsMask,
    channels_back,
    channels_first,
    check_choice,
    check_data_format,
    check_rank,
    int_tuple,
    pad_spatial,
    window_output_length,
)


class _Conv(DropsMask, Layer):
    """An N-D convolution (N = ``_rank``) with Keras 2's arguments."""

    _rank = 1
    _paddings: tuple[str, ...] = ("valid", "same")

    def __init__(
        self,
        filters: int,
        kernel_size: Any,
        strides: Any,
        padding: str,
        data_format: str | None,
        dilation_rate: Any,
        groups: int,
        activation: Any,
        use_bias: bool,
        kernel_initializer: Any,
        bias_initializer: Any,
        kernel_regularizer: Any,
        bias_regularizer: Any,
        activity_regularizer: Any,
        kernel_constraint: Any,
        bias_constraint: Any,
        **kwargs: Any,
    ):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        owner = type(self).__name__
        rank = self._rank
        self.filters = check_units(owner, filters, "filters")
        self.kernel_size = int_tuple(owner, "kernel_size", kernel_size, rank)
        self.strides = int_tuple(owner, "strides", strides, rank)
        self.padding = check_choice(owner, "padding", padding, self._paddings)
        self.data_format = check_data_format(owner, data_format)
        self.dilation_rate = int_tuple(owner, "dilation_rate", dilation_rate, rank)
        self.groups = check_units(owner, groups, "groups")
        if self.filters % self.groups:
            raise ValueError(
                f"{owner}: filters must be divisible by groups. "
                f"Received: filters={self.filters}, groups={self.groups}."
            )
        if max(self.strides) > 1 and max(self.dilation_rate) > 1:
            raise ValueError(
                f"{owner}: strides > 1 cannot be combined with dilation_rate > 1 (as in "
                f"Keras). Received: strides={self.strides}, dilation_rate={self.dilation_rate}."
            )
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

    def _input_shape_from_weights(self, state_dict: dict, prefix: str) -> tuple | None:
        kernel = state_dict.get(prefix + "kernel")
        if not torch.is_tensor(kernel) or is_lazy(kernel) or kernel.dim() != self._rank + 2:
            return None
        spatial = [None] * self._rank
        channels = kernel.shape[-2] * self.groups
        if self.data_format == "channels_last":
            return (None, *spatial, channels)
        return (None, channels, *spatial)

    def _channel_axis(self) -> int:
        return -1 if self.data_format == "channels_last" else 1

    def _layout(self) -> str:
        spatial = "steps" if self._rank == 1 else "rows, cols"
        if self.data_format == "channels_last":
            return f"(batch, {spatial}, channels)"
        return f"(batch, channels, {spatial})"

    def build(self, input_shape: tuple) -> None:
        owner = f"{type(self).__name__} '{self.name}'"
        if len(input_shape) != self._rank + 2:
            raise ValueError(
                f"{owner}: expected inputs of rank {self._rank + 2} {self._layout()}. "
                f"Received: input_shape={tuple(input_shape)}."
            )
        channels = input_shape[self._channel_axis()]
        if channels is None or channels % self.groups:
            raise ValueError(
                f"{owner}: the inputs' channel axis must be known and divisible by groups="
                f"{self.groups}. Received: input_shape={tuple(input_shape)}."
            )
        self.input_channels = channels
        add_kernel_and_bias(
            self, (*self.kernel_size, channels // self.groups, self.filters), (self.filters,)
        )
        self.built = True

    def _input_shape_from_weights(self, state_dict: dict, prefix: str) -> tuple | None:
        kernel = state_dict.get(prefix + "kernel")
        if not torch.is_tensor(kernel) or is_lazy(kernel) or kernel.dim() != self._rank + 2:
            return None
        channels, spatial = kernel.shape[-2] * self.groups, (None,) * self._rank
        if self.data_format == "channels_last":
            return (None, *spatial, channels)
        return (None, channels, *spatial)

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        inputs = _as_float_input(self, check_rank(self, inputs, self._rank + 2, self._layout()))
        if inputs.shape[self._channel_axis()] != self.input_channels:
            raise ValueError(
                f"{type(self).__name__} '{self.name}': expected {self.input_channels} input "
                f"channels (the layer was built for that). Received: shape {tuple(inputs.shape)}."
            )
        x = channels_first(inputs, self.data_format)
        x = pad_spatial(x, self.kernel_size, self.padding, self.strides, self.dilation_rate)
        # Keras's (*kernel_size, in, out) as PyTorch's (out, in, *kernel_size); contiguous,
        # because some of PyTorch's CPU convolutions refuse a strided weight in backward.
        weight = self.kernel.permute(self._rank + 1, self._rank, *range(self._rank)).contiguous()
        conv = F.conv1d if self._rank == 1 else F.conv2d
        outputs = conv(x, weight, self.bias, self.strides, 0, self.dilation_rate, self.groups)
        return apply_activation(self.activation, channels_back(outputs, self.data_format))

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        shape = list(input_shape)
        first = 1 if self.data_format == "channels_last" else 2
        windows = zip(self.kernel_size, self.strides, self.dilation_rate)
        for axis, (window, stride, dilation) in enumerate(windows, start=first):
            shape[axis] = window_output_length(shape[axis], window, self.padding, stride, dilation)
        shape[self._channel_axis()] = self.filters
        return tuple(shape)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(
            {
                "filters": self.filters,
                "kernel_size": list(self.kernel_size),
                "strides": list(self.strides),
                "padding": self.padding,
                "data_format": self.data_format,
                "dilation_rate": list(self.dilation_rate),
                "groups": self.groups,
                **kernel_layer_options(self),
            }
        )
        return config

    def extra_repr(self) -> str:
        return (
            f"filters={self.filters}, kernel_size={self.kernel_size}, strides={self.strides}, "
            f"padding={self.padding!r}, name={self.name!r}"
        )


class Conv1D(_Conv):
    """Keras 2's 1D convolution over time: ``(batch, steps, channels)`` to
    ``(batch, new_steps, filters)``.

    Args:
        filters: the number of output channels.
        kernel_size: the window length, an int (or a tuple of one int).
        strides: the step between windows.
        padding: ``"valid"`` (no padding), ``"same"`` (``ceil(steps / strides)`` outputs,
            padded as TensorFlow does) or ``"causal"`` (padded before only: output ``t``
            sees inputs up to ``t``).
        data_format: ``"channels_last"`` or ``"channels_first"`` ``(batch, channels, steps)``.
        dilation_rate: the spacing of the kernel's taps; > 1 needs ``strides=1``.
        groups: split the channels into this many independent groups.
        activation: an activation name or callable; ``None`` is linear.
        use_bias: whether to add ``bias``.
        kernel_initializer: initializer of ``kernel`` ``(kernel_size, channels // groups,
            filters)``.
        bias_initializer: initializer of ``bias`` ``(filters,)``.
        kernel_regularizer: optional penalty on ``kernel``, added to ``losses``.
        bias_regularizer: optional penalty on ``bias``.
        activity_regularizer: optional penalty on the output.
        kernel_constraint: optional projection of ``kernel`` after optimizer steps.
        bias_constraint: optional projection of ``bias`` after optimizer steps.
        **kwargs: base layer arguments (``name``, ``input_shape``...).

    Raises:
        ValueError: for a bad argument (naming it), or inputs of another rank or channel count.

    Example:
        >>> layer = Conv1D(4, 3, padding="causal")
        >>> layer(torch.ones(2, 10, 8)).shape, layer.get_weights()[0].shape
        (torch.Size([2, 10, 4]), (3, 8, 4))
    """

    _paddings = ("valid", "same", "causal")

    def __init__(
        self,
        filters: int,
        kernel_size: int | tuple,
        strides: int | tuple = 1,
        padding: str = "valid",
        data_format: str = "channels_last",
        dilation_rate: int | tuple = 1,
        groups: int = 1,
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
        super().__init__(
            filters,
            kernel_size,
            strides,
            padding,
            data_format,
            dilation_rate,
            groups,
            activation,
            use_bias,
            kernel_initializer,
            bias_initializer,
            kernel_regularizer,
            bias_regularizer,
            activity_regularizer,
            kernel_constraint,
            bias_constraint,
            **kwargs,
        )


class Conv2D(_Conv):
    """Keras 2's 2D convolution: ``(batch, rows, cols, channels)`` to
    ``(batch, new_rows, new_cols, filters)``.

    Args:
        filters: the number of output channels.
        kernel_size: an int or a tuple of 2 ints.
        strides: an int or a tuple of 2 ints.
        padding: ``"valid"`` or ``"same"`` (padded as TensorFlow does).
        data_format: ``"channels_last"`` (also for ``None``) or ``"channels_first"``.
        dilation_rate: an int or a tuple of 2 ints; > 1 needs ``strides=1``.
        groups: split the channels into this many independent groups.
        activation: an activation name or callable; ``None`` is linear.
        use_bias: whether to add ``bias``.
        kernel_initializer: initializer of ``kernel`` ``(rows, cols, channels // groups,
            filters)``.
        bias_initializer: initializer of ``bias`` ``(filters,)``.
        kernel_regularizer: optional penalty on ``kernel``.
        bias_regularizer: optional penalty on ``bias``.
        activity_regularizer: optional penalty on the output.
        kernel_constraint: optional projection of ``kernel`` after optimizer steps.
        bias_constraint: optional projection of ``bias`` after optimizer steps.
        **kwargs: base layer arguments.

    Example:
        >>> Conv2D(2, 3, padding="same")(torch.ones(1, 5, 4, 3)).shape
        torch.Size([1, 5, 4, 2])
    """

    _rank = 2

    def __init__(
        self,
        filters: int,
        kernel_size: int | tuple,
        strides: int | tuple = (1, 1),
        padding: str = "valid",
        data_format: str | None = None,
        dilation_rate: int | tuple = (1, 1),
        groups: int = 1,
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
        super().__init__(
            filters,
            kernel_size,
            strides,
            padding,
            data_format,
            dilation_rate,
            groups,
            activation,
            use_bias,
            kernel_initializer,
            bias_initializer,
            kernel_regularizer,
            bias_regularizer,
            activity_regularizer,
            kernel_constraint,
            bias_constraint,
            **kwargs,
        )
