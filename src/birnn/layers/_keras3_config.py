"""Rewrites Keras 3 configs into the tf-keras (Keras 2) style.

One deserializer then reads both. The differences handled, found by comparing
the configs Keras 3.15 and tf-keras 2.21 write for the same models:

- `dtype` is a `DTypePolicy` dict in Keras 3, a string in Keras 2.
- `InputLayer` says `batch_shape` where Keras 2 says `batch_input_shape`.
- `Bidirectional` always serializes `backward_layer` in Keras 3, even when
  it is the automatic mirror of `layer`, and names `layer` `forward_<name>`.
- RNN layers lack Keras 2's `time_major` and `implementation` keys and add
  `seed` and `zero_output_for_mask`.
- `Dense` and `Embedding` add `quantization_config`; `Dense` omits
  `activity_regularizer`, `Embedding` omits `input_length`.
- Glorot/He/Lecun initializers add `input_axes` and `output_axes`.
- Wrapped layers (in `Bidirectional`, `TimeDistributed`) carry a `build_config`.
- Functional models describe layer calls as `{"args": ..., "kwargs": ...}`
  with `__keras_tensor__` dicts, where Keras 2 lists
  `[layer_name, node_index, tensor_index, kwargs]`.

Keys that only Keras 3 has are dropped when their value cannot change what
the model computes, and otherwise kept, so that a Keras 2 deserializer
refuses them instead of silently computing something else.
"""

from __future__ import annotations

import copy
from typing import Any

_FLOAT_POLICIES = ("DTypePolicy", "FloatDTypePolicy")
_RNN_LAYERS = ("SimpleRNN", "LSTM", "GRU")
_RNN_CELLS = ("SimpleRNNCell", "LSTMCell", "GRUCell")
_FUSED_GATES = ("LSTM", "GRU", "LSTMCell", "GRUCell")
_MODELS = ("Sequential", "Functional", "Model")
_FORWARD_PREFIX = "forward_"


def keras3_to_keras2_config(config: dict) -> dict:
    """Rewrites a Keras 3 layer or model config in the tf-keras (Keras 2) style.

    The input is not modified. Keras 2 configs pass through unchanged in
    substance, so the function can be applied to any config before
    deserializing it.

    Args:
        config: A serialized Keras object, `{"class_name": ..., "config": {...}}`,
            such as the content of a `.keras` archive's `config.json` or one
            entry of a model's `layers`.

    Returns:
        A new dict in the Keras 2 style.

    Raises:
        ValueError: if `config` is not a serialized Keras object, or holds a
            Functional layer call that Keras 2 configs cannot express.
    """
    if not (
        isinstance(config, dict)
        and "class_name" in config
        and isinstance(config.get("config"), dict)
    ):
        raise ValueError(
            "Expected `config` to be a serialized Keras object: a dict with "
            f"'class_name' and a 'config' dict. Received: config={config!r:.200}."
        )
    return _convert(copy.deepcopy(config), in_bidirectional=False)


def _convert(obj: dict, in_bidirectional: bool) -> dict:
    """Converts one serialized object in place and returns it (non-dicts unchanged)."""
    if not isinstance(obj, dict):
        return obj  # Left for the deserializer to refuse by name.
    class_name = obj.get("class_name")
    config = obj.get("config")
    if not isinstance(config, dict):
        return obj
    _convert_common(config)
    if class_name in _MODELS:
        _convert_model(config, functional=class_name != "Sequential")
    elif class_name == "InputLayer":
        _convert_input_layer(config)
    elif class_name == "Bidirectional":
        _convert_bidirectional(config)
    elif class_name in _RNN_LAYERS or class_name == "RNN":
        _convert_rnn(config, class_name, in_bidirectional)
    elif class_name in _RNN_CELLS:
        _convert_cell(config, class_name)
    elif class_name == "StackedRNNCells":
        config["cells"] = [_convert(cell, False) for cell in config.get("cells", [])]
    elif class_name == "Dense":
        # Keras 2 always writes it; Keras 3 only when set. None is the default.
        config.setdefault("activity_regularizer", None)
    elif class_name == "Embedding":
        # Keras 2 always writes it; None (any length) is what Keras 3 does.
        config.setdefault("input_length", None)
    elif class_name in _KERAS3_ONLY_DEFAULTS or class_name in _SEEDED_ATTENTION:
        _convert_layer_defaults(obj, class_name)
    elif isinstance(config.get("layer"), dict):  # TimeDistributed and other wrappers.
        config["layer"] = _convert_wrapped(config["layer"], False)
    # An empty compile config says "not compiled", which Keras 2 says by omitting it.
    if obj.get("compile_config") == {}:
        del obj["compile_config"]
    return obj


