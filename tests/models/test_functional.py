"""The Functional API: ``Input`` and ``Model(inputs, outputs)`` as Keras 2 users write them."""

from __future__ import annotations

import io
import json
from contextlib import redirect_stdout

import numpy as np
import pytest
import torch

import birnn
from birnn.layers import (
    GRU,
    LSTM,
    Add,
    Bidirectional,
    Concatenate,
    Dense,
    Dropout,
    Embedding,
    GlobalMaxPooling1D,
    Input,
    TimeDistributed,
)
from birnn.models import Functional, Model, Sequential, load_model, model_from_json

IDS = torch.tensor([[3, 5, 0, 0], [1, 2, 3, 4], [0, 0, 7, 1]])


def _tagger(name=None):
    ids = Input(shape=(None,), dtype="int32", name="ids")
    x = Embedding(10, 4, mask_zero=True, name="embed")(ids)
    x = Bidirectional(LSTM(3, return_sequences=True), name="bilstm")(x)
    out = TimeDistributed(Dense(2, activation="softmax"), name="tags")(x)
    return Model(ids, out, name=name)


def test_model_of_inputs_and_outputs_is_a_functional_module():
    model = _tagger()
    assert isinstance(model, Functional) and isinstance(model, torch.nn.Module)
    assert birnn.Model is Model and birnn.Input is Input
    out = model(IDS)
    assert out.shape == (3, 4, 2)
    assert torch.equal(out._keras_mask, IDS != 0)
    assert [type(layer).__name__ for layer in model.layers] == [
        "InputLayer",
        "Embedding",
        "Bidirectional",
        "TimeDistributed",
    ]
    assert model.output_shape == (None, None, 2)


def test_keras_tensors_have_keras_shapes():
    x = Input(shape=(None, 3))
    y = Bidirectional(GRU(4, return_sequences=True, return_state=True))(x)
    assert [t.shape for t in y] == [(None, None, 8), (None, 4), (None, 4)]
    with pytest.raises(TypeError, match="symbolic"):
        bool(x)


def test_masks_flow_and_merge_as_in_keras_2():
    ids = Input(shape=(4,), dtype="int32")
    dense_in = Input(shape=(4, 3))
    masked = Embedding(10, 3, mask_zero=True)(ids)
    unmasked = Dense(3)(dense_in)
    added = Add()([masked, unmasked])
    model = Model([ids, dense_in], [added, Concatenate()([masked, unmasked])])
    added_out, joined = model([IDS, torch.zeros(3, 4, 3)])
    # tf-keras: the AND of the masks that exist; an unmasked input does not count.
    assert torch.equal(added_out._keras_mask, IDS != 0)
    assert torch.equal(joined._keras_mask, IDS != 0)


def test_a_shared_layer_has_one_set_of_weights_and_numbered_calls():
    left, right = Input(shape=(4,), dtype="int32"), Input(shape=(4,), dtype="int32")
    embed = Embedding(10, 3, name="shared")
    encode = Bidirectional(LSTM(2), name="encode")
    merged = Concatenate()([encode(embed(left)), encode(embed(right))])
    model = Model([left, right], Dense(1)(merged))
    assert model.count_params() == 30 + 2 * (3 * 8 + 2 * 8 + 8) + 9
    config = model.get_config()
    nodes = {entry["name"]: entry["inbound_nodes"] for entry in config["layers"]}
    assert [node[0][:3] for node in nodes["encode"]] == [["shared", 0, 0], ["shared", 1, 0]]
    out = model([IDS, IDS.flip(1)])
    assert out.shape == (3, 1)


def test_nested_functional_and_sequential_models_are_layers():
    inner = _tagger(name="inner")
    head = Sequential([Dense(3, input_shape=(2,), name="head_dense")], name="head")
    ids = Input(shape=(4,), dtype="int32")
    out = head(inner(ids))
    model = Model(ids, out)
    assert model(IDS).shape == (3, 4, 3)
    # The mask leaves the nested model and passes through the Sequential head's Dense.
    assert torch.equal(model(IDS)._keras_mask, IDS != 0)
    again = Functional.from_config(model.get_config())
    again.set_weights(model.get_weights())
    torch.testing.assert_close(again(IDS), model(IDS))
    refs = [entry["inbound_nodes"] for entry in model.get_config()["layers"]]
    assert [["inner", 1, 0, {}]] in refs[-1]  # tf-keras numbers a nested model's calls from 1


def test_dict_inputs_and_outputs_by_name():
    tokens = Input(shape=(4,), dtype="int32", name="tokens")
    signal = Input(shape=(4, 2), name="signal")
    x = Bidirectional(GRU(2))(Embedding(10, 3)(tokens))
    model = Model(
        {"tokens": tokens, "signal": signal},
        {"score": Dense(1, name="score")(x), "level": Dense(1, name="level")(signal)},
    )
    out = model({"signal": torch.ones(3, 4, 2), "tokens": IDS})
    assert set(out) == {"score", "level"} and out["level"].shape == (3, 4, 1)
    assert model.output_names == ["score", "level"]
    predicted = model.predict({"tokens": IDS.numpy(), "signal": np.ones((3, 4, 2))}, verbose=0)
    assert predicted["score"].shape == (3, 1)


