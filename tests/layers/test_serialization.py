"""serialize/deserialize: tf-keras configs read and written back key for key."""

from __future__ import annotations

import json

import pytest

from birnn.layers import GRU, LSTM, Bidirectional, SimpleRNN, deserialize, serialize

from ..conftest import golden_case_ids, load_golden_case


@pytest.mark.parametrize("case_id", golden_case_ids("layer"))
def test_tf_keras_config_round_trips_key_for_key(case_id):
    spec, _ = load_golden_case(case_id)
    written = serialize(deserialize(spec["config"]))
    assert written["config"] == spec["config"]["config"]
    assert list(written["config"]) == list(spec["config"]["config"])  # Keras's key order too
    assert written["class_name"] == spec["config"]["class_name"]


@pytest.mark.parametrize(
    "layer",
    [
        lambda: LSTM(3, dropout=0.1, recurrent_dropout=0.2, kernel_regularizer="l2"),
        lambda: GRU(2, reset_after=False, recurrent_activation="hard_sigmoid"),
        lambda: SimpleRNN(4, activation="relu", return_sequences=True, stateful=True),
        lambda: Bidirectional(LSTM(3), merge_mode=None),
        lambda: Bidirectional(
            LSTM(3, return_sequences=True),
            backward_layer=GRU(3, go_backwards=True, return_sequences=True),
        ),
    ],
)
def test_config_round_trip_is_identical_and_json(layer):
    original = layer()
    config = serialize(original)
    text = json.dumps(config)
    assert serialize(deserialize(json.loads(text)))["config"] == config["config"]


def test_build_config_builds_the_layer():
    layer = deserialize(
        {
            "class_name": "LSTM",
            "config": {"units": 2},
            "build_config": {"input_shape": [None, 4, 3]},
        }
    )
    assert layer.built and tuple(layer.cell.kernel.shape) == (3, 8)


def test_unknown_class_is_refused_by_name():
    with pytest.raises(ValueError, match="unknown layer class_name 'Conv9D'"):
        deserialize({"class_name": "Conv9D", "config": {}})


def test_unknown_config_key_is_refused_by_name():
    with pytest.raises((ValueError, TypeError), match="colour"):
        deserialize({"class_name": "LSTM", "config": {"units": 2, "colour": "red"}})


def test_custom_objects_resolve_user_classes():
    class MyLSTM(LSTM):
        pass

    layer = deserialize(
        {"class_name": "MyLSTM", "config": {"units": 2}}, custom_objects={"MyLSTM": MyLSTM}
    )
    assert type(layer) is MyLSTM
