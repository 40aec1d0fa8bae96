"""The built-in cells, one time step of Keras 2's recurrent layers: ``SimpleRNNCell``,
``LSTMCell`` and ``GRUCell`` (what they share is ``_cells._Cell``).

Every Keras argument is named in the signatures, with its default; the base layer's
arguments (``name``, ``trainable``, ``dtype``...) go through ``**kwargs``.
"""

from __future__ import annotations

from typing import Any

import torch

from .. import activations
from ._cells import _Cell, _check_bool, affine


def _lerp(candidate: torch.Tensor, h_prev: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """``z * h_prev + (1 - z) * candidate`` as one op; under autocast the three may differ in
    dtype, which ``torch.lerp`` refuses."""
    dtype = candidate.dtype
    return torch.lerp(candidate, h_prev.to(dtype), z.to(dtype))


class SimpleRNNCell(_Cell):
    """Keras 2's ``SimpleRNNCell``: ``h = activation(x @ kernel + bias + h_prev @ recurrent)``.

    Args:
        units: positive int, the size of the output and state.
        activation: default ``"tanh"``.
        use_bias: whether the cell has a bias (default ``True``).
        kernel_initializer: initializer of ``kernel`` (default ``"glorot_uniform"``).
        recurrent_initializer: initializer of ``recurrent_kernel`` (default ``"orthogonal"``).
        bias_initializer: initializer of ``bias`` (default ``"zeros"``).
        kernel_regularizer, recurrent_regularizer, bias_regularizer: optional penalties on
            those weights, added to ``losses`` (default ``None``).
        kernel_constraint, recurrent_constraint, bias_constraint: optional projections of
            those weights after each optimizer step (default ``None``).
        dropout: fraction of the inputs dropped while training, in ``[0, 1)`` (default 0).
        recurrent_dropout: fraction of the state dropped while training (default 0).
        **kwargs: base layer arguments (``name``, ``trainable``, ``dtype``...).

    Example:
        >>> cell = SimpleRNNCell(3)
        >>> output, states = cell(torch.ones(2, 4), [torch.zeros(2, 3)])
        >>> output.shape, len(states)
        (torch.Size([2, 3]), 1)
    """

    gates = 1

    def _loop_weights(self):
        return [self.recurrent_kernel]

    def _loop_step(self):
        return self._step

    def _step(self, recurrent_kernel, projected, states):
        h = self.activation(affine(projected, states[0], recurrent_kernel))
        return h, [h]

    def _step_with_recurrent_dropout(self, projected, states):
        h = self.activation(projected + self._recurrent_projection(states[0]))
        return h, [h]

    def _kernel_mode(self):
        return {activations.tanh: "RNN_TANH", activations.relu: "RNN_RELU"}.get(self.activation)

    def _cell_config(self):
        config = {
            "units": self.units,
            "activation": activations.serialize(self.activation),
            "use_bias": self.use_bias,
        }
        config.update(self._weight_option_config())
        config.update(dropout=self.dropout, recurrent_dropout=self.recurrent_dropout)
        return config


class _GatedCell(_Cell):
    """A cell with a recurrent activation and Keras's ``implementation`` switch."""

    def __init__(
        self,
        units: int,
        activation: Any = "tanh",
        recurrent_activation: Any = "sigmoid",
        implementation: int = 2,
        **kwargs: Any,
    ):
        super().__init__(units, activation=activation, **kwargs)
        self._set_options(recurrent_activation=recurrent_activation)
        if implementation not in (1, 2):
            raise ValueError(
                f"{type(self).__name__}: implementation must be 1 or 2. "
                f"Received: implementation={implementation!r}."
            )
        # Keras 2 switches to implementation 1 whenever recurrent dropout is on.
        self.implementation = 1 if self.recurrent_dropout > 0.0 else implementation

    def _mask_count(self) -> int:
        # tf-keras runs a layer whose math cuDNN has through one fused op that applies only
        # the first input mask, whatever `implementation` says; otherwise implementation 1
        # draws a mask per gate.
        if self.implementation == 1 and not self._keras_fuses():
            return self.gates
        return 1

    def _kernel_mode(self):
        gated = (
            self.activation is activations.tanh and self.recurrent_activation is activations.sigmoid
        )
        return self._kernel_name if gated else None

    def _keras_fuses(self) -> bool:
        """Whether tf-keras computes this layer with its cuDNN-compatible fused op."""
        return (
            self.activation is activations.tanh
            and self.recurrent_activation is activations.sigmoid
            and self.recurrent_dropout == 0.0
            and self.use_bias
        )

    def _recurrent_activations(self, z: torch.Tensor, count: int) -> list[torch.Tensor]:
        """``recurrent_activation`` of the ``count`` gate blocks side by side in ``z``."""
        if activations.is_elementwise(self.recurrent_activation):
            return list(self.recurrent_activation(z).chunk(count, dim=-1))
        return [self.recurrent_activation(part) for part in z.chunk(count, dim=-1)]

    def _gated_config(self) -> dict[str, Any]:
        return {
            "units": self.units,
            "activation": activations.serialize(self.activation),
            "recurrent_activation": activations.serialize(self.recurrent_activation),
            "use_bias": self.use_bias,
        }


class LSTMCell(_GatedCell):
    """Keras 2's ``LSTMCell``; gates ``i, f, c, o``; states ``[h, c]``.

    Args:
        units: positive int, the size of the output and of each state.
        activation: of the cell input and state (default ``"tanh"``).
        recurrent_activation: of the gates (default ``"sigmoid"``).
        unit_forget_bias: if true (default), the forget gate's bias starts at exactly 1.
        use_bias: whether the cell has a bias (default ``True``).
        kernel_initializer: initializer of ``kernel`` (default ``"glorot_uniform"``).
        recurrent_initializer: initializer of ``recurrent_kernel`` (default ``"orthogonal"``).
        bias_initializer: initializer of ``bias`` (default ``"zeros"``).
        kernel_regularizer, recurrent_regularizer, bias_regularizer: optional penalties on
            those weights, added to ``losses`` (default ``None``).
        kernel_constraint, recurrent_constraint, bias_constraint: optional projections of
            those weights after each optimizer step (default ``None``).
        dropout: fraction of the inputs dropped while training, in ``[0, 1)`` (default 0).
        recurrent_dropout: fraction of the state dropped while training (default 0).
        implementation: 1 (a dropout mask per gate) or 2 (default).
        **kwargs: base layer arguments (``name``, ``trainable``, ``dtype``...).

    Example:
        >>> cell = LSTMCell(3)
        >>> output, (h, c) = cell(torch.ones(2, 4), [torch.zeros(2, 3), torch.zeros(2, 3)])
        >>> output.shape, cell.bias[3:6].tolist()
        (torch.Size([2, 3]), [1.0, 1.0, 1.0])
    """

    gates = 4
    _kernel_name = "LSTM"

    def __init__(
        self,
        units: int,
        activation: Any = "tanh",
        recurrent_activation: Any = "sigmoid",
        use_bias: bool = True,
        kernel_initializer: Any = "glorot_uniform",
        recurrent_initializer: Any = "orthogonal",
        bias_initializer: Any = "zeros",
        unit_forget_bias: bool = True,
        kernel_regularizer: Any = None,
        recurrent_regularizer: Any = None,
        bias_regularizer: Any = None,
        kernel_constraint: Any = None,
        recurrent_constraint: Any = None,
        bias_constraint: Any = None,
        dropout: float = 0.0,
        recurrent_dropout: float = 0.0,
        implementation: int = 2,
        **kwargs: Any,
    ):
        super().__init__(
            units,
            activation=activation,
            recurrent_activation=recurrent_activation,
            use_bias=use_bias,
            kernel_initializer=kernel_initializer,
            recurrent_initializer=recurrent_initializer,
            bias_initializer=bias_initializer,
            kernel_regularizer=kernel_regularizer,
            recurrent_regularizer=recurrent_regularizer,
            bias_regularizer=bias_regularizer,
            kernel_constraint=kernel_constraint,
            recurrent_constraint=recurrent_constraint,
            bias_constraint=bias_constraint,
            dropout=dropout,
            recurrent_dropout=recurrent_dropout,
            implementation=implementation,
            **kwargs,
        )
        self.unit_forget_bias = _check_bool("LSTMCell", "unit_forget_bias", unit_forget_bias)

    @property
    def state_size(self) -> list[int]:
        return [self.units, self.units]

    @property
    def state_count(self) -> int:
        return 2

    def _bias_initializer(self):
        if not self.unit_forget_bias:
            return self.bias_initializer
        init, units = self.bias_initializer, self.units

        def forget_bias_one(shape, dtype=torch.float32):
            return torch.cat(
                [init((units,), dtype), torch.ones(units, dtype=dtype), init((2 * units,), dtype)]
            )

        return forget_bias_one

    def _loop_weights(self):
        return [self.recurrent_kernel]

    def _loop_step(self):
        return self._step

    def _step(self, recurrent_kernel, projected, states):
        return self._gated(affine(projected, states[0], recurrent_kernel), states[1])

    def _step_with_recurrent_dropout(self, projected, states):
        return self._gated(projected + self._recurrent_projection(states[0]), states[1])

    def _gated(self, z, c_prev):
        """The step from the gates' pre-activations ``z``."""
        units = self.units
        z_if, z_c, z_o = z.split([2 * units, units, units], dim=-1)
        i, f = self._recurrent_activations(z_if, 2)
        c = torch.addcmul(f * c_prev, i, self.activation(z_c))
        h = self.recurrent_activation(z_o) * self.activation(c)
        return h, [h, c]

    def _cell_config(self):
        config = self._gated_config()
        options = self._weight_option_config()
        config.update({k: options[k] for k in options if k.endswith("_initializer")})
        config["unit_forget_bias"] = self.unit_forget_bias
        config.update({k: options[k] for k in options if not k.endswith("_initializer")})
        config.update(
            dropout=self.dropout,
            recurrent_dropout=self.recurrent_dropout,
            implementation=self.implementation,
        )
        return config


class GRUCell(_GatedCell):
    """Keras 2's ``GRUCell``; gates ``z, r, h``; ``h = z * h_prev + (1 - z) * candidate``.

    Args:
        units: positive int, the size of the output and state.
        activation: of the candidate state (default ``"tanh"``).
        recurrent_activation: of the gates (default ``"sigmoid"``).
        use_bias: whether the cell has a bias (default ``True``).
        kernel_initializer: initializer of ``kernel`` (default ``"glorot_uniform"``).
        recurrent_initializer: initializer of ``recurrent_kernel`` (default ``"orthogonal"``).
        bias_initializer: initializer of ``bias`` (default ``"zeros"``).
        kernel_regularizer, recurrent_regularizer, bias_regularizer: optional penalties on
            those weights, added to ``losses`` (default ``None``).
        kernel_constraint, recurrent_constraint, bias_constraint: optional projections of
            those weights after each optimizer step (default ``None``).
        dropout: fraction of the inputs dropped while training, in ``[0, 1)`` (default 0).
        recurrent_dropout: fraction of the state dropped while training (default 0).
        implementation: 1 (a dropout mask per gate) or 2 (default).
        reset_after: apply the reset gate after the recurrent matmul (default, and what
            cuDNN computes; bias ``(2, 3 * units)``) or before it (bias ``(3 * units,)``).
        **kwargs: base layer arguments (``name``, ``trainable``, ``dtype``...).

    Example:
        >>> cell = GRUCell(3)
        >>> cell.build((None, 4))
        >>> tuple(cell.bias.shape)
        (2, 9)
    """

    gates = 3
    _kernel_name = "GRU"

    def __init__(
        self,
        units: int,
        activation: Any = "tanh",
        recurrent_activation: Any = "sigmoid",
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
        implementation: int = 2,
        reset_after: bool = True,
        **kwargs: Any,
    ):
        super().__init__(
            units,
            activation=activation,
            recurrent_activation=recurrent_activation,
            use_bias=use_bias,
            kernel_initializer=kernel_initializer,
            recurrent_initializer=recurrent_initializer,
            bias_initializer=bias_initializer,
            kernel_regularizer=kernel_regularizer,
            recurrent_regularizer=recurrent_regularizer,
            bias_regularizer=bias_regularizer,
            kernel_constraint=kernel_constraint,
            recurrent_constraint=recurrent_constraint,
            bias_constraint=bias_constraint,
            dropout=dropout,
            recurrent_dropout=recurrent_dropout,
            implementation=implementation,
            **kwargs,
        )
        self.reset_after = _check_bool("GRUCell", "reset_after", reset_after)

    def _keras_fuses(self) -> bool:
        return self.reset_after and super()._keras_fuses()

    def _kernel_mode(self):
        mode = super()._kernel_mode()
        if mode is None or self.reset_after:
            return mode
        return "GRU_RESET_BEFORE"  # birnn's CPU kernel only

    def _bias_shape(self):
        width = 3 * self.units
        return (2, width) if self.reset_after else (width,)

    def _input_bias(self):
        if self.bias is None or not self.reset_after:
            return self.bias
        return self.bias[0]

    def _loop_weights(self):
        if self.reset_after:
            return [self.recurrent_kernel, None if self.bias is None else self.bias[1]]
        units = self.units
        return list(self.recurrent_kernel.split([2 * units, units], dim=1))

    def _loop_step(self):
        return self._step_reset_after if self.reset_after else self._step_reset_before

    def _step_reset_after(self, recurrent_kernel, recurrent_bias, projected, states):
        h_prev, units = states[0], self.units
        x_zr, x_h = projected.split([2 * units, units], dim=-1)
        if recurrent_bias is None:
            inner = h_prev @ recurrent_kernel
        else:
            inner = affine(recurrent_bias, h_prev, recurrent_kernel)
        inner_zr, inner_h = inner.split([2 * units, units], dim=-1)
        z, r = self._recurrent_activations(x_zr + inner_zr, 2)
        candidate = self.activation(x_h + r * inner_h)
        h = _lerp(candidate, h_prev, z)
        return h, [h]

    def _step_reset_before(self, kernel_zr, kernel_h, projected, states):
        h_prev, units = states[0], self.units
        x_zr, x_h = projected.split([2 * units, units], dim=-1)
        z, r = self._recurrent_activations(affine(x_zr, h_prev, kernel_zr), 2)
        candidate = self.activation(affine(x_h, r * h_prev, kernel_h))
        h = _lerp(candidate, h_prev, z)
        return h, [h]

    def _step_with_recurrent_dropout(self, projected, states):
        """The step with Keras 2's implementation 1: one recurrent dropout mask per gate."""
        h_prev = states[0]
        x_z, x_r, x_h = projected.chunk(3, dim=-1)
        h_z, h_r, h_h = self._dropped_states(h_prev)
        u_z, u_r, u_h = self.recurrent_kernel.chunk(3, dim=1)
        if self.reset_after:
            inner = [h_z @ u_z, h_r @ u_r, h_h @ u_h]
            if self.bias is not None:
                inner = [part + b for part, b in zip(inner, self.bias[1].chunk(3))]
            z = self.recurrent_activation(x_z + inner[0])
            r = self.recurrent_activation(x_r + inner[1])
            candidate = self.activation(x_h + r * inner[2])
        else:
            z = self.recurrent_activation(x_z + h_z @ u_z)
            r = self.recurrent_activation(x_r + h_r @ u_r)
            candidate = self.activation(x_h + (r * h_h) @ u_h)
        h = z * h_prev + (1.0 - z) * candidate
        return h, [h]

    def _cell_config(self):
        config = self._gated_config()
        config.update(self._weight_option_config())
        config.update(
            dropout=self.dropout,
            recurrent_dropout=self.recurrent_dropout,
            implementation=self.implementation,
            reset_after=self.reset_after,
        )
        return config
