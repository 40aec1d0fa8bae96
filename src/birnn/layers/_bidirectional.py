"""``Bidirectional``: one sequence layer run in both time directions.

``Bidirectional`` re-creates the wrapped layer as its forward layer, builds the
backward layer (re-created with ``go_backwards`` flipped, or the one given),
validates the pair, runs both on the same inputs and mask (two ``RNN`` layers:
one ``_dispatch.run_directions`` call, which returns both outputs in input time
order), and merges.
"""

from __future__ import annotations

import copy
from typing import Any

import torch
from torch import nn
from torch.nn.utils.rnn import PackedSequence

from .. import regularizers as regularizers_module
from ._cells import flatten_states, nest_states
from ._dispatch import run_directions
from ._layer import Layer
from ._packed import call_packed
from ._plain_module import fresh_copy, run_plain_directions
from ._recurrent import RNN
from ._serialization import deserialize, serialize
from ._torch_rnn import run_torch_rnns, torch_rnn_mode
from ._wrapper import Wrapper, accepted_call_arguments, call_with_accepted_arguments

_MERGE_MODES = ("sum", "mul", "concat", "ave", None)
_SEQUENCE_LAYER_ATTRIBUTES = (
    "go_backwards",
    "return_sequences",
    "return_state",
    "get_config",
    "from_config",
)
_MATCHING_ATTRIBUTES = ("stateful", "return_sequences", "return_state", "time_major")


