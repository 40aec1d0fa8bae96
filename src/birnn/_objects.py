"""Resolving and serializing the small Keras objects layers take by name or dict
(regularizers, constraints): one place for the lookup rules and their errors."""

from __future__ import annotations

from typing import Any


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


def resolve_object(identifier: Any, kind: str, base: type, classes: dict[str, type]) -> Any:
    """Resolves ``None``, an instance of ``base``, a name, a serialized dict or a callable.

    Raises:
        ValueError: naming ``kind`` and the valid class names, for anything else.
    """
    if identifier is None or isinstance(identifier, base):
        return identifier
    if isinstance(identifier, str):
        identifier = {"class_name": identifier, "config": {}}
    if isinstance(identifier, dict):
        cls = classes.get(identifier.get("class_name"))
        if cls is None:
            names = sorted({c.__name__ for c in classes.values()})
            raise ValueError(
                f"{kind} must be one of {names} or None. "
                f"Received: {identifier.get('class_name')!r}."
            )
        try:
            return cls.from_config(identifier.get("config") or {})
        except TypeError as error:
            raise ValueError(f"{kind} {identifier!r} has an unsupported config: {error}.") from None
    if callable(identifier):
        return identifier
    raise ValueError(f"{kind} must be a name, a dict or a callable. Received: {identifier!r}.")
