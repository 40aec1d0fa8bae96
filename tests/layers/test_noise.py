"""SpatialDropout1D/2D, GaussianNoise, GaussianDropout: inference parity, masks, configs,
and the training-time noise's statistics."""

from __future__ import annotations

import pytest
import torch

from birnn.layers import GaussianDropout, GaussianNoise, SpatialDropout1D, SpatialDropout2D

from .layer_cases import case_ids, check_config_round_trip, run_case

CASES = case_ids("spatial_dropout1d", "spatial_dropout2d", "gaussian_noise", "gaussian_dropout")


@pytest.mark.parametrize("case_id", CASES)
def test_matches_tf_keras_and_config_round_trips(case_id):
    run_case(case_id)
    check_config_round_trip(case_id)


def test_spatial_dropout_drops_whole_channels_and_keeps_the_mean():
    x = torch.ones(200, 6, 8)
    y = SpatialDropout1D(0.25, seed=3)(x, training=True)
    assert bool((y == y[:, :1]).all())
    assert len(y.unique()) == 2 and y.min() == 0 and abs(y.max().item() - 1 / 0.75) < 1e-6
    assert abs(y.mean().item() - 1.0) < 0.05
    z = SpatialDropout2D(0.5, data_format="channels_first")(torch.ones(50, 4, 3, 3), training=True)
    assert bool((z == z[:, :, :1, :1]).all())


def test_gaussian_layers_have_keras_statistics_while_training_only():
    x = torch.ones(100_000)
    noisy = GaussianNoise(0.5, seed=1)(x, training=True)
    assert abs(noisy.mean().item() - 1) < 0.01 and abs(noisy.std().item() - 0.5) < 0.01
    dropped = GaussianDropout(0.2, seed=1)(x, training=True)
    assert abs(dropped.std().item() - (0.2 / 0.8) ** 0.5) < 0.01
    assert torch.equal(GaussianNoise(0.5)(x, training=False), x)


def test_seeded_noise_repeats_with_the_seed():
    a = GaussianNoise(1.0, seed=7)(torch.zeros(5), training=True)
    b = GaussianNoise(1.0, seed=7)(torch.zeros(5), training=True)
    assert torch.equal(a, b)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: SpatialDropout1D(1.5), "rate must be a float in"),
        (lambda: GaussianNoise(-1.0), "stddev must be a number >= 0"),
        (lambda: GaussianDropout(1.0), r"rate must be a float in \[0, 1\)"),
        (lambda: GaussianNoise(0.1, seed="x"), "seed must be an int"),
        (lambda: SpatialDropout1D(0.5)(torch.ones(2, 3), training=True), "rank 3"),
    ],
)
def test_bad_arguments_are_named(call, message):
    with pytest.raises(ValueError, match=message):
        call()
