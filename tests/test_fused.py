"""The fused kernels compute what the step loop computes, and run when they should.

The step loop is the reference: a twin layer built with ``use_fused=False`` (the layers'
public switch) and the same weights. Which kernels ran is read from PyTorch's profiler.
"""

from __future__ import annotations

from contextlib import contextmanager

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch.profiler import ProfilerActivity, profile

from birnn.layers import GRU, LSTM, Bidirectional, SimpleRNN

TOLERANCE = {"atol": 1e-5, "rtol": 1e-5}
LAYERS = {
    "lstm": lambda units, **kw: LSTM(units, **kw),
    "gru": lambda units, **kw: GRU(units, **kw),
    "gru_reset_before": lambda units, **kw: GRU(units, reset_after=False, **kw),
    "simple": lambda units, **kw: SimpleRNN(units, **kw),
    "simple_relu": lambda units, **kw: SimpleRNN(units, activation="relu", **kw),
}
MASKS = ("none", "right", "left", "holes")
# What the hypothesis tests draw for every call: units, mask, initial states or not,
# (batch, time, features) and the random inputs' seed.
CALLS = {
    "units": st.integers(1, 4),
    "mask_kind": st.sampled_from(MASKS),
    "with_initial_state": st.booleans(),
    "shape": st.tuples(st.integers(1, 4), st.integers(1, 6), st.integers(1, 3)),
    "seed": st.integers(0, 2**16),
}


KERNELS = ("aten::lstm", "aten::gru", "aten::rnn_tanh", "aten::rnn_relu")
BIRNN_KERNELS = {"birnn::gru": False, "birnn::gru_bidirectional": True}


@contextmanager
def kernel_calls():
    """Records ``bidirectional`` of every fused RNN kernel call (PyTorch's or birnn's CPU
    GRU), in order."""
    calls: list[bool] = []
    with profile(activities=[ProfilerActivity.CPU], record_shapes=True) as profiler:
        yield calls
    events = sorted(
        (e for e in profiler.events() if e.name in KERNELS or e.name in BIRNN_KERNELS),
        key=lambda e: e.time_range.start,
    )
    # PyTorch's kernels' arguments: (input, hx, params, has_biases, layers, dropout, train,
    # bidirectional, batch_first).
    calls.extend(
        BIRNN_KERNELS[e.name] if e.name in BIRNN_KERNELS else bool(e.concrete_inputs[7])
        for e in events
    )


def step_loop_twin(layer, input_shape):
    """A copy of built ``layer`` (same weights) whose recurrent layers never run fused."""
    config = layer.get_config()
    inner = config["layer"]["config"] if "layer" in config else config
    inner["use_fused"] = False
    if config.get("backward_layer"):
        config["backward_layer"]["config"]["use_fused"] = False
    twin = type(layer).from_config(config)
    twin.build(input_shape)
    twin.set_weights(layer.get_weights())
    return twin


def make_mask(kind: str, batch: int, time: int, generator: torch.Generator):
    """A mask whose first row is full and, from three rows on, whose last row is empty."""
    if kind == "none":
        return None
    lengths = torch.randint(0, time + 1, (batch,), generator=generator)
    positions = torch.arange(time)
    if kind == "right":
        mask = positions < lengths.unsqueeze(1)
    elif kind == "left":
        mask = positions >= (time - lengths).unsqueeze(1)
    else:
        mask = torch.rand(batch, time, generator=generator) < 0.6
    mask[0] = True
    if batch > 2:
        mask[-1] = False
    return mask


def run_and_differentiate(layer, x, mask, initial_state, training=False):
    """Outputs and states (flattened) and the gradients of a fixed projection of them."""
    x = x.clone().requires_grad_()
    initial_state = (
        None if initial_state is None else [s.clone().requires_grad_() for s in initial_state]
    )
    result = layer(x, mask=mask, training=training, initial_state=initial_state)
    outputs = result if isinstance(result, list) else [result]
    generator = torch.Generator().manual_seed(1)
    loss = sum((o * torch.randn(o.shape, generator=generator)).sum() for o in outputs)
    inputs = [x, *layer.trainable_weights, *(initial_state or [])]
    gradients = torch.autograd.grad(loss, inputs, allow_unused=True)
    return [o.detach() for o in outputs], gradients


