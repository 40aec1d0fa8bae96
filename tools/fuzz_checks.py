"""Builds one fuzz case in tf-keras and birnn and lists every difference (``compare_case``)."""

from __future__ import annotations

import copy
import dataclasses
import json
import re
from typing import Any

import fuzz_cases
import numpy as np

OUTPUT_TOLERANCE = {"atol": 1e-5, "rtol": 1e-4}
GRADIENT_TOLERANCE = {"atol": 1e-4, "rtol": 1e-3}
VARIANTS = ("deserialize", "construct")


@dataclasses.dataclass
class Failure:
    check: str
    variant: str
    what: str
    detail: str = ""

    @property
    def key(self) -> str:
        return f"{self.check} [{self.variant}]: {self.what}"


class Stop(Exception):
    """Stops one variant after a failure that makes later checks meaningless."""


def short_error(error: BaseException) -> str:
    lines = [line for line in str(error).strip().splitlines() if line.strip()]
    text = next((line for line in lines if "Exception encountered" not in line), "")
    text = re.sub(r"'[^']*'", "'…'", text)
    text = re.sub(r"\d+", "N", text)
    return f"{type(error).__name__}: {text[:140]}"


# -- structures of arrays ---------------------------------------------------------------------


def tf_structure(value: Any) -> Any:
    """Nested lists of numpy arrays (or None) from tf tensors, lists and tuples."""
    if value is None:
        return None
    if isinstance(value, (list, tuple)) or type(value).__name__ == "ListWrapper":
        return [tf_structure(v) for v in value]
    return np.asarray(value)


def torch_structure(value: Any) -> Any:
    import torch

    if value is None:
        return None
    if isinstance(value, (list, tuple)):
        return [torch_structure(v) for v in value]
    if torch.is_tensor(value):
        return value.detach().cpu().numpy()
    return np.asarray(value)


def shape_structure(value: Any) -> Any:
    """Nested lists of shape tuples, from TensorShapes, tuples or lists of them."""
    if value is None:
        return None
    if hasattr(value, "as_list"):
        return tuple(value.as_list())
    if isinstance(value, (list, tuple)) and all(v is None or isinstance(v, int) for v in value):
        return tuple(value)
    return [shape_structure(v) for v in value]


def _layout(value: Any) -> Any:
    """The nesting and shapes of a structure, for a readable structural comparison."""
    if value is None:
        return None
    if isinstance(value, list):
        return [_layout(v) for v in value]
    return f"{value.dtype}{tuple(value.shape)}"


def _flatten(value: Any) -> list:
    if isinstance(value, list):
        return [leaf for item in value for leaf in _flatten(item)]
    return [value]


def compare_arrays(expected: Any, received: Any, tolerance: dict) -> str | None:
    """A description of the first difference between two structures, or None."""
    if _layout_kind(expected) != _layout_kind(received):
        return f"structure: tf-keras {_layout(expected)}, birnn {_layout(received)}"
    for position, (a, b) in enumerate(zip(_flatten(expected), _flatten(received))):
        if a is None or b is None:
            continue
        if a.shape != b.shape:
            return f"leaf {position}: shape tf-keras {a.shape}, birnn {b.shape}"
        if not np.allclose(a, b.astype(a.dtype), equal_nan=True, **tolerance):
            worst = float(np.nanmax(np.abs(a.astype(np.float64) - b)))
            return f"leaf {position}: values differ by up to {worst:.3g}"
    return None


def _layout_kind(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, list):
        return [_layout_kind(v) for v in value]
    return "array"


# -- configs ----------------------------------------------------------------------------------


def plain_json(value: Any) -> Any:
    """``value`` as plain JSON data (tf-keras configs hold DictWrapper and ListWrapper)."""
    if hasattr(value, "items"):
        return {str(k): plain_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)) or type(value).__name__ == "ListWrapper":
        return [plain_json(v) for v in value]
    if hasattr(value, "tolist"):
        return value.tolist()
    return json.loads(json.dumps(value, default=str))


