"""InputLayer: shapes, dtypes and configs in Keras 2's and Keras 3's spellings."""

from __future__ import annotations

import pytest
import torch

from birnn.layers import InputLayer, deserialize


def test_input_layer_config_is_keras_2s():
    layer = InputLayer(input_shape=(5, 10), name="x")
    assert layer.get_config() == {
        "batch_input_shape": [None, 5, 10],
        "dtype": "float32",
        "sparse": False,
        "ragged": False,
        "name": "x",
        "optional": False,
    }
    assert InputLayer.from_config(layer.get_config()).batch_input_shape == (None, 5, 10)


def test_input_layer_reads_keras_3_names_and_int_dtypes():
    layer = deserialize(
        {"class_name": "InputLayer", "config": {"batch_shape": [None, None], "dtype": "int32"}}
    )
    assert layer.batch_input_shape == (None, None)
    assert layer(torch.tensor([[1.0, 2.0]])).dtype == torch.int32


def test_input_layer_needs_exactly_one_shape():
    with pytest.raises(ValueError, match="exactly one of input_shape"):
        InputLayer()
    with pytest.raises(ValueError, match="exactly one of input_shape"):
        InputLayer(input_shape=(2,), batch_input_shape=(None, 2))


def test_input_layer_refuses_sparse_inputs():
    with pytest.raises(ValueError, match="sparse is not supported"):
        InputLayer(input_shape=(2,), sparse=True)
