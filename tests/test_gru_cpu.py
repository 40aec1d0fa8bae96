"""birnn's CPU GRU kernel equals its step-by-step reference: outputs, states, gradients."""

from __future__ import annotations

from unittest import mock

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from birnn import _gru_cpu
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
def test_padding_carries_the_state_unchanged_and_outputs_zeros(reset_after):
    case = make_case(dtype=torch.float32, reset_after=reset_after)
    x, initial, kernels, recurrent, biases, _, _ = case
    lengths = torch.tensor([0, 2, 0])
    padding = torch.arange(5).unsqueeze(1) >= lengths
    outputs, final = gru_sequence(x, initial, kernels, recurrent, biases, padding, reset_after)
    assert torch.equal(final[:, [0, 2]], initial.detach()[:, [0, 2]])
    assert not torch.equal(final[:, 1], initial.detach()[:, 1])
    assert torch.equal(outputs[padding], torch.zeros(13, 6))
    padding = torch.ones(5, 3, dtype=torch.bool)  # no row has a step
    outputs, final = gru_sequence(x, initial, kernels, recurrent, biases, padding, reset_after)
    assert torch.equal(final, initial.detach())
    assert torch.equal(outputs, torch.zeros(5, 3, 6))


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
    # The gates of both directions went through the hook: (2, rows, 4 * units) or wider, with
    # 13 rows: the 4 of the first step, then each step's rows that had the step before.
    assert max(packed) >= 2 * 13 * 4 * 8


@settings(deadline=None, max_examples=40)
@given(
    lengths=st.lists(st.integers(0, 9), min_size=1, max_size=7),
    directions=st.sampled_from([1, 2]),
    reset_after=st.booleans(),
    chunk_rows=st.sampled_from([1, 3, 8, 1024]),
    seed=st.integers(0, 2**16),
)
def test_rows_of_any_lengths_in_any_order_equal_the_reference(
    lengths, directions, reset_after, chunk_rows, seed
):
    # Rows unsorted, of length 0 or of the full time, over chunks of steps of every size:
    # the kernel sorts them and steps each row's own steps only (or none).
    time = max(max(lengths), 1)
    case = list(make_case(time=time, batch=len(lengths), directions=directions, seed=seed))
    case[5] = torch.arange(time).unsqueeze(1) >= torch.tensor(lengths)
    case[6] = reset_after
    if not reset_after:
        case[4] = [b[0].detach().clone().requires_grad_() for b in case[4]]
    with (
        mock.patch.object(_gru_cpu, "_PROJECT_ROWS", chunk_rows),
        mock.patch.object(_gru_cpu, "_FACTOR_ROWS", chunk_rows),
    ):
        outputs, final = gru_sequence(*case)
        expected_outputs, expected_final = reference_gru_sequence(*case)
        torch.testing.assert_close(outputs, expected_outputs, rtol=1e-12, atol=1e-12)
        torch.testing.assert_close(final, expected_final, rtol=1e-12, atol=1e-12)
        assert_gradients_match_the_reference(case, outputs, final)


def test_masked_steps_multiply_only_the_rows_that_have_them():
    from birnn.layers import GRU, Bidirectional

    units = 8
    layer = Bidirectional(GRU(units, return_sequences=True))
    x = torch.randn(4, 10, 3)
    mask = torch.arange(10) < torch.tensor([[1], [10], [0], [3]])
    layer(x[:, :1])
    with torch.profiler.profile(record_shapes=True) as profile:
        layer(x, mask=mask).sum().backward()
    steps = {"forward": [], "backward": []}
    for event in profile.events():
        if event.name == "aten::addmm_":
            rows, kernel = event.input_shapes[1][0], event.input_shapes[2]
            if kernel == [units, 3 * units]:
                steps["forward"].append(rows)
            elif kernel == [3 * units, units]:
                steps["backward"].append(rows)
    # Rows with steps 0, 1, 2, ... : 3, 2, 2, then 1 (lengths 10, 3, 1): per direction.
    counts = [3, 2, 2] + [1] * 7
    assert sorted(steps["forward"]) == sorted(counts * 2)
    assert sorted(steps["backward"]) == sorted(counts * 2)


def test_only_the_layouts_of_short_unmasked_calls_are_kept():
    # A kept layout holds lists as long as its steps: long calls build theirs each time.
    _gru_cpu._kept_unmasked.cache_clear()
    for time in (5, _gru_cpu._KEPT_STEPS + 1, 5):
        case = make_case(time=time, batch=1, features=1, units=1, directions=1)
        gru_sequence(*case)
    info = _gru_cpu._kept_unmasked.cache_info()
    assert (info.currsize, info.hits) == (1, 1)
