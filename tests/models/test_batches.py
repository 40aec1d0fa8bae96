"""fit, evaluate and predict on a PyTorch DataLoader or any other iterable of batches."""

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

from birnn.layers import LSTM, Bidirectional, Dense
from birnn.models import Sequential

X = torch.randn(20, 5, 3, generator=torch.Generator().manual_seed(0))
Y = torch.randn(20, 2, generator=torch.Generator().manual_seed(1))


def _model(seed=0):
    torch.manual_seed(seed)
    model = Sequential([Bidirectional(LSTM(4), input_shape=(5, 3)), Dense(2)])
    model.compile(loss="mse", optimizer="adam", metrics=["mae"])
    return model


def _loader(*tensors, batch_size=8):
    return DataLoader(TensorDataset(*tensors), batch_size=batch_size)


class _Batches:
    """An iterable of (x, y) batches without a length."""

    def __iter__(self):
        for start in range(0, 20, 8):
            yield X[start : start + 8], Y[start : start + 8]


def test_fit_on_a_loader_trains_exactly_as_on_the_same_arrays():
    on_arrays, on_loader = _model(), _model()
    expected = on_arrays.fit(
        X, Y, batch_size=8, epochs=2, shuffle=False, validation_data=(X, Y), verbose=0
    )
    history = on_loader.fit(_loader(X, Y), epochs=2, validation_data=_loader(X, Y), verbose=0)
    for got, want in zip(on_loader.get_weights(), on_arrays.get_weights(), strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    assert history.history.keys() == expected.history.keys()
    np.testing.assert_allclose(history.history["val_loss"], expected.history["val_loss"], 1e-5)


@pytest.mark.parametrize("batches", [_Batches, lambda: iter(list(_Batches()))])
def test_fit_takes_any_iterable_of_batches(batches):
    on_arrays, on_batches = _model(), _model()
    on_arrays.fit(X, Y, batch_size=8, shuffle=False, verbose=0)
    history = on_batches.fit(batches(), verbose=0)
    assert history.params["steps"] is None
    for got, want in zip(on_batches.get_weights(), on_arrays.get_weights(), strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_arrays_validate_a_loader_fit_and_a_loader_validates_an_array_fit():
    model = _model()
    history = model.fit(_loader(X, Y), validation_data=(X, Y), verbose=0)
    # Validation runs after the epoch's updates: it is what evaluate says on the same weights.
    after_first = model.evaluate(X, Y, verbose=0)
    history_2 = model.fit(X, Y, validation_data=_Batches(), verbose=0)
    after_second = model.evaluate(X, Y, verbose=0)
    for got, want in ((history.history, after_first), (history_2.history, after_second)):
        assert got["val_loss"][-1] == pytest.approx(want[0], rel=1e-5)
        assert got["val_mae"][-1] == pytest.approx(want[1], rel=1e-5)
    assert after_first != pytest.approx(after_second)


def test_evaluate_and_predict_on_loaders_equal_the_array_results():
    model = _model()
    assert model.evaluate(_loader(X, Y), verbose=0) == pytest.approx(
        model.evaluate(X, Y, verbose=0), rel=1e-6
    )
    expected = model.predict(X, verbose=0)
    for batches in (_loader(X), DataLoader(X, batch_size=8), _loader(X, Y), _Batches()):
        np.testing.assert_allclose(model.predict(batches, verbose=0), expected, rtol=1e-6)


def test_the_progress_bar_knows_the_steps_when_the_loader_has_a_length(capsys):
    model = _model()
    history = model.fit(_loader(X, Y), verbose=1)
    assert history.params["steps"] == 3
    assert "3/3 [" in capsys.readouterr().out
    model.fit(_Batches(), verbose=2)
    assert capsys.readouterr().out.startswith("3/3 - ")
    model.evaluate(_Batches(), verbose=1)
    assert "3/3 [" in capsys.readouterr().out


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda m: m.fit(DataLoader(X, batch_size=8)), "each batch must be a tuple (x, y)"),
        (lambda m: m.fit(DataLoader(X, batch_size=8)), "Received: batch 0, Tensor of shape"),
        (lambda m: m.evaluate(iter([(X,)])), "evaluate: each batch must be"),
        (lambda m: m.fit(iter([(X, Y, Y, Y)])), "Received: batch 0, tuple of length 4"),
        (lambda m: m.fit(iter([(X, Y, torch.ones(20))])), "sample weights are not supported"),
        (lambda m: m.fit(_loader(X, Y), Y), "y must be None when x is an iterable of batches"),
        (lambda m: m.fit(_loader(X, Y), batch_size=4), "batch_size must be None"),
        (lambda m: m.fit(TensorDataset(X, Y)), "wrap it in torch.utils.data.DataLoader"),
        (lambda m: m.fit(_loader(X, Y), validation_split=0.2), "validation_split needs"),
        (lambda m: m.fit(iter(list(_Batches())), epochs=2), "an iterator is used up"),
        (lambda m: m.fit(iter([("a", Y)])), "batch 0's x must be a numeric array"),
        (lambda m: m.fit(X, Y, validation_data=3), "Received: int."),
        (
            lambda m: m.fit(X, Y, validation_data=DataLoader(X, batch_size=8)),
            "fit: validation_data: each batch must be a tuple (x, y)",
        ),
    ],
)
def test_batches_of_the_wrong_structure_get_an_error_saying_what_was_expected(call, message):
    with pytest.raises(ValueError, match=None) as error:
        call(_model())
    assert message in str(error.value)
