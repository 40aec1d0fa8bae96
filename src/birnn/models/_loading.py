"""Models from configs and files: ``model_from_config``/``model_from_json`` read Keras 2 and
Keras 3 configs; ``load_model`` reads birnn files and Keras ``.h5``/``.keras`` files
(with ``birnn.saving``'s readers), telling them apart by content."""

from __future__ import annotations

import json
import os
import warnings
from typing import Any

from ..layers._keras3_config import keras3_to_keras2_config
from ..saving import _birnn_format
from ..saving._keras_files import _parse_json, read_keras_config, read_keras_file
from ._model_files import assign_weights, is_birnn_model_file
from ._sequential import Sequential


def _model_in(path: str, config: Any, custom_objects: dict | None) -> Any:
    """``model_from_config``, with errors that name the file."""
    try:
        return model_from_config(config, custom_objects)
    except (ValueError, TypeError) as error:
        raise ValueError(f"load_model: cannot build the model saved in {path!r}. {error}") from None


def model_from_config(config: dict[str, Any], custom_objects: dict | None = None) -> Any:
    """Creates a model from ``{"class_name": "Sequential", "config": {...}}`` (Keras 2 or 3).

    Args:
        config: ``{"class_name": ..., "config": {...}}``, the model's config as a model
            file wraps it.
        custom_objects: optional ``{name: class or function}`` for your own layers and functions.

    Raises:
        ValueError: for models other than ``Sequential``, or unsupported layers (named).
    """
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(
            "model_from_config: expected a dict with 'class_name' and 'config'. Received: "
            f"{config!r:.200}."
        )
    if isinstance(config.get("config"), dict):
        config = keras3_to_keras2_config(config)
    class_name = config["class_name"]
    if class_name != "Sequential":
        raise ValueError(
            "model_from_config: only Sequential models are supported. Received: "
            f"class_name={class_name!r} (Functional and subclassed models are not)."
        )
    return Sequential.from_config(config.get("config"), custom_objects)


def model_from_json(json_string: str, custom_objects: dict | None = None) -> Any:
    """Creates a model from Keras 2's (or Keras 3's, or birnn's) ``model.to_json()``.

    Args:
        json_string: the JSON text.
        custom_objects: extra layer classes by name.

    Returns:
        A ``Sequential`` model with fresh weights (``set_weights`` or ``load_weights``).

    Raises:
        ValueError: for invalid JSON, models other than ``Sequential``, or unsupported
            layers (named in the message).

    Example:
        >>> from birnn.layers import Dense
        >>> from birnn.models import Sequential
        >>> model = Sequential([Dense(2, input_shape=(3,), name="out")])
        >>> model_from_json(model.to_json()).get_layer("out").units
        2
    """
    try:
        config = json.loads(json_string)
    except (TypeError, json.JSONDecodeError) as error:
        raise ValueError(
            f"model_from_json: expected the JSON text of model.to_json(). Received: "
            f"{json_string!r:.100} ({error})."
        ) from None
    return model_from_config(config, custom_objects)


def _metric_names(metrics: Any) -> list | None:
    """Metric names from what Keras saved: names, serialized metric objects, nested lists."""
    names: list = []

    def collect(metric: Any) -> None:
        if isinstance(metric, (list, tuple)):
            for item in metric:
                collect(item)
        elif isinstance(metric, dict):  # e.g. MeanMetricWrapper(fn="categorical_accuracy")
            config = metric.get("config") or {}
            fn = config.get("fn")
            name = config.get("name", metric.get("class_name"))
            names.append(fn if isinstance(fn, str) else name)
        elif metric is not None:
            names.append(metric)

    collect(metrics)
    return names or None


def _compile_from(model: Any, compile_config: Any, source: str) -> None:
    if not isinstance(compile_config, dict) or not compile_config:
        return
    optimizer = compile_config.get("optimizer") or compile_config.get("optimizer_config")
    try:
        for key in ("loss_weights", "weighted_metrics"):
            if compile_config.get(key):
                raise ValueError(f"{key} is not supported")
        model.compile(
            optimizer=optimizer or "rmsprop",
            loss=compile_config.get("loss"),
            metrics=_metric_names(compile_config.get("metrics")),
        )
    except (ValueError, TypeError) as error:
        warnings.warn(
            f"load_model: the training configuration in {source!r} could not be used "
            f"({error}); the model is not compiled. Call model.compile(...) to train it.",
            stacklevel=3,
        )


def _keras_compile_config(path: str, keras_file: Any) -> Any:
    if keras_file.format != "h5":
        return keras_file.config.get("compile_config")
    import h5py

    with h5py.File(path, "r") as f:
        raw = f.attrs.get("training_config")
    if raw is None:
        return None
    return _parse_json(raw, path, "the `training_config` attribute")


def load_model(
    filepath: str | os.PathLike,
    custom_objects: dict | None = None,
    compile: bool = True,
    safe_mode: bool = True,
) -> Any:
    """Loads a model saved by birnn's ``Model.save``, or a Keras model file.

    The format is told by the file's content, not its name:

    - birnn's file (a safetensors file with birnn metadata);
    - tf-keras 2.x ``model.save("m.h5")`` (HDF5) and ``model.save("m.keras")``;
    - Keras 3 ``model.save("m.keras")``.

    Keras's weights are set as saved, so the model computes what Keras computed. The model
    comes back in ``eval()`` mode, as Keras models run in inference mode unless told
    otherwise (``fit`` switches to training mode by itself). The optimizer state is not
    loaded; with ``compile=True`` the saved loss, metrics and
    optimizer settings are compiled in when birnn supports them (else a warning).

    Args:
        filepath: the file.
        custom_objects: extra layer classes by name.
        compile: whether to compile the model with its saved training configuration.
        safe_mode: accepted for Keras compatibility (birnn never runs saved code).

    Returns:
        A ``Sequential`` model.

    Raises:
        ValueError: if the file is missing, truncated, corrupt, not a model file, holds a
            model other than ``Sequential``, or holds layers or options birnn does not
            support (named in the message). No model is returned then.
    """
    path = os.fspath(filepath)
    if is_birnn_model_file(path, "load_model"):
        metadata, weights = _birnn_format.read(path)
        if metadata.get("kind") != "model":
            raise ValueError(
                f"load_model: {path!r} holds weights only (save_weights). Expected a file "
                "written by model.save; load these weights with model.load_weights."
            )
        if "config" not in metadata:
            raise ValueError(
                f"load_model: expected {path!r} to hold a model config. Received: metadata "
                f"without 'config' (keys {sorted(metadata)}; corrupt or edited)."
            )
        config = _parse_json(metadata["config"], path, "the 'config' metadata")
        model = _model_in(path, config, custom_objects)
        assign_weights(model, weights, path, by_order=False)
        if compile and "compile_config" in metadata:
            compile_config = _parse_json(
                metadata["compile_config"], path, "the 'compile_config' metadata"
            )
            _compile_from(model, compile_config, path)
        return model.eval()
    # The model first: an unsupported layer is named before its weights are looked for.
    model = _model_in(path, read_keras_config(path), custom_objects)
    keras_file = read_keras_file(path)
    assign_weights(model, keras_file.weights, path, by_order=False)
    if compile:
        _compile_from(model, _keras_compile_config(path, keras_file), path)
    return model.eval()