def config_difference(
    expected: Any, received: Any, path: str = "", loose_names: bool = False
) -> tuple[str, str] | None:
    """``(class, detail)`` of the first difference between two configs, or None.

    With ``loose_names``, default names that differ only in their counter suffix
    (``stacked_rnn_cells`` and ``stacked_rnn_cells_1``) are taken as equal: tf-keras counts
    names per session, birnn per process.
    """
    if loose_names and path.endswith("name.") and isinstance(expected, str):
        if re.sub(r"_\d+$", "", expected) == re.sub(r"_\d+$", "", str(received)):
            return None
    if isinstance(expected, dict) and isinstance(received, dict):
        for key in expected:
            if key not in received:
                return f"key {_generic(path + key)!r} missing", f"tf-keras: {expected[key]!r:.300}"
        for key in received:
            if key not in expected:
                return f"extra key {_generic(path + key)!r}", f"birnn: {received[key]!r:.300}"
        for key in expected:
            found = config_difference(expected[key], received[key], f"{path}{key}.", loose_names)
            if found:
                return found
        return None
    if isinstance(expected, list) and isinstance(received, list) and len(expected) == len(received):
        for i, (a, b) in enumerate(zip(expected, received)):
            found = config_difference(a, b, f"{path}[{i}].", loose_names)
            if found:
                return found
        return None
    if isinstance(expected, float) and isinstance(received, (int, float)):
        if abs(expected - received) <= 1e-7 * max(1.0, abs(expected)):
            return None
    if expected != received:
        where = _generic(path.rstrip("."))
        return f"value of {where!r} differs", f"tf-keras {expected!r:.300}, birnn {received!r:.300}"
    return None


def _generic(path: str) -> str:
    return re.sub(r"\[\d+\]", "[i]", path)


# -- inputs -------------------------------------------------------------------------------------


def _mask(kind: str, batch: int, time: int, rng: np.random.Generator) -> np.ndarray | None:
    if kind == "none":
        return None
    steps = np.arange(time)
    if kind == "all_valid":
        return np.ones((batch, time), bool)
    lengths = rng.integers(1, time + 1, size=batch)
    if kind == "right_padded":
        return steps[None, :] < lengths[:, None]
    if kind == "left_padded":
        return steps[None, :] >= (time - lengths)[:, None]
    if kind == "holes":
        mask = rng.random((batch, time)) < 0.6
        mask[:, 0] |= ~mask.any(axis=1)
        return mask
    mask = rng.random((batch, time)) < 0.6  # empty_rows: some rows fully masked
    mask[0] = False
    return mask


def _state_structure(tf_layer: Any, is_cell: bool) -> Any:
    """tf-keras's state structure of a layer or cell, as nested lists of sizes."""
    import tensorflow as tf

    def one(size_owner):
        size = size_owner.state_size
        if not tf.nest.is_nested(size):
            return [int(size)]
        return [
            [int(s) for s in tf.nest.flatten(e)] if tf.nest.is_nested(e) else int(e) for e in size
        ]

    if is_cell:
        return one(tf_layer)
    if type(tf_layer).__name__ == "Bidirectional":
        return one(tf_layer.forward_layer.cell) + one(tf_layer.backward_layer.cell)
    return one(tf_layer.cell)


def _states(sizes: Any, batch: int, dtype: str, rng: np.random.Generator) -> Any:
    if isinstance(sizes, list):
        return [_states(s, batch, dtype, rng) for s in sizes]
    return rng.uniform(-1, 1, (batch, sizes)).astype(dtype)


# -- the case ----------------------------------------------------------------------------------


