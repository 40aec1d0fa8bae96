"""Sequential: the spec's examples verbatim, building, masks, weights and configs."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from birnn.layers import (
    GRU,
    LSTM,
    Activation,
    Bidirectional,
    Dense,
    Dropout,
    Embedding,
    InputLayer,
    Masking,
    TimeDistributed,
)
from birnn.models import Sequential, model_from_json


def _spec_example_1():
    # The first example of tf.keras.layers.Bidirectional's documentation, verbatim.
    model = Sequential()
    model.add(Bidirectional(LSTM(10, return_sequences=True), input_shape=(5, 10)))
    model.add(Bidirectional(LSTM(10)))
    model.add(Dense(5))
    model.add(Activation("softmax"))
    model.compile(loss="categorical_crossentropy", optimizer="rmsprop")
    return model


def _spec_example_2():
    # The second example ("With custom backward layer"), verbatim but for its indentation.
    # With custom backward layer
    model = Sequential()
    forward_layer = LSTM(10, return_sequences=True)
    backward_layer = LSTM(10, activation="relu", return_sequences=True, go_backwards=True)
    model.add(Bidirectional(forward_layer, backward_layer=backward_layer, input_shape=(5, 10)))
    model.add(Dense(5))
    model.add(Activation("softmax"))
    model.compile(loss="categorical_crossentropy", optimizer="rmsprop")
    return model


def _learnable_data(output_shape):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 5, 10)).astype("float32")
    labels = x[:, 0, :5].argmax(-1) if len(output_shape) == 2 else x[..., :5].argmax(-1)
    y = np.eye(5, dtype="float32")[labels]
    return x, y


@pytest.mark.parametrize("make_model", [_spec_example_1, _spec_example_2], ids=["1", "2"])
def test_spec_examples_run_and_train(make_model):
    model = make_model()
    output_shape = model.compute_output_shape((None, 5, 10))
    x, y = _learnable_data(output_shape)
    history = model.fit(x, y, epochs=4, batch_size=16, verbose=0)
    losses = history.history["loss"]
    assert len(losses) == 4 and losses[-1] < losses[0]
    assert model.predict(x[:3], verbose=0).shape == (3, *output_shape[1:])


def test_spec_example_1_has_keras_parameter_counts():
    model = _spec_example_1()
    counts = [sum(w.size for w in layer.get_weights()) for layer in model.layers]
    assert counts == [1680, 2480, 105, 0]
    assert model.count_params() == 4265


def test_input_shape_on_the_first_layer_adds_a_named_input_layer():
    model = _spec_example_1()
    config = model.get_config()
    first = config["layers"][0]
    assert first["class_name"] == "InputLayer"
    assert first["config"]["batch_input_shape"] == [None, 5, 10]
    assert first["config"]["name"] == model.layers[0].name + "_input"
    assert len(model.layers) == 4


def test_layers_build_as_they_are_added_once_the_input_shape_is_known():
    model = Sequential([InputLayer(input_shape=(7, 3)), GRU(4, return_sequences=True)])
    model.add(Dense(2))
    assert [w.shape for w in model.get_weights()] == [(3, 12), (4, 12), (2, 12), (4, 2), (2,)]


def test_a_model_without_input_shape_builds_on_its_first_call():
    model = Sequential([Dense(3), Dense(1)])
    with pytest.raises(ValueError, match="has not yet been built"):
        model.summary()
    model(torch.zeros(2, 4))
    assert model.count_params() == 4 * 3 + 3 + 3 + 1
    assert model.get_config()["build_input_shape"] == [None, 4]


def test_masks_flow_from_embedding_through_the_stack():
    model = Sequential(
        [
            Embedding(20, 4, mask_zero=True),
            Bidirectional(GRU(3, return_sequences=True)),
            TimeDistributed(Dense(2, activation="softmax")),
        ]
    )
    ids = torch.tensor([[5, 3, 0, 0], [1, 2, 3, 4]])
    y = model(ids)
    assert y._keras_mask.tolist() == [[True, True, False, False], [True] * 4]
    short = model(ids[:1, :2])
    torch.testing.assert_close(y[0, :2], short[0])


def test_masking_then_rnn_skips_padded_steps():
    torch.manual_seed(0)
    model = Sequential([Masking(input_shape=(None, 3)), Bidirectional(LSTM(2))])
    x = torch.randn(1, 3, 3)
    padded = torch.cat([x, torch.zeros(1, 2, 3)], dim=1)
    torch.testing.assert_close(model(padded), model(x))


def test_a_plain_torch_module_works_without_a_mask_and_refuses_one():
    model = Sequential([Dense(4, input_shape=(3,)), torch.nn.ReLU(), Dense(1)])
    assert model(torch.ones(2, 3)).shape == (2, 1)
    masked = Sequential([Embedding(5, 2, mask_zero=True), torch.nn.Identity()])
    with pytest.raises(TypeError, match="does not support masking"):
        masked(torch.tensor([[1, 0]]))


def test_weights_are_in_keras_model_order_layer_by_layer():
    model = Sequential([Dense(2, input_shape=(3,)), Dense(1)])
    model.layers[0].trainable = False
    assert [w.shape for w in model.get_weights()] == [(3, 2), (2,), (2, 1), (1,)]
    assert [tuple(w.shape) for w in model.trainable_weights] == [(2, 1), (1,)]
    weights = [np.full(w.shape, i, "float32") for i, w in enumerate(model.get_weights())]
    model.set_weights(weights)
    assert model.layers[1].get_weights()[1].tolist() == [3.0]


def test_set_weights_changes_nothing_when_a_shape_differs():
    model = Sequential([Dense(2, input_shape=(3,)), Dense(1)])
    before = model.get_weights()
    bad = [np.zeros(w.shape, "float32") for w in before[:-1]] + [np.zeros((2,), "float32")]
    with pytest.raises(ValueError, match="expected weight 3 of shape"):
        model.set_weights(bad)
    for old, new in zip(before, model.get_weights()):
        np.testing.assert_array_equal(old, new)


def test_config_round_trip_gives_the_same_outputs():
    model = _spec_example_2()
    clone = model_from_json(model.to_json())
    clone.set_weights(model.get_weights())
    assert clone.get_config() == model.get_config()
    x = torch.randn(2, 5, 10)
    torch.testing.assert_close(clone(x), model(x))
    assert json.loads(model.to_json())["class_name"] == "Sequential"


def test_add_validates_its_argument():
    model = Sequential([Dense(2, name="same")])
    with pytest.raises(TypeError, match="must be a layer"):
        model.add("dense")
    with pytest.raises(ValueError, match="unique names"):
        model.add(Dense(3, name="same"))
    with pytest.raises(ValueError, match="InputLayer must come first"):
        model.add(InputLayer(input_shape=(2,)))


def test_get_layer_and_pop():
    model = Sequential([Dense(2, name="a", input_shape=(3,)), Dropout(0.5, name="b")])
    assert model.get_layer("b") is model.get_layer(index=1)
    with pytest.raises(ValueError, match="no layer named 'c'"):
        model.get_layer("c")
    model.pop()
    assert [layer.name for layer in model.layers] == ["a"]


def test_summary_prints_keras_table(capsys):
    _spec_example_1().summary()
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith('Model: "sequential')
    assert out[2].split() == ["Layer", "(type)", "Output", "Shape", "Param", "#"]
    assert "(None, 5, 20)" in out[4] and out[4].split()[-1] == "1680"
    assert "Total params: 4265 (16.66 KB)" in out
    assert "Non-trainable params: 0 (0.00 Byte)" in out


def test_training_argument_reaches_dropout():
    model = Sequential([Dropout(0.5, input_shape=(100,))])
    x = torch.ones(1, 100)
    assert torch.equal(model(x, training=False), x)
    assert not torch.equal(model(x, training=True), x)
    model.eval()
    assert torch.equal(model(x), x)
