"""BatchNormalization and LayerNormalization: tf-keras 2.21 parity (training and inference,
masks, moving statistics), weights' order, configs and errors."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from birnn.layers import BatchNormalization, LayerNormalization

from .layer_cases import case_ids, check_config_round_trip, run_case

CASES = case_ids("batch_normalization", "layer_normalization")


@pytest.mark.parametrize("case_id", CASES)
def test_matches_tf_keras_and_config_round_trips(case_id):
    run_case(case_id)
    check_config_round_trip(case_id)


def test_weights_are_gamma_beta_then_the_non_trainable_moving_statistics():
    layer = BatchNormalization(input_shape=(5, 3))
    assert [tuple(w.shape) for w in layer.weights] == [(3,)] * 4
    assert [
        w is getattr(layer, n)
        for w, n in zip(layer.weights, ["gamma", "beta", "moving_mean", "moving_variance"])
    ] == [True] * 4
    assert len(layer.trainable_weights) == 2 and len(layer.non_trainable_weights) == 2
    layer.trainable = False
    layer.trainable = True  # the moving statistics stay untrainable
    assert [w.requires_grad for w in layer.weights] == [True, True, False, False]


def test_keras_momentum_convention_and_inference_uses_moving_statistics():
    layer = BatchNormalization(momentum=0.75, epsilon=0.0, center=False, scale=False)
    x = torch.tensor([[1.0], [3.0]])
    layer(x, training=True)
    torch.testing.assert_close(layer.moving_mean, torch.tensor([0.5]))  # 0*0.75 + 2*0.25
    torch.testing.assert_close(layer.moving_variance, torch.tensor([1.0]))  # 1*0.75 + 1*0.25
    layer.eval()
    torch.testing.assert_close(layer(x), (x - 0.5) / 1.0)


def test_frozen_batch_normalization_uses_moving_statistics_even_while_training():
    layer = BatchNormalization(trainable=False, epsilon=0.0)
    x = torch.randn(4, 3) * 5 + 2
    torch.testing.assert_close(layer(x, training=True), x)
    assert torch.equal(layer.moving_mean, torch.zeros(3))


def test_config_writes_the_axis_as_keras_does_before_and_after_build():
    layer = LayerNormalization()
    assert layer.get_config()["axis"] == -1
    layer(torch.zeros(2, 3, 4))
    assert layer.get_config()["axis"] == [2]


def test_masks_pass_through():
    mask = torch.tensor([[True, False]])
    x = torch.zeros(1, 2, 3)
    assert BatchNormalization().compute_mask(x, mask) is mask
    assert LayerNormalization().compute_mask(x, mask) is mask


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: BatchNormalization(axis="x"), "axis must be an int or a list of ints"),
        (lambda: BatchNormalization(renorm=True), "renorm is not supported"),
        (lambda: BatchNormalization(virtual_batch_size=2), "virtual_batch_size is not supported"),
        (lambda: LayerNormalization(epsilon=-1.0), "epsilon must be a number >= 0"),
        (lambda: BatchNormalization(axis=0)(torch.zeros(2, 3)), "distinct non-batch axes"),
        (lambda: LayerNormalization(axis=[1, -1])(torch.zeros(2, 3)), "distinct non-batch axes"),
    ],
)
def test_bad_arguments_are_named(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_inputs_of_another_size_are_refused():
    layer = LayerNormalization()
    layer(torch.zeros(2, 3))
    with pytest.raises(ValueError, match=r"sizes \[3\] on axes \[1\]"):
        layer(torch.zeros(2, 4))


@settings(max_examples=20, deadline=None)
@given(batch=st.integers(2, 5), steps=st.integers(1, 4), seed=st.integers(0, 1000))
def test_normalized_outputs_have_zero_mean_and_unit_variance(batch, steps, seed):
    x = torch.randn(batch, steps, 3, generator=torch.Generator().manual_seed(seed)) * 3 + 1
    layer_out = LayerNormalization(epsilon=0.0)(x)
    torch.testing.assert_close(layer_out.mean(-1), torch.zeros(batch, steps), atol=1e-5, rtol=0)
    batch_out = BatchNormalization(epsilon=0.0)(x, training=True)
    # float32 round-off over a few rows reaches ~3e-5 (hypothesis found batch=2, steps=1).
    torch.testing.assert_close(batch_out.mean((0, 1)), torch.zeros(3), atol=1e-4, rtol=0)
    variance = batch_out.var((0, 1), unbiased=False)
    assert bool(((variance - 1).abs() < 1e-3).all() | (x.var((0, 1)) < 1e-6).all())
