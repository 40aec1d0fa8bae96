"""PyTorch's fused RNN kernels run with Keras 2's semantics: tensors in, tensors out.

This module knows the kernels and the weight layout, and nothing of layers: every
function takes a ``mode`` (PyTorch's names: ``"LSTM"``, ``"GRU"``, ``"RNN_TANH"``,
``"RNN_RELU"``; and ``"GRU_RESET_BEFORE"``, Keras's GRU with ``reset_after=False``,
which only birnn's CPU kernel computes), the Keras weight tensors ``(kernel,
recurrent_kernel, bias)``, the inputs, the mask and the initial states. Which mode
computes a cell exactly is the cell's business; which path runs a call is
``layers._dispatch``'s.

The kernels (oneDNN on CPU, cuDNN on GPU) compute Keras's LSTM, GRU with
``reset_after=True`` and SimpleRNN exactly, given weights transposed to
``(gates * units, features)`` (the cells store them that way, so these are
views), GRU gates reordered from Keras's ``z, r, h`` to PyTorch's ``r, z, n``,
and a zero second bias where Keras has one bias.

Masks run fused too. Keras skips masked steps (states carry through them), so
a masked row gives the states of its valid steps packed to the front; the
kernel runs those as right-padded rows, and gathers put every output and final
state where Keras has it. States that no gather can recover are carried
through the padding by an extra input channel, 1 at padded steps, that drives
gates to exactly 0 or 1 there: the LSTM input gate to 0 and forget gate to 1
(the cell state passes unchanged) and output gate to 0 (``h`` is exactly 0),
the GRU update gate to 1 (the state passes unchanged).

Both directions of a bidirectional call can run in one kernel call
(``run_pair``). The reverse direction reads a row's padding before its valid
steps, so the state must also pass the padding unchanged on the way in: the
GRU's does; the LSTM's ``h`` arrives as 0, and a nonzero initial ``h`` is added
back at the first valid step through more input channels (weighted by the
recurrent kernel). SimpleRNN has no gate to do this (``pair_runs_masked``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import torch

from ._gru_cpu import gru_sequence
from ._masks import compact_order, gather_steps, is_right_padded, lengths_mask
from ._weight_cache import may_reuse, rearranged

MODES = ("LSTM", "GRU", "GRU_RESET_BEFORE", "RNN_TANH", "RNN_RELU")

# Pre-activation added at padded steps: sigmoid(-_SATURATE) == 0 and
# sigmoid(_SATURATE) == 1 exactly in float32, float64 and bfloat16.
_SATURATE = 1.0e4

_KERNELS = {
    "LSTM": torch._VF.lstm,
    "GRU": torch._VF.gru,
    "RNN_TANH": torch._VF.rnn_tanh,
    "RNN_RELU": torch._VF.rnn_relu,
}

KerasWeights = tuple  # (kernel, recurrent_kernel, bias or None), Keras's shapes


def pair_runs_masked(mode: str) -> bool:
    """Whether ``run_pair`` computes a masked call of ``mode``: its gates must carry the
    state through padding, which SimpleRNN has none of.

    Example:
        >>> pair_runs_masked("GRU"), pair_runs_masked("RNN_TANH")
        (True, False)
    """
    return mode in ("LSTM", "GRU", "GRU_RESET_BEFORE")


def torch_computes(mode: str) -> bool:
    """Whether PyTorch has a fused kernel for ``mode`` (else only birnn's CPU GRU does).

    Example:
        >>> torch_computes("GRU"), torch_computes("GRU_RESET_BEFORE")
        (True, False)
    """
    return mode in _KERNELS


def torch_weights(mode: str, weights: KerasWeights) -> list[torch.Tensor]:
    """``[weight_ih, weight_hh, bias_ih, bias_hh]`` in PyTorch's layout (views where possible).

    Args:
        mode: one of ``MODES``.
        weights: ``(kernel (features, gates * units), recurrent_kernel (units, gates * units),
            bias)``; ``bias`` is ``None``, ``(gates * units,)``, or ``(2, 3 * units)`` for GRU
            (input and recurrent biases).

    Returns:
        Two tensors without a bias, else four.
    """
    kernel, recurrent_kernel, bias = weights
    torch_layout = [kernel.t(), recurrent_kernel.t()]
    if mode == "GRU":
        torch_layout = [_zr_to_rz(w) for w in torch_layout]
        if bias is None:
            return torch_layout
        return torch_layout + [_zr_to_rz(bias[0]), _zr_to_rz(bias[1])]
    return torch_layout if bias is None else torch_layout + [bias, bias.new_zeros(bias.shape)]


def _zr_to_rz(weight: torch.Tensor) -> torch.Tensor:
    """Keras's GRU gate blocks ``z, r, h`` (first axis) in PyTorch's order ``r, z, n``."""
    z, r, h = weight.chunk(3)
    return torch.cat([r, z, h])


_DYNAMO_DISABLED: dict[Callable, Callable] = {}


def eager_under_dynamo(function: Callable) -> Callable:
    """``function``, run eagerly (a graph break) when ``torch.compile`` traces it.

    ``torch.compiler.disable`` is applied the first time dynamo traces the function, not
    at import: applying it imports ``torch._dynamo``, a second of ``import birnn``.
    ``torch.export`` traces the function (it is no dynamo trace).
    """

    @functools.wraps(function)
    def call(*args, **kwargs):
        if torch.compiler.is_dynamo_compiling():
            disabled = _DYNAMO_DISABLED.get(function)
            if disabled is None:
                disabled = _DYNAMO_DISABLED[function] = torch.compiler.disable(function)
            return disabled(*args, **kwargs)
        return function(*args, **kwargs)

    return call


# torch.compile runs the fused kernels eagerly, as it does torch.nn.LSTM: AOTAutograd and
# Inductor cannot trace PyTorch's CPU (oneDNN) RNN kernels.
@eager_under_dynamo
def _call_kernel(mode, x, states, weights, has_biases, bidirectional=False):
    """Runs the kernel on time-major ``x`` ``(time, batch, features)``, its own layout.

    Returns:
        ``(outputs (time, batch, directions * units), final_states)``; ``states`` and the
        final states are each ``(directions, batch, units)``.
    """
    hx = tuple(states) if len(states) > 1 else states[0]
    # (input, hx, params, has_biases, num_layers, dropout, train, bidirectional, batch_first)
    result = _KERNELS[mode](x, hx, weights, has_biases, 1, 0.0, False, bidirectional, False)
    return result[0], list(result[1:])


def _time_major(x: torch.Tensor) -> torch.Tensor:
    # The kernels copy batch-major inputs to this layout anyway; doing it here also spares
    # the CPU GRU and SimpleRNN a slow batched matmul for the input projection.
    return x.transpose(0, 1).contiguous()


def _packed_inputs(x: torch.Tensor, mask: torch.Tensor):
    """Each row's valid steps moved to the front, zeros after, time-major (the kernel's own
    layout).

    Returns:
        ``(packed (time, batch, features), padding (time, batch), right_padded)``;
        ``padding`` marks the packed positions after each row's valid steps; ``right_padded``:
        the mask is known to have each row's valid steps first already.
    """
    # Reading the mask on the host is free on CPU; on an accelerator it would stall the queue,
    # and an exported graph must not depend on the data: the gather below is right for both.
    right_padded = (
        mask.device.type == "cpu" and not torch.compiler.is_exporting() and is_right_padded(mask)
    )
    if right_padded:
        padding = ~mask.t()
        steps = x.transpose(0, 1)
    else:
        padding = (~lengths_mask(mask.sum(dim=1), x.shape[1])).t()
        steps = gather_steps(x, compact_order(mask), time_major=True)
    return steps.masked_fill(padding.unsqueeze(-1), 0.0), padding, right_padded


def _run_kernel(mode, kernel, x, padding, states, weights, extra=None):
    """Runs one or two directions (``weights``: one Keras triple each) over time-major ``x``.

    Args:
        kernel: ``"torch"`` (PyTorch's fused kernel) or ``"birnn"`` (``_gru_cpu``, the GRU
            modes only; the only kernel of ``"GRU_RESET_BEFORE"``).
        x: ``(time, batch, features)``, each row's valid steps first.
        padding: optional bool ``(time, batch)``: the state carries through these positions.
        states: each ``(directions, batch, units)``.
        extra: optional ``(inputs (time, batch, k), per-direction input weight columns
            (gates * units, k))`` appended to the inputs (``"torch"`` only).

    Returns:
        ``(outputs (time, batch, directions * units), final_states)``, final states each
        ``(directions, batch, units)``.
    """
    if kernel == "birnn":
        kernels, recurrent_kernels, biases = zip(*weights)
        outputs, final = gru_sequence(
            x,
            states[0],
            list(kernels),
            list(recurrent_kernels),
            None if biases[0] is None else list(biases),
            padding,
            reset_after=mode == "GRU",
        )
        return outputs, [final]
    padded = padding is not None
    if padded:
        inputs = [x, padding.unsqueeze(-1).to(x.dtype)]
        x = torch.cat(inputs if extra is None else [*inputs, extra[0]], dim=-1)
    if extra is None and may_reuse():
        tensors = [t for triple in weights for t in triple]
        flat = rearranged(("torch", mode, padded), tensors, lambda: _layout(mode, weights, padded))
    else:
        flat = _layout(mode, weights, padded, None if extra is None else extra[1])
    has_biases = weights[0][2] is not None
    return _call_kernel(mode, x, states, flat, has_biases, bidirectional=len(weights) == 2)


def _layout(mode, weights, padded, extra_columns=None) -> list[torch.Tensor]:
    """Every direction's weights in PyTorch's layout, one flat list; ``padded``: with the
    padding channel's column, then ``extra_columns`` (one per direction), in ``weight_ih``."""
    flat = []
    for index, triple in enumerate(weights):
        layout = torch_weights(mode, triple)
        if padded:
            columns = [layout[0], _padding_column(mode, layout[0])]
            if extra_columns is not None:
                columns.append(extra_columns[index])
            layout[0] = torch.cat(columns, dim=1)
        flat += layout
    return flat