def assert_same(fused, loop):
    for a, b in zip(fused[0], loop[0], strict=True):
        torch.testing.assert_close(a, b, **TOLERANCE)
    for a, b in zip(fused[1], loop[1], strict=True):
        if a is None or b is None:
            assert a is None and b is None
        else:
            torch.testing.assert_close(a, b, **TOLERANCE)


def randomize_weights(layer, generator):
    layer.set_weights(
        [(torch.randn(w.shape, generator=generator) * 0.5).numpy() for w in layer.weights]
    )


def random_inputs(layer, shape, units, mask_kind, state_count, seed):
    """Builds ``layer`` with random weights; returns random inputs, mask and initial states."""
    batch, time, features = shape
    generator = torch.Generator().manual_seed(seed)
    layer.build((batch, time, features))
    randomize_weights(layer, generator)
    x = torch.randn(batch, time, features, generator=generator)
    mask = make_mask(mask_kind, batch, time, generator)
    states = [torch.randn(batch, units, generator=generator) for _ in range(state_count)]
    return x, mask, states or None


@settings(deadline=None, max_examples=40)
@given(
    kind=st.sampled_from(sorted(LAYERS)),
    use_bias=st.booleans(),
    merge_mode=st.sampled_from(["concat", "sum", "mul", "ave", None]),
    return_sequences=st.booleans(),
    return_state=st.booleans(),
    go_backwards=st.booleans(),
    **CALLS,
)
def test_bidirectional_fused_matches_step_loop(
    kind,
    units,
    use_bias,
    merge_mode,
    return_sequences,
    return_state,
    go_backwards,
    mask_kind,
    with_initial_state,
    shape,
    seed,
):
    layer = Bidirectional(
        LAYERS[kind](
            units,
            use_bias=use_bias,
            return_sequences=return_sequences,
            return_state=return_state,
            go_backwards=go_backwards,
        ),
        merge_mode=merge_mode,
    )
    state_count = (4 if kind == "lstm" else 2) if with_initial_state else 0
    x, mask, initial_state = random_inputs(layer, shape, units, mask_kind, state_count, seed)

    with kernel_calls() as calls:
        fused = run_and_differentiate(layer, x, mask, initial_state)
    # A mask with every step valid runs as no mask.
    one_call = kind != "simple" and kind != "simple_relu" or mask is None or bool(mask.all())
    assert calls == ([True] if one_call else [False, False])
    loop = run_and_differentiate(step_loop_twin(layer, shape), x, mask, initial_state)
    assert_same(fused, loop)


@settings(deadline=None, max_examples=30)
@given(
    kind=st.sampled_from(sorted(LAYERS)),
    return_sequences=st.booleans(),
    zero_output_for_mask=st.booleans(),
    go_backwards=st.booleans(),
    **CALLS,
)
def test_single_layer_fused_matches_step_loop(
    kind,
    units,
    return_sequences,
    zero_output_for_mask,
    go_backwards,
    mask_kind,
    with_initial_state,
    shape,
    seed,
):
    layer = LAYERS[kind](
        units,
        return_sequences=return_sequences,
        return_state=True,
        go_backwards=go_backwards,
        zero_output_for_mask=zero_output_for_mask,
    )
    state_count = (2 if kind == "lstm" else 1) if with_initial_state else 0
    x, mask, initial_state = random_inputs(layer, shape, units, mask_kind, state_count, seed)

    fused = run_and_differentiate(layer, x, mask, initial_state)
    loop = run_and_differentiate(step_loop_twin(layer, shape), x, mask, initial_state)
    assert_same(fused, loop)


