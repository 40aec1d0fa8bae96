"""How a recurrent call runs: the one place that picks the execution path.

A layer prepares each direction of its call (``RNN._direction``: validated
inputs, mask, initial states, this call's dropout masks) and hands one
direction, or the two of a ``Bidirectional``, to ``run_directions``. It picks,
in this order:

1. one fused kernel call for both directions (``_kernels.run_pair``), when the
   two are alike and the kernel computes them exactly;
2. else, per direction, one fused kernel call (``_kernels.run``) when the
   kernel computes that direction exactly;
3. else the step loop: both directions at once (``run_loop_pair``) when their
   built-in cells compute the same math (``_Cell.pair_step_function``) on the same
   inputs and their recurrent kernels are small enough to gain by it
   (``_PAIR_LOOP_BYTES``); else one loop per direction (``run_loop``).

Within a fused call it also picks:

- the kernel (``_kernel``): birnn's own GRU (``_gru_cpu``, both directions in
  one pass) for a GRU on CPU in float32/float64 in eager mode, outside autocast,
  functorch and forward-mode AD; PyTorch's fused kernel otherwise (LSTM and SimpleRNN always;
  GRU on GPU, under ``torch.compile``, ``torch.export``, ONNX tracing). A GRU
  with ``reset_after=False`` has no PyTorch kernel: it runs fused only where
  birnn's does, else in the step loop;
- length buckets (``_buckets``), for PyTorch's kernels: a right-padded CPU mask of 8
  or more rows whose lengths differ enough, by a cost model measured on CPU, runs
  as 2-4 calls, each cut to its longest row (not with a per-row input dropout mask,
  nor under functorch or forward-mode AD). birnn's GRU kernel needs none: under a
  mask it works on each step's rows that have the step only;
- no mask at all when every step of a CPU mask is valid (``_has_full_mask``).

Every path returns outputs in input time order.
"""

from __future__ import annotations

import dataclasses
import inspect

import torch
from torch import nn

from .. import _buckets, _gru_cpu, _kernels
from .._masks import mask_layout
from ._cells import _Cell, alike_weights, cell_output_size, flatten_states, zero_states


@dataclasses.dataclass
class Direction:
    """One direction of a call, prepared by its layer.

    Attributes:
        owner: names the layer in errors (``"LSTM 'lstm'"``).
        cell: the cell the step loop calls; a built-in cell may run fused instead.
        x: ``(batch, time, features)`` in input time order, in the cell's dtype.
        mask: optional bool ``(batch, time)``.
        states: the initial states, each ``(batch, size)``, or ``None`` for zeros.
        reverse: the direction reads the steps from the last to the first (``go_backwards``).
        return_sequences: return every step's output, or the output after the last step read.
        zero_output_for_mask: output zeros at masked steps instead of the previous output.
        training: whether dropout is active in this call.
        use_fused: ``"auto"``, ``True`` (a fused kernel or a ValueError) or ``False``.
        wants_states: the caller reads the final states (``return_state``, ``stateful``);
            without, a fused call may skip putting them right and return ``None`` for them.
    """

    owner: str
    cell: nn.Module
    x: torch.Tensor
    mask: torch.Tensor | None
    states: list[torch.Tensor] | None
    reverse: bool
    return_sequences: bool
    zero_output_for_mask: bool
    training: bool
    use_fused: str | bool = "auto"
    wants_states: bool = True


@dataclasses.dataclass
class Outputs:
    """What ``run_directions`` returns.

    Attributes:
        outputs: per direction, ``(batch, time, units)`` in input time order with
            ``return_sequences``, else ``(batch, units)``, the output after the last step read.
        states: per direction, the final states, or ``None`` when no direction
            ``wants_states`` and the path did not compute them.
        joined: ``torch.cat(outputs, dim=-1)`` when one kernel call made it so (no copy), or
            ``None``.
    """

    outputs: list[torch.Tensor]
    states: list[list[torch.Tensor] | None]
    joined: torch.Tensor | None = None


