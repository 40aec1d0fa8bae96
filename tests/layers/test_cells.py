"""The cells' step paths agree with each other and with Keras 2's per-gate formulas."""

from __future__ import annotations

import pytest
import torch

from birnn import activations
from birnn.layers import GRUCell, LSTMCell, SimpleRNNCell

CELLS = {
    "simple": lambda: SimpleRNNCell(3),
    "lstm": lambda: LSTMCell(3),
    "gru": lambda: GRUCell(3),
    "gru_reset_before": lambda: GRUCell(3, reset_after=False),
    "gru_no_bias": lambda: GRUCell(3, use_bias=False),
}


def built(make_cell, features=4):
    cell = make_cell()
    cell._maybe_build((None, features))
    with torch.no_grad():
        for weight in cell.weights:
            weight.copy_(torch.randn(weight.shape) * 0.5)
    return cell


def initial_states(cell, batch):
    return [torch.randn(batch, cell.units) for _ in range(1 + isinstance(cell, LSTMCell))]


@pytest.mark.parametrize("kind", sorted(CELLS))
def test_recurrent_dropout_step_with_keep_all_masks_equals_plain_step(kind):
    cell = built(CELLS[kind])
    x, states = torch.randn(2, 4), initial_states(cell, 2)
    cell.reset_dropout_masks(x.unsqueeze(1), training=False)
    plain_output, plain_states = cell.step(cell.project_inputs(x), states)

    count = cell.gates if not isinstance(cell, SimpleRNNCell) else 1
    cell._dropout_masks = (None, [torch.ones(2, cell.units) for _ in range(count)])
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
