"""``SimpleRNN``, ``LSTM`` and ``GRU``: an ``RNN`` over the cell of the same name, whose
constructor takes the cell's arguments, as Keras's do.

Every Keras argument is named in the signature, with its default. The base layer's
arguments (``name``, ``trainable``, ``dtype``, ``input_shape``, ``batch_input_shape``,
``batch_size``, ``input_dim``, ``input_length``, ``weights``) go through ``**kwargs``.
"""

from __future__ import annotations

from typing import Any

from .. import regularizers as regularizers_module
from .._objects import snake_case
from ._cells import _Cell
from ._layer import Layer
from ._recurrent import RNN
from ._rnn_cells import GRUCell, LSTMCell, SimpleRNNCell

_WEIGHT_ARGUMENTS = """
        use_bias: whether the layer has a bias (default ``True``).
        kernel_initializer: initializer of ``kernel``, the input weights
            (default ``"glorot_uniform"``).
        recurrent_initializer: initializer of ``recurrent_kernel``, the state weights
            (default ``"orthogonal"``).
        bias_initializer: initializer of ``bias`` (default ``"zeros"``).
        kernel_regularizer, recurrent_regularizer, bias_regularizer: optional penalties on
            those weights, added to ``losses`` (default ``None``).
        activity_regularizer: optional penalty on the output (default ``None``).
        kernel_constraint, recurrent_constraint, bias_constraint: optional projections of
            those weights after each optimizer step (default ``None``).
        dropout: fraction of the inputs dropped while training, in ``[0, 1)`` (default 0).
        recurrent_dropout: fraction of the states dropped while training (default 0)."""

_SEQUENCE_ARGUMENTS = """
        return_sequences: return every step's output, or only the last (default).
        return_state: also return the final states: ``[output, *states]`` (default ``False``).
        go_backwards: read the sequence from its end (default ``False``).
        stateful: each row's final states are the next call's initial states
            (default ``False``).
        time_major: inputs and sequence outputs are ``(time, batch, ...)`` (default
            ``False``).
        unroll: accepted for Keras compatibility; the math is the same (default ``False``).
        zero_output_for_mask: output zeros at masked steps instead of the previous output
            (default ``False``; ``Bidirectional`` sets it with ``return_sequences``).
        use_fused: ``"auto"`` (default), ``True`` or ``False``: run PyTorch's fused kernel
            whenever it computes the call exactly, always, or never (see ``RNN``).
        **kwargs: base layer arguments: ``name``, ``trainable``, ``dtype``, ``input_shape``,
            ``batch_input_shape``, ``batch_size``, ``input_dim``, ``input_length``,
            ``weights``."""


class _CellLayer(RNN):
    """An RNN over a built-in cell made from the constructor's cell arguments."""

    def _make(
        self,
        cell_class: type[_Cell],
        cell_arguments: dict[str, Any],
        sequence_arguments: dict[str, Any],
        activity_regularizer: Any,
        kwargs: dict[str, Any],
    ) -> None:
        cell = cell_class(
            dtype=kwargs.get("dtype"),
            trainable=kwargs.get("trainable", True),
            name=snake_case(cell_class.__name__),
            **cell_arguments,
        )
        RNN.__init__(
            self,
            cell,
            activity_regularizer=activity_regularizer,
            **sequence_arguments,
            **kwargs,
        )

    def get_config(self) -> dict[str, Any]:
        config = Layer.get_config(self)
        config.update(self._rnn_config())
        for key, value in self.cell._cell_config().items():
            config[key] = value
            if key == "bias_regularizer":  # Keras 2 writes it here, between the regularizers
                config["activity_regularizer"] = regularizers_module.serialize(
                    self.activity_regularizer
                )
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any], custom_objects: dict | None = None):
        return cls(**config)

    def extra_repr(self) -> str:
        return f"units={self.cell.units}, " + super().extra_repr()


