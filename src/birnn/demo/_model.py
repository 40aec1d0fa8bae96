"""The two taggers compared by the demo: forward-only LSTM vs. Bidirectional LSTM."""

from __future__ import annotations

import json
from pathlib import Path

import torch
from torch import nn

from birnn.demo._data import PAD_ID, VOCAB_SIZE
from birnn.layers import LSTM, Bidirectional


def recurrent_layer(units: int, input_dim: int, bidirectional: bool) -> nn.Module:
    """Builds the recurrent layer, returning full sequences and honouring a mask.

    Args:
        units: Hidden size of each LSTM direction.
        input_dim: Width of the input features.
        bidirectional: Whether to wrap the LSTM in `Bidirectional` (concat merge).

    Returns:
        A `birnn` layer called as `layer(x, mask=mask)` that maps
        `(batch, time, input_dim)` to `(batch, time, units)` or
        `(batch, time, 2 * units)`, with its weights already built.
    """
    if bidirectional:
        return Bidirectional(LSTM(units, return_sequences=True), input_shape=(None, input_dim))
    return LSTM(units, return_sequences=True, input_shape=(None, input_dim))


class BoundaryTagger(nn.Module):
    """Embedding -> LSTM (forward-only or bidirectional) -> per-step linear -> logit.

    Args:
        units: Hidden size of each LSTM direction.
        bidirectional: Whether the LSTM reads the chunk in both directions.
        embed_dim: Width of the character embedding.
        vocab_size: Number of character ids, padding included.
    """

    def __init__(
        self, units: int, bidirectional: bool, embed_dim: int = 16, vocab_size: int = VOCAB_SIZE
    ):
        super().__init__()
        self.config = {
            "units": units,
            "bidirectional": bidirectional,
            "embed_dim": embed_dim,
            "vocab_size": vocab_size,
        }
        self.embedding = nn.Embedding(vocab_size, embed_dim, padding_idx=PAD_ID)
        self.rnn = recurrent_layer(units, embed_dim, bidirectional)
        self.head = nn.Linear(units * (2 if bidirectional else 1), 1)

    def forward(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Scores every character.

        Args:
            ids: Int tensor `(batch, time)` of character ids.
            mask: Bool tensor `(batch, time)`, True on real characters.

        Returns:
            Float tensor `(batch, time)` of logits that a word ends at each step.
        """
        features = self.rnn(self.embedding(ids), mask=mask)
        return self.head(features).squeeze(-1)


def count_params(model: nn.Module) -> int:
    """Returns the number of trainable scalars in `model`."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def build_model(
    units: int, bidirectional: bool, embed_dim: int = 16, vocab_size: int = VOCAB_SIZE
) -> BoundaryTagger:
    """Builds a tagger with all its weights created (the LSTM gets its `input_shape`).

    Args:
        units: Hidden size of each LSTM direction.
        bidirectional: Whether the LSTM is wrapped in `Bidirectional`.
        embed_dim: Width of the character embedding.
        vocab_size: Number of character ids, padding included.

    Returns:
        A `BoundaryTagger` ready to hand to an optimizer.
    """
    return BoundaryTagger(units, bidirectional, embed_dim, vocab_size)


def matched_units(forward_units: int, embed_dim: int = 16) -> int:
    """Finds the per-direction size that gives a bidirectional tagger the forward one's budget.

    Args:
        forward_units: Hidden size of the forward-only LSTM.
        embed_dim: Width of the character embedding.

    Returns:
        The bidirectional per-direction size whose parameter count is closest to
        the forward-only tagger's.
    """
    target = count_params(build_model(forward_units, False, embed_dim))
    # Parameters grow monotonically with units, so scan up from 1 and stop once past the target.
    best, best_gap = 1, None
    for units in range(1, forward_units + 1):
        gap = count_params(build_model(units, True, embed_dim)) - target
        if best_gap is None or abs(gap) < abs(best_gap):
            best, best_gap = units, gap
        if gap > 0:
            break
    return best


def save_tagger(model: BoundaryTagger, directory: Path) -> list[Path]:
    """Saves a tagger as `config.json` (hyper-parameters) plus `weights.safetensors`.

    Args:
        model: The tagger to save.
        directory: Folder to write into; created if missing.

    Returns:
        The paths written.
    """
    from safetensors.torch import save_file

    directory.mkdir(parents=True, exist_ok=True)
    config_path = directory / "config.json"
    weights_path = directory / "weights.safetensors"
    config_path.write_text(json.dumps(model.config, indent=2) + "\n")
    weights = {k: v.detach().contiguous() for k, v in model.state_dict().items()}
    save_file(weights, str(weights_path))
    return [config_path, weights_path]


def load_tagger(directory: Path) -> BoundaryTagger:
    """Rebuilds a tagger saved by `save_tagger`.

    Args:
        directory: Folder holding `config.json` and `weights.safetensors`.

    Returns:
        The tagger, in eval mode.
    """
    from safetensors.torch import load_file

    config = json.loads((directory / "config.json").read_text())
    model = build_model(**config)
    model.load_state_dict(load_file(str(directory / "weights.safetensors")))
    return model.eval()
