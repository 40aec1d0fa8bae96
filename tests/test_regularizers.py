"""Regularizers: Keras 2's names and defaults."""

import pytest
import torch

from birnn import regularizers


@pytest.mark.parametrize(
    "name, expected",
    [("l1", 0.04), ("l2", 0.04), ("l1_l2", 0.08), ("L1", 0.04), ("L2", 0.04), ("L1L2", 0.0)],
)
def test_names_use_keras_defaults(name, expected):
    penalty = regularizers.get(name)(torch.ones(2, 2))
    assert float(penalty) == pytest.approx(expected)


def test_config_round_trip():
    regularizer = regularizers.L1L2(l1=0.1, l2=0.2)
    restored = regularizers.get(regularizers.serialize(regularizer))
    assert restored.get_config() == {"l1": 0.1, "l2": 0.2}
