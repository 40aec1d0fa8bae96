"""Keras 3 configs rewritten in Keras 2's form, so one deserializer reads both."""

from __future__ import annotations

from typing import Any


def keras3_to_keras2_config(config: dict[str, Any]) -> dict[str, Any]:
    """Returns ``config`` unchanged (placeholder until the Keras 3 reader lands)."""
    return config