@pytest.mark.parametrize("kind", ["lstm", "gru", "gru_reset_before"])
@pytest.mark.parametrize("masked", [False, True])
def test_stateful_bidirectional_keeps_the_step_loop_states(kind, masked):
    generator = torch.Generator().manual_seed(0)
    layer = Bidirectional(LAYERS[kind](3, stateful=True, return_state=True))
    layer.build((2, 5, 2))
    randomize_weights(layer, generator)
    inputs = [torch.randn(2, 5, 2, generator=generator) for _ in range(3)]
    mask = make_mask("holes", 2, 5, generator) if masked else None

    def states_over_calls(layer):
        layer.reset_states()
        results = []
        for x in inputs:
            results.append([t.detach() for t in layer(x, mask=mask)])
            results.append(
                [
                    s.clone()
                    for side in (layer.forward_layer, layer.backward_layer)
                    for s in side.states
                ]
            )
        return results

    with kernel_calls() as calls:
        fused = states_over_calls(layer)
    assert calls == [True] * len(inputs)
    loop = states_over_calls(step_loop_twin(layer, (2, 5, 2)))
    for fused_call, loop_call in zip(fused, loop, strict=True):
        for a, b in zip(fused_call, loop_call, strict=True):
            torch.testing.assert_close(a, b, **TOLERANCE)


def test_time_major_bidirectional_matches_step_loop():
    generator = torch.Generator().manual_seed(0)
    layer = Bidirectional(LSTM(3, return_sequences=True, time_major=True), merge_mode="sum")
    layer.build((6, 2, 4))
    randomize_weights(layer, generator)
    x = torch.randn(6, 2, 4, generator=generator)
    with kernel_calls() as calls:
        fused = run_and_differentiate(layer, x, None, None)
    assert calls == [True]
    loop = run_and_differentiate(step_loop_twin(layer, (6, 2, 4)), x, None, None)
    assert_same(fused, loop)


def test_input_dropout_runs_fused_per_direction_with_the_step_loop_masks():
    layer = Bidirectional(GRU(3, dropout=0.4, return_sequences=True))
    layer.build((2, 5, 4))
    randomize_weights(layer, torch.Generator().manual_seed(0))
    twin = step_loop_twin(layer, (2, 5, 4))
    x = torch.randn(2, 5, 4)
    torch.manual_seed(7)
    with kernel_calls() as calls:
        fused = run_and_differentiate(layer, x, None, None, training=True)
    assert calls == [False, False]
    torch.manual_seed(7)
    with kernel_calls() as calls:
        loop = run_and_differentiate(twin, x, None, None, training=True)
    assert calls == []
    assert_same(fused, loop)


@pytest.mark.parametrize(
    ("make_layer", "training", "masked", "expected"),
    [
        (lambda: Bidirectional(LSTM(3)), False, False, [True]),
        (lambda: Bidirectional(LSTM(3)), False, True, [True]),
        (lambda: Bidirectional(GRU(3, return_sequences=True)), True, True, [True]),
        (lambda: Bidirectional(SimpleRNN(3)), False, False, [True]),
        (lambda: Bidirectional(SimpleRNN(3)), False, True, [False, False]),
        (lambda: Bidirectional(LSTM(3, dropout=0.5)), False, False, [True]),
        (lambda: Bidirectional(LSTM(3, dropout=0.5)), True, False, [False, False]),
        (lambda: Bidirectional(LSTM(3, recurrent_dropout=0.5)), True, False, []),
        (lambda: Bidirectional(GRU(3, reset_after=False)), False, False, [True]),
        (lambda: Bidirectional(GRU(3, reset_after=False)), True, True, [True]),
        (
            lambda: Bidirectional(LSTM(3), backward_layer=LSTM(4, go_backwards=True)),
            False,
            False,
            [False, False],
        ),
        (lambda: Bidirectional(LSTM(3, recurrent_activation="hard_sigmoid")), False, False, []),
    ],
)
def test_one_kernel_call_runs_both_directions_when_the_layers_allow(
    make_layer, training, masked, expected
):
    layer = make_layer()
    x = torch.randn(2, 5, 4)
    mask = torch.tensor([[True] * 5, [True] * 2 + [False] * 3]) if masked else None
    with kernel_calls() as calls:
        layer(x, mask=mask, training=training)
    assert calls == expected


