"""Griffe extension: reads birnn's Keras-style docstring sections as Google-style ones.

Keras writes ``Call arguments:`` (what ``layer(...)``, i.e. ``forward``, takes) and
``Example:``; Griffe's Google parser knows neither, and would render the doctest lines of
an ``Example:`` as Markdown text. The docstrings stay as Keras writes them; the docs read
``Call arguments:`` as a parameters table of its own and ``Example:`` as ``Examples:``.
"""

from __future__ import annotations

import re
from typing import Any

import griffe

_RENAMES = [
    (re.compile(r"^Call arguments:\s*$", re.M), "Other Parameters: Call arguments"),
    (re.compile(r"^Example:\s*$", re.M), "Examples:"),
]


class KerasSections(griffe.Extension):
    def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        if obj.docstring is None:
            return
        value = obj.docstring.value
        for pattern, replacement in _RENAMES:
            value = pattern.sub(replacement, value)
        obj.docstring.value = value
