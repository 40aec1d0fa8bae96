"""birnn's CPU GRU kernel equals its step-by-step reference: outputs, states, gradients."""

from __future__ import annotations

import pytest
import torch

from birnn._gru_cpu import gru_sequence, reference_gru_sequence


def make_case(
    time=5,
    batch=3,
    features=4,
    units=3,
    directions=2,
    bias=True,
    padded=False,
    dtype=torch.float64,
    seed=0,
    reset_after=True,
):
    generator = torch.Generator().manual_seed(seed)

    def randn(*shape, scale=1.0):
        return (torch.randn(*shape, generator=generator, dtype=dtype) * scale).requires_grad_()

    x = randn(time, batch, features)
    initial = randn(directions, batch, units)
    # Stored like the cells' weights: (gates * units, features) memory order.
    kernels = [randn(3 * units, features).t() for _ in range(directions)]
    recurrent = [randn(3 * units, units, scale=0.5).t() for _ in range(directions)]
    bias_shape = (2, 3 * units) if reset_after else (3 * units,)
    biases = [randn(*bias_shape) for _ in range(directions)] if bias else None
    padding = None
    if padded:
        lengths = torch.randint(0, time + 1, (batch,), generator=generator)
        lengths[0] = time
        padding = torch.arange(time).unsqueeze(1) >= lengths
    return x, initial, kernels, recurrent, biases, padding, reset_after


def flat_inputs(case):
    x, initial, kernels, recurrent, biases, *_ = case
    return [x, initial, *kernels, *recurrent, *(biases or [])]


def assert_gradients_match_the_reference(case, outputs=None, final=None):
    if outputs is None:
        outputs, final = gru_sequence(*case)
    expected_outputs, expected_final = reference_gru_sequence(*case)
    inputs = flat_inputs(case)
    grads = torch.autograd.grad(loss(outputs, final), inputs)
    expected = torch.autograd.grad(loss(expected_outputs, expected_final), inputs)
    for grad, expected_grad in zip(grads, expected):
        torch.testing.assert_close(grad, expected_grad, rtol=1e-10, atol=1e-12)


def loss(outputs, final):
    return (outputs * outputs.detach().cos()).sum() + 2 * final.sum()