class SimpleRNN(_CellLayer):
    """Keras 2's ``SimpleRNN``: a fully connected RNN whose output is fed back as its state.

    Weights: kernel ``(features, units)``, recurrent_kernel ``(units, units)``, bias
    ``(units,)``. See ``RNN`` for the call arguments, returns and errors.

    Args:
        units: positive int, the size of the output and state.
        activation: default ``"tanh"`` (``"relu"`` also runs fused).{weights}{sequence}

    Example:
        >>> SimpleRNN(4, return_sequences=True)(torch.ones(2, 5, 3)).shape
        torch.Size([2, 5, 4])
    """

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
        activity_regularizer: Any = None,
        kernel_constraint: Any = None,
        recurrent_constraint: Any = None,
        bias_constraint: Any = None,
        dropout: float = 0.0,
        recurrent_dropout: float = 0.0,
        return_sequences: bool = False,
        return_state: bool = False,
        go_backwards: bool = False,
        stateful: bool = False,
        unroll: bool = False,
        time_major: bool = False,
        zero_output_for_mask: bool = False,
        use_fused: str | bool = "auto",
        **kwargs: Any,
    ):
        self._make(
            SimpleRNNCell,
            {
                "units": units,
                "activation": activation,
                "use_bias": use_bias,
                "kernel_initializer": kernel_initializer,
                "recurrent_initializer": recurrent_initializer,
                "bias_initializer": bias_initializer,
                "kernel_regularizer": kernel_regularizer,
                "recurrent_regularizer": recurrent_regularizer,
                "bias_regularizer": bias_regularizer,
                "kernel_constraint": kernel_constraint,
                "recurrent_constraint": recurrent_constraint,
                "bias_constraint": bias_constraint,
                "dropout": dropout,
                "recurrent_dropout": recurrent_dropout,
            },
            {
                "return_sequences": return_sequences,
                "return_state": return_state,
                "go_backwards": go_backwards,
                "stateful": stateful,
                "unroll": unroll,
                "time_major": time_major,
                "zero_output_for_mask": zero_output_for_mask,
                "use_fused": use_fused,
            },
            activity_regularizer,
            kwargs,
        )


class LSTM(_CellLayer):
    """Keras 2's ``LSTM`` (Hochreiter 1997), with states ``[h, c]``.

    Weights: kernel ``(features, 4 * units)``, recurrent_kernel ``(units, 4 * units)``, bias
    ``(4 * units,)``, gates ``i, f, c, o``. See ``RNN`` for the call arguments.

    Args:
        units: positive int, the size of the output and of each state.
        activation: of the cell input and state (default ``"tanh"``).
        recurrent_activation: of the gates (default ``"sigmoid"``).
        unit_forget_bias: start the forget gate's bias at exactly 1 (default ``True``).
        implementation: 1 (a dropout mask per gate) or 2 (default).{weights}{sequence}

    Example:
        >>> output, h, c = LSTM(4, return_state=True)(torch.ones(2, 5, 3))
        >>> output.shape, torch.equal(output, h)
        (torch.Size([2, 4]), True)
    """

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
        activity_regularizer: Any = None,
        kernel_constraint: Any = None,
        recurrent_constraint: Any = None,
        bias_constraint: Any = None,
        dropout: float = 0.0,
        recurrent_dropout: float = 0.0,
        implementation: int = 2,
        return_sequences: bool = False,
        return_state: bool = False,
        go_backwards: bool = False,
        stateful: bool = False,
        time_major: bool = False,
        unroll: bool = False,
        zero_output_for_mask: bool = False,
        use_fused: str | bool = "auto",
        **kwargs: Any,
    ):
        self._make(
            LSTMCell,
            {
                "units": units,
                "activation": activation,
                "recurrent_activation": recurrent_activation,
                "use_bias": use_bias,
                "kernel_initializer": kernel_initializer,
                "recurrent_initializer": recurrent_initializer,
                "bias_initializer": bias_initializer,
                "unit_forget_bias": unit_forget_bias,
                "kernel_regularizer": kernel_regularizer,
                "recurrent_regularizer": recurrent_regularizer,
                "bias_regularizer": bias_regularizer,
                "kernel_constraint": kernel_constraint,
                "recurrent_constraint": recurrent_constraint,
                "bias_constraint": bias_constraint,
                "dropout": dropout,
                "recurrent_dropout": recurrent_dropout,
                "implementation": implementation,
            },
            {
                "return_sequences": return_sequences,
                "return_state": return_state,
                "go_backwards": go_backwards,
                "stateful": stateful,
                "unroll": unroll,
                "time_major": time_major,
                "zero_output_for_mask": zero_output_for_mask,
                "use_fused": use_fused,
            },
            activity_regularizer,
            kwargs,
        )


