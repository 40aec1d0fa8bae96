"""birnn's own CPU kernel for Keras's GRU (``reset_after=True``, tanh and sigmoid).

PyTorch's CPU GRU is a loop of ATen ops that runs one direction after the other.
This kernel runs one or two directions in one pass, tensors in and tensors out:

* every step's input projection, of every direction, in one batched GEMM (biases
  folded in: the input bias and the recurrent bias of the ``z`` and ``r`` gates);
* per step, one ``baddbmm`` of the stacked ``(directions, batch, units)`` states
  and five elementwise ops written in place into the projections' buffer;
* a hand-written backward through time: the per-step factors of the gate
  gradients are computed for the whole sequence at once, so that each step costs
  two elementwise ops and one ``baddbmm``; the weight gradients are one batched
  GEMM over all steps.

Masks use the fused paths' scheme: the caller packs each row's valid steps to
the front, and at the padded positions (``padding``) the update gate is driven to
exactly 1, so the state passes through unchanged in both reading directions and
no gradient flows there.

Gates are in Keras's order ``z, r, h``; weights are the cells' own tensors
(``kernel (features, 3 * units)``, ``recurrent_kernel (units, 3 * units)``, ``bias
(2, 3 * units)``), stacked over directions once per weight version.
"""

from __future__ import annotations

from typing import NamedTuple

import torch

from ._weight_cache import may_reuse, rearranged

# Pre-activation of the update gate at padded steps: sigmoid(_SATURATE) == 1 exactly.
_SATURATE = 1.0e4


def runs(x: torch.Tensor, weights: list[torch.Tensor | None]) -> bool:
    """Whether this kernel runs a call on ``x`` with ``weights``: plain CPU float32/float64
    tensors, in eager mode (not compiled, exported or traced), outside autocast and
    functorch transforms.

    Elsewhere PyTorch's own kernel runs: cuDNN on GPU, one traceable op for exporters.
    """
    if torch.compiler.is_compiling():
        return False  # the compiler traces PyTorch's op
    tensors = [x, *(w for w in weights if w is not None)]
    return (
        x.device.type == "cpu"
        and x.dtype in (torch.float32, torch.float64)
        and all(type(t) in _PLAIN and t.dtype == x.dtype for t in tensors)
        and not torch.compiler.is_exporting()
        and not torch.jit.is_tracing()
        and not torch.is_autocast_enabled("cpu")
        and not any(torch._C._functorch.is_functorch_wrapped_tensor(t) for t in tensors)
    )


_PLAIN = (torch.Tensor, torch.nn.Parameter)