@pytest.mark.parametrize("directions", [1, 2])
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("padded", [False, True])
@pytest.mark.parametrize("reset_after", [True, False])
def test_outputs_and_gradients_equal_the_reference(directions, bias, padded, reset_after):
    case = make_case(directions=directions, bias=bias, padded=padded, reset_after=reset_after)
    outputs, final = gru_sequence(*case)
    expected_outputs, expected_final = reference_gru_sequence(*case)
    torch.testing.assert_close(outputs, expected_outputs, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(final, expected_final, rtol=1e-12, atol=1e-12)
    assert_gradients_match_the_reference(case, outputs, final)


@pytest.mark.parametrize("reset_after", [True, False])
def test_backward_over_several_chunks_of_steps(reset_after):
    case = make_case(time=21, batch=40, features=3, units=4, padded=True, reset_after=reset_after)
    assert_gradients_match_the_reference(case)


@pytest.mark.parametrize("features", [1, 2])
def test_one_input_feature_or_unit(features):
    case = make_case(time=2, batch=1, features=features, units=1)
    assert_gradients_match_the_reference(case)


@pytest.mark.parametrize("reset_after", [True, False])
def test_padding_carries_the_state_unchanged(reset_after):
    case = make_case(dtype=torch.float32, reset_after=reset_after)
    x, initial, kernels, recurrent, biases, _, _ = case
    padding = torch.ones(5, 3, dtype=torch.bool)
    outputs, final = gru_sequence(x, initial, kernels, recurrent, biases, padding, reset_after)
    assert torch.equal(final, initial.detach())
    assert torch.equal(outputs[:, :, :3], initial[0].detach().expand(5, 3, 3))


@pytest.mark.parametrize("directions", [1, 2])
@pytest.mark.parametrize("reset_after", [True, False])
def test_float64_gradcheck(directions, reset_after):
    case = make_case(
        time=4,
        batch=2,
        features=3,
        units=2,
        directions=directions,
        padded=True,
        reset_after=reset_after,
    )
    padding = case[5]

    def function(x, initial, *weights):
        return gru_sequence(
            x,
            initial,
            list(weights[:directions]),
            list(weights[directions : 2 * directions]),
            list(weights[2 * directions :]),
            padding,
            reset_after,
        )

    assert torch.autograd.gradcheck(function, flat_inputs(case))


@pytest.mark.parametrize("reset_after", [True, False])
def test_float64_gradgradcheck_replays_the_forward(reset_after):
    case = make_case(time=3, batch=2, features=2, units=2, padded=True, reset_after=reset_after)
    padding = case[5]

    def function(x, initial, *weights):
        return gru_sequence(
            x,
            initial,
            list(weights[:2]),
            list(weights[2:4]),
            list(weights[4:]),
            padding,
            reset_after,
        )

    assert torch.autograd.gradgradcheck(function, flat_inputs(case))


def test_backward_twice_with_retain_graph():
    case = make_case()
    outputs, final = gru_sequence(*case)
    total = loss(outputs, final)
    first = torch.autograd.grad(total, flat_inputs(case), retain_graph=True)
    second = torch.autograd.grad(total, flat_inputs(case))
    for a, b in zip(first, second):
        assert torch.equal(a, b)


def test_inference_uses_the_updated_weights():
    x, initial, kernels, recurrent, biases, *_ = make_case()
    with torch.no_grad():
        before, _ = gru_sequence(x, initial, kernels, recurrent, biases)
        kernels[0].add_(0.5)
        after, _ = gru_sequence(x, initial, kernels, recurrent, biases)
        expected, _ = reference_gru_sequence(x, initial, kernels, recurrent, biases)
    assert not torch.equal(before, after)
    torch.testing.assert_close(after, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("reset_after", [True, False])
def test_long_sequence_over_several_chunks_of_projections_and_factors(reset_after):
    case = make_case(time=300, batch=4, features=2, units=2, padded=True, reset_after=reset_after)
    assert_gradients_match_the_reference(case)


@pytest.mark.parametrize("reset_after", [True, False])
def test_rows_a_cache_line_apart_give_the_same_gradients(reset_after):
    # 4 * 16 float64 units are 512 bytes: the gates' rows are padded.
    case = make_case(time=9, batch=5, features=3, units=16, padded=True, reset_after=reset_after)
    assert_gradients_match_the_reference(case)


@pytest.mark.parametrize("reset_after", [True, False])
def test_gradient_of_the_final_states_only(reset_after):
    case = make_case(time=7, batch=3, units=4, reset_after=reset_after)
    _, final = gru_sequence(*case)
    _, expected_final = reference_gru_sequence(*case)
    inputs = flat_inputs(case)
    grads = torch.autograd.grad(final.sum(), inputs)
    expected = torch.autograd.grad(expected_final.sum(), inputs)
    for grad, expected_grad in zip(grads, expected):
        torch.testing.assert_close(grad, expected_grad, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("reset_after", [True, False])
def test_saved_tensor_hooks_and_checkpointing_reach_the_gates(reset_after):
    from torch.utils.checkpoint import checkpoint

    from birnn.layers import GRU, Bidirectional

    torch.manual_seed(0)
    x = torch.randn(4, 6, 3)
    mask = torch.arange(6) < torch.tensor([[6], [3], [1], [0]])
    layer = Bidirectional(GRU(8, return_sequences=True, reset_after=reset_after))
    layer(x)
    weights = list(layer.parameters())

    def gradients(run):
        output = run()
        return torch.autograd.grad((output * torch.linspace(-1, 1, 16)).sum(), weights)

    expected = gradients(lambda: layer(x, mask=mask))
    packed = []

    def pack(tensor):
        packed.append(tensor.numel())
        return tensor.clone()  # as an offloading hook would: the backward gets a copy

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
        hooked = gradients(lambda: layer(x, mask=mask))
    checkpointed = gradients(lambda: checkpoint(layer, x, mask=mask, use_reentrant=False))
    for got in (hooked, checkpointed):
        for a, b in zip(got, expected, strict=True):
            torch.testing.assert_close(a, b, atol=1e-6, rtol=1e-6)
    # The gates of both directions, (2, time, batch, 4 * units) or wider, went through the hook.
    assert max(packed) >= 2 * 6 * 4 * 4 * 8
