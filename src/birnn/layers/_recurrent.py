"""``RNN``: runs a cell over time with Keras 2's masks, states and options (the
``SimpleRNN``, ``LSTM`` and ``GRU`` layers built on it are in ``_rnn_layers``).

The data path: validate the inputs and mask (``_prepare_inputs``) → pick the
initial states and draw the dropout masks (``_direction``) → run it
(``_dispatch.run_directions`` picks the fused kernel or the step loop) → keep
the states if stateful → shape the outputs (``_format_outputs``).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from torch.nn.utils.rnn import PackedSequence

from .. import regularizers as regularizers_module
from .._masks import check_mask
from ._cells import (
    _Cell,
    cell_output_size,
    flat_state_sizes,
    flatten_states,
    nest_states,
    zero_states,
)
from ._dispatch import Direction, run_directions
from ._layer import Layer
from ._packed import call_packed
from ._serialization import deserialize, serialize
from ._stacked import StackedRNNCells

_RNN_KEYS = ("return_sequences", "return_state", "go_backwards", "stateful", "unroll", "time_major")


class RNN(Layer):
    """Keras 2's ``RNN``: runs a cell over the time axis.

    Args:
        cell: a cell (``LSTMCell``...), a list of cells (stacked), or any module with
            ``state_size`` and a Keras-style ``call(inputs, states) -> (output, new_states)``.
        return_sequences: return every step's output, or only the last one (default).
        return_state: also return the final states: ``[output, *states]``.
        go_backwards: read the sequence from its end; the output sequence is in reading
            order (reversed).
        stateful: keep each row's final states as the next call's initial states.
        unroll: accepted for Keras compatibility; the math is the same either way.
        time_major: inputs and sequence outputs are ``(time, batch, ...)``.
        zero_output_for_mask: output zeros at masked steps instead of the previous output.
        use_fused: ``"auto"`` (default): run a fused kernel (PyTorch's, or birnn's CPU GRU)
            whenever one computes the call exactly, else the step loop; ``True``: always a
            fused kernel, or a ValueError saying why it cannot; ``False``: always the step
            loop. (Keras 3's ``use_cudnn``.) The numbers are the same either way, to float
            round-off.
        input_length: the sequence length, when fixed; with ``input_dim=`` it gives
            ``input_shape=(input_length, input_dim)``, Keras 2's spelling.
        **kwargs: base layer arguments (``name``, ``dtype``, ``input_shape``, ...).

    Call arguments:
        inputs: ``(batch, time, features)`` float tensor, or a ``PackedSequence`` input
            (``torch.nn.utils.rnn.PackedSequence``: its lengths replace ``mask``, and
            sequence outputs come back as a ``PackedSequence``).
        mask: optional bool ``(batch, time)``; ``True`` marks valid steps.
        training: dropout on or off; ``None`` follows ``module.train()``/``eval()``.
        initial_state: optional list of state tensors ``(batch, units)``; for stacked cells
            nested per cell as the states are returned, or flat.

    Returns:
        The output tensor, or ``[output, *states]`` with ``return_state``. Stacked cells'
        states are nested per cell, as in tf-keras: ``[output, [h0, c0], h1]`` for an
        ``LSTMCell`` under a ``SimpleRNNCell``.

    Raises:
        ValueError: for inputs, masks or states of the wrong rank, shape, dtype or count.

    Example:
        >>> layer = RNN(LSTMCell(4), return_sequences=True)
        >>> layer(torch.ones(2, 5, 3)).shape
        torch.Size([2, 5, 4])
    """

    def __init__(
        self,
        cell: Any,
        return_sequences: bool = False,
        return_state: bool = False,
        go_backwards: bool = False,
        stateful: bool = False,
        unroll: bool = False,
        time_major: bool = False,
        zero_output_for_mask: bool = False,
        input_length: int | None = None,
        use_fused: str | bool = "auto",
        **kwargs: Any,
    ):
        input_dim = kwargs.pop("input_dim", None)
        if input_dim is not None and kwargs.get("input_shape") is None:
            kwargs["input_shape"] = (input_length, input_dim)
        super().__init__(**kwargs)
        owner = type(self).__name__
        if isinstance(cell, (list, tuple)):
            cell = StackedRNNCells(list(cell))
        if not isinstance(cell, nn.Module) or not hasattr(cell, "state_size"):
            raise ValueError(
                f"{owner}: cell must be a module with a `state_size` attribute and a "
                f"`call(inputs, states)` step. Received: {cell!r}."
            )
        self.cell = cell
        for key, value in zip(
            _RNN_KEYS, (return_sequences, return_state, go_backwards, stateful, unroll, time_major)
        ):
            if not isinstance(value, bool):
                raise ValueError(f"{owner}: {key} must be a bool. Received: {key}={value!r}.")
            setattr(self, key, value)
        self.zero_output_for_mask = bool(zero_output_for_mask)
        if not (use_fused is True or use_fused is False or use_fused == "auto"):
            raise ValueError(
                f"{owner}: use_fused must be 'auto', True or False. "
                f"Received: use_fused={use_fused!r}."
            )
        self.use_fused = use_fused
        self._states: list[torch.Tensor] | None = None
        self._build_from_constructor()

    # -- building ---------------------------------------------------------------------------

    def _sublayers(self) -> list[nn.Module]:
        return [self.cell]

    def build(self, input_shape: tuple) -> None:
        if len(input_shape) != 3:
            raise ValueError(
                f"{type(self).__name__} '{self.name}': inputs must be 3-D "
                f"(batch, time, features). Received: input_shape={tuple(input_shape)}."
            )
        self.input_dim = input_shape[-1]
        if self.time_major:
            input_shape = (input_shape[1], input_shape[0], input_shape[2])
        if isinstance(self.cell, Layer):
            self.cell._maybe_build((input_shape[0], input_shape[-1]), self._build_device)
        if self.stateful and input_shape[0] is not None:
            self._stateful_batch = input_shape[0]
        self.built = True

    def _input_shape_from_weights(self, state_dict: dict, prefix: str) -> tuple | None:
        if not isinstance(self.cell, Layer):
            return None
        cell_shape = self.cell._input_shape_from_weights(state_dict, prefix + "cell.")
        return None if cell_shape is None else (None, None, cell_shape[-1])

    @property
    def state_count(self) -> int:
        return len(flat_state_sizes(self.cell))

    @property
    def units(self) -> int:
        return self.cell.units

    # -- calling ----------------------------------------------------------------------------

    def _owner(self) -> str:
        return f"{type(self).__name__} '{self.name}'"

    def _check_inputs(self, inputs: Any) -> torch.Tensor:
        owner = self._owner()
        if not torch.is_tensor(inputs):
            raise ValueError(
                f"{owner}: inputs must be a torch.Tensor. Received: {type(inputs).__name__}."
            )
        if not inputs.is_floating_point():
            raise ValueError(
                f"{owner}: inputs must be a floating-point tensor. Received: dtype {inputs.dtype}."
            )
        if inputs.dim() != 3:
            layout = "(time, batch, features)" if self.time_major else "(batch, time, features)"
            raise ValueError(
                f"{owner}: inputs must be 3-D {layout}. Received: shape {tuple(inputs.shape)}."
            )
        if inputs.shape[-1] != self.input_dim:
            raise ValueError(
                f"{owner}: inputs must have {self.input_dim} features (the layer was built for "
                f"that). Received: shape {tuple(inputs.shape)}."
            )
        # A built-in cell's kernel, else the first weight (parameters() walks every submodule).
        cell = self.cell
        weight = cell._weights()[0] if isinstance(cell, _Cell) else None
        weight = next(iter(self.parameters()), None) if weight is None else weight
        if weight is not None and weight.device != inputs.device:
            raise ValueError(
                f"{owner}: inputs must be on the layer's device {weight.device}. "
                f"Received: a tensor on {inputs.device}."
            )
        return inputs

    def _check_initial_state(self, initial_state: Any, batch: int, like: torch.Tensor):
        owner = self._owner()
        if torch.is_tensor(initial_state):
            initial_state = [initial_state]
        if not isinstance(initial_state, (list, tuple)):
            raise ValueError(
                f"{owner}: initial_state must be a list of {self.state_count} tensors. "
                f"Received: {type(initial_state).__name__}."
            )
        # Stacked cells' states may come nested per cell, as the layer returns them.
        initial_state = flatten_states(initial_state)
        sizes = flat_state_sizes(self.cell)
        if len(initial_state) != len(sizes):
            raise ValueError(
                f"{owner}: initial_state must hold {len(sizes)} tensor(s) of shapes "
                f"{[(batch, s) for s in sizes]}. Received: {len(initial_state)} tensor(s)."
            )
        states = []
        for index, (state, size) in enumerate(zip(initial_state, sizes)):
            if not torch.is_tensor(state) or not state.is_floating_point():
                kind = state.dtype if torch.is_tensor(state) else type(state).__name__
                raise ValueError(
                    f"{owner}: initial_state[{index}] must be a floating-point tensor of shape "
                    f"{(batch, size)}. Received: {kind}."
                )
            if tuple(state.shape) != (batch, size):
                raise ValueError(
                    f"{owner}: initial_state[{index}] must have shape {(batch, size)}. "
                    f"Received: shape {tuple(state.shape)}."
                )
            if state.device != like.device:
                raise ValueError(
                    f"{owner}: initial_state[{index}] must be on the inputs' device "
                    f"{like.device}. Received: a tensor on {state.device}."
                )
            states.append(state.to(like.dtype))
        return states

    def _initial_states(self, initial_state, batch, like) -> list[torch.Tensor] | None:
        """The call's initial states: given, recorded (stateful), or ``None`` for zeros."""
        given = (
            None if initial_state is None else self._check_initial_state(initial_state, batch, like)
        )
        if not self.stateful:
            return given
        expected = getattr(self, "_stateful_batch", None)
        if expected is not None and expected != batch:
            raise ValueError(
                f"{self._owner()}: a stateful layer needs the same batch size in every call "
                f"(it keeps one state per row). Expected: {expected}. Received: {batch}."
            )
        self._stateful_batch = batch
        if self._states is None:
            self._states = zero_states(self.cell, batch, like)
        if given is None:
            return self._states
        # Keras 2 quirk: the recorded states win over initial_state unless they are all zero.
        if any(bool(s.count_nonzero()) for s in self._states):
            return self._states
        return given

    def forward(
        self,
        inputs: torch.Tensor,
        mask: torch.Tensor | None = None,
        training: bool | None = None,
        initial_state: list[torch.Tensor] | None = None,
    ) -> torch.Tensor | list[torch.Tensor]:
        if isinstance(inputs, PackedSequence):
            return call_packed(
                self._owner(),
                self.forward,
                inputs,
                mask,
                self.time_major,
                1 if self.return_sequences else 0,
                training=training,
                initial_state=initial_state,
            )
        x, mask = self._prepare_inputs(inputs, mask)
        result = run_directions([self._direction(x, mask, training, initial_state)])
        (output,), (states,) = result.outputs, result.states
        self._keep_states(states)
        return self._format_outputs(output, states)

    def _prepare_inputs(self, inputs, mask):
        """Validated batch-major inputs (in the layer's dtype) and mask."""
        inputs = self._check_inputs(inputs)
        # As in Keras, a time-major layer's mask is time-major too: (time, batch).
        layout = "(time, batch)" if self.time_major else "(batch, time)"
        mask = check_mask(self._owner(), mask, inputs, layout)
        if self.time_major:
            inputs = inputs.transpose(0, 1)
            mask = None if mask is None else mask.transpose(0, 1)
        return self._in_dtype(inputs), mask

    def _in_dtype(self, x: torch.Tensor) -> torch.Tensor:
        if x.dtype == self._dtype or torch.is_autocast_enabled():
            return x
        return x.to(self._dtype)

    def _direction(self, x, mask, training, initial_state, return_state: bool = False) -> Direction:
        """This call's direction for ``run_directions``: initial states and dropout masks.

        Args:
            x: batch-major inputs from ``_prepare_inputs`` (this layer's or, in a
                ``Bidirectional``, the other direction's).
            mask: the mask from ``_prepare_inputs``.
            training: the call's ``training`` argument (``None`` follows ``self.training``).
            initial_state: the call's ``initial_state`` argument.
            return_state: the caller returns the final states even if this layer does not
                (a ``Bidirectional`` whose own ``return_state`` differs from its sides').
        """
        x = self._in_dtype(x)
        training = self.training if training is None else bool(training)
        cell = self.cell
        if isinstance(cell, _Cell):
            cell.reset_dropout_masks(x, training)
        return Direction(
            owner=self._owner(),
            cell=cell,
            x=x,
            mask=mask,
            states=self._initial_states(initial_state, x.shape[0], x),
            reverse=self.go_backwards,
            return_sequences=self.return_sequences,
            zero_output_for_mask=self.zero_output_for_mask,
            training=training,
            use_fused=self.use_fused,
            wants_states=return_state or self.return_state or self.stateful,
        )

    def _keep_states(self, states: list[torch.Tensor]) -> None:
        if self.stateful:
            self._states = [s.detach() for s in states]

    def _format_outputs(self, output: torch.Tensor, states: list[torch.Tensor]):
        """Keras's outputs from ``run_directions``'s: the sequence in reading order, in the
        layer's layout, and the states after it with ``return_state``."""
        if self.return_sequences:
            output = output.flip(1) if self.go_backwards else output
            output = output.transpose(0, 1) if self.time_major else output
        if self.return_state:
            return [output, *nest_states(self.cell, states)]
        return output

    # -- states -----------------------------------------------------------------------------

    @property
    def states(self) -> list[torch.Tensor] | None:
        """The recorded states of a stateful layer (``None`` before its first call)."""
        return self._states

    def reset_states(self, states: Any = None) -> None:
        """Resets a stateful layer's states to zeros, or to ``states``.

        Args:
            states: optional list of arrays or tensors ``(batch, units)``, one per state
                (flat, or nested per cell for stacked cells).

        Raises:
            AttributeError: if the layer is not stateful (as in Keras).
            ValueError: if the batch size is unknown or ``states`` has the wrong count or shapes.
        """
        if not self.stateful:
            raise AttributeError(
                f"{self._owner()}: reset_states() needs a stateful layer. Received: stateful=False."
            )
        batch = getattr(self, "_stateful_batch", None)
        weight = next(iter(self.parameters()), None)
        like = weight if weight is not None else torch.zeros((), dtype=self._dtype)
        if states is None:
            if batch is None:
                self._states = None  # zeros are made at the first call, once the batch is known
                return
            self._states = zero_states(self.cell, batch, like.detach())
            return
        states = flatten_states(states)
        tensors = []
        for index, state in enumerate(states):
            try:
                tensors.append(torch.as_tensor(state, dtype=like.dtype, device=like.device))
            except (TypeError, ValueError, RuntimeError):
                raise ValueError(
                    f"{self._owner()}: states[{index}] must be a float array of shape "
                    f"(batch, units). Received: {state!r:.100}."
                ) from None
        if batch is None and tensors:
            batch = tensors[0].shape[0]
        self._states = [t.detach() for t in self._check_initial_state(tensors, batch, like)]
        self._stateful_batch = batch

    # -- shapes and masks -------------------------------------------------------------------

    def compute_output_shape(self, input_shape: tuple) -> Any:
        input_shape = tuple(input_shape)
        batch, time = (input_shape[1], input_shape[0]) if self.time_major else input_shape[:2]
        units = cell_output_size(self.cell)
        if self.return_sequences:
            output = (time, batch, units) if self.time_major else (batch, time, units)
        else:
            output = (batch, units)
        if self.return_state:
            return [output] + [(batch, size) for size in flat_state_sizes(self.cell)]
        return output

    def compute_mask(self, inputs: Any, mask: torch.Tensor | None = None) -> Any:
        output_mask = mask if self.return_sequences else None
        if self.return_state:
            return [output_mask] + [None] * self.state_count
        return output_mask

    # -- config -----------------------------------------------------------------------------

    def _rnn_config(self) -> dict[str, Any]:
        config = {key: getattr(self, key) for key in _RNN_KEYS}
        if self.zero_output_for_mask:
            config["zero_output_for_mask"] = True
        if self.use_fused != "auto":  # birnn's own key: tf-keras configs stay key for key
            config["use_fused"] = self.use_fused
        return config

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config["cell"] = serialize(self.cell)
        config.update(self._rnn_config())
        if self.activity_regularizer is not None:
            # tf-keras omits it and loses it on reload; birnn keeps it (README, "where we differ")
            config["activity_regularizer"] = regularizers_module.serialize(
                self.activity_regularizer
            )
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any], custom_objects: dict | None = None) -> RNN:
        config = dict(config)
        cell = config.pop("cell")
        if isinstance(cell, list):
            cell = [deserialize(c, custom_objects) for c in cell]
        else:
            cell = deserialize(cell, custom_objects)
        return cls(cell, **config)

    def extra_repr(self) -> str:
        flags = [key for key in _RNN_KEYS if getattr(self, key)]
        return f"name={self.name!r}" + "".join(f", {flag}=True" for flag in flags)
