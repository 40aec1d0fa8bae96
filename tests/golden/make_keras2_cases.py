"""Computes golden cases with tf-keras 2.x, in the format ``tests/golden/README.md`` documents.

Run in a side venv with tensorflow-cpu==2.21.0 and tf-keras==2.21.0 (see the project
README's development section); never imported by the tests::

    python tests/golden/make_keras2_cases.py            # (re)writes the cases in conform/
    python tests/golden/make_keras2_cases.py --check    # recomputes every stored case, new
                                                      # and old, and compares

``--check`` also reproduces the cases this script did not write (the original parity cases
in ``keras2/``): it rebuilds each from its stored config, weights, inputs and loss projections
and compares tf-keras's outputs and gradients with the stored ones.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
GOLDEN = Path(__file__).parent
OUT = GOLDEN / "conform"  # this script's cases; keras2/ holds the original parity cases
DIRECTORIES = (GOLDEN / "keras2", OUT)


# -- the cases -------------------------------------------------------------------------------
# Each: id -> (layer factory taking tf_keras.layers, calls). A call is a dict with
# batch/time/features, optional "mask" (a (batch, time) list of 0/1), "initial_state"
# (True: random states in tf-keras's structure), or {"reset_states": True | "random"}.


def _mirrored_backward(L):
    return L.Bidirectional(L.SimpleRNN(3, go_backwards=True), backward_layer=L.SimpleRNN(3))


def _zero_output_inside(L):
    return L.Bidirectional(
        L.LSTM(2, return_sequences=True, zero_output_for_mask=True),
        backward_layer=L.GRU(
            2, return_sequences=True, go_backwards=True, zero_output_for_mask=True
        ),
    )


def _zero_output_forward_only(L):
    return L.Bidirectional(L.SimpleRNN(2, return_sequences=True, zero_output_for_mask=True))


def _activity_gru_state(L):
    return L.GRU(3, return_state=True, activity_regularizer=L_REG("l2"))


def _activity_bidirectional_none(L):
    layer = L.LSTM(2, return_sequences=True, return_state=True, activity_regularizer=L_REG("l1"))
    return L.Bidirectional(layer, merge_mode=None)


def _activity_on_bidirectional(L):
    return L.Bidirectional(L.GRU(2, return_state=True), merge_mode=None, activity_regularizer="l2")


def _frozen_rnn_cell(L):
    return L.RNN(L.LSTMCell(3), trainable=False, return_sequences=True)


def _nested_trainable(L):
    cells = [L.LSTMCell(3, trainable=False), L.LSTMCell(3)]
    return L.Bidirectional(L.RNN(cells, trainable=False))


def _nested_trainable_stack(L):
    cells = [L.GRUCell(2, trainable=False), L.SimpleRNNCell(2), L.LSTMCell(2, trainable=False)]
    return L.RNN(L.StackedRNNCells(cells), return_sequences=True)


def _stacked_states(L):
    return L.RNN([L.LSTMCell(3), L.SimpleRNNCell(2), L.GRUCell(2)], return_state=True)


def _stacked_states_bidirectional(L):
    forward = L.RNN([L.LSTMCell(2), L.SimpleRNNCell(3)], return_state=True)
    backward = L.RNN([L.GRUCell(2), L.LSTMCell(3)], return_state=True, go_backwards=True)
    return L.Bidirectional(forward, backward_layer=backward, merge_mode="concat")


def _uneven_reset(L):
    forward = L.SimpleRNN(2, stateful=True, return_state=True)
    backward = L.LSTM(2, stateful=True, return_state=True, go_backwards=True)
    return L.Bidirectional(forward, backward_layer=backward)


def L_REG(name):  # noqa: N802 - a regularizer config both libraries read
    return {"class_name": {"l1": "L1", "l2": "L2"}[name], "config": {name: 0.03}}


HOLES = [[1, 0, 1, 1], [0, 0, 0, 0], [1, 1, 1, 0]]
CASES: dict[str, tuple[Callable, list[dict[str, Any]]]] = {
    "conform_mirrored_backward_layer": (_mirrored_backward, [{"batch": 2, "time": 4}]),
    "conform_zero_output_for_mask_backward": (
        _zero_output_inside,
        [{"batch": 3, "time": 4, "mask": HOLES}],
    ),
    "conform_zero_output_for_mask_forward": (
        _zero_output_forward_only,
        [{"batch": 3, "time": 4, "mask": HOLES}],
    ),
    "conform_activity_regularizer_states": (_activity_gru_state, [{"batch": 2, "time": 3}]),
    "conform_activity_regularizer_merge_none": (
        _activity_bidirectional_none,
        [{"batch": 3, "time": 4, "mask": HOLES}],
    ),
    "conform_activity_regularizer_on_bidirectional": (
        _activity_on_bidirectional,
        [{"batch": 2, "time": 3}],
    ),
    "conform_rnn_cell_trainable_false": (_frozen_rnn_cell, [{"batch": 2, "time": 3}]),
    "conform_nested_trainable_order": (_nested_trainable, [{"batch": 2, "time": 4}]),
    "conform_nested_trainable_stack": (_nested_trainable_stack, [{"batch": 2, "time": 3}]),
    "conform_stacked_states": (
        _stacked_states,
        [{"batch": 2, "time": 3}, {"batch": 2, "time": 3, "initial_state": True}],
    ),
    "conform_stacked_states_bidirectional": (
        _stacked_states_bidirectional,
        [{"batch": 3, "time": 4, "mask": HOLES}, {"batch": 3, "time": 4, "initial_state": True}],
    ),
    "conform_uneven_reset_states": (
        _uneven_reset,
        [
            {"batch": 2, "time": 3},
            {"reset_states": "random"},
            {"batch": 2, "time": 3},
            {"reset_states": True},
            {"batch": 2, "time": 3},
        ],
    ),
}


# -- computing a case ---------------------------------------------------------------------------


class _Arrays:
    """Collects named arrays for the case's .npz."""

    def __init__(self):
        self.arrays: dict[str, np.ndarray] = {}

    def add(self, key: str, value: Any) -> str:
        self.arrays[key] = np.asarray(value)
        return key