def _padding_column(mode: str, like: torch.Tensor) -> torch.Tensor:
    """Input weights of the padding channel: the gate pre-activations it saturates."""
    units = like.shape[0] // {"LSTM": 4, "GRU": 3}.get(mode, 1)
    column = like.new_zeros(like.shape[0], 1)
    if mode == "GRU":
        column[units : 2 * units] = _SATURATE  # update gate -> 1: h carries
    elif mode == "LSTM":
        column[:units] = -_SATURATE  # input gate -> 0
        column[units : 2 * units] = _SATURATE  # forget gate -> 1: c carries
        column[3 * units :] = -_SATURATE  # output gate -> 0: h is exactly 0
    return column


def _zero_at_padding(
    mode: str, kernel: str, packed_outputs: torch.Tensor, mask: torch.Tensor
) -> torch.Tensor:
    """Right-padded outputs with zeros at the padding (``_zero_padded``: already)."""
    if _zero_padded(mode, kernel):
        return packed_outputs
    return packed_outputs * mask.unsqueeze(-1).to(packed_outputs.dtype)


def _zero_padded(mode: str, kernel: str) -> bool:
    """Whether the kernel's outputs at the packed padding are exactly 0: the LSTM's (its
    output gate is saturated shut there) and birnn's GRU kernel's (it skips the padding)."""
    return mode == "LSTM" or kernel == "birnn"


