"""The base layer's PyTorch habits: lazy weights an optimizer can hold before the first call,
``load_state_dict`` into an unbuilt layer, and the public ``build(input_shape)`` on every layer."""

import copy
import inspect
import pickle

import numpy as np
import pytest
import torch
from torch import nn
from torch.nn.parameter import UninitializedParameter

from birnn import layers
from birnn.layers import (
    GRU,
    LSTM,
    RNN,
    Bidirectional,
    Dense,
    GRUCell,
    LSTMCell,
    SimpleRNN,
    TimeDistributed,
)
from birnn.models import Sequential


def _torch_model(recurrent_layer):
    return nn.Sequential(
        nn.Linear(3, 5), Bidirectional(recurrent_layer(8, return_sequences=True)), nn.Linear(16, 1)
    )


@pytest.mark.parametrize("recurrent_layer", [LSTM, GRU, SimpleRNN])
def test_optimizer_made_before_the_first_call_trains_every_recurrent_weight(recurrent_layer):
    torch.manual_seed(0)
    model = _torch_model(recurrent_layer)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    assert sum(isinstance(p, UninitializedParameter) for p in model.parameters()) == 6
    model(torch.randn(4, 6, 3)).pow(2).mean().backward()
    before = {name: p.detach().clone() for name, p in model.named_parameters()}
    optimizer.step()
    changed = {name: bool((p != before[name]).any()) for name, p in model.named_parameters()}
    assert len(changed) == 10 and all(changed.values()), changed
    assert sum("backward_layer" in name for name in changed) == 3


def test_a_birnn_only_model_gives_the_optimizer_its_weights_before_the_first_call():
    model = Sequential([Bidirectional(LSTM(4)), Dense(2)])
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    assert len(optimizer.param_groups[0]["params"]) == 8
    model(torch.randn(2, 5, 3)).sum().backward()
    dense_kernel = model.layers[1].kernel.detach().clone()
    optimizer.step()
    assert not torch.equal(model.layers[1].kernel, dense_kernel)


def test_unbuilt_layers_have_no_keras_weights_yet():
    layer = Bidirectional(LSTM(4))
    assert layer.weights == [] and layer.get_weights() == [] and not layer.built
    with pytest.raises(ValueError, match="call build"):
        layer.set_weights([np.zeros((3, 16))])


@pytest.mark.parametrize(
    "make, x",
    [
        (lambda: Bidirectional(LSTM(4, return_sequences=True)), torch.randn(2, 5, 3)),
        (lambda: Bidirectional(GRU(4), merge_mode="sum"), torch.randn(2, 5, 3)),
        (lambda: RNN([LSTMCell(3), GRUCell(2)]), torch.randn(2, 5, 3)),
        (lambda: TimeDistributed(Dense(4)), torch.randn(2, 5, 3)),
        (lambda: Sequential([SimpleRNN(4, return_sequences=True), Dense(2)]), torch.randn(2, 5, 3)),
        (lambda: _torch_model(LSTM), torch.randn(2, 5, 3)),
        (lambda: layers.Conv1D(6, 3, groups=3), torch.randn(2, 5, 3)),
        (lambda: layers.Conv2D(2, 2, data_format="channels_first"), torch.randn(2, 3, 5, 4)),
    ],
    ids=[
        "bidirectional",
        "bidirectional-gru",
        "stacked-cells",
        "time-distributed",
        "sequential",
        "torch-sequential",
        "conv1d",
        "conv2d",
    ],
)
def test_load_state_dict_builds_an_unbuilt_layer_with_the_loaded_shapes(make, x):
    trained = make()
    expected = trained(x)
    fresh = make()
    result = fresh.load_state_dict(trained.state_dict())
    assert not result.missing_keys and not result.unexpected_keys
    assert not any(isinstance(p, UninitializedParameter) for p in fresh.parameters())
    torch.testing.assert_close(fresh(x), expected)


def test_state_dict_of_an_unbuilt_layer_loads_into_an_unbuilt_layer():
    state = Bidirectional(LSTM(4)).state_dict()
    assert all(isinstance(v, UninitializedParameter) for v in state.values()) and len(state) == 6
    fresh = Bidirectional(LSTM(4))
    fresh.load_state_dict(state)
    assert not fresh.built
    assert fresh(torch.randn(2, 5, 3)).shape == (2, 8)


def test_loaded_shapes_that_do_not_fit_the_layer_are_refused():
    trained = Bidirectional(LSTM(4))
    trained(torch.randn(2, 5, 3))
    with pytest.raises(RuntimeError, match="size mismatch"):
        Bidirectional(LSTM(5)).load_state_dict(trained.state_dict())


