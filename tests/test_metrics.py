"""Metrics: Keras 2's accuracy choice and the masked running mean."""

from __future__ import annotations

import pytest
import torch

from birnn import metrics


@pytest.mark.parametrize(
    "y_true, y_pred, expected",
    [
        (torch.zeros(4, 1), torch.zeros(4, 1), "binary_accuracy"),
        (torch.zeros(4), torch.zeros(4, 3), "sparse_categorical_accuracy"),
        (torch.zeros(4, 1), torch.zeros(4, 3), "sparse_categorical_accuracy"),
        (torch.zeros(4, 3), torch.zeros(4, 3), "categorical_accuracy"),
        (torch.zeros(4, 7), torch.zeros(4, 7, 3), "sparse_categorical_accuracy"),
    ],
)
def test_accuracy_picks_the_variant_keras_picks(y_true, y_pred, expected):
    assert metrics.get("accuracy", y_true, y_pred).__name__ == expected
    assert metrics.get("acc", y_true, y_pred).__name__ == expected


def test_accuracies_compare_as_keras_does():
    y_pred = torch.tensor([[0.1, 0.9], [0.8, 0.2]])
    assert metrics.categorical_accuracy(torch.tensor([[0, 1], [0, 1]]), y_pred).tolist() == [1, 0]
    assert metrics.sparse_categorical_accuracy(torch.tensor([[1], [0]]), y_pred).tolist() == [1, 1]
    assert metrics.binary_accuracy(torch.tensor([[1.0, 0.0]]), y_pred[:1]).tolist() == [0.0]


def test_mean_weights_values_by_the_mask():
    mean = metrics.Mean()
    mean.update(torch.tensor([[1.0, 0.0, 0.0]]), torch.tensor([[True, True, False]]))
    assert mean.result() == 0.5


def test_unknown_metrics_are_refused():
    with pytest.raises(ValueError, match="metrics must be names"):
        metrics.get("f1_score_xl", torch.zeros(1), torch.zeros(1))
