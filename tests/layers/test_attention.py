"""Attention, AdditiveAttention and MultiHeadAttention: tf-keras 2.21 parity (weights' layout,
query/value/causal/attention masks, scores), configs and errors."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from birnn.layers import AdditiveAttention, Attention, MultiHeadAttention

from .layer_cases import case_ids, check_config_round_trip, run_case

CASES = case_ids("attention", "additive_attention", "multi_head_attention")


@pytest.mark.parametrize("case_id", CASES)
def test_matches_tf_keras_and_config_round_trips(case_id):
    run_case(case_id)
    check_config_round_trip(case_id)


def test_multi_head_attention_has_keras_weight_layout():
    layer = MultiHeadAttention(num_heads=3, key_dim=2, value_dim=4, output_shape=5)
    layer(torch.zeros(2, 4, 6), torch.zeros(2, 5, 7), key=torch.zeros(2, 5, 8))
    assert [w.shape for w in layer.get_weights()] == [
        (6, 3, 2), (3, 2), (8, 3, 2), (3, 2), (7, 3, 4), (3, 4), (3, 4, 5), (5,),
    ]  # fmt: skip
    assert layer.get_config()["query_shape"] == [2, 4, 6]


def test_multi_head_attention_reads_masks_left_on_tensors_like_tf_keras():
    layer = MultiHeadAttention(2, 3)
    query, value = torch.randn(2, 4, 6), torch.randn(2, 5, 6)
    value_mask = torch.tensor([[True, True, False, False, False]] * 2)
    explicit = layer(query, value, value_mask=value_mask)
    value._keras_mask = value_mask
    torch.testing.assert_close(layer(query, value), explicit)
    changed = value.clone()
    changed[:, 2:] = 9.0
    changed._keras_mask = value_mask
    torch.testing.assert_close(layer(query, changed), explicit)  # hidden steps do not count


def test_causal_attention_ignores_the_future():
    layer = Attention()
    query = value = torch.randn(1, 5, 3)
    out = layer([query, value], use_causal_mask=True)
    later = value.clone()
    later[:, 3:] = 5.0
    torch.testing.assert_close(
        layer([query[:, :3], later[:, :3]], use_causal_mask=True), out[:, :3]
    )


def test_query_mask_zeroes_outputs_and_is_the_output_mask():
    query_mask = torch.tensor([[True, False, True]])
    layer = AdditiveAttention()
    inputs = [torch.randn(1, 3, 4), torch.randn(1, 2, 4)]
    out = layer(inputs, mask=[query_mask, None])
    assert (out[0, 1] == 0).all()
    assert layer.compute_mask(inputs, [query_mask, None]) is query_mask


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: Attention(score_mode="add"), "score_mode must be one of 'dot', 'concat'"),
        (lambda: Attention(dropout=2.0), r"dropout must be a float in \[0, 1\]"),
        (lambda: Attention()(torch.zeros(1, 2, 3)), r"expected a list \[query, value\]"),
        (
            lambda: Attention()([torch.zeros(1, 2, 3)] * 2, mask=torch.ones(1, 2)),
            "mask must be a list",
        ),
        (lambda: MultiHeadAttention(0, 2), "num_heads must be a positive integer"),
        (lambda: MultiHeadAttention(2, 2, attention_axes=(1, 2)), "attention_axes None or"),
        (
            lambda: MultiHeadAttention(2, 2)(torch.zeros(1, 2), torch.zeros(1, 2)),
            "expected query of shape",
        ),
    ],
)
def test_bad_arguments_are_named(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_inputs_of_another_size_are_refused():
    layer = MultiHeadAttention(2, 2)
    layer(torch.zeros(1, 3, 4), torch.zeros(1, 3, 4))
    with pytest.raises(ValueError, match=r"expected value of shape \(batch, steps, 4\)"):
        layer(torch.zeros(1, 3, 4), torch.zeros(1, 3, 5))


def test_load_state_dict_builds_an_unbuilt_multi_head_attention():
    trained = MultiHeadAttention(2, 3, value_dim=4)
    query, value = torch.randn(2, 4, 6), torch.randn(2, 5, 7)
    expected = trained(query, value)
    fresh = MultiHeadAttention(2, 3, value_dim=4)
    fresh.load_state_dict(trained.state_dict())
    torch.testing.assert_close(fresh(query, value), expected)


@settings(max_examples=20, deadline=None)
@given(queries=st.integers(1, 4), values=st.integers(1, 5), seed=st.integers(0, 1000))
def test_attention_weights_are_distributions_over_the_unmasked_values(queries, values, seed):
    generator = torch.Generator().manual_seed(seed)
    query = torch.randn(2, queries, 3, generator=generator)
    value = torch.randn(2, values, 3, generator=generator)
    value_mask = torch.rand(2, values, generator=generator) > 0.3
    value_mask[:, 0] = True
    for layer in (Attention(), AdditiveAttention()):
        _, weights = layer([query, value], mask=[None, value_mask], return_attention_scores=True)
        torch.testing.assert_close(weights.sum(-1), torch.ones(2, queries))
        assert bool((weights.masked_select(~value_mask.unsqueeze(1)) < 1e-6).all())
    _, weights = MultiHeadAttention(2, 2)(
        query, value, value_mask=value_mask, return_attention_scores=True
    )
    torch.testing.assert_close(weights.sum(-1), torch.ones(2, 2, queries))
