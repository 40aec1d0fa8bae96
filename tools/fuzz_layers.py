"""Fuzz cases for the layers around the recurrent ones (Dense, Conv, pooling, merging,
reshaping, noise, Embedding, Masking, TimeDistributed): ``draw_other`` and ``compare_other``.

The same checks as for recurrent layers (``fuzz_checks``): both build paths, weights,
config, ``compute_output_shape``, ``compute_mask``, outputs, gradients and losses.
"""

from __future__ import annotations

import random
from typing import Any

import fuzz_cases
import numpy as np
from fuzz_checks import (
    GRADIENT_TOLERANCE,
    OUTPUT_TOLERANCE,
    Failure,
    Stop,
    check_config_and_shape,
    check_weights,
    compare_arrays,
    plain_json,
    shape_structure,
    short_error,
    tf_structure,
    torch_structure,
    traceback_text,
)

ACTIVATIONS = [None, "relu", "tanh", "sigmoid", "linear", "softmax", "elu", "gelu", "swish"]


def _dense(rng):
    args = {"units": rng.randint(1, 4)}
    if rng.random() < 0.5:
        args["activation"] = rng.choice(ACTIVATIONS)
    if rng.random() < 0.2:
        args["use_bias"] = False
    for key, choices in (
        ("kernel_initializer", fuzz_cases.INITIALIZERS),
        ("kernel_regularizer", fuzz_cases.REGULARIZERS),
        ("bias_regularizer", fuzz_cases.REGULARIZERS),
        ("activity_regularizer", fuzz_cases.REGULARIZERS),
        ("kernel_constraint", fuzz_cases.CONSTRAINTS),
    ):
        if rng.random() < 0.15:
            args[key] = rng.choice(choices)
    return args, [rng.choice([[None, 3], [None, 4, 3]])]


def _conv1d(rng):
    args = {"filters": rng.randint(1, 4), "kernel_size": rng.randint(1, 3)}
    padding = rng.choice(["valid", "same", "causal"])
    args["padding"] = padding
    if rng.random() < 0.3:
        args["strides"] = 2
    elif rng.random() < 0.3:
        args["dilation_rate"] = 2
    if rng.random() < 0.3:
        args["activation"] = rng.choice(ACTIVATIONS)
    if rng.random() < 0.2:
        args["use_bias"] = False
    channels = 4
    if rng.random() < 0.2:
        args["groups"] = 2
        args["filters"] = 2 * rng.randint(1, 2)
    if rng.random() < 0.15 and padding != "causal":
        args["data_format"] = "channels_first"
        return args, [[None, channels, 7]]
    return args, [[None, 7, channels]]


def _conv2d(rng):
    args = {"filters": rng.randint(1, 3), "kernel_size": rng.choice([1, 2, (2, 1)])}
    args["padding"] = rng.choice(["valid", "same"])
    if rng.random() < 0.3:
        args["strides"] = rng.choice([2, (1, 2)])
    if rng.random() < 0.3:
        args["activation"] = rng.choice(ACTIVATIONS)
    return args, [[None, 5, 4, 2]]


def _pooling1d(rng):
    args = {"pool_size": rng.randint(1, 3), "padding": rng.choice(["valid", "same"])}
    if rng.random() < 0.4:
        args["strides"] = rng.randint(1, 3)
    if rng.random() < 0.15:
        args["data_format"] = "channels_first"
    return args, [[None, 6, 3]]


def _pooling2d(rng):
    args = {"pool_size": rng.choice([1, 2, (2, 1)]), "padding": rng.choice(["valid", "same"])}
    if rng.random() < 0.4:
        args["strides"] = rng.choice([1, 2, (2, 1)])
    return args, [[None, 5, 4, 2]]


def _global1d(rng):
    args = {}
    if rng.random() < 0.3:
        args["keepdims"] = True
    if rng.random() < 0.15:
        args["data_format"] = "channels_first"
    return args, [[None, 5, 3]]


def _global2d(rng):
    return ({"keepdims": True} if rng.random() < 0.3 else {}), [[None, 3, 4, 2]]


def _merge(rng):
    count = rng.randint(2, 3)
    shape = rng.choice([[None, 3], [None, 4, 3]])
    return {}, [shape] * count


def _two(rng):
    shape = rng.choice([[None, 3], [None, 4, 3]])
    return {}, [shape, shape]


def _concatenate(rng):
    axis = rng.choice([-1, 1, 2])
    shapes = [[None, 4, 2], [None, 4, 3]] if axis in (-1, 2) else [[None, 2, 3], [None, 4, 3]]
    return {"axis": axis}, shapes