def _structure_keys(value: Any, arrays: _Arrays, prefix: str, counter: list[int]) -> Any:
    """Stores each leaf of a nested list of tensors; returns the same nesting of keys."""
    if isinstance(value, (list, tuple)) or type(value).__name__ == "ListWrapper":
        return [_structure_keys(v, arrays, prefix, counter) for v in value]
    if value is None:
        return None
    key = f"{prefix}{counter[0]}"
    counter[0] += 1
    return arrays.add(key, value)


def _flat(structure: Any) -> list:
    if isinstance(structure, list):
        return [leaf for item in structure for leaf in _flat(item)]
    return [structure]


def _state_sizes(layer) -> Any:
    """The nested list of state sizes that ``initial_state`` takes, in tf-keras's structure."""
    import tensorflow as tf

    def one(cell):
        size = cell.state_size
        if not tf.nest.is_nested(size):
            return [int(size)]
        return [
            [int(s) for s in tf.nest.flatten(e)] if tf.nest.is_nested(e) else int(e) for e in size
        ]

    if type(layer).__name__ == "Bidirectional":
        return one(layer.forward_layer.cell) + one(layer.backward_layer.cell)
    return one(layer.cell)


def _random_states(sizes: Any, batch: int, rng: np.random.Generator) -> Any:
    if isinstance(sizes, list):
        return [_random_states(s, batch, rng) for s in sizes]
    return rng.uniform(-1, 1, (batch, sizes)).astype("float32")


def _json(value: Any) -> Any:
    if hasattr(value, "items"):
        return {str(k): _json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)) or type(value).__name__ == "ListWrapper":
        return [_json(v) for v in value]
    if hasattr(value, "tolist"):
        return value.tolist()
    return value


def _run_call(layer, arrays, index, x, mask, initial, projections=None, rng=None):
    """One call with gradients; stores everything under ``c{index}_*`` keys."""
    import tensorflow as tf

    entry: dict[str, Any] = {"x": arrays.add(f"c{index}_x", x)}
    kwargs: dict[str, Any] = {"training": False}
    if mask is not None:
        entry["mask"] = arrays.add(f"c{index}_mask", mask)
        kwargs["mask"] = tf.constant(mask)
    if initial is not None:
        keys = _structure_keys(initial, arrays, f"c{index}_s", [0])
        entry["initial_state"] = _flat(keys)
        if any(isinstance(k, list) for k in keys):
            entry["initial_state_structure"] = keys
        kwargs["initial_state"] = tf.nest.map_structure(tf.constant, initial)
    x_tensor = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(x_tensor)
        result = layer(x_tensor, **kwargs)
        leaves = tf.nest.flatten(result)
        if projections is None:
            projections = [rng.normal(size=leaf.shape).astype("float32") for leaf in leaves]
        loss = tf.add_n([tf.reduce_sum(leaf * p) for leaf, p in zip(leaves, projections)])
    trainable = layer.trainable_weights
    gradients = tape.gradient(loss, [x_tensor, *trainable])
    keys = _structure_keys(result, arrays, f"c{index}_y", [0])
    entry["outputs"] = _flat(keys) if isinstance(keys, list) else [keys]
    if isinstance(keys, list) and any(isinstance(k, list) for k in keys):
        entry["output_structure"] = keys
    entry["output_is_list"] = isinstance(result, (list, tuple))
    entry["grads"] = {
        "loss_projections": [arrays.add(f"c{index}_p{i}", p) for i, p in enumerate(projections)],
        "x": arrays.add(f"c{index}_gx", gradients[0]),
        "weights": [arrays.add(f"c{index}_gw{i}", g) for i, g in enumerate(gradients[1:])],
    }
    entry["losses"] = sorted(float(v) for v in layer.losses)
    computed = layer.compute_mask(x_tensor, kwargs.get("mask"))
    entry["compute_mask"] = _structure_keys(computed, arrays, f"c{index}_m", [0])
    return entry


