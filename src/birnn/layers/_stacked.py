"""``StackedRNNCells``: several cells run as one, each feeding the next within a time step."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from ._cells import cell_output_size, flat_state_sizes
from ._layer import Layer
from ._serialization import deserialize, serialize


class StackedRNNCells(Layer):
    """Wraps a list of cells so that ``RNN`` runs them as a stack, as Keras 2 does.

    The states are each cell's states in order, flattened: ``[*cell0_states, *cell1_states]``.

    Args:
        cells: a non-empty list of cells (``LSTMCell``, ``GRUCell``, ``SimpleRNNCell`` or
            any module with ``state_size`` and ``call(inputs, states)``).

    Example:
        >>> cells = StackedRNNCells([LSTMCell(4), GRUCell(3)])
        >>> cells.state_size, cells.output_size
        ([4, 4, 3], 3)
    """

    def __init__(self, cells: list[nn.Module], **kwargs: Any):
        super().__init__(**kwargs)
        if not isinstance(cells, (list, tuple)) or not cells:
            raise ValueError(
                f"StackedRNNCells: cells must be a non-empty list of cells. Received: {cells!r}."
            )
        for index, cell in enumerate(cells):
            if not isinstance(cell, nn.Module) or not hasattr(cell, "state_size"):
                raise ValueError(
                    f"StackedRNNCells: cells[{index}] must be a module with `state_size`. "
                    f"Received: {cell!r}."
                )
        self.cells = nn.ModuleList(cells)

    @property
    def state_size(self) -> list[int]:
        return [s for cell in self.cells for s in flat_state_sizes(cell)]

    @property
    def output_size(self) -> int:
        return cell_output_size(self.cells[-1])

    def _sublayers(self) -> list[nn.Module]:
        return list(self.cells)

    def _input_shape_from_weights(self, state_dict: dict, prefix: str) -> tuple | None:
        first = self.cells[0]
        if not isinstance(first, Layer):
            return None
        return first._input_shape_from_weights(state_dict, prefix + "cells.0.")

    def build(self, input_shape: tuple) -> None:
        width = input_shape[-1]
        for cell in self.cells:
            if isinstance(cell, Layer):
                cell._maybe_build((input_shape[0], width), self._build_device)
            width = cell_output_size(cell)
        self.built = True

    def reset_dropout_masks(self, x: torch.Tensor, training: bool) -> None:
        for cell in self.cells:
            if hasattr(cell, "reset_dropout_masks"):
                cell.reset_dropout_masks(x, training)

    def forward(self, inputs: torch.Tensor, states: list[torch.Tensor], training=None):
        new_states: list[torch.Tensor] = []
        start = 0
        for cell in self.cells:
            count = len(flat_state_sizes(cell))
            cell_states = list(states[start : start + count])
            start += count
            if hasattr(cell, "step"):
                inputs, cell_states = cell.step(cell.project_inputs(inputs), cell_states)
            else:
                inputs, cell_states = cell(inputs, cell_states)
                cell_states = [cell_states] if torch.is_tensor(cell_states) else list(cell_states)
            new_states.extend(cell_states)
        return inputs, new_states

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config["cells"] = [serialize(cell) for cell in self.cells]
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any], custom_objects: dict | None = None):
        config = dict(config)
        cells = [deserialize(c, custom_objects) for c in config.pop("cells")]
        return cls(cells, **config)
