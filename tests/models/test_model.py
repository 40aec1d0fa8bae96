"""The training API: compile, fit, evaluate, predict, masks in the loss, regularization."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from birnn import losses, optimizers
from birnn.layers import GRU, Bidirectional, Dense, Embedding, TimeDistributed
from birnn.models import History, Sequential


def _regression_model(**dense_kwargs):
    return Sequential([Dense(1, input_shape=(3,), **dense_kwargs)])


def _regression_data(n=32):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(n, 3)).astype("float32")
    y = x @ np.array([[1.0], [-2.0], [0.5]], "float32") + 0.3
    return x, y


def _tagger():
    return Sequential(
        [
            Embedding(10, 4, mask_zero=True, input_length=None),
            Bidirectional(GRU(3, return_sequences=True), merge_mode="sum"),
            TimeDistributed(Dense(3, activation="softmax")),
        ]
    )


def test_fit_returns_a_history_and_reduces_the_loss():
    model = _regression_model()
    model.compile(optimizer="adam", loss="mse", metrics=["mae"])
    x, y = _regression_data()
    history = model.fit(x, y, epochs=3, batch_size=8, verbose=0)
    assert isinstance(history, History)
    assert list(history.history) == ["loss", "mae"] and history.epoch == [0, 1, 2]
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert history.params == {"verbose": 0, "epochs": 3, "steps": 4}


def test_fit_reports_validation_metrics_from_split_or_data():
    model = _regression_model()
    model.compile(optimizer="sgd", loss="mse", metrics=["mse"])
    x, y = _regression_data(40)
    split = model.fit(x, y, epochs=1, validation_split=0.25, verbose=0).history
    assert set(split) == {"loss", "mse", "val_loss", "val_mse"}
    expected = model.evaluate(x[30:], y[30:], verbose=0)
    assert split["val_loss"][0] == pytest.approx(expected[0], rel=1e-6)
    given = model.fit(x, y, epochs=1, validation_data=(x[:5], y[:5]), verbose=0).history
    assert "val_loss" in given


def test_loss_is_the_batch_size_weighted_mean_of_batch_losses():
    model = _regression_model()
    model.compile(optimizer=optimizers.SGD(0.0), loss="mse")
    x, y = _regression_data(10)
    logged = model.fit(x, y, batch_size=4, epochs=1, shuffle=False, verbose=0).history
    y_pred = torch.tensor(model.predict(x, verbose=0))
    full = float(losses.mean_squared_error(torch.tensor(y), y_pred).mean())
    assert logged["loss"][0] == pytest.approx(full, rel=1e-5)


def test_masked_steps_do_not_count_in_the_loss_or_the_accuracy():
    torch.manual_seed(0)
    model = _tagger()
    model.compile(optimizer="rmsprop", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    ids = np.array([[3, 4, 5, 0, 0], [1, 2, 0, 0, 0]])
    y = np.array([[0, 1, 2, 0, 0], [2, 1, 0, 0, 0]])
    loss, accuracy = model.evaluate(ids, y, verbose=0)
    y_other_padding = y.copy()
    y_other_padding[:, 3:] = 2
    assert model.evaluate(ids, y_other_padding, verbose=0) == [loss, accuracy]
    predictions = model.predict(ids, verbose=0)
    valid = ids != 0
    per_step = -np.log(np.take_along_axis(predictions, y[..., None], -1)[..., 0])
    assert loss == pytest.approx(per_step[valid].mean(), rel=1e-5)
    hits = predictions.argmax(-1) == y
    assert accuracy == pytest.approx(hits[valid].mean())


def test_regularization_losses_are_added_and_constraints_applied():
    model = _regression_model(kernel_regularizer={"class_name": "L2", "config": {"l2": 0.5}})
    model.compile(optimizer="sgd", loss="mse")
    x, y = _regression_data(8)
    kernel = model.layers[0].get_weights()[0]
    data_loss = float(np.mean((model.predict(x, verbose=0) - y) ** 2))
    assert model.evaluate(x, y, verbose=0) == pytest.approx(
        data_loss + 0.5 * float((kernel**2).sum()), rel=1e-5
    )
    constrained = _regression_model(kernel_constraint="non_neg")
    constrained.compile(optimizer=optimizers.SGD(1.0), loss="mse")
    constrained.fit(x, y, epochs=1, verbose=0)
    assert constrained.layers[0].get_weights()[0].min() >= 0.0


def test_integer_inputs_stay_integer_and_float64_becomes_float32():
    model = _tagger()
    assert model.predict(np.array([[1, 2, 3]]), verbose=0).dtype == np.float32
    dense = _regression_model()
    assert dense.predict(np.zeros((2, 3), dtype=np.float64), verbose=0).dtype == np.float32


def test_predict_batches_and_restores_the_training_mode():
    model = _regression_model()
    model.train()
    x, _ = _regression_data(70)
    out = model.predict(x, batch_size=32, verbose=0)
    np.testing.assert_allclose(out, model(torch.tensor(x)).detach().numpy(), rtol=1e-6)
    assert model.training


@pytest.mark.parametrize(
    "optimizer",
    [
        "adam",
        {"class_name": "RMSprop", "config": {"learning_rate": 0.01}},
        optimizers.Adagrad(0.1),
        lambda params: torch.optim.SGD(params, lr=0.01),
    ],
    ids=["name", "dict", "keras_object", "factory"],
)
def test_compile_accepts_keras_and_torch_optimizers(optimizer):
    model = _regression_model()
    model.compile(optimizer=optimizer, loss="mse")
    x, y = _regression_data(8)
    before = model.get_weights()[0].copy()
    model.fit(x, y, epochs=1, verbose=0)
    assert not np.array_equal(before, model.get_weights()[0])


def test_compile_accepts_a_torch_optimizer_instance():
    model = _regression_model()
    model.compile(optimizer=torch.optim.Adam(model.parameters(), lr=0.1), loss="mae")
    x, y = _regression_data(8)
    assert model.train_on_batch(x, y) == pytest.approx(model.test_on_batch(x, y), abs=1.0)


def test_train_and_test_on_batch_return_loss_and_metrics():
    model = _regression_model()
    model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
    x, y = _regression_data(8)
    assert len(model.train_on_batch(x, y)) == 2
    assert set(model.test_on_batch(x, y, return_dict=True)) == {"loss", "mae"}


def test_progress_bar_and_epoch_lines_go_to_stdout(capsys):
    model = _regression_model()
    model.compile(optimizer="sgd", loss="mse")
    x, y = _regression_data(8)
    model.fit(x, y, epochs=2, batch_size=4)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "Epoch 1/2"
    assert lines[1].startswith("2/2 [==============================] - ")
    assert " - loss: " in lines[1] and lines[2] == "Epoch 2/2"


def test_errors_name_the_argument():
    model = _regression_model()
    x, y = _regression_data(8)
    with pytest.raises(ValueError, match="needs a loss"):
        model.fit(x, y, verbose=0)
    model.compile(loss="mse")
    with pytest.raises(ValueError, match="same number of samples"):
        model.fit(x, y[:4], verbose=0)
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        model.fit(x, y, batch_size=0, verbose=0)
    with pytest.raises(ValueError, match="sample_weight is not supported"):
        model.fit(x, y, sample_weight=np.ones(8), verbose=0)
    with pytest.raises(ValueError, match="validation_split must be a float"):
        model.fit(x, y, validation_split=1.5, verbose=0)
    with pytest.raises(ValueError, match="verbose must be"):
        model.predict(x, verbose=3)
    with pytest.raises(ValueError, match="loss must be one of"):
        model.compile(loss="hinge_xl")
