"""Random layer configurations for ``fuzz_keras.py``, as plain JSON-able specs.

A spec names constructor arguments that tf-keras 2.x and birnn both accept, so one spec
builds the same layer in each (``build_layer(spec, module)``). ``draw_case(seed, index)``
is deterministic: the same seed and index always give the same case.
"""

from __future__ import annotations

import copy
import random
from typing import Any

ACTIVATIONS = [
    "tanh",
    "sigmoid",
    "relu",
    "linear",
    "hard_sigmoid",
    "softsign",
    "elu",
    "selu",
    "softplus",
    "swish",
    "gelu",
]
RECURRENT_ACTIVATIONS = ["sigmoid", "hard_sigmoid", "tanh", "softsign"]
INITIALIZERS = [
    "glorot_uniform",
    "orthogonal",
    "zeros",
    "ones",
    "he_normal",
    "lecun_uniform",
    "glorot_normal",
    {"class_name": "RandomNormal", "config": {"mean": 0.0, "stddev": 0.1, "seed": 3}},
    {"class_name": "RandomUniform", "config": {"minval": -0.2, "maxval": 0.3, "seed": None}},
    {"class_name": "Constant", "config": {"value": 0.25}},
    {"class_name": "Orthogonal", "config": {"gain": 0.5, "seed": 7}},
    {"class_name": "TruncatedNormal", "config": {"mean": 0.0, "stddev": 0.2, "seed": 1}},
    {
        "class_name": "VarianceScaling",
        "config": {"scale": 2.0, "mode": "fan_avg", "distribution": "uniform", "seed": 5},
    },
]
BIAS_INITIALIZERS = [i for i in INITIALIZERS if "rthogonal" not in str(i)]
REGULARIZERS = [
    "l1",
    "l2",
    {"class_name": "L1L2", "config": {"l1": 0.01, "l2": 0.02}},
    {"class_name": "L2", "config": {"l2": 0.05}},
    {"class_name": "L1", "config": {"l1": 0.003}},
]
CONSTRAINTS = [
    "non_neg",
    "unit_norm",
    {"class_name": "MaxNorm", "config": {"max_value": 1.5, "axis": 0}},
    {"class_name": "MinMaxNorm", "config": {"min_value": 0.1, "max_value": 2.0, "rate": 0.5}},
]
MASKS = ["none", "all_valid", "right_padded", "left_padded", "holes", "empty_rows"]
MERGE_MODES = ["concat", "sum", "mul", "ave", None]
CELL_CLASSES = ["SimpleRNNCell", "LSTMCell", "GRUCell"]
LAYER_CLASSES = ["SimpleRNN", "LSTM", "GRU"]


def _maybe(rng: random.Random, p: float, choices: list) -> Any:
    """A random element of ``choices`` with probability ``p``, else ``None``."""
    return rng.choice(choices) if rng.random() < p else None


def draw_cell_args(rng: random.Random, cell_class: str, units: int) -> dict[str, Any]:
    """Constructor arguments of a cell (or the cell part of a recurrent layer)."""
    args: dict[str, Any] = {"units": units}
    if rng.random() < 0.35:
        args["activation"] = rng.choice(ACTIVATIONS)
    gated = cell_class.startswith(("LSTM", "GRU"))
    if gated and rng.random() < 0.3:
        args["recurrent_activation"] = rng.choice(RECURRENT_ACTIVATIONS)
    if rng.random() < 0.15:
        args["use_bias"] = False
    for prefix in ("kernel", "recurrent", "bias"):
        if rng.random() < 0.2:
            choices = INITIALIZERS if prefix != "bias" else BIAS_INITIALIZERS
            args[f"{prefix}_initializer"] = rng.choice(choices)
        regularizer = _maybe(rng, 0.15, REGULARIZERS)
        if regularizer is not None:
            args[f"{prefix}_regularizer"] = regularizer
        constraint = _maybe(rng, 0.1, CONSTRAINTS)
        if constraint is not None:
            args[f"{prefix}_constraint"] = constraint
    if rng.random() < 0.15:
        args["dropout"] = rng.choice([0.1, 0.5])
    if rng.random() < 0.15:
        args["recurrent_dropout"] = rng.choice([0.2, 0.4])
    if gated and rng.random() < 0.25:
        args["implementation"] = rng.choice([1, 2])
    if cell_class.startswith("LSTM") and rng.random() < 0.2:
        args["unit_forget_bias"] = False
    if cell_class.startswith("GRU") and rng.random() < 0.3:
        args["reset_after"] = False
    return args


