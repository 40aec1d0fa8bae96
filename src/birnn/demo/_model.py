"""The two taggers compared by the demo: forward-only LSTM vs. Bidirectional LSTM."""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from birnn.demo._data import VOCAB_SIZE
from birnn.layers import LSTM, Bidirectional, Dense, Embedding
from birnn.models import Sequential, load_model


def build_model(
    units: int, bidirectional: bool, embed_dim: int = 16, vocab_size: int = VOCAB_SIZE
) -> Sequential:
    """Builds a tagger: Embedding -> LSTM (forward or Bidirectional) -> Dense(1, sigmoid) per step.

    The embedding has `mask_zero=True`, so `Sequential` hands the padding mask
    (`ids != 0`) to the recurrent layer as `layer(x, mask=mask)`. All weights
    exist on return (the input shape is given), ready for an optimizer.

    Args:
        units: Hidden size of each LSTM direction.
        bidirectional: Whether the LSTM is wrapped in `Bidirectional` (concat merge).
        embed_dim: Width of the character embedding.
        vocab_size: Number of character ids, padding included.

    Returns:
        A `birnn.models.Sequential` mapping int ids `(batch, time)` to the probability
        `(batch, time, 1)` that a word ends at each step.
    """
    lstm = LSTM(units, return_sequences=True)
    return Sequential(
        [
            Embedding(vocab_size, embed_dim, mask_zero=True, input_shape=(None,)),
            Bidirectional(lstm) if bidirectional else lstm,
            Dense(1, activation="sigmoid"),
        ],
        name="bidirectional_tagger" if bidirectional else "forward_tagger",
    )


def step_probabilities(model: nn.Module, ids: torch.Tensor) -> torch.Tensor:
    """Runs a tagger and drops the trailing unit axis.

    Args:
        model: A tagger from `build_model`.
        ids: Int tensor `(batch, time)` of character ids, 0 for padding.

    Returns:
        Float tensor `(batch, time)`: the probability that a word ends at each step.
    """
    return model(ids).squeeze(-1)


def matched_units(forward_units: int, embed_dim: int = 16) -> int:
    """Finds the per-direction size that gives a bidirectional tagger the forward one's budget.

    Args:
        forward_units: Hidden size of the forward-only LSTM.
        embed_dim: Width of the character embedding.

    Returns:
        The bidirectional per-direction size whose parameter count is closest to
        the forward-only tagger's.
    """
    target = build_model(forward_units, False, embed_dim).count_params()
    best, best_gap = 1, None
    # Parameters grow with units, so scan up from 1 and stop once past the target.
    for units in range(1, forward_units + 1):
        gap = build_model(units, True, embed_dim).count_params() - target
        if best_gap is None or abs(gap) < abs(best_gap):
            best, best_gap = units, gap
        if gap > 0:
            break
    return best


def save_tagger(model: Sequential, path: Path) -> Path:
    """Saves a tagger in birnn's format (one safetensors file with its JSON config).

    Args:
        model: The tagger to save.
        path: File to write, e.g. `demo-output/bidirectional.birnn`; its folder is
            created if missing.

    Returns:
        `path`.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    model.save(path)
    return path


def load_tagger(path: Path) -> Sequential:
    """Reads a tagger written by `save_tagger` (`birnn.models.load_model`), in eval mode."""
    return load_model(path)
