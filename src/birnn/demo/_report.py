"""Terminal table, re-spaced samples, learning-curve chart and metrics.json."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from birnn.demo._data import Chunk
from birnn.demo._metrics import respace


def metrics_table(results: Mapping[str, Mapping[str, Any]]) -> str:
    """Formats held-out precision/recall/F1 and raw counts, one row per model.

    Args:
        results: Model name to a dict with `params`, `precision`, `recall`,
            `f1`, `tp`, `fp`, `fn`.

    Returns:
        The table as a multi-line string.
    """
    header = f"{'model':<15}{'params':>8}{'precision':>11}{'recall':>8}{'F1':>8}"
    header += f"{'TP':>8}{'FP':>7}{'FN':>7}"
    lines = [header, "-" * len(header)]
    for name, r in results.items():
        lines.append(
            f"{name:<15}{r['params']:>8}{r['precision']:>11.3f}{r['recall']:>8.3f}"
            f"{r['f1']:>8.3f}{r['tp']:>8}{r['fp']:>7}{r['fn']:>7}"
        )
    return "\n".join(lines)


def sample_lines(
    chunks: Sequence[Chunk],
    predictions: Mapping[str, Sequence[Sequence[int]]],
    indices: Sequence[int],
) -> str:
    """Shows held-out chunks re-spaced by each model, under the true spacing.

    Args:
        chunks: Held-out chunks.
        predictions: Model name to per-chunk 0/1 predictions, aligned with `chunks`.
        indices: Which chunks to show.

    Returns:
        A multi-line string.
    """
    width = max(len("truth"), *(len(n) for n in predictions))
    blocks = []
    for i in indices:
        rows = [f"{'truth':<{width}} | {chunks[i].text}"]
        for name, preds in predictions.items():
            rows.append(f"{name:<{width}} | {respace(chunks[i].chars, preds[i])}")
        blocks.append("\n".join(rows))
    return "\n\n".join(blocks)


def pick_samples(chunks: Sequence[Chunk], count: int, seed: int) -> list[int]:
    """Picks `count` held-out chunks that are whole sentences of a readable length.

    Args:
        chunks: Held-out chunks.
        count: How many to pick.
        seed: Seed for the pick.

    Returns:
        Indices into `chunks`, sorted.
    """
    import numpy as np

    good = [
        i
        for i, c in enumerate(chunks)
        if 40 <= len(c.chars) <= 80 and c.text.endswith(".") and c.text[0].isalpha()
    ]
    pool = good if len(good) >= count else list(range(len(chunks)))
    chosen = np.random.default_rng(seed).choice(
        len(pool), size=min(count, len(pool)), replace=False
    )
    return sorted(pool[int(j)] for j in chosen)


def learning_curves_figure(
    histories: Mapping[str, Mapping[str, Sequence[float]]],
    params: Mapping[str, int],
    task: str,
) -> Any:
    """Draws training and held-out loss, and held-out F1, per epoch, one colour per model.

    Args:
        histories: Model name to a history from `fit` (`train_loss`, `test_loss`, `test_f1`).
        params: Model name to its parameter count, shown in the legend (the models are
            compared at the same budget).
        task: The task, in the chart's title.

    Returns:
        A matplotlib figure with two axes.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax_loss, ax_f1) = plt.subplots(1, 2, figsize=(11, 4.5))
    for name, h in histories.items():
        epochs = range(1, len(h["train_loss"]) + 1)
        label = f"{name} ({params[name]:,} params)"
        (line,) = ax_loss.plot(epochs, h["train_loss"], marker="o", label=f"{label}, training")
        ax_loss.plot(
            epochs, h["test_loss"], marker="s", linestyle="--", color=line.get_color(),
            label=f"{label}, held-out",
        )  # fmt: skip
        ax_f1.plot(epochs, h["test_f1"], marker="o", color=line.get_color(), label=label)
    ax_loss.set(title="Loss (binary cross-entropy, valid steps)", xlabel="epoch", ylabel="loss")
    ax_f1.set(title="Held-out word-boundary F1", xlabel="epoch", ylabel="F1", ylim=(0, 1))
    for ax in (ax_loss, ax_f1):
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(f"Forward-only vs Bidirectional LSTM: {task}")
    fig.tight_layout()
    return fig


def plot_learning_curves(
    histories: Mapping[str, Mapping[str, Sequence[float]]],
    params: Mapping[str, int],
    task: str,
    path: Path,
) -> None:
    """Saves `learning_curves_figure` as a PNG at `path`."""
    import matplotlib.pyplot as plt

    fig = learning_curves_figure(histories, params, task)
    fig.savefig(path, dpi=100)
    plt.close(fig)


def write_metrics(payload: Mapping[str, Any], path: Path) -> None:
    """Writes `payload` as indented JSON."""
    path.write_text(json.dumps(payload, indent=2) + "\n")