def _dot(rng):
    if rng.random() < 0.5:
        return {"axes": 1, "normalize": rng.random() < 0.4}, [[None, 3], [None, 3]]
    axes = rng.choice([[2, 2], [1, 1], 2])
    shapes = [[None, 4, 3], [None, 4, 3]] if axes != [1, 1] else [[None, 3, 2], [None, 3, 4]]
    return {"axes": axes, "normalize": rng.random() < 0.3}, shapes


def _reshape(rng):
    return {"target_shape": rng.choice([[12], [3, 4], [-1, 2], [2, 2, 3]])}, [[None, 4, 3]]


def _flatten(rng):
    return {}, [rng.choice([[None, 4, 3], [None, 2, 3, 2]])]


def _permute(rng):
    return {"dims": rng.choice([[2, 1], [1, 2]])}, [[None, 4, 3]]


def _repeat(rng):
    return {"n": rng.randint(1, 3)}, [[None, 3]]


def _padding(rng):
    return {"padding": rng.choice([1, 2, [1, 0], [0, 2]])}, [[None, 4, 3]]


def _cropping(rng):
    return {"cropping": rng.choice([1, [1, 0], [0, 2]])}, [[None, 5, 3]]


def _noise(rng):
    return {"rate": rng.choice([0.1, 0.5])}, [[None, 4, 3]]


def _gaussian_noise(rng):
    return {"stddev": 0.2}, [[None, 4, 3]]


def _activation(rng):
    return {"activation": rng.choice(ACTIVATIONS[1:] + ["hard_sigmoid", "softplus"])}, [
        rng.choice([[None, 3], [None, 4, 3]])
    ]


def _dropout(rng):
    return {"rate": 0.3}, [[None, 4, 3]]


def _masking(rng):
    return {"mask_value": rng.choice([0.0, 1.5])}, [[None, 5, 3]]


def _embedding(rng):
    args = {"input_dim": 6, "output_dim": rng.randint(1, 4)}
    if rng.random() < 0.5:
        args["mask_zero"] = True
    if rng.random() < 0.2:
        args["embeddings_regularizer"] = "l2"
    return args, [[None, 5]]


def _batch_norm(rng):
    args = {}
    if rng.random() < 0.3:
        args["axis"] = rng.choice([1, -1])
    for key in ("center", "scale"):
        if rng.random() < 0.2:
            args[key] = False
    if rng.random() < 0.3:
        args["epsilon"] = 0.01
    if rng.random() < 0.15:
        args["gamma_regularizer"] = "l2"
    return args, [rng.choice([[None, 3], [None, 4, 3]])]


def _layer_norm(rng):
    args = _batch_norm(rng)[0]
    if rng.random() < 0.2:
        args["axis"] = [1, 2]
    return args, [[None, 4, 3]]


def _relu(rng):
    args = {}
    if rng.random() < 0.4:
        args["max_value"] = 0.5
    if rng.random() < 0.4:
        args["negative_slope"] = 0.1
    if rng.random() < 0.3:
        args["threshold"] = 0.2
    return args, [[None, 4, 3]]


def _leaky(rng):
    return ({"alpha": 0.2} if rng.random() < 0.5 else {}), [[None, 4, 3]]


def _softmax(rng):
    return ({"axis": rng.choice([-1, 1])} if rng.random() < 0.5 else {}), [[None, 4, 3]]


def _attention(rng):
    args = {}
    if rng.random() < 0.4:
        args["use_scale"] = True
    if rng.random() < 0.3:
        args["score_mode"] = "concat"
    shapes = [[None, 3, 4], [None, 5, 4]]
    if rng.random() < 0.3:
        shapes.append([None, 5, 4])
    return args, shapes


def _additive_attention(rng):
    return {"use_scale": rng.random() < 0.5}, [[None, 3, 4], [None, 5, 4]]


DRAWERS = {
    "BatchNormalization": _batch_norm,
    "LayerNormalization": _layer_norm,
    "ReLU": _relu,
    "LeakyReLU": _leaky,
    "ELU": _leaky,
    "Softmax": _softmax,
    "Attention": _attention,
    "AdditiveAttention": _additive_attention,
    "Dense": _dense,
    "Activation": _activation,
    "Dropout": _dropout,
    "Conv1D": _conv1d,
    "Conv2D": _conv2d,
    "MaxPooling1D": _pooling1d,
    "AveragePooling1D": _pooling1d,
    "MaxPooling2D": _pooling2d,
    "AveragePooling2D": _pooling2d,
    "GlobalMaxPooling1D": _global1d,
    "GlobalAveragePooling1D": _global1d,
    "GlobalMaxPooling2D": _global2d,
    "GlobalAveragePooling2D": _global2d,
    "Add": _merge,
    "Multiply": _merge,
    "Average": _merge,
    "Maximum": _merge,
    "Minimum": _merge,
    "Subtract": _two,
    "Concatenate": _concatenate,
    "Dot": _dot,
    "Reshape": _reshape,
    "Flatten": _flatten,
    "Permute": _permute,
    "RepeatVector": _repeat,
    "ZeroPadding1D": _padding,
    "Cropping1D": _cropping,
    "SpatialDropout1D": _noise,
    "GaussianDropout": _noise,
    "GaussianNoise": _gaussian_noise,
    "Masking": _masking,
    "Embedding": _embedding,
}


