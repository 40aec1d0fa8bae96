"""Bidirectional over PyTorch's own torch.nn.LSTM, GRU and RNN."""

import pytest
import torch
from torch import nn

from birnn.layers import GRU, LSTM, Bidirectional, SimpleRNN

MODULES = {
    "lstm": lambda **kw: nn.LSTM(3, 4, **kw),
    "gru": lambda **kw: nn.GRU(3, 4, **kw),
    "rnn-tanh": lambda **kw: nn.RNN(3, 4, **kw),
    "rnn-relu": lambda **kw: nn.RNN(3, 4, nonlinearity="relu", **kw),
    "lstm-no-bias": lambda **kw: nn.LSTM(3, 4, bias=False, **kw),
}
LENGTHS = [6, 4, 1, 0]


def _inputs():
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(len(LENGTHS), 6, 3, generator=generator)
    right_padded = torch.arange(6) < torch.tensor(LENGTHS).unsqueeze(1)
    return x, right_padded


def _sequence(module, x):
    """The module's sequence output on batch-major x, batch-major."""
    if module.batch_first:
        return module(x)[0]
    return module(x.transpose(0, 1))[0].transpose(0, 1)


@pytest.mark.parametrize("batch_first", [True, False], ids=["batch-first", "time-major"])
@pytest.mark.parametrize("kind", sorted(MODULES))
def test_right_padded_rows_equal_the_module_on_each_valid_part_forwards_and_reversed(
    kind, batch_first
):
    torch.manual_seed(0)
    module = MODULES[kind](batch_first=batch_first)
    layer = Bidirectional(module)
    x, mask = _inputs()
    if batch_first:
        output = layer(x, mask=mask)
    else:
        output = layer(x.transpose(0, 1), mask=mask.t()).transpose(0, 1)
    assert output.shape == (len(LENGTHS), 6, 8)
    for row, length in enumerate(LENGTHS):
        valid = x[row : row + 1, :length]
        if length:
            forward = _sequence(layer.forward_layer, valid)
            backward = _sequence(layer.backward_layer, valid.flip(1)).flip(1)
            torch.testing.assert_close(output[row : row + 1, :length, :4], forward)
            torch.testing.assert_close(output[row : row + 1, :length, 4:], backward)
        assert not output[row, length:].any()
    unmasked = layer(x if batch_first else x.transpose(0, 1))
    whole = torch.cat(
        [_sequence(layer.forward_layer, x), _sequence(layer.backward_layer, x.flip(1)).flip(1)], -1
    )
    torch.testing.assert_close(unmasked if batch_first else unmasked.transpose(0, 1), whole)


def _keras_twin(kind, module):
    """The birnn layer computing what ``module`` computes, with its weights (step loop)."""
    weights = [module.weight_ih_l0.detach().T, module.weight_hh_l0.detach().T]
    if kind == "gru":

        def keras_order(w):
            r, z, n = w.chunk(3, dim=-1)
            return torch.cat([z, r, n], dim=-1)

        weights = [keras_order(w) for w in weights]
        bias = torch.stack([module.bias_ih_l0, module.bias_hh_l0]).detach()
        weights.append(keras_order(bias))
        layer = GRU(4, return_sequences=True, use_fused=False)
    else:
        if module.bias:
            weights.append((module.bias_ih_l0 + module.bias_hh_l0).detach())
        activation = "relu" if kind == "rnn-relu" else "tanh"
        options = {"return_sequences": True, "use_bias": module.bias, "use_fused": False}
        layer = (
            LSTM(4, **options)
            if kind.startswith("lstm")
            else SimpleRNN(4, activation=activation, **options)
        )
    layer.build((None, None, 3))
    layer.set_weights([w.numpy() for w in weights])
    return layer


@pytest.mark.parametrize("kind", sorted(MODULES))
def test_every_mask_kind_gets_keras_masked_step_semantics(kind):
    torch.manual_seed(0)
    layer = Bidirectional(MODULES[kind](batch_first=True))
    reference = Bidirectional(_keras_twin(kind, layer.forward_layer))
    reference.build((None, None, 3))
    for side, module in (
        (reference.forward_layer, layer.forward_layer),
        (reference.backward_layer, layer.backward_layer),
    ):
        side.set_weights(_keras_twin(kind, module).get_weights())
    x, right_padded = _inputs()
    masks = {
        "right": right_padded,
        "left": right_padded.flip(1),
        "holes": torch.tensor([[True, False, True, True, False, True]] * 3 + [[False] * 6]),
    }
    for name, mask in masks.items():
        torch.testing.assert_close(layer(x, mask=mask), reference(x, mask=mask), msg=name)


def test_backward_copy_has_fresh_weights_and_both_directions_train():
    torch.manual_seed(0)
    module = nn.GRU(3, 4, batch_first=True)
    layer = Bidirectional(module, merge_mode="sum")
    assert layer.forward_layer is module
    assert not torch.equal(layer.backward_layer.weight_ih_l0, module.weight_ih_l0)
    x, mask = _inputs()
    layer(x, mask=mask).sum().backward()
    assert len(layer.weights) == 8
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in layer.parameters())


@pytest.mark.parametrize(
    "module, received",
    [
        (nn.LSTM(3, 4, bidirectional=True), "bidirectional=True"),
        (nn.GRU(3, 4, num_layers=2), "num_layers=2"),
        (nn.LSTM(3, 4, proj_size=2), "proj_size=2"),
    ],
)
def test_bidirectional_multilayer_or_projected_torch_modules_are_refused(module, received):
    with pytest.raises(ValueError, match="must have one layer, one direction") as error:
        Bidirectional(module)
    assert received in str(error.value)


def test_inputs_that_do_not_fit_the_module_get_a_clear_error():
    layer = Bidirectional(nn.LSTM(3, 4, batch_first=True))
    with pytest.raises(ValueError, match=r"inputs must be 3-D \(batch, time, 3\)"):
        layer(torch.randn(2, 5, 7))
    with pytest.raises(ValueError, match=r"mask must have shape \(batch, time\)"):
        layer(torch.randn(2, 5, 3), mask=torch.ones(5, 2, dtype=torch.bool))
