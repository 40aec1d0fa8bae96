"""Which format a file is in, by its content: the one existence check and sniffing rule
for every reader (``load_model``, ``load_weights``, ``read_keras_file``...)."""

from __future__ import annotations

import importlib
import os
from typing import Any

from ._birnn_format import is_birnn_file, safetensors_header


def h5py() -> Any:
    """The ``h5py`` module, imported when a file is first read: it is a fifth of
    ``import birnn``'s time."""
    return importlib.import_module("h5py")


_HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
_ZIP_SIGNATURES = (b"PK\x03\x04", b"PK\x05\x06")


def file_format(path: str | os.PathLike) -> tuple[str | None, str]:
    """The format of the file at ``path``, told by its content, not its name.

    Returns:
        ``("birnn" | "hdf5" | "zip", "")``, or ``(None, why)`` where ``why`` says what the
        path is instead (``"no such file"``, ``"a directory; ..."``, ``"an empty file"``...).

    Raises:
        ValueError: for a safetensors file whose header is damaged.

    Example:
        >>> file_format("no/such/file.h5")
        (None, 'no such file')
    """
    path = os.fspath(path)
    if not os.path.exists(path):
        return None, "no such file"
    if os.path.isdir(path):
        return None, "a directory; TensorFlow SavedModel directories are not supported"
    if os.path.getsize(path) == 0:
        return None, "an empty file"
    if is_birnn_file(path):
        return "birnn", ""
    kind = sniff(path)
    if kind is not None:
        return kind, ""
    if safetensors_header(path) is not None:
        return None, "a safetensors file without birnn's metadata"
    return None, f"whose first bytes {first_bytes(path)!r} are none of these"


def first_bytes(path: str, count: int = 8) -> bytes:
    with open(path, "rb") as f:
        return f.read(count)


def sniff(path: str) -> str | None:
    """``"hdf5"``, ``"zip"`` or ``None``, from the first bytes of the existing file ``path``."""
    head = first_bytes(path)
    if head.startswith(_HDF5_SIGNATURE):
        return "hdf5"
    if head[:4] in _ZIP_SIGNATURES:
        return "zip"
    if h5py().is_hdf5(path):  # An HDF5 file behind a user block.
        return "hdf5"
    return None
