"""Losses: Keras 2's formulas, clipping, logits shortcut and masked reduction."""

from __future__ import annotations

import pytest
import torch

from birnn import losses
from birnn.layers import Activation, Dense


def test_categorical_crossentropy_clips_probabilities():
    y_true = torch.tensor([[1.0, 0.0]])
    assert float(losses.categorical_crossentropy(y_true, torch.tensor([[0.0, 1.0]]))) == (
        pytest.approx(-torch.log(torch.tensor(1e-7)).item(), rel=1e-5)
    )


def test_softmax_outputs_use_their_logits_as_tf_keras_does():
    logits = torch.tensor([[30.0, -30.0]])
    probabilities = Activation("softmax")(logits)
    y_true = torch.tensor([[0.0, 1.0]])
    assert float(losses.categorical_crossentropy(y_true, probabilities)) == pytest.approx(60.0)
    clipped = losses.categorical_crossentropy(y_true, probabilities.detach().clone())
    assert float(clipped) == pytest.approx(16.118, rel=1e-3)


def test_sparse_matches_categorical_on_one_hot_targets():
    torch.manual_seed(0)
    y_pred = torch.softmax(torch.randn(3, 4, 5), -1)
    labels = torch.randint(0, 5, (3, 4))
    one_hot = torch.nn.functional.one_hot(labels, 5).float()
    torch.testing.assert_close(
        losses.sparse_categorical_crossentropy(labels, y_pred),
        losses.categorical_crossentropy(one_hot, y_pred),
    )
    torch.testing.assert_close(
        losses.sparse_categorical_crossentropy(labels.unsqueeze(-1), y_pred),
        losses.categorical_crossentropy(one_hot, y_pred),
    )


def test_binary_crossentropy_on_probabilities_and_on_sigmoid_logits():
    y_true = torch.tensor([[1.0, 0.0, 1.0]])
    x = torch.tensor([[0.3, -1.2, 2.0]])
    expected = torch.nn.functional.binary_cross_entropy(torch.sigmoid(x), y_true)
    torch.testing.assert_close(losses.binary_crossentropy(y_true, torch.sigmoid(x))[0], expected)
    y_pred = Dense(3, activation="sigmoid")(x)
    on_logits = torch.nn.functional.binary_cross_entropy_with_logits(
        y_pred._keras_logits, y_true, reduction="none"
    ).mean(-1)
    torch.testing.assert_close(losses.binary_crossentropy(y_true, y_pred), on_logits)


def test_regression_losses_reduce_the_last_axis():
    y_true, y_pred = torch.zeros(2, 3, 4), torch.ones(2, 3, 4) * 2
    assert losses.mean_squared_error(y_true, y_pred).tolist() == [[4.0] * 3] * 2
    assert losses.mean_absolute_error(y_true, y_pred).shape == (2, 3)


def test_reduce_loss_averages_over_valid_entries_only():
    values = torch.tensor([[1.0, 2.0, 100.0], [3.0, 100.0, 100.0]])
    mask = torch.tensor([[True, True, False], [True, False, False]])
    assert float(losses.reduce_loss(values, mask)) == pytest.approx(2.0)
    assert float(losses.reduce_loss(values, torch.zeros_like(mask))) == 0.0
    with pytest.raises(ValueError, match="mask must have the losses' shape"):
        losses.reduce_loss(values, mask[:, :2])


def test_get_resolves_names_class_names_and_options():
    assert losses.get("mse") is losses.mean_squared_error
    assert losses.get("MeanAbsoluteError") is losses.mean_absolute_error
    from_logits = losses.get(
        {"class_name": "CategoricalCrossentropy", "config": {"from_logits": True, "axis": -1}}
    )
    y_true = torch.tensor([[0.0, 1.0]])
    assert float(from_logits(y_true, torch.tensor([[0.0, 0.0]]))) == pytest.approx(0.6931, 1e-4)
    with pytest.raises(ValueError, match="loss must be one of"):
        losses.get("hinge_xl")
    with pytest.raises(ValueError, match="unsupported option"):
        losses.get({"class_name": "CategoricalCrossentropy", "config": {"axis": 1}})
