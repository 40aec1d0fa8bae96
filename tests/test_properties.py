"""Invariants of the layers and Bidirectional, checked on random shapes, masks and values.

Padding never matters, rows never interact, Bidirectional is its own mirror image,
configs and state dicts round-trip exactly, and float64 gradients match finite
differences for every cell and merge mode.
"""

from __future__ import annotations

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from birnn.layers import GRU, LSTM, Bidirectional, SimpleRNN, deserialize, serialize

PROPERTY_SETTINGS = settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)

# Every cell type; the first of each pair runs fused, the second on the step loop.
LAYER_TYPES = {
    "simple-rnn-tanh": lambda units, **kw: SimpleRNN(units, **kw),
    "simple-rnn-relu": lambda units, **kw: SimpleRNN(units, activation="relu", **kw),
    "lstm": lambda units, **kw: LSTM(units, **kw),
    "lstm-hard-sigmoid": lambda units, **kw: LSTM(units, recurrent_activation="hard_sigmoid", **kw),
    "gru-reset-after": lambda units, **kw: GRU(units, **kw),
    "gru-reset-before": lambda units, **kw: GRU(units, reset_after=False, **kw),
}
MERGE_MODES = ["concat", "sum", "mul", "ave", None]


@st.composite
def sequences(draw, min_batch: int = 1):
    """``(seed, x, mask)``: a random batch with a random mask (gaps and empty rows allowed)."""
    batch = draw(st.integers(min_batch, 3))
    time = draw(st.integers(1, 5))
    features = draw(st.integers(1, 3))
    seed = draw(st.integers(0, 2**16))
    bits = draw(st.lists(st.booleans(), min_size=batch * time, max_size=batch * time))
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(batch, time, features, generator=generator)
    mask = torch.tensor(bits).reshape(batch, time)
    return seed, x, mask


def _flat(outputs) -> list[torch.Tensor]:
    if torch.is_tensor(outputs):
        return [outputs]
    return [t for item in outputs for t in _flat(item)]


def _assert_same(actual, expected, atol: float = 0.0) -> None:
    for a, e in zip(_flat(actual), _flat(expected), strict=True):
        torch.testing.assert_close(a, e, rtol=0 if atol == 0 else 1e-5, atol=atol)


def _layer(kind: str, units: int, seed: int, **kwargs):
    torch.manual_seed(seed)
    return LAYER_TYPES[kind](units, return_sequences=True, return_state=True, **kwargs)


def _bidirectional(kind: str, units: int, seed: int, merge_mode="concat", **kwargs):
    torch.manual_seed(seed)
    layer = LAYER_TYPES[kind](units, return_sequences=True, return_state=True, **kwargs)
    return Bidirectional(layer, merge_mode=merge_mode)


# -- padding ----------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", LAYER_TYPES)
@PROPERTY_SETTINGS
@given(data=sequences(), units=st.integers(1, 3), bidirectional=st.booleans())
def test_padding_content_never_changes_outputs_or_states(kind, data, units, bidirectional):
    seed, x, mask = data
    make = _bidirectional if bidirectional else _layer
    layer = make(kind, units, seed)
    noise = torch.randn(x.shape, generator=torch.Generator().manual_seed(seed + 1)) * 10
    repadded = torch.where(mask.unsqueeze(-1), x, noise)
    _assert_same(layer(repadded, mask=mask), layer(x, mask=mask))


# -- rows -------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", LAYER_TYPES)
@PROPERTY_SETTINGS
@given(data=sequences(min_batch=2), units=st.integers(1, 3), bidirectional=st.booleans())
def test_rows_of_a_batch_are_independent(kind, data, units, bidirectional):
    seed, x, mask = data
    make = _bidirectional if bidirectional else _layer
    layer = make(kind, units, seed)
    together = _flat(layer(x, mask=mask))
    for row in range(x.shape[0]):
        alone = _flat(layer(x[row : row + 1], mask=mask[row : row + 1]))
        _assert_same([t[row : row + 1] for t in together], alone, atol=1e-6)


# -- mirror image -----------------------------------------------------------------------------