def compare_case(case: dict[str, Any]) -> tuple[list[Failure], str]:
    """Builds ``case`` in tf-keras and birnn; returns ``(failures, status)``."""
    if case["kind"] == "other":
        from fuzz_layers import compare_other

        return compare_other(case)
    import tensorflow as tf
    import tf_keras

    tf_keras.backend.clear_session()
    rng = np.random.default_rng(case["data_seed"])
    spec, is_cell = case["layer"], case["kind"] == "cell"
    dtype = case["dtype"]
    time_major = not is_cell and _time_major(spec)
    batch, time, features = case["batch"], case["time"], case["features"]
    if is_cell:
        shape = (batch, features)
    else:
        shape = (time, batch, features) if time_major else (batch, time, features)
    build_shape = shape
    if case["build"] == "build_unknown" and not _stateful(spec):
        build_shape = (None, shape[-1]) if is_cell else (None, None, shape[-1])
    try:
        tf_layer = fuzz_cases.build_layer(spec, tf_keras.layers)
        tf_layer.build(build_shape)
        weights = [
            rng.uniform(-0.6, 0.6, w.shape).astype(w.dtype.as_numpy_dtype) for w in tf_layer.weights
        ]
        tf_layer.set_weights(weights)
        tf_config = plain_json(tf_keras.layers.serialize(tf_layer))
    except Exception as error:
        return [
            Failure("tf-keras rejects", "build", short_error(error), traceback_text())
        ], "tf_rejected"
    if case["build"] != "build_config":
        tf_config.pop("build_config", None)

    x = rng.normal(size=shape).astype(dtype)
    mask = None if is_cell else _mask(case["mask"], batch, time, rng)
    if mask is not None and time_major:
        mask = mask.T.copy()
    sizes = _state_structure(tf_layer, is_cell)
    initial = None
    if is_cell:
        initial = _states(sizes, batch, dtype, rng)
        if case["states_as_tensor"] and len(initial) == 1 and not isinstance(initial[0], list):
            initial = initial[0]
    elif case["initial_state"] != "none":
        initial = _states(sizes, batch, dtype, rng)
    calls = [(x, mask, initial)]
    stateful = _stateful(spec)
    if stateful:
        calls.append((rng.normal(size=shape).astype(dtype), mask, None))
    reset_to = None
    if stateful:
        reset_to = _flatten(_states(sizes, batch, dtype, rng))
        calls.append((rng.normal(size=shape).astype(dtype), mask, None))

    tf_results = []
    try:
        for number, (cx, cmask, cinitial) in enumerate(calls):
            if number == 2:
                tf_layer.reset_states(reset_to)
            tf_results.append(_tf_call(tf_layer, is_cell, cx, cmask, cinitial, rng))
            if number == 0:
                tf_losses = sorted(float(v) for v in tf_layer.losses)
        tf_output_shape = None if is_cell else shape_structure(tf_layer.compute_output_shape(shape))
        tf_mask = (
            None
            if is_cell
            else tf_structure(
                tf_layer.compute_mask(tf.constant(x), None if mask is None else tf.constant(mask))
            )
        )
    except Exception as error:
        return [
            Failure("tf-keras rejects", "call", short_error(error), traceback_text())
        ], "tf_rejected"

    reference = {
        "trainable": tf_layer.trainable,
        "weight_shapes": [tuple(w.shape) for w in tf_layer.weights],
        "weight_trainable": [
            any(w is t for t in tf_layer.trainable_weights) for w in tf_layer.weights
        ],
        "config": tf_layer.get_config(),
        "results": tf_results,
        "losses": tf_losses,
        "output_shape": tf_output_shape,
        "mask": tf_mask,
    }
    failures: list[Failure] = []
    for variant in VARIANTS:
        try:
            _check_variant(
                variant, case, tf_config, reference, weights, shape, calls, reset_to, failures
            )
        except Stop:
            pass
        except Exception as error:
            failures.append(Failure("raises", variant, short_error(error), traceback_text()))
    return failures, "failed" if failures else "ok"


def traceback_text() -> str:
    import traceback

    return traceback.format_exc()


def _time_major(spec: dict[str, Any]) -> bool:
    if spec["class"] == "Bidirectional":
        return _time_major(spec["layer"])
    return bool(spec["args"].get("time_major"))


def _stateful(spec: dict[str, Any]) -> bool:
    if spec["class"] == "Bidirectional":
        return _stateful(spec["layer"])
    return bool(spec["args"].get("stateful"))