# -- the public switch ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("make_layer", "training", "expected"),
    [
        (lambda fused: LSTM(3, use_fused=fused), False, [False]),
        (lambda fused: GRU(3, go_backwards=True, use_fused=fused), True, [False]),
        (lambda fused: SimpleRNN(3, activation="relu", use_fused=fused), False, [False]),
        (lambda fused: Bidirectional(LSTM(3, use_fused=fused)), False, [True]),
        (lambda fused: Bidirectional(GRU(3, dropout=0.5, use_fused=fused)), True, [False, False]),
        (lambda fused: GRU(3, reset_after=False, use_fused=fused), True, [False]),
        (lambda fused: Bidirectional(GRU(3, reset_after=False, use_fused=fused)), False, [True]),
    ],
)
def test_use_fused_true_runs_the_kernel_and_false_the_step_loop(make_layer, training, expected):
    x = torch.randn(2, 5, 4)
    mask = torch.tensor([[True] * 5, [False, True, True, False, True]])
    outputs = {}
    for use_fused in (True, "auto", False):
        torch.manual_seed(3)
        with kernel_calls() as calls:
            outputs[use_fused] = make_layer(use_fused)(x, mask=mask, training=training)
        assert calls == ([] if use_fused is False else expected)
    torch.testing.assert_close(outputs[True], outputs[False], **TOLERANCE)


@pytest.mark.parametrize(
    ("make_layer", "training", "received"),
    [
        (
            lambda: LSTM(3, recurrent_activation="hard_sigmoid", use_fused=True),
            False,
            "recurrent_activation='hard_sigmoid'",
        ),
        (lambda: SimpleRNN(3, activation="elu", use_fused=True), False, "activation='elu'"),
        (lambda: LSTM(3, recurrent_dropout=0.5, use_fused=True), True, "recurrent_dropout"),
        (
            lambda: LSTM(3, dropout=0.5, implementation=1, activation="relu", use_fused=True),
            True,
            "activation='relu'",
        ),
    ],
)
def test_use_fused_true_refuses_what_no_kernel_computes(make_layer, training, received):
    layer = make_layer()
    with pytest.raises(ValueError, match="use_fused=True") as error:
        layer(torch.randn(2, 5, 4), training=training)
    expected, _, actual = str(error.value).partition("Received: ")
    assert "Expected: " in expected and received in actual


@pytest.mark.parametrize(
    "make_layer",
    [
        lambda fused: GRU(3, reset_after=False, use_fused=fused),
        lambda fused: Bidirectional(GRU(3, reset_after=False, use_fused=fused)),
        lambda fused: Bidirectional(
            GRU(3, reset_after=False),
            backward_layer=GRU(3, go_backwards=True, use_fused=fused, reset_after=False),
        ),
    ],
)
def test_gru_reset_before_runs_the_step_loop_where_birnns_kernel_does_not(make_layer):
    # Only birnn's CPU kernel computes reset_after=False; under autocast it does not run.
    x = torch.randn(2, 5, 4)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        with kernel_calls() as calls:
            make_layer("auto")(x)
        assert calls == []
        with pytest.raises(ValueError, match="use_fused=True") as error:
            make_layer(True)(x)
    expected, _, actual = str(error.value).partition("Received: ")
    assert "Expected: " in expected and "reset_after=False" in actual and "(autocast)" in actual


def test_use_fused_true_with_recurrent_dropout_runs_fused_at_inference():
    layer = LSTM(3, recurrent_dropout=0.5, use_fused=True)
    with kernel_calls() as calls:
        layer(torch.randn(2, 5, 4), training=False)
    assert calls == [False]


def test_use_fused_true_accepts_zero_time_steps():
    output, h, c = LSTM(3, use_fused=True, return_state=True)(torch.randn(2, 0, 4))
    assert output.shape == (2, 3) and not h.any() and not c.any()


@pytest.mark.parametrize("value", ["yes", 1, None, "True"])
def test_use_fused_must_be_auto_or_a_bool(value):
    with pytest.raises(ValueError, match=r"use_fused must be 'auto', True or False\. Received"):
        LSTM(3, use_fused=value)


def test_use_fused_round_trips_in_the_config_only_when_set():
    assert "use_fused" not in LSTM(3).get_config()
    for value in (True, False):
        config = GRU(3, use_fused=value).get_config()
        assert config["use_fused"] is value
        assert GRU.from_config(config).use_fused is value
    layer = Bidirectional.from_config(Bidirectional(SimpleRNN(2, use_fused=False)).get_config())
    assert layer.forward_layer.use_fused is False and layer.backward_layer.use_fused is False


