"""Reads Keras model files (`.h5`, `.keras`) and weights files into plain data.

Three model formats are told apart by content, not by extension:

- `"h5"`: the legacy HDF5 file of `model.save("m.h5")`: the config is the
  root attribute `model_config`, the weights live in `model_weights` (see
  `_legacy_h5`).
- `"keras-v2"`: the zip archive of tf-keras 2.x `model.save("m.keras")`.
- `"keras-v3"`: the zip archive of Keras 3 `model.save("m.keras")`.

Both archives hold `metadata.json` (with `keras_version`), `config.json` and
`model.weights.h5`, whose tree addresses layers by class and position, not by
name (see `_saving_lib_h5`).

Weights come back per top-level layer, keyed by the layer's name in the
config, each list in Keras 2 `layer.get_weights()` order:

- `Dense`: `[kernel (in, units), bias (units,)]`
- `Embedding`: `[embeddings (input_dim, output_dim)]`
- `SimpleRNN`, `LSTM`, `GRU`: `[kernel, recurrent_kernel, bias]`
- `Bidirectional`: the forward layer's list, then the backward layer's list.
"""

from __future__ import annotations

import dataclasses
import io
import json
import os
import zipfile
import zlib
from typing import TYPE_CHECKING, Any

import numpy as np

from . import _legacy_h5, _saving_lib_h5
from ._formats import file_format, h5py

if TYPE_CHECKING:
    from h5py import File as H5File

_CONFIG = "config.json"
_METADATA = "metadata.json"
_WEIGHTS = "model.weights.h5"


@dataclasses.dataclass(frozen=True)
class KerasFile:
    """What a Keras model file holds, as plain data.

    Attributes:
        config: The model config as Keras wrote it, e.g.
            `{"class_name": "Sequential", "config": {"name": ..., "layers": [...]}}`
            (Keras 3 style for `"keras-v3"` files; see `keras3_to_keras2_config`).
        weights: Maps each top-level layer's name (as in `config`, without
            `InputLayer`s) to its weights in Keras 2 `get_weights()` order.
            Layers without weights map to `[]`. Keys follow the config's order.
        keras_version: The Keras version that wrote the file, e.g. `"2.21.0"`
            (`"unknown"` when the file does not say).
        format: `"h5"`, `"keras-v2"` or `"keras-v3"`.
    """

    config: dict
    weights: dict[str, list[np.ndarray]]
    keras_version: str
    format: str


def _keras_format(path: str) -> str:
    """Returns `"hdf5"` or `"zip"` from the file's content."""
    kind, why = file_format(path)
    if kind in ("hdf5", "zip"):
        return kind
    if kind == "birnn":
        why = "a birnn file; birnn.models.load_model reads it"
    raise ValueError(
        "Expected `path` to be a Keras file: an HDF5 file (`.h5`) or a zip archive "
        f"(`.keras`). Received: path={path!r} ({why})."
    )


def _open_hdf5(source: Any, path: str) -> H5File:
    try:
        return h5py().File(source, "r")
    except OSError as e:
        raise ValueError(
            f"Expected `path` to be a readable HDF5 file. Received: path={path!r}, "
            f"a truncated or corrupt file ({e})."
        ) from e


def _damaged(path: str, what: str, error: Exception) -> ValueError:
    return ValueError(
        f"Expected `path` to be a complete {what}. Received: path={path!r}, a "
        f"truncated or corrupt file ({type(error).__name__}: {error})."
    )


def _parse_json(raw: bytes | str, path: str, what: str) -> Any:
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ValueError(
            f"Expected {what} of {path!r} to be JSON. Received: {type(e).__name__}: {e}."
        ) from e