def draw_other(rng: random.Random, available: set[str]) -> dict[str, Any]:
    """A non-recurrent layer case, over the classes ``birnn.layers`` has (``available``)."""
    names = sorted(name for name in DRAWERS if name in available)
    name = rng.choice(names + ["TimeDistributed"] if "TimeDistributed" in available else names)
    if name == "TimeDistributed":
        args, shapes = _dense(rng)
        spec = {"class": "TimeDistributed", "layer": {"class": "Dense", "args": args}, "args": {}}
        shapes = [[None, 4, 3]]
    else:
        args, shapes = DRAWERS[name](rng)
        spec = {"class": name, "args": args}
    if rng.random() < 0.3:
        spec["args"]["name"] = "layer_x"
    if rng.random() < 0.08:
        spec["args"]["trainable"] = False
    batch = rng.randint(1, 3)
    return {
        "kind": "other",
        "layer": spec,
        "shapes": [[batch, *shape[1:]] for shape in shapes],
        # a mask on sequence inputs, (batch, steps), as an upstream Masking would give
        "mask": rng.random() < 0.3 and all(len(s) == 3 for s in shapes),
        "build": rng.choice(["call", "build", "build_config"]),
    }


def compare_other(case: dict[str, Any]) -> tuple[list[Failure], str]:
    import tensorflow as tf
    import tf_keras

    tf_keras.backend.clear_session()
    rng = np.random.default_rng(case["data_seed"])
    spec, shapes = case["layer"], [tuple(s) for s in case["shapes"]]
    multiple = len(shapes) > 1
    integer = spec["class"] == "Embedding"
    build_shape = list(shapes) if multiple else shapes[0]
    try:
        tf_layer = fuzz_cases.build_layer(spec, tf_keras.layers)
        tf_layer.build(build_shape)
        weights = [
            # variances must stay positive; other weights take signed values
            rng.uniform(0.2 if "variance" in w.name else -0.6, 0.6, w.shape).astype(
                w.dtype.as_numpy_dtype
            )
            for w in tf_layer.weights
        ]
        tf_layer.set_weights(weights)
        tf_config = plain_json(tf_keras.layers.serialize(tf_layer))
    except Exception as error:
        return [Failure("tf-keras rejects", "build", short_error(error), traceback_text())], (
            "tf_rejected"
        )
    if case["build"] != "build_config":
        tf_config.pop("build_config", None)
    if integer:
        xs = [rng.integers(0, 6, size=s).astype("int32") for s in shapes]
    else:
        xs = [rng.normal(size=s).astype("float32") for s in shapes]
        if spec["class"] == "Masking":
            value = spec["args"].get("mask_value", 0.0)
            xs[0][:, rng.integers(0, shapes[0][1])] = value
    masks = None
    if case["mask"]:
        masks = [rng.random(s[:2]) < 0.7 for s in shapes]
    try:
        tf_inputs = [tf.constant(x) for x in xs]
        tf_call_inputs = tf_inputs if multiple else tf_inputs[0]
        tf_mask = None if masks is None else [tf.constant(m) for m in masks]
        tf_mask = tf_mask if multiple or tf_mask is None else tf_mask[0]
        with tf.GradientTape() as tape:
            for tensor in tf_inputs:
                tape.watch(tensor)
            kwargs = {"training": False}
            # A mask reaches a layer's call only if it takes one (Keras passes it implicitly)
            passes_mask = tf_mask is not None and tf_layer._expects_mask_arg
            if passes_mask:
                kwargs["mask"] = tf_mask
            result = tf_layer(tf_call_inputs, **kwargs)
            projection = rng.normal(size=result.shape).astype(result.dtype.as_numpy_dtype)
            loss = tf.reduce_sum(result * projection)
        sources = ([] if integer else tf_inputs) + list(tf_layer.trainable_weights)
        gradients = tape.gradient(loss, sources)
        reference = {
            "output": tf_structure(result),
            "gradients": [
                None if g is None else np.asarray(tf.convert_to_tensor(g)) for g in gradients
            ],
            "losses": sorted(float(v) for v in tf_layer.losses),
            "output_shape": shape_structure(tf_layer.compute_output_shape(build_shape)),
            # tf-keras raises when a layer that does not support masking is given a mask
            "mask": tf_structure(
                tf_layer.compute_mask(
                    tf_call_inputs, tf_mask if tf_layer.supports_masking else None
                )
            ),
            "supports_masking": tf_layer.supports_masking,
            "config": plain_json(tf_layer.get_config()),
            "weight_trainable": [
                any(w is t for t in tf_layer.trainable_weights) for w in tf_layer.weights
            ],
            "weight_shapes": [tuple(w.shape) for w in tf_layer.weights],
            "passes_mask": passes_mask,
        }
    except Exception as error:
        return [Failure("tf-keras rejects", "call", short_error(error), traceback_text())], (
            "tf_rejected"
        )
    failures: list[Failure] = []
    for variant in ("deserialize", "construct"):
        try:
            _check_other(
                variant,
                case,
                tf_config,
                reference,
                weights,
                build_shape,
                xs,
                masks,
                projection,
                failures,
            )
        except Stop:
            pass
        except Exception as error:
            failures.append(Failure("raises", variant, short_error(error), traceback_text()))
    return failures, "failed" if failures else "ok"