@pytest.mark.parametrize("reset_after", [True, False])
def test_forward_ad_through_a_gru_matches_the_step_loop(reset_after):
    # birnn's CPU GRU kernel has no forward-mode derivative: such calls take another path.
    import torch.autograd.forward_ad as forward_ad

    layer = Bidirectional(GRU(3, return_sequences=True, reset_after=reset_after))
    layer.build((2, 5, 4))
    randomize_weights(layer, torch.Generator().manual_seed(0))
    twin = step_loop_twin(layer, (2, 5, 4))
    x, tangent = torch.randn(2, 5, 4), torch.randn(2, 5, 4)
    mask = torch.tensor([[True] * 5, [True] * 2 + [False] * 3])
    jvps = []
    for model in (layer, twin):
        with forward_ad.dual_level():
            output = model(forward_ad.make_dual(x, tangent), mask=mask)
            jvps.append(forward_ad.unpack_dual(output).tangent)
    torch.testing.assert_close(jvps[0], jvps[1], **TOLERANCE)


def test_a_mask_changed_in_place_between_calls_is_read_again():
    # The layout of a call's mask (all valid, right-padded, other) is read once per mask
    # and version: an in-place change must be seen.
    layer = Bidirectional(LSTM(3, return_sequences=True))
    layer.build((2, 5, 4))
    x = torch.randn(2, 5, 4)
    mask = torch.ones(2, 5, dtype=torch.bool)
    layer(x, mask=mask)  # every step valid: runs unmasked
    for change in ([slice(3, None)], [slice(0, 2)]):  # right padding, then left padding
        mask[1, change[0]] = False
        output = layer(x, mask=mask)
        expected = step_loop_twin(layer, (2, 5, 4))(x, mask=mask.clone())
        torch.testing.assert_close(output, expected, **TOLERANCE)


@pytest.mark.parametrize("kind", sorted(LAYERS))
@pytest.mark.parametrize("bidirectional", [True, False])
def test_a_batch_without_a_valid_step_trains_like_the_step_loop(kind, bidirectional):
    # Every row empty: birnn's GRU kernel runs no step; the loss still backpropagates, to
    # the same (zero) gradients as the step loop's, and the initial states pass through.
    inner = LAYERS[kind](3, return_sequences=True, return_state=True)
    layer = Bidirectional(inner) if bidirectional else inner
    count = {"lstm": 2}.get(kind, 1) * (2 if bidirectional else 1)
    x, _, initial_state = random_inputs(layer, (2, 4, 2), 3, "none", count, seed=0)
    mask = torch.zeros(2, 4, dtype=torch.bool)
    fused = run_and_differentiate(layer, x, mask, initial_state)
    twin = step_loop_twin(layer, (2, 4, 2))
    loop = run_and_differentiate(twin, x, mask, initial_state)
    assert_same(fused, loop)
    # A gradient penalty differentiates the gradients again (to zeros, too).
    penalties = []
    for model in (layer, twin):
        inputs = x.clone().requires_grad_()
        result = model(inputs, mask=mask, initial_state=initial_state)
        outputs = result if isinstance(result, list) else [result]
        (grad,) = torch.autograd.grad(sum(o.sum() for o in outputs), inputs, create_graph=True)
        penalties.append(torch.autograd.grad(grad.square().sum(), model.trainable_weights))
    for a, b in zip(*penalties, strict=True):
        torch.testing.assert_close(a, b, **TOLERANCE)


def test_masked_call_under_inference_mode():
    # Inference tensors have no version counter: their mask layout is read every call.
    layer = Bidirectional(GRU(3, return_sequences=True, reset_after=False))
    layer.build((2, 5, 4))
    x = torch.randn(2, 5, 4)
    padded = torch.tensor([[True] * 5, [True] * 2 + [False] * 3])
    with torch.inference_mode():
        mask = padded.clone()
        first = layer(x, mask=mask)
        mask[1] = True
        second = layer(x, mask=mask)
    twin = step_loop_twin(layer, (2, 5, 4))
    with torch.no_grad():
        torch.testing.assert_close(first, twin(x, mask=padded), **TOLERANCE)
        torch.testing.assert_close(second, twin(x), **TOLERANCE)