def _read_archive_config(path: str) -> dict:
    """Returns the parsed `config.json` of a `.keras` archive (nothing else is read)."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
            if _CONFIG not in names:
                raise ValueError(
                    f"Expected the Keras archive {path!r} to contain '{_CONFIG}'. "
                    f"Received: entries {sorted(names)}."
                )
            raw_config = archive.read(_CONFIG)
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as e:
        raise _damaged(path, "zip archive", e) from e
    config = _parse_json(raw_config, path, f"'{_CONFIG}'")
    if not isinstance(config, dict):
        raise ValueError(
            f"Expected '{_CONFIG}' of {path!r} to hold a JSON object. "
            f"Received: {type(config).__name__}."
        )
    return config


def _read_archive(path: str) -> tuple[dict, dict, bytes]:
    """Returns `(config, metadata, weights_h5_bytes)` of a `.keras` archive."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
            for required in (_CONFIG, _METADATA, _WEIGHTS):
                if required not in names:
                    raise ValueError(
                        f"Expected the Keras archive {path!r} to contain '{required}'. "
                        f"Received: entries {sorted(names)}."
                    )
            raw_config = archive.read(_CONFIG)
            raw_metadata = archive.read(_METADATA)
            weights = archive.read(_WEIGHTS)
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as e:
        raise _damaged(path, "zip archive", e) from e
    config = _parse_json(raw_config, path, f"'{_CONFIG}'")
    metadata = _parse_json(raw_metadata, path, f"'{_METADATA}'")
    if not isinstance(config, dict) or not isinstance(metadata, dict):
        raise ValueError(
            f"Expected '{_CONFIG}' and '{_METADATA}' of {path!r} to hold JSON objects. "
            f"Received: {type(config).__name__} and {type(metadata).__name__}."
        )
    return config, metadata, weights


def _archive_format(version: str) -> str:
    major = version.split(".", 1)[0]
    return "keras-v3" if major.isdigit() and int(major) >= 3 else "keras-v2"


def _read_archive_weights(
    h5_bytes: bytes, config: dict, path: str, check_names: bool
) -> dict[str, list[np.ndarray]]:
    with _open_hdf5(io.BytesIO(h5_bytes), f"{path}:{_WEIGHTS}") as root:
        try:
            return _saving_lib_h5.read_saving_lib_weights(root, config, path, check_names)
        except OSError as e:
            raise _damaged(path, "Keras archive", e) from e


def _class_names(config: dict | None, path: str) -> dict[str, str]:
    if config is None:
        return {}
    layers = _saving_lib_h5.model_layer_configs(config, path)
    return {_saving_lib_h5.layer_name(layer): layer["class_name"] for layer in layers}


def _h5_model_config(f: H5File, path: str) -> dict:
    raw_config = _legacy_h5.read_str_attr(f, "model_config")
    if raw_config is None:
        raise ValueError(
            f"Expected `path` to be a Keras model file with a `model_config` "
            f"attribute. Received: path={path!r}, an HDF5 file without one (a "
            "weights-only file? Read it with `read_weights_file`, or load it into a "
            "model with `model.load_weights`)."
        )
    config = _parse_json(raw_config, path, "the `model_config` attribute")
    if not isinstance(config, dict):
        raise ValueError(
            f"Expected the `model_config` attribute of {path!r} to hold a JSON object. "
            f"Received: {type(config).__name__}."
        )
    return config


def read_keras_config(path: str | os.PathLike) -> dict:
    """Reads only the model config of a Keras model file (`.h5` or `.keras`).

    Raises:
        ValueError: as `read_keras_file`, for what the config needs.
    """
    path = os.fspath(path)
    if _keras_format(path) == "zip":
        return _read_archive_config(path)
    with _open_hdf5(path, path) as f:
        try:
            return _h5_model_config(f, path)
        except OSError as e:
            raise _damaged(path, "HDF5 file", e) from e


def _read_h5_model(path: str) -> KerasFile:
    with _open_hdf5(path, path) as f:
        try:
            config = _h5_model_config(f, path)
            version = _legacy_h5.read_str_attr(f, "keras_version") or "unknown"
            group = f["model_weights"] if "model_weights" in f else None
            if group is None or not _legacy_h5.is_legacy_weights_group(group):
                raise ValueError(
                    f"Expected a `model_weights` group with a `layer_names` attribute in "
                    f"{path!r}. Received: top-level entries {sorted(f.keys())}."
                )
            class_names = _class_names(config, path)
            stored = _legacy_h5.read_legacy_weights(group, path, class_names)
        except OSError as e:
            raise _damaged(path, "HDF5 file", e) from e
    weights = {}
    for name in class_names:
        if name not in stored:
            raise ValueError(
                f"Expected a weights group for layer '{name}', which the model config of "
                f"{path!r} names. Received: groups for {list(stored)}."
            )
        weights[name] = stored[name]
    return KerasFile(config=config, weights=weights, keras_version=version, format="h5")


