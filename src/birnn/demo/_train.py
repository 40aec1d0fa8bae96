"""Training loop, evaluation, and a minimal progress bar."""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from typing import TextIO

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from birnn.demo._data import Chunk, pad_batch
from birnn.demo._metrics import boundary_counts, precision_recall_f1
from birnn.demo._model import step_logits


class ProgressBar:
    """A one-line progress bar redrawn in place on a text stream.

    Args:
        total: Number of steps in the run.
        label: Text shown before the bar.
        stream: Where to draw; stderr by default, so stdout stays clean.
        width: Characters in the bar itself.
    """

    def __init__(self, total: int, label: str, stream: TextIO | None = None, width: int = 24):
        self.total = max(total, 1)
        self.label = label
        self.stream = stream if stream is not None else sys.stderr
        self.width = width
        self.start = time.perf_counter()
        self.drawn_at = -1.0
        self.done = 0

    def update(self, steps: int = 1, **values: float) -> None:
        """Advances the bar and redraws it, with `values` shown after it."""
        self.done = min(self.done + steps, self.total)
        now = time.perf_counter()
        # At most 10 redraws a second, so logs of non-terminal runs stay short.
        if self.done < self.total and now - self.drawn_at < 0.1:
            return
        self.drawn_at = now
        filled = self.width * self.done // self.total
        bar = "#" * filled + "." * (self.width - filled)
        extra = " ".join(f"{k} {v:.4f}" for k, v in values.items())
        elapsed = now - self.start
        self.stream.write(
            f"\r{self.label} [{bar}] {self.done}/{self.total} {elapsed:5.1f}s {extra}"
        )
        self.stream.flush()

    def close(self) -> None:
        """Ends the bar's line."""
        self.stream.write("\n")
        self.stream.flush()


def make_batches(
    chunks: Sequence[Chunk], batch_size: int, rng: np.random.Generator | None = None
) -> list[list[Chunk]]:
    """Groups chunks of similar length into batches, so little time is spent on padding.

    Args:
        chunks: Chunks to batch.
        batch_size: Chunks per batch (the last one may be smaller).
        rng: If given, chunks and batch order are shuffled with it; otherwise
            batches come sorted by length.

    Returns:
        A list of batches, each a list of chunks.
    """
    order = np.arange(len(chunks)) if rng is None else rng.permutation(len(chunks))
    # Sort within pools of a few batches: near-equal lengths per batch, yet still shuffled.
    pool = len(chunks) if rng is None else batch_size * 16
    batches = []
    for start in range(0, len(order), pool):
        part = sorted(order[start : start + pool], key=lambda i: len(chunks[i].chars))
        batches += [
            [chunks[i] for i in part[b : b + batch_size]] for b in range(0, len(part), batch_size)
        ]
    if rng is not None:
        batches = [batches[i] for i in rng.permutation(len(batches))]
    return batches


def masked_bce(logits: torch.Tensor, labels: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Binary cross-entropy with logits, averaged over the valid (unmasked) steps only.

    Args:
        logits: Float tensor `(batch, time)`.
        labels: 0/1 float tensor of the same shape.
        mask: Bool tensor of the same shape.

    Returns:
        A scalar tensor.
    """
    return F.binary_cross_entropy_with_logits(logits[mask], labels[mask])


@torch.no_grad()
def evaluate(
    model: nn.Module, chunks: Sequence[Chunk], batch_size: int = 256
) -> tuple[dict[str, float | int], list[list[int]]]:
    """Predicts word ends (probability >= 0.5) and scores them against the labels.

    Args:
        model: A tagger from `build_model`.
        chunks: Chunks to score.
        batch_size: Chunks per forward pass.

    Returns:
        A tuple `(metrics, predictions)`: `metrics` holds `tp`, `fp`, `fn`,
        `precision`, `recall`, `f1` and `loss`; `predictions[i]` is the list of
        0/1 predictions for `chunks[i]`.
    """
    was_training = model.training
    model.eval()
    index = {id(c): i for i, c in enumerate(chunks)}
    predictions: list[list[int]] = [[] for _ in chunks]
    counts = {"tp": 0, "fp": 0, "fn": 0}
    loss_sum, steps = 0.0, 0
    for batch in make_batches(chunks, batch_size):
        ids, labels, mask = pad_batch(batch)
        logits = step_logits(model, ids)
        predicted = logits >= 0.0  # sigmoid(logit) >= 0.5
        for key, value in boundary_counts(predicted, labels, mask).items():
            counts[key] += value
        n = int(mask.sum())
        loss_sum += float(masked_bce(logits, labels, mask)) * n
        steps += n
        for row, chunk in enumerate(batch):
            predictions[index[id(chunk)]] = predicted[row, : len(chunk.chars)].int().tolist()
    model.train(was_training)
    metrics: dict[str, float | int] = dict(counts)
    metrics.update(precision_recall_f1(**counts))
    metrics["loss"] = loss_sum / max(steps, 1)
    return metrics, predictions


def fit(
    model: nn.Module,
    train: Sequence[Chunk],
    test: Sequence[Chunk],
    epochs: int,
    batch_size: int,
    learning_rate: float,
    seed: int,
    label: str,
) -> dict[str, list[float]]:
    """Trains `model` with Adam and scores it on `test` after every epoch.

    Args:
        model: A tagger from `build_model`.
        train: Training chunks.
        test: Held-out chunks.
        epochs: Passes over `train`.
        batch_size: Chunks per step.
        learning_rate: Adam's step size.
        seed: Seed for batch shuffling.
        label: Name shown on the progress bar.

    Returns:
        The history: per-epoch lists `train_loss`, `test_loss`, `test_precision`,
        `test_recall`, `test_f1`, `seconds`.
    """
    rng = np.random.default_rng(seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=learning_rate)
    keys = ("train_loss", "test_loss", "test_precision", "test_recall", "test_f1", "seconds")
    history: dict[str, list[float]] = {k: [] for k in keys}
    for epoch in range(1, epochs + 1):
        model.train()
        start = time.perf_counter()
        batches = make_batches(train, batch_size, rng)
        bar = ProgressBar(len(batches), f"{label} epoch {epoch}/{epochs}")
        loss_sum, steps = 0.0, 0
        for batch in batches:
            ids, labels, mask = pad_batch(batch)
            loss = masked_bce(step_logits(model, ids), labels, mask)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            n = int(mask.sum())
            loss_sum += loss.item() * n
            steps += n
            bar.update(loss=loss_sum / steps)
        metrics, _ = evaluate(model, test)
        bar.update(0, loss=loss_sum / steps, test_f1=float(metrics["f1"]))
        bar.close()
        history["train_loss"].append(loss_sum / steps)
        history["test_loss"].append(float(metrics["loss"]))
        history["test_precision"].append(float(metrics["precision"]))
        history["test_recall"].append(float(metrics["recall"]))
        history["test_f1"].append(float(metrics["f1"]))
        history["seconds"].append(time.perf_counter() - start)
    return history
