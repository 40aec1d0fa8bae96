"""``serialize`` / ``deserialize``: layers to and from the dicts Keras writes.

``deserialize`` reads what tf-keras 2.x ``layers.serialize()`` writes
(``{"module", "class_name", "config", "registered_name", "build_config"}``), the
older ``{"class_name", "config"}`` form, and Keras 3's equivalents.
"""

from __future__ import annotations

import inspect
from typing import Any

from torch import nn

from ._keras3_config import keras3_to_keras2_config

_REGISTRY: dict[str, type] = {}


def register(*classes: type) -> None:
    """Makes layer classes known to ``deserialize`` by their class names.

    Args:
        *classes: the layer classes, registered under their ``__name__``.
    """
    for cls in classes:
        _REGISTRY[cls.__name__] = cls


def serialize(layer: nn.Module) -> dict[str, Any]:
    """Returns the dict tf-keras 2.x ``layers.serialize()`` writes for ``layer``.

    Args:
        layer: a layer: anything with ``get_config()``.

    Example:
        >>> from birnn.layers import LSTM
        >>> serialize(LSTM(3, name="encoder"))["config"]["name"]
        'encoder'
    """
    if not hasattr(layer, "get_config"):
        raise ValueError(
            f"serialize: expected a layer with get_config(). Received: {type(layer).__name__}."
        )
    config = {
        "module": "keras.layers",
        "class_name": type(layer).__name__,
        "config": layer.get_config(),
        "registered_name": None if type(layer).__name__ in _REGISTRY else type(layer).__name__,
    }
    batch_input_shape = getattr(layer, "_built_input_shape", None)
    if batch_input_shape is not None:
        config["build_config"] = {"input_shape": list(batch_input_shape)}
    return config


def deserialize(config: dict[str, Any], custom_objects: dict[str, type] | None = None) -> Any:
    """Creates a layer from a serialized dict, as tf-keras 2.x or Keras 3 wrote it.

    Args:
        config: ``{"class_name": ..., "config": {...}}`` with optional ``module``,
            ``registered_name`` and ``build_config`` (the layer is built for its shape).
        custom_objects: extra classes by name, for user-defined layers and cells.

    Returns:
        The layer.

    Raises:
        ValueError: if ``class_name`` is unknown, or a config key or value is not supported.

    Example:
        >>> layer = deserialize({"class_name": "GRU", "config": {"units": 2}})
        >>> type(layer).__name__, layer.cell.units
        ('GRU', 2)
    """
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(
            "deserialize: expected a dict with 'class_name' and 'config'. "
            f"Received: {config!r:.200}."
        )
    class_name = config["class_name"]
    known = dict(_REGISTRY)
    known.update(custom_objects or {})
    cls = known.get(config.get("registered_name") or class_name) or known.get(class_name)
    if cls is None:
        raise ValueError(
            f"deserialize: unknown layer class_name {class_name!r}. Expected one of "
            f"{sorted(_REGISTRY)}, or a class passed in custom_objects."
        )
    layer_config = config.get("config") or {}
    if not isinstance(layer_config, dict):
        raise ValueError(
            f"deserialize: the 'config' of {class_name} must be a dict. "
            f"Received: {type(layer_config).__name__} {layer_config!r:.100}."
        )
    config = keras3_to_keras2_config({**config, "config": layer_config})
    layer_config = dict(config["config"])
    try:
        if "custom_objects" in inspect.signature(cls.from_config).parameters:
            layer = cls.from_config(layer_config, custom_objects=custom_objects)
        else:
            layer = cls.from_config(layer_config)
    except TypeError as error:
        raise ValueError(
            f"deserialize: {class_name} does not support this config: {error}"
        ) from None
    except KeyError as error:
        raise ValueError(
            f"deserialize: the config of {class_name} must have the key {error}. "
            f"Received: keys {sorted(layer_config)}."
        ) from None
    build_config = config.get("build_config") or {}
    input_shape = build_config.get("input_shape")
    if input_shape is not None and hasattr(layer, "_maybe_build") and not layer.built:
        layer._maybe_build(tuple(input_shape))
    return layer
