"""Conformance with tf-keras 2.21 beyond the numbers: configs, state structures, weight order,
trainable flags, losses and stateful resets (cases in ``tests/golden/conform``, written by
``tests/golden/make_keras2_cases.py``). Every case is run through the public API, as a user
would: ``deserialize``, ``build(input_shape)``, ``set_weights``, calls."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from birnn.layers import (
    GRU,
    LSTM,
    RNN,
    Bidirectional,
    GRUCell,
    LSTMCell,
    SimpleRNN,
    SimpleRNNCell,
    StackedRNNCells,
    deserialize,
)

from ..conftest import GOLDEN, flatten, layout, run_golden_calls

CONFORM = GOLDEN / "conform"
CASE_IDS = sorted(path.stem for path in CONFORM.glob("*.json"))
ACTIVITY_NOT_IN_CONFIG = ("conform_activity_regularizer_on_bidirectional",)


def _load(case_id: str) -> tuple[dict, dict[str, np.ndarray]]:
    spec = json.loads((CONFORM / f"{case_id}.json").read_text())
    return spec, dict(np.load(CONFORM / f"{case_id}.npz"))


def _built_layer(spec, arrays, config=None):
    layer = deserialize(config or spec["config"])
    first = next(call for call in spec["calls"] if "x" in call)
    if not layer.built:
        layer.build(arrays[first["x"]].shape)
    layer.set_weights([arrays[key] for key in spec["weights"]])
    return layer.eval()


@pytest.mark.parametrize("case_id", CASE_IDS)
def test_deserialized_layer_matches_tf_keras(case_id):
    spec, arrays = _load(case_id)
    layer = _built_layer(spec, arrays)
    assert layer.get_config() == spec["expected_config"]
    trainable = [any(w is t for t in layer.trainable_weights) for w in layer.weights]
    assert trainable == spec["weight_trainable"]
    first = next(call for call in spec["calls"] if "x" in call)
    shape = layer.compute_output_shape(arrays[first["x"]].shape)
    assert json.loads(json.dumps(shape)) == spec["output_shape"]
    # tf-keras's Bidirectional config omits its activity_regularizer (README, "where we
    # differ"): a layer made from that config has none, in tf-keras as in birnn.
    run_golden_calls(layer, spec, arrays, check_losses=case_id not in ACTIVITY_NOT_IN_CONFIG)


@pytest.mark.parametrize("case_id", CASE_IDS)
def test_config_round_trip_is_unchanged(case_id):
    spec, _ = _load(case_id)
    layer = deserialize(spec["config"])
    again = deserialize({"class_name": type(layer).__name__, "config": layer.get_config()})
    assert again.get_config() == layer.get_config() == spec["expected_config"]


@pytest.mark.parametrize(
    "case_id",
    [c for c in CASE_IDS if "initial_state_structure" in (CONFORM / f"{c}.json").read_text()],
)
def test_flat_initial_state_is_accepted_too(case_id):
    spec, arrays = _load(case_id)
    run_golden_calls(_built_layer(spec, arrays), spec, arrays, flat_initial_state=True)


# -- the same layers from birnn's own constructors, checked against tf-keras's numbers ----------


def _constructed(case_id: str, layer):
    spec, arrays = _load(case_id)
    first = next(call for call in spec["calls"] if "x" in call)
    layer.build(arrays[first["x"]].shape)
    assert [tuple(w.shape) for w in layer.weights] == [arrays[k].shape for k in spec["weights"]]
    trainable = [any(w is t for t in layer.trainable_weights) for w in layer.weights]
    assert trainable == spec["weight_trainable"]
    layer.set_weights([arrays[key] for key in spec["weights"]])
    run_golden_calls(layer.eval(), spec, arrays)
    return layer


def test_mirrored_backward_layer_keeps_its_config_and_name():
    layer = Bidirectional(SimpleRNN(3, go_backwards=True), backward_layer=SimpleRNN(3))
    config = layer.get_config()
    assert config["backward_layer"]["config"]["go_backwards"] is False
    restored = deserialize({"class_name": "Bidirectional", "config": config})
    assert "backward_layer" in restored.get_config()
    assert restored.backward_layer.name == "backward_" + config["backward_layer"]["config"]["name"]
    spec, _ = _load("conform_mirrored_backward_layer")
    from_keras = deserialize(spec["config"])
    assert from_keras.backward_layer.name == "backward_simple_rnn_1"
    _constructed(
        "conform_mirrored_backward_layer",
        Bidirectional(
            SimpleRNN(3, go_backwards=True, name="simple_rnn"),
            backward_layer=SimpleRNN(3, name="simple_rnn_1"),
            name="bidirectional",
        ),
    )


@pytest.mark.parametrize("side", ["layer", "backward_layer"])
def test_zero_output_for_mask_stays_in_wrapped_configs(side):
    forward = LSTM(2, return_sequences=True, zero_output_for_mask=True)
    backward = GRU(2, return_sequences=True, go_backwards=True, zero_output_for_mask=True)
    layer = Bidirectional(forward, backward_layer=backward)
    assert layer.get_config()[side]["config"]["zero_output_for_mask"] is True
    restored = deserialize({"class_name": "Bidirectional", "config": layer.get_config()})
    assert restored.get_config()[side]["config"]["zero_output_for_mask"] is True
    spec, _ = _load("conform_zero_output_for_mask_backward")
    assert deserialize(spec["config"]).get_config() == spec["expected_config"]


def test_activity_regularizer_applies_to_returned_states():
    # tf-keras: one activity loss per output, states included (output and state are both h)
    layer = GRU(
        3, return_state=True, activity_regularizer={"class_name": "L2", "config": {"l2": 0.03}}
    )
    layer = _constructed("conform_activity_regularizer_states", layer)
    assert len(layer.losses) == 2


def test_activity_regularizer_applies_to_both_halves_of_merge_mode_none():
    regularizer = {"class_name": "L1", "config": {"l1": 0.03}}
    inner = LSTM(2, return_sequences=True, return_state=True, activity_regularizer=regularizer)
    layer = _constructed(
        "conform_activity_regularizer_merge_none", Bidirectional(inner, merge_mode=None)
    )
    assert len(layer.losses) == 6  # each side: its sequence and its two states


def test_bidirectional_activity_regularizer_applies_to_every_output():
    layer = Bidirectional(GRU(2, return_state=True), merge_mode=None, activity_regularizer="l2")
    layer = _constructed("conform_activity_regularizer_on_bidirectional", layer)
    assert len(layer.losses) == 4


def test_rnn_trainable_false_freezes_its_cell():
    layer = _constructed(
        "conform_rnn_cell_trainable_false", RNN(LSTMCell(3), trainable=False, return_sequences=True)
    )
    assert layer.trainable_weights == []
    assert not any(w.requires_grad for w in layer.parameters())
    assert layer.cell.get_config()["trainable"] is True  # as tf-keras writes it
    spec, arrays = _load("conform_rnn_cell_trainable_false")
    assert _built_layer(spec, arrays).trainable_weights == []


def test_rnn_trainable_flag_can_be_turned_back_on():
    layer = RNN(LSTMCell(3), trainable=False)
    layer.build((2, 3, 4))
    layer.trainable = True
    assert len(layer.trainable_weights) == 3
    assert all(w.requires_grad for w in layer.parameters())


def test_nested_trainable_flags_order_weights_as_tf_keras():
    cells = [LSTMCell(3, trainable=False), LSTMCell(3)]
    layer = Bidirectional(RNN(cells, trainable=False))
    _constructed("conform_nested_trainable_order", layer)


def test_nested_trainable_flags_in_a_stack_order_weights_as_tf_keras():
    cells = [GRUCell(2, trainable=False), SimpleRNNCell(2), LSTMCell(2, trainable=False)]
    layer = _constructed(
        "conform_nested_trainable_stack", RNN(StackedRNNCells(cells), return_sequences=True)
    )
    assert len(layer.trainable_weights) == 3  # the SimpleRNNCell's


def test_stacked_cells_return_states_nested_per_cell():
    layer = RNN([LSTMCell(3), SimpleRNNCell(2), GRUCell(2)], return_state=True)
    _constructed("conform_stacked_states", layer)
    assert layer.cell.state_size == [[3, 3], 2, 2]


def test_stacked_cells_step_takes_nested_or_flat_states():
    cells = StackedRNNCells([LSTMCell(3), SimpleRNNCell(2)])
    x = torch.randn(2, 4)
    h, c, s = torch.randn(2, 3), torch.randn(2, 3), torch.randn(2, 2)
    output, nested = cells(x, [[h, c], s])
    assert layout(nested) == [[(2, 3), (2, 3)], (2, 2)]
    output_flat, from_flat = cells(x, [h, c, s])
    torch.testing.assert_close(output, output_flat)
    torch.testing.assert_close(flatten(nested), flatten(from_flat))


def test_bidirectional_with_uneven_stacked_states_takes_initial_state():
    forward = RNN([LSTMCell(2), SimpleRNNCell(3)], return_state=True)
    backward = RNN([GRUCell(2), LSTMCell(3)], return_state=True, go_backwards=True)
    _constructed(
        "conform_stacked_states_bidirectional",
        Bidirectional(forward, backward_layer=backward, merge_mode="concat"),
    )


def test_bidirectional_reset_states_splits_uneven_state_counts():
    forward = SimpleRNN(2, stateful=True, return_state=True)
    backward = LSTM(2, stateful=True, return_state=True, go_backwards=True)
    _constructed("conform_uneven_reset_states", Bidirectional(forward, backward_layer=backward))


def test_bidirectional_reset_states_splits_by_each_sides_count():
    # tf-keras splits at len // 2, which fails here; each side's count is known
    forward = LSTM(2, stateful=True)
    backward = SimpleRNN(2, stateful=True, go_backwards=True)
    layer = Bidirectional(forward, backward_layer=backward)
    layer.build((3, 4, 5))
    states = [np.full((3, 2), value, np.float32) for value in (1.0, 2.0, 3.0)]
    layer.reset_states(states)
    assert [float(s[0, 0]) for s in layer.forward_layer.states] == [1.0, 2.0]
    assert [float(s[0, 0]) for s in layer.backward_layer.states] == [3.0]


def test_single_state_cell_returns_a_bare_state_for_a_bare_state():
    for cell in (SimpleRNNCell(3), GRUCell(3)):
        output, state = cell(torch.randn(2, 4), torch.zeros(2, 3))
        assert torch.is_tensor(state)
        output, states = cell(torch.randn(2, 4), [torch.zeros(2, 3)])
        assert isinstance(states, list) and len(states) == 1
