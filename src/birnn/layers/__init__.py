"""Keras-shaped layers on PyTorch: ``from birnn.layers import Bidirectional, LSTM``."""

from ._bidirectional import Bidirectional, Wrapper
from ._cells import GRUCell, LSTMCell, SimpleRNNCell
from ._layer import Layer
from ._recurrent import GRU, LSTM, RNN, SimpleRNN
from ._serialization import deserialize, register, serialize
from ._stacked import StackedRNNCells

register(
    RNN, SimpleRNN, LSTM, GRU, SimpleRNNCell, LSTMCell, GRUCell, StackedRNNCells, Bidirectional
)

__all__ = [
    "Bidirectional",
    "GRU",
    "GRUCell",
    "LSTM",
    "LSTMCell",
    "Layer",
    "RNN",
    "SimpleRNN",
    "SimpleRNNCell",
    "StackedRNNCells",
    "Wrapper",
    "deserialize",
    "register",
    "serialize",
]
