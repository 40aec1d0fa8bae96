"""Length buckets: planning, reassembly, and masked layers that run in buckets (PyTorch's
kernels) or in one call of birnn's GRU kernel, which skips the padding itself."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from birnn import _buckets, _kernels
from birnn._buckets import Bucket, CostModel, plan_buckets, run_buckets
from birnn.layers import GRU, LSTM, Bidirectional, SimpleRNN

MODEL = CostModel(call=200.0, step=5.0)


def long_tailed_mask(batch, time, seed, empty_rows=0):
    """Lengths lognormal with median time / 4 and sigma 1, clipped to [1, time], one full row."""
    generator = torch.Generator().manual_seed(seed)
    median = torch.log(torch.tensor(time / 4.0))
    lengths = torch.exp(median + torch.randn(batch, generator=generator)).round()
    lengths = lengths.clamp(1, time).long()
    lengths[0] = time
    lengths[1 : 1 + empty_rows] = 0
    return torch.arange(time) < lengths.unsqueeze(1)


@settings(deadline=None, max_examples=50)
@given(lengths=st.lists(st.integers(0, 40), min_size=1, max_size=40))
def test_plan_covers_every_row_once_and_each_bucket_holds_its_longest_row(lengths):
    lengths = torch.tensor(lengths)
    buckets = plan_buckets(lengths, 40, MODEL)
    if buckets is None:
        return
    rows = torch.cat([b.rows for b in buckets])
    assert sorted(rows.tolist()) == list(range(len(lengths)))
    assert len([b for b in buckets if b.steps]) <= _buckets.MAX_BUCKETS
    for bucket in buckets:
        assert bucket.steps == int(lengths[bucket.rows].max())
    single = MODEL.cost(len(lengths), 40)
    assert sum(MODEL.cost(len(b.rows), b.steps) for b in buckets if b.steps) < single


def cheapest_split_cost(lengths, model):
    """The cheapest total cost over every split of the sorted nonzero lengths into at most
    ``MAX_BUCKETS`` runs, each costing ``model.cost(rows, its longest length)``: brute force."""
    import itertools

    ordered = sorted((length for length in lengths if length), reverse=True)
    best = float("inf")
    for count in range(1, _buckets.MAX_BUCKETS + 1):
        for cuts in itertools.combinations(range(1, len(ordered)), count - 1):
            bounds = [0, *cuts, len(ordered)]
            best = min(
                best,
                sum(
                    model.cost(stop - start, ordered[start])
                    for start, stop in zip(bounds, bounds[1:])
                ),
            )
    return best


@settings(deadline=None, max_examples=60)
@given(
    lengths=st.lists(st.integers(0, 30), min_size=1, max_size=12),
    call=st.floats(0.0, 300.0),
    step=st.floats(0.0, 20.0),
)
def test_plan_is_the_cheapest_split(lengths, call, step):
    model = CostModel(call=call, step=step)
    buckets = plan_buckets(torch.tensor(lengths), 30, model)
    if not any(lengths):  # no row to run: one (empty) call
        assert buckets is None
        return
    cheapest = cheapest_split_cost(lengths, model)
    if buckets is None:  # the best split does not save _MIN_GAIN
        assert cheapest > (1.0 - _buckets._MIN_GAIN) * model.cost(len(lengths), 30) - 1e-6
        return
    total = sum(model.cost(len(b.rows), b.steps) for b in buckets if b.steps)
    assert total == pytest.approx(cheapest, rel=1e-9, abs=1e-9)


def test_plan_keeps_one_call_when_lengths_are_alike():
    assert plan_buckets(torch.full((32,), 100), 100, MODEL) is None
    assert plan_buckets(torch.tensor([90, 100, 95, 99] * 8), 100, MODEL) is None


def test_plan_splits_a_long_tail():
    buckets = plan_buckets(torch.tensor([100, 3, 4, 2] * 8), 100, MODEL)
    assert [(len(b.rows), b.steps) for b in buckets] == [(8, 100), (24, 4)]


@pytest.mark.parametrize("mode", ["LSTM", "GRU"])
@pytest.mark.parametrize("return_sequences", [True, False])
def test_pair_in_buckets_equals_one_call(mode, return_sequences):
    # PyTorch's kernels (birnn's GRU kernel runs no buckets: it skips the padding itself).
    generator = torch.Generator().manual_seed(0)
    batch, time, features, units = 12, 9, 3, 4
    gates = 4 if mode == "LSTM" else 3
    bias_shape = (gates * units,) if mode == "LSTM" else (2, gates * units)

    def weights():
        return tuple(
            torch.randn(*shape, generator=generator).requires_grad_()
            for shape in ((features, gates * units), (units, gates * units), bias_shape)
        )

    pair = weights(), weights()
    x = torch.randn(batch, time, features, generator=generator).requires_grad_()
    mask = long_tailed_mask(batch, time, seed=1, empty_rows=2)
    count = 2 if mode == "LSTM" else 1
    states = [[torch.randn(batch, units, generator=generator) for _ in range(count)]] * 2

    def run(x, mask, states):
        joined, first, second = _kernels.run_pair(
            mode, *pair, x, mask, *states, return_sequences, "torch"
        )
        return joined, [first, second]

    lengths = mask.sum(dim=1)
    order = torch.argsort(lengths, descending=True)
    buckets = [
        Bucket(order[:3], int(lengths[order[0]])),
        Bucket(order[3:10], int(lengths[order[3]])),
        Bucket(order[10:], 0),
    ]
    expected = run(x, mask, states)
    result = run_buckets(buckets, run, x, mask, states, return_sequences, False)
    torch.testing.assert_close(result[0], expected[0], rtol=1e-5, atol=1e-6)
    for got, want in zip(result[1], expected[1]):
        for a, b in zip(got, want):
            torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)
    inputs = [x, *pair[0], *pair[1]]
    grads = torch.autograd.grad(result[0].square().sum(), inputs)
    expected_grads = torch.autograd.grad(expected[0].square().sum(), inputs)
    for got, want in zip(grads, expected_grads):
        torch.testing.assert_close(got, want, rtol=1e-4, atol=1e-5)


def kernel_calls(call) -> dict[str, int]:
    """How many times ``call`` ran each fused kernel, by its profiler name."""
    names = ("aten::lstm", "aten::gru", "birnn::gru", "birnn::gru_bidirectional")
    with torch.profiler.profile() as profile:
        call()
    counts = {}
    for event in profile.events():
        if event.name in names:
            counts[event.name] = counts.get(event.name, 0) + 1
    return counts


@pytest.mark.parametrize("layer_class", [LSTM, GRU])
@pytest.mark.parametrize("return_sequences", [True, False])
def test_long_tailed_masked_layers_run_in_buckets_with_the_per_row_results(
    layer_class, return_sequences
):
    torch.manual_seed(0)
    batch, time, features, units = 32, 100, 64, 128
    layer = Bidirectional(layer_class(units, return_sequences=return_sequences, return_state=True))
    x = torch.randn(batch, time, features)
    mask = long_tailed_mask(batch, time, seed=0, empty_rows=1)
    count = 4 if layer_class is LSTM else 2
    initial = [torch.randn(batch, units) for _ in range(count)]
    with torch.no_grad():
        assert kernel_calls(lambda: layer(x, mask=mask, initial_state=initial)) == (
            {"aten::lstm": 2} if layer_class is LSTM else {"birnn::gru_bidirectional": 1}
        )
        result = layer(x, mask=mask, initial_state=initial)
        for row in (0, 1, 2, 7):  # one row at a time: one call each
            alone = layer(
                x[row : row + 1],
                mask=mask[row : row + 1],
                initial_state=[s[row : row + 1] for s in initial],
            )
            for a, b in zip(result, alone):
                torch.testing.assert_close(a[row : row + 1], b, rtol=1e-5, atol=1e-6)
        # Every row, against the step loop with the same weights (no buckets, no fused kernel).
        twin = Bidirectional(
            layer_class(
                units, return_sequences=return_sequences, return_state=True, use_fused=False
            )
        )
        twin.build((None, time, features))
        twin.set_weights(layer.get_weights())
        stepped = twin(x, mask=mask, initial_state=initial)
        assert len(result) == len(stepped)
        for a, b in zip(result, stepped, strict=True):
            torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("layer_class", [LSTM, GRU])
def test_stateful_and_go_backwards_layers_match_the_step_loop(layer_class):
    # LSTM: in buckets (planned for these lengths with gradients on); GRU: birnn's kernel.
    torch.manual_seed(0)
    batch, time, features, units = 32, 60, 16, 128
    layer = layer_class(units, return_sequences=True, stateful=True)
    layer.build((batch, time, features))
    twin = layer_class(units, return_sequences=True, stateful=True, use_fused=False)
    twin.build((batch, time, features))
    twin.set_weights(layer.get_weights())
    for seed in (1, 2):
        x = torch.randn(batch, time, features)
        mask = long_tailed_mask(batch, time, seed=seed)
        if layer_class is LSTM:
            assert _buckets.buckets_for(x, mask, (True, "LSTM", units, features)) is not None
        torch.testing.assert_close(layer(x, mask=mask), twin(x, mask=mask), rtol=1e-5, atol=1e-5)
        for state, expected in zip(layer.states, twin.states, strict=True):
            torch.testing.assert_close(state, expected, rtol=1e-5, atol=1e-5)
    backwards = layer_class(units, go_backwards=True, return_state=True)
    backwards.build((batch, time, features))
    reference = layer_class(units, go_backwards=True, return_state=True, use_fused=False)
    reference.build((batch, time, features))
    reference.set_weights(backwards.get_weights())
    for a, b in zip(backwards(x, mask=mask), reference(x, mask=mask), strict=True):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("return_sequences", [True, False])
@pytest.mark.parametrize("repeat_last", [True, False])
def test_reassembly_gradients_to_second_order(return_sequences, repeat_last):
    # A running weighted sum over each row's valid steps, in three buckets (one empty).
    generator = torch.Generator().manual_seed(0)
    lengths = torch.tensor([5, 0, 2, 4, 1, 5, 3])
    mask = torch.arange(5) < lengths.unsqueeze(1)
    x = torch.randn(7, 5, 2, generator=generator, dtype=torch.float64).requires_grad_()
    scale = torch.randn(2, generator=generator, dtype=torch.float64).requires_grad_()
    order = torch.argsort(lengths, descending=True, stable=True)
    buckets = [Bucket(order[:3], 5), Bucket(order[3:6], 3), Bucket(order[6:], 0)]

    def run_bucket(x, mask, states):  # Keras's outputs of the bucket's rows
        steps = (x * scale * mask.unsqueeze(-1)).cumsum(1).square()
        if not return_sequences:
            return steps[:, -1], states
        return (steps if repeat_last else steps * mask.unsqueeze(-1)), states

    def reference(x, scale):
        steps = (x * scale * mask.unsqueeze(-1)).cumsum(1).square()
        if not return_sequences:
            return steps[:, -1] * (lengths > 0).unsqueeze(-1)
        return steps if repeat_last else steps * mask.unsqueeze(-1)

    def bucketed(x, scale):
        return run_buckets(buckets, run_bucket, x, mask, [], return_sequences, repeat_last)[0]

    torch.testing.assert_close(bucketed(x, scale), reference(x, scale))
    assert torch.autograd.gradcheck(bucketed, (x, scale))
    assert torch.autograd.gradgradcheck(bucketed, (x, scale))


@pytest.mark.parametrize(
    "make_layer",
    [
        lambda fused: Bidirectional(GRU(128, return_sequences=True, use_fused=fused)),
        lambda fused: Bidirectional(LSTM(128, return_sequences=True, use_fused=fused)),
        # One direction, Keras's default: a masked step repeats the previous output.
        lambda fused: GRU(128, return_sequences=True, use_fused=fused, zero_output_for_mask=False),
    ],
)
def test_long_tailed_masks_give_the_step_loops_gradients(make_layer):
    torch.manual_seed(0)
    batch, time, features, units = 32, 100, 64, 128
    layer, twin = make_layer("auto"), make_layer(False)
    layer.build((batch, time, features))
    twin.build((batch, time, features))
    twin.set_weights(layer.get_weights())
    x = torch.randn(batch, time, features)
    mask = long_tailed_mask(batch, time, seed=0, empty_rows=1)
    cell = layer.forward_layer if isinstance(layer, Bidirectional) else layer
    if isinstance(cell, LSTM):
        model = (True, "LSTM", units, features)
        assert _buckets.buckets_for(x, mask, model) is not None
    projection = torch.randn(layer(x[:1, :1]).shape[-1])

    def gradients(layer):
        inputs = x.clone().requires_grad_()
        output = layer(inputs, mask=mask)
        grads = torch.autograd.grad((output * projection).sum(), [inputs, *layer.parameters()])
        return output.detach(), grads

    (output, grads), (expected, expected_grads) = gradients(layer), gradients(twin)
    torch.testing.assert_close(output, expected, rtol=1e-4, atol=1e-5)
    for got, want in zip(grads, expected_grads, strict=True):
        # float32 sums over 3200 rows of gradients up to 1e4: a few 1e-4 apart
        torch.testing.assert_close(got, want, rtol=1e-4, atol=1e-3)


def test_functorch_and_forward_ad_run_one_call_with_the_same_numbers():
    # The reassembly implements neither; such calls run unsplit.
    import torch.autograd.forward_ad as forward_ad

    torch.manual_seed(0)
    batch, time, features, units = 32, 100, 64, 128
    x = torch.randn(batch, time, features)
    mask = long_tailed_mask(batch, time, seed=0)
    layer = LSTM(units, return_sequences=True)
    layer.build(x.shape)
    assert _buckets.buckets_for(x, mask, (True, "LSTM", units, features)) is not None
    parameters = {name: p.detach() for name, p in layer.named_parameters()}

    def loss(parameters, x):
        output = torch.func.functional_call(layer, parameters, (x,), {"mask": mask})
        return output.square().sum()

    grads = torch.func.grad(loss)(parameters, x)
    expected = torch.autograd.grad(layer(x, mask=mask).square().sum(), list(layer.parameters()))
    for name, want in zip(parameters, expected, strict=True):
        torch.testing.assert_close(grads[name], want, rtol=1e-4, atol=1e-4)

    # PyTorch's LSTM kernel has no forward-mode derivative; its SimpleRNN kernel has.
    rnn = SimpleRNN(512, return_sequences=True)
    rnn.build(x.shape)
    assert _buckets.buckets_for(x, mask, (False, "RNN_TANH", 512, features)) is not None
    tangent = torch.randn_like(x)
    with forward_ad.dual_level():
        output = rnn(forward_ad.make_dual(x, tangent), mask=mask)
        jvp = forward_ad.unpack_dual(output).tangent
    twin = SimpleRNN(512, return_sequences=True, use_fused=False)
    twin.build(x.shape)
    twin.set_weights(rnn.get_weights())
    with forward_ad.dual_level():
        expected = forward_ad.unpack_dual(twin(forward_ad.make_dual(x, tangent), mask=mask))
    torch.testing.assert_close(jvp, expected.tangent, rtol=1e-4, atol=1e-4)