# -- the step loop, both directions at once -------------------------------------------------


def loop_layer(kind, units, **kwargs):
    """A layer that takes the step loop: ``use_fused=False`` or an activation no kernel has."""
    if kind == "lstm_hard_sigmoid":
        return LSTM(units, recurrent_activation="hard_sigmoid", **kwargs)
    return LAYERS[kind](units, use_fused=False, **kwargs)


@settings(deadline=None, max_examples=30)
@given(
    kind=st.sampled_from(sorted(LAYERS) + ["lstm_hard_sigmoid"]),
    use_bias=st.booleans(),
    return_sequences=st.booleans(),
    **CALLS,
)
def test_paired_step_loop_equals_each_direction_on_its_own(
    kind, units, use_bias, return_sequences, mask_kind, with_initial_state, shape, seed
):
    layer = Bidirectional(
        loop_layer(kind, units, use_bias=use_bias, return_sequences=return_sequences),
        merge_mode=None,
    )
    state_count = (4 if "lstm" in kind else 2) if with_initial_state else 0
    x, mask, initial_state = random_inputs(layer, shape, units, mask_kind, state_count, seed)
    half = state_count // 2
    x = x.requires_grad_()
    together = layer(x, mask=mask, initial_state=initial_state)
    forward = layer.forward_layer(
        x, mask=mask, initial_state=initial_state and initial_state[:half]
    )
    backward = layer.backward_layer(
        x, mask=mask, initial_state=initial_state and initial_state[half:]
    )
    if return_sequences:
        backward = backward.flip(1)
    for got, want in zip(together, (forward, backward), strict=True):
        torch.testing.assert_close(got, want, **TOLERANCE)
    weights = [x, *layer.parameters()]
    projection = [
        torch.randn(o.shape, generator=torch.Generator().manual_seed(2)) for o in together
    ]
    grads = torch.autograd.grad(sum((o * p).sum() for o, p in zip(together, projection)), weights)
    expected = torch.autograd.grad(
        sum((o * p).sum() for o, p in zip((forward, backward), projection)), weights
    )
    for got, want in zip(grads, expected, strict=True):
        torch.testing.assert_close(got, want, **TOLERANCE)


@pytest.mark.parametrize(
    ("make_layer", "paired"),
    [
        (lambda: Bidirectional(LSTM(3, use_fused=False)), True),
        (lambda: Bidirectional(GRU(3, recurrent_activation="hard_sigmoid")), True),
        (lambda: Bidirectional(SimpleRNN(3, activation="elu")), True),
        # Unlike cells, or recurrent dropout while training: each direction on its own.
        (
            lambda: Bidirectional(
                LSTM(3, use_fused=False),
                backward_layer=LSTM(3, use_fused=False, activation="relu", go_backwards=True),
            ),
            False,
        ),
        (lambda: Bidirectional(LSTM(3, recurrent_dropout=0.5)), False),
        # Recurrent kernels of 2 MiB together: a loop per direction is faster.
        (lambda: Bidirectional(LSTM(256, use_fused=False)), False),
    ],
)
def test_the_step_loop_runs_both_directions_at_once_when_their_cells_alike(make_layer, paired):
    layer = make_layer()
    x = torch.randn(2, 5, 4)
    with profile(activities=[ProfilerActivity.CPU]) as profiler:
        layer(x, training=True)
    batched = sum(1 for e in profiler.events() if e.name == "aten::baddbmm")
    assert batched == (5 if paired else 0)


def test_gru_reset_before_with_half_precision_inputs_says_their_dtype():
    layer = GRU(3, reset_after=False, use_fused=True, dtype="float16")
    with pytest.raises(ValueError, match="use_fused=True") as error:
        layer(torch.randn(2, 5, 4, dtype=torch.float16))
    expected, _, actual = str(error.value).partition("Received: ")
    assert "float32 or float64" in expected and "(inputs of dtype torch.float16)" in actual