def _convert_dtype(value: Any) -> Any:
    if not (isinstance(value, dict) and value.get("class_name") in _FLOAT_POLICIES):
        # Strings are Keras 2 style already; quantized policies stay dicts so
        # that a Keras 2 deserializer refuses them.
        return value
    name = (value.get("config") or {}).get("name")
    if isinstance(name, str) and name.startswith("mixed_"):
        return {
            "module": "keras.mixed_precision",
            "class_name": "Policy",
            "config": {"name": name},
            "registered_name": None,
        }
    return name


def _convert_initializer(value: Any) -> Any:
    config = value.get("config") if isinstance(value, dict) else None
    if isinstance(config, dict):
        for key in ("input_axes", "output_axes"):
            # None means the Keras 2 fan computation; other values are kept.
            if key in config and config[key] is None:
                del config[key]
    return value


def _convert_common(config: dict) -> None:
    """Handles keys shared by all layers: dtype, initializers, quantization, LoRA."""
    if "dtype" in config:
        config["dtype"] = _convert_dtype(config["dtype"])
    for key in list(config):
        if key.endswith("_initializer"):
            config[key] = _convert_initializer(config[key])
    # None means "not quantized"; a quantization config is kept (and refused).
    if "quantization_config" in config and config["quantization_config"] is None:
        del config["quantization_config"]
    # No LoRA rank means no LoRA weights; a rank is kept (and refused).
    if "lora_rank" in config and not config["lora_rank"]:
        del config["lora_rank"]
        config.pop("lora_alpha", None)


def _convert_model(config: dict, functional: bool) -> None:
    # Keras 2 models do not serialize `trainable`; True is its default, False is kept.
    if config.get("trainable") is True:
        del config["trainable"]
    # Keras 2 models do not serialize `dtype`; float32 is its default, others are kept.
    if config.get("dtype") == "float32":
        del config["dtype"]
    layers = config.get("layers")
    if not isinstance(layers, list):
        return
    config["layers"] = [_convert(layer, False) for layer in layers]
    if not functional:
        return
    for layer in config["layers"]:
        if not isinstance(layer, dict) or not isinstance(layer.get("config"), dict):
            continue
        name = layer.get("name") or layer["config"].get("name")
        layer["inbound_nodes"] = [
            _convert_node(node, name) for node in layer.get("inbound_nodes", [])
        ]
    for key in ("input_layers", "output_layers"):
        if key in config:
            config[key] = _tensor_refs(config[key])


def _convert_input_layer(config: dict) -> None:
    if "batch_shape" in config:
        config.setdefault("batch_input_shape", config.pop("batch_shape"))
    # Keras 2 always writes both flags; False is what Keras 3 omits.
    config.setdefault("sparse", False)
    config.setdefault("ragged", False)


def _is_mirror(forward: dict, backward: dict) -> bool:
    """Whether `backward` is what Keras 2 derives from `forward` on its own."""
    if forward.get("class_name") != backward.get("class_name"):
        return False
    fwd, bwd = dict(forward["config"]), dict(backward["config"])
    if bool(bwd.pop("go_backwards", False)) == bool(fwd.pop("go_backwards", False)):
        return False
    fwd.pop("name", None)
    bwd.pop("name", None)
    return _without_sharing_ids(fwd) == _without_sharing_ids(bwd)


def _without_sharing_ids(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_sharing_ids(v) for k, v in value.items() if k != "shared_object_id"}
    if isinstance(value, list):
        return [_without_sharing_ids(v) for v in value]
    return value


def _convert_wrapped(layer: dict, in_bidirectional: bool) -> dict:
    converted = _convert(layer, in_bidirectional)
    # Keras 3 records how a wrapped layer was built; Keras 2 builds it from the
    # wrapper's input shape and writes nothing. Build info only, no math.
    converted.pop("build_config", None)
    return converted


def _convert_bidirectional(config: dict) -> None:
    layer = config.get("layer")
    if not isinstance(layer, dict) or not isinstance(layer.get("config"), dict):
        return  # malformed: deserialize names what is missing
    forward = _convert_wrapped(layer, in_bidirectional=True)
    name = forward["config"].get("name")
    # Keras 3 renames the wrapped layer `forward_<name>`; Keras 2 keeps `<name>`
    # and derives `forward_<name>` itself. Only the name changes.
    if isinstance(name, str) and name.startswith(_FORWARD_PREFIX):
        forward["config"]["name"] = name[len(_FORWARD_PREFIX) :]
    config["layer"] = forward
    backward = config.get("backward_layer")
    if isinstance(backward, dict):
        backward = _convert_wrapped(backward, in_bidirectional=True)
        # Keras 3 writes the automatic backward layer too; Keras 2 derives the
        # same layer when the key is absent. A different one is kept.
        if _is_mirror(forward, backward):
            del config["backward_layer"]
        else:
            config["backward_layer"] = backward