def draw_cell(rng: random.Random, name: str, depth: int = 0) -> dict[str, Any]:
    """A cell spec: a built-in cell, or (rarely, not nested deeper) a StackedRNNCells."""
    if depth == 0 and rng.random() < 0.15:
        count = rng.randint(1, 3)
        cells = [draw_cell(rng, f"{name}_{i}", depth + 1) for i in range(count)]
        args = {"name": name}
        if rng.random() < 0.15:
            args["trainable"] = False
        return {"class": "StackedRNNCells", "cells": cells, "args": args}
    cell_class = rng.choice(CELL_CLASSES)
    args = draw_cell_args(rng, cell_class, rng.randint(1, 4))
    args["name"] = name
    if rng.random() < (0.1 if depth == 0 else 0.25):
        args["trainable"] = False
    return {"class": cell_class, "args": args}


def draw_recurrent(
    rng: random.Random, name: str, fixed: dict[str, Any] | None = None
) -> dict[str, Any]:
    """A recurrent layer spec: ``LSTM``/``GRU``/``SimpleRNN`` or ``RNN(cell)``.

    Args:
        fixed: arguments to force (a Bidirectional's backward layer must match its forward
            layer's ``return_sequences``, ``return_state``, ``stateful`` and ``time_major``).
    """
    fixed = fixed or {}
    args: dict[str, Any] = {"name": name}
    for key, p in (
        ("return_sequences", 0.5),
        ("return_state", 0.35),
        ("go_backwards", 0.3),
        ("stateful", 0.12),
        ("unroll", 0.15),
        ("time_major", 0.1),
        ("zero_output_for_mask", 0.15),
    ):
        if key in fixed:
            if fixed[key]:
                args[key] = fixed[key]
        elif rng.random() < p:
            args[key] = True
    if rng.random() < 0.08:
        args["trainable"] = False
    if rng.random() < 0.12:
        args["activity_regularizer"] = rng.choice(REGULARIZERS)
    if rng.random() < 0.3:
        spec: dict[str, Any] = {"class": "RNN", "args": args}
        if rng.random() < 0.2:  # RNN([cells]): the list form of stacked cells
            count = rng.randint(1, 3)
            spec["cells"] = [draw_cell(rng, f"{name}_cell_{i}", 1) for i in range(count)]
        else:
            spec["cell"] = draw_cell(rng, f"{name}_cell")
        return spec
    layer_class = rng.choice(LAYER_CLASSES)
    args.update(draw_cell_args(rng, layer_class, rng.randint(1, 4)))
    return {"class": layer_class, "args": args}


def draw_bidirectional(rng: random.Random) -> dict[str, Any]:
    forward = draw_recurrent(rng, "fwd")
    spec: dict[str, Any] = {"class": "Bidirectional", "layer": forward, "args": {}}
    merge_mode = rng.choice(MERGE_MODES)
    if merge_mode != "concat" or rng.random() < 0.3:
        spec["args"]["merge_mode"] = merge_mode
    if rng.random() < 0.1:
        spec["args"]["trainable"] = False
    if rng.random() < 0.3:
        spec["args"]["name"] = "bidi"
    if rng.random() < 0.08:  # a backward layer equal to the automatic mirror of the forward one
        mirror = copy.deepcopy(forward)
        mirror["args"]["go_backwards"] = not forward["args"].get("go_backwards", False)
        spec["backward_layer"] = mirror
    elif rng.random() < 0.3:
        keys = ("return_sequences", "return_state", "stateful", "time_major")
        fixed = {key: forward["args"].get(key, False) for key in keys}
        fixed["go_backwards"] = not forward["args"].get("go_backwards", False)
        backward = draw_recurrent(rng, "bwd", fixed)
        units = _units(forward)
        if merge_mode != "concat" and units and _units(backward) and rng.random() < 0.8:
            _set_units(backward, units)  # the merge needs equal widths (or broadcastable ones)
        spec["backward_layer"] = backward
    return spec


