"""Beyond Keras: ``Bidirectional`` over a plain causal ``torch.nn.Module`` that maps
``(batch, time, f)`` to ``(batch, time, g)``; its backward copy reads each row's valid
steps in reverse."""

from __future__ import annotations

import copy

import torch
from torch import nn

from .._masks import check_mask, is_right_padded, reverse_valid_steps


def fresh_copy(module: nn.Module) -> nn.Module:
    """A deep copy of ``module``, re-initialised by each submodule's ``reset_parameters()``.

    Parameters of submodules without ``reset_parameters`` are copied as they are.

    Example:
        >>> linear = torch.nn.Linear(2, 2)
        >>> torch.equal(fresh_copy(linear).weight, linear.weight)
        False
    """
    duplicate = copy.deepcopy(module)
    for submodule in duplicate.modules():
        reset = getattr(submodule, "reset_parameters", None)
        if callable(reset):
            reset()
    return duplicate


def run_plain_directions(
    forward_module: nn.Module,
    backward_module: nn.Module,
    inputs: torch.Tensor,
    mask: torch.Tensor | None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Both directions' outputs in input time order; padding never reaches an output.

    Args:
        forward_module: reads each row's valid steps in order.
        backward_module: reads them in reverse.
        inputs: ``(batch, time, features)``.
        mask: optional right-padded bool ``(batch, time)``.

    Returns:
        ``(forward_output, backward_output)``, each ``(batch, time, g)``, zero at padding.

    Raises:
        ValueError: for inputs that are not 3-D, or a mask that is not right-padded.
    """
    if not torch.is_tensor(inputs) or inputs.dim() != 3:
        shape = tuple(inputs.shape) if torch.is_tensor(inputs) else type(inputs).__name__
        raise ValueError(
            f"Bidirectional: inputs must be 3-D (batch, time, features). Received: {shape}."
        )
    mask = check_mask("Bidirectional", mask, inputs)
    if mask is None:
        return forward_module(inputs), backward_module(inputs.flip(1)).flip(1)
    lengths = mask.sum(dim=1)
    # An exported graph must not branch on the data: the check is skipped there.
    if not torch.compiler.is_exporting() and not is_right_padded(mask):
        raise ValueError(
            "Bidirectional: a plain torch module can only be wrapped with right-padded "
            "masks (valid steps first in each row). Received: a mask with gaps or left "
            "padding."
        )
    valid = mask.unsqueeze(-1)
    x = inputs.masked_fill(~valid, 0.0)
    y = forward_module(x)
    y_rev = reverse_valid_steps(backward_module(reverse_valid_steps(x, lengths)), lengths)
    return y.masked_fill(~valid, 0.0), y_rev.masked_fill(~valid, 0.0)
