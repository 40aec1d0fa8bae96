"""Draws docs/figures/padded_steps.svg from real layer outputs.

Run ``python docs/figures/padded_steps.py``. One row of six steps, with a hole at step 2
and padding at steps 4 and 5, through a forward LSTM, the same LSTM with go_backwards, and
Bidirectional: the numbers in the boxes are the layers' outputs (one unit), so the picture
shows what the code does.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402

from birnn.layers import LSTM, Bidirectional  # noqa: E402

OUT = Path(__file__).with_suffix(".svg")


def outputs() -> tuple[list[bool], dict[str, list[float]]]:
    torch.manual_seed(3)
    x = torch.randn(1, 6, 2)
    mask = torch.tensor([[True, True, False, True, False, False]])
    forward = LSTM(1, return_sequences=True)
    backward = LSTM(1, return_sequences=True, go_backwards=True)
    both = Bidirectional(LSTM(1, return_sequences=True), merge_mode="sum")
    forward(x), backward(x), both(x)  # build
    both.forward_layer.set_weights(forward.get_weights())
    both.backward_layer.set_weights(backward.get_weights())
    with torch.no_grad():
        rows = {
            "LSTM": forward(x, mask=mask)[0, :, 0],
            # go_backwards returns its outputs in reversed time; flipped here to input order.
            "LSTM(go_backwards=True), flipped": backward(x, mask=mask)[0, :, 0].flip(0),
            "Bidirectional(merge_mode='sum')": both(x, mask=mask)[0, :, 0],
        }
    return mask[0].tolist(), {name: row.tolist() for name, row in rows.items()}


def draw() -> None:
    mask, rows = outputs()
    steps = len(mask)
    fig, ax = plt.subplots(figsize=(9.5, 3.4))
    labels = ["mask", *rows]
    for r, label in enumerate(labels):
        y = len(labels) - 1 - r
        ax.text(-0.6, y, label, ha="right", va="center", fontsize=10, family="monospace")
        for t in range(steps):
            valid = mask[t]
            if label == "mask":
                text, color = ("True" if valid else "False"), ("#c7dcef" if valid else "#eeeeee")
            else:
                value = rows[label][t]
                text = f"{value:+.3f}"
                color = "#fde7c4" if abs(value) > 0 else "#eeeeee"
            ax.add_patch(plt.Rectangle((t - 0.45, y - 0.35), 0.9, 0.7, color=color, ec="#666"))
            ax.text(t, y, text, ha="center", va="center", fontsize=9, family="monospace")
    for t in range(steps):
        ax.text(t, len(labels) - 0.35, f"t={t}", ha="center", va="bottom", fontsize=9)
    ax.set_xlim(-4.2, steps - 0.4)
    ax.set_ylim(-0.5, len(labels) + 0.1)
    ax.axis("off")
    ax.set_title(
        "At a masked step a layer's states carry over and its output repeats its last valid\n"
        "output (0 before the first); Bidirectional, which sets zero_output_for_mask, outputs 0",
        fontsize=10,
    )
    fig.tight_layout()
    fig.savefig(OUT, metadata={"Date": None})
    plt.close(fig)


if __name__ == "__main__":
    draw()
    print(OUT)