def run_directions(directions: list[Direction]) -> Outputs:
    """Runs one or two directions of a call; the only place that picks the execution path.

    Args:
        directions: one ``Direction``, or two reading the same ``x`` and ``mask``; made for
            this call (a mask whose every step is valid is dropped from them).

    Returns:
        ``Outputs``, in the order of ``directions``.

    Raises:
        ValueError: if a direction asks for ``use_fused=True`` and no fused kernel computes
            it exactly.
    """
    if _has_full_mask(directions[0]):  # the directions share one mask
        for direction in directions:  # made for this call: dropped in place, not copied
            direction.mask = None
    modes = [_fused_mode(direction) for direction in directions]
    if len(directions) == 2 and _runs_as_pair(*directions, *modes):
        return _run_pair(*directions, modes[0])
    step = _pair_step(*directions) if len(directions) == 2 and modes == [None, None] else None
    if step is not None:
        looped = run_loop_pair(step, *directions)
        results = [_finish(direction, *result) for direction, result in zip(directions, looped)]
    else:
        results = [_run_one(direction, mode) for direction, mode in zip(directions, modes)]
    return Outputs([output for output, _ in results], [states for _, states in results])


# -- choosing -------------------------------------------------------------------------------


def _has_full_mask(direction: Direction) -> bool:
    """Whether ``direction`` has a mask with every step valid: unmasked, the same result is
    cheaper. Read only on CPU (reading the mask would stall an accelerator) and in eager mode
    (a traced graph must not depend on the data)."""
    mask = direction.mask
    return not (
        mask is None
        or mask.device.type != "cpu"
        or torch.jit.is_tracing()
        or torch.compiler.is_compiling()
        or torch.compiler.is_exporting()
        or mask_layout(mask) != "full"
    )


def _fused_refusal(direction: Direction) -> str | None:
    """Why no fused kernel computes ``direction`` exactly, or ``None`` when one does."""
    cell = direction.cell
    if direction.use_fused is False:
        return "use_fused=False"
    if not isinstance(cell, _Cell):
        return f"a {type(cell).__name__} cell (only LSTMCell, GRUCell and SimpleRNNCell run fused)"
    mode = cell._kernel_mode()
    if mode is None:
        return f"{cell._math_summary()}, whose math no fused kernel has"
    if not _kernels.torch_computes(mode):
        kernel_refusal = _gru_cpu.refusal(direction.x, cell._weights())
        if kernel_refusal is not None:
            return (
                "a GRU with reset_after=False in a call birnn's CPU GRU kernel does not run "
                f"({kernel_refusal})"
            )
    input_masks, recurrent_masks = cell._dropout_masks
    if recurrent_masks is not None:
        return "recurrent_dropout while training"
    if input_masks is not None and len(input_masks) > 1:
        return "an input dropout mask per gate (implementation=1) while training"
    return None


def _fused_mode(direction: Direction) -> str | None:
    """The kernel mode that computes ``direction``, or ``None`` for the step loop."""
    if direction.x.shape[1] == 0:
        return None  # the kernels refuse 0 time steps; the loop returns the initial states
    refusal = _fused_refusal(direction)
    if refusal is None:
        return direction.cell._kernel_mode()
    if direction.use_fused is True:
        raise ValueError(
            f"{direction.owner}: use_fused=True needs a call that a fused kernel computes "
            "exactly. Expected: an LSTM or GRU with activation='tanh' and "
            "recurrent_activation='sigmoid' (a GRU with reset_after=False on CPU, float32 or "
            "float64, in eager mode), or a SimpleRNN with activation 'tanh' or 'relu'; "
            "no recurrent_dropout and at most one input dropout mask while training. "
            f"Received: {refusal}. Pass use_fused='auto' to fall back to the step loop."
        )
    return None


def _runs_as_pair(first: Direction, second: Direction, first_mode, second_mode) -> bool:
    """Whether one bidirectional kernel call computes both directions exactly."""
    if first_mode is None or first_mode != second_mode or first.reverse == second.reverse:
        return False
    if first.x is not second.x or first.mask is not second.mask:
        return False
    if first.mask is not None and not _kernels.pair_runs_masked(first_mode):
        return False
    for direction in (first, second):
        if direction.zero_output_for_mask != direction.return_sequences:
            return False
        if direction.cell._dropout_masks[0] is not None:
            return False  # each direction would need its own input
    if first.return_sequences != second.return_sequences:
        return False
    return alike_weights(first.cell._weights(), second.cell._weights())


