"""Pooling layers: tf-keras 2.21 parity, configs, shapes, masks and bad inputs."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from birnn.layers import (
    AveragePooling1D,
    AveragePooling2D,
    GlobalAveragePooling1D,
    GlobalAveragePooling2D,
    GlobalMaxPooling1D,
    GlobalMaxPooling2D,
    MaxPooling1D,
    MaxPooling2D,
)

from .layer_cases import case_ids, check_config_round_trip, run_case

CASES = case_ids(
    "max_pooling1d",
    "max_pooling2d",
    "average_pooling1d",
    "average_pooling2d",
    "global_max_pooling1d",
    "global_max_pooling2d",
    "global_average_pooling1d",
    "global_average_pooling2d",
)


@pytest.mark.parametrize("case_id", CASES)
def test_matches_tf_keras_and_config_round_trips(case_id):
    run_case(case_id)
    check_config_round_trip(case_id)


@pytest.mark.parametrize(
    "layer, shape",
    [
        (MaxPooling1D(3, strides=2, padding="same"), (2, 7, 3)),
        (AveragePooling1D(2, padding="valid"), (2, 7, 3)),
        (MaxPooling2D((2, 3), padding="same"), (2, 5, 7, 3)),
        (AveragePooling2D(3, strides=1), (2, 5, 7, 3)),
        (MaxPooling1D(2, data_format="channels_first"), (2, 3, 7)),
        (GlobalMaxPooling1D(keepdims=True), (2, 5, 3)),
        (GlobalMaxPooling2D(data_format="channels_first"), (2, 3, 4, 5)),
    ],
)
def test_compute_output_shape_matches_the_output(layer, shape):
    assert tuple(layer(torch.randn(shape)).shape) == layer.compute_output_shape(shape)


def test_channels_first_equals_channels_last_transposed():
    x = torch.randn(2, 7, 3)
    first = AveragePooling1D(3, padding="same", data_format="channels_first")(x.transpose(1, 2))
    last = AveragePooling1D(3, padding="same")(x)
    torch.testing.assert_close(first.transpose(1, 2), last)


def test_only_global_average_pooling_1d_reads_the_mask():
    x = torch.tensor([[[1.0], [3.0], [100.0]]])
    mask = torch.tensor([[True, True, False]])
    assert GlobalAveragePooling1D()(x, mask=mask).item() == 2.0
    assert GlobalAveragePooling1D().compute_mask(x, mask) is None
    assert GlobalMaxPooling1D().compute_mask(x, mask) is None  # tf-keras 2 stops it
    assert MaxPooling1D().compute_mask(x, mask) is None


def test_all_masked_row_averages_to_nan_as_in_tf_keras():
    out = GlobalAveragePooling1D()(torch.ones(1, 2, 1), mask=torch.zeros(1, 2, dtype=torch.bool))
    assert torch.isnan(out).all()


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: MaxPooling1D(0), "pool_size must be an int"),
        (lambda: MaxPooling2D((2, 2, 2)), "pool_size must be an int or a tuple of 2 ints"),
        (lambda: AveragePooling1D(2, padding="causal"), "padding must be one of 'valid', 'same'"),
        (lambda: GlobalMaxPooling1D(data_format="NHWC"), "data_format must be one of"),
        (lambda: GlobalAveragePooling2D(keepdims=1), "keepdims must be a bool"),
    ],
)
def test_bad_arguments_are_named(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_wrong_rank_names_the_layout():
    with pytest.raises(ValueError, match=r"expected inputs of rank 3 \(batch, steps, channels\)"):
        MaxPooling1D()(torch.zeros(2, 3))
    with pytest.raises(ValueError, match="mask must be a"):
        GlobalAveragePooling1D()(torch.zeros(2, 3, 1), mask=torch.ones(2, 4, dtype=torch.bool))


@settings(max_examples=25, deadline=None)
@given(
    steps=st.integers(1, 12),
    pool=st.integers(1, 4),
    stride=st.integers(1, 4),
    padding=st.sampled_from(["valid", "same"]),
)
def test_windows_are_tensorflows(steps, pool, stride, padding):
    if padding == "valid" and steps < pool:
        return
    x = torch.randn(2, steps, 3)
    maximum = MaxPooling1D(pool, stride, padding)(x)
    average = AveragePooling1D(pool, stride, padding)(x)
    assert tuple(maximum.shape) == MaxPooling1D(pool, stride, padding).compute_output_shape(x.shape)
    # Every window's average lies within its real values: padding never counts.
    assert bool((average <= maximum + 1e-6).all())
    assert bool((average >= -MaxPooling1D(pool, stride, padding)(-x) - 1e-6).all())


def test_keras_aliases_are_the_same_classes():
    from birnn import layers

    assert layers.MaxPool1D is MaxPooling1D and layers.GlobalMaxPool1D is GlobalMaxPooling1D
    assert layers.GlobalAvgPool1D is GlobalAveragePooling1D and layers.AvgPool2D is AveragePooling2D
    assert layers.Convolution1D is layers.Conv1D
