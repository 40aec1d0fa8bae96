"""Writes the per-layer parity cases in ``tests/golden/layers/`` with tf-keras 2.21.

Run in a side venv that has tensorflow-cpu 2.21, tf-keras 2.21 and keras 3.15 (never a
dependency of birnn):

    /work/tfvenv/bin/python tests/golden/make_layer_cases.py [OUTDIR] [--only SUBSTRING]

Each case is ``NAME.json`` (the layer's ``tf_keras.layers.serialize()`` config, the Keras 3
config of the same layer where Keras 3 accepts the same arguments, the call's keyword
arguments and the array keys) and ``NAME.npz`` (weights in ``get_weights()`` order, inputs,
masks, outputs, the output mask, and the gradients of ``sum(outputs * projections)`` with
respect to the float inputs and the trainable weights). Every weight is seeded random, so a
wrong order or transpose shows. A ``training`` case also stores the weights after the call
(BatchNormalization's moving statistics).
"""

from __future__ import annotations

import json
import os
import sys
import zlib
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
import tf_keras  # noqa: E402

L = tf_keras.layers
RNG = np.random.default_rng(20261128)


def rand(*shape, low=-1.0, high=1.0, rng=None):
    return (rng or RNG).uniform(low, high, size=shape).astype("float32")


def mask(*rows):
    return np.array(rows, dtype=bool)


MASK_B2T5 = mask([1, 1, 1, 0, 0], [0, 1, 1, 0, 1])
MASK_B3T5 = mask([1, 1, 1, 0, 0], [0, 1, 1, 0, 1], [1, 1, 1, 1, 1])

CASES: list[dict] = []


def case(name, make, inputs, masks=None, call=None, grads=True, training=False, keras3=True):
    """Registers a case. ``make(layers_module)`` builds the layer (``tf_keras.layers``, and
    ``keras.layers`` for the Keras 3 config unless ``keras3=False``); ``inputs`` is an array or
    a list of arrays (a list-input layer); ``masks`` matches it (or None); ``call`` holds
    extra call keyword arguments."""
    CASES.append(
        dict(
            name=name,
            make=make,
            inputs=inputs,
            masks=masks,
            call=call or {},
            grads=grads,
            training=training,
            keras3=keras3,
        )
    )


def randomize(layer, rng):
    values = []
    for weight in layer.weights:
        shape = tuple(weight.shape)
        if "variance" in weight.name:
            values.append(rand(*shape, low=0.5, high=1.5, rng=rng))
        else:
            values.append(rand(*shape, low=-0.6, high=0.6, rng=rng))
    layer.set_weights(values)


