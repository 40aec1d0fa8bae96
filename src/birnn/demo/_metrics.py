"""Word-boundary precision, recall and F1, and re-spacing text from predictions."""

from __future__ import annotations

from collections.abc import Sequence

import torch


def boundary_counts(
    predicted: torch.Tensor, target: torch.Tensor, mask: torch.Tensor
) -> dict[str, int]:
    """Counts true positives, false positives and false negatives over valid steps.

    Args:
        predicted: Bool or 0/1 tensor `(batch, time)`: predicted word ends.
        target: 0/1 tensor of the same shape: true word ends.
        mask: Bool tensor of the same shape; False steps (padding) are ignored.

    Returns:
        A dict with int entries `"tp"`, `"fp"`, `"fn"`.

    Example:

    >>> p = torch.tensor([[1, 0, 1, 1]])
    >>> t = torch.tensor([[1, 1, 0, 1]])
    >>> m = torch.tensor([[True, True, True, False]])
    >>> boundary_counts(p, t, m)
    {'tp': 1, 'fp': 1, 'fn': 1}
    """
    p = predicted.bool() & mask
    t = target.bool() & mask
    return {
        "tp": int((p & t).sum()),
        "fp": int((p & ~t).sum()),
        "fn": int((~p & t).sum()),
    }


def precision_recall_f1(tp: int, fp: int, fn: int) -> dict[str, float]:
    """Computes precision, recall and F1 from counts (0.0 where undefined).

    Args:
        tp: True positives.
        fp: False positives.
        fn: False negatives.

    Returns:
        A dict with float entries `"precision"`, `"recall"`, `"f1"`.

    Example:

    >>> precision_recall_f1(tp=6, fp=2, fn=4)
    {'precision': 0.75, 'recall': 0.6, 'f1': 0.6666666666666666}
    """
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0
    return {"precision": precision, "recall": recall, "f1": f1}


def respace(chars: str, boundaries: Sequence[int | bool]) -> str:
    """Puts a space after every character marked as a word end (except the last).

    Args:
        chars: Text without spaces.
        boundaries: One flag per character.

    Returns:
        The re-spaced text.

    Example:

    >>> respace("tobe,or", [0, 1, 0, 0, 1, 0, 1])
    'to be, or'
    """
    out = []
    for i, (c, b) in enumerate(zip(chars, boundaries, strict=True)):
        out.append(c)
        if b and i < len(chars) - 1:
            out.append(" ")
    return "".join(out)
