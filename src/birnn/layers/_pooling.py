"""Pooling layers: ``MaxPooling1D/2D``, ``AveragePooling1D/2D`` and the global poolings.

As in Keras 2, ``"same"`` windows are padded as TensorFlow pads them (the odd extra step at
the end), and an average over a window that reaches into the padding counts only the real
steps. Only ``GlobalAveragePooling1D`` reads a mask (a masked mean over the valid steps); the
other pooling layers stop a mask, as tf-keras 2's do in a model.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from ._core import _as_float_input
from ._layer import Layer
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

_LAYOUTS = {
    1: {"channels_last": "(batch, steps, channels)", "channels_first": "(batch, channels, steps)"},
    2: {
        "channels_last": "(batch, rows, cols, channels)",
        "channels_first": "(batch, channels, rows, cols)",
    },
}


class _Pooling(DropsMask, Layer):
    """Max or average pooling over ``rank`` spatial axes."""

    _rank = 1
    _reduce = "max"

    def __init__(
        self,
        pool_size: Any,
        strides: Any,
        padding: str,
        data_format: str | None,
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        owner = type(self).__name__
        self.pool_size = int_tuple(owner, "pool_size", pool_size, self._rank)
        self.strides = (
            self.pool_size if strides is None else int_tuple(owner, "strides", strides, self._rank)
        )
        self.padding = check_choice(owner, "padding", padding, ("valid", "same"))
        self.data_format = check_data_format(owner, data_format)
        self._build_from_constructor()

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        layout = _LAYOUTS[self._rank][self.data_format]
        x = channels_first(check_rank(self, inputs, self._rank + 2, layout), self.data_format)
        x = _as_float_input(self, x)
        pool = F.max_pool1d if self._rank == 1 else F.max_pool2d
        if self._reduce == "max":
            padded = pad_spatial(x, self.pool_size, self.padding, self.strides, value=-torch.inf)
            return channels_back(pool(padded, self.pool_size, self.strides), self.data_format)
        pool = F.avg_pool1d if self._rank == 1 else F.avg_pool2d
        outputs = pool(
            pad_spatial(x, self.pool_size, self.padding, self.strides), self.pool_size, self.strides
        )
        if self.padding == "same":
            # TensorFlow averages over the real steps only: divide by each window's share of them.
            ones = x.new_ones((1, 1, *x.shape[2:]))
            outputs = outputs / pool(
                pad_spatial(ones, self.pool_size, self.padding, self.strides),
                self.pool_size,
                self.strides,
            )
        return channels_back(outputs, self.data_format)

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        shape = list(input_shape)
        first = 1 if self.data_format == "channels_last" else 2
        for axis, (window, stride) in enumerate(zip(self.pool_size, self.strides), start=first):
            shape[axis] = window_output_length(shape[axis], window, self.padding, stride)
        return tuple(shape)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        values = {
            "pool_size": list(self.pool_size),
            "strides": list(self.strides),
            "padding": self.padding,
            "data_format": self.data_format,
        }
        # tf-keras writes the 1D and 2D poolings' keys in different orders.
        order = (
            ("strides", "pool_size", "padding", "data_format")
            if self._rank == 1
            else ("pool_size", "padding", "strides", "data_format")
        )
        config.update({key: values[key] for key in order})
        return config

    def extra_repr(self) -> str:
        return f"pool_size={self.pool_size}, strides={self.strides}, padding={self.padding!r}"


class MaxPooling1D(_Pooling):
    """Keras 2's max pooling over time: the largest value in each window of ``pool_size`` steps.

    Args:
        pool_size: the window length, an int.
        strides: the step between windows; ``None`` means ``pool_size``.
        padding: ``"valid"`` (no padding) or ``"same"`` (``ceil(steps / strides)`` windows).
        data_format: ``"channels_last"`` ``(batch, steps, channels)`` or ``"channels_first"``.
        **kwargs: base layer arguments.

    Returns:
        ``(batch, pooled_steps, channels)``.

    Example:
        >>> MaxPooling1D(2)(torch.tensor([[[1.0], [3.0], [2.0], [0.0], [5.0]]]))[0, :, 0]
        tensor([3., 2.])
    """

    def __init__(
        self,
        pool_size: int | tuple = 2,
        strides: int | tuple | None = None,
        padding: str = "valid",
        data_format: str = "channels_last",
        **kwargs: Any,
    ):
        super().__init__(pool_size, strides, padding, data_format, **kwargs)


class AveragePooling1D(_Pooling):
    """Keras 2's average pooling over time; a ``"same"`` window that reaches into the padding
    averages its real steps only, as TensorFlow does.

    Args:
        pool_size: the window length, an int.
        strides: the step between windows; ``None`` means ``pool_size``.
        padding: ``"valid"`` or ``"same"``.
        data_format: ``"channels_last"`` or ``"channels_first"``.
        **kwargs: base layer arguments.

    Example:
        >>> AveragePooling1D(2, padding="same")(torch.tensor([[[1.0], [3.0], [5.0]]]))[0, :, 0]
        tensor([2., 5.])
    """

    _reduce = "average"

    def __init__(
        self,
        pool_size: int | tuple = 2,
        strides: int | tuple | None = None,
        padding: str = "valid",
        data_format: str = "channels_last",
        **kwargs: Any,
    ):
        super().__init__(pool_size, strides, padding, data_format, **kwargs)


class MaxPooling2D(_Pooling):
    """Keras 2's 2D max pooling over ``(rows, cols)`` windows.

    Args:
        pool_size: an int or a tuple of 2 ints.
        strides: an int, a tuple of 2 ints, or ``None`` (``pool_size``).
        padding: ``"valid"`` or ``"same"``.
        data_format: ``"channels_last"`` ``(batch, rows, cols, channels)`` (also for
            ``None``) or ``"channels_first"``.
        **kwargs: base layer arguments.

    Example:
        >>> MaxPooling2D()(torch.arange(16.0).reshape(1, 4, 4, 1))[0, :, :, 0]
        tensor([[ 5.,  7.],
                [13., 15.]])
    """

    _rank = 2

    def __init__(
        self,
        pool_size: int | tuple = (2, 2),
        strides: int | tuple | None = None,
        padding: str = "valid",
        data_format: str | None = None,
        **kwargs: Any,
    ):
        super().__init__(pool_size, strides, padding, data_format, **kwargs)


class AveragePooling2D(_Pooling):
    """Keras 2's 2D average pooling over ``(rows, cols)`` windows.

    Args:
        pool_size: an int or a tuple of 2 ints.
        strides: an int, a tuple of 2 ints, or ``None`` (``pool_size``).
        padding: ``"valid"`` or ``"same"`` (real values only are averaged).
        data_format: ``"channels_last"`` (also for ``None``) or ``"channels_first"``.
        **kwargs: base layer arguments.

    Example:
        >>> AveragePooling2D()(torch.arange(16.0).reshape(1, 4, 4, 1))[0, :, :, 0]
        tensor([[ 2.5000,  4.5000],
                [10.5000, 12.5000]])
    """

    _rank = 2
    _reduce = "average"

    def __init__(
        self,
        pool_size: int | tuple = (2, 2),
        strides: int | tuple | None = None,
        padding: str = "valid",
        data_format: str | None = None,
        **kwargs: Any,
    ):
        super().__init__(pool_size, strides, padding, data_format, **kwargs)


class _GlobalPooling(DropsMask, Layer):
    """Max or mean over every spatial axis."""

    _rank = 1
    _reduce = "max"

    def __init__(self, data_format: str | None, keepdims: bool, **kwargs: Any):
        super().__init__(**kwargs)
        self.data_format = check_data_format(type(self).__name__, data_format)
        if not isinstance(keepdims, bool):
            raise ValueError(
                f"{type(self).__name__}: keepdims must be a bool. Received: keepdims={keepdims!r}."
            )
        self.keepdims = keepdims
        self._build_from_constructor()

    def _spatial_axes(self) -> tuple[int, ...]:
        first = 1 if self.data_format == "channels_last" else 2
        return tuple(range(first, first + self._rank))

    def _checked(self, inputs: Any) -> torch.Tensor:
        layout = _LAYOUTS[self._rank][self.data_format]
        return _as_float_input(self, check_rank(self, inputs, self._rank + 2, layout))

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        x = self._checked(inputs)
        axes = self._spatial_axes()
        if self._reduce == "max":
            return torch.amax(x, dim=axes, keepdim=self.keepdims)
        return torch.mean(x, dim=axes, keepdim=self.keepdims)

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        axes = self._spatial_axes()
        if self.keepdims:
            return tuple(1 if axis in axes else size for axis, size in enumerate(input_shape))
        return tuple(size for axis, size in enumerate(input_shape) if axis not in axes)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update({"data_format": self.data_format, "keepdims": self.keepdims})
        return config

    def extra_repr(self) -> str:
        return f"data_format={self.data_format!r}, keepdims={self.keepdims}"


class GlobalMaxPooling1D(_GlobalPooling):
    """Keras 2's global max pooling over time: ``(batch, steps, channels)`` to
    ``(batch, channels)``.

    Like tf-keras 2's, it does not read a mask: padded steps take part in the maximum (put a
    layer that zeroes them, such as a ``return_sequences`` recurrent layer, before it), and
    the mask stops here.

    Args:
        data_format: ``"channels_last"`` or ``"channels_first"`` ``(batch, channels, steps)``.
        keepdims: keep the time axis with length 1.
        **kwargs: base layer arguments.

    Example:
        >>> GlobalMaxPooling1D()(torch.tensor([[[1.0, 0.0], [3.0, -1.0]]]))
        tensor([[3., 0.]])
    """

    def __init__(self, data_format: str = "channels_last", keepdims: bool = False, **kwargs: Any):
        super().__init__(data_format, keepdims, **kwargs)


class GlobalAveragePooling1D(_GlobalPooling):
    """Keras 2's global average pooling over time; with a mask, the mean of the valid steps.

    A row whose steps are all masked divides zero by zero, as in tf-keras (``nan``).

    Args:
        data_format: ``"channels_last"`` or ``"channels_first"`` ``(batch, channels, steps)``.
        keepdims: keep the time axis with length 1.
        **kwargs: base layer arguments.

    Call arguments:
        inputs: ``(batch, steps, channels)``.
        mask: optional ``(batch, steps)`` bool tensor, ``True`` at valid steps.

    Example:
        >>> x = torch.tensor([[[1.0], [3.0], [8.0]]])
        >>> GlobalAveragePooling1D()(x, mask=torch.tensor([[True, True, False]]))
        tensor([[2.]])
    """

    _reduce = "mean"

    def __init__(self, data_format: str = "channels_last", keepdims: bool = False, **kwargs: Any):
        super().__init__(data_format, keepdims, **kwargs)

    def forward(self, inputs: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        if mask is None:
            return super().forward(inputs)
        x = self._checked(inputs)
        steps = self._spatial_axes()[0]
        if not torch.is_tensor(mask) or tuple(mask.shape) != (x.shape[0], x.shape[steps]):
            received = tuple(mask.shape) if torch.is_tensor(mask) else type(mask).__name__
            raise ValueError(
                f"GlobalAveragePooling1D '{self.name}': mask must be a (batch, steps) = "
                f"{(x.shape[0], x.shape[steps])} tensor. Received: {received}."
            )
        weights = mask.to(x.dtype).unsqueeze(2 if steps == 1 else 1)
        total = (x * weights).sum(dim=steps, keepdim=self.keepdims)
        return total / weights.sum(dim=steps, keepdim=self.keepdims)


class GlobalMaxPooling2D(_GlobalPooling):
    """Keras 2's global max pooling over ``(rows, cols)``: to ``(batch, channels)``.

    Args:
        data_format: ``"channels_last"`` (also for ``None``) or ``"channels_first"``.
        keepdims: keep the spatial axes with length 1.
        **kwargs: base layer arguments.

    Example:
        >>> GlobalMaxPooling2D()(torch.arange(8.0).reshape(1, 2, 2, 2))
        tensor([[6., 7.]])
    """

    _rank = 2

    def __init__(self, data_format: str | None = None, keepdims: bool = False, **kwargs: Any):
        super().__init__(data_format, keepdims, **kwargs)


class GlobalAveragePooling2D(_GlobalPooling):
    """Keras 2's global average pooling over ``(rows, cols)``: to ``(batch, channels)``.

    Args:
        data_format: ``"channels_last"`` (also for ``None``) or ``"channels_first"``.
        keepdims: keep the spatial axes with length 1.
        **kwargs: base layer arguments.

    Example:
        >>> GlobalAveragePooling2D()(torch.arange(8.0).reshape(1, 2, 2, 2))
        tensor([[3., 4.]])
    """

    _rank = 2
    _reduce = "mean"

    def __init__(self, data_format: str | None = None, keepdims: bool = False, **kwargs: Any):
        super().__init__(data_format, keepdims, **kwargs)
