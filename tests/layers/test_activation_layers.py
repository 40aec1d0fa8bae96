"""ReLU, LeakyReLU, ELU and Softmax layers: tf-keras 2.21 parity, masks, configs, errors."""

from __future__ import annotations

import pytest
import torch

from birnn.layers import ELU, LeakyReLU, ReLU, Softmax, deserialize

from .layer_cases import case_ids, check_config_round_trip, run_case

CASES = case_ids("re_lu", "leaky_re_lu", "elu", "softmax")


@pytest.mark.parametrize("case_id", CASES)
def test_matches_tf_keras_and_config_round_trips(case_id):
    run_case(case_id)
    check_config_round_trip(case_id)


def test_numeric_arguments_are_float32_in_the_config_as_in_tf_keras():
    assert LeakyReLU().get_config()["alpha"] == 0.30000001192092896
    assert ReLU(negative_slope=0.1).get_config()["negative_slope"] == 0.10000000149011612


def test_softmax_masks_by_adding_minus_1e9_and_over_several_axes():
    x = torch.randn(2, 3, 4)
    mask = torch.ones(2, 3, 4, dtype=torch.bool)
    mask[0, 0, 1:] = False
    out = Softmax()(x, mask=mask)
    assert out[0, 0, 0] == 1 and (out[0, 0, 1:] == 0).all()
    joint = Softmax(axis=[1, 2])(x)
    torch.testing.assert_close(joint.sum(dim=(1, 2)), torch.ones(2))


def test_activation_layers_pass_masks_on():
    mask = torch.tensor([[True, False]])
    for layer in (ReLU(), LeakyReLU(), ELU(), Softmax()):
        assert layer.compute_mask(torch.zeros(1, 2, 3), mask) is mask


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: ReLU(max_value=-1.0), "max_value must be a number >= 0 or None"),
        (lambda: ReLU(negative_slope=-0.1), "negative_slope must be a number >= 0"),
        (lambda: ReLU(threshold=None), "threshold must be a number >= 0"),
        (lambda: LeakyReLU(alpha=None), "alpha must be a number >= 0"),
        (lambda: Softmax(axis="last"), "axis must be an int or a list of ints"),
    ],
)
def test_bad_arguments_are_named(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_keras3_leaky_relu_config_reads_its_negative_slope():
    config = {
        "module": "keras.layers",
        "class_name": "LeakyReLU",
        "config": {"name": "leaky", "trainable": True, "dtype": "float32", "negative_slope": 0.1},
    }
    layer = deserialize(config)
    assert layer.get_config()["alpha"] == 0.10000000149011612