class GRU(_CellLayer):
    """Keras 2's ``GRU`` (Cho 2014); ``reset_after=True`` (default) matches cuDNN.

    Weights: kernel ``(features, 3 * units)``, recurrent_kernel ``(units, 3 * units)``, bias
    ``(2, 3 * units)`` (``(3 * units,)`` when ``reset_after=False``), gates ``z, r, h``.
    See ``RNN`` for the call arguments.

    With tanh and sigmoid, a call runs fused (see ``use_fused``): on CPU in float32/float64
    in eager mode, outside autocast, on birnn's own GRU kernel, ``reset_after`` either way;
    elsewhere (GPU, ``torch.compile``, export) on PyTorch's GRU kernel with
    ``reset_after=True``, and in the step loop with ``reset_after=False``, which PyTorch has
    no kernel for. Under a mask birnn's kernel skips the padding: each step works on the
    rows that have it only, so a batch of mixed lengths costs about its valid steps.

    Args:
        units: positive int, the size of the output and state.
        activation: of the candidate state (default ``"tanh"``).
        recurrent_activation: of the gates (default ``"sigmoid"``).
        implementation: 1 (a dropout mask per gate) or 2 (default).
        reset_after: apply the reset gate after the recurrent matmul (default ``True``,
            what cuDNN computes) or before it.{weights}{sequence}

    Example:
        >>> GRU(4, reset_after=False)(torch.ones(2, 5, 3)).shape
        torch.Size([2, 4])
    """

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
        activity_regularizer: Any = None,
        kernel_constraint: Any = None,
        recurrent_constraint: Any = None,
        bias_constraint: Any = None,
        dropout: float = 0.0,
        recurrent_dropout: float = 0.0,
        implementation: int = 2,
        return_sequences: bool = False,
        return_state: bool = False,
        go_backwards: bool = False,
        stateful: bool = False,
        unroll: bool = False,
        time_major: bool = False,
        reset_after: bool = True,
        zero_output_for_mask: bool = False,
        use_fused: str | bool = "auto",
        **kwargs: Any,
    ):
        self._make(
            GRUCell,
            {
                "units": units,
                "activation": activation,
                "recurrent_activation": recurrent_activation,
                "use_bias": use_bias,
                "kernel_initializer": kernel_initializer,
                "recurrent_initializer": recurrent_initializer,
                "bias_initializer": bias_initializer,
                "kernel_regularizer": kernel_regularizer,
                "recurrent_regularizer": recurrent_regularizer,
                "bias_regularizer": bias_regularizer,
                "kernel_constraint": kernel_constraint,
                "recurrent_constraint": recurrent_constraint,
                "bias_constraint": bias_constraint,
                "dropout": dropout,
                "recurrent_dropout": recurrent_dropout,
                "implementation": implementation,
                "reset_after": reset_after,
            },
            {
                "return_sequences": return_sequences,
                "return_state": return_state,
                "go_backwards": go_backwards,
                "stateful": stateful,
                "unroll": unroll,
                "time_major": time_major,
                "zero_output_for_mask": zero_output_for_mask,
                "use_fused": use_fused,
            },
            activity_regularizer,
            kwargs,
        )


for _layer_class in (SimpleRNN, LSTM, GRU):
    if _layer_class.__doc__:  # None under python -OO
        _layer_class.__doc__ = _layer_class.__doc__.format(
            weights=_WEIGHT_ARGUMENTS, sequence=_SEQUENCE_ARGUMENTS
        )