def run(
    mode: str,
    weights: KerasWeights,
    x: torch.Tensor,
    mask: torch.Tensor | None,
    states: list[torch.Tensor],
    zero_output_for_mask: bool,
    input_dropout: torch.Tensor | None = None,
    kernel: str = "torch",
) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """Runs one direction over batch-major ``x`` in reading order, in one fused kernel call.

    Same contract as the step loop, with Keras 2's masked-step semantics.

    Args:
        mode: one of ``MODES``.
        weights: ``(kernel, recurrent_kernel, bias)`` in Keras's layout (``torch_weights``).
        x: ``(batch, time, features)``, ``time > 0``, in the order the steps are read.
        mask: optional bool ``(batch, time)``, ``True`` at valid steps.
        states: the initial states, each ``(batch, units)`` (``[h, c]`` for LSTM).
        zero_output_for_mask: output zeros at masked steps instead of the previous output.
        input_dropout: optional ``(batch, features)`` multiplier of every step's input.
        kernel: ``"torch"`` (PyTorch's fused kernel) or ``"birnn"`` (birnn's CPU GRU,
            ``_gru_cpu``; the GRU modes only, and the only kernel of ``"GRU_RESET_BEFORE"``).

    Returns:
        ``(outputs (batch, time, units), final_states)``.

    Example:
        >>> kernel, recurrent = torch.ones(2, 1), torch.zeros(1, 1)
        >>> outputs, (h,) = run("RNN_RELU", (kernel, recurrent, None), torch.ones(1, 3, 2),
        ...                     None, [torch.zeros(1, 1)], False)
        >>> outputs[0, :, 0].tolist(), h.tolist()
        ([2.0, 2.0, 2.0], [[2.0]])
    """
    if input_dropout is not None:
        x = x * input_dropout.unsqueeze(1)
    initial = [s.unsqueeze(0) for s in states]
    if mask is None:
        outputs, final = _run_kernel(mode, kernel, _time_major(x), None, initial, [weights])
        return outputs.transpose(0, 1), [s.squeeze(0) for s in final]

    packed, padding, right_padded = _packed_inputs(x, mask)
    packed_outputs, final = _run_kernel(mode, kernel, packed, padding, initial, [weights])
    packed_outputs = packed_outputs.transpose(0, 1)
    final = [s.squeeze(0) for s in final]
    lengths = mask.sum(dim=1)

    has_steps = (lengths > 0).unsqueeze(-1)
    last = gather_steps(packed_outputs, (lengths - 1).clamp(min=0).unsqueeze(1)).squeeze(1)
    final[0] = torch.where(has_steps, last, states[0])
    if right_padded and zero_output_for_mask:
        return _zero_at_padding(mode, kernel, packed_outputs, mask), final

    # Keras's output at step t is the output after the last valid step <= t (0 before any).
    seen = mask.long().cumsum(dim=1)  # ONNX's CumSum takes no bool
    outputs = gather_steps(packed_outputs, (seen - 1).clamp(min=0))
    keep = seen > 0
    if zero_output_for_mask:
        keep = keep & mask
    return outputs * keep.unsqueeze(-1).to(outputs.dtype), final


