"""The cost of running a Functional model's graph.

A Functional model ``Input -> Embedding -> Bidirectional(LSTM) -> GlobalMaxPooling1D ->
Dense`` against the same layers called one after the other in a hand-written
``torch.nn.Module`` (the same weights), timed in turn, round after round, with
``bench_bidirectional``'s clock (one thread, CPU time). The workload is a training step:
forward, binary crossentropy, backward, optimizer step. The ratio of the two medians is the
graph's overhead (issue 13 asks for at most 1.05).

    python benchmarks/bench_functional.py            # writes benchmarks/functional.md
    python benchmarks/bench_functional.py --quick    # fewer rounds, writes nothing
"""

from __future__ import annotations

import argparse
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from bench_bidirectional import interleaved_medians  # noqa: E402

from birnn.layers import (  # noqa: E402
    LSTM,
    Bidirectional,
    Dense,
    Embedding,
    GlobalMaxPooling1D,
    Input,
)
from birnn.models import Model  # noqa: E402

SHAPES = [  # (batch, time, vocabulary, embedding, units)
    (32, 100, 2000, 64, 64),
    (64, 50, 2000, 32, 32),
]


def functional_model(vocabulary: int, features: int, units: int) -> Model:
    ids = Input(shape=(None,), dtype="int32")
    x = Embedding(vocabulary, features)(ids)
    x = Bidirectional(LSTM(units, return_sequences=True))(x)
    x = GlobalMaxPooling1D()(x)
    return Model(ids, Dense(1, activation="sigmoid")(x))


class HandWritten(torch.nn.Module):
    """The same layers, called in ``forward`` by hand."""

    def __init__(self, vocabulary: int, features: int, units: int):
        super().__init__()
        self.embed = Embedding(vocabulary, features)
        self.encode = Bidirectional(LSTM(units, return_sequences=True))
        self.pool = GlobalMaxPooling1D()
        self.out = Dense(1, activation="sigmoid")

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        return self.out(self.pool(self.encode(self.embed(ids))))


def training_step(model: torch.nn.Module, ids, targets):
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)

    def step() -> None:
        optimizer.zero_grad(set_to_none=True)
        loss = torch.nn.functional.binary_cross_entropy(model(ids), targets)
        loss.backward()
        optimizer.step()

    return step


def measure(shape, rounds: int, warmup: int) -> dict[str, float]:
    batch, time, vocabulary, features, units = shape
    torch.manual_seed(0)
    ids = torch.randint(1, vocabulary, (batch, time))
    targets = torch.randint(0, 2, (batch, 1)).float()
    graph = functional_model(vocabulary, features, units)
    hand = HandWritten(vocabulary, features, units)
    hand(ids)
    for mine, theirs in zip([hand.embed, hand.encode, hand.pool, hand.out], graph.layers[1:]):
        mine.set_weights(theirs.get_weights())
    steps = {
        "functional": training_step(graph, ids, targets),
        "hand": training_step(hand, ids, targets),
    }
    return interleaved_medians(steps, rounds, warmup)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds, write nothing")
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    rounds, warmup = (8, 2) if args.quick else (args.rounds, 5)
    lines = [
        "| (B, T, vocabulary, F, U) | Functional (ms) | hand-written (ms) | ratio |",
        "|---|---|---|---|",
    ]
    for shape in SHAPES[:1] if args.quick else SHAPES:
        medians = measure(shape, rounds, warmup)
        ratio = medians["functional"] / medians["hand"]
        lines.append(
            f"| {shape} | {medians['functional']:.2f} | {medians['hand']:.2f} | {ratio:.3f} |"
        )
        print(lines[-1], flush=True)
    if not args.quick:
        path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "functional.md")
        with open(path, "w") as f:
            f.write(
                "## Functional graph overhead\n\n"
                "Training step (forward, binary crossentropy, backward, Adam step) of a "
                "Functional `Input -> Embedding -> Bidirectional(LSTM, return_sequences) -> "
                "GlobalMaxPooling1D -> Dense(sigmoid)` model against the same layers called in "
                "a hand-written `torch.nn.Module`; one thread, CPU time, medians of "
                f"{rounds} interleaved rounds (`python benchmarks/bench_functional.py`).\n\n"
            )
            f.write("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