def gru_sequence(
    x: torch.Tensor,
    initial: torch.Tensor,
    kernels: list[torch.Tensor],
    recurrent_kernels: list[torch.Tensor],
    biases: list[torch.Tensor] | None,
    padding: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Runs a GRU over time-major ``x``: the first direction from the first step, the
    second (if any) from the last.

    Args:
        x: ``(time, batch, features)``, ``time > 0``.
        initial: ``(directions, batch, units)`` initial states.
        kernels: per direction, ``(features, 3 * units)``.
        recurrent_kernels: per direction, ``(units, 3 * units)``.
        biases: per direction, ``(2, 3 * units)`` (input bias, recurrent bias), or ``None``.
        padding: optional bool ``(time, batch)``; ``True`` where the state passes unchanged.

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
    # Under autograd (gradcheck among others) weights may change without a new version.
    reuse = may_reuse()
    stacked = stacked_weights(kernels, recurrent_kernels, bias_list, reuse)
    # Named for profilers (PyTorch's own kernels show as aten::gru).
    with torch.profiler.record_function(_PROFILER_NAMES[len(kernels)]):
        tensors = [x, initial, *kernels, *recurrent_kernels, *bias_list]
        training = not reuse and any(t is not None and t.requires_grad for t in tensors)
        return _GRUSequence.apply(x, initial, padding, stacked, training, *tensors[2:])


_PROFILER_NAMES = {1: "birnn::gru", 2: "birnn::gru_bidirectional"}


class _GRUSequence(torch.autograd.Function):
    """The kernel as an autograd function; its backward is the hand-written one, or, when a
    graph of the gradients is asked for (``create_graph=True``), a differentiable replay."""

    @staticmethod
    def forward(ctx, x, initial, padding, stacked, training, *weights):
        inputs = _reading_order(x, stacked.directions)
        gates, states, inners = _forward(inputs, initial, padding, stacked, training)
        if training:
            ctx.save_for_backward(inputs, gates, states, inners, x, initial, *weights)
            ctx.stacked, ctx.padding = stacked, padding
        return _outputs_in_time_order(states[1:]), states[-1].clone()

    @staticmethod
    def backward(ctx, output_grad, final_grad):
        inputs, gates, states, inners, x, initial, *weights = ctx.saved_tensors
        if torch.is_grad_enabled():
            return _replayed_gradients(ctx, x, initial, weights, output_grad, final_grad)
        stacked = ctx.stacked
        directions = stacked.directions
        state_grads = _state_grads(output_grad, final_grad, states)
        grads = _backward(
            inputs, gates, states, inners, stacked, state_grads, ctx.needs_input_grad[0]
        )
        kernel_grads, recurrent_grads, bias_grads, initial_grad, reading_grads = grads
        weight_grads = [kernel_grads[d].t() for d in range(directions)]
        weight_grads += [recurrent_grads[d].t() for d in range(directions)]
        weight_grads += [None] * directions if bias_grads is None else list(bias_grads)
        input_grad = None
        if reading_grads is not None:
            input_grad = reading_grads[0]
            if directions == 2:
                input_grad = input_grad.add_(reading_grads[1].flip(0))
        return (input_grad, initial_grad, None, None, None, *weight_grads)


def _reading_order(x: torch.Tensor, directions: int) -> torch.Tensor:
    """``(directions, time, batch, features)``: the steps in each direction's reading order."""
    return torch.stack([x, x.flip(0)]) if directions == 2 else x.unsqueeze(0)


def _outputs_in_time_order(states: torch.Tensor) -> torch.Tensor:
    """``(time, batch, directions * units)`` from time-major reading-order states."""
    if states.shape[1] == 1:
        return states[:, 0].clone()
    return torch.cat([states[:, 0], states[:, 1].flip(0)], dim=-1)


def _state_grads(output_grad, final_grad, states) -> torch.Tensor:
    """The gradients of each direction's state after each step it reads, reading order."""
    steps, directions, batch, units = states.shape
    if output_grad is None:
        grads = states.new_zeros(directions, steps - 1, batch, units)
    elif directions == 1:
        grads = output_grad.unsqueeze(0).clone()
    else:
        forward, backward = output_grad.split(units, dim=-1)
        grads = torch.stack([forward, backward.flip(0)])
    if final_grad is not None:
        grads[:, -1] += final_grad
    return grads


def _forward(inputs, initial, padding, stacked, keep_inner):
    """The gates ``z, r, candidate`` of every step and the states, ``initial`` first.

    Returns:
        ``(gates (directions, time, batch, 3 * units), states (time + 1, directions, batch,
        units), inner (directions, time, batch, units) or None)``, in reading order;
        ``inner`` is ``h_prev @ recurrent_kernel_h + recurrent_bias_h`` (``keep_inner``).
    """
    directions, time, batch, features = inputs.shape
    units = stacked.units
    flat = inputs.view(directions, time * batch, features)
    if stacked.input_bias is None:
        gates = torch.bmm(flat, stacked.kernel)
    else:
        gates = torch.baddbmm(stacked.input_bias, flat, stacked.kernel)
    gates = gates.view(directions, time, batch, 3 * units)
    if padding is not None:
        padded = (
            padding.unsqueeze(0) if directions == 1 else torch.stack([padding, padding.flip(0)])
        )
        gates[..., :units].masked_fill_(padded.unsqueeze(-1), _SATURATE)
    # Time-major states: each step's (directions, batch, units) is contiguous for the GEMM.
    states = inputs.new_empty(time + 1, directions, batch, units)
    states[0] = initial
    if keep_inner:
        inners = inputs.new_empty(directions, time, batch, units)
        inner_steps = inners.unbind(1)
    else:
        inners = None
        inner_steps = [inputs.new_empty(directions, batch, units)] * time
    product = inputs.new_empty(directions, batch, 3 * units)
    product_zr, product_h = product.split([2 * units, units], dim=-1)
    zr_steps = gates[..., : 2 * units].unbind(1)
    z_steps = gates[..., :units].unbind(1)
    r_steps = gates[..., units : 2 * units].unbind(1)
    candidate_steps = gates[..., 2 * units :].unbind(1)
    state_steps = states.unbind(0)
    recurrent_kernel, candidate_bias = stacked.recurrent_kernel, stacked.candidate_bias
    for t in range(time):
        h_prev = state_steps[t]
        torch.bmm(h_prev, recurrent_kernel, out=product)
        if candidate_bias is None:
            inner = inner_steps[t].copy_(product_h)
        else:
            inner = torch.add(product_h, candidate_bias, out=inner_steps[t])
        zr_steps[t].add_(product_zr).sigmoid_()
        # tanh(a) = 2 sigmoid(2a) - 1 (sigmoid is several times faster than tanh on CPU); the
        # candidate's input weights are stored doubled (exact).
        candidate = candidate_steps[t].addcmul_(r_steps[t], inner, value=2.0)
        candidate.sigmoid_().mul_(2.0).sub_(1.0)
        torch.lerp(candidate, h_prev, z_steps[t], out=state_steps[t + 1])
    return gates, states, inners


def _backward(inputs, gates, states, inners, stacked, state_grads, needs_input_grad):
    """Backward through time, every direction at once, a chunk of steps at a time.

    With ``h = lerp(n, h_prev, z)``, ``n = tanh(x_n + r * g_n)`` and ``g = h_prev @ recurrent +
    bias``, each pre-activation's gradient is the state's gradient ``dh`` times a factor of
    its step: ``(1 - z)(1 - n^2)`` for ``a_n``, ``(h_prev - n) z (1 - z)`` for ``a_z``, that of
    ``a_n`` times ``r`` for ``g_n`` and times ``r g_n (1 - r)`` for ``a_r``. Per chunk, the
    factors are computed at once (their inputs are in cache), each step multiplies its factors
    by ``dh`` and adds ``dh z + grads @ recurrent`` to the previous state's gradient, and the
    chunk's weight gradients are accumulated with one GEMM each.

    Args:
        inputs, gates, states, inners: from ``_reading_order`` and ``_forward``.
        stacked: the ``_Stacked`` weights.
        state_grads: ``(directions, time, batch, units)``, the gradient of each step's
            output state from outside the recurrence.
        needs_input_grad: also return the inputs' gradient.

    Returns:
        ``(kernel_grads (directions, 3 * units, features), recurrent_kernel_grads
        (directions, 3 * units, units), bias_grads (per direction, (2, 3 * units)) or None,
        initial_grad (directions, batch, units), reading_grads (directions, time, batch,
        features) or None)``.
    """
    directions, time, batch, features = inputs.shape
    units = stacked.units
    width = 3 * units
    chunk = max(8, -(-256 // batch))  # enough rows per chunk for efficient GEMMs
    kernel_grads = inputs.new_zeros(directions, width, features)
    recurrent_grads = inputs.new_zeros(directions, width, units)
    has_bias = stacked.input_bias is not None
    if has_bias:
        input_bias_grads = inputs.new_zeros(directions, width)
        recurrent_bias_grads = inputs.new_zeros(directions, width)
    reading_grads = (
        inputs.new_empty(directions, time, batch, features) if needs_input_grad else None
    )
    workspace = inputs.new_empty(directions, min(chunk, time), batch, 4 * units)
    one = inputs.new_ones(())
    recurrent_kernel = stacked.recurrent_kernel_t
    outside = state_grads.unbind(1)
    dh = outside[-1].clone()
    spare = torch.empty_like(dh)
    for stop in range(time, 0, -chunk):
        start = max(0, stop - chunk)
        steps = stop - start
        factors = workspace[:, :steps]
        update, reset, inner, activation = factors.split(units, dim=-1)
        z, r, candidate = gates[:, start:stop].split(units, dim=-1)
        h_prev = states[start:stop].transpose(0, 1)
        torch.addcmul(one, candidate, candidate, value=-1.0, out=activation)
        activation.addcmul_(activation, z, value=-1.0)
        torch.sub(h_prev, candidate, out=update).mul_(z)
        update.addcmul_(update, z, value=-1.0)
        torch.mul(activation, r, out=inner)
        torch.mul(inner, inners[:, start:stop], out=reset)
        reset.addcmul_(reset, r, value=-1.0)

        step_factors = factors.view(directions, steps, batch, 4, units).unbind(1)
        step_grads = factors[..., :width].unbind(1)
        z_steps = z.unbind(1)
        for t in range(steps - 1, -1, -1):
            step_factors[t].mul_(dh.unsqueeze(2))
            if start + t > 0:
                spare = torch.addcmul(outside[start + t - 1], dh, z_steps[t], out=spare)
            else:
                spare = torch.mul(dh, z_steps[0], out=spare)
            spare.baddbmm_(step_grads[t], recurrent_kernel)
            dh, spare = spare, dh

        rows = steps * batch
        flat = factors.reshape(directions, rows, 4 * units)
        recurrent_flat = flat[..., :width]
        recurrent_grads.baddbmm_(
            recurrent_flat.transpose(1, 2), h_prev.reshape(directions, rows, units)
        )
        if has_bias:
            recurrent_bias_grads += recurrent_flat.sum(dim=1)
        # The input projection's gradient: the candidate's third is d/da_n, not d/dg_n.
        inner.copy_(activation)
        x_rows = inputs[:, start:stop].reshape(directions, rows, features)
        kernel_grads.baddbmm_(recurrent_flat.transpose(1, 2), x_rows)
        if has_bias:
            input_bias_grads += recurrent_flat.sum(dim=1)
        if needs_input_grad:
            torch.bmm(
                recurrent_flat,
                stacked.kernel_t,
                out=reading_grads[:, start:stop].view(directions, rows, features),
            )
    bias_grads = None
    if has_bias:
        bias_grads = [
            torch.stack([input_bias_grads[d], recurrent_bias_grads[d]]) for d in range(directions)
        ]
    return kernel_grads, recurrent_grads, bias_grads, dh, reading_grads


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
    result = [None] * (len(inputs) + 3)
    for i, grad in zip(wanted, grads):
        result[i if i < 2 else i + 3] = grad
    return tuple(result)


def reference_gru_sequence(x, initial, kernels, recurrent_kernels, biases, padding=None):
    """``gru_sequence`` in plain differentiable ops, one step at a time (its reference)."""
    outputs, finals = [], []
    for d, (kernel, recurrent_kernel) in enumerate(zip(kernels, recurrent_kernels)):
        steps = x if d == 0 else x.flip(0)
        skip = None if padding is None else (padding if d == 0 else padding.flip(0))
        bias = None if biases is None else biases[d]
        projected = steps @ kernel if bias is None else steps @ kernel + bias[0]
        units = recurrent_kernel.shape[0]
        h = initial[d]
        states = []
        for t in range(steps.shape[0]):
            inner = h @ recurrent_kernel if bias is None else h @ recurrent_kernel + bias[1]
            x_z, x_r, x_h = projected[t].split(units, dim=-1)
            h_z, h_r, h_h = inner.split(units, dim=-1)
            z = torch.sigmoid(x_z + h_z)
            r = torch.sigmoid(x_r + h_r)
            new = torch.lerp(torch.tanh(x_h + r * h_h), h, z)
            h = new if skip is None else torch.where(skip[t].unsqueeze(-1), h, new)
            states.append(h)
        sequence = torch.stack(states)
        outputs.append(sequence if d == 0 else sequence.flip(0))
        finals.append(h)
    return torch.cat(outputs, dim=-1), torch.stack(finals)


class _Stacked(NamedTuple):
    """Every direction's weights stacked, in the layouts the kernel's GEMMs read fastest.

    The candidate's input kernel and bias are doubled (exactly) for ``tanh(a) = 2 sigmoid(2a)
    - 1``; the input bias holds the recurrent bias of ``z`` and ``r`` too.
    """

    directions: int
    units: int
    kernel: torch.Tensor  # (directions, features, 3 * units)
    kernel_t: torch.Tensor  # (directions, 3 * units, features), not doubled
    recurrent_kernel: torch.Tensor  # (directions, units, 3 * units)
    recurrent_kernel_t: torch.Tensor  # (directions, 3 * units, units)
    input_bias: torch.Tensor | None  # (directions, 1, 3 * units)
    candidate_bias: torch.Tensor | None  # (directions, 1, units): the candidate's recurrent bias


def stacked_weights(kernels, recurrent_kernels, biases, reuse: bool) -> _Stacked:
    """Every direction's weights stacked in the kernel's layouts (``_Stacked``); with
    ``reuse``, kept between calls (``_weight_cache``)."""
    if not reuse:
        return _stack(kernels, recurrent_kernels, biases)
    tensors = [*kernels, *recurrent_kernels, *biases]
    return rearranged("gru_cpu", tensors, lambda: _stack(kernels, recurrent_kernels, biases))


def _stack(kernels, recurrent_kernels, biases) -> _Stacked:
    with torch.no_grad():
        units = recurrent_kernels[0].shape[0]
        kernel_t = torch.stack([k.t() for k in kernels])
        recurrent_kernel_t = torch.stack([k.t() for k in recurrent_kernels])
        # A copy even when the transpose is contiguous already (features == 1).
        kernel = kernel_t.transpose(1, 2).clone(memory_format=torch.contiguous_format)
        kernel[..., 2 * units :] *= 2.0
        recurrent_kernel = recurrent_kernel_t.transpose(1, 2).contiguous()
        input_bias = candidate_bias = None
        if biases[0] is not None:
            bias = torch.stack(list(biases))
            input_bias = bias[:, 0].clone()
            input_bias[:, : 2 * units] += bias[:, 1, : 2 * units]
            input_bias[:, 2 * units :] *= 2.0
            input_bias = input_bias.unsqueeze(1)
            candidate_bias = bias[:, 1, 2 * units :].unsqueeze(1).contiguous()
    return _Stacked(
        len(kernels),
        units,
        kernel,
        kernel_t,
        recurrent_kernel,
        recurrent_kernel_t,
        input_bias,
        candidate_bias,
    )
