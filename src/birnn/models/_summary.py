"""``print_summary``: Keras 2's model summary table."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..layers._layer import count_weights


def readable_memory_size(size: float) -> str:
    """``16.66 KB`` style, as tf-keras prints it."""
    for unit in ("Byte", "KB", "MB", "GB", "TB"):
        if size / 1024 < 1:
            return f"{size:.2f} {unit}"
        size /= 1024
    return f"{size:.2f} PB"


def _print_row(fields: list[Any], positions: list[int], print_fn: Callable) -> None:
    """One table row; long fields wrap onto continuation lines, as Keras wraps them."""
    left = [str(field) for field in fields]
    while any(left):
        line = ""
        for column, text in enumerate(left):
            start = positions[column - 1] if column else 0
            last = column == len(positions) - 1
            space = 0 if last else 2
            cutoff = positions[column] - start - space - (0 if last else 1)
            piece = text[:cutoff]
            if column == 0:
                line += " "
            line += piece + " " * space
            left[column] = text[cutoff:]
            line += " " * (positions[column] - len(line))
        print_fn(line)


def print_summary(
    model: Any,
    rows: list[tuple[str, Any, int]],
    line_length: int | None = None,
    positions: list[float] | None = None,
    print_fn: Callable[[str], Any] | None = None,
) -> None:
    """Prints ``Model: "name"``, one row per layer and the parameter totals.

    Args:
        model: the model (for its name and weights).
        rows: ``(name (Class), output shape, parameter count)`` per layer.
        line_length: total width (65 by default).
        positions: column ends, as fractions of ``line_length`` or absolute.
        print_fn: called with each line (``print`` by default).
    """
    print_fn = print_fn or print
    line_length = line_length or 65
    positions = list(positions or [0.45, 0.85, 1.0])
    if positions[-1] <= 1:
        positions = [int(line_length * p) for p in positions]
    print_fn(f'Model: "{model.name}"')
    print_fn("_" * line_length)
    _print_row(["Layer (type)", "Output Shape", "Param #"], positions, print_fn)
    print_fn("=" * line_length)
    for index, row in enumerate(rows):
        _print_row(list(row), positions, print_fn)
        if index < len(rows) - 1:
            print_fn(" " * line_length)
    print_fn("=" * line_length)
    trainable, frozen = model.trainable_weights, model.non_trainable_weights
    trainable_size = sum(w.numel() * w.element_size() for w in trainable)
    frozen_size = sum(w.numel() * w.element_size() for w in frozen)
    for label, count, size in (
        (
            "Total params",
            count_weights(trainable) + count_weights(frozen),
            trainable_size + frozen_size,
        ),
        ("Trainable params", count_weights(trainable), trainable_size),
        ("Non-trainable params", count_weights(frozen), frozen_size),
    ):
        print_fn(f"{label}: {count} ({readable_memory_size(size)})")
    print_fn("_" * line_length)
