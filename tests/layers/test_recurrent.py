"""RNN, SimpleRNN, LSTM, GRU: Keras 2's arguments, weights, states, masks and dropout."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from birnn.layers import GRU, LSTM, RNN, GRUCell, LSTMCell, SimpleRNN, SimpleRNNCell

LAYERS = [SimpleRNN, LSTM, GRU]


def test_weights_have_keras_shapes_and_order():
    layer = LSTM(5, input_shape=(7, 3))
    assert [tuple(w.shape) for w in layer.get_weights()] == [(3, 20), (5, 20), (20,)]
    gru = GRU(5, input_shape=(7, 3))
    assert [tuple(w.shape) for w in gru.get_weights()] == [(3, 15), (5, 15), (2, 15)]
    assert tuple(GRU(5, reset_after=False, input_shape=(7, 3)).get_weights()[2].shape) == (15,)
    assert [tuple(w.shape) for w in SimpleRNN(5, input_dim=3).get_weights()] == [
        (3, 5),
        (5, 5),
        (5,),
    ]


def test_input_shape_builds_at_once_and_lazy_build_waits_for_a_call():
    assert LSTM(2, input_shape=(None, 3)).built
    layer = LSTM(2)
    assert not layer.built and layer.weights == []
    layer(torch.zeros(1, 4, 3))
    assert layer.built and len(layer.weights) == 3


def test_unit_forget_bias_sets_the_forget_slice_to_exactly_one():
    bias = LSTM(3, input_shape=(2, 2), bias_initializer="ones").cell.bias
    assert bias.tolist() == [1.0] * 12
    bias = LSTM(3, input_shape=(2, 2)).cell.bias
    assert bias.tolist() == [0.0] * 3 + [1.0] * 3 + [0.0] * 6
    assert LSTM(3, unit_forget_bias=False, input_shape=(2, 2)).cell.bias.abs().sum() == 0


def test_initializers_follow_keras_defaults():
    layer = LSTM(4, input_shape=(None, 6))
    recurrent = layer.cell.recurrent_kernel.detach()
    torch.testing.assert_close(recurrent @ recurrent.T, torch.eye(4), atol=1e-5, rtol=0)
    limit = (6 / (6 + 16)) ** 0.5
    assert float(layer.cell.kernel.detach().abs().max()) <= limit


def test_set_weights_then_get_weights_round_trips():
    layer = GRU(3, input_shape=(None, 2))
    values = [np.random.randn(*w.shape).astype("float32") for w in layer.get_weights()]
    layer.set_weights(values)
    for got, want in zip(layer.get_weights(), values):
        np.testing.assert_array_equal(got, want)


def test_trainable_false_freezes_every_weight():
    layer = LSTM(3, input_shape=(None, 2))
    layer.trainable = False
    assert layer.trainable_weights == [] and len(layer.non_trainable_weights) == 3
    assert not any(p.requires_grad for p in layer.parameters())
    layer.trainable = True
    assert len(layer.trainable_weights) == 3
    lazy = LSTM(3, trainable=False)
    lazy(torch.zeros(1, 2, 2))
    assert lazy.trainable_weights == []


@pytest.mark.parametrize("layer_class", LAYERS)
def test_return_state_gives_output_then_states(layer_class):
    layer = layer_class(4, return_state=True, return_sequences=True)
    result = layer(torch.randn(2, 5, 3))
    states = 2 if layer_class is LSTM else 1
    assert len(result) == 1 + states
    torch.testing.assert_close(result[0][:, -1], result[1])
    assert layer.compute_output_shape((2, 5, 3)) == [(2, 5, 4)] + [(2, 4)] * states


@pytest.mark.parametrize("layer_class", LAYERS)
def test_go_backwards_reads_the_reversed_sequence(layer_class):
    x = torch.randn(2, 6, 3)
    forward = layer_class(4, return_sequences=True)
    backward = layer_class(4, return_sequences=True, go_backwards=True)
    forward(x)
    backward(x)
    backward.set_weights(forward.get_weights())
    torch.testing.assert_close(backward(x), forward(x.flip(1)))


@pytest.mark.parametrize("layer_class", LAYERS)
def test_time_major_transposes_inputs_and_sequence_outputs(layer_class):
    x = torch.randn(2, 6, 3)
    batch_major = layer_class(4, return_sequences=True)
    time_major = layer_class(4, return_sequences=True, time_major=True)
    batch_major(x)
    time_major(x.transpose(0, 1))
    time_major.set_weights(batch_major.get_weights())
    torch.testing.assert_close(time_major(x.transpose(0, 1)), batch_major(x).transpose(0, 1))
    assert time_major.compute_output_shape((6, 2, 3)) == (6, 2, 4)
    mask = torch.tensor([[True] * 6, [True, False, True, True, False, False]])
    torch.testing.assert_close(
        time_major(x.transpose(0, 1), mask=mask.T),
        batch_major(x, mask=mask).transpose(0, 1),
    )
    with pytest.raises(ValueError, match=r"mask must have shape \(time, batch\) = \(6, 2\)"):
        time_major(x.transpose(0, 1), mask=mask)


@pytest.mark.parametrize("layer_class", LAYERS)
def test_masked_steps_carry_state_and_repeat_the_previous_output(layer_class):
    x = torch.randn(1, 5, 3)
    mask = torch.tensor([[True, False, True, True, False]])
    layer = layer_class(4, return_sequences=True, return_state=True)
    output, *states = layer(x, mask=mask)
    reference, *reference_states = layer(x[:, [0, 2, 3]])
    torch.testing.assert_close(output[:, [0, 2, 3]], reference)
    torch.testing.assert_close(output[:, 1], output[:, 0])
    torch.testing.assert_close(output[:, 4], output[:, 3])
    for state, expected in zip(states, reference_states):
        torch.testing.assert_close(state, expected)


def test_masked_steps_before_any_valid_step_output_zero_and_keep_initial_state():
    layer = GRU(3, return_sequences=True, return_state=True)
    initial = torch.randn(2, 3)
    mask = torch.tensor([[False, False, True], [False, False, False]])
    output, state = layer(torch.randn(2, 3, 2), mask=mask, initial_state=[initial])
    assert output[:, :2].abs().sum() == 0 and output[1].abs().sum() == 0
    torch.testing.assert_close(state[1], initial[1])


def test_zero_output_for_mask_zeroes_masked_steps():
    layer = LSTM(3, return_sequences=True, zero_output_for_mask=True)
    mask = torch.tensor([[True, True, False]])
    output = layer(torch.randn(1, 3, 2), mask=mask)
    assert output[0, 2].abs().sum() == 0 and output[0, 1].abs().sum() > 0
    assert layer.get_config()["zero_output_for_mask"] is True


def test_training_dropout_uses_one_inverted_mask_per_call_for_every_step():
    layer = LSTM(4, dropout=0.5, return_sequences=True)
    x = torch.randn(3, 6, 5)
    layer.train()
    dropped = layer(x)
    mask = layer.cell.get_dropout_mask_for_cell(x[:, 0], training=True)
    assert set(mask.unique().tolist()) <= {0.0, 2.0}
    reference = layer(x * mask.unsqueeze(1), training=False)
    torch.testing.assert_close(dropped, reference)


def test_recurrent_dropout_switches_to_implementation_1_with_a_mask_per_gate():
    layer = GRU(4, recurrent_dropout=0.3, return_sequences=True)
    assert layer.cell.implementation == 1
    assert layer.get_config()["implementation"] == 1
    layer(torch.randn(2, 3, 2), training=True)
    masks = layer.cell.get_recurrent_dropout_mask_for_cell(torch.zeros(2, 4), True, count=3)
    assert len(masks) == 3 and not torch.equal(masks[0], masks[1])


def test_no_dropout_at_inference():
    layer = SimpleRNN(4, dropout=0.5, recurrent_dropout=0.5)
    x = torch.randn(2, 3, 2)
    layer.eval()
    torch.testing.assert_close(layer(x), layer(x))
    torch.testing.assert_close(layer(x, training=False), layer(x))


def test_training_argument_overrides_module_mode():
    layer = SimpleRNN(16, dropout=0.9)
    layer.eval()
    x = torch.randn(4, 3, 8)
    assert not torch.equal(layer(x, training=True), layer(x))


@pytest.mark.parametrize("layer_class", LAYERS)
def test_stateful_layer_continues_from_its_last_state(layer_class):
    x = torch.randn(2, 8, 3)
    whole = layer_class(4, return_sequences=True)
    stateful = layer_class(4, return_sequences=True, stateful=True)
    whole(x)
    stateful(x)
    stateful.set_weights(whole.get_weights())
    stateful.reset_states()
    first, second = stateful(x[:, :4]), stateful(x[:, 4:])
    torch.testing.assert_close(torch.cat([first, second], 1), whole(x))
    stateful.reset_states()
    torch.testing.assert_close(stateful(x[:, :4]), first)


def test_reset_states_to_given_values_and_its_errors():
    layer = LSTM(2, stateful=True)
    layer(torch.randn(3, 2, 4))
    states = [np.ones((3, 2), "float32"), np.zeros((3, 2), "float32")]
    layer.reset_states(states)
    assert layer.states[0].tolist() == [[1.0, 1.0]] * 3
    with pytest.raises(ValueError, match=r"initial_state must hold 2 tensor\(s\)"):
        layer.reset_states([np.ones((3, 2))])
    with pytest.raises(AttributeError, match="stateful"):
        LSTM(2).reset_states()


def test_stateful_keeps_recorded_states_over_initial_state_unless_all_zero():
    layer = SimpleRNN(2, stateful=True)
    x, initial = torch.randn(1, 3, 2), [torch.ones(1, 2)]
    first = layer(x, initial_state=initial)
    reference = SimpleRNN(2)
    reference(x)
    reference.set_weights(layer.get_weights())
    torch.testing.assert_close(first, reference(x, initial_state=initial))  # zeros recorded
    second = layer(x, initial_state=initial)  # Keras 2: non-zero recorded states win
    torch.testing.assert_close(second, reference(x, initial_state=[first]))
    layer.reset_states()
    torch.testing.assert_close(layer(x, initial_state=initial), first)


def test_stateful_batch_size_must_not_change():
    layer = GRU(2, stateful=True)
    layer(torch.randn(3, 2, 4))
    with pytest.raises(ValueError, match="Expected: 3. Received: 5"):
        layer(torch.randn(5, 2, 4))


def test_initial_state_sets_the_first_state():
    layer = LSTM(3, return_state=True)
    x = torch.randn(2, 1, 2)
    h0, c0 = torch.randn(2, 3), torch.randn(2, 3)
    _, h, c = layer(x, initial_state=[h0, c0])
    cell = layer.cell
    expected_h, (_, expected_c) = cell(x[:, 0], [h0, c0])
    torch.testing.assert_close(h, expected_h)
    torch.testing.assert_close(c, expected_c)


def test_rnn_with_cell_list_stacks_cells():
    layer = RNN([LSTMCell(4), GRUCell(3)], return_state=True)
    output, (h1, c1), h2 = layer(torch.randn(2, 5, 2))  # nested per cell, as tf-keras
    assert output.shape == (2, 3) and h1.shape == (2, 4) and h2.shape == (2, 3)
    torch.testing.assert_close(output, h2)
    assert len(layer.get_weights()) == 6


def test_rnn_runs_a_user_cell():
    class MinimalCell(torch.nn.Module):
        state_size = 3

        def __init__(self):
            super().__init__()
            self.linear = torch.nn.Linear(2 + 3, 3)

        def forward(self, inputs, states):
            h = torch.tanh(self.linear(torch.cat([inputs, states[0]], -1)))
            return h, [h]

    layer = RNN(MinimalCell(), return_sequences=True)
    mask = torch.tensor([[True, False, True]])
    output = layer(torch.randn(1, 3, 2), mask=mask)
    torch.testing.assert_close(output[:, 1], output[:, 0])
    assert len(layer.get_weights()) == 2


def test_compute_mask_passes_the_mask_only_with_sequences():
    mask = torch.ones(2, 3, dtype=torch.bool)
    assert LSTM(2, return_sequences=True).compute_mask(None, mask) is mask
    assert LSTM(2).compute_mask(None, mask) is None
    assert LSTM(2, return_state=True).compute_mask(None, mask) == [None, None, None]


def test_zero_time_steps_return_zeros_and_initial_states():
    layer = LSTM(3, return_state=True, return_sequences=True)
    output, h, c = layer(torch.randn(2, 0, 4))
    assert output.shape == (2, 0, 3) and h.abs().sum() == 0 and c.abs().sum() == 0
    assert LSTM(3)(torch.randn(2, 0, 4)).shape == (2, 3)


@pytest.mark.parametrize("cell_class", [SimpleRNNCell, LSTMCell, GRUCell])
def test_cells_pass_float64_gradcheck(cell_class):
    layer = RNN(cell_class(2, dtype="float64"), return_sequences=True, dtype="float64")
    x = torch.randn(2, 3, 2, dtype=torch.float64, requires_grad=True)
    layer(x)
    mask = torch.tensor([[True, False, True], [True, True, False]])
    assert torch.autograd.gradcheck(lambda x: layer(x, mask=mask), (x,))
    weights = layer.trainable_weights
    assert torch.autograd.gradcheck(
        lambda *w: _with_weights(layer, w, x), tuple(w.detach().requires_grad_() for w in weights)
    )


def _with_weights(layer, weights, x):
    return torch.func.functional_call(
        layer, {f"cell.{name}": w for name, w in zip(layer.cell._weight_names, weights)}, (x,)
    )


def test_implementation_1_input_masks_follow_tf_keras():
    x = torch.randn(2, 3, 4)
    fused_in_keras = LSTM(3, implementation=1, dropout=0.5)
    fused_in_keras(x, training=True)
    # tf-keras's fused op uses the first only
    assert torch.is_tensor(fused_in_keras.cell.get_dropout_mask_for_cell(x[:, 0], True))
    per_gate = LSTM(3, implementation=1, dropout=0.5, recurrent_activation="hard_sigmoid")
    per_gate(x, training=True)
    assert len(per_gate.cell.get_dropout_mask_for_cell(x[:, 0], True)) == 4
    gru = GRU(3, implementation=1, dropout=0.5, reset_after=False)
    gru(x, training=True)
    assert len(gru.cell.get_dropout_mask_for_cell(x[:, 0], True)) == 3


def test_rnn_of_a_cell_keeps_its_activity_regularizer_in_its_config():
    # tf-keras omits it from RNN(cell) configs (a documented quirk); birnn writes and reads it.
    layer = RNN(LSTMCell(3), activity_regularizer="l2")
    layer(torch.ones(2, 4, 5))
    config = layer.get_config()
    assert config["activity_regularizer"]["class_name"] == "L2"
    rebuilt = RNN.from_config(config)
    rebuilt(torch.ones(2, 4, 5))
    assert len(rebuilt.losses) == 1


class _Shift(torch.nn.Module):
    def forward(self, weight):
        return weight + 0.25


@pytest.mark.parametrize("layer_class", [LSTM, GRU, SimpleRNN])
@pytest.mark.parametrize("name", ["kernel", "recurrent_kernel", "bias"])
def test_parametrized_weights_are_the_ones_every_path_computes_with(layer_class, name):
    from torch.nn.utils import parametrize

    torch.manual_seed(0)
    x = torch.randn(3, 5, 4)
    mask = torch.arange(5) < torch.tensor([[5], [2], [0]])
    layers = {}
    for use_fused in ("auto", False):
        torch.manual_seed(1)
        layer = layer_class(3, return_sequences=True, use_fused=use_fused)
        layer(x)
        parametrize.register_parametrization(layer.cell, name, _Shift())
        layers[use_fused] = layer
    fused, loop = layers["auto"](x, mask=mask), layers[False](x, mask=mask)
    torch.testing.assert_close(fused, loop, atol=1e-6, rtol=1e-6)
    torch.manual_seed(1)
    plain = layer_class(3, return_sequences=True)
    plain(x)
    # The parametrization changed the numbers (its weight is the one used).
    assert not torch.allclose(plain(x, mask=mask), fused)


def test_a_bias_served_by_a_buffer_is_used():
    torch.manual_seed(0)
    x = torch.randn(2, 4, 3)
    layer = GRU(2, return_sequences=True)
    reference = GRU(2, return_sequences=True, use_fused=False)
    layer(x), reference(x)
    reference.set_weights([w.detach().numpy() for w in layer.weights])
    bias = layer.cell.bias.detach().clone() + 0.5
    for module in (layer.cell, reference.cell):
        del module._parameters["bias"]
        module.register_buffer("bias", bias.clone())
    torch.testing.assert_close(layer(x), reference(x), atol=1e-6, rtol=1e-6)
