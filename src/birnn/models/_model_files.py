"""Model <-> file glue: a model's weights and config handed to ``birnn.saving``'s writer,
and weights read by ``birnn.saving``'s readers assigned to a model's layers."""

from __future__ import annotations

import json
import os
from typing import Any

import numpy as np
import torch

from .._version import __version__
from ..saving import _birnn_format
from ..saving._formats import file_format
from ..saving._keras_files import read_weights_file

_FORMATS = (
    "a birnn file (model.save or save_weights), a Keras .h5 (HDF5) file or a Keras .keras "
    "(zip) archive"
)


def is_birnn_model_file(path: str, caller: str) -> bool:
    """Whether ``path`` is a birnn file (else a Keras HDF5 or zip file); a ValueError
    naming ``caller`` and ``filepath`` when it is neither."""
    kind, reason = file_format(path)
    if kind is not None:
        return kind == "birnn"
    raise ValueError(
        f"{caller}: Expected filepath to be {_FORMATS}. Received: filepath={path!r} ({reason})."
    )


def save_model_file(
    model: Any, filepath: str | os.PathLike, overwrite: bool, include_config: bool
) -> None:
    """``Model.save`` (``include_config``) and ``Model.save_weights``: birnn's format.

    Raises:
        ValueError: for Keras extensions, an existing file with ``overwrite=False``, or an
            unbuilt model.
    """
    model._check_built("save")
    layers = [(_layer_name(layer), model._layer_weights(layer)) for layer in model.layers]
    _birnn_format.write(
        filepath,
        layers,
        config=model.to_json() if include_config else None,
        compile_config=model._compile_config,
        birnn_version=__version__,
        overwrite=overwrite,
    )


def _layer_name(layer: Any) -> str:
    return getattr(layer, "name", None) or type(layer).__name__


def assign_weights(
    model: Any, weights: dict[str, list], source: str, by_order: bool = True
) -> None:
    """Sets each layer's weights from ``weights`` (by layer name), all or nothing.

    Layers are matched by name; when the names differ and ``by_order`` is set, the layers
    that have weights are matched in order, as Keras 2 loads ``.h5`` weights.

    Raises:
        ValueError: if a layer, a weight count or a shape does not match; then no weight
            has been changed.
    """
    layers = [(_layer_name(layer), model._layer_weights(layer)) for layer in model.layers]
    stored = {name: list(arrays) for name, arrays in weights.items()}
    with_weights = [(name, params) for name, params in layers if params]
    if all(name in stored for name, _ in with_weights) or not by_order:
        pairs = []
        for name, params in with_weights:
            if name not in stored:
                raise ValueError(
                    f"Expected weights for layer {name!r} in {source!r}. Received: weights "
                    f"for layers {list(stored)}."
                )
            pairs.append((name, params, stored[name]))
        extra = [name for name, arrays in stored.items() if arrays and name not in dict(layers)]
        if extra:
            raise ValueError(
                f"Expected weights only for the model's layers {[n for n, _ in layers]} in "
                f"{source!r}. Received: weights for unknown layers {extra}."
            )
    else:
        stored_lists = [(name, arrays) for name, arrays in stored.items() if arrays]
        if len(stored_lists) != len(with_weights):
            raise ValueError(
                f"Expected weights for the model's {len(with_weights)} layer(s) with weights "
                f"{[name for name, _ in with_weights]} in {source!r} (matched in order, since "
                f"the layer names differ). Received: weights for {len(stored_lists)} layer(s) "
                f"{[name for name, _ in stored_lists]}."
            )
        pairs = [
            (name, params, arrays)
            for (name, params), (_, arrays) in zip(with_weights, stored_lists)
        ]
    updates = []
    for name, params, arrays in pairs:
        if len(arrays) != len(params):
            raise ValueError(
                f"Expected {len(params)} weights for layer {name!r} in {source!r}. Received: "
                f"{len(arrays)}."
            )
        for index, (param, array) in enumerate(zip(params, arrays)):
            value = torch.as_tensor(np.asarray(array) if not torch.is_tensor(array) else array)
            if tuple(value.shape) != tuple(param.shape):
                raise ValueError(
                    f"Expected weight {index} of layer {name!r} to have shape "
                    f"{tuple(param.shape)}. Received: shape {tuple(value.shape)} in {source!r}."
                )
            updates.append((param, value))
    with torch.no_grad():
        for param, value in updates:
            param.copy_(value.to(dtype=param.dtype, device=param.device))


def load_weights_into(model: Any, filepath: str | os.PathLike) -> None:
    """``Model.load_weights``: birnn files, or Keras weights and model files."""
    path = os.fspath(filepath)
    model._check_built("load_weights")
    if is_birnn_model_file(path, "load_weights"):
        _, weights = _birnn_format.read(path)
    else:
        weights = read_weights_file(path, config=json.loads(model.to_json()))
    assign_weights(model, weights, path)
