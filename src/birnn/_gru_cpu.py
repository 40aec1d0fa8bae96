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

Masks use the fused paths' scheme: the caller packs each row's valid steps to
the front, and at the padded positions (``padding``) the update gate is driven to
exactly 1, so the state passes through unchanged in both reading directions and
no gradient flows there.

Gates are in Keras's order ``z, r, h``; weights are the cells' own tensors
(``kernel (features, 3 * units)``, ``recurrent_kernel (units, 3 * units)``, ``bias
(2, 3 * units)``, or ``(3 * units,)`` with ``reset_after=False``).
"""

from __future__ import annotations

import torch

# Pre-activation of the update gate at padded steps: sigmoid(_SATURATE) == 1 exactly.
_SATURATE = 1.0e4


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
        padding: optional bool ``(time, batch)``; ``True`` where the state passes unchanged.
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
    bias_list = [None] * len(kernels) if biases is None else list(biases)
    # Named for profilers (PyTorch's own kernels show as aten::gru).
    with torch.profiler.record_function(_PROFILER_NAMES[len(kernels)]):
        tensors = [x, initial, *kernels, *recurrent_kernels, *bias_list]
        training = torch.is_grad_enabled() and any(
            t is not None and t.requires_grad for t in tensors
        )
        return _GRUSequence.apply(x, initial, padding, training, reset_after, *tensors[2:])


_PROFILER_NAMES = {1: "birnn::gru", 2: "birnn::gru_bidirectional"}


class _GRUSequence(torch.autograd.Function):
    """The kernel as an autograd function; its backward is the hand-written one, or, when a
    graph of the gradients is asked for (``create_graph=True``), a differentiable replay."""

    @staticmethod
    def forward(ctx, x, initial, padding, training, reset_after, *weights):
        inputs = _reading_order(x, len(weights) // 3)
        gates, states = _forward(inputs, initial, padding, weights, reset_after)
        if training:
            # The gates are saved like the rest, so that saved-tensor hooks (non-reentrant
            # checkpointing, offloading) reach them too. The backward overwrites them with the
            # gates' gradients through ``.data`` (outside autograd's version count, which would
            # refuse a second backward); a second backward (retain_graph) recomputes them.
            ctx.save_for_backward(states, x, initial, gates, *weights, *inputs[1:])
            ctx.padding, ctx.reset_after, ctx.gates_overwritten = padding, reset_after, False
        return _outputs_in_time_order(states), states[:, -1].clone(
            memory_format=torch.contiguous_format
        )

    @staticmethod
    def backward(ctx, output_grad, final_grad):
        states, x, initial, gates, *rest = ctx.saved_tensors
        directions = len(ctx.needs_input_grad[_WEIGHTS:]) // 3
        weights, inputs = rest[: 3 * directions], [x, *rest[3 * directions :]]
        if torch.is_grad_enabled():
            return _replayed_gradients(ctx, x, initial, weights, output_grad, final_grad)
        if ctx.gates_overwritten:  # a second backward (retain_graph): the first overwrote them
            gates, _ = _forward(inputs, initial, ctx.padding, weights, ctx.reset_after)
        else:
            gates = gates.data
        ctx.gates_overwritten = True
        weight_grads, initial_grad, input_grad = _backward(
            inputs,
            gates,
            states,
            weights,
            output_grad,
            final_grad,
            ctx.needs_input_grad[0],
            ctx.reset_after,
        )
        return (input_grad, initial_grad, None, None, None, *weight_grads)


# The position of the first weight among ``_GRUSequence.forward``'s inputs.
_WEIGHTS = 5


def _reading_order(x: torch.Tensor, directions: int) -> list[torch.Tensor]:
    """Per direction, ``(time, batch, features)``: the steps in its reading order."""
    return [x, x.flip(0)] if directions == 2 else [x]


def _outputs_in_time_order(states: torch.Tensor) -> torch.Tensor:
    """``(time, batch, directions * units)`` from reading-order states (``_forward``)."""
    directions, steps, batch, units = states.shape
    if directions == 1:
        return states[0, 1:].clone()
    outputs = states.new_empty(steps - 1, batch, 2 * units)
    outputs[..., :units] = states[0, 1:]
    torch.index_select(states[1, 1:], 0, _reversed(steps - 1), out=outputs[..., units:])
    return outputs


def _reversed(time: int) -> torch.Tensor:
    """The steps ``time - 1`` down to ``0``: the time of each step that direction 1 reads."""
    return torch.arange(time - 1, -1, -1)


class _StateGrads:
    """The gradients of each direction's state after each step it reads, from outside the
    recurrence (the outputs' and the final states' gradients), in reading order, a chunk of
    at most ``steps`` steps at a time, each written over the last (a copy of them all would
    add to the backward's peak memory)."""

    def __init__(self, output_grad, final_grad, states, steps):
        directions, time, batch, units = states.shape
        time -= 1
        self.output_grad, self.buffer = output_grad, None
        if output_grad is None or directions == 2:
            allocate = states.new_zeros if output_grad is None else states.new_empty
            self.buffer = allocate(directions, min(steps, time), batch, units)
        if output_grad is not None and directions == 2:
            self.forward, self.backward = output_grad.split(units, dim=-1)
            self.reversed = _reversed(time)
        self.last = self.chunk(time - 1, time)[:, 0].clone()
        if final_grad is not None:
            self.last += final_grad

    def chunk(self, start: int, stop: int) -> torch.Tensor:
        """``(directions, stop - start, batch, units)``: steps ``start`` to ``stop - 1``."""
        if self.buffer is None:  # one direction: its states' gradients are the outputs'
            return self.output_grad[start:stop].unsqueeze(0)
        chunk = self.buffer[:, : stop - start]
        if self.output_grad is not None:
            chunk[0] = self.forward[start:stop]
            torch.index_select(self.backward, 0, self.reversed[start:stop], out=chunk[1])
        return chunk  # zeros without the outputs' gradient


def _forward(inputs, initial, padding, weights, reset_after=True):
    """The gates of every step and the states, ``initial`` first.

    Per step ``h = lerp(n, h_prev, z)``, ``n = tanh(a_n)``, ``a_n = x_n + r * g_n``, with
    ``z, r`` the sigmoids of ``x_z + h_prev @ recurrent_kernel_z`` (and ``r``'s), ``x``
    the input projection with its biases; with ``reset_after=False``, ``a_n = x_n + (r *
    h_prev) @ recurrent_kernel_h``. The steps are projected a chunk at a time, just
    before they run, so that their gates are still in cache when the steps read them.

    Returns:
        ``(gates (directions, time, batch, 4 * units), states (directions, time + 1, batch,
        units))`` in reading order; each step's gates row is ``[n | z | r | g_n]`` (``[n |
        z | r | r * h_prev]`` with ``reset_after=False``) once the step has run (``n`` the
        candidate, after its activation).
    """
    directions = len(inputs)
    time, batch, _ = inputs[0].shape
    units = weights[directions].shape[0]
    projections = [
        _Projection(weights[d], weights[2 * directions + d], units, reset_after)
        for d in range(directions)
    ]
    gates = _gates_buffer(inputs[0], directions, time, batch, units)
    padded = None
    if padding is not None:
        padded = torch.stack([padding, padding.flip(0)] if directions == 2 else [padding])
        padded = padded.unsqueeze(-1)
    # Each direction's states are contiguous over time for the weight gradients' GEMM.
    states = inputs[0].new_empty(directions, time + 1, batch, units)
    states[:, 0] = initial
    candidate_steps, z_steps, r_steps, inner_steps = (
        part.unbind(1) for part in gates.split(units, dim=-1)
    )
    zr_steps = gates[..., units : 3 * units].unbind(1)
    state_steps = states.unbind(1)
    recurrent_kernels = weights[directions : 2 * directions]
    # Per direction: each step's state and the gates' columns its GEMM accumulates into.
    if reset_after:
        recurrent_steps = [
            (states[d].unbind(0), gates[d, ..., units:].unbind(0), recurrent_kernels[d])
            for d in range(directions)
        ]
    else:
        recurrent_steps = [
            (
                states[d].unbind(0),
                gates[d, ..., units : 3 * units].unbind(0),
                kernel[:, : 2 * units],
            )
            for d, kernel in enumerate(recurrent_kernels)
        ]
        # Per direction: each step's candidate columns, its r * h_prev and their kernel.
        candidate_rows = [
            (gates[d, ..., :units].unbind(0), inner_steps_d.unbind(0), kernel[:, 2 * units :])
            for d, (inner_steps_d, kernel) in enumerate(
                zip(gates[..., 3 * units :], recurrent_kernels)
            )
        ]
    minus_one = states.new_full((), -1.0)
    chunk = _steps(_PROJECT_ROWS, batch)
    for start in range(0, time, chunk):
        stop = min(time, start + chunk)
        for d, projection in enumerate(projections):
            projection.write(gates[d, start:stop], inputs[d][start:stop])
        if padded is not None:
            gates[:, start:stop, :, units : 2 * units].masked_fill_(
                padded[:, start:stop], _SATURATE
            )
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
            torch.lerp(candidate, state_steps[t], z_steps[t], out=state_steps[t + 1])
    return gates, states


# Rows (steps * batch) per chunk of the input projection, which runs just before its steps
# (their gates are still in cache then), and of the backward's gate factors, computed at once.
_PROJECT_ROWS = 1024
_FACTOR_ROWS = 256


def _gates_buffer(like, directions, time, batch, units):
    """An uninitialised ``(directions, time, batch, 4 * units)`` view whose rows lie a cache
    line further apart than their width when that width is a multiple of 512 bytes: rows a
    power of two apart collide in the cache's sets, which slows the GEMMs that read or write
    many rows (the weight gradients' by 10-25%)."""
    width = 4 * units
    padding = _CACHE_LINE // like.element_size() if width * like.element_size() % 512 == 0 else 0
    return like.new_empty(directions, time, batch, width + padding)[..., :width]


_CACHE_LINE = 64


def _steps(rows: int, batch: int) -> int:
    """The steps of a chunk of about ``rows`` rows, at least one (also for an empty batch)."""
    return max(1, -(-rows // max(batch, 1)))


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
        """``gates`` ``(steps, batch, 4 * units)`` from ``x`` ``(steps, batch, features)``."""
        units = self.units
        steps, batch, features = x.shape
        rows = gates.view(steps * batch, 4 * units)
        x = x.reshape(steps * batch, features)
        torch.addmm(self.bias_zr, x, self.kernel_zr, out=rows[:, units : 3 * units])
        torch.addmm(self.bias_n, x, self.kernel_n, beta=2, alpha=2, out=rows[:, :units])
        if self.bias_g is not None:
            rows[:, 3 * units :] = self.bias_g


def _backward(
    inputs, gates, states, weights, output_grad, final_grad, needs_input_grad, reset_after=True
):
    """Backward through time, every direction at once, a chunk of steps at a time.

    With ``h = lerp(n, h_prev, z)``, ``n = tanh(a_n)``, ``a_n = x_n + r * g_n`` and ``g =
    h_prev @ recurrent_kernel + recurrent_bias``, each pre-activation's gradient is the
    state's gradient ``dh`` times a factor of its step: ``(1 - z)(1 - n^2)`` for ``a_n``,
    ``(h_prev - n) z (1 - z)`` for ``a_z``, that of ``a_n`` times ``r`` for ``g_n`` and times
    ``r g_n (1 - r)`` for ``a_r``. Per chunk, the factors are computed at once in the gates'
    places; each step multiplies its factors by ``dh`` and adds ``dh z + dg @
    recurrent_kernel.T`` to the previous state's gradient; the chunk's gate gradients then
    add their terms to the weight gradients (``_WeightGrads``).

    With ``reset_after=False`` (``a_n = x_n + (r * h_prev) @ recurrent_kernel_h``), the
    factors of ``a_n`` and ``a_z`` are the same; ``r * h_prev``'s gradient ``d_rh = da_n @
    recurrent_kernel_h.T`` needs a GEMM of the step first, and ``a_r``'s gradient is
    ``d_rh`` times ``h_prev r (1 - r)``; the previous state's gradient also gains ``d_rh r``.

    Args:
        inputs: per direction, ``(time, batch, features)`` in reading order.
        gates, states: from ``_forward``; ``gates`` is overwritten.
        weights: the kernels, recurrent kernels and biases, per direction.
        output_grad, final_grad: the outputs' and the final states' gradients (or ``None``).
        needs_input_grad: also return the inputs' gradient.
        reset_after: as in ``gru_sequence``.

    Returns:
        ``(weight_grads, initial_grad (directions, batch, units), input_grad (time, batch,
        features) or None)``: the kernels', recurrent kernels' and biases' gradients (per
        direction, ``None`` for absent biases), each in its weight's memory layout.
    """
    directions, time, batch, width = gates.shape
    units = width // 4
    kernels, recurrent_kernels = weights[:directions], weights[directions : 2 * directions]
    weight_grads = _WeightGrads(inputs, states, weights, reset_after)
    chunk = _steps(_FACTOR_ROWS, batch)
    state_grads = _StateGrads(output_grad, final_grad, states, chunk)
    kept_update = gates.new_empty(directions, min(chunk, time), batch, units)
    work = torch.empty_like(kept_update)
    one = gates.new_ones(())
    if reset_after:
        transposed = [k.t() for k in recurrent_kernels]
    else:
        kept_reset = torch.empty_like(kept_update)
        transposed = [k[:, : 2 * units].t() for k in recurrent_kernels]
        transposed_h = [k[:, 2 * units :].t() for k in recurrent_kernels]
        reset_state_grad = gates.new_empty(directions, batch, units)
        reset_state_grad_rows = reset_state_grad.unbind(0)
    # The state's gradient alternates between two buffers; their views are made once.
    buffers = [state_grads.last, torch.empty_like(state_grads.last)]
    views = [(b, b.unsqueeze(2), b.unbind(0)) for b in buffers]
    current = 0
    for stop in range(time, 0, -chunk):
        start = max(0, stop - chunk)
        steps = stop - start
        # Each step adds the outside gradient of the state before it: steps start - 1 on.
        outside = state_grads.chunk(max(0, start - 1), stop - 1).unbind(1)
        first = 1 if start == 0 else 0
        block = gates[:, start:stop]
        activation, update, reset, inner = block.split(units, dim=-1)
        z = kept_update[:, :steps].copy_(update)
        scratch = work[:, :steps]
        torch.sub(states[:, start:stop], activation, out=scratch)  # h_prev - n
        torch.addcmul(one, activation, activation, value=-1.0, out=activation)
        activation.addcmul_(activation, z, value=-1.0)
        torch.mul(scratch, z, out=update).addcmul_(update, z, value=-1.0)
        factors = block.view(directions, steps, batch, 4, units)
        if reset_after:
            torch.mul(activation, reset, out=scratch)
            torch.addcmul(scratch, scratch, reset, value=-1.0, out=reset).mul_(inner)
            inner.copy_(scratch)
        else:
            r = kept_reset[:, :steps].copy_(reset)
            torch.addcmul(reset, reset, reset, value=-1.0, out=reset).mul_(states[:, start:stop])
            factors = factors[..., :2, :]  # those of a_n and a_z; a_r's waits for d_rh
            candidate_grads = [block[d, ..., :units].unbind(0) for d in range(directions)]
            r_steps, r_factors = r.unbind(1), reset.unbind(1)

        step_factors = factors.unbind(1)
        step_grads = [
            block[d, ..., units : (4 if reset_after else 3) * units].unbind(0)
            for d in range(directions)
        ]
        z_steps = z.unbind(1)
        for t in range(steps - 1, -1, -1):
            dh, dh_per_gate, _ = views[current]
            current ^= 1
            previous, _, previous_rows = views[current]
            step_factors[t].mul_(dh_per_gate)
            if not reset_after:
                for d in range(directions):
                    torch.mm(candidate_grads[d][t], transposed_h[d], out=reset_state_grad_rows[d])
                r_factors[t].mul_(reset_state_grad)
            if start + t > 0:
                torch.addcmul(outside[t - first], dh, z_steps[t], out=previous)
            else:
                torch.mul(dh, z_steps[0], out=previous)
            if not reset_after:
                previous.addcmul_(reset_state_grad, r_steps[t])
            for d in range(directions):
                previous_rows[d].addmm_(step_grads[d][t], transposed[d])

        weight_grads.add(block, start, stop)

    input_grad = None
    if needs_input_grad:
        rows = gates.view(directions, time * batch, width)
        for d in range(directions):
            grad = torch.mm(rows[d, :, units:], kernels[d].t()).view(inputs[d].shape)
            input_grad = grad if d == 0 else input_grad.add_(grad.flip(0))
    return weight_grads.result(), buffers[current], input_grad


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

    def add(self, block, start, stop):
        """Adds steps ``start`` to ``stop - 1``, whose gate gradients ``block``, ``(directions,
        steps, batch, 4 * units)`` ``[da_n | da_z | da_r | dg_n]`` (``[da_n | da_z | da_r | r
        * h_prev]`` with ``reset_after=False``), become ``[da_n | da_z | da_r | da_n]``."""
        directions, steps, batch, width = block.shape
        units = width // 4
        rows = block.view(directions, steps * batch, width)
        first = stop == self.inputs[0].shape[0]
        for d in range(directions):
            h_prev = self.states[d, start:stop].reshape(steps * batch, units).t()
            grad = self.recurrent_kernels[d]
            if self.reset_after:
                _add_product(grad, h_prev, rows[d, :, units:], first)
            else:
                _add_product(grad[:, : 2 * units], h_prev, rows[d, :, units : 3 * units], first)
                reset_states = rows[d, :, 3 * units :].t()
                _add_product(grad[:, 2 * units :], reset_states, rows[d, :, :units], first)
        if self.biases is not None:
            sums = rows.sum(dim=1)
            self.sums = sums if first else self.sums.add_(sums)
        # [da_z | da_r | da_n] side by side, the kernels' column order: one GEMM each.
        block[..., 3 * units :] = block[..., :units]
        for d in range(directions):
            x = self.inputs[d][start:stop]
            x = x.reshape(steps * batch, x.shape[-1])
            _add_product(self.kernels[d], x.t(), rows[d, :, units:], first)

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
            ctx.padding,
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
            h = new if skip is None else torch.where(skip[t].unsqueeze(-1), h, new)
            states.append(h)
        sequence = torch.stack(states)
        outputs.append(sequence if d == 0 else sequence.flip(0))
        finals.append(h)
    return torch.cat(outputs, dim=-1), torch.stack(finals)