def _check_other(
    variant, case, tf_config, reference, weights, build_shape, xs, masks, projection, failures
):
    import copy

    import torch

    import birnn.layers

    def fail(check, what, detail="", stop=False):
        failures.append(Failure(check, variant, what, detail))
        if stop:
            raise Stop

    multiple = len(xs) > 1
    integer = case["layer"]["class"] == "Embedding"
    try:
        if variant == "deserialize":
            layer = birnn.layers.deserialize(copy.deepcopy(tf_config))
        else:
            layer = fuzz_cases.build_layer(case["layer"], birnn.layers)
    except Exception as error:
        fail("construct", short_error(error), traceback_text(), stop=True)
    layer.eval()
    inputs = [torch.tensor(x, requires_grad=not integer) for x in xs]
    call_inputs = inputs if multiple else inputs[0]
    mask = None if masks is None else [torch.tensor(m) for m in masks]
    mask = mask if multiple or mask is None else mask[0]
    call_kwargs = {"mask": mask} if reference["passes_mask"] else {}
    try:
        if case["build"] == "call":
            layer(call_inputs, **call_kwargs)
        elif not layer.built:
            layer.build(build_shape)
    except Exception as error:
        fail("build", f"{case['build']}: {short_error(error)}", traceback_text(), stop=True)
    check_weights(layer, reference, fail)
    try:
        layer.set_weights(weights)
    except Exception as error:
        fail("set_weights", short_error(error), traceback_text(), stop=True)
    check_config_and_shape(layer, reference, build_shape, case, variant, fail)
    try:
        result = layer(call_inputs, **call_kwargs)
    except Exception as error:
        fail("outputs", f"call raises {short_error(error)}", traceback_text(), stop=True)
    difference = compare_arrays(reference["output"], torch_structure(result), OUTPUT_TOLERANCE)
    if difference:
        fail(
            "outputs",
            "structure differs" if difference.startswith("structure") else "values differ",
            difference,
            stop=True,
        )
    loss = (result * torch.as_tensor(projection)).sum()
    sources = ([] if integer else inputs) + list(layer.trainable_weights)
    # an Embedding without trainable weights has nothing to differentiate
    gradients = torch.autograd.grad(loss, sources, allow_unused=True) if sources else []
    for position, (a, b) in enumerate(zip(reference["gradients"], gradients)):
        b = None if b is None else b.numpy()
        if a is None and b is None:
            continue
        a = np.zeros_like(b) if a is None else a
        b = np.zeros_like(a) if b is None else b
        if a.shape != b.shape or not np.allclose(a, b, **GRADIENT_TOLERANCE):
            fail("gradients", "differ", f"source {position}")
            break
    losses = sorted(float(v) for v in layer.losses)
    if len(losses) != len(reference["losses"]) or not np.allclose(
        losses, reference["losses"], rtol=1e-4, atol=1e-6
    ):
        fail("losses", "differ", f"tf-keras {reference['losses']}, birnn {losses}")
    try:
        given = mask if reference["supports_masking"] else None
        computed = torch_structure(layer.compute_mask(call_inputs, given))
        difference = compare_arrays(reference["mask"], computed, {"atol": 0, "rtol": 0})
        if difference:
            fail("compute_mask", "differs", difference)
    except Exception as error:
        fail("compute_mask", short_error(error), traceback_text())