class Bidirectional(Wrapper):
    """Runs a sequence layer forwards and backwards in time and merges the two outputs.

    Keras 2's ``tf.keras.layers.Bidirectional``. The wrapped layer is not used itself: its
    config re-creates the forward layer (``forward_<name>``, fresh weights) and, unless
    ``backward_layer`` is given, the backward layer (``backward_<name>``, with
    ``go_backwards`` flipped). The backward output sequence is flipped back to input time
    order before merging. Under a mask, the states carry through masked steps and, with
    ``return_sequences``, both directions output exactly zero there.

    When the two layers are alike built-in ``LSTM``, ``GRU`` or ``SimpleRNN`` layers that
    the fused kernels compute exactly (tanh and sigmoid activations, or a relu
    ``SimpleRNN``; a GRU with ``reset_after=False`` only on CPU in float32/float64, eager
    mode, where birnn's own GRU kernel runs) and no dropout is active, both directions run
    in one fused kernel call, masks included (a masked ``SimpleRNN`` runs one fused call per
    direction); otherwise each layer runs on its own.

    Args:
        layer: an ``RNN`` instance (``LSTM``, ``GRU``, ``SimpleRNN``, ``RNN(cell)``), or any
            layer with ``go_backwards``, ``return_sequences`` and ``return_state`` attributes
            and ``get_config()``/``from_config()``. Beyond Keras, also a plain causal
            ``torch.nn.Module`` mapping ``(batch, time, f)`` to ``(batch, time, g)``: its
            backward copy (a deep copy with re-initialised parameters) reads each row's valid
            steps in reverse, and its output is put back in input time order. A one-layer,
            unidirectional ``torch.nn.LSTM``, ``GRU`` or ``RNN`` runs on the fused kernels with
            every kind of mask and Keras's masked-step semantics; inputs and mask follow its
            ``batch_first``, and the output is the merge of both directions' sequence outputs.
        merge_mode: ``'sum'``, ``'mul'``, ``'concat'`` (default), ``'ave'`` or ``None`` (a
            list ``[forward, backward]``).
        weights: optional initial weights in ``get_weights()`` order: the first half for the
            forward layer, the second for the backward one, applied when the weights are
            built. (Keras 2 documents this argument but silently ignores it; birnn applies it.)
        backward_layer: optional layer for the backward direction, used as is. It must have
            the opposite ``go_backwards`` and the same ``stateful``, ``return_sequences`` and
            ``return_state`` as ``layer``.
        **kwargs: base layer arguments (``name``, ``input_shape``, ``trainable``, ...).

    Call arguments:
        inputs: ``(batch, time, features)``, or a ``PackedSequence`` input
            (``torch.nn.utils.rnn.PackedSequence``: its lengths replace ``mask``, and
            sequence outputs come back as a ``PackedSequence``).
        mask: optional bool ``(batch, time)``, ``True`` at valid steps.
        training: dropout on or off (``None`` follows ``module.train()``/``eval()``).
        initial_state: optional list ``[*forward_states, *backward_states]``.

    Returns:
        The merged output; with ``merge_mode=None`` the list ``[forward, backward]``; with
        ``return_state`` the states follow: ``[output, *forward_states, *backward_states]``.

    Raises:
        ValueError: if ``layer`` or ``backward_layer`` is not a sequence layer, ``merge_mode``
            is invalid, the two layers' properties do not match, or ``initial_state`` does not
            hold both directions' states.

    Example:
        >>> from birnn.layers import LSTM
        >>> layer = Bidirectional(LSTM(4, return_sequences=True))
        >>> x = torch.randn(2, 5, 3)
        >>> mask = torch.tensor([[True] * 5, [True] * 3 + [False] * 2])
        >>> y = layer(x, mask=mask)
        >>> y.shape, float(y[1, 3:].detach().abs().sum())
        (torch.Size([2, 5, 8]), 0.0)
    """

    def __init__(
        self,
        layer: nn.Module,
        merge_mode: str | None = "concat",
        weights: list | None = None,
        backward_layer: nn.Module | None = None,
        **kwargs: Any,
    ):
        sequence_layers = self._is_sequence_layer("layer", layer)
        if merge_mode not in _MERGE_MODES:
            raise ValueError(
                "Bidirectional: merge_mode must be one of 'sum', 'mul', 'concat', 'ave' or "
                f"None. Received: {merge_mode!r}."
            )
        if backward_layer is not None:
            if not sequence_layers or not self._is_sequence_layer("backward_layer", backward_layer):
                raise ValueError(
                    "Bidirectional: backward_layer needs layer and backward_layer to be "
                    "sequence layers with go_backwards, return_sequences, return_state and "
                    f"get_config(). Received: layer={type(layer).__name__}, "
                    f"backward_layer={type(backward_layer).__name__}."
                )
        kwargs.setdefault("trainable", getattr(layer, "trainable", True))
        if "dtype" not in kwargs and isinstance(layer, Layer):
            kwargs["dtype"] = layer.dtype
        super().__init__(layer, **kwargs)
        self.merge_mode = merge_mode
        self._wraps_sequence_layers = sequence_layers
        self._torch_rnn_mode: str | None = None
        self._backward_layer_config = None

        if sequence_layers:
            config = layer.get_config()
            self.forward_layer = type(layer).from_config(
                {**config, "name": "forward_" + config["name"]}
            )
            if backward_layer is None:
                self.backward_layer = type(layer).from_config(
                    {
                        **config,
                        "name": "backward_" + config["name"],
                        "go_backwards": not config["go_backwards"],
                    }
                )
            else:
                self._backward_layer_config = serialize(backward_layer)
                backward_layer.name = "backward_" + backward_layer.name
                self.backward_layer = backward_layer
            self._check_pair()
            self.return_sequences = bool(layer.return_sequences)
            self.return_state = bool(layer.return_state)
            self.stateful = bool(getattr(layer, "stateful", False))
        else:
            self._torch_rnn_mode = torch_rnn_mode(layer)
            self.forward_layer = layer
            self.backward_layer = fresh_copy(layer)
            self.return_sequences, self.return_state, self.stateful = True, False, False
        for side in (self.forward_layer, self.backward_layer):
            if hasattr(side, "zero_output_for_mask"):
                side.zero_output_for_mask = self.return_sequences
        self._call_arguments = [
            accepted_call_arguments(side) for side in (self.forward_layer, self.backward_layer)
        ]
        self._initial_weights = weights
        self._build_from_constructor()

    @staticmethod
    def _is_sequence_layer(argument: str, layer: Any) -> bool:
        """True for a Keras-style sequence layer, False for a plain torch module."""
        if not isinstance(layer, nn.Module):
            raise ValueError(
                f"Bidirectional: {argument} must be a layer instance (a torch.nn.Module such as "
                f"LSTM(...)). Received: {layer!r:.200} of type {type(layer).__name__}."
            )
        if hasattr(layer, "state_size"):
            raise ValueError(
                f"Bidirectional: {argument} must be a sequence layer, not a cell; wrap the cell "
                f"in RNN(...). Received: a {type(layer).__name__}."
            )
        present = [name for name in _SEQUENCE_LAYER_ATTRIBUTES if hasattr(layer, name)]
        if len(present) == len(_SEQUENCE_LAYER_ATTRIBUTES):
            return True
        if present and any(name in present for name in _SEQUENCE_LAYER_ATTRIBUTES[:3]):
            missing = [name for name in _SEQUENCE_LAYER_ATTRIBUTES if name not in present]
            raise ValueError(
                f"Bidirectional: {argument} must have go_backwards, return_sequences and "
                f"return_state attributes and get_config()/from_config(). Received: "
                f"{type(layer).__name__} without {', '.join(missing)}."
            )
        return False

    def _check_pair(self) -> None:
        forward, backward = self.forward_layer, self.backward_layer
        if forward.go_backwards == backward.go_backwards:
            raise ValueError(
                "Bidirectional: backward_layer must have the opposite go_backwards of layer. "
                f"Received: layer.go_backwards={forward.go_backwards}, "
                f"backward_layer.go_backwards={backward.go_backwards}."
            )
        for attribute in _MATCHING_ATTRIBUTES:
            forward_value = getattr(forward, attribute, None)
            backward_value = getattr(backward, attribute, None)
            if forward_value != backward_value:
                raise ValueError(
                    f"Bidirectional: backward_layer must have the same {attribute} as layer. "
                    f"Received: layer.{attribute}={forward_value}, "
                    f"backward_layer.{attribute}={backward_value}."
                )

    # -- building ---------------------------------------------------------------------------

    def _keep_layer(self, layer: nn.Module) -> None:
        # Keras keeps the given layer only for its config; it owns no weights here.
        self.__dict__["layer"] = layer

    def _sublayers(self) -> list[nn.Module]:
        return [self.forward_layer, self.backward_layer]

    def _apply(self, fn: Any, recurse: bool = True) -> Bidirectional:
        # The wrapped layer is kept only for get_config; its dtype must follow .double() & co.
        if self._wraps_sequence_layers and isinstance(self.layer, Layer):
            self.layer._apply(fn, recurse)
        return super()._apply(fn, recurse)

    def _input_shape_from_weights(self, state_dict: dict, prefix: str) -> tuple | None:
        if not isinstance(self.forward_layer, Layer):
            return None
        return self.forward_layer._input_shape_from_weights(state_dict, prefix + "forward_layer.")

    def build(self, input_shape: tuple) -> None:
        for side in (self.forward_layer, self.backward_layer):
            if isinstance(side, Layer):
                side._maybe_build(input_shape, self._build_device)
        self.built = True

    # -- calling ----------------------------------------------------------------------------

    def forward(
        self,
        inputs: torch.Tensor,
        mask: torch.Tensor | None = None,
        training: bool | None = None,
        initial_state: list[torch.Tensor] | None = None,
    ) -> torch.Tensor | list[torch.Tensor]:
        if isinstance(inputs, PackedSequence):
            sequences = (2 if self.merge_mode is None else 1) if self.return_sequences else 0
            return call_packed(
                "Bidirectional",
                self.forward,
                inputs,
                mask,
                self._time_major(),
                sequences,
                training=training,
                initial_state=initial_state,
            )
        if not self._wraps_sequence_layers:
            sides = (self.forward_layer, self.backward_layer)
            if self._torch_rnn_mode is not None:
                return self._merge(*run_torch_rnns(self._torch_rnn_mode, *sides, inputs, mask))
            return self._merge(*run_plain_directions(*sides, inputs, mask))
        initial_states = self._split_states("initial_state", initial_state)
        if isinstance(self.forward_layer, RNN) and isinstance(self.backward_layer, RNN):
            output, states = self._run_rnns(inputs, mask, training, initial_states)
        else:
            output, states = self._call_layers(inputs, mask, training, initial_states)
        if self.return_state:
            return (output if isinstance(output, list) else [output]) + states
        return output

    def _time_major(self) -> bool:
        """Whether the layers take ``(time, batch, ...)``: ``time_major``, or a torch RNN
        without ``batch_first``."""
        if self._torch_rnn_mode is not None:
            return not self.forward_layer.batch_first
        return bool(getattr(self.forward_layer, "time_major", False))

    def _split_states(self, argument: str, states: Any) -> tuple[list | None, list | None]:
        """``[*forward_states, *backward_states]`` as each side's states (``None``: none given).

        Split by each side's state count when the states, flattened, hold exactly both
        sides' (so uneven sides, stacked cells and nested states work); else at half the
        list, as tf-keras does, and each side checks its half.
        """
        if states is None:
            return None, None
        counts = [getattr(side, "state_count", None) for side in self._sublayers()]
        flat = flatten_states(states) if isinstance(states, (list, tuple)) else None
        if flat is not None and None not in counts and len(flat) == sum(counts):
            return flat[: counts[0]], flat[counts[0] :]
        if not isinstance(states, (list, tuple)) or len(states) % 2:
            received = (
                f"a list of {len(states)}"
                if isinstance(states, (list, tuple))
                else type(states).__name__
            )
            raise ValueError(
                f"Bidirectional: {argument} must be a list [*forward_states, "
                "*backward_states] with as many states for each direction. "
                f"Received: {received}."
            )
        half = len(states) // 2
        return list(states[:half]), list(states[half:])

    def _run_rnns(self, inputs, mask, training, initial_states):
        """Both ``RNN`` layers in one ``run_directions`` call: the merged output and the
        final states (``[]`` without ``return_state``)."""
        forward, backward = sides = (self.forward_layer, self.backward_layer)
        x, mask = forward._prepare_inputs(inputs, mask)
        backward._check_inputs(inputs)
        result = run_directions(
            [
                side._direction(x, mask, training, states, self.return_state)
                for side, states in zip(sides, initial_states)
            ]
        )
        for side, side_output, side_states in zip(sides, result.outputs, result.states):
            side._keep_states(side_states)
            if side.activity_regularizer is not None:  # on what the side itself returns
                side._record_activity(side._format_outputs(side_output, side_states))
        output = self._merge(*result.outputs, joined=result.joined)
        if self.return_sequences and (forward.go_backwards or forward.time_major):
            output = self._in_forward_layer_layout(output)
        if not self.return_state:
            return output, []
        states = [
            s for side, flat in zip(sides, result.states) for s in nest_states(side.cell, flat)
        ]
        return output, states

    def _in_forward_layer_layout(self, output):
        """Sequences in input time order and batch-major as Keras returns them: in the forward
        layer's reading order (reversed if it has ``go_backwards``) and layout."""

        def reorder(y: torch.Tensor) -> torch.Tensor:
            y = y.flip(1) if self.forward_layer.go_backwards else y
            return y.transpose(0, 1) if self.forward_layer.time_major else y

        return [reorder(y) for y in output] if isinstance(output, list) else reorder(output)

    def _call_layers(self, inputs, mask, training, initial_states):
        """Calls two Keras-style sequence layers (not ``RNN``s) and merges their outputs."""
        y = self._call_side(0, inputs, mask, training, initial_states[0])
        y_rev = self._call_side(1, inputs, mask, training, initial_states[1])
        states: list[torch.Tensor] = []
        if self.return_state:
            states = list(y[1:]) + list(y_rev[1:])
            y, y_rev = y[0], y_rev[0]
        if self.return_sequences:
            time_axis = 0 if getattr(self.forward_layer, "time_major", False) else 1
            y_rev = y_rev.flip(time_axis)
        return self._merge(y, y_rev), states

    def _call_side(self, side, inputs, mask, training, initial_state):
        layer = (self.forward_layer, self.backward_layer)[side]
        accepted = self._call_arguments[side]
        if mask is not None and "mask" not in accepted:
            raise ValueError(
                f"Bidirectional: mask was given but {type(layer).__name__}.forward takes no "
                f"mask argument. Received: mask of shape {tuple(mask.shape)}."
            )
        return call_with_accepted_arguments(
            layer,
            inputs,
            accepted | {"initial_state"},
            mask=mask,
            training=training,
            initial_state=initial_state,
        )

    def _merge(self, y: torch.Tensor, y_rev: torch.Tensor, joined: torch.Tensor | None = None):
        """Merges the two directions' outputs; ``joined``: ``cat([y, y_rev])`` already made."""
        if self.merge_mode is None:
            return [y, y_rev]
        if self.merge_mode == "concat":
            return joined if joined is not None else torch.cat([y, y_rev], dim=-1)
        try:  # as in tf-keras, the two may broadcast (a width of 1 against any width)
            torch.broadcast_shapes(y.shape, y_rev.shape)
        except RuntimeError:
            raise ValueError(
                f"Bidirectional: merge_mode={self.merge_mode!r} needs both directions' outputs "
                f"to have the same shape. Received: forward {tuple(y.shape)}, backward "
                f"{tuple(y_rev.shape)}."
            ) from None
        if self.merge_mode == "sum":
            return y + y_rev
        if self.merge_mode == "mul":
            return y * y_rev
        return (y + y_rev) / 2

    # -- states -----------------------------------------------------------------------------

    def reset_states(self, states: list | None = None) -> None:
        """Resets both directions' states: zeros, or ``[*forward_states, *backward_states]``.

        Raises:
            AttributeError: if the layer is not stateful.
            ValueError: if ``states`` is not a list or tuple.
        """
        if not self.stateful:
            raise AttributeError(
                "Bidirectional: reset_states() needs a stateful layer. Received: stateful=False."
            )
        if states is None:
            self.forward_layer.reset_states()
            self.backward_layer.reset_states()
            return
        if not isinstance(states, (list, tuple)):
            raise ValueError(
                "Bidirectional: states must be a list or tuple [*forward_states, "
                f"*backward_states]. Received: {type(states).__name__}."
            )
        forward_states, backward_states = self._split_states("states", states)
        self.forward_layer.reset_states(forward_states)
        self.backward_layer.reset_states(backward_states)

    # -- shapes, masks and configs ----------------------------------------------------------

    def compute_output_shape(self, input_shape: tuple) -> Any:
        shape = self.forward_layer.compute_output_shape(tuple(input_shape))
        state_shapes: list = []
        if self.return_state:
            shape, state_shapes = shape[0], list(shape[1:])
        shape = tuple(shape)
        if self.merge_mode == "concat":
            output = [shape[:-1] + (None if shape[-1] is None else 2 * shape[-1],)]
        elif self.merge_mode is None:
            output = [shape, shape]
        else:
            output = [shape]
        if self.return_state:
            return output + [tuple(s) for s in state_shapes] * 2
        return output[0] if len(output) == 1 else output

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        output_mask = mask if self.return_sequences else None
        masks = [output_mask] if self.merge_mode else [output_mask, output_mask]
        if self.return_state:
            masks += [None] * (2 * getattr(self.forward_layer, "state_count", 0))
        return masks[0] if len(masks) == 1 else masks

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config["merge_mode"] = self.merge_mode
        if self._backward_layer_config is not None:
            config["backward_layer"] = self._backward_layer_config
        if self.activity_regularizer is not None:
            # tf-keras omits it and loses it on reload; birnn keeps it (README, "where we differ")
            config["activity_regularizer"] = regularizers_module.serialize(
                self.activity_regularizer
            )
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any], custom_objects: dict | None = None):
        config = copy.deepcopy(config)
        config["layer"] = deserialize(config["layer"], custom_objects)
        if config.get("backward_layer") is not None:
            config["backward_layer"] = deserialize(config["backward_layer"], custom_objects)
        return cls(**config)

    def extra_repr(self) -> str:
        return f"name={self.name!r}, merge_mode={self.merge_mode!r}"