def _per_direction(final: list[torch.Tensor]) -> tuple[list, list]:
    """Each direction's final states from the kernel's, each ``(2, batch, units)``."""
    first, second = zip(*(state.unbind(0) for state in final))
    return list(first), list(second)


def run_pair(
    mode: str,
    forward_weights: KerasWeights,
    backward_weights: KerasWeights,
    x: torch.Tensor,
    mask: torch.Tensor | None,
    forward_states: list[torch.Tensor] | None,
    backward_states: list[torch.Tensor] | None,
    return_sequences: bool,
    kernel: str = "torch",
    final_states: bool = True,
) -> tuple[torch.Tensor, list[torch.Tensor] | None, list[torch.Tensor] | None]:
    """Runs one direction over ``x`` and another over it from the end, in one fused kernel
    call, with Keras 2's masked-step semantics.

    Args:
        mode: one of ``MODES``; under a mask, one that ``pair_runs_masked``.
        forward_weights: the weights of the direction that reads the steps in input order,
            ``(kernel, recurrent_kernel, bias)`` in Keras's layout.
        backward_weights: those of the direction that reads them from the last to the first;
            of the same shapes.
        x: ``(batch, time, features)``, ``time > 0``.
        mask: optional bool ``(batch, time)``.
        forward_states, backward_states: each direction's initial states ``(batch, units)``,
            or ``None`` for zeros.
        return_sequences: return every step's outputs (zero at masked steps), or each
            direction's output after the last step it reads.
        kernel: as in ``run``.
        final_states: return the final states. With ``False`` and ``return_sequences``, an
            unmasked or right-padded call skips the work of putting them right (gathers under
            a mask) and returns ``None`` for them; other masks still return them.

    Returns:
        ``(outputs, forward_final_states, backward_final_states)``; ``outputs`` is
        ``(batch, time, 2 * units)`` in input time order, or ``(batch, 2 * units)``, the
        forward direction's half first.
    """
    batch, time = x.shape[:2]
    units = forward_weights[1].shape[0]
    lstm = mode == "LSTM"
    given_backward = backward_states is not None
    zero_initial = forward_states is None and not given_backward
    if zero_initial:
        # One zero tensor for h and c: the kernels do not write their initial states.
        states = [x.new_zeros(2, batch, units)] * (2 if lstm else 1)
    else:
        zeros = [x.new_zeros(batch, units)] * (2 if lstm else 1)
        forward_states = zeros if forward_states is None else forward_states
        backward_states = zeros if backward_states is None else backward_states
        states = [torch.stack(pair) for pair in zip(forward_states, backward_states)]
    pair = [forward_weights, backward_weights]

    if mask is None:
        outputs, final = _run_kernel(mode, kernel, _time_major(x), None, states, pair)
        if return_sequences and not final_states:
            return outputs.transpose(0, 1), None, None
        forward_final, backward_final = _per_direction(final)
        if not return_sequences:
            last = torch.cat([forward_final[0], backward_final[0]], dim=-1)
            return last, forward_final, backward_final
        return outputs.transpose(0, 1), forward_final, backward_final

    packed, padding, right_padded = _packed_inputs(x, mask)
    extra = lengths = None
    if lstm and given_backward:
        # The reverse pass meets a row's first valid step with h == 0 after its padding;
        # feeding h0 there through the recurrent kernel restores h0's contribution.
        lengths = mask.sum(dim=1)
        first_read = torch.arange(time, device=x.device).unsqueeze(1) == (lengths - 1)
        first_read = (first_read & (lengths < time)).unsqueeze(-1).to(packed.dtype)
        recurrent = backward_weights[1].t()
        extra = (first_read * backward_states[0], [torch.zeros_like(recurrent), recurrent])
    packed_outputs, final = _run_kernel(mode, kernel, packed, padding, states, pair, extra)
    packed_outputs = packed_outputs.transpose(0, 1)

    if return_sequences and right_padded and not final_states:
        return _zero_at_padding(mode, kernel, packed_outputs, mask), None, None
    lengths = mask.sum(dim=1) if lengths is None else lengths
    forward_final, backward_final = _per_direction(final)
    has_steps = (lengths > 0).unsqueeze(-1)
    if lstm:
        # The forward h is 0 over the padding, and so is the reverse h in an empty row.
        last = gather_steps(packed_outputs, (lengths - 1).clamp(min=0).unsqueeze(1))[:, 0, :units]
        if zero_initial:
            # With zero initial states an empty row's h is 0 already (the gather reads padding).
            forward_final[0] = last
        else:
            forward_final[0] = torch.where(has_steps, last, forward_states[0])
            backward_final[0] = torch.where(has_steps, backward_final[0], backward_states[0])
    if not return_sequences:
        # Each direction's output after the last step it reads; 0 in empty rows.
        outputs = torch.cat([forward_final[0], backward_final[0]], dim=-1)
        return outputs * has_steps.to(outputs.dtype), forward_final, backward_final

    if right_padded:
        return _zero_at_padding(mode, kernel, packed_outputs, mask), forward_final, backward_final
    # Both directions' outputs at valid step t sit at packed position (valid steps <= t) - 1.
    index = mask.long().cumsum(dim=1) - 1  # ONNX's CumSum takes no bool
    if _zero_padded(mode, kernel):
        # Both are exactly 0 at a padded position: point masked steps at the last one.
        outputs = gather_steps(packed_outputs, index.masked_fill(~mask, time - 1))
        return outputs, forward_final, backward_final
    outputs = gather_steps(packed_outputs, index.clamp(min=0))
    return outputs * mask.unsqueeze(-1).to(outputs.dtype), forward_final, backward_final
