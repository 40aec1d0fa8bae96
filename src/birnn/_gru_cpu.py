"""birnn's own CPU kernel for Keras's GRU (tanh and sigmoid, ``reset_after`` either way).

PyTorch's CPU GRU is a loop of ATen ops that runs one direction after the other.
This kernel runs one or two directions in one pass, tensors in and tensors out,
on the cells' own weight tensors (no copy of them is made):

* every step's input projection, per direction, in two GEMMs a chunk of steps at
  a time, just before the steps run (biases folded in: the input bias and the
  recurrent bias of the ``z`` and ``r`` gates);
* per step, one GEMM per direction that accumulates ``h_prev @ recurrent_kernel``
  into that step's row of the gates' buffer, and five elementwise ops on every
  direction at once, in place;
* a hand-written backward through time: the factors of the gate gradients are
  computed a chunk of steps at a time and overwrite the gates, each step costs two
  elementwise ops and one GEMM per direction, and each chunk then adds its terms of
  the weight gradients while its gate gradients are still in cache (one GEMM per
  weight), in the weights' own memory layout (gradient accumulation takes them
  without a copy).

Each step's row of the gates' buffer is ``[a_n | z | r | g_n]`` (each ``units``
wide): ``a_n`` the candidate's pre-activation, ``g_n = h_prev @ recurrent_kernel_h
+ recurrent_bias_h``. With ``reset_after=False`` (Keras's original GRU, where the reset
gate scales the state before its matmul) the last part is ``r * h_prev`` instead, and a
step runs two GEMMs per direction: ``z, r`` first, then the candidate's. The candidate
uses ``tanh(a) = 2 sigmoid(2a) - 1`` (sigmoid is several times faster than tanh on CPU),
so ``a_n`` is kept doubled (exact). Rows
whose width is a multiple of 512 bytes lie a cache line further apart: rows a power of
two apart collide in the cache's sets and slow the GEMMs that read or write them.

Under a mask the caller packs each row's valid steps to the front (``padding`` marks
the rest), and the kernel skips the padding as PyTorch's packed sequences do
(``_Layout``): it runs the rows sorted by length, longest first, for as many steps as
the longest has; the second direction reads each row from its own last valid step;
so the rows that have a step are always the first few, and every step's GEMMs and
elementwise ops work on those only. A batch of long-tailed lengths costs about its
valid steps, not its padded ones.

Gates are in Keras's order ``z, r, h``; weights are the cells' own tensors
(``kernel (features, 3 * units)``, ``recurrent_kernel (units, 3 * units)``, ``bias
(2, 3 * units)``, or ``(3 * units,)`` with ``reset_after=False``).
"""

from __future__ import annotations

import functools
import itertools

import numpy as np
import torch


def runs(x: torch.Tensor, weights: list[torch.Tensor | None]) -> bool:
    """Whether this kernel runs a call on ``x`` with ``weights``: plain CPU float32/float64
    tensors, in eager mode (not compiled, exported or traced), outside autocast, functorch
    transforms and forward-mode AD (it has no ``jvp``).

    Elsewhere PyTorch's own kernel runs: cuDNN on GPU, one traceable op for exporters.
    """
    return refusal(x, weights) is None


def refusal(x: torch.Tensor, weights: list[torch.Tensor | None]) -> str | None:
    """Why this kernel does not run a call (``runs``), or ``None`` when it does.

    Example:
        >>> refusal(torch.ones(1, 1, 1, dtype=torch.float16), [])
        'inputs of dtype torch.float16'
    """
    if torch.compiler.is_compiling():
        return "a torch.compile trace"  # the compiler traces PyTorch's op
    if x.device.type != "cpu":
        return f"inputs on {x.device}"
    if x.dtype not in (torch.float32, torch.float64):
        return f"inputs of dtype {x.dtype}"
    tensors = [x, *(w for w in weights if w is not None)]
    if not all(type(t) in _PLAIN and t.dtype == x.dtype for t in tensors):
        return f"weights of another dtype than the inputs' {x.dtype}, or tensor subclasses"
    if torch.compiler.is_exporting() or torch.jit.is_tracing():
        return "an export or trace"
    if torch.is_autocast_enabled("cpu"):
        return "autocast"
    if any(torch._C._functorch.is_functorch_wrapped_tensor(t) for t in tensors):
        return "a functorch transform"
    if getattr(torch.autograd.forward_ad, "_current_level", -1) >= 0:
        return "forward-mode AD"
    return None


_PLAIN = (torch.Tensor, torch.nn.Parameter)


