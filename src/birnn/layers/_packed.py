"""``PackedSequence`` inputs for the recurrent layers, as ``torch.nn.LSTM`` takes them: the
sequences are padded, their lengths become a right-padded mask, and the sequence outputs
are packed back with the inputs' own order (``batch_sizes``, ``sorted_indices``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence

from .._masks import lengths_mask


def packed_input_shape(inputs: PackedSequence) -> tuple:
    """The input shape a layer is built for from a ``PackedSequence``: only the features
    are known."""
    return (None, None, inputs.data.shape[-1])


def call_packed(
    owner: str,
    forward: Callable,
    inputs: PackedSequence,
    mask: Any,
    time_major: bool,
    sequence_outputs: int,
    **kwargs: Any,
) -> Any:
    """Calls ``forward`` on the padded sequences and a mask of their lengths; packs the
    first ``sequence_outputs`` outputs (sequences) back like ``inputs``.

    Args:
        owner: the layer, for errors.
        forward: the layer's ``forward(inputs, mask=..., **kwargs)``.
        inputs: the packed sequences.
        mask: must be ``None``: the lengths are the mask.
        time_major: ``forward`` takes and returns ``(time, batch, ...)``.
        sequence_outputs: how many of the outputs are sequences (0 when the layer returns
            only the last step).

    Raises:
        ValueError: if a mask is given too.
    """
    if mask is not None:
        raise ValueError(
            f"{owner}: mask must be None when inputs is a PackedSequence (its lengths are the "
            f"mask). Received: mask of type {type(mask).__name__}."
        )
    padded, lengths = pad_packed_sequence(inputs, batch_first=True)
    valid = lengths_mask(lengths, padded.shape[1]).to(padded.device)
    if time_major:
        padded, valid = padded.transpose(0, 1), valid.t()
    result = forward(padded, mask=valid, **kwargs)
    if not sequence_outputs:
        return result

    def pack(sequences: torch.Tensor) -> PackedSequence:
        return _pack_like(sequences.transpose(0, 1) if time_major else sequences, lengths, inputs)

    if isinstance(result, (list, tuple)):
        return [pack(r) for r in result[:sequence_outputs]] + list(result[sequence_outputs:])
    return pack(result)


def _pack_like(sequences: torch.Tensor, lengths: torch.Tensor, like: PackedSequence):
    """Batch-major ``sequences`` packed in ``like``'s order and batch sizes."""
    if like.sorted_indices is not None:
        order = like.sorted_indices
        sequences = sequences.index_select(0, order.to(sequences.device))
        lengths = lengths.index_select(0, order.to(lengths.device))
    data = pack_padded_sequence(sequences, lengths, batch_first=True).data
    return PackedSequence(data, like.batch_sizes, like.sorted_indices, like.unsorted_indices)