def _tf_call(layer, is_cell, x, mask, initial, rng):
    """tf-keras's outputs and gradients (inputs, trainable weights) for one call."""
    import tensorflow as tf

    x = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(x)
        if is_cell:
            output, states = layer(x, tf.nest.map_structure(tf.constant, initial), training=False)
            result = [output, states]
        else:
            kwargs = {"training": False}
            if mask is not None:
                kwargs["mask"] = tf.constant(mask)
            if initial is not None:
                kwargs["initial_state"] = tf.nest.map_structure(tf.constant, initial)
            result = layer(x, **kwargs)
        leaves = tf.nest.flatten(result)
        projections = [
            rng.normal(size=leaf.shape).astype(leaf.dtype.as_numpy_dtype) for leaf in leaves
        ]
        loss = tf.add_n([tf.reduce_sum(leaf * p) for leaf, p in zip(leaves, projections)])
    gradients = tape.gradient(loss, [x, *layer.trainable_weights])
    gradients = [None if g is None else np.asarray(tf.convert_to_tensor(g)) for g in gradients]
    return {"outputs": tf_structure(result), "projections": projections, "gradients": gradients}


def _birnn_layer(variant, case, tf_config, shape):
    import birnn.layers

    if variant == "deserialize":
        return birnn.layers.deserialize(copy.deepcopy(tf_config))
    return fuzz_cases.build_layer(case["layer"], birnn.layers)


def _build(layer, case, shape, first_call):
    """Builds ``layer`` the way the case says (the first call is run when building by call)."""
    mode = case["build"]
    if mode == "build_config" and layer.built:
        return
    if mode in ("build", "build_config"):
        layer.build(shape)
    elif mode == "build_unknown" and not _stateful(case["layer"]):
        layer.build((None, shape[-1]) if len(shape) == 2 else (None, None, shape[-1]))
    elif mode == "build_unknown":
        layer.build(shape)
    else:
        first_call(layer)


def check_weights(layer, reference, fail) -> None:
    """Weight shapes in order and which weights train, as tf-keras's ``reference`` has them."""
    shapes = [tuple(w.shape) for w in layer.weights]
    if shapes != reference["weight_shapes"]:
        detail = f"tf-keras {reference['weight_shapes']}, birnn {shapes}"
        fail("weights", "weight shapes or order differ", detail, stop=True)
    flags = [any(w is t for t in layer.trainable_weights) for w in layer.weights]
    if flags != reference["weight_trainable"]:
        detail = f"tf-keras {reference['weight_trainable']}, birnn {flags}"
        fail("weights", "trainable flags of weights differ", detail)
    frozen = [not w.requires_grad for w in layer.trainable_weights]
    if any(frozen):
        fail("weights", "a trainable weight does not require grad", str(frozen))


def check_config_and_shape(layer, reference, shape, case, variant, fail) -> None:
    """``get_config()`` and (for a ``shape``) ``compute_output_shape`` against tf-keras's."""
    expected_config, config = plain_json(reference["config"]), plain_json(layer.get_config())
    if variant == "construct" and "name" not in case["layer"]["args"]:
        config["name"] = expected_config["name"]  # default names count layers per process
    found = config_difference(expected_config, config, loose_names=variant == "construct")
    if found:
        fail("config", *found)
    if shape is None:
        return
    try:
        output_shape = shape_structure(layer.compute_output_shape(shape))
    except Exception as error:
        fail("compute_output_shape", short_error(error), traceback_text())
        return
    if output_shape != reference["output_shape"]:
        detail = f"tf-keras {reference['output_shape']}, birnn {output_shape}"
        fail("compute_output_shape", "differs", detail)