def gru_sequence(
    x: torch.Tensor,
    initial: torch.Tensor,
    kernels: list[torch.Tensor],
    recurrent_kernels: list[torch.Tensor],
    biases: list[torch.Tensor] | None,
    padding: torch.Tensor | None = None,
    reset_after: bool = True,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Runs a GRU over time-major ``x``: the first direction from the first step, the
    second (if any) from the last.

    Args:
        x: ``(time, batch, features)``, ``time > 0``.
        initial: ``(directions, batch, units)`` initial states.
        kernels: per direction, ``(features, 3 * units)``.
        recurrent_kernels: per direction, ``(units, 3 * units)``.
        biases: per direction, ``(2, 3 * units)`` (input bias, recurrent bias), or
            ``(3 * units,)`` with ``reset_after=False``; or ``None``.
        padding: optional bool ``(time, batch)``, ``True`` at the steps after each row's
            valid ones: the state passes them unchanged, the outputs there are 0 and take no
            gradient, and ``x`` there must be finite.
        reset_after: Keras's ``reset_after``: the reset gate scales the candidate's
            recurrent term (``True``) or the state before its matmul (``False``).

    Returns:
        ``(outputs (time, batch, directions * units), final (directions, batch, units))``;
        each direction's outputs in input time order, the first direction's first.

    Example:
        >>> kernel, recurrent = torch.zeros(2, 3), torch.zeros(1, 3)
        >>> outputs, final = gru_sequence(torch.ones(4, 1, 2), torch.zeros(1, 1, 1),
        ...                               [kernel], [recurrent], None)
        >>> outputs.shape, final.shape
        (torch.Size([4, 1, 1]), torch.Size([1, 1, 1]))
    """
    directions = len(kernels)
    bias_list = [None] * directions if biases is None else list(biases)
    if padding is None:
        layout = _Layout.unmasked(*x.shape[:2])
    else:
        layout = _Layout.masked(padding, directions)
    # Named for profilers (PyTorch's own kernels show as aten::gru).
    with torch.profiler.record_function(_PROFILER_NAMES[directions]):
        tensors = [x, initial, *kernels, *recurrent_kernels, *bias_list]
        training = torch.is_grad_enabled() and any(
            t is not None and t.requires_grad for t in tensors
        )
        return _GRUSequence.apply(x, initial, layout, training, reset_after, *tensors[2:])


_PROFILER_NAMES = {1: "birnn::gru", 2: "birnn::gru_bidirectional"}


class _Layout:
    """Where a call's rows and steps lie in the kernel's buffers.

    The gates and states of every step are rows of ``(directions, rows, ·)`` buffers,
    step after step. Without padding each step has every row of the batch. Under
    padding the rows are sorted by length, longest first, and each direction reads only
    a row's own steps, from its first (the first direction) or from its last valid one
    (the second); so the rows that have step ``t`` are the first ``counts[t]``, and each
    step works on those rows only (the layout of PyTorch's packed sequences). Step ``t``'s
    block also keeps the rows that ended at step ``t - 1`` (``blocks[t] = counts[t -
    1]``), so that the states before each step lie in the same rows as its gates
    (``_WeightGrads`` then needs one GEMM per chunk of steps); those rows take no gradient.

    Positions are flat indices ``t * batch + b`` into time-major ``(time, batch, ·)``.

    Attributes:
        batch, time: the batch size and the steps that run (the longest row's length).
        counts: per step, the rows that have it.
        blocks: per step, its rows in the buffers, and the states after the last step.
        offsets: each block's first row: step ``t``'s gates and the states before it start
            at ``offsets[t]``; the states buffer has ``offsets[-1]`` rows (a row of zeros
            last under padding).
        rows: the gates buffer's rows, ``offsets[time]``.
        padding: the ``(time, batch)`` padding, or ``None``.
        order, inverse: ``(batch,)`` the rows by length, longest first, and each row's place
            in that order; ``None`` when the rows are sorted already.
        reading: per direction, the input position each row of the gates reads.
        placing: per direction, ``(time * batch,)``: the states' row of each position's
            output (the row of zeros at padded positions).
        outside: per direction, the output position of each states' row after the first
            block.
        ends: per direction, the position of each sorted row's last step (rows with steps).
        final: ``(batch,)`` each row's final state's row.
        dead: the gates' rows of rows that ended before their step, ascending (``None``
            without padding).
    """

    def __init__(self, batch, counts, blocks, padding=None):
        self.batch, self.time, self.counts, self.blocks = batch, len(counts), counts, blocks
        self.offsets = [0, *itertools.accumulate(blocks)]
        self.rows = self.offsets[self.time]
        self.padding = padding
        self.order = self.inverse = self.dead = None
        self._views, self._chunks = {}, {}

    @staticmethod
    def unmasked(time: int, batch: int) -> _Layout:
        """Every row has every step. Kept for calls of up to ``_KEPT_STEPS`` steps (the same
        for every call of that shape; it holds a few lists as long as the steps)."""
        if time <= _KEPT_STEPS:
            return _kept_unmasked(time, batch)
        return _Layout(batch, [batch] * time, [batch] * (time + 1))

    @staticmethod
    def masked(padding: torch.Tensor, directions: int) -> _Layout:
        """The layout of one or two directions over ``padding`` (``gru_sequence``'s)."""
        lengths = (~padding).sum(dim=0).numpy()
        batch = len(lengths)
        order = np.argsort(-lengths, kind="stable")
        ordered = lengths[order]
        time = int(ordered[0]) if batch else 0
        steps = np.arange(time)[:, None]
        valid = steps < ordered  # (time, batch): sorted row j has step t
        counts = valid.sum(axis=1).tolist()
        layout = _Layout(batch, counts, [batch, *counts], padding)
        if time == 0:
            return layout
        inverse = np.empty_like(order)
        inverse[order] = np.arange(batch)
        if not (order == np.arange(batch)).all():
            layout.order, layout.inverse = torch.from_numpy(order), torch.from_numpy(inverse)
        offsets = np.asarray(layout.offsets)
        columns = np.arange(batch)
        in_block = columns < np.asarray(layout.blocks[:time])[:, None]
        gate_rows = offsets[:time, None] + columns
        layout.dead = torch.from_numpy(gate_rows[in_block & ~valid])
        after = offsets[1 : time + 1, None] + columns  # the states after each step
        zero_row = offsets[-1]
        reads = [steps * batch + order]
        if directions == 2:
            reads.append(np.where(valid, ordered - 1 - steps, steps) * batch + order)
        layout.reading, layout.placing, layout.outside, layout.ends = [], [], [], []
        with_steps = int(valid[0].sum())
        for read in reads:
            layout.reading.append(torch.from_numpy(read[in_block]))
            placing = np.full(time * batch, zero_row)
            placing[read[valid]] = after[valid]
            layout.placing.append(torch.from_numpy(placing))
            layout.outside.append(torch.from_numpy(read[valid]))
            layout.ends.append(
                torch.from_numpy(read[ordered[:with_steps] - 1, columns[:with_steps]])
            )
        layout.final = torch.from_numpy(offsets[ordered[inverse]] + inverse)
        layout.offsets.append(zero_row + 1)
        return layout

    def chunks(self, rows: int) -> list[tuple[int, int]]:
        """The steps in chunks ``(start, stop)`` of about ``rows`` rows, at least one step."""
        chunks = self._chunks.get(rows)
        if chunks is None:
            chunks, start, total = [], 0, 0
            for t, block in enumerate(self.blocks[: self.time]):
                total += block
                if total >= rows:
                    chunks.append((start, t + 1))
                    start, total = t + 1, 0
            if start < self.time:
                chunks.append((start, self.time))
            self._chunks[rows] = chunks
        return chunks

    def steps(self, tensor: torch.Tensor, dim: int, start: int, stop: int) -> list[torch.Tensor]:
        """Each step's rows that have it, for steps ``start`` to ``stop - 1`` of ``tensor``,
        whose dimension ``dim`` holds their blocks from its first row on."""
        plan = self._views.get((start, stop))
        if plan is None:
            sizes, picks = [], []
            for t in range(start, stop):
                picks.append(len(sizes))
                sizes.append(self.counts[t])
                if self.blocks[t] > self.counts[t]:
                    sizes.append(self.blocks[t] - self.counts[t])
            rows = self.offsets[stop] - self.offsets[start]
            plan = self._views[start, stop] = (
                sizes,
                None if len(picks) == len(sizes) else picks,
                rows,
            )
        sizes, picks, rows = plan
        parts = tensor.narrow(dim, 0, rows).split(sizes, dim)
        return parts if picks is None else [parts[i] for i in picks]

    def states_after(self, tensor: torch.Tensor, dim: int) -> list[torch.Tensor]:
        """Each step's rows of the states after it (``tensor``'s blocks 1 on)."""
        rows = self.offsets[self.time + 1] - self.batch
        return tensor.narrow(dim, self.batch, rows).split(self.counts, dim)

    def dead_rows(self, start: int, stop: int) -> torch.Tensor | None:
        """The rows of steps ``start`` to ``stop - 1`` that ended before, from the first of
        step ``start``, or ``None``."""
        if self.dead is None:
            return None
        low, high = np.searchsorted(self.dead.numpy(), [self.offsets[start], self.offsets[stop]])
        return self.dead[low:high] - self.offsets[start] if high > low else None


_KEPT_STEPS = 1024


@functools.lru_cache(maxsize=32)
def _kept_unmasked(time: int, batch: int) -> _Layout:
    return _Layout(batch, [batch] * time, [batch] * (time + 1))


class _GRUSequence(torch.autograd.Function):
    """The kernel as an autograd function; its backward is the hand-written one, or, when a
    graph of the gradients is asked for (``create_graph=True``), a differentiable replay."""

    @staticmethod
    def forward(ctx, x, initial, layout, training, reset_after, *weights):
        ctx.layout, ctx.reset_after = layout, reset_after
        if layout.time == 0:  # no row has a step: zeros, and the initial states
            ctx.save_for_backward(x, initial, *weights)
            return x.new_zeros(*x.shape[:2], initial.shape[0] * initial.shape[2]), initial.clone()
        inputs = _reading_order(x, len(weights) // 3, layout)
        gates, states = _forward(inputs, _sorted(initial, layout), layout, weights, reset_after)
        if training:
            # The gates are saved like the rest, so that saved-tensor hooks (non-reentrant
            # checkpointing, offloading) reach them too. The backward overwrites them with the
            # gates' gradients through ``.data`` (outside autograd's version count, which would
            # refuse a second backward); a second backward (retain_graph) recomputes them.
            ctx.save_for_backward(states, x, initial, gates, *weights, *inputs)
            ctx.gates_overwritten = False
        return _outputs_in_time_order(states, layout, x.shape[0]), _final_states(states, layout)

    @staticmethod
    def backward(ctx, output_grad, final_grad):
        if ctx.layout.time == 0:  # the final states are the initial ones; the rest take 0
            x, initial, *weights = ctx.saved_tensors
            if torch.is_grad_enabled():
                return _replayed_gradients(ctx, x, initial, weights, output_grad, final_grad)
            zeros = [
                None if w is None or not needed else torch.zeros_like(w)
                for w, needed in zip(weights, ctx.needs_input_grad[_WEIGHTS:])
            ]
            input_grad = torch.zeros_like(x) if ctx.needs_input_grad[0] else None
            return (input_grad, final_grad, None, None, None, *zeros)
        states, x, initial, gates, *rest = ctx.saved_tensors
        directions = len(ctx.needs_input_grad[_WEIGHTS:]) // 3
        weights, inputs = rest[: 3 * directions], rest[3 * directions :]
        if torch.is_grad_enabled():
            return _replayed_gradients(ctx, x, initial, weights, output_grad, final_grad)
        layout = ctx.layout
        if ctx.gates_overwritten:  # a second backward (retain_graph): the first overwrote them
            gates, _ = _forward(inputs, _sorted(initial, layout), layout, weights, ctx.reset_after)
        else:
            gates = gates.data
        ctx.gates_overwritten = True
        state_grads = _StateGrads(output_grad, final_grad, states, layout)
        weight_grads, initial_grad, input_grads = _backward(
            inputs,
            gates,
            states,
            weights,
            state_grads,
            layout,
            ctx.needs_input_grad[0],
            ctx.reset_after,
        )
        if layout.inverse is not None:
            initial_grad = initial_grad.index_select(1, layout.inverse)
        input_grad = None
        if input_grads is not None:
            input_grad = _inputs_in_time_order(input_grads, layout, x.shape)
        return (input_grad, initial_grad, None, None, None, *weight_grads)


# The position of the first weight among ``_GRUSequence.forward``'s inputs.
_WEIGHTS = 5


def _sorted(initial: torch.Tensor, layout: _Layout) -> torch.Tensor:
    """The initial states ``(directions, batch, units)`` of the rows in the kernel's order."""
    return initial if layout.order is None else initial.index_select(1, layout.order)


def _reading_order(x: torch.Tensor, directions: int, layout: _Layout) -> list[torch.Tensor]:
    """Per direction, ``(rows, features)``: the input each row of the gates reads."""
    time, batch, features = x.shape
    if layout.padding is None:
        steps = [x, x.flip(0)] if directions == 2 else [x]
        return [s.reshape(time * batch, features) for s in steps]
    flat = x.reshape(time * batch, features)
    return [flat.index_select(0, reading) for reading in layout.reading]


def _outputs_in_time_order(states: torch.Tensor, layout: _Layout, time: int) -> torch.Tensor:
    """``(time, batch, directions * units)`` from the states (``_forward``)."""
    directions, _, units = states.shape
    batch, steps = layout.batch, layout.time
    if layout.padding is None:
        after = states[:, batch:].view(directions, steps, batch, units)
        if directions == 1:
            return after[0].clone()
        outputs = states.new_empty(steps, batch, 2 * units)
        outputs[..., :units] = after[0]
        torch.index_select(after[1], 0, _reversed(steps), out=outputs[..., units:])
        return outputs
    outputs = states.new_empty(time, batch, directions * units)
    outputs[steps:] = 0.0
    placed = outputs[:steps].view(steps * batch, directions * units)
    for d in range(directions):
        out = placed[:, d * units : (d + 1) * units]
        torch.index_select(states[d], 0, layout.placing[d], out=out)
    return outputs


def _final_states(states: torch.Tensor, layout: _Layout) -> torch.Tensor:
    """``(directions, batch, units)``: each row's state after its last step."""
    if layout.padding is None:
        start = layout.offsets[layout.time]
        return states[:, start : start + layout.batch].clone()
    return states.index_select(1, layout.final)


def _inputs_in_time_order(grads: list[torch.Tensor], layout: _Layout, shape) -> torch.Tensor:
    """The inputs' gradient ``shape`` from each direction's rows' (``_reading_order``)."""
    if layout.padding is None:
        grads = [g.view(shape) for g in grads]
        return grads[0] if len(grads) == 1 else grads[0].add_(grads[1].flip(0))
    input_grad = grads[0].new_zeros(shape)
    flat = input_grad.view(shape[0] * shape[1], shape[2])
    for grad, reading in zip(grads, layout.reading):
        flat.index_add_(0, reading, grad)
    return input_grad


def _reversed(time: int) -> torch.Tensor:
    """The steps ``time - 1`` down to ``0``: the time of each step that direction 1 reads."""
    return torch.arange(time - 1, -1, -1)


class _StateGrads:
    """The gradients of each direction's states from outside the recurrence (the outputs'
    gradient), in the states' rows, a chunk of steps at a time, each chunk written over the
    last (a copy of them all would add to the backward's peak memory); and ``last``, each
    row's gradient of its state after its last step (with the final states' gradient), where
    the backward through time starts."""

    def __init__(self, output_grad, final_grad, states, layout):
        directions, _, units = states.shape
        batch = layout.batch
        self.output_grad, self.layout, self.units, self.buffer = output_grad, layout, units, None
        most = max(layout.offsets[b] - layout.offsets[a] for a, b in layout.chunks(_FACTOR_ROWS))
        if output_grad is None or directions == 2 or layout.padding is not None:
            allocate = states.new_zeros if output_grad is None else states.new_empty
            self.buffer = allocate(directions, most, units)
        if output_grad is None:
            self.last = states.new_zeros(directions, batch, units)
        elif layout.padding is None:
            last = output_grad[-1].view(batch, directions, units).transpose(0, 1)
            self.last = last.clone(memory_format=torch.contiguous_format)
            if directions == 2:
                self.last[1] = output_grad[0, :, units:]
        else:
            self.last = states.new_zeros(directions, batch, units)
            # Rows by position (a copy, once, when the gradient is a transposed view).
            self.output_grad = output_grad.reshape(-1, output_grad.shape[-1])
            for d, ends in enumerate(layout.ends):
                out = self.last[d, : len(ends)]
                columns = self.output_grad[:, d * units : (d + 1) * units]
                torch.index_select(columns, 0, ends, out=out)
        if final_grad is not None:
            self.last += final_grad if layout.order is None else final_grad[:, layout.order]

    def chunk(self, start: int, stop: int) -> list[torch.Tensor | None]:
        """Per step ``start`` to ``stop - 1``, the gradient of its active rows' states before
        it (``None`` for step 0, whose are the initial states)."""
        layout, units = self.layout, self.units
        first = max(start, 1)
        if first >= stop:
            return [None]
        batch, low, high = layout.batch, layout.offsets[first], layout.offsets[stop]
        if self.buffer is None:  # one direction, no padding: the outputs' gradient as it is
            steps = self.output_grad[first - 1 : stop - 1].unsqueeze(0).unbind(1)
            return [None] * (first - start) + list(steps)
        chunk = self.buffer[:, : high - low]
        if self.output_grad is not None:
            if layout.padding is None:
                steps = chunk.view(2, stop - first, batch, units)
                steps[0] = self.output_grad[first - 1 : stop - 1, :, :units]
                time = self.output_grad.shape[0]
                reversed_steps = _reversed(time)[first - 1 : stop - 1]
                torch.index_select(self.output_grad[..., units:], 0, reversed_steps, out=steps[1])
            else:
                for d, outside in enumerate(layout.outside):
                    columns = self.output_grad[:, d * units : (d + 1) * units]
                    torch.index_select(
                        columns, 0, outside[low - batch : high - batch], out=chunk[d]
                    )
        return [None] * (first - start) + list(layout.steps(chunk, 1, first, stop))


def _forward(inputs, initial, layout, weights, reset_after=True):
    """The gates of every step and the states, ``initial`` first.

    Per step ``h = lerp(n, h_prev, z)``, ``n = tanh(a_n)``, ``a_n = x_n + r * g_n``, with
    ``z, r`` the sigmoids of ``x_z + h_prev @ recurrent_kernel_z`` (and ``r``'s), ``x``
    the input projection with its biases; with ``reset_after=False``, ``a_n = x_n + (r *
    h_prev) @ recurrent_kernel_h``. The steps are projected a chunk at a time, just
    before they run, so that their gates are still in cache when the steps read them.

    Args:
        inputs: per direction, ``(rows, features)``, each row of the gates' input.
        initial: ``(directions, batch, units)``, the rows in the layout's order.
        layout: the call's ``_Layout``.
        weights: the kernels, recurrent kernels and biases, per direction.
        reset_after: as in ``gru_sequence``.

    Returns:
        ``(gates (directions, rows, 4 * units), states (directions, layout.offsets[-1],
        units))`` in the layout's rows; each step's gates row is ``[n | z | r | g_n]`` (``[n
        | z | r | r * h_prev]`` with ``reset_after=False``) once the step has run (``n`` the
        candidate, after its activation).
    """
    directions = len(inputs)
    units = weights[directions].shape[0]
    time, batch = layout.time, layout.batch
    projections = [
        _Projection(weights[d], weights[2 * directions + d], units, reset_after)
        for d in range(directions)
    ]
    gates = _gates_buffer(inputs[0], directions, layout.rows, units)
    states = inputs[0].new_empty(directions, layout.offsets[-1], units)
    states[:, :batch] = initial
    if layout.padding is not None:
        states[:, -1] = 0.0  # the outputs at padded positions

    def steps(tensor, dim=1):
        return layout.steps(tensor, dim, 0, time)

    candidate_steps, z_steps, r_steps, inner_steps = map(steps, gates.split(units, dim=-1))
    zr_steps = steps(gates[..., units : 3 * units])
    state_steps, next_steps = steps(states), layout.states_after(states, 1)
    recurrent_kernels = weights[directions : 2 * directions]
    # Per direction: each step's state and the gates' columns its GEMM accumulates into.
    columns = slice(units, None) if reset_after else slice(units, 3 * units)
    recurrent_steps = [
        (
            steps(states[d], 0),
            steps(gates[d, :, columns], 0),
            kernel if reset_after else kernel[:, : 2 * units],
        )
        for d, kernel in enumerate(recurrent_kernels)
    ]
    if not reset_after:
        # Per direction: each step's candidate columns, its r * h_prev and their kernel.
        candidate_rows = [
            (
                steps(gates[d, :, :units], 0),
                steps(gates[d, :, 3 * units :], 0),
                kernel[:, 2 * units :],
            )
            for d, kernel in enumerate(recurrent_kernels)
        ]
    minus_one = states.new_full((), -1.0)
    for start, stop in layout.chunks(_PROJECT_ROWS):
        low, high = layout.offsets[start], layout.offsets[stop]
        for d, projection in enumerate(projections):
            projection.write(gates[d, low:high], inputs[d][low:high])
        for t in range(start, stop):
            for state_rows, gate_rows, recurrent_kernel in recurrent_steps:
                gate_rows[t].addmm_(state_rows[t], recurrent_kernel)
            zr_steps[t].sigmoid_()
            if reset_after:
                # tanh(a) = 2 sigmoid(2a) - 1; x_n is doubled already (_Projection). One add
                # with a tensor -1 costs a third of mul_(2.0).sub_(1.0) with Python numbers.
                candidate = candidate_steps[t].addcmul_(r_steps[t], inner_steps[t], value=2.0)
            else:
                torch.mul(r_steps[t], state_steps[t], out=inner_steps[t])  # r * h_prev
                for candidate_rows_d, reset_states, kernel_h in candidate_rows:
                    candidate_rows_d[t].addmm_(reset_states[t], kernel_h, alpha=2.0)
                candidate = candidate_steps[t]
            torch.add(minus_one, candidate.sigmoid_(), alpha=2.0, out=candidate)
            torch.lerp(candidate, state_steps[t], z_steps[t], out=next_steps[t])
    return gates, states


# Rows per chunk of the input projection, which runs just before its steps (their gates
# are still in cache then), and of the backward's gate factors, computed at once.
_PROJECT_ROWS = 1024
_FACTOR_ROWS = 256


def _gates_buffer(like, directions, rows, units):
    """An uninitialised ``(directions, rows, 4 * units)`` view whose rows lie a cache line
    further apart than their width when that width is a multiple of 512 bytes: rows a power
    of two apart collide in the cache's sets, which slows the GEMMs that read or write many
    rows (the weight gradients' by 10-25%)."""
    width = 4 * units
    padding = _CACHE_LINE // like.element_size() if width * like.element_size() % 512 == 0 else 0
    return like.new_empty(directions, rows, width + padding)[..., :width]


_CACHE_LINE = 64


class _Projection:
    """One direction's input projection, written into its steps' gates ``[2 x_n | x_z | x_r
    | g_n]``, with ``g_n`` set to the recurrent bias (each step adds the rest); with
    ``reset_after=False``, into ``[2 x_n | x_z | x_r]`` (one bias, ``(3 * units,)``)."""

    def __init__(self, kernel, bias, units, reset_after=True):
        self.units = units
        self.kernel_zr, self.kernel_n = kernel[:, : 2 * units], kernel[:, 2 * units :]
        if bias is None:
            bias = kernel.new_zeros(2 if reset_after else 1, 3 * units)
        if reset_after:
            input_bias, recurrent_bias = bias
            self.bias_zr = input_bias[: 2 * units] + recurrent_bias[: 2 * units]
            self.bias_n, self.bias_g = input_bias[2 * units :], recurrent_bias[2 * units :]
        else:
            bias = bias.reshape(3 * units)
            self.bias_zr, self.bias_n, self.bias_g = bias[: 2 * units], bias[2 * units :], None

    def write(self, gates, x):
        """``gates`` ``(rows, 4 * units)`` from ``x`` ``(rows, features)``."""
        units = self.units
        torch.addmm(self.bias_zr, x, self.kernel_zr, out=gates[:, units : 3 * units])
        torch.addmm(self.bias_n, x, self.kernel_n, beta=2, alpha=2, out=gates[:, :units])
        if self.bias_g is not None:
            gates[:, 3 * units :] = self.bias_g


def _backward(
    inputs, gates, states, weights, state_grads, layout, needs_input_grad, reset_after=True
):
    """Backward through time, every direction at once, a chunk of steps at a time.

    With ``h = lerp(n, h_prev, z)``, ``n = tanh(a_n)``, ``a_n = x_n + r * g_n`` and ``g =
    h_prev @ recurrent_kernel + recurrent_bias``, each pre-activation's gradient is the
    state's gradient ``dh`` times a factor of its step: ``(1 - z)(1 - n^2)`` for ``a_n``,
    ``(h_prev - n) z (1 - z)`` for ``a_z``, that of ``a_n`` times ``r`` for ``g_n`` and times
    ``r g_n (1 - r)`` for ``a_r``. Per chunk, the factors are computed at once in the gates'
    places; each step multiplies its rows' factors by ``dh`` and adds ``dh z + dg @
    recurrent_kernel.T`` to the previous state's gradient; the chunk's gate gradients (0 in
    the rows that ended before) then add their terms to the weight gradients
    (``_WeightGrads``).

    With ``reset_after=False`` (``a_n = x_n + (r * h_prev) @ recurrent_kernel_h``), the
    factors of ``a_n`` and ``a_z`` are the same; ``r * h_prev``'s gradient ``d_rh = da_n @
    recurrent_kernel_h.T`` needs a GEMM of the step first, and ``a_r``'s gradient is
    ``d_rh`` times ``h_prev r (1 - r)``; the previous state's gradient also gains ``d_rh r``.

    Args:
        inputs: per direction, ``(rows, features)`` (``_reading_order``).
        gates, states: from ``_forward``; ``gates`` is overwritten.
        weights: the kernels, recurrent kernels and biases, per direction.
        state_grads: the states' gradients from outside the recurrence (``_StateGrads``).
        layout: the call's ``_Layout``.
        needs_input_grad: also return the inputs' gradients.
        reset_after: as in ``gru_sequence``.

    Returns:
        ``(weight_grads, initial_grad, input_grads)``: the kernels', recurrent kernels' and
        biases' gradients (per direction, ``None`` for absent biases), each in its weight's
        memory layout; the initial states' ``(directions, batch, units)``, the rows in the
        layout's order (``_Layout.order``); and per direction the inputs' ``(rows,
        features)``, like ``inputs``, or ``None``.
    """
    directions, _, width = gates.shape
    units = width // 4
    kernels, recurrent_kernels = weights[:directions], weights[directions : 2 * directions]
    weight_grads = _WeightGrads(inputs, states, weights, reset_after)
    chunks = layout.chunks(_FACTOR_ROWS)
    most = max(layout.offsets[stop] - layout.offsets[start] for start, stop in chunks)
    kept_update = gates.new_empty(directions, most, units)
    work = torch.empty_like(kept_update)
    one = gates.new_ones(())
    if reset_after:
        transposed = [k.t() for k in recurrent_kernels]
    else:
        kept_reset = torch.empty_like(kept_update)
        transposed = [k[:, : 2 * units].t() for k in recurrent_kernels]
        transposed_h = [k[:, 2 * units :].t() for k in recurrent_kernels]
        reset_state_grad = gates.new_empty(directions, layout.batch, units)
    # The state's gradient alternates between two buffers. A row's stays where
    # ``state_grads.last`` put it, in both, until the backward reaches its last step.
    last = state_grads.last
    buffers = [last, torch.empty_like(last) if layout.padding is None else last.clone()]
    views = [_StepViews(b) for b in buffers]
    current = 0
    for start, stop in reversed(chunks):
        low, high = layout.offsets[start], layout.offsets[stop]
        rows = high - low

        def steps(tensor, dim=1, start=start, stop=stop):
            return layout.steps(tensor, dim, start, stop)

        outside = state_grads.chunk(start, stop)
        block = gates[:, low:high]
        activation, update, reset, inner = block.split(units, dim=-1)
        z = kept_update[:, :rows].copy_(update)
        scratch = work[:, :rows]
        torch.sub(states[:, low:high], activation, out=scratch)  # h_prev - n
        torch.addcmul(one, activation, activation, value=-1.0, out=activation)
        activation.addcmul_(activation, z, value=-1.0)
        torch.mul(scratch, z, out=update).addcmul_(update, z, value=-1.0)
        factors = block.view(directions, rows, 4, units)
        if reset_after:
            torch.mul(activation, reset, out=scratch)
            torch.addcmul(scratch, scratch, reset, value=-1.0, out=reset).mul_(inner)
            inner.copy_(scratch)
        else:
            r = kept_reset[:, :rows].copy_(reset)
            torch.addcmul(reset, reset, reset, value=-1.0, out=reset).mul_(states[:, low:high])
            factors = factors[..., :2, :]  # those of a_n and a_z; a_r's waits for d_rh
            candidate_grads = [steps(block[d, :, :units], 0) for d in range(directions)]
            r_steps, r_factors = steps(r), steps(reset)
        dead = layout.dead_rows(start, stop)
        if dead is not None:
            block.index_fill_(1, dead, 0.0)  # rows that ended before: no gradient

        step_factors = steps(factors)
        gradient_columns = slice(units, None) if reset_after else slice(units, 3 * units)
        step_grads = [steps(block[d, :, gradient_columns], 0) for d in range(directions)]
        z_steps = steps(z)
        for i in range(stop - start - 1, -1, -1):
            count = layout.counts[start + i]
            dh, dh_per_gate, _ = views[current].cut(count)
            current ^= 1
            previous, _, previous_rows = views[current].cut(count)
            step_factors[i].mul_(dh_per_gate)
            if not reset_after:
                reset_grad = reset_state_grad[:, :count]
                for d, reset_grad_d in enumerate(reset_grad.unbind(0)):
                    torch.mm(candidate_grads[d][i], transposed_h[d], out=reset_grad_d)
                r_factors[i].mul_(reset_grad)
            if outside[i] is not None:
                torch.addcmul(outside[i], dh, z_steps[i], out=previous)
            else:
                torch.mul(dh, z_steps[i], out=previous)
            if not reset_after:
                previous.addcmul_(reset_grad, r_steps[i])
            for d in range(directions):
                previous_rows[d].addmm_(step_grads[d][i], transposed[d])

        weight_grads.add(block, low, high, first=stop == layout.time)

    input_grads = None
    if needs_input_grad:
        input_grads = [torch.mm(gates[d, :, units:], kernels[d].t()) for d in range(directions)]
    return weight_grads.result(), buffers[current], input_grads


class _StepViews:
    """Views of a state-gradient buffer ``(directions, batch, units)`` cut to its first rows:
    ``(rows, rows per gate (directions, rows, 1, units), each direction's rows)``, made once
    per count."""

    def __init__(self, buffer):
        self.buffer, self.views = buffer, {}

    def cut(self, rows):
        views = self.views.get(rows)
        if views is None:
            b = self.buffer[:, :rows]
            views = self.views[rows] = (b, b.unsqueeze(2), b.unbind(0))
        return views


class _WeightGrads:
    """The weights' gradients, summed over the steps a chunk at a time, while the chunk's
    gate gradients are still in cache, in the weights' own memory layouts (gradient
    accumulation takes them without a copy)."""

    def __init__(self, inputs, states, weights, reset_after=True):
        directions = len(inputs)
        self.inputs, self.states, self.directions = inputs, states, directions
        self.reset_after = reset_after
        self.kernels = [
            torch.empty_like(k, memory_format=torch.preserve_format) for k in weights[:directions]
        ]
        self.recurrent_kernels = [
            torch.empty_like(k, memory_format=torch.preserve_format)
            for k in weights[directions : 2 * directions]
        ]
        self.biases = weights[2 * directions :] if weights[-1] is not None else None
        self.sums = None

    def add(self, block, low, high, first):
        """Adds the gates' rows ``low`` to ``high - 1``, whose gradients ``block``,
        ``(directions, rows, 4 * units)`` ``[da_n | da_z | da_r | dg_n]`` (``[da_n | da_z |
        da_r | r * h_prev]`` with ``reset_after=False``), become ``[da_n | da_z | da_r |
        da_n]``; ``first``: the first rows added."""
        units = block.shape[-1] // 4
        for d in range(self.directions):
            h_prev = self.states[d, low:high].t()
            grad = self.recurrent_kernels[d]
            if self.reset_after:
                _add_product(grad, h_prev, block[d, :, units:], first)
            else:
                _add_product(grad[:, : 2 * units], h_prev, block[d, :, units : 3 * units], first)
                reset_states = block[d, :, 3 * units :].t()
                _add_product(grad[:, 2 * units :], reset_states, block[d, :, :units], first)
        if self.biases is not None:
            sums = block.sum(dim=1)
            self.sums = sums if first else self.sums.add_(sums)
        # [da_z | da_r | da_n] side by side, the kernels' column order: one GEMM each.
        block[..., 3 * units :] = block[..., :units]
        for d in range(self.directions):
            _add_product(self.kernels[d], self.inputs[d][low:high].t(), block[d, :, units:], first)

    def result(self):
        """The kernels', recurrent kernels' and biases' gradients (``None`` for absent biases)."""
        units = self.recurrent_kernels[0].shape[0]
        bias_grads = [None] * self.directions
        if self.biases is not None:
            bias_grads = [_bias_grad(s, b, units) for s, b in zip(self.sums, self.biases)]
        return self.kernels + self.recurrent_kernels + bias_grads


def _add_product(out, a, b, first):
    """``out = a @ b`` if ``first``, else ``out += a @ b``; ``out`` may be a view."""
    if not first:
        out.addmm_(a, b)
    elif out.is_contiguous():
        torch.mm(a, b, out=out)
    else:
        out.addmm_(a, b, beta=0.0)  # beta 0 ignores out's values, even NaN


def _bias_grad(sums: torch.Tensor, bias: torch.Tensor, units: int) -> torch.Tensor:
    """The bias's gradient from the column sums of the gate gradients ``[da_n | da_z | da_r
    | dg_n]``: ``(2, 3 * units)``, the input and recurrent biases', or ``(3 * units,)`` for
    the one bias of ``reset_after=False`` (whose sums' last part is unused)."""
    grad = torch.empty_like(bias, memory_format=torch.preserve_format)
    if bias.dim() == 1:
        grad[: 2 * units] = sums[units : 3 * units]
        grad[2 * units :] = sums[:units]
        return grad
    grad[:, : 2 * units] = sums[units : 3 * units]
    grad[0, 2 * units :] = sums[:units]
    grad[1, 2 * units :] = sums[3 * units :]
    return grad


def _replayed_gradients(ctx, x, initial, weights, output_grad, final_grad):
    """Gradients as a differentiable graph: the forward replayed with autograd's own ops."""
    directions = len(weights) // 3
    inputs = [x, initial, *weights]
    with torch.enable_grad():
        outputs, final = reference_gru_sequence(
            x,
            initial,
            weights[:directions],
            weights[directions : 2 * directions],
            None if weights[-1] is None else weights[2 * directions :],
            ctx.layout.padding,
            ctx.reset_after,
        )
        pairs = [(o, g) for o, g in ((outputs, output_grad), (final, final_grad)) if g is not None]
        wanted = [
            i for i, tensor in enumerate(inputs) if tensor is not None and tensor.requires_grad
        ]
        grads = torch.autograd.grad(
            [o for o, _ in pairs],
            [inputs[i] for i in wanted],
            [g for _, g in pairs],
            create_graph=True,
            allow_unused=True,
        )
    # padding, training and reset_after take no gradient
    result = [None] * (len(inputs) + _WEIGHTS - 2)
    for i, grad in zip(wanted, grads):
        result[i if i < 2 else i + _WEIGHTS - 2] = grad
    return tuple(result)


def reference_gru_sequence(
    x, initial, kernels, recurrent_kernels, biases, padding=None, reset_after=True
):
    """``gru_sequence`` in plain differentiable ops, one step at a time (its reference)."""
    outputs, finals = [], []
    for d, (kernel, recurrent_kernel) in enumerate(zip(kernels, recurrent_kernels)):
        steps = x if d == 0 else x.flip(0)
        skip = None if padding is None else (padding if d == 0 else padding.flip(0))
        bias = None if biases is None else biases[d].reshape(-1, kernel.shape[1])
        projected = steps @ kernel if bias is None else steps @ kernel + bias[0]
        units = recurrent_kernel.shape[0]
        h = initial[d]
        states = []
        for t in range(steps.shape[0]):
            x_z, x_r, x_h = projected[t].split(units, dim=-1)
            if reset_after:
                inner = h @ recurrent_kernel if bias is None else h @ recurrent_kernel + bias[1]
                h_z, h_r, h_h = inner.split(units, dim=-1)
            else:
                h_z, h_r = (h @ recurrent_kernel[:, : 2 * units]).split(units, dim=-1)
            z = torch.sigmoid(x_z + h_z)
            r = torch.sigmoid(x_r + h_r)
            if reset_after:
                candidate = torch.tanh(x_h + r * h_h)
            else:
                candidate = torch.tanh(x_h + (r * h) @ recurrent_kernel[:, 2 * units :])
            new = torch.lerp(candidate, h, z)
            if skip is None:
                h = new
                states.append(h)
            else:  # the state passes the padding unchanged; the outputs there are 0
                h = torch.where(skip[t].unsqueeze(-1), h, new)
                states.append(h.masked_fill(skip[t].unsqueeze(-1), 0.0))
        sequence = torch.stack(states)
        outputs.append(sequence if d == 0 else sequence.flip(0))
        finals.append(h)
    return torch.cat(outputs, dim=-1), torch.stack(finals)