# Keys only Keras 3 writes, with the values that compute what Keras 2 computes without them.
_KERAS3_ONLY_DEFAULTS: dict[str, dict[str, Any]] = {
    "BatchNormalization": {
        "synchronized": False,
        "renorm": False,
        "renorm_clipping": None,
        "renorm_momentum": 0.99,
    },
    "LayerNormalization": {"rms_scaling": False},
    "MultiHeadAttention": {"use_gate": False, "sliding_window": None},
    "ZeroPadding1D": {"data_format": "channels_last"},
    "Cropping1D": {"data_format": "channels_last"},
    "SpatialDropout1D": {},
    "SpatialDropout2D": {},
    "LeakyReLU": {},
}
_SEEDED_ATTENTION = ("Attention", "AdditiveAttention", "MultiHeadAttention")


def _convert_layer_defaults(obj: dict, class_name: str) -> None:
    config = obj["config"]
    for key, default in _KERAS3_ONLY_DEFAULTS.get(class_name, {}).items():
        if key in config and config[key] == default:
            del config[key]
    if class_name in _SEEDED_ATTENTION:
        _drop_unused_seed(config)
    if class_name == "LeakyReLU" and "negative_slope" in config:
        config["alpha"] = config.pop("negative_slope")  # Keras 3 renamed it
    if class_name.startswith("SpatialDropout"):
        config.setdefault("noise_shape", None)  # Keras 2 writes it; Keras 3 ignores it too
    if class_name == "MultiHeadAttention":
        # Keras 3 keeps the input shapes in build_config, Keras 2 in the config.
        shapes = (obj.get("build_config") or {}).get("shapes_dict") or {}
        for key in ("query_shape", "key_shape", "value_shape"):
            config.setdefault(key, shapes.get(key))
        config.setdefault("softmax_robust_masking", False)
        output_shape = config.get("output_shape")
        if isinstance(output_shape, list) and len(output_shape) == 1:
            config["output_shape"] = output_shape[0]  # Keras 3 writes 5 as [5]
        obj.pop("build_config", None)


def _drop_unused_seed(config: dict) -> None:
    if "seed" not in config:
        return
    # The seed only draws dropout masks: without dropout (or without a seed)
    # nothing depends on it. A seed for actual dropout is kept.
    if config["seed"] is None or not (config.get("dropout") or config.get("recurrent_dropout")):
        del config["seed"]


def _convert_cell(config: dict, class_name: str) -> None:
    _drop_unused_seed(config)
    if class_name in _FUSED_GATES:
        # Keras 3 always computes the gates with one fused matmul, which is
        # Keras 2's `implementation=2` (its default).
        config.setdefault("implementation", 2)


def _convert_rnn(config: dict, class_name: str, in_bidirectional: bool) -> None:
    _convert_cell(config, class_name)
    # Keras 3 RNNs are always batch-major, which is Keras 2's default.
    config.setdefault("time_major", False)
    # Keras 3 picks the cuDNN kernel with it; the math is the same, only speed differs.
    config.pop("use_cudnn", None)
    if "zero_output_for_mask" in config:
        # A Bidirectional forces it to `return_sequences` in Keras 2 and 3 alike;
        # False is the Keras 2 default. True elsewhere changes masked outputs: kept.
        if in_bidirectional or not config["zero_output_for_mask"]:
            del config["zero_output_for_mask"]
    if isinstance(config.get("cell"), dict):
        config["cell"] = _convert(config["cell"], False)


def _keras_history(value: Any) -> list | None:
    if isinstance(value, dict) and value.get("class_name") == "__keras_tensor__":
        return list(value["config"]["keras_history"])
    return None


def _tensors_to_refs(value: Any) -> Any:
    history = _keras_history(value)
    if history is not None:
        return history
    if isinstance(value, list):
        return [_tensors_to_refs(v) for v in value]
    if isinstance(value, dict):
        return {k: _tensors_to_refs(v) for k, v in value.items()}
    return value


def _convert_node(node: Any, layer_name: str) -> Any:
    """Rewrites one Keras 3 layer call as a Keras 2 list of inbound tensors."""
    if not isinstance(node, dict):
        return node  # Keras 2 style already.
    args = node.get("args", [])
    kwargs = _tensors_to_refs(node.get("kwargs", {}))
    if len(args) != 1 or isinstance(args[0], dict) and _keras_history(args[0]) is None:
        raise ValueError(
            f"Expected each call of layer '{layer_name}' to take one positional argument, "
            "a tensor or a list of tensors (Keras 2 configs express nothing else). "
            f"Received: args={args!r:.200}."
        )
    items = args[0] if isinstance(args[0], list) else [args[0]]
    entries = []
    for item in items:
        history = _keras_history(item)
        # Keras 2 marks a constant (non-tensor) input this way.
        entries.append(history + [kwargs] if history else ["_CONSTANT_VALUE", -1, item, kwargs])
    return entries


def _tensor_refs(value: Any) -> Any:
    # Keras 3 writes a single input or output as one [name, node, index] triple.
    if isinstance(value, list) and len(value) == 3 and isinstance(value[0], str):
        return [value]
    return value
