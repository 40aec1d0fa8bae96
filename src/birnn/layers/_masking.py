"""``Masking``: marks time steps whose features all equal a padding value."""

from __future__ import annotations

from typing import Any

import torch

from ._layer import Layer


class Masking(Layer):
    """Masks the time steps where every feature equals ``mask_value`` (Keras 2's ``Masking``).

    The layers after it that take a mask (recurrent layers, ``Bidirectional``) skip those
    steps. The output is the input with the masked steps set to exactly zero.

    Args:
        mask_value: the padding value.
        **kwargs: base layer arguments (``name``, ``input_shape``, ...).

    Call arguments:
        inputs: ``(batch, time, features)`` (any rank ``>= 2``; the mask drops the last axis).

    Example:
        >>> x = torch.tensor([[[1.0, 2.0], [0.0, 0.0], [3.0, 0.0]]])
        >>> Masking()(x)[0, :, 0], Masking().compute_mask(x)
        (tensor([1., 0., 3.]), tensor([[ True, False,  True]]))
    """

    def __init__(self, mask_value: float = 0.0, **kwargs: Any):
        super().__init__(**kwargs)
        if isinstance(mask_value, bool) or not isinstance(mask_value, (int, float)):
            raise ValueError(
                f"Masking: mask_value must be a number. Received: mask_value={mask_value!r}."
            )
        self.mask_value = mask_value
        self._build_from_constructor()

    def _valid_steps(self, inputs: torch.Tensor) -> torch.Tensor:
        if not torch.is_tensor(inputs) or inputs.dim() < 2:
            shape = tuple(inputs.shape) if torch.is_tensor(inputs) else type(inputs).__name__
            raise ValueError(
                f"Masking '{self.name}': inputs must be a tensor of rank >= 2 "
                f"(batch, ..., features). Received: {shape}."
            )
        return (inputs != self.mask_value).any(dim=-1)

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        return inputs * self._valid_steps(inputs).unsqueeze(-1).to(inputs.dtype)

    def compute_mask(self, inputs: Any, mask: torch.Tensor | None = None) -> torch.Tensor:
        return self._valid_steps(inputs)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config["mask_value"] = self.mask_value
        return config
