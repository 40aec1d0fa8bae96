"""Dense, Activation and Dropout: shapes, weights, masks, configs and errors."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from birnn.layers import Activation, Dense, Dropout, deserialize, serialize

from ..conftest import load_golden_case


def test_dense_acts_on_the_last_axis_of_any_rank():
    layer = Dense(3)
    x = torch.randn(2, 4, 5, 6)
    y = layer(x)
    kernel, bias = (torch.tensor(w) for w in layer.get_weights())
    torch.testing.assert_close(y, x @ kernel + bias)


def test_dense_weights_are_kernel_then_bias_in_keras_layout():
    layer = Dense(4, input_shape=(3,))
    assert layer.built
    assert [w.shape for w in layer.get_weights()] == [(3, 4), (4,)]
    assert [w.shape for w in Dense(4, use_bias=False, input_dim=3).get_weights()] == [(3, 4)]


def test_dense_input_dim_is_the_whole_sample_shape():
    assert Dense(2, input_dim=7).get_config()["batch_input_shape"] == [None, 7]


def test_dense_casts_integer_inputs():
    assert Dense(2)(torch.ones(3, 4, dtype=torch.int64)).dtype == torch.float32


def test_dense_softmax_output_keeps_its_logits():
    layer = Dense(3, activation="softmax")
    y = layer(torch.randn(2, 4))
    torch.testing.assert_close(torch.softmax(y._keras_logits, -1), y)


@pytest.mark.parametrize("units", [0, -1, 2.5, "3", True])
def test_dense_rejects_bad_units(units):
    with pytest.raises(ValueError, match="units must be a positive integer"):
        Dense(units)


def test_dense_rejects_a_different_feature_size():
    layer = Dense(2, input_shape=(3,))
    with pytest.raises(ValueError, match="inputs must have 3 features"):
        layer(torch.ones(1, 4))


def test_dense_config_matches_keras_and_round_trips():
    spec, _ = load_golden_case("spec_example_1")
    keras_config = spec["config"]["config"]["layers"][3]
    layer = deserialize(keras_config)
    assert json.dumps(serialize(layer)["config"]) == json.dumps(keras_config["config"])
    clone = Dense.from_config(layer.get_config())
    assert clone.get_config() == layer.get_config()


def test_dense_regularizer_and_constraint_reach_losses_and_apply_constraints():
    layer = Dense(2, kernel_regularizer="l2", kernel_constraint="non_neg", input_dim=3)
    with torch.no_grad():
        layer.kernel.fill_(-1.0)
    assert float(layer.losses[0].detach()) == pytest.approx(0.01 * 6)
    layer.apply_constraints()
    assert float(layer.kernel.detach().min()) == 0.0


def test_activation_applies_the_named_function():
    x = torch.tensor([[-1.0, 2.0]])
    torch.testing.assert_close(Activation("relu")(x), torch.tensor([[0.0, 2.0]]))
    assert Activation("tanh").get_config()["activation"] == "tanh"
    assert Activation("softmax").get_weights() == []


def test_core_layers_pass_the_mask_on():
    mask = torch.tensor([[True, False]])
    x = torch.ones(1, 2, 3)
    for layer in (Dense(2), Activation("relu"), Dropout(0.5)):
        assert layer.compute_mask(x, mask) is mask


def test_dropout_is_identity_in_eval_and_scales_in_training():
    layer = Dropout(0.25)
    x = torch.ones(1000)
    assert torch.equal(layer.eval()(x), x)
    y = layer.train()(x)
    kept = y[y != 0]
    torch.testing.assert_close(kept, torch.full_like(kept, 1 / 0.75))
    assert 0.15 < float((y == 0).float().mean()) < 0.35


def test_dropout_noise_shape_shares_the_pattern_over_time():
    y = Dropout(0.5, noise_shape=(None, 1, None))(torch.ones(4, 6, 8), training=True)
    assert torch.equal(y, y[:, :1].expand_as(y))


def test_dropout_seed_makes_the_pattern_reproducible():
    x = torch.ones(50)
    first = Dropout(0.5, seed=3)(x, training=True)
    assert torch.equal(first, Dropout(0.5, seed=3)(x, training=True))


@pytest.mark.parametrize("rate", [-0.1, 1.5, "0.5", None])
def test_dropout_rejects_bad_rates(rate):
    with pytest.raises(ValueError, match=r"rate must be a float in \[0, 1\]"):
        Dropout(rate)


def test_dropout_config_round_trips():
    layer = Dropout(0.3, noise_shape=(None, 1, 4), seed=7, name="drop")
    config = layer.get_config()
    assert config == {
        "name": "drop",
        "trainable": True,
        "dtype": "float32",
        "rate": 0.3,
        "noise_shape": [None, 1, 4],
        "seed": 7,
    }
    assert Dropout.from_config(config).get_config() == config


def test_dense_gradients_match_a_manual_computation():
    layer = Dense(2, activation="tanh", input_dim=3)
    x = torch.randn(4, 3, dtype=torch.float32)
    layer(x).sum().backward()
    kernel, bias = (torch.tensor(w) for w in layer.get_weights())
    expected = (1 - torch.tanh(x @ kernel + bias) ** 2).sum(0)
    np.testing.assert_allclose(layer.bias.grad.numpy(), expected.numpy(), rtol=1e-5)