@pytest.mark.parametrize("copy_layer", [copy.deepcopy, lambda m: pickle.loads(pickle.dumps(m))])
def test_unbuilt_layers_copy_and_pickle_and_build_on_their_first_call(copy_layer):
    layer = copy_layer(Bidirectional(GRU(4, return_sequences=True)))
    assert layer(torch.randn(2, 5, 3)).shape == (2, 5, 8)
    assert [w.shape for w in layer.get_weights()] == [(3, 12), (4, 12), (2, 12)] * 2


def test_double_and_to_before_the_first_call_set_the_weights_dtype():
    model = _torch_model(LSTM).double()
    out = model(torch.randn(2, 5, 3, dtype=torch.float64))
    assert {p.dtype for p in model.parameters()} == {torch.float64}
    assert out.dtype == torch.float64


def test_torch_compile_before_the_first_call_builds_then_trains():
    torch.manual_seed(0)
    model = _torch_model(GRU)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    compiled = torch.compile(model, backend="eager")
    x = torch.randn(2, 5, 3)
    compiled(x).sum().backward()
    optimizer.step()
    assert all(p.grad is not None for p in model.parameters())
    torch.testing.assert_close(compiled(x), model(x))


def test_building_again_refills_the_same_parameters():
    layer = LSTM(4)
    layer.build((None, 5, 3))
    kernel = layer.cell.kernel
    layer.build((None, 5, 3))
    layer.cell.build((None, 6))
    assert layer.cell.kernel is kernel and tuple(kernel.shape) == (6, 16)
    assert len(layer.weights) == 3


# -- the public build(input_shape) on every layer -------------------------------------------