def _with_directions_swapped(layer: Bidirectional, kind: str, units: int) -> Bidirectional:
    """The same Bidirectional with its forward and backward weights exchanged."""
    swapped = _bidirectional(kind, units, seed=0, merge_mode=layer.merge_mode)
    forward_count = len(layer.forward_layer.weights)
    weights = layer.get_weights()
    swapped._maybe_build(layer._built_input_shape)
    swapped.set_weights(weights[forward_count:] + weights[:forward_count])
    return swapped


@pytest.mark.parametrize("kind", LAYER_TYPES)
@PROPERTY_SETTINGS
@given(data=sequences(), units=st.integers(1, 3), merge_mode=st.sampled_from(["concat", "sum"]))
def test_bidirectional_is_the_mirror_image_of_its_swap_on_reversed_time(
    kind, data, units, merge_mode
):
    seed, x, mask = data
    layer = _bidirectional(kind, units, seed, merge_mode=merge_mode)
    output, *states = layer(x, mask=mask)
    swapped = _with_directions_swapped(layer, kind, units)
    mirrored, *mirrored_states = swapped(x.flip(1), mask=mask.flip(1))

    if merge_mode == "concat":
        forward_half, backward_half = output.chunk(2, dim=-1)
        output = torch.cat([backward_half, forward_half], dim=-1)
    half = len(states) // 2
    _assert_same(mirrored.flip(1), output, atol=1e-6)
    _assert_same(mirrored_states, states[half:] + states[:half], atol=1e-6)


# -- round trips ------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", LAYER_TYPES)
@PROPERTY_SETTINGS
@given(data=sequences(), units=st.integers(1, 3), bidirectional=st.booleans())
def test_config_and_state_dict_round_trips_reproduce_outputs_exactly(
    kind, data, units, bidirectional
):
    seed, x, mask = data
    make = _bidirectional if bidirectional else _layer
    layer = make(kind, units, seed)
    expected = layer(x, mask=mask)

    from_config = type(layer).from_config(layer.get_config())
    from_config._maybe_build(tuple(x.shape))
    from_config.load_state_dict(layer.state_dict())
    _assert_same(from_config(x, mask=mask), expected)

    deserialized = deserialize(serialize(layer))
    deserialized.set_weights(layer.get_weights())
    _assert_same(deserialized(x, mask=mask), expected)


# -- gradients --------------------------------------------------------------------------------


def _gradcheck(layer, x: torch.Tensor, mask: torch.Tensor | None) -> None:
    """float64 finite differences against autograd, for the inputs and every weight."""
    layer(x, mask=mask)  # builds the weights
    names = [name for name, _ in layer.named_parameters()]
    params = [p.detach().clone().requires_grad_() for _, p in layer.named_parameters()]

    def run(x, *weights):
        outputs = torch.func.functional_call(layer, dict(zip(names, weights)), (x,), {"mask": mask})
        return tuple(_flat(outputs))

    assert len(params) == len(layer.weights) > 0
    assert torch.autograd.gradcheck(run, (x.requires_grad_(), *params), atol=1e-6)


def _small_batch(masked: bool) -> tuple[torch.Tensor, torch.Tensor | None]:
    x = torch.randn(2, 3, 2, dtype=torch.float64)
    mask = torch.tensor([[True, False, True], [True, True, False]]) if masked else None
    return x, mask


@pytest.mark.parametrize("fused", [True, False], ids=["fused", "loop"])
@pytest.mark.parametrize("masked", [False, True], ids=["unmasked", "masked"])
@pytest.mark.parametrize("kind", LAYER_TYPES)
def test_gradcheck_every_cell(kind, masked, fused):
    layer = LAYER_TYPES[kind](
        2,
        return_sequences=True,
        return_state=True,
        dtype="float64",
        bias_initializer="uniform",
        use_fused="auto" if fused else False,
    )
    _gradcheck(layer, *_small_batch(masked))


@pytest.mark.parametrize("masked", [False, True], ids=["unmasked", "masked"])
@pytest.mark.parametrize("merge_mode", MERGE_MODES)
def test_gradcheck_every_merge_mode(merge_mode, masked):
    layer = Bidirectional(
        LSTM(2, return_sequences=True, return_state=True, dtype="float64"),
        merge_mode=merge_mode,
    )
    _gradcheck(layer, *_small_batch(masked))
