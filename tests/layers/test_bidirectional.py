"""Bidirectional: construction, validation, merging, masks, states, weights and configs.

Numbers in the ``*_reference`` tests are Keras's own test expectations (constant
initializers; Keras 2 and Keras 3 agree on them to 1e-7).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from birnn.initializers import Constant
from birnn.layers import GRU, LSTM, RNN, Bidirectional, LSTMCell, SimpleRNN, deserialize

MERGE_MODES = ["concat", "sum", "ave", "mul", None]


def constant(layer_class, units, kernel=0.01, recurrent=0.02, bias=0.03, **kwargs):
    return layer_class(
        units,
        kernel_initializer=Constant(kernel),
        recurrent_initializer=Constant(recurrent),
        bias_initializer=Constant(bias),
        **kwargs,
    )


def arange(*shape):
    return torch.arange(float(np.prod(shape))).reshape(shape)


# -- reference numbers ------------------------------------------------------------------------


def test_merge_modes_reference():
    x = arange(2, 3, 4)
    concat = Bidirectional(constant(SimpleRNN, 2))(x)
    expected = [
        [0.39687276, 0.39687276, 0.10004295, 0.10004295],
        [0.7237238, 0.7237238, 0.53391594, 0.53391594],
    ]
    np.testing.assert_allclose(concat.detach(), expected, atol=1e-6)
    ave = Bidirectional(constant(SimpleRNN, 2), merge_mode="ave")(x)
    np.testing.assert_allclose(ave.detach(), [[0.24845785] * 2, [0.6288199] * 2], atol=1e-6)
    forward, backward = Bidirectional(constant(SimpleRNN, 2), merge_mode=None)(x)
    np.testing.assert_allclose(forward.detach(), [[0.39687276] * 2, [0.7237238] * 2], atol=1e-6)
    np.testing.assert_allclose(backward.detach(), [[0.10004295] * 2, [0.53391594] * 2], atol=1e-6)


def test_custom_backward_layer_reference():
    backward = constant(SimpleRNN, 2, kernel=0.03, bias=0.01, go_backwards=True)
    y = Bidirectional(constant(SimpleRNN, 2), merge_mode="mul", backward_layer=backward)(
        arange(2, 3, 4)
    )
    np.testing.assert_allclose(y.detach(), [[0.08374989] * 2, [0.6740834] * 2], atol=1e-6)


def test_gru_sequences_sum_reference():
    y = Bidirectional(constant(GRU, 2, return_sequences=True), merge_mode="sum")(arange(2, 3, 4))
    expected = [[0.20937867, 0.34462988, 0.40290534], [0.59829646, 0.6734641, 0.6479671]]
    np.testing.assert_allclose(y.detach()[..., 0], expected, atol=1e-6)
    np.testing.assert_allclose(y.detach()[..., 1], expected, atol=1e-6)


def test_statefulness_reference():
    x = arange(2, 4, 3)
    layer = Bidirectional(constant(LSTM, 2, stateful=True))
    layer(x)
    expected = [
        [0.26234663, 0.26234663, 0.16959146, 0.16959146],
        [0.6137073, 0.6137073, 0.5381646, 0.5381646],
    ]
    np.testing.assert_allclose(layer(x).detach(), expected, atol=1e-6)
    layer.reset_states()
    layer(x)
    np.testing.assert_allclose(layer(x).detach(), expected, atol=1e-6)


def test_initial_state_reference():
    s = arange(2, 2)
    y = Bidirectional(constant(LSTM, 2))(arange(2, 4, 3), initial_state=[s, 2 * s, 3 * s, 4 * s])
    expected = [
        [0.20794602, 0.4577124, 0.14046375, 0.48191673],
        [0.6682636, 0.6711909, 0.60943645, 0.60950446],
    ]
    np.testing.assert_allclose(y.detach(), expected, atol=1e-6)


def test_masking_reference():
    mask = torch.tensor([[True, True, False, True], [True, False, False, True]])
    y = Bidirectional(constant(GRU, 2))(arange(2, 4, 3), mask=mask)
    expected = [
        [0.19393763, 0.19393763, 0.11669192, 0.11669192],
        [0.30818558, 0.30818558, 0.28380975, 0.28380975],
    ]
    np.testing.assert_allclose(y.detach(), expected, atol=1e-6)


def test_return_state_reference():
    y, h1, c1, h2, c2 = Bidirectional(constant(LSTM, 2, return_state=True))(arange(2, 4, 3))
    np.testing.assert_allclose(
        y.detach(),
        [[0.1990008] * 2 + [0.12659755] * 2, [0.52335435] * 2 + [0.44717982] * 2],
        atol=1e-6,
    )
    np.testing.assert_allclose(c1.detach(), [[0.35567185] * 2, [1.0492687] * 2], atol=1e-6)
    np.testing.assert_allclose(c2.detach(), [[0.2501858] * 2, [0.941473] * 2], atol=1e-6)
    torch.testing.assert_close(torch.cat([h1, h2], -1), y)


# -- construction and validation --------------------------------------------------------------


def test_layers_are_recreated_with_fresh_weights_and_prefixed_names():
    original = LSTM(3, name="rnn", return_sequences=True)
    layer = Bidirectional(original)
    assert layer.forward_layer is not original
    assert layer.forward_layer.name == "forward_rnn"
    assert layer.backward_layer.name == "backward_rnn"
    assert layer.backward_layer.go_backwards and not layer.forward_layer.go_backwards
    assert layer.get_config()["layer"]["config"]["name"] == "rnn"
    restored = Bidirectional.from_config(layer.get_config())
    assert restored.forward_layer.name == "forward_rnn"


def test_backward_copy_toggles_go_backwards():
    layer = Bidirectional(GRU(2, go_backwards=True))
    assert layer.forward_layer.go_backwards and not layer.backward_layer.go_backwards


def test_custom_backward_layer_is_used_as_is():
    backward = SimpleRNN(3, activation="relu", go_backwards=True, name="mine")
    layer = Bidirectional(LSTM(3), backward_layer=backward)
    assert layer.backward_layer is backward and backward.name == "backward_mine"
    config = layer.get_config()
    assert config["backward_layer"]["config"]["name"] == "mine"
    assert Bidirectional.from_config(config).get_config() == config


def test_zero_output_for_mask_follows_return_sequences():
    assert Bidirectional(LSTM(2, return_sequences=True)).forward_layer.zero_output_for_mask
    assert not Bidirectional(LSTM(2)).backward_layer.zero_output_for_mask


@pytest.mark.parametrize("bad", [torch.zeros(2), "lstm", 3, None])
def test_layer_must_be_a_layer(bad):
    with pytest.raises(ValueError, match="layer must be a layer instance"):
        Bidirectional(bad)


def test_backward_layer_must_be_a_layer():
    with pytest.raises(ValueError, match="backward_layer must be a layer instance"):
        Bidirectional(LSTM(2), backward_layer="gru")


def test_layer_with_only_some_sequence_attributes_is_refused():
    class Half(nn.Module):
        go_backwards = False

        def forward(self, x):
            return x

    with pytest.raises(ValueError, match="without return_sequences, return_state"):
        Bidirectional(Half())


@pytest.mark.parametrize("merge_mode", ["max", "", "Concat", 1])
def test_invalid_merge_mode_lists_the_valid_ones(merge_mode):
    with pytest.raises(
        ValueError,
        match=r"one of 'sum', 'mul', 'concat', 'ave' or None\. "
        rf"Received: {merge_mode!r}",
    ):
        Bidirectional(LSTM(2), merge_mode=merge_mode)


def test_backward_layer_with_same_go_backwards_is_refused():
    with pytest.raises(ValueError, match="opposite go_backwards"):
        Bidirectional(LSTM(2), backward_layer=LSTM(2))


@pytest.mark.parametrize("attribute", ["stateful", "return_sequences", "return_state"])
def test_backward_layer_with_other_properties_is_refused(attribute):
    with pytest.raises(ValueError, match=f"same {attribute} as layer"):
        Bidirectional(LSTM(2), backward_layer=LSTM(2, go_backwards=True, **{attribute: True}))


@pytest.mark.parametrize(
    "initial_state",
    [
        [torch.zeros(2, 3)],
        [torch.zeros(2, 3)] * 3,
        torch.zeros(2, 3),
    ],
)
def test_initial_state_must_hold_both_directions(initial_state):
    with pytest.raises(ValueError, match=r"initial_state must be a list \[\*forward_states"):
        Bidirectional(GRU(3))(torch.zeros(2, 4, 2), initial_state=initial_state)


def test_merging_different_widths_with_sum_is_refused():
    layer = Bidirectional(LSTM(3), merge_mode="sum", backward_layer=LSTM(4, go_backwards=True))
    with pytest.raises(ValueError, match=r"same shape\. Received: forward \(2, 3\), backward"):
        layer(torch.zeros(2, 5, 2))


def test_merging_a_width_of_one_broadcasts_as_in_tf_keras():
    layer = Bidirectional(LSTM(3), merge_mode="sum", backward_layer=GRU(1, go_backwards=True))
    x = torch.randn(2, 5, 2)
    merged = layer(x)
    forward, backward = layer.forward_layer(x), layer.backward_layer(x)
    torch.testing.assert_close(merged, forward + backward)


# -- calling ----------------------------------------------------------------------------------


@pytest.mark.parametrize("merge_mode", MERGE_MODES)
@pytest.mark.parametrize("return_sequences", [True, False])
def test_merged_value_is_merge_of_forward_and_flipped_backward(merge_mode, return_sequences):
    x = torch.randn(2, 3, 5)
    layer = Bidirectional(
        LSTM(3, return_sequences=return_sequences, return_state=True), merge_mode=merge_mode
    )
    result = layer(x)
    forward = layer.forward_layer(x)
    backward = layer.backward_layer(x)
    y, y_rev = forward[0], backward[0]
    if return_sequences:
        y_rev = y_rev.flip(1)
    merged = {
        "concat": lambda: torch.cat([y, y_rev], -1),
        "sum": lambda: y + y_rev,
        "ave": lambda: (y + y_rev) / 2,
        "mul": lambda: y * y_rev,
        None: lambda: [y, y_rev],
    }[merge_mode]()
    outputs = merged if merge_mode is None else [merged]
    states = forward[1:] + backward[1:]
    assert len(result) == len(outputs) + len(states)
    for got, want in zip(result, outputs + states):
        torch.testing.assert_close(got, want)


@pytest.mark.parametrize("merge_mode", MERGE_MODES)
@pytest.mark.parametrize("return_state", [True, False])
@pytest.mark.parametrize("layer_class", [LSTM, GRU])
def test_compute_output_shape_matches_the_outputs(merge_mode, return_state, layer_class):
    for return_sequences in (True, False):
        layer = Bidirectional(
            layer_class(3, return_sequences=return_sequences, return_state=return_state),
            merge_mode=merge_mode,
        )
        result = layer(torch.zeros(2, 4, 1))
        result = result if isinstance(result, list) else [result]
        shapes = layer.compute_output_shape((2, 4, 1))
        shapes = shapes if isinstance(shapes, list) else [shapes]
        assert [tuple(r.shape) for r in result] == [tuple(s) for s in shapes]


def test_compute_output_shape_keeps_unknown_dimensions():
    assert Bidirectional(LSTM(3)).compute_output_shape((None, 2, 1)) == (None, 6)
    shapes = Bidirectional(GRU(3, return_state=True), merge_mode=None).compute_output_shape(
        (None, 2, 1)
    )
    assert shapes == [(None, 3)] * 4


def test_compute_mask():
    mask = torch.ones(2, 3, dtype=torch.bool)
    assert Bidirectional(LSTM(2, return_sequences=True)).compute_mask(None, mask) is mask
    assert Bidirectional(LSTM(2)).compute_mask(None, mask) is None
    assert Bidirectional(LSTM(2, return_sequences=True), merge_mode=None).compute_mask(
        None, mask
    ) == [mask, mask]
    assert Bidirectional(LSTM(2, return_state=True)).compute_mask(None, mask) == [None] * 5


@pytest.mark.parametrize("layer_class", [SimpleRNN, LSTM, GRU])
def test_masked_steps_are_zero_in_both_directions(layer_class):
    mask = torch.tensor([[True, True, False, True, False], [False, True, True, True, True]])
    y = Bidirectional(layer_class(3, return_sequences=True), merge_mode=None)(
        torch.randn(2, 5, 2), mask=mask
    )
    for direction in y:
        assert direction[~mask].abs().sum() == 0
        assert (direction[mask].abs().sum(-1) > 0).all()


def test_last_output_with_mask_is_the_final_states():
    x = torch.randn(2, 4, 3)
    mask = torch.tensor([[True, True, False, True], [True, True, False, False]])
    y, h1, _, h2, _ = Bidirectional(LSTM(2, return_state=True))(x, mask=mask)
    torch.testing.assert_close(y, torch.cat([h1, h2], -1))


@pytest.mark.parametrize("layer_class", [SimpleRNN, LSTM, GRU])
def test_padding_content_never_changes_outputs(layer_class):
    layer = Bidirectional(layer_class(3, return_sequences=True, return_state=True))
    x = torch.randn(3, 6, 2)
    mask = torch.rand(3, 6) > 0.4
    noisy = torch.where(mask.unsqueeze(-1), x, 100 * torch.randn_like(x))
    for got, want in zip(layer(noisy, mask=mask), layer(x, mask=mask)):
        torch.testing.assert_close(got, want)


def test_dropout_is_active_only_in_training():
    layer = Bidirectional(LSTM(8, dropout=0.5, recurrent_dropout=0.5, return_state=True))
    x = torch.randn(4, 3, 5)
    layer.eval()
    for a, b in zip(layer(x), layer(x)):
        torch.testing.assert_close(a, b)
    assert not torch.equal(layer(x, training=True)[0], layer(x, training=True)[0])


def test_stateful_reset_states_with_values_and_errors():
    layer = Bidirectional(SimpleRNN(2, stateful=True))
    x = torch.randn(1, 3, 2)
    first = layer(x)
    assert not torch.equal(layer(x), first)
    layer.reset_states()
    torch.testing.assert_close(layer(x), first)
    layer.reset_states([np.zeros((1, 2), "float32"), np.zeros((1, 2), "float32")])
    torch.testing.assert_close(layer(x), first)
    with pytest.raises(ValueError, match="list or tuple"):
        layer.reset_states({})
    with pytest.raises(AttributeError, match="stateful"):
        Bidirectional(SimpleRNN(2)).reset_states()


# -- weights ----------------------------------------------------------------------------------


def test_weights_are_forward_then_backward():
    layer = Bidirectional(LSTM(3), input_shape=(5, 2))
    assert layer.weights == layer.forward_layer.weights + layer.backward_layer.weights
    assert [tuple(w.shape) for w in layer.get_weights()] == [(2, 12), (3, 12), (12,)] * 2


def test_weights_argument_is_applied_unlike_keras():
    source = Bidirectional(GRU(2), input_shape=(3, 4))
    values = [np.random.randn(*w.shape).astype("float32") for w in source.get_weights()]
    layer = Bidirectional(GRU(2), weights=values)
    layer(torch.zeros(1, 3, 4))
    for got, want in zip(layer.get_weights(), values):
        np.testing.assert_array_equal(got, want)


def test_set_weights_round_trip_keeps_predictions():
    layer = Bidirectional(LSTM(3))
    x = torch.randn(2, 4, 3)
    before = layer(x)
    clone = Bidirectional(LSTM(3))
    clone(x)
    clone.set_weights(layer.get_weights())
    torch.testing.assert_close(clone(x), before)


def test_trainable_false_freezes_both_directions():
    layer = Bidirectional(SimpleRNN(2), input_shape=(3, 2))
    assert len(layer.trainable_weights) == 6
    layer.trainable = False
    assert layer.trainable_weights == [] and len(layer.non_trainable_weights) == 6
    layer.trainable = True
    assert len(layer.trainable_weights) == 6
    assert Bidirectional(SimpleRNN(2, trainable=False), input_shape=(3, 2)).trainable_weights == []


def test_regularizer_losses_and_constraints_come_from_both_directions():
    layer = Bidirectional(
        SimpleRNN(
            2,
            kernel_regularizer="l1",
            bias_regularizer="l1",
            activity_regularizer="l1",
            kernel_constraint="non_neg",
        )
    )
    layer(torch.randn(2, 3, 2))
    assert len(layer.losses) == 6
    assert len(layer.constraints) == 2
    with torch.no_grad():
        layer.forward_layer.cell.kernel.fill_(-1.0)
    layer.apply_constraints()
    assert layer.forward_layer.cell.kernel.abs().sum() == 0


# -- any sequence layer -----------------------------------------------------------------------


class CumulativeSum(nn.Module):
    """A minimal Keras-style sequence layer: running sum of a projection."""

    def __init__(self, units=2, go_backwards=False, return_sequences=True, return_state=False):
        super().__init__()
        self.units, self.go_backwards = units, go_backwards
        self.return_sequences, self.return_state = return_sequences, return_state
        self.projection = nn.LazyLinear(units)

    def forward(self, inputs, mask=None):
        x = inputs.flip(1) if self.go_backwards else inputs
        if mask is not None:
            x = x * (mask.flip(1) if self.go_backwards else mask).unsqueeze(-1)
        y = self.projection(x).cumsum(1)
        return y if self.return_sequences else y[:, -1]

    def get_config(self):
        return {
            "units": self.units,
            "go_backwards": self.go_backwards,
            "return_sequences": self.return_sequences,
            "return_state": self.return_state,
        }

    @classmethod
    def from_config(cls, config):
        config = {k: v for k, v in config.items() if k != "name"}
        return cls(**config)


def test_wraps_a_user_sequence_layer():
    layer = Bidirectional(_Named(), merge_mode="sum")
    x = torch.randn(2, 4, 3)
    y = layer(x)
    forward = layer.forward_layer(x)
    torch.testing.assert_close(y, forward + layer.backward_layer(x).flip(1))
    assert layer.backward_layer.go_backwards


class _Named(CumulativeSum):
    name = "cumsum"

    def get_config(self):
        return {"name": self.name, **super().get_config()}


class CausalConv(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv1d(2, 3, kernel_size=2)

    def forward(self, x):
        padded = nn.functional.pad(x.transpose(1, 2), (1, 0))
        return self.conv(padded).transpose(1, 2)


def test_wraps_a_plain_causal_module_and_reverses_only_valid_steps():
    layer = Bidirectional(CausalConv())
    assert layer.backward_layer is not layer.forward_layer
    assert not torch.equal(layer.backward_layer.conv.weight, layer.forward_layer.conv.weight)
    x = torch.randn(2, 5, 2)
    lengths = torch.tensor([5, 3])
    mask = torch.arange(5) < lengths.unsqueeze(1)
    y = layer(x, mask=mask)
    assert y.shape == (2, 5, 6) and y[1, 3:].abs().sum() == 0
    short = layer(x[1:, :3])
    torch.testing.assert_close(y[1:, :3], short)
    noisy = x.clone()
    noisy[1, 3:] = 1e3
    torch.testing.assert_close(layer(noisy, mask=mask), y)


def test_rnn_with_a_cell_is_wrapped_and_round_trips():
    layer = Bidirectional(RNN(LSTMCell(3), return_sequences=True))
    y = layer(torch.randn(2, 4, 2))
    assert y.shape == (2, 4, 6)
    restored = deserialize({"class_name": "Bidirectional", "config": layer.get_config()})
    assert restored.get_config() == layer.get_config()


@pytest.mark.parametrize("layer_class", [SimpleRNN, LSTM, GRU])
def test_time_major_with_a_time_major_mask_matches_batch_major(layer_class):
    x = torch.randn(3, 5, 2)
    mask = torch.tensor([[True] * 5, [True, True, False, False, False], [False, True] * 2 + [True]])
    batch_major = Bidirectional(layer_class(3, return_sequences=True, return_state=True))
    time_major = Bidirectional(
        layer_class(3, return_sequences=True, return_state=True, time_major=True)
    )
    batch_major(x)
    time_major(x.transpose(0, 1))
    time_major.set_weights(batch_major.get_weights())
    expected = batch_major(x, mask=mask)
    got = time_major(x.transpose(0, 1), mask=mask.T)
    torch.testing.assert_close(got[0], expected[0].transpose(0, 1))
    for state, expected_state in zip(got[1:], expected[1:]):
        torch.testing.assert_close(state, expected_state)


def test_trainable_false_freezes_a_plain_module_too():
    layer = Bidirectional(CausalConv(), trainable=False)
    assert layer.trainable_weights == []
    assert not any(p.requires_grad for p in layer.parameters())


def test_dtype_conversion_reaches_the_config():
    layer = Bidirectional(LSTM(3), input_shape=(5, 2)).double()
    assert layer.get_config()["layer"]["config"]["dtype"] == "float64"
    restored = Bidirectional.from_config(layer.get_config())
    assert restored.forward_layer.dtype == torch.float64


def test_return_state_set_after_the_first_call_returns_the_states():
    x = torch.randn(2, 4, 5)
    mask = torch.arange(4) < torch.tensor([[4], [2]])
    layer = Bidirectional(GRU(3, return_sequences=True))
    layer(x, mask=mask)
    layer.return_state = True
    output, forward_h, backward_h = layer(x, mask=mask)
    twin = Bidirectional(GRU(3, return_sequences=True, return_state=True))
    twin(x)
    twin.set_weights(layer.get_weights())
    expected = twin(x, mask=mask)
    for got, want in zip((output, forward_h, backward_h), expected, strict=True):
        torch.testing.assert_close(got, want)