def _pair_step(first: Direction, second: Direction):
    """The step of both directions' cells at once (``_Cell.pair_step_function``) when the
    step loop can run them together, else ``None``."""
    if first.x is not second.x or first.mask is not second.mask or first.x.shape[1] == 0:
        return None
    if first.zero_output_for_mask != second.zero_output_for_mask:
        return None
    if not (isinstance(first.cell, _Cell) and isinstance(second.cell, _Cell)):
        return None
    kernel = first.cell._weights()[1]
    if 2 * kernel.numel() * kernel.element_size() > _PAIR_LOOP_BYTES:
        return None
    return first.cell.pair_step_function(second.cell)


# Measured on CPU, one thread, training steps: the paired loop is 12-32% faster than one
# loop per direction with both recurrent kernels at 0.1-0.5 MiB (19% at 1.5 MiB, GRU(256)),
# and 20% slower at 2 MiB (LSTM(256)), where its batched weight-gradient products slow down.
_PAIR_LOOP_BYTES = 1 << 20


def _kernel(mode: str, x: torch.Tensor, *cells: _Cell) -> str:
    """Which fused kernel runs a call: birnn's CPU GRU (``_gru_cpu``) for GRUs it computes
    (CPU, float32/float64, eager, no autocast; ``_fused_refusal`` has checked that it computes
    a ``"GRU_RESET_BEFORE"`` call), PyTorch's otherwise."""
    if mode == "GRU_RESET_BEFORE":
        return "birnn"
    if mode != "GRU":
        return "torch"
    weights = [w for cell in cells for w in cell._weights()]
    return "birnn" if _gru_cpu.runs(x, weights) else "torch"


def _buckets_for(kernel: str, mode: str, cell: _Cell, x: torch.Tensor, mask) -> list | None:
    """The length buckets of a fused call (``_buckets``), or ``None`` for one call. birnn's
    GRU kernel skips the padding itself (``_gru_cpu``): only PyTorch's kernels split."""
    if kernel != "torch":
        return None
    model = (torch.is_grad_enabled(), mode, cell.units, x.shape[-1])
    return _buckets.buckets_for(x, mask, model)


# -- running --------------------------------------------------------------------------------


def _run_pair(first: Direction, second: Direction, mode: str) -> Outputs:
    reading, reverse = (second, first) if first.reverse else (first, second)
    kernel = _kernel(mode, reading.x, reading.cell, reverse.cell)
    weights = reading.cell._weights(), reverse.cell._weights()

    buckets = _buckets_for(kernel, mode, reading.cell, reading.x, reading.mask)
    final_states = first.wants_states or second.wants_states

    def run(x, mask, states):
        joined, reading_final, reverse_final = _kernels.run_pair(
            mode, *weights, x, mask, *states, reading.return_sequences, kernel, final_states
        )
        return joined, [reading_final, reverse_final]

    states = [reading.states, reverse.states]
    if buckets is None:
        joined, (reading_final, reverse_final) = run(reading.x, reading.mask, states)
    else:
        joined, (reading_final, reverse_final) = _buckets.run_buckets(
            buckets, run, reading.x, reading.mask, states, reading.return_sequences, False
        )
    reading_output, reverse_output = joined.chunk(2, dim=-1)
    if first.reverse:
        return Outputs([reverse_output, reading_output], [reverse_final, reading_final])
    return Outputs([reading_output, reverse_output], [reading_final, reverse_final], joined)


def _run_one(direction: Direction, mode: str | None):
    """One direction's ``(output, final_states)``: fused when ``mode``, else the step loop."""
    x, mask = direction.x, direction.mask
    if direction.reverse:
        x = x.flip(1)
        mask = None if mask is None else mask.flip(1)
    cell, states = direction.cell, direction.states
    if states is None:
        states = zero_states(cell, x.shape[0], x)
    if mode is not None:
        input_masks = cell._dropout_masks[0]
        input_dropout = None if input_masks is None else input_masks[0]
        kernel = _kernel(mode, x, cell)

        def run(x, mask, states):
            outputs, final = _kernels.run(
                mode, cell._weights(), x, mask, states[0], zero_output, input_dropout, kernel
            )
            return outputs, [final]

        zero_output = direction.zero_output_for_mask
        buckets = None
        if input_dropout is None:  # per-row dropout masks would need slicing too
            buckets = _buckets_for(kernel, mode, cell, x, mask)
        if buckets is None:
            outputs, (states,) = run(x, mask, [states])
        else:
            outputs, (states,) = _buckets.run_buckets(
                buckets, run, x, mask, [states], True, not zero_output
            )
    else:
        if direction.training and not isinstance(cell, _Cell) and _takes_training(cell):
            cell = _TrainingCell(cell)
        outputs, states = run_loop(cell, x, mask, states, direction.zero_output_for_mask)
    return _finish(direction, outputs, states)


