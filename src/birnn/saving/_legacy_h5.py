"""Weights in the legacy Keras HDF5 layout (`model.save("m.h5")`, `save_weights("w.h5")`).

Layout, as written by tf-keras 2.x (and by Keras 3 for `.h5` paths):

```
<root>                         attrs: layer_names, backend, keras_version
  <layer name>/                attrs: weight_names (in `get_weights()` order)
    <layer name>/.../kernel:0  one dataset per weight, addressed by its name
  top_level_model_weights/     weights owned by the model itself (none for
                               Sequential and Functional models)
```

A full model file nests that layout in a `model_weights` group and keeps the
model config in the root attribute `model_config`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

_FORWARD_PREFIX = "forward_"
_BACKWARD_PREFIX = "backward_"


def _to_str(value: Any) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def read_string_list_attr(group: Any, name: str) -> list[str]:
    """Reads a list-of-strings attribute, joining the chunks Keras splits it into.

    HDF5 object headers are limited to 64 KiB, so Keras writes a long list as
    `name0`, `name1`, ... instead of `name`.

    Args:
        group: An `h5py.Group`.
        name: The attribute name, e.g. `"layer_names"`.

    Returns:
        The strings, in stored order (empty when the attribute is absent).
    """
    if name in group.attrs:
        chunks = [group.attrs[name]]
    else:
        chunks = []
        while f"{name}{len(chunks)}" in group.attrs:
            chunks.append(group.attrs[f"{name}{len(chunks)}"])
    # An empty list is stored as an empty float64 array.
    return [_to_str(item) for chunk in chunks for item in np.asarray(chunk).ravel()]


def read_str_attr(group: Any, name: str) -> str | None:
    """Returns a scalar string attribute of `group`, or `None` when absent."""
    if name not in group.attrs:
        return None
    return _to_str(group.attrs[name])


def is_legacy_weights_group(group: Any) -> bool:
    """Whether `group` holds weights in the legacy layout (`layer_names` attribute)."""
    return "layer_names" in group.attrs or "layer_names0" in group.attrs


def _forward_backward_order(weight_names: list[str], arrays: list[np.ndarray]) -> list[np.ndarray]:
    """Puts a Bidirectional layer's forward weights before its backward weights.

    The legacy file stores `trainable_weights + non_trainable_weights`, which
    is forward-then-backward unless only the forward layer was frozen. Weight
    names carry the direction (`bidirectional/forward_lstm/lstm_cell/kernel:0`);
    if they do not, the stored order is kept.
    """
    forward, backward = [], []
    for name, array in zip(weight_names, arrays, strict=True):
        parts = name.split("/")
        if any(p.startswith(_FORWARD_PREFIX) for p in parts):
            forward.append(array)
        elif any(p.startswith(_BACKWARD_PREFIX) for p in parts):
            backward.append(array)
        else:
            return arrays
    if len(forward) != len(backward):
        return arrays
    return forward + backward


def read_legacy_weights(
    group: Any, path: str, class_names: dict[str, str] | None = None
) -> dict[str, list[np.ndarray]]:
    """Reads every layer's weights from a legacy-layout HDF5 group.

    Args:
        group: The `h5py.Group` with the `layer_names` attribute: the file root
            for a weights file, `model_weights` for a model file.
        path: The file path, for error messages.
        class_names: Optional map from layer name to Keras class name; a
            `"Bidirectional"` entry puts that layer's forward weights first.

    Returns:
        A dict from layer name to its list of arrays, in the file's layer
        order (layers without weights map to an empty list).

    Raises:
        ValueError: if a listed layer or weight is missing, or the model owns
            weights outside any layer.
    """
    class_names = class_names or {}
    weights: dict[str, list[np.ndarray]] = {}
    for layer_name in read_string_list_attr(group, "layer_names"):
        if layer_name not in group:
            raise ValueError(
                f"Expected a weights group for layer '{layer_name}' in '{path}', "
                "since the file lists it in `layer_names`. "
                f"Received: groups {sorted(group.keys())}."
            )
        layer_group = group[layer_name]
        weight_names = read_string_list_attr(layer_group, "weight_names")
        arrays = []
        for weight_name in weight_names:
            if weight_name not in layer_group:
                raise ValueError(
                    f"Expected a dataset '{weight_name}' for layer '{layer_name}' "
                    f"in '{path}'. Received: no such dataset."
                )
            arrays.append(np.asarray(layer_group[weight_name]))
        if class_names.get(layer_name) == "Bidirectional":
            arrays = _forward_backward_order(weight_names, arrays)
        weights[layer_name] = arrays
    if "top_level_model_weights" in group:
        own = read_string_list_attr(group["top_level_model_weights"], "weight_names")
        if own:
            raise ValueError(
                f"Expected all weights of '{path}' to belong to layers. "
                f"Received: model-level weights {own}."
            )
    return weights
