"""Masking: the mask it computes and the zeros it writes."""

from __future__ import annotations

import torch

from birnn.layers import LSTM, Bidirectional, Masking


def test_masking_marks_steps_whose_features_all_equal_the_value():
    x = torch.tensor([[[-1.0, -1.0], [-1.0, 2.0], [3.0, 3.0]]])
    layer = Masking(mask_value=-1.0)
    assert layer.compute_mask(x).tolist() == [[False, True, True]]
    assert layer(x)[0, 0].tolist() == [0.0, 0.0]
    assert layer(x)[0, 1].tolist() == [-1.0, 2.0]


def test_masking_mask_makes_a_bidirectional_skip_padding():
    torch.manual_seed(0)
    x = torch.randn(1, 4, 3)
    padded = torch.cat([x, torch.zeros(1, 2, 3)], dim=1)
    masking = Masking()
    layer = Bidirectional(LSTM(2))
    expected = layer(x)
    got = layer(masking(padded), mask=masking.compute_mask(padded))
    torch.testing.assert_close(got, expected)


def test_masking_config_round_trips():
    config = Masking(0.5, name="m").get_config()
    assert config == {"name": "m", "trainable": True, "dtype": "float32", "mask_value": 0.5}
    assert Masking.from_config(config).mask_value == 0.5
