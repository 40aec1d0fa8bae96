"""Embedding: lookups, masks, configs and errors."""

from __future__ import annotations

import pytest
import torch

from birnn import initializers
from birnn.layers import Embedding, deserialize


def test_embedding_looks_up_rows():
    layer = Embedding(5, 3)
    ids = torch.tensor([[1, 4], [0, 1]])
    table = layer.embeddings.detach()
    torch.testing.assert_close(layer(ids), table[ids])


def test_embedding_default_initializer_is_keras_uniform():
    layer = Embedding(100, 20)
    assert isinstance(layer.embeddings_initializer, initializers.RandomUniform)
    assert float(layer.embeddings.detach().abs().max()) <= 0.05


def test_embedding_mask_zero_masks_padding_and_passes_no_mask_otherwise():
    ids = torch.tensor([[3, 1, 0, 0]])
    assert Embedding(5, 2, mask_zero=True).compute_mask(ids).tolist() == [
        [True, True, False, False]
    ]
    assert Embedding(5, 2).compute_mask(ids, torch.ones(1, 4, dtype=torch.bool)) is None


def test_embedding_casts_float_ids():
    layer = Embedding(5, 2)
    torch.testing.assert_close(layer(torch.tensor([[2.0]])), layer(torch.tensor([[2]])))


def test_embedding_rejects_ids_out_of_range():
    with pytest.raises(ValueError, match=r"ids must be in \[0, 5\)"):
        Embedding(5, 2)(torch.tensor([[5]]))


@pytest.mark.parametrize("sizes", [(0, 2), (3, -1), (2.0, 2)])
def test_embedding_rejects_bad_sizes(sizes):
    with pytest.raises(ValueError, match="must be a positive integer"):
        Embedding(*sizes)


def test_embedding_config_has_keras_keys_and_round_trips():
    layer = Embedding(50, 8, mask_zero=True, input_length=9, name="emb")
    config = layer.get_config()
    assert list(config) == [
        "name",
        "trainable",
        "dtype",
        "batch_input_shape",
        "input_dim",
        "output_dim",
        "embeddings_initializer",
        "embeddings_regularizer",
        "activity_regularizer",
        "embeddings_constraint",
        "mask_zero",
        "input_length",
    ]
    assert config["batch_input_shape"] == [None, 9]
    clone = deserialize({"class_name": "Embedding", "config": config})
    assert clone.get_config() == config
    assert clone.get_weights()[0].shape == (50, 8)
