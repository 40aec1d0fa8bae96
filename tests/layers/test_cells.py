"""The cells' step paths agree with each other and with Keras 2's per-gate formulas."""

from __future__ import annotations

import pytest
import torch

from birnn import activations
from birnn.layers import GRUCell, LSTMCell, SimpleRNNCell

CELLS = {
    "simple": lambda **kw: SimpleRNNCell(3, **kw),
    "lstm": lambda **kw: LSTMCell(3, **kw),
    "gru": lambda **kw: GRUCell(3, **kw),
    "gru_reset_before": lambda **kw: GRUCell(3, reset_after=False, **kw),
    "gru_no_bias": lambda **kw: GRUCell(3, use_bias=False, **kw),
}


def built(make_cell, features=4):
    cell = make_cell()
    cell.build((None, features))
    with torch.no_grad():
        for weight in cell.weights:
            weight.copy_(torch.randn(weight.shape) * 0.5)
    return cell


def initial_states(cell, batch):
    return [torch.randn(batch, cell.units) for _ in range(1 + isinstance(cell, LSTMCell))]


@pytest.mark.parametrize("kind", sorted(CELLS))
def test_recurrent_dropout_step_with_keep_all_masks_equals_plain_step(kind):
    # A rate this small keeps every unit: the masks are all 1 / (1 - 1e-8), 1 in float32.
    cell = built(lambda: CELLS[kind](recurrent_dropout=1e-8))
    x, states = torch.randn(2, 4), initial_states(cell, 2)
    cell.reset_dropout_masks(x.unsqueeze(1), training=False)
    plain_output, plain_states = cell.step(cell.project_inputs(x), states)

    cell.reset_dropout_masks(x.unsqueeze(1), training=True)
    masks = cell.get_recurrent_dropout_mask_for_cell(states[0], training=True)
    assert all(bool((m == 1).all()) for m in (masks if isinstance(masks, list) else [masks]))
    output, new_states = cell.step(cell.project_inputs(x), states)

    torch.testing.assert_close(output, plain_output)
    for state, plain_state in zip(new_states, plain_states, strict=True):
        torch.testing.assert_close(state, plain_state)


def test_non_elementwise_recurrent_activation_applies_to_each_gate():
    cell = built(lambda: LSTMCell(3, recurrent_activation="softmax"))
    x, (h, c) = torch.randn(2, 4), initial_states(cell, 2)
    cell.reset_dropout_masks(x.unsqueeze(1), training=False)
    output, _ = cell.step(cell.project_inputs(x), [h, c])

    z = x @ cell.kernel + cell.bias + h @ cell.recurrent_kernel
    z_i, z_f, z_c, z_o = z.chunk(4, dim=-1)
    softmax = activations.get("softmax")
    expected_c = softmax(z_f) * c + softmax(z_i) * torch.tanh(z_c)
    torch.testing.assert_close(output, softmax(z_o) * torch.tanh(expected_c))
