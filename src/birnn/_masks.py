"""Masks: validation, and the index arithmetic that lets masked sequences run fused.

A mask is a bool tensor ``(batch, time)``; ``True`` marks a valid step. Keras
skips masked steps: the state carries through them unchanged. So a masked
sequence gives the same states as its valid steps packed to the left
(``compact_order``), which a fused kernel can run as right-padded rows.
"""

from __future__ import annotations

import weakref

import torch


def check_mask(
    owner: str, mask: torch.Tensor | None, inputs: torch.Tensor, layout: str = "(batch, time)"
) -> torch.Tensor | None:
    """Validates ``mask`` against ``inputs``' first two axes and returns it (or ``None``).

    Raises:
        ValueError: if ``mask`` is not a bool tensor of shape ``(batch, time)`` on the
            inputs' device.
    """
    if mask is None:
        return None
    if not torch.is_tensor(mask):
        raise ValueError(
            f"{owner}: mask must be a bool tensor of shape {layout}. "
            f"Received: {type(mask).__name__}."
        )
    expected = tuple(inputs.shape[:2])
    if mask.dtype != torch.bool:
        raise ValueError(
            f"{owner}: mask must have dtype torch.bool, shape {expected}. "
            f"Received: dtype {mask.dtype}."
        )
    if tuple(mask.shape) != expected:
        raise ValueError(
            f"{owner}: mask must have shape {layout} = {expected}. "
            f"Received: shape {tuple(mask.shape)}."
        )
    if mask.device != inputs.device:
        raise ValueError(
            f"{owner}: mask must be on the inputs' device {inputs.device}. "
            f"Received: a mask on {mask.device}."
        )
    return mask


def lengths_mask(lengths: torch.Tensor, time: int) -> torch.Tensor:
    """The right-padded mask of ``lengths``: ``True`` at each row's first ``lengths[b]`` steps.

    Args:
        lengths: ``(batch,)`` integer tensor, each in ``[0, time]``.
        time: the padded length.

    Returns:
        bool ``(batch, time)`` on ``lengths``' device.

    Example:
        >>> lengths_mask(torch.tensor([2, 0]), 3)
        tensor([[ True,  True, False],
                [False, False, False]])
    """
    return torch.arange(time, device=lengths.device) < lengths.unsqueeze(1)


def is_right_padded(mask: torch.Tensor) -> bool:
    """Whether each row of ``mask`` has its valid steps first: it never turns valid again
    after a masked step. Reads the mask on the host (call it on CPU, in eager mode).

    Example:
        >>> is_right_padded(torch.tensor([[True, False], [False, False]]))
        True
        >>> is_right_padded(torch.tensor([[False, True]]))
        False
    """
    return mask_layout(mask) != "other"


def mask_layout(mask: torch.Tensor) -> str:
    """``"full"`` when every step of ``mask`` is valid, else ``"right"`` when each row has
    its valid steps first, else ``"other"``. Reads the mask on the host (call it on CPU, in
    eager mode); a call's checks of its one mask read it once.

    Example:
        >>> [mask_layout(torch.tensor(rows)) for rows in ([[1, 1]], [[1, 0]], [[0, 1]])]
        ['full', 'right', 'other']
    """
    if mask.is_inference():  # no version counter to tell an in-place change by
        return _read_layout(mask)
    key = (mask._version, mask.data_ptr())
    last = _LAST_LAYOUT[0]  # read once: another thread may replace it
    if last is not None and last[0]() is mask and last[1] == key:
        return last[2]
    layout = _read_layout(mask)
    _LAST_LAYOUT[0] = (weakref.ref(mask), key, layout)
    return layout


def _read_layout(mask: torch.Tensor) -> str:
    try:
        host = mask.numpy()  # a view: numpy's small reductions cost less than torch's
    except (RuntimeError, TypeError):  # a tensor subclass or transform: torch's own ops
        host = None
    if host is not None:
        full = bool(host.all())
        right = full or not (host[:, 1:] > host[:, :-1]).any()
    else:
        full = bool(mask.all())
        right = full or torch.equal(mask, mask.cummin(dim=1).values)
    return "full" if full else ("right" if right else "other")


# The last mask read by ``mask_layout``: (a weak reference to it, its version, its layout).
_LAST_LAYOUT: list = [None]


def compact_order(mask: torch.Tensor) -> torch.Tensor:
    """Time indices that move each row's valid steps, in order, to the front.

    Args:
        mask: bool ``(batch, time)``.

    Returns:
        ``(batch, time)`` int64 indices: valid positions ascending, then masked ones.

    Example:
        >>> compact_order(torch.tensor([[False, True, False, True]]))
        tensor([[1, 3, 0, 2]])
    """
    time = mask.shape[1]
    positions = torch.arange(time, device=mask.device)
    key = (~mask).long() * time + positions
    return key.argsort(dim=1)


def gather_steps(x: torch.Tensor, index: torch.Tensor, time_major: bool = False) -> torch.Tensor:
    """``x[b, index[b, t]]`` for a batch-major ``x`` ``(batch, time, features)``.

    Args:
        x: ``(batch, time, features)``; a transposed time-major tensor is read in place.
        index: ``(batch, steps)`` integer tensor, each in ``[0, time)``.
        time_major: return ``(steps, batch, features)`` instead.

    Returns:
        ``(batch, steps, features)`` (or ``(steps, batch, features)``), contiguous.

    Example:
        >>> gather_steps(torch.tensor([[[1.], [2.], [3.]]]), torch.tensor([[2, 0]]))[0, :, 0]
        tensor([3., 1.])
    """
    batch, time, features = x.shape
    # Whole rows of the flattened steps: several times faster than gather, forward and backward.
    batch_ids = torch.arange(batch, device=index.device).unsqueeze(1)
    if x.transpose(0, 1).is_contiguous():
        flat, rows = x.transpose(0, 1).reshape(time * batch, features), index * batch + batch_ids
    else:
        flat, rows = x.reshape(batch * time, features), index + time * batch_ids
    if time_major:
        rows = rows.t()
    return flat.index_select(0, rows.reshape(-1)).reshape(*rows.shape, features)


def reverse_valid_steps(x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """Reverses each row's first ``lengths[b]`` time steps and leaves its padding in place.

    Args:
        x: ``(batch, time, features)``.
        lengths: ``(batch,)`` integer tensor, each in ``[0, time]``.

    Returns:
        A tensor like ``x``.

    Example:
        >>> reverse_valid_steps(torch.tensor([[[1.], [2.], [0.]]]), torch.tensor([2]))[0, :, 0]
        tensor([2., 1., 0.])
    """
    time = x.shape[1]
    positions = torch.arange(time, device=x.device).unsqueeze(0)
    lengths = lengths.to(x.device).unsqueeze(1)
    index = torch.where(positions < lengths, lengths - 1 - positions, positions)
    return gather_steps(x, index)
