"""Training with ``Sequential.fit`` (Keras's loop and progress bar) and held-out scoring."""

from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np
import torch

from birnn import optimizers
from birnn.demo._data import Chunk, pad_batch
from birnn.demo._metrics import boundary_counts, precision_recall_f1
from birnn.models import Sequential


def arrays(chunks: Sequence[Chunk]) -> tuple[np.ndarray, np.ndarray]:
    """Pads chunks into ``fit``'s arrays: ids ``(n, time)``, 0 = padding, labels ``(n, time, 1)``.

    The tagger's ``Embedding(mask_zero=True)`` masks the padding, so ``fit`` averages the
    loss over the real characters only.
    """
    ids, labels, _ = pad_batch(chunks)
    return ids.numpy(), labels.unsqueeze(-1).numpy()


def evaluate(
    model: Sequential, chunks: Sequence[Chunk], batch_size: int = 256
) -> tuple[dict[str, float | int], list[list[int]]]:
    """Predicts word ends (probability >= 0.5) and scores them against the labels.

    Args:
        model: A tagger from `build_model`.
        chunks: Chunks to score.
        batch_size: Chunks per forward pass.

    Returns:
        A tuple `(metrics, predictions)`: `metrics` holds `tp`, `fp`, `fn`,
        `precision`, `recall` and `f1`; `predictions[i]` is the list of 0/1
        predictions for `chunks[i]`.
    """
    ids, labels, mask = pad_batch(chunks)
    probabilities = model.predict(ids.numpy(), batch_size=batch_size, verbose=0)[..., 0]
    predicted = torch.from_numpy(probabilities) >= 0.5
    counts = boundary_counts(predicted, labels, mask)
    metrics: dict[str, float | int] = dict(counts)
    metrics.update(precision_recall_f1(**counts))
    predictions = [predicted[i, : len(c.chars)].int().tolist() for i, c in enumerate(chunks)]
    return metrics, predictions


def fit(
    model: Sequential,
    train: Sequence[Chunk],
    test: Sequence[Chunk],
    epochs: int,
    batch_size: int,
    learning_rate: float,
    label: str,
    verbose: int = 1,
) -> dict[str, list[float]]:
    """Trains `model` with Adam through ``Sequential.fit``, and scores `test` after each epoch.

    One ``fit`` call per epoch, so the held-out F1 can be recorded between them; the
    optimizer (and its state) persists across the calls, as it does in Keras.

    Args:
        model: A tagger from `build_model`.
        train: Training chunks.
        test: Held-out chunks (``fit``'s ``validation_data``).
        epochs: Passes over `train`.
        batch_size: Chunks per step.
        learning_rate: Adam's step size.
        label: Name printed before each epoch's progress bar.
        verbose: ``fit``'s progress display (0 silent, 1 bar, 2 one line per epoch).

    Returns:
        The history: per-epoch lists `train_loss`, `test_loss`, `test_precision`,
        `test_recall`, `test_f1`, `seconds`.
    """
    x, y = arrays(train)
    validation = arrays(test)
    optimizer = optimizers.Adam(learning_rate=learning_rate)
    model.compile(optimizer=optimizer, loss="binary_crossentropy")
    keys = ("train_loss", "test_loss", "test_precision", "test_recall", "test_f1", "seconds")
    history: dict[str, list[float]] = {k: [] for k in keys}
    for epoch in range(1, epochs + 1):
        if verbose:
            print(f"{label}: epoch {epoch}/{epochs}", flush=True)
        start = time.perf_counter()
        logs = model.fit(
            x, y, batch_size=batch_size, epochs=1, validation_data=validation, verbose=verbose
        ).history
        metrics, _ = evaluate(model, test)
        history["train_loss"].append(logs["loss"][0])
        history["test_loss"].append(logs["val_loss"][0])
        for key in ("precision", "recall", "f1"):
            history[f"test_{key}"].append(float(metrics[key]))
        history["seconds"].append(time.perf_counter() - start)
    return history