def _output_spec(spec: dict[str, Any]) -> dict[str, Any] | None:
    """The spec whose ``units`` is the layer's output width (last cell of a stack)."""
    if "cells" in spec:
        return _output_spec(spec["cells"][-1])
    if "cell" in spec:
        return _output_spec(spec["cell"])
    return spec if "units" in spec["args"] else None


def _units(spec: dict[str, Any]) -> int | None:
    found = _output_spec(spec)
    return None if found is None else found["args"]["units"]


def _set_units(spec: dict[str, Any], units: int) -> None:
    _output_spec(spec)["args"]["units"] = units


def draw_case(seed: int, index: int) -> dict[str, Any]:
    """The case ``index`` of ``seed``: a layer spec and how to build and call it."""
    rng = random.Random(f"{seed}:{index}")
    roll = rng.random()
    if roll < 0.22:
        from fuzz_layers import DRAWERS, draw_other

        case = draw_other(rng, set(DRAWERS) | {"TimeDistributed"})
        case.update(seed=seed, index=index, data_seed=rng.randrange(2**31))
        return case
    if roll < 0.62:
        kind, layer = "layer", draw_bidirectional(rng)
    elif roll < 0.9:
        kind, layer = "layer", draw_recurrent(rng, "rnn")
    else:
        kind, layer = "cell", draw_cell(rng, "cell")
    case: dict[str, Any] = {
        "seed": seed,
        "index": index,
        "kind": kind,
        "layer": layer,
        "batch": rng.randint(1, 4),
        "time": rng.choice([1, 2, 3, 4, 5, 6]),
        "features": rng.randint(1, 5),
        "dtype": "float64" if rng.random() < 0.1 else "float32",
        "mask": rng.choice(MASKS) if rng.random() < 0.6 else "none",
        "initial_state": rng.choice(["none", "none", "nested", "flat"]),
        # how the layers get their weights: a call, build() with the full shape or with
        # unknown batch and time, or the build_config of a serialized built layer
        "build": rng.choice(["call", "build", "build_unknown", "build_config"]),
        "states_as_tensor": rng.random() < 0.3,  # a cell's single state passed bare
        "data_seed": rng.randrange(2**31),
    }
    if case["dtype"] == "float64":
        _set_dtype(layer, "float64")
    return case


def _set_dtype(spec: dict[str, Any], dtype: str) -> None:
    spec["args"]["dtype"] = dtype
    for key in ("layer", "backward_layer", "cell"):
        if key in spec:
            _set_dtype(spec[key], dtype)
    for cell in spec.get("cells", []):
        _set_dtype(cell, dtype)


def build_layer(spec: dict[str, Any], module: Any) -> Any:
    """The layer (or cell) ``spec`` describes, made with ``module``'s constructors.

    Args:
        spec: a spec from ``draw_case``.
        module: ``tf_keras.layers`` or ``birnn.layers``.
    """
    cls = getattr(module, spec["class"])
    args = dict(spec["args"])
    if spec["class"] == "Bidirectional":
        backward = spec.get("backward_layer")
        if backward is not None:
            args["backward_layer"] = build_layer(backward, module)
        return cls(build_layer(spec["layer"], module), **args)
    if "layer" in spec:  # TimeDistributed and other wrappers
        return cls(build_layer(spec["layer"], module), **args)
    if spec["class"] == "StackedRNNCells":
        return cls([build_layer(cell, module) for cell in spec["cells"]], **args)
    if spec["class"] == "RNN":
        if "cells" in spec:
            return cls([build_layer(cell, module) for cell in spec["cells"]], **args)
        return cls(build_layer(spec["cell"], module), **args)
    return cls(**args)


def walk(spec: dict[str, Any]):
    """Every spec nested in ``spec``, itself first."""
    yield spec
    for key in ("layer", "backward_layer", "cell"):
        if key in spec:
            yield from walk(spec[key])
    for cell in spec.get("cells", []):
        yield from walk(cell)