def _check_variant(variant, case, tf_config, reference, weights, shape, calls, reset_to, failures):
    import torch

    def fail(check, what, detail="", stop=False):
        failures.append(Failure(check, variant, what, detail))
        if stop:
            raise Stop

    is_cell = case["kind"] == "cell"
    try:
        layer = _birnn_layer(variant, case, tf_config, shape)
    except Exception as error:
        fail("construct", short_error(error), traceback_text(), stop=True)
    layer.eval()

    def dry_call(module):
        x, mask, initial = calls[0]
        _birnn_call(module, is_cell, x, mask, initial, case)
        if _stateful(case["layer"]) and hasattr(module, "reset_states"):
            module.reset_states()

    try:
        _build(layer, case, shape, dry_call)
    except Exception as error:
        fail("build", f"{case['build']}: {short_error(error)}", traceback_text(), stop=True)
    if layer.trainable != reference["trainable"]:
        fail("trainable", "layer.trainable differs", f"tf-keras {reference['trainable']}")
    check_weights(layer, reference, fail)
    try:
        layer.set_weights(weights)
    except Exception as error:
        fail("set_weights", short_error(error), traceback_text(), stop=True)
    check_config_and_shape(layer, reference, None if is_cell else shape, case, variant, fail)

    for number, ((x, mask, initial), expected) in enumerate(zip(calls, reference["results"])):
        check = "outputs" if number == 0 else "stateful"
        if number == 2:
            try:
                layer.reset_states(reset_to)
            except Exception as error:
                fail("reset_states", short_error(error), traceback_text(), stop=True)
        try:
            result, x_tensor = _birnn_call(layer, is_cell, x, mask, initial, case)
        except Exception as error:
            fail(check, f"call raises {short_error(error)}", traceback_text(), stop=True)
        received = torch_structure(result)
        difference = compare_arrays(expected["outputs"], received, OUTPUT_TOLERANCE)
        if difference:
            kind = "structure differs" if difference.startswith("structure") else "values differ"
            fail(check, kind, difference, stop=kind.startswith("structure"))
            continue
        leaves = _flatten(result if isinstance(result, list) else [result])
        loss = sum(
            (leaf * torch.as_tensor(p)).sum() for leaf, p in zip(leaves, expected["projections"])
        )
        weights_t = layer.trainable_weights
        gradients = torch.autograd.grad(loss, [x_tensor, *weights_t], allow_unused=True)
        gradients = [None if g is None else g.numpy() for g in gradients]
        tf_gradients = [g if g is not None else None for g in expected["gradients"]]
        for position, (a, b) in enumerate(zip(tf_gradients, gradients)):
            a = np.zeros_like(b) if a is None and b is not None else a
            b = np.zeros_like(a) if b is None and a is not None else b
            if a is None:
                continue
            if a.shape != b.shape or not np.allclose(a, b, **GRADIENT_TOLERANCE):
                name = "inputs" if position == 0 else f"trainable weight {position - 1}"
                fail("gradients", "differ", f"{name}: tf-keras {a.shape}, birnn {b.shape}")
                break
        if number == 0:
            losses = sorted(float(v) for v in layer.losses)
            if len(losses) != len(reference["losses"]) or not np.allclose(
                losses, reference["losses"], rtol=1e-4, atol=1e-6
            ):
                what = (
                    "count differs" if len(losses) != len(reference["losses"]) else "values differ"
                )
                fail("losses", what, f"tf-keras {reference['losses']}, birnn {losses}")

    if not is_cell:
        x, mask, _ = calls[0]
        try:
            computed = layer.compute_mask(
                torch.as_tensor(x), None if mask is None else torch.as_tensor(mask)
            )
            difference = compare_arrays(
                reference["mask"], torch_structure(computed), {"atol": 0, "rtol": 0}
            )
            if difference:
                fail("compute_mask", "differs", difference)
        except Exception as error:
            fail("compute_mask", short_error(error), traceback_text())


def _birnn_call(layer, is_cell, x, mask, initial, case):
    import torch

    x_tensor = torch.tensor(x, requires_grad=True)
    if is_cell:
        states = _torch_states(initial, case, flat=case["initial_state"] == "flat")
        output, new_states = layer(x_tensor, states, training=False)
        return [output, new_states], x_tensor
    kwargs: dict[str, Any] = {"training": False}
    if mask is not None:
        kwargs["mask"] = torch.as_tensor(mask)
    if initial is not None:
        kwargs["initial_state"] = _torch_states(initial, case, flat=case["initial_state"] == "flat")
    return layer(x_tensor, **kwargs), x_tensor


def _torch_states(value, case, flat):
    import torch

    if flat and isinstance(value, list):
        return [torch.as_tensor(v) for v in _flatten(value)]
    if isinstance(value, list):
        return [_torch_states(v, case, False) for v in value]
    return torch.as_tensor(value)
