"""birnn: Keras 2's Bidirectional wrapper and recurrent layers on PyTorch.

Example:
    >>> import torch, birnn
    >>> layer = birnn.Bidirectional(birnn.LSTM(8, return_sequences=True))
    >>> layer(torch.zeros(2, 5, 3)).shape
    torch.Size([2, 5, 16])
"""

from . import (
    activations,
    constraints,
    initializers,
    layers,
    losses,
    metrics,
    models,
    optimizers,
    regularizers,
)
from ._version import __version__
from .layers import (
    GRU,
    LSTM,
    RNN,
    Bidirectional,
    GRUCell,
    Input,
    LSTMCell,
    SimpleRNN,
    SimpleRNNCell,
    StackedRNNCells,
    Wrapper,
    deserialize,
    serialize,
)
from .models import Model, Sequential, load_model

__all__ = [
    "GRU",
    "LSTM",
    "RNN",
    "Bidirectional",
    "GRUCell",
    "Input",
    "LSTMCell",
    "SimpleRNN",
    "SimpleRNNCell",
    "StackedRNNCells",
    "Wrapper",
    "activations",
    "constraints",
    "deserialize",
    "initializers",
    "layers",
    "load_model",
    "losses",
    "metrics",
    "Model",
    "models",
    "optimizers",
    "regularizers",
    "Sequential",
    "serialize",
    "__version__",
]
