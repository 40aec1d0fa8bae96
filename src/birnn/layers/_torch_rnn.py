"""Beyond Keras: ``Bidirectional`` over PyTorch's own ``torch.nn.LSTM``, ``GRU`` and ``RNN``.

A one-layer, unidirectional PyTorch RNN computes what a Keras layer computes: its two
LSTM (or RNN) biases add up to Keras's one, and its two GRU biases are Keras's
``reset_after=True`` pair. So both directions run on birnn's fused kernels, with
Keras's masked-step semantics for every mask (right or left padding, holes, empty rows):
the states carry through masked steps and the outputs are zero there.
"""

from __future__ import annotations

import torch
from torch import nn

from .. import _kernels
from .._masks import check_mask
from .._weight_cache import may_reuse, rearranged


def torch_rnn_mode(module: nn.Module) -> str | None:
    """The ``_kernels`` mode of a ``torch.nn.LSTM``, ``GRU`` or ``RNN``; ``None`` for any
    other module.

    Raises:
        ValueError: for a bidirectional or multi-layer one, or an LSTM with ``proj_size``.

    Example:
        >>> torch_rnn_mode(torch.nn.GRU(3, 4)), torch_rnn_mode(torch.nn.Linear(3, 4))
        ('GRU', None)
    """
    if isinstance(module, nn.LSTM):
        mode = "LSTM"
    elif isinstance(module, nn.GRU):
        mode = "GRU"
    elif isinstance(module, nn.RNN):
        mode = "RNN_TANH" if module.nonlinearity == "tanh" else "RNN_RELU"
    else:
        return None
    proj_size = getattr(module, "proj_size", 0)
    if module.num_layers != 1 or module.bidirectional or proj_size:
        raise ValueError(
            f"Bidirectional: a torch.nn.{type(module).__name__} layer must have one layer, one "
            "direction and no projection (Bidirectional makes the backward direction; stack "
            "Bidirectional layers for more). Received: "
            f"num_layers={module.num_layers}, bidirectional={module.bidirectional}"
            + (f", proj_size={proj_size}." if proj_size else ".")
        )
    return mode


def _keras_gate_order(weight: torch.Tensor) -> torch.Tensor:
    """PyTorch's GRU gate blocks ``r, z, n`` (first axis) in Keras's order ``z, r, h``."""
    r, z, n = weight.chunk(3)
    return torch.cat([z, r, n])


def keras_weights(mode: str, module: nn.Module) -> _kernels.KerasWeights:
    """``(kernel, recurrent_kernel, bias)`` of ``module`` in Keras's layout (``_kernels``)."""
    weight_ih, weight_hh = module.weight_ih_l0, module.weight_hh_l0
    if mode == "GRU":
        weight_ih, weight_hh = _keras_gate_order(weight_ih), _keras_gate_order(weight_hh)
    if not module.bias:
        return weight_ih.t(), weight_hh.t(), None
    if mode == "GRU":
        bias = torch.stack(
            [_keras_gate_order(module.bias_ih_l0), _keras_gate_order(module.bias_hh_l0)]
        )
    else:
        bias = module.bias_ih_l0 + module.bias_hh_l0
    return weight_ih.t(), weight_hh.t(), bias


def _cached_keras_weights(mode: str, module: nn.Module) -> _kernels.KerasWeights:
    """``keras_weights``, kept between calls where ``_weight_cache`` allows: the same tensors
    each call, so the kernel's own rearranged weights are reused too."""
    if not may_reuse():
        return keras_weights(mode, module)
    return rearranged(
        ("torch_rnn", mode), list(module.parameters()), lambda: keras_weights(mode, module)
    )


def run_torch_rnns(
    mode: str,
    forward_module: nn.Module,
    backward_module: nn.Module,
    inputs: torch.Tensor,
    mask: torch.Tensor | None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Both directions' sequence outputs, in input time order and the modules' layout.

    Args:
        mode: ``torch_rnn_mode(forward_module)``; ``backward_module`` is alike.
        forward_module: reads the steps in order.
        backward_module: reads them from the last to the first.
        inputs: ``(batch, time, features)``, or ``(time, batch, features)`` when the
            modules are not ``batch_first``.
        mask: optional bool tensor in the inputs' layout, ``(batch, time)`` or
            ``(time, batch)``; ``True`` at valid steps.

    Returns:
        ``(forward_output, backward_output)``, each shaped like the modules' outputs, zero
        at masked steps.

    Raises:
        ValueError: for inputs that are not 3-D with the modules' ``input_size`` features,
            or a mask of the wrong shape, dtype or device.
    """
    batch_first = forward_module.batch_first
    layout = "(batch, time" if batch_first else "(time, batch"
    if (
        not torch.is_tensor(inputs)
        or inputs.dim() != 3
        or (inputs.shape[-1] != forward_module.input_size)
    ):
        shape = tuple(inputs.shape) if torch.is_tensor(inputs) else type(inputs).__name__
        raise ValueError(
            f"Bidirectional: inputs must be 3-D {layout}, {forward_module.input_size}) for "
            f"the wrapped torch.nn.{type(forward_module).__name__}. Received: {shape}."
        )
    mask = check_mask("Bidirectional", mask, inputs, layout + ")")
    x, weight = inputs, forward_module.weight_ih_l0
    if x.dtype != weight.dtype and not torch.is_autocast_enabled():
        x = x.to(weight.dtype)
    if not batch_first:
        x = x.transpose(0, 1)
        mask = None if mask is None else mask.t()
    forward_weights = _cached_keras_weights(mode, forward_module)
    backward_weights = _cached_keras_weights(mode, backward_module)
    units = forward_module.hidden_size
    if x.shape[1] == 0:  # the kernels refuse zero steps
        y = y_rev = x.new_zeros(x.shape[0], 0, units)
    elif mask is None or _kernels.pair_runs_masked(mode):
        outputs, _, _ = _kernels.run_pair(
            mode, forward_weights, backward_weights, x, mask, None, None, True, final_states=False
        )
        y, y_rev = outputs.split(units, dim=-1)
    else:
        zeros = [x.new_zeros(x.shape[0], units)]
        y, _ = _kernels.run(mode, forward_weights, x, mask, zeros, True)
        y_rev, _ = _kernels.run(mode, backward_weights, x.flip(1), mask.flip(1), zeros, True)
        y_rev = y_rev.flip(1)
    if not batch_first:
        return y.transpose(0, 1), y_rev.transpose(0, 1)
    return y, y_rev
