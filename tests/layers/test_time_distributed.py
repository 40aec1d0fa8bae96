"""TimeDistributed: per-step application, weights, masks and configs."""

from __future__ import annotations

import numpy as np
import torch

from birnn.layers import Dense, Masking, TimeDistributed, deserialize, serialize


def test_time_distributed_equals_the_layer_on_each_step():
    layer = TimeDistributed(Dense(3))
    x = torch.randn(2, 5, 4)
    y = layer(x)
    for t in range(5):
        torch.testing.assert_close(y[:, t], layer.layer(x[:, t]))


def test_time_distributed_weights_are_the_wrapped_layers():
    layer = TimeDistributed(Dense(3), input_shape=(5, 4))
    assert [w.shape for w in layer.get_weights()] == [(4, 3), (3,)]
    assert layer.compute_output_shape((None, 5, 4)) == (None, 5, 3)


def test_time_distributed_passes_the_mask_or_its_layers_per_step_mask():
    x = torch.zeros(2, 3, 4, 2)
    x[0, 0, 1] = 1.0
    mask = torch.tensor([[True, True, False], [True, False, False]])
    assert torch.equal(TimeDistributed(Dense(2)).compute_mask(torch.zeros(2, 3, 4), mask), mask)
    per_step = TimeDistributed(Masking()).compute_mask(x)
    assert per_step.tolist() == [[True, False, False], [False, False, False]]


def test_time_distributed_config_round_trips():
    layer = TimeDistributed(Dense(2, name="inner"), name="td")
    config = serialize(layer)
    assert config["config"]["layer"]["class_name"] == "Dense"
    clone = deserialize(config)
    assert isinstance(clone, TimeDistributed) and clone.layer.units == 2
    assert clone.get_config() == layer.get_config()


def test_deserialize_reads_the_build_config_tf_keras_writes():
    # tf-keras 2.21: TimeDistributed(Dense(2)).build((3, 4, 5)) serializes the wrapped layer's
    # shape (3, 5) as TimeDistributed's own build_config (found by tools/fuzz_keras.py).
    dense = {"class_name": "Dense", "config": {"units": 2}, "build_config": {"input_shape": [3, 5]}}
    layer = deserialize(
        {
            "class_name": "TimeDistributed",
            "config": {"name": "td", "layer": dense},
            "build_config": {"input_shape": [3, 5]},
        }
    )
    assert layer.built and [tuple(w.shape) for w in layer.weights] == [(5, 2), (2,)]
    layer.set_weights([np.ones((5, 2), np.float32), np.zeros(2, np.float32)])
    assert torch.equal(layer(torch.ones(3, 4, 5)), torch.full((3, 4, 2), 5.0))