_BUILDS = {
    "Bidirectional": (lambda: Bidirectional(LSTM(4)), (None, 5, 3)),
    "RNN": (lambda: RNN(GRUCell(4)), (None, 5, 3)),
    "SimpleRNN": (lambda: SimpleRNN(4), (None, 5, 3)),
    "LSTM": (lambda: LSTM(4), (None, 5, 3)),
    "GRU": (lambda: GRU(4, reset_after=False), (8, 5, 3)),
    "SimpleRNNCell": (lambda: layers.SimpleRNNCell(4), (None, 3)),
    "LSTMCell": (lambda: LSTMCell(4), (None, 3)),
    "GRUCell": (lambda: GRUCell(4), (None, 3)),
    "StackedRNNCells": (lambda: layers.StackedRNNCells([LSTMCell(4), GRUCell(2)]), (None, 3)),
    "Dense": (lambda: Dense(4), (None, 7, 3)),
    "Activation": (lambda: layers.Activation("relu"), (None, 3)),
    "Dropout": (lambda: layers.Dropout(0.5), (None, 3)),
    "Embedding": (lambda: layers.Embedding(10, 4), (None, 5)),
    "Masking": (lambda: layers.Masking(), (None, 5, 3)),
    "InputLayer": (lambda: layers.InputLayer(input_shape=(5, 3)), (None, 5, 3)),
    "TimeDistributed": (lambda: TimeDistributed(Dense(4)), (None, 5, 3)),
    "Wrapper": (lambda: layers.Wrapper(Dense(4)), (None, 3)),
    "Sequential": (lambda: Sequential([LSTM(4), Dense(2)]), (None, 5, 3)),
    "Conv1D": (lambda: layers.Conv1D(4, 3), (None, 9, 3)),
    "Conv2D": (lambda: layers.Conv2D(4, 3, groups=2), (None, 9, 8, 2)),
    "MaxPooling1D": (lambda: layers.MaxPooling1D(), (None, 9, 3)),
    "MaxPooling2D": (lambda: layers.MaxPooling2D(), (None, 9, 8, 3)),
    "AveragePooling1D": (lambda: layers.AveragePooling1D(), (None, 9, 3)),
    "AveragePooling2D": (lambda: layers.AveragePooling2D(), (None, 9, 8, 3)),
    "GlobalMaxPooling1D": (lambda: layers.GlobalMaxPooling1D(), (None, 9, 3)),
    "GlobalMaxPooling2D": (lambda: layers.GlobalMaxPooling2D(), (None, 9, 8, 3)),
    "GlobalAveragePooling1D": (lambda: layers.GlobalAveragePooling1D(), (None, 9, 3)),
    "GlobalAveragePooling2D": (lambda: layers.GlobalAveragePooling2D(), (None, 9, 8, 3)),
    "Add": (lambda: layers.Add(), [(None, 5, 3), (None, 5, 3)]),
    "Subtract": (lambda: layers.Subtract(), [(None, 5, 3), (None, 5, 3)]),
    "Multiply": (lambda: layers.Multiply(), [(None, 5, 3), (None, 5, 3)]),
    "Average": (lambda: layers.Average(), [(None, 5, 3), (None, 5, 3)]),
    "Maximum": (lambda: layers.Maximum(), [(None, 5, 3), (None, 5, 3)]),
    "Minimum": (lambda: layers.Minimum(), [(None, 5, 3), (None, 5, 3)]),
    "Concatenate": (lambda: layers.Concatenate(), [(None, 5, 3), (None, 5, 2)]),
    "Dot": (lambda: layers.Dot(axes=2), [(None, 5, 3), (None, 4, 3)]),
    "Reshape": (lambda: layers.Reshape((-1,)), (None, 5, 3)),
    "Flatten": (lambda: layers.Flatten(), (None, 5, 3)),
    "Permute": (lambda: layers.Permute((2, 1)), (None, 5, 3)),
    "RepeatVector": (lambda: layers.RepeatVector(2), (None, 3)),
    "ZeroPadding1D": (lambda: layers.ZeroPadding1D(), (None, 5, 3)),
    "Cropping1D": (lambda: layers.Cropping1D(), (None, 5, 3)),
    "SpatialDropout1D": (lambda: layers.SpatialDropout1D(0.5), (None, 5, 3)),
    "SpatialDropout2D": (lambda: layers.SpatialDropout2D(0.5), (None, 5, 4, 3)),
    "GaussianNoise": (lambda: layers.GaussianNoise(0.1), (None, 5, 3)),
    "GaussianDropout": (lambda: layers.GaussianDropout(0.1), (None, 5, 3)),
    "BatchNormalization": (lambda: layers.BatchNormalization(), (None, 5, 3)),
    "LayerNormalization": (lambda: layers.LayerNormalization(axis=[1, 2]), (None, 5, 3)),
    "ReLU": (lambda: layers.ReLU(), (None, 3)),
    "LeakyReLU": (lambda: layers.LeakyReLU(), (None, 3)),
    "ELU": (lambda: layers.ELU(), (None, 3)),
    "Softmax": (lambda: layers.Softmax(), (None, 3)),
    "Attention": (
        lambda: layers.Attention(use_scale=True, score_mode="concat"),
        [(None, 4, 3)] * 2,
    ),
    "AdditiveAttention": (lambda: layers.AdditiveAttention(), [(None, 4, 3), (None, 5, 3)]),
    "MultiHeadAttention": (lambda: layers.MultiHeadAttention(2, 3), (None, 4, 6)),
}


def test_every_layer_class_is_in_the_build_table():
    public = {  # by class name: aliases (MaxPool1D is MaxPooling1D) count once
        value.__name__
        for value in vars(layers).values()
        if inspect.isclass(value) and issubclass(value, layers.Layer) and value is not layers.Layer
    }
    assert public <= set(_BUILDS), sorted(public - set(_BUILDS))


@pytest.mark.parametrize("name", sorted(_BUILDS))
def test_public_build_then_set_weights(name):
    make, input_shape = _BUILDS[name]
    layer, reference = make(), make()
    layer.build(input_shape)
    reference.build(input_shape)
    assert layer.built
    weights = [np.random.default_rng(0).standard_normal(w.shape) for w in reference.get_weights()]
    layer.set_weights(weights)
    for got, expected in zip(layer.get_weights(), weights, strict=True):
        np.testing.assert_allclose(got, expected, rtol=1e-6)
    assert not any(isinstance(p, UninitializedParameter) for p in layer.parameters())


@pytest.mark.parametrize(
    "make, x",
    [
        (lambda: layers.Conv1D(4, 3), torch.randn(2, 7, 3)),
        (lambda: layers.Conv2D(6, 3, groups=3), torch.randn(2, 6, 6, 3)),
        (lambda: layers.Conv2D(4, 3, data_format="channels_first"), torch.randn(2, 3, 6, 6)),
    ],
    ids=["conv1d", "conv2d-groups", "conv2d-channels-first"],
)
def test_convolutions_are_lazy_too(make, x):
    trained, fresh = make(), make()
    assert len(list(trained.parameters())) == 2
    expected = trained(x)
    fresh.load_state_dict(trained.state_dict())
    torch.testing.assert_close(fresh(x), expected)
