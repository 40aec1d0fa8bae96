"""Measures the cost model of one fused call that ``birnn._buckets`` plans with.

Times a masked ``Bidirectional(LSTM)`` call (training step and inference) at several (rows,
steps), on PyTorch's kernel (birnn's GRU kernel skips the padding itself and runs no buckets),
fits ``time = call + steps * (step + row_step * rows)`` by least squares, and prints the
constants in microseconds, ``row_step`` divided by ``gates * units * (units + features)``.
Run from the repository root (never by pytest), on an otherwise idle machine for more
than one thread::

    python benchmarks/calibrate_buckets.py       # one thread
    python benchmarks/calibrate_buckets.py 2     # two threads (elapsed time)
"""

from __future__ import annotations

import statistics
import sys
import time

import torch

from birnn.layers import LSTM, Bidirectional

FEATURES, UNITS = 64, 128
GRID = [(rows, steps) for rows in (2, 8, 32) for steps in (10, 40, 100)]


def median_us(function, rounds=7):
    # One thread: that thread's CPU time (other load inflates it little); more: elapsed time.
    clock = time.thread_time if torch.get_num_threads() == 1 else time.perf_counter
    function()
    times = []
    for _ in range(rounds):
        start = clock()
        function()
        times.append(clock() - start)
    return statistics.median(times) * 1e6


def fit(samples):
    """Least squares for (call, step, row_step) from ((rows, steps), microseconds)."""
    design = torch.tensor([[1.0, steps, steps * rows] for (rows, steps), _ in samples])
    target = torch.tensor([[us] for _, us in samples])
    return torch.linalg.lstsq(design.double(), target.double()).solution.flatten().tolist()


def main():
    torch.set_num_threads(int(sys.argv[1]) if len(sys.argv) > 1 else 1)
    for name, layer_class, gates in (("LSTM", LSTM, 4),):
        layer = Bidirectional(layer_class(UNITS, return_sequences=True))
        layer.build((None, None, FEATURES))
        for mode in ("training", "inference"):
            samples = []
            for rows, steps in GRID:
                x = torch.randn(rows, steps, FEATURES)
                mask = torch.ones(rows, steps, dtype=torch.bool)
                mask[-1, steps // 2 :] = False

                def call(x=x, mask=mask, layer=layer, mode=mode):
                    if mode == "training":
                        layer(x, mask=mask).sum().backward()
                        layer.zero_grad()
                    else:
                        with torch.no_grad():
                            layer(x, mask=mask)

                samples.append(((rows, steps), median_us(call)))
            call_us, step_us, row_step_us = fit(samples)
            scale = gates * UNITS * (UNITS + FEATURES)
            print(
                f"{name} {mode}: call={call_us:.0f} us, step={step_us:.1f} us, "
                f"row_step={row_step_us:.3f} us = {row_step_us / scale:.3e} * gates*U*(U+F)"
            )


if __name__ == "__main__":
    main()
