"""Conv1D/Conv2D: tf-keras 2.21 parity (paddings, strides, dilation, groups), configs, errors."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from birnn.layers import Conv1D, Conv2D

from .layer_cases import case_ids, check_config_round_trip, run_case

CASES = case_ids("conv1d", "conv2d")


@pytest.mark.parametrize("case_id", CASES)
def test_matches_tf_keras_and_config_round_trips(case_id):
    run_case(case_id)
    check_config_round_trip(case_id)


def test_kernel_has_keras_layout_and_is_used_as_keras_does():
    layer = Conv1D(2, 3, input_shape=(None, 4))
    assert [w.shape for w in layer.get_weights()] == [(3, 4, 2), (2,)]
    x = torch.randn(1, 5, 4)
    out = layer(x)
    manual = sum(x[0, k] @ layer.kernel[k] for k in range(3))  # first output step
    torch.testing.assert_close(out[0, 0], manual + layer.bias)


def test_causal_output_only_sees_the_past():
    layer = Conv1D(3, 3, padding="causal", dilation_rate=2)
    x = torch.randn(1, 8, 2)
    y = layer(x)
    x2 = x.clone()
    x2[0, 5:] = 7.0
    torch.testing.assert_close(layer(x2)[0, :5], y[0, :5])


@pytest.mark.parametrize(
    "layer, shape",
    [
        (Conv1D(4, 3, strides=2, padding="same"), (2, 9, 3)),
        (Conv1D(4, 2, dilation_rate=3), (2, 9, 3)),
        (Conv1D(4, 2, data_format="channels_first"), (2, 3, 9)),
        (Conv2D(4, (3, 2), strides=(2, 1)), (2, 7, 6, 2)),
        (Conv2D(4, 3, padding="same", data_format="channels_first"), (2, 2, 7, 6)),
    ],
)
def test_compute_output_shape_matches_the_output(layer, shape):
    assert tuple(layer(torch.randn(shape)).shape) == layer.compute_output_shape(shape)


def test_channels_first_equals_channels_last_transposed():
    last = Conv2D(3, 2, padding="same")
    x = torch.randn(2, 5, 4, 2)
    y = last(x)
    first = Conv2D(3, 2, padding="same", data_format="channels_first")
    first.build((None, 2, 5, 4))
    first.set_weights(last.get_weights())
    torch.testing.assert_close(first(x.permute(0, 3, 1, 2)), y.permute(0, 3, 1, 2))


def test_mask_stops_at_a_convolution_as_in_tf_keras_2():
    assert Conv1D(2, 2).compute_mask(torch.zeros(1, 3, 2), torch.ones(1, 3, dtype=bool)) is None


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: Conv1D(0, 3), "filters must be a positive integer"),
        (lambda: Conv1D(4, (3, 3)), "kernel_size must be an int"),
        (lambda: Conv2D(4, 3, padding="causal"), "padding must be one of 'valid', 'same'"),
        (lambda: Conv1D(4, 3, strides=2, dilation_rate=2), "strides > 1 cannot be combined"),
        (lambda: Conv1D(5, 3, groups=2), "filters must be divisible by groups"),
        (lambda: Conv1D(4, 3, data_format="NWC"), "data_format must be one of"),
        (lambda: Conv1D(4, 3, activation="nope"), "invalid activation"),
    ],
)
def test_bad_arguments_are_named(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_bad_inputs_say_what_was_expected():
    with pytest.raises(ValueError, match=r"rank 3 \(batch, steps, channels\)"):
        Conv1D(2, 2)(torch.zeros(2, 3))
    with pytest.raises(ValueError, match="divisible by groups=2"):
        Conv1D(2, 2, groups=2).build((None, 5, 3))
    layer = Conv1D(2, 2)
    layer(torch.zeros(1, 4, 3))
    with pytest.raises(ValueError, match="expected 3 input channels"):
        layer(torch.zeros(1, 4, 5))


@settings(max_examples=25, deadline=None)
@given(
    steps=st.integers(1, 12),
    kernel=st.integers(1, 4),
    stride=st.integers(1, 3),
    dilation=st.integers(1, 3),
    padding=st.sampled_from(["valid", "same", "causal"]),
)
def test_output_length_is_keras_conv_output_length(steps, kernel, stride, dilation, padding):
    if stride > 1 and dilation > 1:
        dilation = 1
    if padding == "valid" and steps < (kernel - 1) * dilation + 1:
        return
    layer = Conv1D(2, kernel, strides=stride, padding=padding, dilation_rate=dilation)
    out = layer(torch.randn(1, steps, 3))
    assert tuple(out.shape) == layer.compute_output_shape((1, steps, 3))
    if padding != "valid":
        assert out.shape[1] == -(-steps // stride)  # ceil(steps / stride), as TensorFlow
