"""birnn's own model file: one safetensors file whose metadata holds the JSON config.

Layout (``format_version`` 1):

- tensors ``"<layer name>/<i>"``: layer ``<layer name>``'s ``i``-th weight, in
  ``layer.get_weights()`` order;
- metadata (strings): ``format="birnn"``, ``format_version``, ``kind`` (``"model"`` or
  ``"weights"``), ``birnn_version``, ``layers`` (JSON ``[[name, weight count], ...]``) and,
  for models, ``config`` (``model.to_json()``) and optionally ``compile_config`` (JSON).

The file is written to a temporary name and renamed, so a crash never leaves half a
file; reading validates everything before any model sees a weight.
"""

from __future__ import annotations

import json
import os
import struct
import tempfile

import torch

FORMAT = "birnn"
FORMAT_VERSION = "1"
_KERAS_EXTENSIONS = (".h5", ".hdf5", ".keras")
_MAX_HEADER = 100 * 2**20


def safetensors_header(path: str) -> dict | None:
    """The safetensors JSON header, ``None`` if the file does not start like one.

    Raises:
        ValueError: if it starts like a safetensors file but its header is damaged.
    """
    try:
        size = os.path.getsize(path)
        with open(path, "rb") as f:
            head = f.read(9)
            if len(head) < 9 or head[8:9] != b"{":
                return None
            (length,) = struct.unpack("<Q", head[:8])
            if length > _MAX_HEADER:
                return None
            if length > size - 8:
                raise ValueError(
                    f"Expected {path!r} to be a complete birnn (safetensors) file. Received: "
                    f"a truncated file of {size} bytes, whose header alone needs {length + 8}."
                )
            f.seek(8)
            raw = f.read(length)
    except OSError:
        return None
    try:
        header = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(
            f"Expected {path!r} to be a complete birnn (safetensors) file. Received: a file "
            f"whose header is damaged ({error})."
        ) from None
    return header if isinstance(header, dict) else None


def is_birnn_file(path: str | os.PathLike) -> bool:
    """Whether ``path`` is a file ``Model.save``/``save_weights`` wrote (by its content).

    Raises:
        ValueError: for a safetensors file with a damaged header.
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        return False
    header = safetensors_header(path)
    return header is not None and (header.get("__metadata__") or {}).get("format") == FORMAT


def write(
    filepath: str | os.PathLike,
    layers: list[tuple[str, list[torch.Tensor]]],
    config: str | None,
    compile_config: dict | None,
    birnn_version: str,
    overwrite: bool,
) -> None:
    """Writes a birnn file; see the module docstring.

    Args:
        filepath: the path; not a Keras extension.
        layers: ``(layer name, weights in get_weights() order)`` for every layer.
        config: the model's ``to_json()`` for a model file, ``None`` for a weights file.
        compile_config: the ``compile`` arguments to keep (model files), or ``None``.
        birnn_version: the writing birnn's version.
        overwrite: whether an existing file may be replaced.

    Raises:
        ValueError: for Keras extensions, or an existing file with ``overwrite=False``.
    """
    from safetensors.torch import save_file

    path = os.fspath(filepath)
    if path.lower().endswith(_KERAS_EXTENSIONS):
        raise ValueError(
            "save: birnn writes its own format, not Keras's. Expected a path without a "
            f"Keras extension (.h5, .keras), e.g. 'model.birnn'. Received: {path!r}."
        )
    if os.path.exists(path) and not overwrite:
        raise ValueError(f"save: {path!r} exists. Expected overwrite=True or a new path.")
    tensors: dict[str, torch.Tensor] = {}
    for name, weights in layers:
        for index, weight in enumerate(weights):
            tensors[f"{name}/{index}"] = weight.detach().cpu().contiguous().clone()
    metadata = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "kind": "weights" if config is None else "model",
        "birnn_version": birnn_version,
        "layers": json.dumps([[name, len(weights)] for name, weights in layers]),
    }
    if config is not None:
        metadata["config"] = config
        if compile_config is not None:
            metadata["compile_config"] = json.dumps(compile_config)
    directory = os.path.dirname(os.path.abspath(path))
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=".birnn-", suffix=".tmp")
    os.close(handle)
    try:
        save_file(tensors, temporary, metadata=metadata)
        # mkstemp makes the file private (0600); a saved model gets the mode any new file gets.
        os.chmod(temporary, 0o666 & ~_current_umask())
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)


def _current_umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def read(path: str | os.PathLike) -> tuple[dict[str, str], dict[str, list[torch.Tensor]]]:
    """Reads a birnn file: its metadata and each layer's weights, in order.

    Raises:
        ValueError: if the file is not birnn's format, is truncated or corrupt, or its
            tensors do not match its layer list.
    """
    from safetensors import safe_open

    path = os.fspath(path)
    if not is_birnn_file(path):
        raise ValueError(f"Expected a birnn model or weights file. Received: {path!r}.")
    try:
        with safe_open(path, framework="pt") as f:
            metadata = dict(f.metadata() or {})
            tensors = {key: f.get_tensor(key) for key in f.keys()}
    except Exception as error:  # safetensors raises its own error types
        raise ValueError(
            f"Expected {path!r} to be a complete birnn file. Received: a truncated or "
            f"corrupt file ({type(error).__name__}: {error})."
        ) from None
    if metadata.get("format_version") != FORMAT_VERSION:
        raise ValueError(
            f"Expected a birnn file of format_version {FORMAT_VERSION}. Received: "
            f"{metadata.get('format_version')!r} in {path!r}."
        )
    layout = _layer_list(metadata, path)
    weights = {}
    for name, count in layout:
        keys = [f"{name}/{index}" for index in range(count)]
        missing = [key for key in keys if key not in tensors]
        if missing:
            raise ValueError(
                f"Expected {path!r} to hold the tensors its layer list names. Received: a "
                f"file without {missing[:5]} (corrupt or edited)."
            )
        weights[name] = [tensors.pop(key) for key in keys]
    if tensors:
        raise ValueError(
            f"Expected {path!r} to hold only the weights its layer list names. Received: "
            f"extra tensors {sorted(tensors)[:5]}."
        )
    return metadata, weights


def _layer_list(metadata: dict[str, str], path: str) -> list[tuple[str, int]]:
    """The ``layers`` metadata, ``[[name, weight count], ...]``, or a ValueError."""
    raw = metadata.get("layers")
    try:
        layout = json.loads(raw) if isinstance(raw, str) else None
    except json.JSONDecodeError:
        layout = None
    valid = isinstance(layout, list) and all(
        isinstance(entry, list)
        and len(entry) == 2
        and isinstance(entry[0], str)
        and isinstance(entry[1], int)
        and entry[1] >= 0
        for entry in layout
    )
    if not valid:
        raise ValueError(
            f"Expected the 'layers' metadata of {path!r} to be a JSON list of [layer name, "
            f"weight count] pairs. Received: {raw!r:.100} (corrupt or edited)."
        )
    return [(name, count) for name, count in layout]