def _finish(direction: Direction, outputs: torch.Tensor, states: list[torch.Tensor]):
    """``(output, final_states)`` from the reading-order outputs ``(batch, time, units)``."""
    if direction.return_sequences:
        return (outputs.flip(1) if direction.reverse else outputs), states
    if outputs.shape[1] == 0:
        return outputs.new_zeros(outputs.shape[0], outputs.shape[2]), states
    return outputs[:, -1], states


def run_loop(
    cell: nn.Module,
    x: torch.Tensor,
    mask: torch.Tensor | None,
    states: list[torch.Tensor],
    zero_output_for_mask: bool,
) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """Runs ``cell`` step by step over batch-major ``x`` in reading order.

    Keras 2 semantics: at a masked step the states carry over unchanged and the output is
    zero (``zero_output_for_mask``) or the previous step's output (zero before any).

    Returns:
        ``(outputs (batch, time, output_size), final_states)``.
    """
    if isinstance(cell, _Cell):
        step, steps = cell.step_function(), cell.project_inputs(x)
    else:

        def step(step_input, states):
            output, new_states = cell(step_input, states)
            return output, flatten_states(new_states)  # stacked cells nest them per cell

        steps = x
    # unbind, not inputs[:, t]: indexing's backward would write a zero (batch, time, ...)
    # tensor per step, quadratic in time; unbind's stacks the step gradients once.
    valid_steps = None if mask is None else mask.unsqueeze(-1).unbind(1)
    outputs, states = _steps(step, steps.unbind(1), valid_steps, states, zero_output_for_mask)
    if not outputs:
        return x.new_zeros(x.shape[0], 0, cell_output_size(cell)), states
    return torch.stack(outputs, dim=1), states


def run_loop_pair(step, first: Direction, second: Direction):
    """Runs two directions' built-in cells together, step by step (``step``: their
    ``pair_step_function``): each product of a step is one batched matmul for both, each
    elementwise op one op for both. Same semantics as ``run_loop``.

    Returns:
        Per direction, ``(outputs (batch, time, units), final_states)`` in its reading order.
    """
    inputs, masks, states = [], [], []
    for direction in (first, second):
        x, mask = direction.x, direction.mask
        if direction.reverse:
            x, mask = x.flip(1), None if mask is None else mask.flip(1)
        inputs.append(direction.cell.project_inputs(x))
        masks.append(mask)
        given = direction.states
        states.append(zero_states(direction.cell, x.shape[0], x) if given is None else given)
    valid_steps = None if masks[0] is None else torch.stack(masks).unsqueeze(-1).unbind(2)
    stacked_states = [torch.stack(pair) for pair in zip(*states)]
    outputs, final = _steps(
        step, torch.stack(inputs).unbind(2), valid_steps, stacked_states, first.zero_output_for_mask
    )
    outputs = torch.stack(outputs, dim=2)
    return [(outputs[d], [state[d] for state in final]) for d in range(2)]


def _steps(step, steps, valid_steps, states, zero_output_for_mask):
    """The loop itself: ``(outputs per step, final_states)``."""
    outputs = []
    previous = None
    zeros = None  # made once: the output at a masked step when there is no previous one
    for t, step_input in enumerate(steps):
        output, new_states = step(step_input, states)
        if valid_steps is not None:
            valid = valid_steps[t]
            if previous is None or zero_output_for_mask:
                if zeros is None:
                    zeros = torch.zeros_like(output)
                previous = zeros
            output = torch.where(valid, output, previous)
            new_states = [torch.where(valid, new, old) for new, old in zip(new_states, states)]
        states = new_states
        previous = output
        outputs.append(output)
    return outputs, states


def _takes_training(cell: nn.Module) -> bool:
    return "training" in inspect.signature(cell.forward).parameters


class _TrainingCell(nn.Module):
    """Calls a user cell with ``training=True`` at every step."""

    def __init__(self, cell: nn.Module):
        super().__init__()
        self.cell = cell

    def forward(self, inputs, states):
        return self.cell(inputs, states, training=True)
