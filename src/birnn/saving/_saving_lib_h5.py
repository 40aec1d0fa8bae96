"""Weights in the layout of `.keras` archives and `*.weights.h5` files.

tf-keras >= 2.13 and Keras 3 write the same tree (`model.weights.h5` inside
the archive, or the whole stand-alone `*.weights.h5`):

```
vars/                                  the model's own variables (none here)
layers/<key>/vars/0, 1, ...            a layer's own variables, in order
layers/bidirectional/forward_layer/cell/vars/0..2   nested layers by attribute
layers/bidirectional/backward_layer/cell/vars/0..2
```

A layer's `<key>` is not its name: it is its class name in snake case
(`Bidirectional` -> `bidirectional`, `SimpleRNN` -> `simple_rnn`), with
`_1`, `_2`, ... appended to the second, third, ... layer of the same class, in
the order of the model's layer list (its config's `layers`, minus
`InputLayer`s and Keras 3 operations). tf-keras 2.13 named the container
`_layer_checkpoint_dependencies` instead of `layers`. Keras 3.x also stores
each layer's name as the `name` attribute of its `vars` group; when the config
comes from the same archive, those names are checked against it.
tf-keras also writes an empty `layer` group under a Bidirectional (the unbuilt
wrapped layer), which holds no weights.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._objects import snake_case

_CONTAINER_KEYS = ("layers", "_layer_checkpoint_dependencies")
_RNN_LAYERS = ("LSTM", "GRU", "SimpleRNN", "RNN")
_MODEL_CLASSES = ("Sequential", "Functional", "Model")


def model_layer_configs(config: dict, path: str) -> list[dict]:
    """Returns the serialized layers of a Sequential or Functional model config.

    Args:
        config: A model config, `{"class_name": ..., "config": {...}}`.
        path: The file path, for error messages.

    Returns:
        The entries of the config's `layers` list, without `InputLayer`s and
        Keras 3 operations, which hold no weights.

    Raises:
        ValueError: if `config` is not a model config with a `layers` list.
    """
    inner = config.get("config") if isinstance(config, dict) else None
    # Keras < 2.2 wrote a Sequential config as a bare list of layers.
    layers = inner if isinstance(inner, list) else (inner or {}).get("layers")
    if not isinstance(layers, list):
        raise ValueError(
            f"Expected the model config of '{path}' to be a Sequential or "
            "Functional model config with a `layers` list. Received: "
            f"class_name={config.get('class_name') if isinstance(config, dict) else config!r}."
        )
    return [layer for layer in layers if _holds_state(layer)]


def _holds_state(layer_config: dict) -> bool:
    # Input layers have no weights (Keras keys them apart: `input_layer`, ...).
    if layer_config.get("class_name") == "InputLayer":
        return False
    # Keras 3 Functional configs also list bare operations (e.g. the `NotEqual`
    # and `Any` that compute a Masking layer's mask); they are not layers and
    # are not saved.
    return not str(layer_config.get("module", "")).startswith("keras.src.ops")


def layer_name(layer_config: dict) -> str:
    """Returns a serialized layer's name (Functional configs also keep it outside `config`)."""
    return layer_config.get("name") or layer_config["config"]["name"]


def container_keys(layer_configs: list[dict]) -> list[str]:
    """Returns the group key Keras uses for each layer of a container, in order."""
    used: dict[str, int] = {}
    keys = []
    for layer in layer_configs:
        key = snake_case(layer["class_name"])
        if key in used:
            used[key] += 1
            key = f"{key}_{used[key]}"
        else:
            used[key] = 0
        keys.append(key)
    return keys


def _container(group: Any) -> Any | None:
    for key in _CONTAINER_KEYS:
        if key in group:
            return group[key]
    return None


def _child(group: Any, key: str, where: str, path: str) -> Any:
    if key not in group:
        raise ValueError(
            f"Expected a weights group '{where}/{key}' in '{path}'. "
            f"Received: only {sorted(group.keys())} under '{where}'."
        )
    return group[key]


def _own_vars(group: Any, where: str, path: str) -> list[np.ndarray]:
    if "vars" not in group:
        return []
    variables = group["vars"]
    keys = sorted(variables.keys(), key=lambda k: int(k) if k.isdigit() else -1)
    if keys != [str(i) for i in range(len(keys))]:
        raise ValueError(
            f"Expected variables named 0..N-1 under '{where}/vars' in '{path}'. Received: {keys}."
        )
    arrays = []
    for key in keys:
        dataset = variables[key]
        if str(dataset.attrs.get("dtype", "")) == "bfloat16":
            raise ValueError(
                f"Expected float weights under '{where}/vars/{key}' in '{path}'. "
                "Received: bfloat16."
            )
        arrays.append(np.asarray(dataset))
    return arrays


def _count_datasets(group: Any) -> int:
    count = 0

    def visit(_name: str, obj: Any) -> None:
        nonlocal count
        count += int(hasattr(obj, "shape") and hasattr(obj, "dtype"))

    group.visititems(visit)
    return count


def _sub_config(config: dict, key: str, kind: type, where: str, path: str) -> Any:
    value = config.get(key)
    if not isinstance(value, kind):
        raise ValueError(
            f"Expected the config of the layer at '{where}' in '{path}' to have a "
            f"'{key}' {kind.__name__}. Received: {key}={value!r:.100}."
        )
    return value


