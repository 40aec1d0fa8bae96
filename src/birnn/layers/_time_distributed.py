"""``TimeDistributed``: one layer applied to every time step of a sequence."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from ._layer import Layer
from ._wrapper import Wrapper, accepted_call_arguments, call_with_accepted_arguments


class TimeDistributed(Wrapper):
    """Applies ``layer`` to every time step: ``(batch, time, ...)`` in, one call on
    ``(batch * time, ...)``, ``(batch, time, ...)`` out (Keras 2's ``TimeDistributed``).

    The wrapped layer's weights are shared by all steps and are this layer's weights.

    Args:
        layer: the layer to apply, a ``torch.nn.Module``.
        **kwargs: base layer arguments (``name``, ``input_shape``, ...).

    Call arguments:
        inputs: ``(batch, time, ...)``.
        mask: optional bool ``(batch, time)``, given to ``layer`` per step when its
            ``forward`` takes a mask, and passed on (see ``compute_mask``).
        training: given to ``layer`` when its ``forward`` takes it.

    Raises:
        ValueError: if ``layer`` is not a module or the inputs have fewer than 3 axes.

    Example:
        >>> from birnn.layers import Dense
        >>> layer = TimeDistributed(Dense(4))
        >>> layer(torch.ones(2, 7, 3)).shape
        torch.Size([2, 7, 4])
    """

    def __init__(self, layer: nn.Module, **kwargs: Any):
        super().__init__(layer, **kwargs)
        self._call_arguments = accepted_call_arguments(layer)
        self._build_from_constructor()

    def build(self, input_shape: tuple) -> None:
        if len(input_shape) < 3:
            raise ValueError(
                f"TimeDistributed '{self.name}': inputs must have at least 3 axes "
                f"(batch, time, ...). Received: input_shape={tuple(input_shape)}."
            )
        if isinstance(self.layer, Layer):
            self.layer._maybe_build((None, *input_shape[2:]), self._build_device)
        self.built = True

    def _input_shape_from_weights(self, state_dict: dict, prefix: str) -> tuple | None:
        inner = super()._input_shape_from_weights(state_dict, prefix)
        return None if inner is None else (None, None, *inner[1:])

    def _step_inputs(self, inputs: torch.Tensor) -> torch.Tensor:
        if not torch.is_tensor(inputs) or inputs.dim() < 3:
            shape = tuple(inputs.shape) if torch.is_tensor(inputs) else type(inputs).__name__
            raise ValueError(
                f"TimeDistributed '{self.name}': inputs must be a tensor with at least 3 axes "
                f"(batch, time, ...). Received: {shape}."
            )
        return inputs.reshape(-1, *inputs.shape[2:])

    def forward(
        self,
        inputs: torch.Tensor,
        mask: torch.Tensor | None = None,
        training: bool | None = None,
    ) -> torch.Tensor:
        step_inputs = self._step_inputs(inputs)
        batch, time = inputs.shape[:2]
        if mask is not None:
            self._check_mask(mask, (batch, time))
            mask = mask.reshape(-1, *mask.shape[2:])
        outputs = call_with_accepted_arguments(
            self.layer, step_inputs, self._call_arguments, mask=mask, training=training
        )
        return outputs.reshape(batch, time, *outputs.shape[1:])

    def _check_mask(self, mask: Any, batch_time: tuple[int, int]) -> None:
        if not torch.is_tensor(mask) or tuple(mask.shape[:2]) != batch_time:
            is_tensor = torch.is_tensor(mask)
            received = f"shape {tuple(mask.shape)}" if is_tensor else type(mask).__name__
            raise ValueError(
                f"TimeDistributed '{self.name}': mask must be a bool tensor of shape "
                f"(batch, time, ...) = {batch_time}. Received: {received}."
            )

    def compute_mask(self, inputs: Any, mask: torch.Tensor | None = None) -> Any:
        """The wrapped layer's per-step mask, reduced to ``(batch, time)``; else ``mask``."""
        compute_step_mask = getattr(self.layer, "compute_mask", None)
        if compute_step_mask is None:
            return mask
        step_mask = None if mask is None else mask.reshape(-1, *mask.shape[2:])
        step_mask = compute_step_mask(self._step_inputs(inputs), step_mask)
        if step_mask is None:
            return mask
        # A step is valid where any of its own positions is (Keras reduces the same way).
        return step_mask.reshape(*inputs.shape[:2], -1).any(dim=-1)

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        input_shape = tuple(input_shape)
        inner = self.layer.compute_output_shape((input_shape[0], *input_shape[2:]))
        return (input_shape[0], input_shape[1], *tuple(inner)[1:])
