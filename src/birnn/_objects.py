"""Keras's names for things: the one place for the name and dict lookup rules of the
objects layers and models take by name or config, Keras's snake-case class names and its
dtype names."""

from __future__ import annotations

import re
from typing import Any

import torch

# Keras's dtype names and the torch dtypes they stand for.
DTYPES = {
    "float16": torch.float16,
    "bfloat16": torch.bfloat16,
    "float32": torch.float32,
    "float64": torch.float64,
    "int8": torch.int8,
    "int16": torch.int16,
    "int32": torch.int32,
    "int64": torch.int64,
    "uint8": torch.uint8,
    "bool": torch.bool,
}


def dtype_name(dtype: Any) -> Any:
    """Keras's name of a dtype given as a torch dtype, a name or a Keras 3 ``DTypePolicy``
    dict; anything else as it is.

    Example:
        >>> dtype_name(torch.bfloat16), dtype_name({"class_name": "DTypePolicy",
        ...                                          "config": {"name": "float64"}})
        ('bfloat16', 'float64')
    """
    if isinstance(dtype, torch.dtype):
        return str(dtype).removeprefix("torch.")
    if isinstance(dtype, dict):
        return (dtype.get("config") or {}).get("name", dtype.get("class_name"))
    return dtype


def snake_case(class_name: str) -> str:
    """Keras's snake-case name of a class: default layer names, ``.weights.h5`` keys.

    Example:
        >>> snake_case("SimpleRNNCell"), snake_case("Conv1D"), snake_case("GRU")
        ('simple_rnn_cell', 'conv1d', 'gru')
    """
    name = re.sub(r"\W+", "", class_name)
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    name = re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()
    # Keras prefixes the names of private classes ("_Foo") with "private".
    return "private" + name if name.startswith("_") else name


def serialize_object(obj: Any, module: str) -> dict[str, Any] | None:
    """The dict tf-keras 2.x writes for ``obj`` (``None`` stays ``None``)."""
    if obj is None:
        return None
    return {
        "module": module,
        "class_name": type(obj).__name__,
        "config": obj.get_config(),
        "registered_name": None,
    }


def as_config(identifier: Any) -> dict[str, Any] | None:
    """A name or a serialized Keras object as ``{"class_name", "config"}``; ``None`` for
    anything else (an instance, a callable...).

    Example:
        >>> as_config("adam")
        {'class_name': 'adam', 'config': {}}
    """
    if isinstance(identifier, str):
        return {"class_name": identifier, "config": {}}
    if isinstance(identifier, dict) and "class_name" in identifier:
        return {**identifier, "config": identifier.get("config") or {}}
    return None


def lookup(kind: str, name: Any, table: dict[str, Any], expected: str = "") -> Any:
    """``table[name]``, or a ValueError naming ``kind``, the known names and ``name``.

    Args:
        kind: what is looked up (``"optimizer"``), the error's subject.
        name: the name to look up.
        table: names to entries.
        expected: what else is accepted, e.g. ``" or a callable"``.

    Example:
        >>> lookup("loss", "mse", {"mse": "the mse"})
        'the mse'
    """
    entry = table.get(name) if isinstance(name, str) else None
    if entry is None:
        raise ValueError(f"{kind} must be one of {sorted(table)}{expected}. Received: {name!r}.")
    return entry


def from_config(kind: str, cls: type, config: dict[str, Any]) -> Any:
    """``cls.from_config(config)``, with a ValueError naming ``kind`` for a config that does
    not fit the class."""
    try:
        return cls.from_config(config)
    except TypeError as error:
        raise ValueError(
            f"{kind} {cls.__name__}: unsupported config {config!r} ({error})."
        ) from None


def resolve_object(identifier: Any, kind: str, base: type, classes: dict[str, type]) -> Any:
    """Resolves ``None``, an instance of ``base``, a name, a serialized dict or a callable.

    Args:
        identifier: what the user passed.
        kind: what is resolved (``"regularizer"``), the errors' subject.
        base: the class whose instances are returned as they are.
        classes: names (class names and Keras's snake-case aliases) to classes.

    Raises:
        ValueError: naming ``kind`` and the valid names, for anything else.
    """
    if identifier is None or isinstance(identifier, base):
        return identifier
    config = as_config(identifier)
    if config is not None:
        cls = lookup(kind, config["class_name"], classes, " or None")
        return from_config(kind, cls, config["config"])
    if callable(identifier):
        return identifier
    raise ValueError(f"{kind} must be a name, a dict or a callable. Received: {identifier!r}.")
