"""What a model config needs that birnn will not build, found all at once.

``check_supported`` walks a Sequential or Functional config (nested models, wrapped
layers and cells included) and raises one ``ValueError`` naming every layer birnn cannot
build, each with what to do about it:

- ``Lambda``: it holds Python bytecode, which birnn never runs (``safe_mode`` or not);
  replace it by a layer (a ``birnn.layers.Layer`` subclass passed in ``custom_objects``).
- TensorFlow op layers (``TFOpLambda``, ``SlicingOpLambda``): TensorFlow functions that
  birnn does not run; the same substitution.
- ``TextVectorization`` and string inputs: preprocessing on strings belongs outside the
  model; feed the model the integer ids.
- any other unknown class (a custom layer): pass ``custom_objects={"Name": cls}`` with a
  ``birnn.layers.Layer`` subclass or a ``torch.nn.Module`` that has ``from_config``; its
  weights are assigned in the file's order.
"""

from __future__ import annotations

from ..layers._serialization import lookup
from ._keras3_ops import OPERATIONS

_MODELS = ("Sequential", "Functional", "Model")
_TF_OPS = ("TFOpLambda", "SlicingOpLambda")
_STRING_DTYPES = ("string", "str")


def _name(entry: dict) -> str:
    config = entry.get("config") if isinstance(entry.get("config"), dict) else {}
    return str(entry.get("name") or config.get("name") or entry.get("class_name"))


def _reason(entry: dict, custom_objects: dict | None) -> str | None:
    """Why ``entry`` cannot be built, or ``None`` when it can (its own class only)."""
    class_name = str(entry.get("class_name"))
    config = entry.get("config") if isinstance(entry.get("config"), dict) else {}
    if custom_objects and lookup(entry, custom_objects) is not None:
        return None
    if str(entry.get("module", "")).startswith("keras.src.ops"):
        if class_name in OPERATIONS:
            return None
        return f"the Keras 3 operation {class_name}, which birnn does not run"
    if class_name == "Lambda":
        return (
            "a Lambda layer holds Python bytecode, which birnn never runs (also not with "
            "safe_mode=False): rewrite its function as a layer (a birnn.layers.Layer "
            "subclass) and pass custom_objects={'Lambda': YourLayer}, or rebuild the model "
            "with that layer and load the weights with load_weights"
        )
    if class_name in _TF_OPS:
        function = config.get("function")
        return (
            f"it calls the TensorFlow function {function!r}, which birnn does not run: "
            f"pass custom_objects={{{class_name!r}: YourLayer}} with a birnn.layers.Layer "
            "that computes the same, or rebuild the model with such a layer"
        )
    if class_name == "TextVectorization":
        return (
            "TextVectorization works on strings; birnn models take numbers: apply "
            "TextVectorization (or any tokenizer) outside the model and feed the model "
            "the integer ids"
        )
    if class_name == "InputLayer" and config.get("dtype") in _STRING_DTYPES:
        return (
            "a string input (TextVectorization inside the model): apply TextVectorization "
            "outside the model and feed the model the integer ids (an int32 input)"
        )
    if class_name in _MODELS or lookup(entry, None) is not None:
        return None
    return _CUSTOM


# Said once for all custom or unknown layers, after their names.
_CUSTOM = "custom"


def _children(entry: dict) -> list[dict]:
    config = entry.get("config")
    if isinstance(config, list):  # Keras < 2.2 Sequential
        return [c for c in config if isinstance(c, dict)]
    if not isinstance(config, dict):
        return []
    children = []
    for key in ("layer", "backward_layer", "cell"):
        if isinstance(config.get(key), dict):
            children.append(config[key])
    for key in ("layers", "cells"):
        if isinstance(config.get(key), list):
            children += [c for c in config[key] if isinstance(c, dict)]
    return children


def unsupported_layers(config: dict, custom_objects: dict | None = None) -> list[tuple]:
    """``(name, class name, reason)`` for every layer of ``config`` birnn cannot build
    (``reason`` is ``"custom"`` for a class birnn does not know)."""
    found = []
    for entry in _children(config):
        reason = _reason(entry, custom_objects)
        if reason is not None:
            found.append((_name(entry), str(entry.get("class_name")), reason))
        elif not (custom_objects and lookup(entry, custom_objects) is not None):
            found += unsupported_layers(entry, custom_objects)
    return found


def check_supported(config: dict, custom_objects: dict | None = None) -> None:
    """Raises one ValueError listing every layer of the model ``config`` birnn cannot
    build (none: returns).

    Raises:
        ValueError: naming each such layer, its class and what to do about it.

    Example:
        >>> layers = [{"class_name": "Lambda", "config": {"name": "double"}},
        ...           {"class_name": "AttLayer", "config": {"name": "att"}}]
        >>> check_supported({"class_name": "Sequential", "config": {"layers": layers}})
        Traceback (most recent call last):
        ...
        ValueError: the model has 2 layer(s) birnn cannot build...
    """
    found = unsupported_layers(config, custom_objects)
    if not found:
        return
    lines = [f"  - '{name}' ({cls}): {reason}" for name, cls, reason in found if reason != _CUSTOM]
    custom = [(name, cls) for name, cls, reason in found if reason == _CUSTOM]
    if custom:
        named = ", ".join(f"'{name}' ({cls})" for name, cls in custom)
        classes = ", ".join(f"{cls!r}: ..." for cls in dict.fromkeys(cls for _, cls in custom))
        lines.append(
            f"  - {named}: custom or unsupported layer(s). Pass custom_objects={{{classes}}} "
            "mapping each to a birnn.layers.Layer subclass or a torch.nn.Module with "
            "from_config; its weights are assigned in the file's order"
        )
    raise ValueError(
        f"the model has {len(found)} layer(s) birnn cannot build. Expected layers of "
        "birnn.layers or classes passed in custom_objects. Received:\n" + "\n".join(lines)
    )
