"""Keras-shaped layers on PyTorch: ``from birnn.layers import Bidirectional, LSTM``."""

from ._activation_layers import ELU, LeakyReLU, ReLU, Softmax
from ._attention import AdditiveAttention, Attention, MultiHeadAttention
from ._bidirectional import Bidirectional
from ._cells import GRUCell, LSTMCell, SimpleRNNCell
from ._conv import Conv1D, Conv2D
from ._core import Activation, Dense, Dropout
from ._embedding import Embedding
from ._input import InputLayer
from ._layer import Layer
from ._masking import Masking
from ._merge import (
    Add,
    Average,
    Concatenate,
    Dot,
    Maximum,
    Minimum,
    Multiply,
    Subtract,
    add,
    average,
    concatenate,
    dot,
    maximum,
    minimum,
    multiply,
    subtract,
)
from ._noise import GaussianDropout, GaussianNoise, SpatialDropout1D, SpatialDropout2D
from ._normalization import BatchNormalization, LayerNormalization
from ._pooling import (
    AveragePooling1D,
    AveragePooling2D,
    GlobalAveragePooling1D,
    GlobalAveragePooling2D,
    GlobalMaxPooling1D,
    GlobalMaxPooling2D,
    MaxPooling1D,
    MaxPooling2D,
)
from ._recurrent import GRU, LSTM, RNN, SimpleRNN
from ._reshaping import Cropping1D, Flatten, Permute, RepeatVector, Reshape, ZeroPadding1D
from ._serialization import deserialize, register, serialize
from ._stacked import StackedRNNCells
from ._time_distributed import TimeDistributed
from ._wrapper import Wrapper

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
    # convolution and pooling
    Conv1D,
    Conv2D,
    MaxPooling1D,
    MaxPooling2D,
    AveragePooling1D,
    AveragePooling2D,
    GlobalMaxPooling1D,
    GlobalMaxPooling2D,
    GlobalAveragePooling1D,
    GlobalAveragePooling2D,
    # merging
    Add,
    Subtract,
    Multiply,
    Average,
    Maximum,
    Minimum,
    Concatenate,
    Dot,
    # shaping
    Reshape,
    Flatten,
    Permute,
    RepeatVector,
    ZeroPadding1D,
    Cropping1D,
    # regularizing
    SpatialDropout1D,
    SpatialDropout2D,
    GaussianNoise,
    GaussianDropout,
    # normalization
    BatchNormalization,
    LayerNormalization,
    # activations
    ReLU,
    LeakyReLU,
    ELU,
    Softmax,
    # attention
    Attention,
    AdditiveAttention,
    MultiHeadAttention,
)

# Keras's other names for the same classes.
MaxPool1D, MaxPool2D, AvgPool1D, AvgPool2D = (
    MaxPooling1D,
    MaxPooling2D,
    AveragePooling1D,
    AveragePooling2D,
)
GlobalMaxPool1D, GlobalMaxPool2D = GlobalMaxPooling1D, GlobalMaxPooling2D
GlobalAvgPool1D, GlobalAvgPool2D = GlobalAveragePooling1D, GlobalAveragePooling2D
Convolution1D, Convolution2D = Conv1D, Conv2D

__all__ = [
    "Activation",
    "Add",
    "AdditiveAttention",
    "Attention",
    "Average",
    "AveragePooling1D",
    "AveragePooling2D",
    "AvgPool1D",
    "AvgPool2D",
    "BatchNormalization",
    "Bidirectional",
    "Concatenate",
    "Conv1D",
    "Conv2D",
    "Convolution1D",
    "Convolution2D",
    "Cropping1D",
    "Dense",
    "Dot",
    "Dropout",
    "ELU",
    "Embedding",
    "Flatten",
    "GaussianDropout",
    "GaussianNoise",
    "GlobalAveragePooling1D",
    "GlobalAveragePooling2D",
    "GlobalAvgPool1D",
    "GlobalAvgPool2D",
    "GlobalMaxPool1D",
    "GlobalMaxPool2D",
    "GlobalMaxPooling1D",
    "GlobalMaxPooling2D",
    "GRU",
    "GRUCell",
    "InputLayer",
    "Layer",
    "LayerNormalization",
    "LeakyReLU",
    "LSTM",
    "LSTMCell",
    "Masking",
    "Maximum",
    "MaxPool1D",
    "MaxPool2D",
    "MaxPooling1D",
    "MaxPooling2D",
    "Minimum",
    "MultiHeadAttention",
    "Multiply",
    "Permute",
    "ReLU",
    "RepeatVector",
    "Reshape",
    "RNN",
    "SimpleRNN",
    "SimpleRNNCell",
    "Softmax",
    "SpatialDropout1D",
    "SpatialDropout2D",
    "StackedRNNCells",
    "Subtract",
    "TimeDistributed",
    "Wrapper",
    "ZeroPadding1D",
    "add",
    "average",
    "concatenate",
    "deserialize",
    "dot",
    "maximum",
    "minimum",
    "multiply",
    "register",
    "serialize",
    "subtract",
]
