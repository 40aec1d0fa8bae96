"""Shaping layers: tf-keras 2.21 parity, configs, shapes and errors."""

from __future__ import annotations

import pytest
import torch

from birnn.layers import Cropping1D, Flatten, Permute, RepeatVector, Reshape, ZeroPadding1D

from .layer_cases import case_ids, check_config_round_trip, run_case

CASES = case_ids("reshape", "flatten", "permute", "repeat_vector", "zero_padding1d", "cropping1d")


@pytest.mark.parametrize("case_id", CASES)
def test_matches_tf_keras_and_config_round_trips(case_id):
    run_case(case_id)
    check_config_round_trip(case_id)


@pytest.mark.parametrize(
    "layer, shape",
    [
        (Reshape((-1, 2)), (3, 4, 6)),
        (Flatten(), (3, 4, 6)),
        (Flatten(), (3,)),
        (Permute((3, 1, 2)), (2, 3, 4, 5)),
        (RepeatVector(4), (2, 3)),
        (ZeroPadding1D((2, 1)), (2, 3, 4)),
        (Cropping1D((1, 2)), (2, 5, 4)),
    ],
)
def test_compute_output_shape_matches_the_output(layer, shape):
    assert tuple(layer(torch.randn(shape)).shape) == layer.compute_output_shape(shape)


def test_masks_stop_at_shaping_layers_as_in_tf_keras_2():
    x, mask = torch.zeros(1, 3, 2), torch.ones(1, 3, dtype=torch.bool)
    for layer in (Reshape((6,)), Flatten(), Permute((2, 1)), ZeroPadding1D(), Cropping1D()):
        assert layer.compute_mask(x, mask) is None


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: Reshape((-1, -1)), "at most one -1"),
        (lambda: Reshape((5,))(torch.zeros(2, 6)), "cannot be reshaped to target_shape"),
        (lambda: Permute((1, 3)), "dims must be a permutation"),
        (lambda: Permute((2, 1))(torch.zeros(2, 3)), "expected inputs of rank 3"),
        (lambda: RepeatVector(0), "n must be a positive integer"),
        (lambda: RepeatVector(2)(torch.zeros(2, 3, 4)), r"rank 2 \(batch, features\)"),
        (lambda: ZeroPadding1D((1, 2, 3)), "padding must be an int or a tuple of 2 ints"),
        (lambda: Cropping1D(3)(torch.zeros(1, 5, 2)), "removes more steps"),
    ],
)
def test_bad_inputs_say_what_was_expected(call, message):
    with pytest.raises(ValueError, match=message):
        call()