def _layer_arrays(group: Any, layer_config: dict, where: str, path: str) -> list[np.ndarray]:
    """Collects one layer's weights in Keras 2 `get_weights()` order."""
    class_name = layer_config.get("class_name")
    config = layer_config.get("config") or {}
    arrays = _own_vars(group, where, path)
    if class_name in _MODEL_CLASSES:
        # A nested model lists its layers' weights first, then its own.
        inner = _container(group)
        if inner is None:
            raise ValueError(
                f"Expected a 'layers' group under '{where}' in '{path}'. "
                f"Received: {sorted(group.keys())}."
            )
        layers = model_layer_configs(layer_config, path)
        nested = _read_container(inner, layers, f"{where}/layers", path)
        return [array for sub in nested.values() for array in sub] + arrays
    if class_name == "Bidirectional":
        forward = _sub_config(config, "layer", dict, where, path)
        backward = config.get("backward_layer") or forward
        for key, sub in (("forward_layer", forward), ("backward_layer", backward)):
            arrays += _layer_arrays(_child(group, key, where, path), sub, f"{where}/{key}", path)
    elif class_name in _RNN_LAYERS or "cell" in config:
        cell = config.get("cell") or {"class_name": f"{class_name}Cell", "config": {}}
        arrays += _layer_arrays(_child(group, "cell", where, path), cell, f"{where}/cell", path)
    elif class_name == "StackedRNNCells":
        arrays += _container_arrays(
            _child(group, "cells", where, path),
            _sub_config(config, "cells", list, where, path),
            f"{where}/cells",
            path,
        )
    elif class_name == "MultiHeadAttention":
        # Its projections are sublayers, in get_weights() order query, key, value, output
        # (tf-keras prefixes their attribute names with "_", Keras 3 does not).
        for role in ("query", "key", "value", "output"):
            key = f"_{role}_dense" if f"_{role}_dense" in group else f"{role}_dense"
            arrays += _own_vars(_child(group, key, where, path), f"{where}/{key}", path)
    elif isinstance(config.get("layer"), dict):  # TimeDistributed and other wrappers.
        arrays += _layer_arrays(
            _child(group, "layer", where, path), config["layer"], f"{where}/layer", path
        )
    return arrays


def _container_arrays(group: Any, configs: list[dict], where: str, path: str) -> list[np.ndarray]:
    arrays = []
    for key, sub in zip(container_keys(configs), configs, strict=True):
        arrays += _layer_arrays(_child(group, key, where, path), sub, f"{where}/{key}", path)
    return arrays


def _read_container(
    group: Any, layer_configs: list[dict], where: str, path: str, check_names: bool = False
) -> dict[str, list[np.ndarray]]:
    weights: dict[str, list[np.ndarray]] = {}
    for key, layer in zip(container_keys(layer_configs), layer_configs, strict=True):
        name = layer_name(layer)
        if key not in group:
            raise ValueError(
                f"Expected a weights group '{where}/{key}' in '{path}' for layer "
                f"'{name}' ({layer['class_name']}). Received: groups {sorted(group.keys())}."
            )
        layer_group = group[key]
        stored = layer_group["vars"].attrs.get("name") if "vars" in layer_group else None
        if check_names and stored is not None:
            stored = stored.decode("utf-8") if isinstance(stored, bytes) else str(stored)
            if stored != name:
                raise ValueError(
                    f"Expected the weights group '{where}/{key}' in '{path}' to belong "
                    f"to layer '{name}'. Received: a group saved for layer '{stored}'."
                )
        arrays = _layer_arrays(layer_group, layer, f"{where}/{key}", path)
        found = _count_datasets(layer_group)
        if found != len(arrays):
            raise ValueError(
                f"Expected the {len(arrays)} weight(s) of layer '{name}' "
                f"({layer['class_name']}) under '{where}/{key}' in '{path}'. "
                f"Received: {found} datasets there; the nesting is not supported."
            )
        weights[name] = arrays
    return weights


def is_saving_lib_group(group: Any) -> bool:
    """Whether an HDF5 file root holds weights in the `.keras` / `.weights.h5` layout."""
    return _container(group) is not None or "vars" in group


def read_saving_lib_weights(
    root: Any, config: dict, path: str, check_names: bool = False
) -> dict[str, list[np.ndarray]]:
    """Reads every top-level layer's weights from a `.keras`-layout HDF5 root.

    Args:
        root: The open `h5py.File` (or group) of `model.weights.h5`.
        config: The model config, either Keras 2 or Keras 3 style; only
            class names, layer names and wrapped layers are used.
        path: The file path, for error messages.
        check_names: Whether to check the layer names Keras 3 stores in the
            file against `config`. Only meaningful when `config` was saved
            with the weights: Keras itself matches by class and position.

    Returns:
        A dict from layer name (as in `config`) to its weights in Keras 2
        `get_weights()` order, in the config's layer order.

    Raises:
        ValueError: if a layer of `config` has no weights group, or a group
            holds weights this reader does not know how to order.
    """
    layers = model_layer_configs(config, path)
    group = _container(root)
    if group is None:
        if not layers:
            return {}
        raise ValueError(
            f"Expected a 'layers' group in the weights of '{path}'. "
            f"Received: groups {sorted(root.keys())}."
        )
    own = _own_vars(root, "", path)
    if own:
        raise ValueError(
            f"Expected all weights of '{path}' to belong to layers. "
            f"Received: {len(own)} model-level variable(s) under 'vars'."
        )
    return _read_container(group, layers, "layers", path, check_names)