def read_keras_file(path: str | os.PathLike) -> KerasFile:
    """Reads a Keras model file into its config and weights.

    The format is detected from the file's content: an HDF5 file is read as a
    legacy `.h5` model, a zip archive as a `.keras` model of tf-keras 2.x or
    Keras 3 (told apart by `metadata.json`).

    Args:
        path: Path to a file written by `model.save()`.

    Returns:
        A `KerasFile` with the config as written, the weights of every
        top-level layer in Keras 2 `get_weights()` order, the Keras version and
        the format (`"h5"`, `"keras-v2"` or `"keras-v3"`).

    Raises:
        ValueError: if `path` does not exist, is neither HDF5 nor zip, is
            truncated or corrupt, lacks `config.json` (or the other archive
            members), or has no weights group for a layer named in the config.
    """
    path = os.fspath(path)
    if _keras_format(path) == "hdf5":
        return _read_h5_model(path)
    config, metadata, h5_bytes = _read_archive(path)
    version = str(metadata.get("keras_version", "unknown"))
    weights = _read_archive_weights(h5_bytes, config, path, check_names=True)
    return KerasFile(
        config=config, weights=weights, keras_version=version, format=_archive_format(version)
    )


def read_weights_file(
    path: str | os.PathLike, config: dict | None = None
) -> dict[str, list[np.ndarray]]:
    """Reads a Keras weights file into per-layer lists of arrays.

    Two layouts exist, with different matching rules, and the keys follow them:

    - Legacy HDF5 (tf-keras `model.save_weights("w.h5")`, or a full `.h5`
      model file): keys are the layer names stored in the file, in stored
      order, layers without weights included. Keras 2 loads these by order
      (of the layers that have weights), or by name with `by_name=True`.
    - `.keras` layout (`*.weights.h5` of Keras 3 or tf-keras >= 2.13, or a
      whole `.keras` archive): the file addresses layers by class and
      position, so `config` is needed, and keys are the layer names of
      `config` (without `InputLayer`s), in its order. A `.keras` archive falls
      back to its own config.

    Args:
        path: Path to the weights file.
        config: The config of the model that will receive the weights,
            `{"class_name": "Sequential", "config": {"layers": [...]}}` (Keras 2
            or Keras 3 style). For legacy files it is optional and only used to
            put each Bidirectional layer's forward weights first.

    Returns:
        A dict from layer name to its weights in Keras 2 `get_weights()` order.

    Raises:
        ValueError: if `path` does not exist, is not a Keras weights file, is
            truncated or corrupt, `config` is missing for the `.keras` layout,
            or a layer of `config` has no weights group.
    """
    path = os.fspath(path)
    if _keras_format(path) == "zip":
        own_config, _, h5_bytes = _read_archive(path)
        if config is None:
            return _read_archive_weights(h5_bytes, own_config, path, check_names=True)
        return _read_archive_weights(h5_bytes, config, path, check_names=False)
    with _open_hdf5(path, path) as f:
        try:
            if "model_weights" in f and _legacy_h5.is_legacy_weights_group(f["model_weights"]):
                return _legacy_h5.read_legacy_weights(
                    f["model_weights"], path, _class_names(config, path)
                )
            if _legacy_h5.is_legacy_weights_group(f):
                return _legacy_h5.read_legacy_weights(f, path, _class_names(config, path))
            if _saving_lib_h5.is_saving_lib_group(f):
                if config is None:
                    raise ValueError(
                        f"Expected `config`, the model config, to read {path!r}: its "
                        "weights are addressed by layer class and position, not by "
                        "name. Received: config=None."
                    )
                return _saving_lib_h5.read_saving_lib_weights(f, config, path)
        except OSError as e:
            raise _damaged(path, "HDF5 file", e) from e
        raise ValueError(
            "Expected `path` to be a Keras weights file (a `layer_names` attribute or a "
            f"`layers` group). Received: path={path!r} with top-level entries "
            f"{sorted(f.keys())} and attributes {sorted(f.attrs.keys())}."
        )
