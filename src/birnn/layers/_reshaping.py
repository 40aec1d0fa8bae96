"""Shaping layers: ``Reshape``, ``Flatten``, ``Permute``, ``RepeatVector``, ``ZeroPadding1D``
and ``Cropping1D``. None has weights; like tf-keras 2's, they stop a mask.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F

from ._layer import Layer, check_units
from ._spatial import DropsMask, check_data_format, check_rank, int_tuple


def _tensor(layer: Layer, inputs: Any, min_rank: int = 1) -> torch.Tensor:
    if not torch.is_tensor(inputs) or inputs.dim() < min_rank:
        received = f"shape {tuple(inputs.shape)}" if torch.is_tensor(inputs) else type(inputs)
        raise ValueError(
            f"{type(layer).__name__} '{layer.name}': expected a tensor of rank >= {min_rank} "
            f"(batch first). Received: {received}."
        )
    return inputs


class Reshape(DropsMask, Layer):
    """Reshapes each sample to ``target_shape`` (Keras 2's ``Reshape``).

    Args:
        target_shape: the new shape of one sample, without the batch; one entry may be
            ``-1`` (inferred).
        **kwargs: base layer arguments.

    Raises:
        ValueError: if ``target_shape`` is not a tuple of positive ints with at most one
            ``-1``, or a sample's size does not fit it.

    Example:
        >>> Reshape((3, -1))(torch.zeros(2, 12)).shape
        torch.Size([2, 3, 4])
    """

    def __init__(self, target_shape: Sequence[int], **kwargs: Any):
        super().__init__(**kwargs)
        valid = isinstance(target_shape, (list, tuple)) and all(
            isinstance(size, int) and not isinstance(size, bool) and (size > 0 or size == -1)
            for size in target_shape
        )
        if not valid or list(target_shape).count(-1) > 1:
            raise ValueError(
                "Reshape: target_shape must be a tuple of positive ints with at most one -1. "
                f"Received: target_shape={target_shape!r}."
            )
        self.target_shape = tuple(target_shape)
        self._build_from_constructor()

    def _resolved(self, input_shape: Sequence[int | None]) -> tuple[int | None, ...]:
        known = math.prod(size for size in self.target_shape if size != -1)
        sample = list(input_shape[1:])
        if None in sample:
            return tuple(None if size == -1 else size for size in self.target_shape)
        total = math.prod(sample)
        if (-1 in self.target_shape and total % known) or (
            -1 not in self.target_shape and total != known
        ):
            raise ValueError(
                f"Reshape '{self.name}': a sample of shape {tuple(sample)} ({total} values) "
                f"cannot be reshaped to target_shape={self.target_shape}. "
                f"Received: input shape {tuple(input_shape)}."
            )
        return tuple(total // known if size == -1 else size for size in self.target_shape)

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        inputs = _tensor(self, inputs)
        return inputs.reshape(inputs.shape[0], *self._resolved(tuple(inputs.shape)))

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return (input_shape[0], *self._resolved(input_shape))

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config["target_shape"] = list(self.target_shape)
        return config


class Flatten(DropsMask, Layer):
    """Flattens each sample to one axis (Keras 2's ``Flatten``); ``(batch,)`` becomes
    ``(batch, 1)``.

    Args:
        data_format: ``"channels_last"`` (also for ``None``) or ``"channels_first"``: the
            channel axis is moved last before flattening, so that the order of the values
            matches a channels-last model.
        **kwargs: base layer arguments.

    Example:
        >>> Flatten()(torch.zeros(2, 3, 4)).shape
        torch.Size([2, 12])
    """

    def __init__(self, data_format: str | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        self.data_format = check_data_format("Flatten", data_format)
        self._build_from_constructor()

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        inputs = _tensor(self, inputs)
        if self.data_format == "channels_first" and inputs.dim() > 2:
            inputs = inputs.movedim(1, -1)
        return inputs.reshape(inputs.shape[0], -1)

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        sample = input_shape[1:]
        return (input_shape[0], None if None in sample else math.prod(sample))

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config["data_format"] = self.data_format
        return config


class Permute(DropsMask, Layer):
    """Permutes the axes of each sample (Keras 2's ``Permute``).

    Args:
        dims: a permutation of ``1..rank`` (the batch axis 0 stays first), e.g. ``(2, 1)``
            swaps time and features.
        **kwargs: base layer arguments.

    Example:
        >>> Permute((2, 1))(torch.zeros(2, 5, 3)).shape
        torch.Size([2, 3, 5])
    """

    def __init__(self, dims: Sequence[int], **kwargs: Any):
        super().__init__(**kwargs)
        if not isinstance(dims, (list, tuple)) or sorted(dims) != list(range(1, len(dims) + 1)):
            raise ValueError(
                "Permute: dims must be a permutation of 1..n (the batch axis is not "
                f"included). Received: dims={dims!r}."
            )
        self.dims = tuple(int(d) for d in dims)
        self._build_from_constructor()

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        inputs = _tensor(self, inputs)
        if inputs.dim() != len(self.dims) + 1:
            raise ValueError(
                f"Permute '{self.name}': expected inputs of rank {len(self.dims) + 1} for "
                f"dims={self.dims}. Received: shape {tuple(inputs.shape)}."
            )
        return inputs.permute(0, *self.dims)

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return (input_shape[0], *(input_shape[d] for d in self.dims))

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config["dims"] = list(self.dims)
        return config


class RepeatVector(DropsMask, Layer):
    """Repeats a ``(batch, features)`` input ``n`` times: ``(batch, n, features)``
    (Keras 2's ``RepeatVector``).

    Args:
        n: the number of repetitions, a positive int.
        **kwargs: base layer arguments.

    Example:
        >>> RepeatVector(3)(torch.tensor([[1.0, 2.0]]))
        tensor([[[1., 2.],
                 [1., 2.],
                 [1., 2.]]])
    """

    def __init__(self, n: int, **kwargs: Any):
        super().__init__(**kwargs)
        self.n = check_units("RepeatVector", n, "n")
        self._build_from_constructor()

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        inputs = check_rank(self, inputs, 2, "(batch, features)")
        return inputs.unsqueeze(1).expand(-1, self.n, -1)

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return (input_shape[0], self.n, input_shape[1])

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config["n"] = self.n
        return config


class ZeroPadding1D(DropsMask, Layer):
    """Pads the time axis of ``(batch, steps, features)`` with zeros (Keras 2's
    ``ZeroPadding1D``).

    Args:
        padding: an int (both sides) or a tuple ``(before, after)``.
        **kwargs: base layer arguments.

    Example:
        >>> ZeroPadding1D((1, 2))(torch.ones(1, 2, 1))[0, :, 0]
        tensor([0., 1., 1., 0., 0.])
    """

    def __init__(self, padding: int | tuple[int, int] = 1, **kwargs: Any):
        super().__init__(**kwargs)
        self.padding = int_tuple("ZeroPadding1D", "padding", padding, 2, minimum=0)
        self._build_from_constructor()

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        inputs = check_rank(self, inputs, 3, "(batch, steps, features)")
        return F.pad(inputs, (0, 0, *self.padding))

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        steps = input_shape[1]
        return (
            input_shape[0],
            None if steps is None else steps + sum(self.padding),
            input_shape[2],
        )

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config["padding"] = list(self.padding)
        return config


class Cropping1D(DropsMask, Layer):
    """Crops steps off both ends of the time axis (Keras 2's ``Cropping1D``).

    Args:
        cropping: an int (both sides) or a tuple ``(before, after)``.
        **kwargs: base layer arguments.

    Example:
        >>> Cropping1D((1, 0))(torch.arange(3.0).reshape(1, 3, 1))[0, :, 0]
        tensor([1., 2.])
    """

    def __init__(self, cropping: int | tuple[int, int] = (1, 1), **kwargs: Any):
        super().__init__(**kwargs)
        self.cropping = int_tuple("Cropping1D", "cropping", cropping, 2, minimum=0)
        self._build_from_constructor()

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        inputs = check_rank(self, inputs, 3, "(batch, steps, features)")
        before, after = self.cropping
        if before + after > inputs.shape[1]:
            raise ValueError(
                f"Cropping1D '{self.name}': cropping={self.cropping} removes more steps than "
                f"the inputs have. Received: shape {tuple(inputs.shape)}."
            )
        return inputs[:, before : inputs.shape[1] - after]

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        steps = input_shape[1]
        return (
            input_shape[0],
            None if steps is None else steps - sum(self.cropping),
            input_shape[2],
        )

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config["cropping"] = list(self.cropping)
        return config
