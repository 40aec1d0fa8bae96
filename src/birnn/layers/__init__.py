"""Keras-shaped layers on PyTorch: ``from birnn.layers import Bidirectional, LSTM``."""

from ._bidirectional import Bidirectional, Wrapper
from ._cells import GRUCell, LSTMCell, SimpleRNNCell
from ._core import Activation, Dense, Dropout
from ._embedding import Embedding
from ._input import Input, InputLayer
from ._layer import Layer
from ._masking import Masking
from ._recurrent import GRU, LSTM, RNN, SimpleRNN
from ._serialization import deserialize, register, serialize
from ._stacked import StackedRNNCells
from ._time_distributed import TimeDistributed

register(
    RNN,
    SimpleRNN,
    LSTM,
    GRU,
    SimpleRNNCell,
    LSTMCell,
    GRUCell,
    StackedRNNCells,
    Bidirectional,
    Dense,
    Activation,
    Dropout,
    Embedding,
    Masking,
    InputLayer,
    TimeDistributed,
)

__all__ = [
    "Activation",
    "Bidirectional",
    "Dense",
    "Dropout",
    "Embedding",
    "GRU",
    "GRUCell",
    "Input",
    "InputLayer",
    "LSTM",
    "LSTMCell",
    "Layer",
    "Masking",
    "RNN",
    "SimpleRNN",
    "SimpleRNNCell",
    "StackedRNNCells",
    "TimeDistributed",
    "Wrapper",
    "deserialize",
    "register",
    "serialize",
]
