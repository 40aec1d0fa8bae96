"""The one place that knows PyTorch's fused RNN kernels and their weight layout.

PyTorch's kernels (oneDNN on CPU, cuDNN on GPU) compute Keras's LSTM, GRU with
``reset_after=True`` and SimpleRNN exactly, given weights transposed to
``(gates * units, features)``, GRU gates reordered from Keras's ``z, r, h`` to
PyTorch's ``r, z, n``, and a zero second bias where Keras has one bias.

Masks run fused too. Keras skips masked steps (states carry through them), so
a masked row gives the states of its valid steps packed to the front; the
kernel runs those as right-padded rows, and gathers put every output and final
state where Keras has it. The one state no gather can recover is the LSTM cell
state after the last valid step: an extra input channel, 1 at padded steps,
drives the input gate to exactly 0 and the forget gate to exactly 1 there, so
the cell state passes through the padding unchanged.
"""

from __future__ import annotations

import torch

from . import activations
from ._masks import compact_order, gather_steps
from .layers._cells import GRUCell, LSTMCell, SimpleRNNCell, _Cell

# Pre-activation added at padded steps: sigmoid(-_SATURATE) == 0 and
# sigmoid(_SATURATE) == 1 exactly in float32, float64 and bfloat16.
_SATURATE = 1.0e4


def supports(cell: _Cell, training: bool) -> bool:
    """Whether PyTorch's fused kernel computes exactly what ``cell`` computes."""
    input_masks, recurrent_masks = cell._masks
    if recurrent_masks is not None or (input_masks is not None and len(input_masks) > 1):
        return False
    if type(cell) is SimpleRNNCell:
        return cell.activation in (activations.tanh, activations.relu)
    gated = cell.activation is activations.tanh and cell.recurrent_activation is activations.sigmoid
    if type(cell) is LSTMCell:
        return gated
    if type(cell) is GRUCell:
        return gated and cell.reset_after
    return False


def torch_weights(cell: _Cell) -> list[torch.Tensor]:
    """``[weight_ih, weight_hh, bias_ih, bias_hh]`` in PyTorch's layout (views where possible)."""
    kernel, recurrent_kernel, bias = cell.kernel, cell.recurrent_kernel, cell.bias
    if type(cell) is GRUCell:
        kernel, recurrent_kernel = _zr_to_rz(kernel), _zr_to_rz(recurrent_kernel)
        if bias is not None:
            bias_ih, bias_hh = _zr_to_rz(bias[0]), _zr_to_rz(bias[1])
    elif bias is not None:
        bias_ih, bias_hh = bias, bias.new_zeros(bias.shape)
    weights = [kernel.t(), recurrent_kernel.t()]
    return weights if bias is None else weights + [bias_ih, bias_hh]


def _zr_to_rz(weight: torch.Tensor) -> torch.Tensor:
    z, r, h = weight.chunk(3, dim=-1)
    return torch.cat([r, z, h], dim=-1)


def _kernel(cell: _Cell):
    if type(cell) is LSTMCell:
        return torch._VF.lstm
    if type(cell) is GRUCell:
        return torch._VF.gru
    return torch._VF.rnn_tanh if cell.activation is activations.tanh else torch._VF.rnn_relu


# torch.compile runs the fused kernels eagerly, as it does torch.nn.LSTM: AOTAutograd and
# Inductor cannot trace PyTorch's CPU (oneDNN) RNN kernels.
@torch.compiler.disable
def _call_kernel(cell, x, states, weights):
    hx = tuple(s.unsqueeze(0) for s in states) if len(states) > 1 else states[0].unsqueeze(0)
    has_biases = cell.bias is not None
    # (input, hx, params, has_biases, num_layers, dropout, train, bidirectional, batch_first)
    result = _kernel(cell)(x, hx, weights, has_biases, 1, 0.0, False, False, True)
    outputs, final = result[0], [s.squeeze(0) for s in result[1:]]
    return outputs, final


def run(
    cell: _Cell,
    x: torch.Tensor,
    mask: torch.Tensor | None,
    states: list[torch.Tensor],
    zero_output_for_mask: bool,
) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """Runs ``cell`` over batch-major ``x`` (processing order) in one fused kernel call.

    Same contract as the step loop: returns ``(outputs, final_states)`` with Keras 2's
    masked-step semantics.
    """
    input_masks = cell._masks[0]
    if input_masks is not None:
        x = x * input_masks[0].unsqueeze(1)
    weights = torch_weights(cell)
    if mask is None:
        return _call_kernel(cell, x, states, weights)

    lengths = mask.sum(dim=1)
    time = x.shape[1]
    packed_valid = torch.arange(time, device=x.device) < lengths.unsqueeze(1)
    packed = gather_steps(x, compact_order(mask))
    packed = packed.masked_fill(~packed_valid.unsqueeze(-1), 0.0)
    if type(cell) is LSTMCell:
        packed, weights = _with_carry_channel(packed, packed_valid, weights, cell.units)
    packed_outputs, final = _call_kernel(cell, packed, states, weights)

    # Keras's output at step t is the output after the last valid step <= t (0 before any).
    seen = mask.long().cumsum(dim=1)  # ONNX's CumSum takes no bool
    outputs = gather_steps(packed_outputs, (seen - 1).clamp(min=0))
    keep = seen > 0
    if zero_output_for_mask:
        keep = keep & mask
    outputs = outputs * keep.unsqueeze(-1).to(outputs.dtype)

    has_steps = (lengths > 0).unsqueeze(-1)
    last = gather_steps(packed_outputs, (lengths - 1).clamp(min=0).unsqueeze(1)).squeeze(1)
    final[0] = torch.where(has_steps, last, states[0])
    return outputs, final


def _with_carry_channel(packed, packed_valid, weights, units):
    """Adds the input channel that freezes the LSTM cell state at padded steps."""
    padding = (~packed_valid).unsqueeze(-1).to(packed.dtype)
    column = packed.new_zeros(4 * units, 1)
    column[:units] = -_SATURATE  # input gate -> 0
    column[units : 2 * units] = _SATURATE  # forget gate -> 1
    weight_ih = torch.cat([weights[0], column], dim=1)
    return torch.cat([packed, padding], dim=-1), [weight_ih, *weights[1:]]
