"""Length buckets: a masked batch run as a few calls, each cut to its own longest row.

A padded batch costs a fused kernel every step of its longest row for every row.
When lengths differ a lot (sentences), sorting the rows by length and running
2-4 groups of rows ("buckets"), each only as many steps as its longest row, skips
most of the padding. Each call also costs a fixed overhead and a per-step
overhead, so whether and where to split is decided by a cost model of a call:

    cost(rows, steps) = call + steps * (step + row_step * rows)

with constants measured on CPU (``benchmarks/calibrate_buckets.py``), and a
small dynamic program over the sorted lengths picks the cheapest split. This
module plans and reassembles; running a bucket is the caller's function.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np
import torch

from ._masks import is_right_padded

MAX_BUCKETS = 4
# Split only when the model predicts at least this gain: the model is approximate, and a
# split must never cost more than the single call.
_MIN_GAIN = 0.1


@dataclasses.dataclass(frozen=True)
class CostModel:
    """Cost of one fused call: ``call + steps * (step + row_step * rows)``."""

    call: float
    step: float
    row_step: float = 1.0

    def cost(self, rows: int, steps: int) -> float:
        return self.call + steps * (self.step + self.row_step * rows)


# Measured with benchmarks/calibrate_buckets.py on a 2-core x86 CPU (AVX-512), one thread
# (medians of three runs, 2026-11-28, after the small-call work made a call cheaper):
# training -> (call us, step us, row_step us per gates * units * (units + features)).
# Only PyTorch's kernels run in buckets: birnn's GRU kernel skips the padding itself.
_MEASURED = {
    True: (1122.0, 2.5, 1.52e-4),
    # Inference measured (375, 1.1, 4.92e-5) at 128 units; at 256 the per-step weight
    # traffic makes small buckets cost more than the linear model says (B=8, T=50: 1.14-1.23x
    # the single call), so inference keeps the earlier, larger fixed cost.
    False: (1082.0, 4.1, 4.82e-5),
}
# With more than one intra-op thread, the kernels do their row work (the GEMMs) about
# 1.6-1.8x faster but not their fixed costs per call and per step, so buckets pay less:
# measured with two threads (elapsed time) on the same machine; inference keeps the
# one-thread fixed call cost, as above.
_MEASURED_THREADS = {
    True: (1194.0, 11.6, 8.47e-5),
    False: (1082.0, 6.0, 2.70e-5),
}
_GATES = {"LSTM": 4, "GRU": 3, "RNN_TANH": 1, "RNN_RELU": 1}
# Below this many rows a split cannot pay for the planning itself.
_MIN_ROWS = 8


def cost_model(training: bool, mode: str, units: int, features: int) -> CostModel:
    """The measured cost of one call of PyTorch's fused kernel in ``mode``, with the current
    number of intra-op threads (one, or more).

    Example:
        >>> model = cost_model(True, "LSTM", 128, 64)
        >>> model.cost(32, 100) > model.cost(32, 50) + model.cost(0, 0)
        True
    """
    threaded = _MEASURED_THREADS if torch.get_num_threads() > 1 else _MEASURED
    call, step, per_weight = threaded[training]
    return CostModel(call, step, per_weight * _GATES[mode] * units * (units + features))


def forward_ad_active() -> bool:
    """Whether forward-mode AD is on (inside ``torch.autograd.forward_ad.dual_level()``)."""
    return getattr(torch.autograd.forward_ad, "_current_level", -1) >= 0


def buckets_for(
    x: torch.Tensor, mask: torch.Tensor | None, model_args: tuple
) -> list[Bucket] | None:
    """The buckets a masked call should run in, or ``None`` for one call.

    Only right-padded CPU masks of at least ``_MIN_ROWS`` rows are split, in eager mode (a
    tracer or exporter would bake the lengths in) and outside functorch transforms and
    forward-mode AD (``_Assemble`` implements neither); ``model_args`` are ``cost_model``'s.
    """
    # Tracing first: a tracer or exporter must not meet a condition on the batch size.
    if torch.jit.is_tracing() or torch.compiler.is_compiling() or torch.compiler.is_exporting():
        return None
    if torch._C._are_functorch_transforms_active() or forward_ad_active():
        return None
    if mask is None or mask.device.type != "cpu" or mask.shape[0] < _MIN_ROWS:
        return None
    if not is_right_padded(mask):
        return None  # left padding or holes: one call
    return plan_buckets(mask.sum(dim=1), mask.shape[1], cost_model(*model_args))


@dataclasses.dataclass(frozen=True)
class Bucket:
    """Rows (indices into the batch) run together for their first ``steps`` steps."""

    rows: torch.Tensor
    steps: int


def plan_buckets(lengths: torch.Tensor, time: int, model: CostModel) -> list[Bucket] | None:
    """The cheapest split of a right-padded batch into buckets, or ``None`` for one call.

    Rows of length 0 form a bucket of 0 steps (no call). The split is kept only when the
    model predicts it at least ``_MIN_GAIN`` cheaper than one call over all ``time`` steps.

    Args:
        lengths: ``(batch,)`` integer CPU tensor, each in ``[0, time]``.
        time: the padded length.
        model: the cost of one call.

    Returns:
        The buckets, longest first, or ``None``.

    Example:
        >>> model = CostModel(call=200.0, step=5.0)
        >>> buckets = plan_buckets(torch.tensor([100, 3, 4, 2] * 8), 100, model)
        >>> [(len(b.rows), b.steps) for b in buckets]
        [(8, 100), (24, 4)]
    """
    order = torch.argsort(lengths, descending=True, stable=True)
    sorted_lengths = lengths[order].tolist()
    batch = len(sorted_lengths)
    empty = sum(1 for length in sorted_lengths if length == 0)
    rows = batch - empty
    if rows == 0:
        return None
    # cost[i, j - 1]: one bucket of sorted rows i to j - 1 (its steps: row i's length).
    steps = np.asarray(sorted_lengths[:rows], dtype=np.float64)[:, None]
    starts, stops = np.arange(rows)[:, None], np.arange(1, rows + 1)[None, :]
    cost = model.call + steps * (model.step + model.row_step * (stops - starts))
    cost[stops <= starts] = np.inf
    # best[k][j]: cheapest cost of the first j sorted rows in k buckets; cut[k - 1][j - 1]:
    # the first row of its last bucket (the first such row on ties).
    best = [np.concatenate([[0.0], np.full(rows, np.inf)])]
    cut = []
    for _ in range(MAX_BUCKETS):
        total = best[-1][:rows, None] + cost
        cut.append(total.argmin(axis=0))
        best.append(np.concatenate([[np.inf], total.min(axis=0)]))
    count = 1 + int(np.argmin([best[k][rows] for k in range(1, MAX_BUCKETS + 1)]))
    single = model.cost(batch, time)
    if best[count][rows] > (1.0 - _MIN_GAIN) * single:
        return None
    bounds = [rows]
    for k in range(count, 0, -1):
        bounds.append(int(cut[k - 1][bounds[-1] - 1]))
    bounds.reverse()
    buckets = [
        Bucket(order[start:stop], sorted_lengths[start])
        for start, stop in zip(bounds[:-1], bounds[1:])
    ]
    if empty:
        buckets.append(Bucket(order[rows:], 0))
    return buckets


RunBucket = Callable[
    [torch.Tensor, torch.Tensor, list[list[torch.Tensor] | None]],
    tuple[torch.Tensor, list[list[torch.Tensor] | None]],
]


def run_buckets(
    buckets: list[Bucket],
    run_bucket: RunBucket,
    x: torch.Tensor,
    mask: torch.Tensor,
    states: list[list[torch.Tensor] | None],
    return_sequences: bool,
    repeat_last: bool,
) -> tuple[torch.Tensor, list[list[torch.Tensor] | None]]:
    """Runs each bucket and puts its rows back in batch order.

    Rows without a valid step output zeros and keep their initial states.

    Args:
        buckets: from ``plan_buckets``.
        run_bucket: ``(x_rows (rows, steps, features), mask_rows, states_rows) -> (outputs,
            final_states)``, where ``states_rows`` and ``final_states`` hold each direction's
            states of those rows (``final_states`` may hold ``None`` for each direction when
            the caller does not need them), and ``outputs`` is ``(rows, steps, width)`` or
            ``(rows, width)``.
        x: ``(batch, time, features)``.
        mask: right-padded bool ``(batch, time)``.
        states: each direction's initial states, each ``(batch, units)``, or ``None`` (zeros).
        return_sequences: ``outputs`` are per step.
        repeat_last: the steps after a bucket's last one repeat its output (Keras's output at
            a masked step is the previous one), rather than being 0.

    Returns:
        ``(outputs, final_states)`` of the whole batch, as ``run_bucket`` returns them
        (``None`` for each direction's states when ``run_bucket`` returns ``None``).

    Example:
        >>> def run_bucket(x, mask, states):  # a running sum over the valid steps
        ...     return (x * mask.unsqueeze(-1)).cumsum(1), states
        >>> x, mask = torch.ones(2, 3, 1), torch.tensor([[True] * 3, [True, False, False]])
        >>> buckets = [Bucket(torch.tensor([0]), 3), Bucket(torch.tensor([1]), 1)]
        >>> run_buckets(buckets, run_bucket, x, mask, [], True, True)[0][..., 0]
        tensor([[1., 2., 3.],
                [1., 1., 1.]])
    """
    time = x.shape[1]
    running = [bucket for bucket in buckets if bucket.steps > 0]
    outputs, finals = [], []
    for bucket in running:
        rows, steps = bucket.rows, bucket.steps
        x_rows = x.index_select(0, rows)[:, :steps]
        mask_rows = mask.index_select(0, rows)[:, :steps]
        output, final = run_bucket(x_rows, mask_rows, _rows_of(states, rows))
        outputs.append(output)
        finals.append(final)
    layout = _Layout(
        [bucket.rows for bucket in running],
        [bucket.steps for bucket in running],
        x.shape[0],
        time,
        return_sequences,
        repeat_last,
    )
    output = _Assemble.apply(layout, *outputs)
    if any(direction is None for final in finals for direction in final):
        return output, [None] * len(finals[0])  # the caller did not ask for the states

    order = list(layout.rows)
    for bucket in buckets:
        if bucket.steps == 0:  # outputs stay 0; the states are the initial ones
            given = _rows_of(states, bucket.rows)
            finals.append(
                [
                    [s.new_zeros((len(bucket.rows),) + s.shape[1:]) for s in like]
                    if direction is None
                    else direction
                    for direction, like in zip(given, finals[0])
                ]
            )
            order.append(bucket.rows)
    inverse = torch.argsort(torch.cat(order))
    final_states = [
        [torch.cat(parts).index_select(0, inverse) for parts in zip(*direction_finals)]
        for direction_finals in zip(*finals)
    ]
    return output, final_states


@dataclasses.dataclass(frozen=True)
class _Layout:
    """Where each running bucket's outputs go in the batch's (``_Assemble``)."""

    rows: list[torch.Tensor]
    steps: list[int]
    batch: int
    time: int
    return_sequences: bool
    repeat_last: bool


class _Assemble(torch.autograd.Function):
    """The buckets' outputs written into one zero tensor of the whole batch.

    Autograd's own in-place writes would clone the whole gradient once per bucket in the
    backward; this one reads each bucket's rows and steps of it.
    """

    @staticmethod
    def forward(ctx, layout: _Layout, *outputs):
        ctx.layout = layout
        first = outputs[0]
        if layout.return_sequences:
            shape = (layout.batch, layout.time, first.shape[-1])
        else:
            shape = (layout.batch,) + tuple(first.shape[1:])
        result = first.new_zeros(shape)
        for rows, steps, output in zip(layout.rows, layout.steps, outputs):
            if not layout.return_sequences:
                result.index_copy_(0, rows, output)
                continue
            result[:, :steps].index_copy_(0, rows, output)
            if layout.repeat_last and steps < layout.time:
                tail = output[:, -1:].expand(-1, layout.time - steps, -1)
                result[:, steps:].index_copy_(0, rows, tail)
        return result

    @staticmethod
    def backward(ctx, grad):
        layout = ctx.layout
        grads = []
        for rows, steps in zip(layout.rows, layout.steps):
            if not layout.return_sequences:
                grads.append(grad.index_select(0, rows))
                continue
            bucket_grad = grad[:, :steps].index_select(0, rows)
            if layout.repeat_last and steps < layout.time:
                tail = grad[:, steps:].index_select(0, rows).sum(dim=1)
                bucket_grad = torch.cat(
                    [bucket_grad[:, :-1], bucket_grad[:, -1:] + tail[:, None]], 1
                )
            grads.append(bucket_grad)
        return (None, *grads)


def _rows_of(states, rows: torch.Tensor):
    """Each direction's states (or ``None``: zeros) of ``rows``."""
    return [
        None if direction is None else [s.index_select(0, rows) for s in direction]
        for direction in states
    ]
