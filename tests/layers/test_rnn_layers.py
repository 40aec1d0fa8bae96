"""SimpleRNN, LSTM, GRU and their cells: every Keras argument in the signature and docs."""

import inspect

import pytest

from birnn import activations
from birnn.layers import GRU, LSTM, GRUCell, LSTMCell, SimpleRNN, SimpleRNNCell

_WEIGHTS = [
    "use_bias",
    "kernel_initializer",
    "recurrent_initializer",
    "bias_initializer",
    "kernel_regularizer",
    "recurrent_regularizer",
    "bias_regularizer",
    "kernel_constraint",
    "recurrent_constraint",
    "bias_constraint",
    "dropout",
    "recurrent_dropout",
]
_SEQUENCE = ["return_sequences", "return_state", "go_backwards", "stateful", "unroll"]
KERAS_ARGUMENTS = {
    SimpleRNNCell: ["units", "activation", *_WEIGHTS],
    LSTMCell: ["units", "activation", "recurrent_activation", "unit_forget_bias", *_WEIGHTS],
    GRUCell: ["units", "activation", "recurrent_activation", "reset_after", *_WEIGHTS],
    SimpleRNN: ["units", "activation", "activity_regularizer", *_WEIGHTS, *_SEQUENCE],
    LSTM: [
        "units", "activation", "recurrent_activation", "unit_forget_bias",
        "activity_regularizer", "implementation", "time_major", *_WEIGHTS, *_SEQUENCE,
    ],
    GRU: [
        "units", "activation", "recurrent_activation", "reset_after", "activity_regularizer",
        "implementation", "time_major", *_WEIGHTS, *_SEQUENCE,
    ],
}  # fmt: skip


@pytest.mark.parametrize("layer_class", KERAS_ARGUMENTS, ids=lambda c: c.__name__)
def test_every_keras_argument_is_named_with_a_default_and_documented(layer_class):
    parameters = inspect.signature(layer_class).parameters
    for name in KERAS_ARGUMENTS[layer_class]:
        assert name in parameters, name
        assert parameters[name].kind is inspect.Parameter.POSITIONAL_OR_KEYWORD, name
        assert name == "units" or parameters[name].default is not inspect.Parameter.empty
        assert name in layer_class.__doc__, name


def test_arguments_in_keras_positional_order():
    assert LSTM(3, "relu", "hard_sigmoid").cell.recurrent_activation is activations.get(
        "hard_sigmoid"
    )
    assert GRUCell(3, "relu").activation is activations.get("relu")
    assert SimpleRNN(3, "relu", False).cell.use_bias is False


@pytest.mark.parametrize("layer_class", [SimpleRNN, LSTM, GRU], ids=lambda c: c.__name__)
def test_every_config_key_is_a_constructor_argument(layer_class):
    parameters = inspect.signature(layer_class).parameters
    config = layer_class(4, return_sequences=True).get_config()
    base = {"name", "trainable", "dtype", "batch_input_shape"}
    assert set(config) - base <= set(parameters)
    assert layer_class(**config).get_config() == config