def test_initial_state_from_another_layer_round_trips_as_tf_keras_writes_it():
    ids = Input(shape=(4,), dtype="int32")
    steps = Input(shape=(3, 2))
    _, h, c = LSTM(3, return_state=True, name="encoder")(Embedding(10, 2)(ids))
    decoded = LSTM(3, return_sequences=True, name="decoder")(steps, initial_state=[h, c])
    model = Model([ids, steps], decoded)
    nodes = {e["name"]: e["inbound_nodes"] for e in model.get_config()["layers"]}
    # tf-keras passes an RNN's initial states as extra inputs of its call.
    assert [entry[:3] for entry in nodes["decoder"][0]] == [
        [model.input_names[1], 0, 0],
        ["encoder", 0, 1],
        ["encoder", 0, 2],
    ]
    again = model_from_json(model.to_json())
    again.set_weights(model.get_weights())
    inputs = [IDS, torch.randn(3, 3, 2)]
    torch.testing.assert_close(again(inputs), model(inputs))


def test_training_argument_given_in_the_graph_wins():
    x = Input(shape=(20,))
    model = Model(x, Dropout(0.5)(x, training=True))
    model.eval()
    out = model(torch.ones(4, 20))
    assert (out == 0).any()
    # Inverted dropout: the kept units are scaled by 1 / (1 - rate).
    assert set(out.unique().tolist()) == {0.0, 2.0}
    plain = Model(x, Dropout(0.5)(x))
    plain.eval()
    assert torch.equal(plain(torch.ones(4, 20)), torch.ones(4, 20))


def test_weights_come_in_keras_layer_order_and_set_back():
    model = _tagger()
    weights = model.get_weights()
    assert [w.shape for w in weights] == [
        (10, 4),
        (4, 12),
        (3, 12),
        (12,),
        (4, 12),
        (3, 12),
        (12,),
        (6, 2),
        (2,),
    ]
    model.set_weights([np.zeros_like(w) for w in weights])
    assert float(model(IDS).detach().sum()) == pytest.approx(3 * 4 * 1.0)


def test_save_and_load_in_birnn_format(tmp_path):
    model = _tagger()
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    model.save(tmp_path / "tagger.birnn")
    loaded = load_model(tmp_path / "tagger.birnn")
    assert isinstance(loaded, Functional)
    torch.testing.assert_close(loaded(IDS), model.eval()(IDS))
    assert loaded._metric_names == ["accuracy"]


def test_fit_with_a_loss_per_output_and_loss_weights():
    torch.manual_seed(0)
    ids = Input(shape=(4,), dtype="int32")
    x = Bidirectional(LSTM(4))(Embedding(10, 4, mask_zero=True)(ids))
    model = Model(ids, [Dense(2, activation="softmax", name="cls")(x), Dense(1, name="reg")(x)])
    model.compile(
        "adam",
        {"cls": "sparse_categorical_crossentropy", "reg": "mse"},
        loss_weights={"cls": 1.0, "reg": 0.5},
        metrics={"cls": ["accuracy"]},
    )
    x_data = np.random.default_rng(0).integers(0, 10, (32, 4))
    targets = {"cls": (x_data[:, 0] > 4).astype("int64"), "reg": x_data[:, :1] / 10.0}
    history = model.fit(x_data, targets, epochs=3, batch_size=8, verbose=0)
    assert list(history.history) == ["loss", "cls_loss", "reg_loss", "cls_accuracy"]
    logs = model.evaluate(x_data, [targets["cls"], targets["reg"]], verbose=0, return_dict=True)
    assert logs["loss"] == pytest.approx(logs["cls_loss"] + 0.5 * logs["reg_loss"], rel=1e-5)
    assert history.history["loss"][-1] < history.history["loss"][0]


def test_summary_shows_connections():
    left, right = Input(shape=(4,), name="left"), Input(shape=(4,), name="right")
    model = Model([left, right], Dense(1, name="out")(Concatenate(name="join")([left, right])))
    buffer = io.StringIO()
    with redirect_stdout(buffer):
        model.summary()
    text = buffer.getvalue()
    assert "Connected to" in text
    # As tf-keras prints it: one connection per line.
    assert "0         ['left[0][0]',                \n" in text
    assert (
        "\n                                                                     'right[0][0]']"
        in text
    )
    assert " left (InputLayer)" in text and "[(None, 4)]" in text


def test_config_is_what_tf_keras_writes():
    model = _tagger(name="tagger")
    config = json.loads(model.to_json())
    assert config["class_name"] == "Functional"
    assert config["config"]["input_layers"] == [["ids", 0, 0]]
    assert config["config"]["output_layers"] == [["tags", 0, 0]]
    assert config["config"]["layers"][2]["inbound_nodes"] == [[["embed", 0, 0, {}]]]


def test_bad_graphs_are_refused():
    x = Input(shape=(3,))
    with pytest.raises(ValueError, match="inputs must come from Input"):
        Model(Dense(2)(x), Dense(1)(x))
    other = Input(shape=(3,), name="other")
    with pytest.raises(ValueError, match="need the input 'other'"):
        Model(x, Add()([x, other]))
    with pytest.raises(ValueError, match="outputs must be KerasTensors"):
        Model(x, torch.zeros(1))
    model = Model([x, other], Add()([x, other]))
    with pytest.raises(ValueError, match="expects 2 inputs"):
        model(torch.zeros(2, 3))


def test_global_max_pooling_head_trains():
    ids = Input(shape=(None,), dtype="int32")
    x = Bidirectional(LSTM(4, return_sequences=True))(Embedding(10, 4)(ids))
    model = Model(ids, Dense(1, activation="sigmoid")(GlobalMaxPooling1D()(x)))
    model.compile("adam", "binary_crossentropy")
    before = [w.copy() for w in model.get_weights()]
    losses = [model.train_on_batch(IDS.numpy(), np.ones((3, 1))) for _ in range(5)]
    assert np.isfinite(losses).all()
    assert losses[-1] < losses[0]
    # Every weight moved: the gradient reaches the embedding through the max pooling.
    for got, old in zip(model.get_weights(), before, strict=True):
        assert not np.array_equal(got, old)