def generate(case_id: str) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    import tf_keras

    tf_keras.backend.clear_session()
    factory, plan = CASES[case_id]
    rng = np.random.default_rng(_stable_seed(case_id))
    layer = factory(tf_keras.layers)
    first = next(call for call in plan if "batch" in call)
    layer.build((first["batch"], first["time"], 3))
    weights = [rng.uniform(-0.6, 0.6, w.shape).astype("float32") for w in layer.weights]
    layer.set_weights(weights)
    arrays = _Arrays()
    spec: dict[str, Any] = {
        "id": case_id,
        "kind": "layer",
        "config": _json(tf_keras.layers.serialize(layer)),
        "weights": [arrays.add(f"w{i}", w) for i, w in enumerate(weights)],
        "expected_config": _json(layer.get_config()),
        "weight_trainable": [any(w is t for t in layer.trainable_weights) for w in layer.weights],
        "output_shape": _shapes(layer.compute_output_shape((first["batch"], first["time"], 3))),
        "calls": [],
    }
    for index, call in enumerate(plan):
        if "reset_states" in call:
            if call["reset_states"] == "random":
                states = _flat(_random_states(_state_sizes(layer), first["batch"], rng))
                keys = [arrays.add(f"c{index}_r{i}", s) for i, s in enumerate(states)]
                layer.reset_states(states)
                spec["calls"].append({"reset_states": keys})
            else:
                layer.reset_states()
                spec["calls"].append({"reset_states": True})
            continue
        x = rng.normal(size=(call["batch"], call["time"], 3)).astype("float32")
        mask = None if "mask" not in call else np.asarray(call["mask"], bool)
        initial = None
        if call.get("initial_state"):
            initial = _random_states(_state_sizes(layer), call["batch"], rng)
        spec["calls"].append(_run_call(layer, arrays, index, x, mask, initial, rng=rng))
    return spec, arrays.arrays


def _shapes(value: Any) -> Any:
    """TensorShapes (possibly in lists) as lists of ints and Nones."""
    if hasattr(value, "as_list"):
        return value.as_list()
    return [_shapes(v) for v in value]


def _stable_seed(text: str) -> int:
    return int.from_bytes(text.encode()[:8].ljust(8, b"\0"), "little") % 2**32


# -- reproducing stored cases -----------------------------------------------------------------


def recompute(case_id: str) -> list[str]:
    """Reruns a stored case from its config, weights, inputs and projections; lists mismatches."""
    import tf_keras

    tf_keras.backend.clear_session()
    directory = next(d for d in DIRECTORIES if (d / f"{case_id}.json").exists())
    spec = json.loads((directory / f"{case_id}.json").read_text())
    stored = dict(np.load(directory / f"{case_id}.npz"))
    if spec["kind"] == "model":
        layer = tf_keras.models.model_from_json(json.dumps(spec["config"]))
    else:
        layer = tf_keras.layers.deserialize(spec["config"])
    first = next(call for call in spec["calls"] if "x" in call)
    if not layer.built:
        layer.build(stored[first["x"]].shape)
    layer.set_weights([stored[k] for k in spec["weights"]])
    problems = []
    for index, call in enumerate(spec["calls"]):
        if "reset_states" in call:
            states = call["reset_states"]
            layer.reset_states(None if states is True else [stored[k] for k in states])
            continue
        initial = None
        if "initial_state" in call:
            structure = call.get("initial_state_structure", call["initial_state"])
            initial = _map_keys(structure, stored)
        mask = stored[call["mask"]] if "mask" in call else None
        projections = None
        if "grads" in call:
            projections = [stored[k] for k in call["grads"]["loss_projections"]]
        elif "outputs" in call:
            projections = [np.zeros_like(stored[k]) for k in call["outputs"]]
        arrays = _Arrays()
        entry = _run_call(layer, arrays, index, stored[call["x"]], mask, initial, projections)
        pairs = list(zip(call["outputs"], entry["outputs"]))
        if "grads" in call:
            pairs.append((call["grads"]["x"], entry["grads"]["x"]))
            pairs += list(zip(call["grads"]["weights"], entry["grads"]["weights"]))
        for old, new in pairs:
            if not np.allclose(stored[old], arrays.arrays[new], atol=1e-5, rtol=1e-4):
                problems.append(f"{case_id}: {old} differs")
    return problems


def _map_keys(structure: Any, stored: dict[str, np.ndarray]) -> Any:
    if isinstance(structure, list):
        return [_map_keys(s, stored) for s in structure]
    return stored[structure]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="recompute and compare all cases")
    parser.add_argument("ids", nargs="*", help="only these case ids")
    args = parser.parse_args(argv)
    if args.check:
        ids = args.ids or sorted(p.stem for d in DIRECTORIES for p in d.glob("*.json"))
        problems = [p for case_id in ids for p in recompute(case_id)]
        print("\n".join(problems) or f"{len(ids)} cases reproduced")
        return 1 if problems else 0
    for case_id in args.ids or CASES:
        spec, arrays = generate(case_id)
        (OUT / f"{case_id}.json").write_text(json.dumps(spec, indent=1) + "\n")
        np.savez(OUT / f"{case_id}.npz", **arrays)
        print(f"wrote {case_id}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
