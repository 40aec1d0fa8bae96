"""One time step of each Keras 2 recurrent cell: SimpleRNNCell, LSTMCell, GRUCell.

Weights use Keras's layout: ``kernel`` ``(input_dim, k * units)``,
``recurrent_kernel`` ``(units, k * units)`` and ``bias``, with gates in the order
``i, f, c, o`` (LSTM) and ``z, r, h`` (GRU). The sequence loop in ``_recurrent``
projects every step's input in one matmul (``project_inputs``) and then calls
``step`` per time step; ``forward`` is Keras's single-step ``cell(inputs, states)``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from .. import activations
from ._layer import Layer, check_units, serialize_weight_options

_WEIGHT_OPTIONS = ("kernel", "recurrent", "bias")


def affine(inputs: torch.Tensor, h: torch.Tensor, kernel: torch.Tensor) -> torch.Tensor:
    """``inputs + h @ kernel`` in one op, for one cell's 2-D ``kernel`` or two cells' stacked
    ``(2, ...)`` kernels (``h`` stacked alike; ``inputs`` stacked, or a stack of vectors).

    Example:
        >>> affine(torch.ones(2, 1, 3), torch.ones(2, 1, 2), torch.ones(2, 2, 3))[0].tolist()
        [[3.0, 3.0, 3.0]]
    """
    if kernel.dim() == 2:
        return torch.addmm(inputs, h, kernel)
    return torch.baddbmm(inputs if inputs.dim() == 3 else inputs.unsqueeze(-2), h, kernel)


def alike_weights(first: Sequence[torch.Tensor | None], second: Sequence) -> bool:
    """Whether two cells' weights pair up: both absent, or of one shape and dtype each.

    Example:
        >>> alike_weights([torch.ones(2), None], [torch.zeros(2), None])
        True
    """
    return all(
        (a is None) == (b is None) and (a is None or (a.shape, a.dtype) == (b.shape, b.dtype))
        for a, b in zip(first, second)
    )


def _check_bool(owner: str, name: str, value: Any) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{owner}: {name} must be a bool. Received: {name}={value!r}.")
    return bool(value)


def _check_rate(owner: str, name: str, rate: Any) -> float:
    if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0.0 <= rate < 1.0:
        raise ValueError(f"{owner}: {name} must be a float in [0, 1). Received: {name}={rate!r}.")
    return float(rate)


def dropout_masks(
    count: int, rate: float, shape: tuple[int, int], like: torch.Tensor
) -> list[torch.Tensor]:
    """``count`` inverted-dropout masks of ``shape``: 0 or ``1 / (1 - rate)``, as in Keras."""
    keep = 1.0 - rate
    return [
        torch.bernoulli(torch.full(shape, keep, dtype=like.dtype, device=like.device)) / keep
        for _ in range(count)
    ]


def flat_state_sizes(cell: Any) -> list[int]:
    """A cell's ``state_size`` as a flat list: an int, a list of ints, or (stacked cells) a
    list mixing ints and lists of ints.

    Example:
        >>> flat_state_sizes(StackedRNNCells([LSTMCell(4), GRUCell(3)]))
        [4, 4, 3]
    """
    size = cell.state_size
    if isinstance(size, int):
        return [size]
    flat: list[int] = []
    for item in size:
        flat.extend([item] if isinstance(item, int) else list(item))
    return flat


def flatten_states(states: Any) -> list:
    """The tensors of a state structure (a tensor, or lists of tensors nested per cell as
    a stacked cell's ``state_size`` is), in order.

    Example:
        >>> h, c, s = torch.zeros(1, 2), torch.ones(1, 2), torch.zeros(1, 3)
        >>> [tuple(t.shape) for t in flatten_states([[h, c], s])]
        [(1, 2), (1, 2), (1, 3)]
    """
    if not isinstance(states, (list, tuple)):
        return [states]
    # A list holding no tensor or array is one state given as nested numbers, not a structure.
    return [
        tensor
        for item in states
        for tensor in (flatten_states(item) if _holds_arrays(item) else [item])
    ]


def _holds_arrays(value: Any) -> bool:
    if isinstance(value, (list, tuple)):
        return any(_holds_arrays(item) for item in value)
    return torch.is_tensor(value) or isinstance(value, np.ndarray)


def nest_states(cell: Any, flat: list) -> list:
    """``flat`` states in the structure of the cell's ``state_size``, as Keras returns them:
    one entry per top-level size, a tensor for an int and a list for a list (a stacked
    ``LSTMCell``'s ``[h, c]``); a flat ``state_size`` gives the flat list.

    Example:
        >>> states = [torch.zeros(1, 4), torch.zeros(1, 4), torch.zeros(1, 3)]
        >>> nested = nest_states(StackedRNNCells([LSTMCell(4), GRUCell(3)]), states)
        >>> [len(entry) if isinstance(entry, list) else "tensor" for entry in nested]
        [2, 'tensor']
    """
    size = cell.state_size
    if isinstance(size, int) or all(isinstance(item, int) for item in size):
        return list(flat)
    nested, start = [], 0
    for item in size:
        count = 1 if isinstance(item, int) else len(item)
        nested.append(flat[start] if isinstance(item, int) else list(flat[start : start + count]))
        start += count
    return nested


def cell_output_size(cell: Any) -> int:
    """A cell's ``output_size``, or its first state's size when it has none (as Keras)."""
    size = getattr(cell, "output_size", None)
    return size if size is not None else flat_state_sizes(cell)[0]


def zero_states(cell: Any, batch: int, like: torch.Tensor) -> list[torch.Tensor]:
    """A cell's default initial states: zeros ``(batch, size)`` like ``like``, or what a
    birnn layer cell's ``get_initial_state(batch, like)`` returns."""
    if isinstance(cell, Layer) and hasattr(cell, "get_initial_state"):
        return cell.get_initial_state(batch, like)
    return [like.new_zeros(batch, size) for size in flat_state_sizes(cell)]


class _Cell(Layer):
    """What the built-in cells share: arguments, weights, dropout and config."""

    gates = 1

    def __init__(
        self,
        units: int,
        activation: Any = "tanh",
        use_bias: bool = True,
        kernel_initializer: Any = "glorot_uniform",
        recurrent_initializer: Any = "orthogonal",
        bias_initializer: Any = "zeros",
        kernel_regularizer: Any = None,
        recurrent_regularizer: Any = None,
        bias_regularizer: Any = None,
        kernel_constraint: Any = None,
        recurrent_constraint: Any = None,
        bias_constraint: Any = None,
        dropout: float = 0.0,
        recurrent_dropout: float = 0.0,
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        owner = type(self).__name__
        self.units = check_units(owner, units)
        self.use_bias = _check_bool(owner, "use_bias", use_bias)
        self._set_options(
            activation=activation,
            kernel_initializer=kernel_initializer,
            recurrent_initializer=recurrent_initializer,
            bias_initializer=bias_initializer,
            kernel_regularizer=kernel_regularizer,
            recurrent_regularizer=recurrent_regularizer,
            bias_regularizer=bias_regularizer,
            kernel_constraint=kernel_constraint,
            recurrent_constraint=recurrent_constraint,
            bias_constraint=bias_constraint,
        )
        self.dropout = _check_rate(owner, "dropout", dropout)
        self.recurrent_dropout = _check_rate(owner, "recurrent_dropout", recurrent_dropout)
        self.implementation = 2
        self._dropout_masks: tuple[list | None, list | None] = (None, None)
        self._declare_weights("kernel", "recurrent_kernel", "bias" if self.use_bias else None)

    # -- sizes ------------------------------------------------------------------------------

    @property
    def state_size(self) -> int | list[int]:
        return self.units

    @property
    def output_size(self) -> int:
        return self.units

    @property
    def state_count(self) -> int:
        return 1

    # -- weights ----------------------------------------------------------------------------

    def _bias_shape(self) -> tuple[int, ...]:
        return (self.gates * self.units,)

    def _bias_initializer(self) -> Any:
        return self.bias_initializer

    def build(self, input_shape: tuple) -> None:
        input_dim = input_shape[-1]
        if input_dim is None:
            raise ValueError(
                f"{type(self).__name__}: the last dimension of the inputs must be known. "
                f"Received: input_shape={tuple(input_shape)}."
            )
        width = self.gates * self.units
        self.add_weight(
            "kernel",
            (input_dim, width),
            self.kernel_initializer,
            self.kernel_regularizer,
            self.kernel_constraint,
        )
        self.add_weight(
            "recurrent_kernel",
            (self.units, width),
            self.recurrent_initializer,
            self.recurrent_regularizer,
            self.recurrent_constraint,
        )
        for weight in (self.kernel, self.recurrent_kernel):
            # Kept in PyTorch's (gates * units, features) memory order: the fused kernels read
            # weight.t() without a copy, and gradients accumulate in the same order.
            weight.data = weight.data.t().contiguous().t()
        if self.use_bias:
            self.add_weight(
                "bias",
                self._bias_shape(),
                self._bias_initializer(),
                self.bias_regularizer,
                self.bias_constraint,
            )
        else:
            self.bias = None
        self.built = True

    # -- dropout ----------------------------------------------------------------------------

    def _mask_count(self) -> int:
        """Dropout masks per call, each for an equal block of the gates."""
        return 1

    def reset_dropout_masks(self, x: torch.Tensor, training: bool) -> None:
        """Draws this call's dropout masks, reused at every time step (Keras semantics).

        Args:
            x: the call's inputs ``(batch, time, features)``.
            training: whether dropout is active.
        """
        batch = x.shape[0]
        input_masks = recurrent_masks = None
        if training and self.dropout > 0.0:
            input_masks = dropout_masks(self._mask_count(), self.dropout, (batch, x.shape[-1]), x)
        if training and self.recurrent_dropout > 0.0:
            recurrent_masks = dropout_masks(
                self._mask_count(), self.recurrent_dropout, (batch, self.units), x
            )
        drawn_input, drawn_recurrent = self._dropout_masks
        nothing_drawn = drawn_input is None and drawn_recurrent is None
        if nothing_drawn and input_masks is None and recurrent_masks is None:
            return  # nothing to reset (and a module attribute write is not free)
        self._dropout_masks = (input_masks, recurrent_masks)

    def get_dropout_mask_for_cell(
        self, inputs: torch.Tensor, training: bool, count: int = 1
    ) -> torch.Tensor | list[torch.Tensor] | None:
        """The input dropout masks of the current call (Keras 2's ``DropoutRNNCellMixin``).

        A layer draws them once per call, before the first step, and reuses them at every
        step: one mask, or one per gate with ``implementation=1`` (as tf-keras draws them).
        When none are drawn yet, ``count`` masks are drawn for ``inputs`` (ones when not
        ``training``).

        Args:
            inputs: ``(batch, input_dim)``, the step inputs the masks multiply.
            training: whether dropout is active.
            count: how many masks to draw when none are drawn yet.

        Returns:
            ``None`` without dropout; else a mask ``(batch, input_dim)`` of 0 and
            ``1 / (1 - dropout)``, or a list of them when the call uses several.

        Example:
            >>> cell = LSTMCell(2, dropout=0.5)
            >>> cell.get_dropout_mask_for_cell(torch.ones(3, 4), training=True).shape
            torch.Size([3, 4])
        """
        return self._call_dropout_masks(0, self.dropout, inputs, training, count)

    def get_recurrent_dropout_mask_for_cell(
        self, inputs: torch.Tensor, training: bool, count: int = 1
    ) -> torch.Tensor | list[torch.Tensor] | None:
        """The recurrent dropout masks of the current call, ``(batch, units)`` each; as
        ``get_dropout_mask_for_cell``, for the previous state ``inputs``."""
        return self._call_dropout_masks(1, self.recurrent_dropout, inputs, training, count)

    def _call_dropout_masks(self, index, rate, inputs, training, count):
        if rate == 0.0:
            return None
        masks = self._dropout_masks[index]
        if masks is None:
            if not training:
                return (
                    inputs.new_ones(inputs.shape)
                    if count == 1
                    else [inputs.new_ones(inputs.shape)] * count
                )
            masks = dropout_masks(count, rate, tuple(inputs.shape), inputs)
            drawn = list(self._dropout_masks)
            drawn[index] = masks
            self._dropout_masks = (drawn[0], drawn[1])
        return masks[0] if len(masks) == 1 else masks

    # -- the math ---------------------------------------------------------------------------

    def _weights(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
        """``(kernel, recurrent_kernel, bias)`` in Keras's layout, for ``_kernels``."""
        # From the parameter dict when the weights are plain parameters (nn.Module's attribute
        # lookup costs more, on every call); as attributes when a parametrization, pruning or a
        # buffer serves them.
        parameters = self._parameters
        kernel, recurrent_kernel = parameters.get("kernel"), parameters.get("recurrent_kernel")
        if kernel is None or recurrent_kernel is None or "bias" not in parameters:
            return self.kernel, self.recurrent_kernel, self.bias
        return kernel, recurrent_kernel, parameters["bias"]

    def _kernel_mode(self) -> str | None:
        """The ``_kernels`` mode that computes this cell's math exactly, or ``None``."""
        raise NotImplementedError

    def _math_summary(self) -> str:
        """The arguments that decide ``_kernel_mode``, for errors."""
        names = [f"activation={activations.serialize(self.activation)!r}"]
        if hasattr(self, "recurrent_activation"):
            recurrent = activations.serialize(self.recurrent_activation)
            names.append(f"recurrent_activation={recurrent!r}")
        if hasattr(self, "reset_after"):
            names.append(f"reset_after={self.reset_after}")
        return f"{type(self).__name__}({', '.join(names)})"

    def _input_bias(self) -> torch.Tensor | None:
        return self.bias

    def project_inputs(self, x: torch.Tensor) -> torch.Tensor:
        """Every step's input projection ``x @ kernel + input bias``, with input dropout.

        Args:
            x: ``(batch, time, input_dim)`` or ``(batch, input_dim)``.

        Returns:
            ``(..., gates * units)``.
        """
        input_masks = self._dropout_masks[0]
        if input_masks is None:
            projected = x @ self.kernel
        else:
            kernels = self.kernel.chunk(len(input_masks), dim=1)
            if x.dim() == 3:
                input_masks = [m.unsqueeze(1) for m in input_masks]
            projected = torch.cat([(x * m) @ k for m, k in zip(input_masks, kernels)], dim=-1)
        bias = self._input_bias()
        return projected if bias is None else projected + bias

    def _dropped_states(self, h: torch.Tensor) -> list[torch.Tensor]:
        """``h`` once per recurrent mask (or once, undropped)."""
        recurrent_masks = self._dropout_masks[1]
        if recurrent_masks is None:
            return [h]
        return [h * m for m in recurrent_masks]

    def _recurrent_projection(self, h: torch.Tensor) -> torch.Tensor:
        dropped = self._dropped_states(h)
        if len(dropped) == 1:
            return dropped[0] @ self.recurrent_kernel
        kernels = self.recurrent_kernel.chunk(len(dropped), dim=1)
        return torch.cat([d @ k for d, k in zip(dropped, kernels)], dim=-1)

    def step(
        self, projected: torch.Tensor, states: list[torch.Tensor]
    ) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """One time step from the projected input; returns ``(output, new_states)``."""
        return self.step_function()(projected, states)

    def step_function(self) -> Callable:
        """``step`` for one call's whole sequence, with the weights prepared (split) once."""
        if self._dropout_masks[1] is not None:
            return self._step_with_recurrent_dropout
        return functools.partial(self._loop_step(), *self._loop_weights())

    def pair_step_function(self, other: _Cell) -> Callable | None:
        """One step of this cell and ``other`` together, on their states stacked ``(2, batch,
        size)`` and inputs ``(2, batch, gates * units)``: one batched matmul per product for
        both, and their elementwise ops once. ``None`` unless the two compute the same math
        (class, units, activations, ``reset_after``, bias or not, dtype) and neither drops
        recurrent states in this call.

        Example:
            >>> from birnn.layers import GRUCell
            >>> a, b = GRUCell(2), GRUCell(2)
            >>> a.build((1, 3)), b.build((1, 3))
            (None, None)
            >>> step = a.pair_step_function(b)
            >>> output, _ = step(torch.ones(2, 1, 6), [torch.zeros(2, 1, 2)])
            >>> output.shape
            torch.Size([2, 1, 2])
        """
        if not self._same_math(other):
            return None
        if self._dropout_masks[1] is not None or other._dropout_masks[1] is not None:
            return None  # recurrent dropout: each cell's own step
        weights = self._loop_weights(), other._loop_weights()
        if not alike_weights(*weights):
            return None
        stacked = [None if a is None else torch.stack((a, b)) for a, b in zip(*weights)]
        return functools.partial(self._loop_step(), *stacked)

    def _same_math(self, other: nn.Module) -> bool:
        """Same class, units, activations and ``reset_after`` (for a GRU)."""
        return (
            type(other) is type(self)
            and other.units == self.units
            and other.activation == self.activation
            and getattr(other, "recurrent_activation", None)
            == getattr(self, "recurrent_activation", None)
            and getattr(other, "reset_after", None) == getattr(self, "reset_after", None)
        )

    def _loop_step(self) -> Callable:
        """The step without recurrent dropout, as a function of ``(*self._loop_weights(),
        projected, states)``; the weights may be stacked ``(2, ...)`` for two cells."""
        raise NotImplementedError

    def _loop_weights(self) -> list[torch.Tensor | None]:
        """The recurrent weights ``_loop_step`` takes."""
        raise NotImplementedError

    def _step_with_recurrent_dropout(self, projected, states):
        """The step with this call's recurrent dropout masks."""
        raise NotImplementedError

    def forward(
        self,
        inputs: torch.Tensor,
        states: list[torch.Tensor] | torch.Tensor,
        training: bool | None = None,
    ) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """Keras's single step: ``cell(inputs, states) -> (output, new_states)``.

        Args:
            inputs: ``(batch, input_dim)``.
            states: the previous states, each ``(batch, units)``; a single state may be
                given as a bare tensor, and then comes back bare (as in tf-keras).
            training: draw fresh dropout masks when true (``None`` follows ``self.training``).
        """
        owner = f"{type(self).__name__} '{self.name}'"
        if not torch.is_tensor(inputs) or inputs.dim() != 2:
            received = tuple(inputs.shape) if torch.is_tensor(inputs) else type(inputs).__name__
            raise ValueError(
                f"{owner}: inputs must be a 2-D tensor (batch, input_dim). Received: {received}."
            )
        bare = torch.is_tensor(states)
        states = [states] if bare else list(states)
        if len(states) != self.state_count:
            raise ValueError(
                f"{owner}: states must hold {self.state_count} tensor(s) of shape "
                f"(batch, {self.units}). Received: {len(states)} tensor(s)."
            )
        training = self.training if training is None else training
        self.reset_dropout_masks(inputs.unsqueeze(1), bool(training))
        output, new_states = self.step(self.project_inputs(inputs), states)
        # As tf-keras: a single state given bare comes back bare.
        return output, new_states[0] if bare and len(new_states) == 1 else new_states

    def get_initial_state(self, batch_size: int, like: torch.Tensor) -> list[torch.Tensor]:
        """Zero states, ``state_count`` tensors of ``(batch_size, units)``."""
        return [like.new_zeros(batch_size, self.units) for _ in range(self.state_count)]

    # -- config -----------------------------------------------------------------------------

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(self._cell_config())
        return config

    def _cell_config(self) -> dict[str, Any]:
        """The cell's own keys, in the order Keras 2's RNN layers write them."""
        raise NotImplementedError

    def _weight_option_config(self) -> dict[str, Any]:
        options = {}
        for kind in ("initializer", "regularizer", "constraint"):
            for prefix in _WEIGHT_OPTIONS:
                options[f"{prefix}_{kind}"] = getattr(self, f"{prefix}_{kind}")
        return serialize_weight_options(options)

    def extra_repr(self) -> str:
        return f"name={self.name!r}, units={self.units}"
