"""Bad inputs get a clear error naming the argument, the expected and the received value.

Each row of ``BAD_INPUTS`` is one bad input: what is done, the exception type and
fragments that must appear, in order, in the message (the argument's name, what was
expected, what was received). No row may surface an internal torch error
(``RuntimeError``, ``IndexError``...). ``EDGE_RESULTS`` lists inputs that look odd but
have a defined result (zero time steps, an empty batch...). ``docs/bad_inputs.md``
is the same table in prose.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest
import torch
from torch import nn

from birnn.layers import (
    GRU,
    LSTM,
    RNN,
    Bidirectional,
    GRUCell,
    LSTMCell,
    SimpleRNN,
    StackedRNNCells,
    deserialize,
)

BATCH, TIME, FEATURES, UNITS = 2, 5, 3, 4


@dataclass(frozen=True)
class Bad:
    """One bad input: ``action()`` must raise ``error`` whose message holds ``parts`` in order."""

    id: str
    action: Callable[[], object]
    error: type[Exception]
    parts: tuple[str, ...]

    @property
    def pattern(self) -> str:
        return ".*".join(re.escape(part) for part in self.parts)


def _x(*shape: int, **kwargs) -> torch.Tensor:
    return torch.randn(*(shape or (BATCH, TIME, FEATURES)), **kwargs)


def _mask(*shape: int, **kwargs) -> torch.Tensor:
    return torch.ones(*(shape or (BATCH, TIME)), dtype=torch.bool, **kwargs)


def _built(layer: nn.Module) -> nn.Module:
    layer(_x())
    return layer


def _lstm(**kwargs) -> LSTM:
    return _built(LSTM(UNITS, **kwargs))


def _bidirectional(**kwargs) -> Bidirectional:
    return _built(Bidirectional(LSTM(UNITS, return_sequences=True), **kwargs))


def _stateful_call_with_batch(layer: nn.Module, batch: int):
    _built(layer)
    return layer(_x(batch, TIME, FEATURES))


def _reset_states(layer: nn.Module, states):
    _built(layer)
    layer.reset_states(states)


def _backward(merge_mode: str):
    forward = LSTM(UNITS, return_sequences=True)
    backward = LSTM(UNITS + 1, return_sequences=True, go_backwards=True)
    return Bidirectional(forward, merge_mode=merge_mode, backward_layer=backward)(_x())


def _config(**config) -> dict:
    return {"class_name": "LSTM", "config": {"units": 3, **config}}


ZEROS_16 = np.zeros(4 * UNITS, np.float32)
LSTM_WEIGHTS = [
    np.zeros((FEATURES, 4 * UNITS), np.float32),
    np.zeros((UNITS, 4 * UNITS), np.float32),
    ZEROS_16,
]

BAD_INPUTS = [
    # -- inputs ----------------------------------------------------------------------------
    Bad(
        "inputs-rank-2",
        lambda: LSTM(UNITS)(_x(BATCH, FEATURES)),
        ValueError,
        ("inputs must be 3-D", "(batch, time, features)", "Received: input_shape=(2, 3)"),
    ),
    Bad(
        "inputs-rank-4-built-bidirectional",
        lambda: _bidirectional()(_x(BATCH, TIME, FEATURES, 1)),
        ValueError,
        ("inputs must be 3-D", "Received: shape (2, 5, 3, 1)"),
    ),
    Bad(
        "inputs-rank-2-time-major",
        lambda: GRU(UNITS, time_major=True)(_x(TIME, FEATURES)),
        ValueError,
        ("inputs must be 3-D", "Received: input_shape=(5, 3)"),
    ),
    Bad(
        "inputs-wrong-feature-size",
        lambda: _lstm()(_x(BATCH, TIME, 7)),
        ValueError,
        ("inputs must have 3 features", "Received: shape (2, 5, 7)"),
    ),
    Bad(
        "inputs-wrong-feature-size-bidirectional",
        lambda: _bidirectional()(_x(BATCH, TIME, 7)),
        ValueError,
        ("inputs must have 3 features", "Received: shape (2, 5, 7)"),
    ),
    Bad(
        "inputs-complex",
        lambda: LSTM(UNITS)(_x(dtype=torch.complex64)),
        ValueError,
        ("inputs must be a floating-point tensor", "Received: dtype torch.complex64"),
    ),
    Bad(
        "inputs-integer",
        lambda: GRU(UNITS)(torch.ones(BATCH, TIME, FEATURES, dtype=torch.int64)),
        ValueError,
        ("inputs must be a floating-point tensor", "Received: dtype torch.int64"),
    ),
    Bad(
        "inputs-bool-bidirectional",
        lambda: Bidirectional(SimpleRNN(UNITS))(torch.ones(BATCH, TIME, FEATURES).bool()),
        ValueError,
        ("inputs must be a floating-point tensor", "Received: dtype torch.bool"),
    ),
    Bad(
        "inputs-numpy",
        lambda: LSTM(UNITS)(np.ones((BATCH, TIME, FEATURES), np.float32)),
        ValueError,
        ("inputs must be a torch.Tensor", "Received: ndarray"),
    ),
    Bad(
        "inputs-list-bidirectional",
        lambda: Bidirectional(GRU(UNITS))([[[1.0, 2.0, 3.0]]]),
        ValueError,
        ("inputs must be a torch.Tensor", "Received: list"),
    ),
    Bad(
        "inputs-none",
        lambda: SimpleRNN(UNITS)(None),
        ValueError,
        ("inputs must be a torch.Tensor", "Received: NoneType"),
    ),
    Bad(
        "inputs-on-another-device",
        lambda: _lstm()(_x(device="meta")),
        ValueError,
        ("inputs must be on the layer's device cpu", "Received: a tensor on meta"),
    ),
    Bad(
        "inputs-on-another-device-bidirectional",
        lambda: _bidirectional()(_x(device="meta")),
        ValueError,
        ("inputs must be on the layer's device cpu", "Received: a tensor on meta"),
    ),
    Bad(
        "inputs-plain-module-not-3d",
        lambda: Bidirectional(nn.Linear(FEATURES, UNITS))(_x(BATCH, FEATURES)),
        ValueError,
        ("inputs must be 3-D", "Received: (2, 3)"),
    ),
    # -- masks -----------------------------------------------------------------------------
    Bad(
        "mask-wrong-time",
        lambda: LSTM(UNITS)(_x(), mask=_mask(BATCH, TIME - 1)),
        ValueError,
        ("mask must have shape (batch, time) = (2, 5)", "Received: shape (2, 4)"),
    ),
    Bad(
        "mask-wrong-batch-bidirectional",
        lambda: Bidirectional(GRU(UNITS))(_x(), mask=_mask(BATCH + 1, TIME)),
        ValueError,
        ("mask must have shape (batch, time) = (2, 5)", "Received: shape (3, 5)"),
    ),
    Bad(
        "mask-wrong-rank",
        lambda: GRU(UNITS)(_x(), mask=_mask(BATCH, TIME, 1)),
        ValueError,
        ("mask must have shape (batch, time) = (2, 5)", "Received: shape (2, 5, 1)"),
    ),
    Bad(
        "mask-float-dtype",
        lambda: LSTM(UNITS)(_x(), mask=torch.ones(BATCH, TIME)),
        ValueError,
        ("mask must have dtype torch.bool", "Received: dtype torch.float32"),
    ),
    Bad(
        "mask-int-dtype-bidirectional",
        lambda: Bidirectional(LSTM(UNITS))(_x(), mask=torch.ones(BATCH, TIME, dtype=torch.int64)),
        ValueError,
        ("mask must have dtype torch.bool", "Received: dtype torch.int64"),
    ),
    Bad(
        "mask-numpy",
        lambda: SimpleRNN(UNITS)(_x(), mask=np.ones((BATCH, TIME), bool)),
        ValueError,
        ("mask must be a bool tensor of shape (batch, time)", "Received: ndarray"),
    ),
    Bad(
        "mask-on-another-device",
        lambda: Bidirectional(LSTM(UNITS))(_x(), mask=_mask(device="meta")),
        ValueError,
        ("mask must be on the inputs' device cpu", "Received: a mask on meta"),
    ),
    Bad(
        "mask-with-gaps-plain-module",
        lambda: Bidirectional(nn.Linear(FEATURES, UNITS))(
            _x(), mask=torch.tensor([[True, False, True, True, True]] * BATCH)
        ),
        ValueError,
        ("right-padded masks", "Received: a mask with gaps or left padding"),
    ),
    # -- initial states --------------------------------------------------------------------
    Bad(
        "initial-state-wrong-count",
        lambda: LSTM(UNITS)(_x(), initial_state=[torch.zeros(BATCH, UNITS)]),
        ValueError,
        ("initial_state must hold 2 tensor(s) of shapes [(2, 4), (2, 4)]", "Received: 1 tensor"),
    ),
    Bad(
        "initial-state-wrong-shape",
        lambda: GRU(UNITS)(_x(), initial_state=[torch.zeros(BATCH, UNITS + 1)]),
        ValueError,
        ("initial_state[0] must have shape (2, 4)", "Received: shape (2, 5)"),
    ),
    Bad(
        "initial-state-wrong-batch",
        lambda: SimpleRNN(UNITS)(_x(), initial_state=[torch.zeros(BATCH + 1, UNITS)]),
        ValueError,
        ("initial_state[0] must have shape (2, 4)", "Received: shape (3, 4)"),
    ),
    Bad(
        "initial-state-integer-dtype",
        lambda: GRU(UNITS)(_x(), initial_state=[torch.zeros(BATCH, UNITS, dtype=torch.int32)]),
        ValueError,
        ("initial_state[0] must be a floating-point tensor of shape (2, 4)", "torch.int32"),
    ),
    Bad(
        "initial-state-numpy",
        lambda: GRU(UNITS)(_x(), initial_state=[np.zeros((BATCH, UNITS), np.float32)]),
        ValueError,
        ("initial_state[0] must be a floating-point tensor", "Received: ndarray"),
    ),
    Bad(
        "initial-state-on-another-device",
        lambda: GRU(UNITS)(_x(), initial_state=[torch.zeros(BATCH, UNITS, device="meta")]),
        ValueError,
        ("initial_state[0] must be on the inputs' device cpu", "Received: a tensor on meta"),
    ),
    Bad(
        "initial-state-dict",
        lambda: GRU(UNITS)(_x(), initial_state={"h": torch.zeros(BATCH, UNITS)}),
        ValueError,
        ("initial_state must be a list of 1 tensors", "Received: dict"),
    ),
    Bad(
        "bidirectional-initial-state-odd-length",
        lambda: Bidirectional(LSTM(UNITS))(_x(), initial_state=[torch.zeros(BATCH, UNITS)] * 3),
        ValueError,
        ("initial_state must be a list [*forward_states, *backward_states]", "a list of 3"),
    ),
    Bad(
        "bidirectional-initial-state-bare-tensor",
        lambda: Bidirectional(GRU(UNITS))(_x(), initial_state=torch.zeros(BATCH, UNITS)),
        ValueError,
        ("initial_state must be a list [*forward_states, *backward_states]", "Received: Tensor"),
    ),
    Bad(
        "bidirectional-initial-state-too-few-per-direction",
        lambda: Bidirectional(LSTM(UNITS))(_x(), initial_state=[torch.zeros(BATCH, UNITS)] * 2),
        ValueError,
        ("forward_lstm", "initial_state must hold 2 tensor(s)", "Received: 1 tensor"),
    ),
    # -- set_weights -----------------------------------------------------------------------
    Bad(
        "set-weights-wrong-count",
        lambda: _lstm().set_weights(LSTM_WEIGHTS[:1]),
        ValueError,
        ("set_weights expected a list of 3 arrays", "[(3, 16), (4, 16), (16,)]", "Received: 1"),
    ),
    Bad(
        "set-weights-wrong-shape",
        lambda: _lstm().set_weights(LSTM_WEIGHTS[:2] + [np.zeros(15)]),
        ValueError,
        ("set_weights expected weight 2 of shape (16,)", "Received: shape (15,)"),
    ),
    Bad(
        "set-weights-not-a-list",
        lambda: _lstm().set_weights(LSTM_WEIGHTS[0]),
        ValueError,
        ("set_weights expected a list of 3 arrays", "Received: ndarray"),
    ),
    Bad(
        "set-weights-unbuilt",
        lambda: LSTM(UNITS).set_weights(LSTM_WEIGHTS),
        ValueError,
        ("set_weights needs a built layer", "Received: 3 arrays for an unbuilt layer"),
    ),
    Bad(
        "set-weights-none-entry",
        lambda: _lstm().set_weights([None] + LSTM_WEIGHTS[1:]),
        ValueError,
        ("set_weights expected weight 0 to be a real-valued array of shape (3, 16)", "None"),
    ),
    Bad(
        "set-weights-complex",
        lambda: _lstm().set_weights([LSTM_WEIGHTS[0].astype(np.complex64)] + LSTM_WEIGHTS[1:]),
        ValueError,
        ("set_weights expected weight 0 to be a real-valued array", "torch.complex64"),
    ),
    Bad(
        "set-weights-bidirectional-one-direction-only",
        lambda: _bidirectional().set_weights(LSTM_WEIGHTS),
        ValueError,
        ("set_weights expected a list of 6 arrays", "Received: 3"),
    ),
    Bad(
        "bidirectional-weights-argument-wrong-count",
        lambda: _built(Bidirectional(LSTM(UNITS), weights=LSTM_WEIGHTS)),
        ValueError,
        ("set_weights expected a list of 6 arrays", "Received: 3"),
    ),
    # -- merge modes -----------------------------------------------------------------------
    Bad(
        "merge-mode-unknown",
        lambda: Bidirectional(LSTM(UNITS), merge_mode="max"),
        ValueError,
        ("merge_mode must be one of 'sum', 'mul', 'concat', 'ave' or None", "Received: 'max'"),
    ),
    Bad(
        "merge-mode-not-a-string",
        lambda: Bidirectional(LSTM(UNITS), merge_mode=1),
        ValueError,
        ("merge_mode must be one of", "Received: 1"),
    ),
    *[
        Bad(
            f"merge-{mode}-of-different-widths",
            lambda mode=mode: _backward(mode),
            ValueError,
            (f"merge_mode='{mode}' needs", "same shape", "forward (2, 5, 4), backward (2, 5, 5)"),
        )
        for mode in ("sum", "mul", "ave")
    ],
    # -- constructor arguments -------------------------------------------------------------
    *[
        Bad(
            f"units-{label}",
            lambda units=units: LSTM(units),
            ValueError,
            ("units must be a positive integer", f"Received: units={units!r}"),
        )
        for label, units in (
            ("zero", 0),
            ("negative", -1),
            ("float", 2.5),
            ("string", "3"),
            ("bool", True),
            ("none", None),
        )
    ],
    Bad(
        "cell-units-zero",
        lambda: GRUCell(0),
        ValueError,
        ("GRUCell", "units must be a positive integer", "Received: units=0"),
    ),
    *[
        Bad(
            f"{name}-{value!r}",
            lambda name=name, value=value: GRU(UNITS, **{name: value}),
            ValueError,
            (f"{name} must be a float in [0, 1)", f"Received: {name}={value!r}"),
        )
        for name, value in (
            ("dropout", -0.1),
            ("dropout", 1.0),
            ("recurrent_dropout", 1.5),
            ("dropout", "0.1"),
        )
    ],
    Bad(
        "activation-unknown",
        lambda: SimpleRNN(UNITS, activation="tanhh"),
        ValueError,
        ("invalid activation", "must be one of", "'tanh'", "Received: 'tanhh'"),
    ),
    Bad(
        "recurrent-activation-unknown",
        lambda: LSTM(UNITS, recurrent_activation="hard_sigmod"),
        ValueError,
        ("invalid recurrent_activation", "'hard_sigmoid'", "Received: 'hard_sigmod'"),
    ),
    Bad(
        "activation-wrong-type",
        lambda: GRU(UNITS, activation=3),
        ValueError,
        ("invalid activation", "a name, a callable or None", "Received: 3"),
    ),
    Bad(
        "initializer-unknown",
        lambda: LSTM(UNITS, kernel_initializer="glorot"),
        ValueError,
        ("invalid kernel_initializer", "'glorot_uniform'", "Received: 'glorot'"),
    ),
    Bad(
        "initializer-wrong-type",
        lambda: LSTM(UNITS, recurrent_initializer=3),
        ValueError,
        ("invalid recurrent_initializer", "a name, a dict", "Received: 3"),
    ),
    Bad(
        "regularizer-unknown",
        lambda: GRU(UNITS, kernel_regularizer="l3"),
        ValueError,
        ("invalid kernel_regularizer", "must be one of", "Received: 'l3'"),
    ),
    Bad(
        "constraint-unknown",
        lambda: GRU(UNITS, bias_constraint="positive"),
        ValueError,
        ("invalid bias_constraint", "must be one of", "Received: 'positive'"),
    ),
    Bad(
        "use-bias-not-bool",
        lambda: SimpleRNN(UNITS, use_bias="no"),
        ValueError,
        ("use_bias must be a bool", "Received: use_bias='no'"),
    ),
    Bad(
        "return-sequences-not-bool",
        lambda: LSTM(UNITS, return_sequences="yes"),
        ValueError,
        ("return_sequences must be a bool", "Received: return_sequences='yes'"),
    ),
    Bad(
        "reset-after-not-bool",
        lambda: GRU(UNITS, reset_after="no"),
        ValueError,
        ("reset_after must be a bool", "Received: reset_after='no'"),
    ),
    Bad(
        "implementation-unknown",
        lambda: LSTM(UNITS, implementation=3),
        ValueError,
        ("implementation must be 1 or 2", "Received: implementation=3"),
    ),
    Bad(
        "dtype-integer",
        lambda: LSTM(UNITS, dtype="int32"),
        ValueError,
        ("dtype must be one of", "'float32'", "Received: 'int32'"),
    ),
    Bad(
        "name-not-a-string",
        lambda: LSTM(UNITS, name=3),
        ValueError,
        ("name must be a string", "Received: 3"),
    ),
    Bad(
        "input-shape-not-a-tuple",
        lambda: LSTM(UNITS, input_shape="abc"),
        ValueError,
        ("input_shape must be a tuple of ints or None", "Received: input_shape='abc'"),
    ),
    Bad(
        "input-dim-string",
        lambda: GRU(UNITS, input_dim="3"),
        ValueError,
        ("input_shape must be a tuple of ints or None", "Received: input_shape=(None, '3')"),
    ),
    Bad(
        "input-shape-wrong-rank",
        lambda: LSTM(UNITS, input_shape=(FEATURES,)),
        ValueError,
        ("inputs must be 3-D", "Received: input_shape=(None, 3)"),
    ),
    Bad(
        "unexpected-keyword",
        lambda: LSTM(UNITS, return_sequence=True),
        TypeError,
        ("unexpected keyword argument(s) ['return_sequence']",),
    ),
    Bad(
        "rnn-cell-not-a-cell",
        lambda: RNN(nn.Linear(FEATURES, UNITS)),
        ValueError,
        ("cell must be a module with a `state_size` attribute", "Received: Linear"),
    ),
    Bad(
        "stacked-cells-empty",
        lambda: StackedRNNCells([]),
        ValueError,
        ("cells must be a non-empty list of cells", "Received: []"),
    ),
    Bad(
        "cell-step-wrong-state-count",
        lambda: LSTMCell(UNITS)(_x(BATCH, FEATURES), [torch.zeros(BATCH, UNITS)]),
        ValueError,
        ("states must hold 2 tensor(s) of shape (batch, 4)", "Received: 1 tensor"),
    ),
    # -- Bidirectional's layers ------------------------------------------------------------
    Bad(
        "layer-not-a-module",
        lambda: Bidirectional("lstm"),
        ValueError,
        ("layer must be a layer instance", "Received: 'lstm' of type str"),
    ),
    Bad(
        "layer-is-a-cell",
        lambda: Bidirectional(LSTMCell(UNITS)),
        ValueError,
        ("layer must be a sequence layer, not a cell", "Received: a LSTMCell"),
    ),
    Bad(
        "backward-layer-same-direction",
        lambda: Bidirectional(LSTM(UNITS), backward_layer=LSTM(UNITS)),
        ValueError,
        ("backward_layer must have the opposite go_backwards", "backward_layer.go_backwards=False"),
    ),
    *[
        Bad(
            f"backward-layer-different-{attribute}",
            lambda attribute=attribute: Bidirectional(
                LSTM(UNITS), backward_layer=LSTM(UNITS, go_backwards=True, **{attribute: True})
            ),
            ValueError,
            (
                f"backward_layer must have the same {attribute} as layer",
                f"layer.{attribute}=False, backward_layer.{attribute}=True",
            ),
        )
        for attribute in ("return_sequences", "return_state", "stateful", "time_major")
    ],
    Bad(
        "backward-layer-not-a-module",
        lambda: Bidirectional(LSTM(UNITS), backward_layer="lstm"),
        ValueError,
        ("backward_layer must be a layer instance", "Received: 'lstm' of type str"),
    ),
    Bad(
        "backward-layer-plain-module",
        lambda: Bidirectional(LSTM(UNITS), backward_layer=nn.Linear(FEATURES, UNITS)),
        ValueError,
        ("backward_layer needs", "sequence layers", "backward_layer=Linear"),
    ),
    Bad(
        "backward-layer-built-for-other-features",
        lambda: Bidirectional(
            LSTM(UNITS), backward_layer=LSTM(UNITS, go_backwards=True, input_shape=(None, 7))
        )(_x()),
        ValueError,
        ("backward_lstm", "inputs must have 7 features", "Received: shape (2, 5, 3)"),
    ),
    # -- states of stateful layers ---------------------------------------------------------
    Bad(
        "stateful-batch-size-changed",
        lambda: _stateful_call_with_batch(LSTM(UNITS, stateful=True), BATCH + 1),
        ValueError,
        ("stateful layer needs the same batch size", "Expected: 2", "Received: 3"),
    ),
    Bad(
        "stateful-batch-size-changed-bidirectional",
        lambda: _stateful_call_with_batch(Bidirectional(GRU(UNITS, stateful=True)), BATCH + 1),
        ValueError,
        ("stateful layer needs the same batch size", "Expected: 2", "Received: 3"),
    ),
    Bad(
        "reset-states-not-stateful",
        lambda: LSTM(UNITS).reset_states(),
        AttributeError,  # as Keras 2: "Layer must be stateful."
        ("reset_states() needs a stateful layer", "Received: stateful=False"),
    ),
    Bad(
        "reset-states-not-stateful-bidirectional",
        lambda: Bidirectional(LSTM(UNITS)).reset_states(),
        AttributeError,
        ("reset_states() needs a stateful layer", "Received: stateful=False"),
    ),
    Bad(
        "reset-states-wrong-count",
        lambda: _reset_states(LSTM(UNITS, stateful=True), [np.zeros((BATCH, UNITS))]),
        ValueError,
        ("must hold 2 tensor(s) of shapes [(2, 4), (2, 4)]", "Received: 1 tensor"),
    ),
    Bad(
        "reset-states-wrong-shape",
        lambda: _reset_states(GRU(UNITS, stateful=True), [np.zeros((BATCH + 1, UNITS))]),
        ValueError,
        ("must have shape (2, 4)", "Received: shape (3, 4)"),
    ),
    Bad(
        "reset-states-not-numbers",
        lambda: _reset_states(GRU(UNITS, stateful=True), [[["a"] * UNITS] * BATCH]),
        ValueError,
        ("states[0] must be a float array of shape (batch, units)", "Received: [['a'"),
    ),
    Bad(
        "reset-states-odd-length-bidirectional",
        lambda: _reset_states(
            Bidirectional(LSTM(UNITS, stateful=True)), [np.zeros((BATCH, UNITS))] * 3
        ),
        ValueError,
        ("states must be a list [*forward_states, *backward_states]", "a list of 3"),
    ),
    Bad(
        "reset-states-bare-array-bidirectional",
        lambda: _reset_states(Bidirectional(GRU(UNITS, stateful=True)), np.zeros((BATCH, UNITS))),
        ValueError,
        ("states must be a list or tuple", "Received: ndarray"),
    ),
    # -- configs ---------------------------------------------------------------------------
    Bad(
        "config-unknown-class",
        lambda: deserialize({"class_name": "ConvLSTM1D", "config": {}}),
        ValueError,
        ("unknown layer class_name 'ConvLSTM1D'", "Expected one of", "'LSTM'"),
    ),
    Bad(
        "config-unknown-class-inside-bidirectional",
        lambda: deserialize(
            {"class_name": "Bidirectional", "config": {"layer": {"class_name": "Foo"}}}
        ),
        ValueError,
        ("unknown layer class_name 'Foo'", "Expected one of"),
    ),
    Bad(
        "config-not-a-dict",
        lambda: deserialize("LSTM"),
        ValueError,
        ("expected a dict with 'class_name' and 'config'", "Received: 'LSTM'"),
    ),
    Bad(
        "config-inner-config-not-a-dict",
        lambda: deserialize({"class_name": "LSTM", "config": [3]}),
        ValueError,
        ("the 'config' of LSTM must be a dict", "Received: list [3]"),
    ),
    Bad(
        "config-missing-layer",
        lambda: deserialize({"class_name": "Bidirectional", "config": {"merge_mode": "sum"}}),
        ValueError,
        ("config of Bidirectional must have the key 'layer'", "Received: keys ['merge_mode']"),
    ),
    Bad(
        "config-missing-units",
        lambda: deserialize({"class_name": "GRU", "config": {}}),
        ValueError,
        ("GRU does not support this config", "missing 1 required positional argument: 'units'"),
    ),
    Bad(
        "config-units-string",
        lambda: deserialize(_config(units="3")),
        ValueError,
        ("units must be a positive integer", "Received: units='3'"),
    ),
    Bad(
        "config-return-sequences-string",
        lambda: deserialize(_config(return_sequences="yes")),
        ValueError,
        ("return_sequences must be a bool", "Received: return_sequences='yes'"),
    ),
    Bad(
        "config-go-backwards-int",
        lambda: deserialize(_config(go_backwards=1)),
        ValueError,
        ("go_backwards must be a bool", "Received: go_backwards=1"),
    ),
    Bad(
        "config-unit-forget-bias-string",
        lambda: deserialize(_config(unit_forget_bias="false")),
        ValueError,
        ("unit_forget_bias must be a bool", "Received: unit_forget_bias='false'"),
    ),
    Bad(
        "config-trainable-string",
        lambda: deserialize(_config(trainable="false")),
        ValueError,
        ("trainable must be a bool", "Received: 'false'"),
    ),
    Bad(
        "config-dropout-string",
        lambda: deserialize(_config(dropout="0.5")),
        ValueError,
        ("dropout must be a float in [0, 1)", "Received: dropout='0.5'"),
    ),
    Bad(
        "config-unknown-key",
        lambda: deserialize(_config(recurrent_units=3)),
        ValueError,
        ("LSTM does not support this config", "unexpected keyword argument(s) ['recurrent_units']"),
    ),
    Bad(
        "config-batch-input-shape-string",
        lambda: deserialize(_config(batch_input_shape="abc")),
        ValueError,
        ("batch_input_shape must be a tuple of ints or None", "Received: batch_input_shape='abc'"),
    ),
    Bad(
        "config-initializer-value-string",
        lambda: deserialize(
            _config(kernel_initializer={"class_name": "Orthogonal", "config": {"gain": "x"}})
        ),
        ValueError,
        ("invalid kernel_initializer", "gain must be a number", "Received: gain='x'"),
    ),
    Bad(
        "config-merge-mode-unknown",
        lambda: deserialize(
            {
                "class_name": "Bidirectional",
                "config": {"layer": _config(), "merge_mode": "max"},
            }
        ),
        ValueError,
        ("merge_mode must be one of", "Received: 'max'"),
    ),
]


def test_cases_are_many_and_distinct():
    ids = [case.id for case in BAD_INPUTS]
    assert len(ids) == len(set(ids))
    assert len(ids) >= 30


def check_bad_input(case: Bad) -> None:
    """``case.action()`` raises exactly ``case.error``, its message holding ``case.parts``."""
    with pytest.raises(Exception) as info:
        case.action()
    assert type(info.value) is case.error, f"{type(info.value).__name__}: {info.value}"
    assert re.search(case.pattern, str(info.value)), str(info.value)


@pytest.mark.parametrize("case", BAD_INPUTS, ids=[case.id for case in BAD_INPUTS])
def test_bad_input_raises_a_clear_error(case):
    check_bad_input(case)


# -- inputs with a defined result ------------------------------------------------------------


def _layers_with_states():
    """One of each layer type, returning sequences and states (fused and loop paths)."""
    return [
        LSTM(UNITS, return_sequences=True, return_state=True),
        LSTM(UNITS, recurrent_activation="hard_sigmoid", return_sequences=True, return_state=True),
        GRU(UNITS, return_sequences=True, return_state=True),
        GRU(UNITS, reset_after=False, return_sequences=True, return_state=True),
        SimpleRNN(UNITS, return_sequences=True, return_state=True),
        SimpleRNN(UNITS, activation="relu", return_sequences=True, return_state=True),
    ]


LAYER_IDS = ["lstm", "lstm-hard-sigmoid", "gru", "gru-reset-before", "simple-rnn", "relu-rnn"]


@pytest.mark.parametrize("layer", _layers_with_states(), ids=LAYER_IDS)
def test_zero_time_steps_return_empty_sequences_and_the_initial_states(layer):
    x = _x(BATCH, 0, FEATURES)
    initial = [torch.randn(BATCH, UNITS) for _ in range(layer.state_count)]
    output, *states = layer(x, initial_state=initial)
    assert output.shape == (BATCH, 0, UNITS)
    for state, given in zip(states, initial):
        torch.testing.assert_close(state, given, rtol=0, atol=0)


@pytest.mark.parametrize("layer_class", [LSTM, GRU, SimpleRNN])
def test_zero_time_steps_last_output_is_zeros(layer_class):
    output = layer_class(UNITS)(_x(BATCH, 0, FEATURES))
    torch.testing.assert_close(output, torch.zeros(BATCH, UNITS), rtol=0, atol=0)


@pytest.mark.parametrize("merge_mode", ["concat", "sum", "mul", "ave", None])
def test_zero_time_steps_bidirectional(merge_mode):
    layer = Bidirectional(LSTM(UNITS, return_sequences=True), merge_mode=merge_mode)
    outputs = layer(_x(BATCH, 0, FEATURES), mask=_mask(BATCH, 0))
    width = 2 * UNITS if merge_mode == "concat" else UNITS
    for output in outputs if merge_mode is None else [outputs]:
        assert output.shape == (BATCH, 0, width)
    last, *states = Bidirectional(GRU(UNITS, return_state=True))(_x(BATCH, 0, FEATURES))
    torch.testing.assert_close(last, torch.zeros(BATCH, 2 * UNITS), rtol=0, atol=0)
    assert [tuple(s.shape) for s in states] == [(BATCH, UNITS)] * 2


@pytest.mark.parametrize("layer", _layers_with_states(), ids=LAYER_IDS)
def test_empty_batch_returns_empty_outputs(layer):
    output, *states = layer(_x(0, TIME, FEATURES), mask=_mask(0, TIME))
    assert output.shape == (0, TIME, UNITS)
    assert [tuple(s.shape) for s in states] == [(0, UNITS)] * layer.state_count
    merged = Bidirectional(GRU(UNITS, return_sequences=True))(_x(0, TIME, FEATURES))
    assert merged.shape == (0, TIME, 2 * UNITS)


@pytest.mark.parametrize("layer", _layers_with_states(), ids=LAYER_IDS)
def test_all_steps_masked_gives_zero_outputs_and_the_initial_states(layer):
    initial = [torch.randn(BATCH, UNITS) for _ in range(layer.state_count)]
    output, *states = layer(_x(), mask=_mask().logical_not(), initial_state=initial)
    torch.testing.assert_close(output, torch.zeros(BATCH, TIME, UNITS), rtol=0, atol=0)
    for state, given in zip(states, initial):
        torch.testing.assert_close(state, given, rtol=0, atol=0)


def test_other_float_dtypes_are_cast_to_the_layer_dtype():
    layer = LSTM(UNITS)
    x = _x()
    expected = layer(x)
    torch.testing.assert_close(layer(x.double()), expected)
    assert layer(x.double()).dtype == torch.float32
    state = [torch.zeros(BATCH, UNITS, dtype=torch.float64)] * 2
    assert layer(x, initial_state=state).dtype == torch.float32


def test_concat_merges_directions_of_different_widths():
    backward = LSTM(UNITS + 1, return_sequences=True, go_backwards=True)
    layer = Bidirectional(LSTM(UNITS, return_sequences=True), backward_layer=backward)
    assert layer(_x()).shape == (BATCH, TIME, 2 * UNITS + 1)


@pytest.mark.parametrize("layer_class", [LSTM, GRU, SimpleRNN])
def test_zero_features_run_on_biases_and_recurrence(layer_class):
    output = layer_class(UNITS, bias_initializer="ones")(_x(BATCH, TIME, 0))
    assert output.shape == (BATCH, UNITS)
    assert bool(output.abs().sum() > 0)