def run(spec):
    layer = spec["make"](L)
    inputs = spec["inputs"]
    is_list = isinstance(inputs, list)
    tensors = [tf.constant(x) for x in (inputs if is_list else [inputs])]
    masks = spec["masks"]
    mask_list = None
    if masks is not None:
        mask_list = [None if m is None else tf.constant(m) for m in (masks if is_list else [masks])]
    call = dict(spec["call"])
    mha = isinstance(layer, L.MultiHeadAttention)
    attention = isinstance(layer, (L.Attention, L.AdditiveAttention))

    def call_layer(args):
        kwargs = dict(call)
        if spec["training"] or "training" in kwargs:
            kwargs["training"] = kwargs.get("training", spec["training"])
        if mha:
            query, value = args[0], args[1]
            key = args[2] if len(args) > 2 else None
            if mask_list is not None:
                for tensor, m in zip(args, mask_list):
                    if m is not None:
                        tensor._keras_mask = m
            if "attention_mask" in kwargs:
                kwargs["attention_mask"] = tf.constant(kwargs["attention_mask"])
            return layer(query, value, key=key, **kwargs)
        layer_input = args if is_list else args[0]
        if mask_list is not None and (attention or layer._expects_mask_arg):
            kwargs["mask"] = mask_list if (is_list or attention) else mask_list[0]
        return layer(layer_input, **kwargs)

    # Build, then seed every weight.
    call_layer(tensors)
    # Weights and projections come from the case's own generator: adding a case changes no
    # other case.
    rng = np.random.default_rng(zlib.crc32(spec["name"].encode()))
    randomize(layer, rng)
    weights = [w.numpy() for w in layer.weights]
    with tf.GradientTape() as tape:
        tape.watch(tensors)
        result = call_layer(tensors)
        outputs = list(result) if isinstance(result, (list, tuple)) else [result]
        projections = [rand(*o.shape, rng=rng) for o in outputs]
        loss = sum(tf.reduce_sum(o * p) for o, p in zip(outputs, projections))
    trainable = layer.trainable_weights
    gradients = tape.gradient(loss, tensors + trainable) if spec["grads"] else None
    weights_after = [w.numpy() for w in layer.weights] if spec["training"] else None

    output_mask = None
    if mask_list is not None and not mha:
        m = layer.compute_mask(
            tensors if is_list else tensors[0], mask_list if is_list else mask_list[0]
        )
        output_mask = None if m is None else np.asarray(m)
    if mha and mask_list is not None:
        output_mask = None if mask_list[0] is None else np.asarray(mask_list[0])

    arrays = {}
    meta = {
        "id": spec["name"],
        "config": json.loads(json.dumps(L.serialize(layer))),
        "input_is_list": is_list,
        "call": {k: v for k, v in call.items() if k != "attention_mask"},
        "training": spec["training"],
        "output_is_list": isinstance(result, (list, tuple)),
    }
    for key, values in (("inputs", tensors), ("weights", weights), ("outputs", outputs)):
        meta[key] = []
        for index, value in enumerate(values):
            arrays[f"{key}_{index}"] = np.asarray(value)
            meta[key].append(f"{key}_{index}")
    meta["masks"] = None
    if mask_list is not None:
        meta["masks"] = []
        for index, m in enumerate(mask_list):
            if m is None:
                meta["masks"].append(None)
            else:
                arrays[f"mask_{index}"] = np.asarray(m)
                meta["masks"].append(f"mask_{index}")
    if "attention_mask" in call:
        arrays["attention_mask"] = np.asarray(call["attention_mask"])
        meta["attention_mask"] = "attention_mask"
    meta["output_mask"] = None
    if output_mask is not None:
        arrays["output_mask"] = output_mask
        meta["output_mask"] = "output_mask"
    if gradients is not None:
        meta["grads"] = {"projections": [], "inputs": [], "weights": []}
        for index, p in enumerate(projections):
            arrays[f"projection_{index}"] = p
            meta["grads"]["projections"].append(f"projection_{index}")
        for index, (tensor, g) in enumerate(zip(tensors, gradients[: len(tensors)])):
            key = None
            if g is not None and tensor.dtype.is_floating:
                key = f"grad_input_{index}"
                arrays[key] = np.asarray(g)
            meta["grads"]["inputs"].append(key)
        for index, g in enumerate(gradients[len(tensors) :]):
            arrays[f"grad_weight_{index}"] = (
                np.zeros(trainable[index].shape, "float32")
                if g is None
                else np.asarray(tf.convert_to_tensor(g))
            )
            meta["grads"]["weights"].append(f"grad_weight_{index}")
    if weights_after is not None:
        meta["weights_after"] = []
        for index, value in enumerate(weights_after):
            arrays[f"weights_after_{index}"] = value
            meta["weights_after"].append(f"weights_after_{index}")
    if spec["keras3"]:
        config = keras3_config(spec["make"], tensors, is_list)
        if config is not None:
            meta["keras3_config"] = config
    if isinstance(layer, L.Layer) and is_list and mask_list is not None and spec["keras3"]:
        merged = keras3_masked_merge(spec["make"], tensors, mask_list)
        if merged is not None:
            arrays["keras3_output"] = merged
            meta["keras3_output"] = "keras3_output"
    return meta, arrays


def keras3_masked_merge(make, tensors, masks):
    """Keras 3's output of a merge layer whose inputs carry masks (its Maximum, Minimum and
    Multiply compute with them), or None for other layers."""
    import keras

    layer = make(keras.layers)
    if not isinstance(layer, keras.src.layers.merging.base_merge.Merge):
        return None
    inputs = [tf.identity(x) for x in tensors]
    for x, m in zip(inputs, masks):
        if m is not None:
            keras.src.backend.set_keras_mask(x, m)
    return np.asarray(layer(inputs))


