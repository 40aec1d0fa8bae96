"""Merge layers and their functional forms: tf-keras 2.21 parity, masks, configs, errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from birnn.layers import (
    Add,
    Concatenate,
    Dot,
    Subtract,
    add,
    average,
    concatenate,
    deserialize,
    dot,
    maximum,
    minimum,
    multiply,
    subtract,
)

from .layer_cases import case_ids, check_config_round_trip, load_case, run_case

CASES = case_ids(
    "add", "subtract", "multiply", "average", "maximum", "minimum", "concatenate", "dot"
)


@pytest.mark.parametrize("case_id", CASES)
def test_matches_tf_keras_and_config_round_trips(case_id):
    run_case(case_id)
    check_config_round_trip(case_id)


def test_functional_forms_build_the_layer_and_call_it():
    a, b = torch.randn(2, 3), torch.randn(2, 3)
    torch.testing.assert_close(add([a, b]), a + b)
    torch.testing.assert_close(subtract([a, b]), a - b)
    torch.testing.assert_close(multiply([a, b]), a * b)
    torch.testing.assert_close(average([a, b]), (a + b) / 2)
    torch.testing.assert_close(maximum([a, b]), torch.maximum(a, b))
    torch.testing.assert_close(minimum([a, b]), torch.minimum(a, b))
    torch.testing.assert_close(concatenate([a, b], axis=0), torch.cat([a, b]))
    torch.testing.assert_close(dot([a, b], axes=1), (a * b).sum(1, keepdim=True))


def test_element_wise_masks_and_concatenate_masks_merge_as_tf_keras_2():
    a, b = torch.zeros(1, 3, 2), torch.zeros(1, 3, 4)
    m = torch.tensor([[True, False, True]])
    n = torch.tensor([[True, True, False]])
    assert Add().compute_mask([a, a], [m, None]).tolist() == [[True, False, True]]
    assert Add().compute_mask([a, a], [m, n]).tolist() == [[True, False, False]]
    assert Add().compute_mask([a, a], [None, None]) is None
    assert Concatenate().compute_mask([a, b], [m, None]).tolist() == [[True, False, True]]
    assert Dot(axes=2).compute_mask([a, a], [m, n]) is None


@pytest.mark.parametrize(
    "layer, shapes",
    [
        (Add(), [(2, 5, 3), (2, 5, 3)]),
        (Add(), [(2, 5, 3), (2, 3)]),
        (Concatenate(axis=1), [(2, 5, 3), (2, 2, 3)]),
        (Dot(axes=(2, 2)), [(2, 5, 3), (2, 4, 3)]),
        (Dot(axes=1), [(2, 3), (2, 3)]),
        (Dot(axes=(1, 2)), [(2, 3, 4, 5), (2, 6, 3)]),
    ],
)
def test_compute_output_shape_matches_the_output(layer, shapes):
    out = layer([torch.randn(s) for s in shapes])
    assert tuple(out.shape) == layer.compute_output_shape(shapes)
    assert layer.built


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: Add()(torch.zeros(2, 3)), "expected a list of input shapes"),
        (lambda: Add()([torch.zeros(2, 3), "x"]), "expected a list of tensors"),
        (lambda: Add()([]), "at least 1 inputs"),
        (lambda: Subtract()([torch.zeros(1, 2)] * 3), "exactly 2 inputs"),
        (lambda: Add()([torch.zeros(1, 2), torch.zeros(1, 3)]), r"shapes \(1, 2\) and \(1, 3\)"),
        (lambda: Concatenate()([torch.zeros(1, 2, 3), torch.zeros(1, 4, 3)]), "except for the"),
        (lambda: Dot(axes=1)([torch.zeros(1, 2), torch.zeros(1, 3)]), "same size on axes"),
        (lambda: Dot(axes=(1, 2, 3)), "axes must be an int or a list of 2 ints"),
        (lambda: Concatenate(axis="last"), "axis must be an int"),
        (lambda: Add().build((2, 3)), "expected a list of input shapes"),
    ],
)
def test_bad_inputs_say_what_was_expected(call, message):
    with pytest.raises(ValueError, match=message):
        call()


@settings(max_examples=25, deadline=None)
@given(count=st.integers(2, 4), steps=st.integers(1, 5), seed=st.integers(0, 1000))
def test_element_wise_merges_are_the_reductions_they_name(count, steps, seed):
    generator = torch.Generator().manual_seed(seed)
    tensors = [torch.randn(2, steps, 3, generator=generator) for _ in range(count)]
    stacked = torch.stack(tensors)
    torch.testing.assert_close(add(tensors), stacked.sum(0))
    torch.testing.assert_close(average(tensors), stacked.mean(0))
    torch.testing.assert_close(maximum(tensors), stacked.amax(0))
    torch.testing.assert_close(minimum(tensors), stacked.amin(0))
    torch.testing.assert_close(multiply(tensors), stacked.prod(0))
    cosine = dot(tensors[:2], axes=2, normalize=True)
    assert bool((cosine.abs() <= 1 + 1e-5).all())


@pytest.mark.parametrize("case_id", [c for c in CASES if "keras3_output" in load_case(c)[0]])
def test_keras3_masked_merge_matches_keras3(case_id):
    spec, arrays = load_case(case_id)
    layer = deserialize(spec["config"])
    inputs = [torch.tensor(arrays[key]) for key in spec["inputs"]]
    masks = [None if m is None else torch.tensor(arrays[m]) for m in spec["masks"]]
    np.testing.assert_allclose(
        layer._keras3_call(inputs, masks).numpy(), arrays[spec["keras3_output"]], atol=1e-6
    )