def keras3_config(make, tensors, is_list):
    import keras

    try:
        layer = make(keras.layers)
    except TypeError:  # Keras 3 wants other arguments for this one
        return None
    if isinstance(layer, keras.layers.MultiHeadAttention):
        layer(tensors[0], tensors[1], key=tensors[2] if len(tensors) > 2 else None)
    else:
        layer(tensors if is_list else tensors[0])
    return json.loads(json.dumps(keras.layers.serialize(layer)))


def main(argv):
    out = (
        Path(argv[1])
        if len(argv) > 1 and not argv[1].startswith("--")
        else Path(__file__).parent / "layers"
    )
    only = argv[argv.index("--only") + 1] if "--only" in argv else None
    out.mkdir(parents=True, exist_ok=True)
    register_all()
    for spec in CASES:
        if only and only not in spec["name"]:
            continue
        tf_keras.utils.set_random_seed(0)
        meta, arrays = run(spec)
        (out / f"{spec['name']}.json").write_text(json.dumps(meta, indent=1) + "\n")
        np.savez_compressed(out / f"{spec['name']}.npz", **arrays)
        print("wrote", spec["name"])


# -- the cases ---------------------------------------------------------------------------


def register_all():
    x3 = rand(3, 5, 4)
    x4 = rand(2, 6, 5, 3)
    # Pooling
    case("global_max_pooling1d", lambda M: M.GlobalMaxPooling1D(), x3)
    case("global_max_pooling1d_keepdims", lambda M: M.GlobalMaxPooling1D(keepdims=True), x3)
    case(
        "global_max_pooling1d_channels_first",
        lambda M: M.GlobalMaxPooling1D(data_format="channels_first"),
        x3,
    )
    case("global_average_pooling1d", lambda M: M.GlobalAveragePooling1D(), x3)
    case(
        "global_average_pooling1d_masked", lambda M: M.GlobalAveragePooling1D(), x3, masks=MASK_B3T5
    )
    case(
        "global_average_pooling1d_keepdims_masked",
        lambda M: M.GlobalAveragePooling1D(keepdims=True),
        x3,
        masks=MASK_B3T5,
    )
    case(
        "global_average_pooling1d_channels_first",
        lambda M: M.GlobalAveragePooling1D(data_format="channels_first"),
        x3,
    )
    case("global_max_pooling2d", lambda M: M.GlobalMaxPooling2D(), x4)
    case("global_max_pooling2d_keepdims", lambda M: M.GlobalMaxPooling2D(keepdims=True), x4)
    case("global_average_pooling2d", lambda M: M.GlobalAveragePooling2D(), x4)
    case(
        "global_average_pooling2d_channels_first_keepdims",
        lambda M: M.GlobalAveragePooling2D(data_format="channels_first", keepdims=True),
        x4,
    )
    x7 = rand(2, 7, 3)
    for pool in ("Max", "Average"):
        low = pool.lower()
        case(f"{low}_pooling1d", lambda M, p=pool: getattr(M, f"{p}Pooling1D")(), x7)
        case(
            f"{low}_pooling1d_same",
            lambda M, p=pool: getattr(M, f"{p}Pooling1D")(pool_size=3, padding="same"),
            x7,
        )
        case(
            f"{low}_pooling1d_strides",
            lambda M, p=pool: getattr(M, f"{p}Pooling1D")(pool_size=3, strides=1),
            x7,
        )
        case(
            f"{low}_pooling1d_same_strides",
            lambda M, p=pool: getattr(M, f"{p}Pooling1D")(pool_size=2, strides=3, padding="same"),
            x7,
        )
        x5 = rand(2, 7, 5, 2)
        case(f"{low}_pooling2d", lambda M, p=pool: getattr(M, f"{p}Pooling2D")(), x5)
        case(
            f"{low}_pooling2d_same",
            lambda M, p=pool: getattr(M, f"{p}Pooling2D")(pool_size=(3, 2), padding="same"),
            x5,
        )
        case(
            f"{low}_pooling2d_strides",
            lambda M, p=pool: getattr(M, f"{p}Pooling2D")(pool_size=(2, 3), strides=(1, 2)),
            x5,
        )
        case(
            f"{low}_pooling2d_same_strides",
            lambda M, p=pool: getattr(M, f"{p}Pooling2D")(
                pool_size=3, strides=(2, 1), padding="same"
            ),
            x5,
        )
    # Merging
    a, b, c = rand(3, 5, 4), rand(3, 5, 4), rand(3, 5, 4)
    for name in ("Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum"):
        low = name.lower()
        inputs = [a, b] if name == "Subtract" else [a, b, c]
        case(low, lambda M, n=name: getattr(M, n)(), inputs)
        masks = (
            [MASK_B3T5, None]
            if name == "Subtract"
            else [MASK_B3T5, None, mask([1, 0, 1, 1, 1], [1, 1, 1, 1, 1], [0, 0, 0, 0, 0])]
        )
        case(f"{low}_masked", lambda M, n=name: getattr(M, n)(), inputs, masks=masks)
    case("add_broadcast_rank", lambda M: M.Add(), [rand(3, 5, 4), rand(3, 4)], keras3=False)
    case("concatenate", lambda M: M.Concatenate(), [a, rand(3, 5, 2)])
    case("concatenate_axis1", lambda M: M.Concatenate(axis=1), [a, rand(3, 2, 4)])
    case(
        "concatenate_masked",
        lambda M: M.Concatenate(),
        [a, rand(3, 5, 2), c],
        masks=[MASK_B3T5, None, mask([1, 0, 1, 1, 1], [1, 1, 1, 1, 1], [0, 0, 0, 0, 0])],
    )
    case(
        "concatenate_axis1_masked",
        lambda M: M.Concatenate(axis=1),
        [a, rand(3, 2, 4)],
        masks=[MASK_B3T5, mask([1, 0], [1, 1], [0, 0])],
    )
    case("concatenate_2d", lambda M: M.Concatenate(), [rand(3, 4), rand(3, 2)])
    case("dot_2d", lambda M: M.Dot(axes=1), [rand(3, 4), rand(3, 4)])
    case("dot_2d_normalize", lambda M: M.Dot(axes=-1, normalize=True), [rand(3, 4), rand(3, 4)])
    case("dot_3d_axes_2_2", lambda M: M.Dot(axes=(2, 2)), [a, rand(3, 6, 4)])
    case("dot_3d_axes_2_1", lambda M: M.Dot(axes=[2, 1]), [rand(3, 5, 6), rand(3, 6, 4)])
    case("dot_3d_axes_1_normalize", lambda M: M.Dot(axes=1, normalize=True), [a, rand(3, 5, 2)])
    case("dot_3d_2d", lambda M: M.Dot(axes=(2, 1)), [a, rand(3, 4)])
    case("dot_masked", lambda M: M.Dot(axes=(2, 2)), [a, b], masks=[MASK_B3T5, None])
    # Convolution
    x = rand(2, 9, 3)
    case("conv1d", lambda M: M.Conv1D(4, 3), x)
    case("conv1d_same_relu", lambda M: M.Conv1D(4, 4, padding="same", activation="relu"), x)
    case("conv1d_causal_dilated", lambda M: M.Conv1D(2, 3, padding="causal", dilation_rate=2), x)
    case("conv1d_strides", lambda M: M.Conv1D(3, 3, strides=2), x)
    case("conv1d_same_strides", lambda M: M.Conv1D(3, 4, strides=2, padding="same"), x)
    case(
        "conv1d_valid_dilated_no_bias", lambda M: M.Conv1D(2, 2, dilation_rate=3, use_bias=False), x
    )
    case("conv1d_groups", lambda M: M.Conv1D(6, 2, groups=3), x)
    case("conv1d_pointwise_tanh", lambda M: M.Conv1D(5, 1, activation="tanh"), x)
    x = rand(2, 7, 6, 2)
    case("conv2d", lambda M: M.Conv2D(3, 3), x)
    case(
        "conv2d_same_strides",
        lambda M: M.Conv2D(3, (3, 2), strides=(2, 1), padding="same", activation="relu"),
        x,
    )
    case(
        "conv2d_dilated_no_bias", lambda M: M.Conv2D(2, 2, dilation_rate=(2, 1), use_bias=False), x
    )
    case("conv2d_same_even_kernel", lambda M: M.Conv2D(2, (2, 4), padding="same"), x)
    case("conv2d_groups", lambda M: M.Conv2D(4, 2, groups=2), x)
    # Shaping
    x = rand(3, 4, 6)
    case("reshape", lambda M: M.Reshape((6, 4)), x)
    case("reshape_unknown", lambda M: M.Reshape((-1, 3)), x)
    case("flatten", lambda M: M.Flatten(), x)
    case(
        "flatten_4d_channels_first",
        lambda M: M.Flatten(data_format="channels_first"),
        rand(2, 3, 4, 2),
    )
    case("flatten_4d", lambda M: M.Flatten(), rand(2, 3, 4, 2))
    case("permute", lambda M: M.Permute((2, 1)), x)
    case("permute_4d", lambda M: M.Permute((3, 1, 2)), rand(2, 3, 4, 2))
    case("repeat_vector", lambda M: M.RepeatVector(3), rand(3, 4))
    case("zero_padding1d", lambda M: M.ZeroPadding1D(), x)
    case("zero_padding1d_asymmetric", lambda M: M.ZeroPadding1D((2, 0)), x)
    case("zero_padding1d_int", lambda M: M.ZeroPadding1D(3), x)
    case("cropping1d", lambda M: M.Cropping1D(), x)
    case("cropping1d_asymmetric", lambda M: M.Cropping1D((0, 2)), x)
    case("cropping1d_int", lambda M: M.Cropping1D(1), x)
    # Noise (inference: the identity; masks pass)
    x = rand(3, 5, 4)
    case("spatial_dropout1d", lambda M: M.SpatialDropout1D(0.3), x, masks=MASK_B3T5)
    case("spatial_dropout2d", lambda M: M.SpatialDropout2D(0.3), rand(2, 3, 4, 2))
    case("gaussian_noise", lambda M: M.GaussianNoise(0.5), x, masks=MASK_B3T5)
    case("gaussian_dropout", lambda M: M.GaussianDropout(0.4), x, masks=MASK_B3T5)
    # Normalization
    case("batch_normalization", lambda M: M.BatchNormalization(), x)
    case("batch_normalization_masked", lambda M: M.BatchNormalization(), x, masks=MASK_B3T5)
    case(
        "batch_normalization_training",
        lambda M: M.BatchNormalization(momentum=0.9),
        x,
        training=True,
    )
    case(
        "batch_normalization_training_masked",
        lambda M: M.BatchNormalization(momentum=0.8),
        x,
        masks=MASK_B3T5,
        training=True,
    )
    case(
        "batch_normalization_4d_training",
        lambda M: M.BatchNormalization(momentum=0.7, epsilon=0.01),
        rand(4, 3, 5, 2),
        training=True,
    )
    case("batch_normalization_4d", lambda M: M.BatchNormalization(), rand(4, 3, 5, 2))
    case(
        "batch_normalization_axis1_no_center",
        lambda M: M.BatchNormalization(axis=1, center=False),
        x,
    )
    case(
        "batch_normalization_axis1_training_no_scale",
        lambda M: M.BatchNormalization(axis=1, scale=False),
        x,
        training=True,
    )
    case(
        "batch_normalization_frozen_training",
        lambda M: M.BatchNormalization(trainable=False),
        x,
        training=True,
    )
    case("layer_normalization", lambda M: M.LayerNormalization(), x, masks=MASK_B3T5)
    case("layer_normalization_axes", lambda M: M.LayerNormalization(axis=[1, 2], epsilon=1e-5), x)
    case(
        "layer_normalization_axis1_no_scale", lambda M: M.LayerNormalization(axis=1, scale=False), x
    )
    case("layer_normalization_no_center", lambda M: M.LayerNormalization(center=False), x)
    case("layer_normalization_4d", lambda M: M.LayerNormalization(axis=-1), rand(2, 3, 4, 5))
    # Activations
    x = rand(3, 5, 4, low=-2, high=2)
    case("re_lu", lambda M: M.ReLU(), x, masks=MASK_B3T5)
    case("re_lu_max_value", lambda M: M.ReLU(max_value=0.5), x)
    case("re_lu_six", lambda M: M.ReLU(max_value=6.0), x * 5)
    case(
        "re_lu_slope_threshold",
        lambda M: M.ReLU(negative_slope=0.1, threshold=0.3),
        x,
        keras3=False,
    )
    case(
        "re_lu_slope_threshold_max",
        lambda M: M.ReLU(max_value=1.2, negative_slope=0.2, threshold=0.5),
        x,
        keras3=False,
    )
    case("re_lu_slope", lambda M: M.ReLU(negative_slope=0.25), x)
    case("leaky_re_lu", lambda M: M.LeakyReLU(), x, masks=MASK_B3T5, keras3=False)
    case("leaky_re_lu_alpha", lambda M: M.LeakyReLU(alpha=0.1), x, keras3=False)
    case("elu", lambda M: M.ELU(), x)
    case("elu_alpha", lambda M: M.ELU(alpha=0.7), x)
    case("softmax", lambda M: M.Softmax(), x)
    case("softmax_axis1", lambda M: M.Softmax(axis=1), x)
    case(
        "softmax_masked",
        lambda M: M.Softmax(),
        rand(3, 5, 5),
        masks=RNG.uniform(size=(3, 5, 5)) > 0.3,
    )
    case("softmax_axes", lambda M: M.Softmax(axis=[1, 2]), x)
    # Attention
    q, v, k = rand(3, 4, 6), rand(3, 5, 6), rand(3, 5, 6)
    qm, vm = (
        mask([1, 1, 1, 0], [1, 1, 1, 1], [0, 1, 1, 1]),
        mask([1, 1, 0, 0, 0], [1, 1, 1, 1, 1], [0, 0, 0, 0, 0]),
    )
    case("attention", lambda M: M.Attention(), [q, v])
    case("attention_key_scale", lambda M: M.Attention(use_scale=True), [q, v, k])
    case("attention_masked", lambda M: M.Attention(use_scale=True), [q, v], masks=[qm, vm])
    case(
        "attention_concat", lambda M: M.Attention(score_mode="concat"), [q, v, k], masks=[None, vm]
    )
    case(
        "attention_causal",
        lambda M: M.Attention(),
        [q, rand(3, 4, 6)],
        call={"use_causal_mask": True},
    )
    case(
        "attention_scores",
        lambda M: M.Attention(),
        [q, v],
        masks=[qm, vm],
        call={"return_attention_scores": True},
    )
    case("additive_attention", lambda M: M.AdditiveAttention(), [q, v, k])
    case("additive_attention_masked", lambda M: M.AdditiveAttention(), [q, v], masks=[qm, vm])
    case(
        "additive_attention_no_scale",
        lambda M: M.AdditiveAttention(use_scale=False),
        [q, v],
        masks=[None, vm],
    )
    case("multi_head_attention_self", lambda M: M.MultiHeadAttention(2, 3), [q, q])
    case(
        "multi_head_attention_cross_key",
        lambda M: M.MultiHeadAttention(3, 2, value_dim=4),
        [q, v, rand(3, 5, 7)],
    )
    case(
        "multi_head_attention_masked", lambda M: M.MultiHeadAttention(2, 3), [q, v], masks=[qm, vm]
    )
    case(
        "multi_head_attention_causal",
        lambda M: M.MultiHeadAttention(2, 3),
        [q, q],
        masks=[qm, qm],
        call={"use_causal_mask": True},
    )
    case(
        "multi_head_attention_no_bias_output_shape",
        lambda M: M.MultiHeadAttention(2, 3, use_bias=False, output_shape=5),
        [q, v],
    )
    case(
        "multi_head_attention_scores",
        lambda M: M.MultiHeadAttention(2, 3),
        [q, v],
        call={"return_attention_scores": True},
    )
    case(
        "multi_head_attention_attention_mask",
        lambda M: M.MultiHeadAttention(1, 4),
        [q, v],
        masks=[None, vm],
        call={"attention_mask": RNG.uniform(size=(3, 4, 5)) > 0.3},
        keras3=False,
    )
    # New cases go last, so that the cases above keep their random draws.
    case(
        "conv1d_mish_same_dilated",
        lambda M: M.Conv1D(3, 2, padding="same", dilation_rate=2, activation="mish"),
        rand(2, 7, 3),
    )


if __name__ == "__main__":
    main(sys.argv)
