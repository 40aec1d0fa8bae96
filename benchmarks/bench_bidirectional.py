"""Times birnn's ``Bidirectional`` against raw PyTorch, Keras 3 (torch backend) and tf-keras 2.

Run from the repository root (never by pytest)::

    python benchmarks/bench_bidirectional.py            # full run, writes benchmarks/results.*
    python benchmarks/bench_bidirectional.py --quick    # one shape, a few rounds, no files

The Keras 3 and tf-keras columns appear when ``keras`` (3.x) and ``tf_keras`` import; install
them into a separate virtual environment, never the project's (see ``benchmarks/README.md``).

What is timed, for Bidirectional LSTM and GRU with ``return_sequences=True``:

* a training step: forward, ``sum()`` of the output as the loss, backward, zero the gradients;
* inference: forward under ``torch.no_grad()`` (``training=False`` in tf-keras).

Unmasked inputs, and right-padded variable-length ones (lengths uniform in ``[T/2, T]``): birnn
takes the mask, raw PyTorch takes packed sequences, the Keras versions take the mask. All
contenders of one configuration run in the same process in turn, round after round, and each
reports the median of its rounds; every ratio is of two such medians.

The contenders run in a new (seeded) order each round: a call right after raw PyTorch's packed
sequences runs about 2 ms slower at B=16, T=200, whichever contender it is (that step leaves
the allocator and caches in a state that costs the next one), so a fixed order charges one
contender that cost every round.

Before each timed call, Python's cyclic garbage collector is run, untimed, over its two young
generations (``gc.collect(1)``). Otherwise a call that allocates many Python objects (birnn's
steps make a tensor view each) collects, at its first young-generation collection, the cyclic
garbage the previous contender left: TensorFlow's step leaves about 840 objects, which cost the
next birnn call about 2 ms. Each call still pays for the collections its own allocations
trigger.

Timings use CPU time by default (``--clock wall`` for elapsed time): with one thread
(``--threads 1``, the default) that is the step's own compute, which other load on a shared
machine inflates far less than wall time. It is the calling thread's CPU time for the torch
contenders (one thread runs all of a torch step, backward included) and the process's for
tf-keras (whose work runs on TensorFlow's threads); with more threads, the process's.

The script re-runs itself with glibc's malloc told to keep freed memory
(``MALLOC_MMAP_THRESHOLD_``, ``MALLOC_TRIM_THRESHOLD_``): otherwise whether a step's large
tensors come with fresh, page-faulting memory depends on the allocator's history, and those
faults, which come and go from one run to the next, swamp the differences measured.

Memory: each (configuration, contender) runs in a fresh subprocess, with glibc's mmap threshold
pinned at 64 KiB so that every tensor's pages are mapped for it and unmapped when it is freed;
after a warm-up step on a tiny batch through the same code (8 rows, padded for the masked
contenders, so that every op of the path has run once: the first call of an op pages in its
code), the peak-RSS increase over one full training step (``VmHWM``, reset just before the
step, minus the RSS before it) is the step's peak memory. (A second full step would undercount
implementations that allocate many small tensors, which glibc's heap keeps between steps.)
"""

from __future__ import annotations

import argparse
import datetime
import gc
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "torch")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import torch  # noqa: E402
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence  # noqa: E402

from birnn import layers as birnn_layers  # noqa: E402

SHAPES = [(32, 100, 64, 128), (16, 200, 32, 64), (8, 50, 128, 256)]  # (B, T, F, U)
MASK_SHAPES = [(32, 100, 64, 128), (64, 60, 100, 128)]
MASK_SEEDS = (0, 1, 2)
SMALL_SHAPES = [(1, 10, 16, 32), (2, 15, 32, 32), (4, 20, 64, 64), (1, 20, 64, 64), (4, 10, 16, 64)]
CELLS = ("LSTM", "GRU")
MERGE_MODES = ("concat", "sum", "mul", "ave", None)
HERE = Path(__file__).resolve().parent
# glibc: serve every allocation up to 32 MiB from the heap and never hand freed memory back.
MALLOC_REUSE = {"MALLOC_MMAP_THRESHOLD_": str(32 * 2**20), "MALLOC_TRIM_THRESHOLD_": str(2**30)}


# -- optional peers -------------------------------------------------------------------------


def _import_keras3():
    try:
        import keras

        if not keras.__version__.startswith("3.") or keras.backend.backend() != "torch":
            return None
        return keras
    except Exception:  # any import failure just drops the column
        return None


def _import_tf_keras(threads: int):
    try:
        import tensorflow as tf
        import tf_keras

        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
        return tf, tf_keras
    except Exception:
        return None


# -- inputs ---------------------------------------------------------------------------------


def make_inputs(shape, seed=0):
    """``x``, right-padded ``lengths`` uniform in ``[T/2, T]`` and the matching mask."""
    batch, time_steps, features, _ = shape
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(batch, time_steps, features, generator=generator)
    lengths = torch.randint(time_steps // 2, time_steps + 1, (batch,), generator=generator)
    lengths[0] = time_steps
    mask = torch.arange(time_steps) < lengths.unsqueeze(1)
    return x, lengths, mask


def length_masks(shape, seed):
    """``x`` and two right-padded masks (each with a full first row) with their lengths:
    long-tailed (lognormal, median T/4, sigma 1, clipped to [1, T]) and uniform in [T/3, T]."""
    batch, time_steps, features, _ = shape
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(batch, time_steps, features, generator=generator)
    median = torch.log(torch.tensor(time_steps / 4.0))
    long_tailed = torch.exp(median + torch.randn(batch, generator=generator)).round()
    long_tailed = long_tailed.clamp(1, time_steps).long()
    uniform = torch.randint(time_steps // 3, time_steps + 1, (batch,), generator=generator)
    masks = {}
    for name, lengths in (("long-tailed", long_tailed), ("uniform", uniform)):
        lengths[0] = time_steps
        masks[name] = (lengths, torch.arange(time_steps) < lengths.unsqueeze(1))
    return x, masks


def _total(output) -> torch.Tensor:
    return sum(o.sum() for o in output) if isinstance(output, list) else output.sum()


# -- contenders: each returns (train_step, inference) closures --------------------------------


def birnn_contender(cell, shape, x, mask, merge_mode="concat", **cell_kwargs):
    layer_class = getattr(birnn_layers, cell)
    layer = birnn_layers.Bidirectional(
        layer_class(shape[3], return_sequences=True, **cell_kwargs), merge_mode=merge_mode
    )
    layer(x[:1, :2])

    def train():
        _total(layer(x, mask=mask)).backward()
        layer.zero_grad()

    def infer():
        with torch.no_grad():
            layer(x, mask=mask)

    return train, infer


def torch_contender(cell, shape, x, lengths=None):
    module = getattr(torch.nn, cell)(shape[2], shape[3], batch_first=True, bidirectional=True)

    def run():
        if lengths is None:
            return module(x)[0]
        packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
        return pad_packed_sequence(module(packed)[0], batch_first=True)[0]

    def train():
        run().sum().backward()
        module.zero_grad()

    def infer():
        with torch.no_grad():
            run()

    return train, infer


def keras3_contender(keras, cell, shape, x, mask, **cell_kwargs):
    layer_class = getattr(keras.layers, cell)
    layer = keras.layers.Bidirectional(layer_class(shape[3], return_sequences=True, **cell_kwargs))
    layer(x[:1, :2])
    parameters = list(layer.parameters())

    def train():
        layer(x, mask=mask).sum().backward()
        for parameter in parameters:
            parameter.grad = None

    def infer():
        with torch.no_grad():
            layer(x, mask=mask)

    return train, infer


def tf_keras_contender(tf_modules, cell, shape, x, mask, **cell_kwargs):
    tf, tf_keras = tf_modules
    layer_class = getattr(tf_keras.layers, cell)
    layer = tf_keras.layers.Bidirectional(
        layer_class(shape[3], return_sequences=True, **cell_kwargs)
    )
    tf_x = tf.constant(x.numpy())
    tf_mask = None if mask is None else tf.constant(mask.numpy())
    layer(tf_x[:1, :2])

    @tf.function
    def train_step(inputs, step_mask):
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(layer(inputs, mask=step_mask, training=True))
        return tape.gradient(loss, layer.trainable_variables)

    @tf.function
    def infer_step(inputs, step_mask):
        return layer(inputs, mask=step_mask, training=False)

    def train():
        [g.numpy() for g in train_step(tf_x, tf_mask)]

    def infer():
        infer_step(tf_x, tf_mask).numpy()

    return train, infer


# -- timing ---------------------------------------------------------------------------------


CLOCK_NAMES = ("cpu", "wall")
clock_name = "cpu"


def _clock(contender: str):
    """The clock for one contender: see the module docstring."""
    if clock_name == "wall":
        return time.perf_counter
    if contender.startswith("tf-keras") or torch.get_num_threads() > 1:
        return time.process_time
    # One torch thread does all of a torch step, backward included; the process's CPU time
    # would also charge it whatever TensorFlow's idle threads spin.
    return time.thread_time


def interleaved_medians(functions: dict, rounds: int, warmup: int) -> dict[str, float]:
    """Median milliseconds of each function, the functions run in turn, round after round,
    in a new order each round (see the module docstring)."""
    times: dict[str, list[float]] = {name: [] for name in functions}
    clocks = {name: _clock(name) for name in functions}
    order = random.Random(0)
    names = list(functions)
    for index in range(warmup + rounds):
        order.shuffle(names)
        for name in names:
            function, clock = functions[name], clocks[name]
            # Python's young generations are collected before each timed call, untimed: the
            # call then collects its own garbage only (see the module docstring).
            gc.collect(1)
            start = clock()
            function()
            elapsed = clock() - start
            if index >= warmup:
                times[name].append(elapsed * 1e3)
    return {name: statistics.median(values) for name, values in times.items()}


def time_configuration(cell, shape, peers, rounds, warmup):
    """Training and inference medians (ms) of every contender on one (cell, shape)."""
    torch.manual_seed(0)
    x, lengths, mask = make_inputs(shape)
    keras3, tf_modules = peers
    contenders = {
        "torch": torch_contender(cell, shape, x),
        "torch packed": torch_contender(cell, shape, x, lengths),
        "birnn masked": birnn_contender(cell, shape, x, mask),
    }
    for merge_mode in MERGE_MODES:
        contenders[f"birnn {merge_mode}"] = birnn_contender(cell, shape, x, None, merge_mode)
    if keras3 is not None:
        contenders["keras3"] = keras3_contender(keras3, cell, shape, x, None)
        contenders["keras3 masked"] = keras3_contender(keras3, cell, shape, x, mask)
    if tf_modules is not None:
        contenders["tf-keras"] = tf_keras_contender(tf_modules, cell, shape, x, None)
        contenders["tf-keras masked"] = tf_keras_contender(tf_modules, cell, shape, x, mask)
    train = interleaved_medians({k: v[0] for k, v in contenders.items()}, rounds, warmup)
    inference_names = [
        k for k in contenders if not k.startswith("birnn ") or k in ("birnn concat", "birnn masked")
    ]
    infer = interleaved_medians({k: contenders[k][1] for k in inference_names}, rounds, warmup)
    return train, infer


def time_loop_path(shape, peers, rounds, warmup):
    """GRU ``reset_after=False`` on birnn's kernel and on the step loop (``use_fused=False``)
    against the fused GRU (``reset_after=True``) and Keras 3's GRU ``reset_after=False``."""
    torch.manual_seed(0)
    x, _, _ = make_inputs(shape)
    keras3 = peers[0]
    contenders = {
        "birnn reset_before": birnn_contender("GRU", shape, x, None, reset_after=False),
        "birnn loop": birnn_contender("GRU", shape, x, None, reset_after=False, use_fused=False),
        "birnn fused": birnn_contender("GRU", shape, x, None),
    }
    if keras3 is not None:
        contenders["keras3 loop"] = keras3_contender(
            keras3, "GRU", shape, x, None, reset_after=False
        )
    train = interleaved_medians({k: v[0] for k, v in contenders.items()}, rounds, warmup)
    infer = interleaved_medians({k: v[1] for k, v in contenders.items()}, rounds, warmup)
    return train, infer


def time_masks(cell, shape, seed, rounds, warmup):
    """Training steps: birnn unmasked and under long-tailed and uniform masks, raw torch
    unmasked and on the same lengths as packed sequences."""
    torch.manual_seed(0)
    x, masks = length_masks(shape, seed)
    contenders = {
        "birnn": birnn_contender(cell, shape, x, None)[0],
        "torch": torch_contender(cell, shape, x)[0],
    }
    for name, (lengths, mask) in masks.items():
        contenders[f"birnn {name}"] = birnn_contender(cell, shape, x, mask)[0]
        contenders[f"torch packed {name}"] = torch_contender(cell, shape, x, lengths)[0]
    return interleaved_medians(contenders, rounds, warmup)


def time_small_shapes(rounds, warmup):
    """Inference at small shapes: birnn's Bidirectional LSTM, unmasked and masked, and raw
    torch.nn.LSTM(bidirectional=True); microseconds."""
    results = {}
    for shape in SMALL_SHAPES:
        torch.manual_seed(0)
        x, lengths, mask = make_inputs(shape)
        contenders = {
            "torch": torch_contender("LSTM", shape, x)[1],
            "birnn": birnn_contender("LSTM", shape, x, None)[1],
            "birnn masked": birnn_contender("LSTM", shape, x, mask)[1],
        }
        medians = interleaved_medians(contenders, rounds, warmup)
        results[shape] = {name: value * 1e3 for name, value in medians.items()}
    return results


# -- memory ---------------------------------------------------------------------------------

MEMORY_CONTENDERS = ("torch", "torch packed", "birnn", "birnn masked")


def _memory_status(field: str) -> int:
    """A ``/proc/self/status`` memory line (``VmRSS``, ``VmHWM``) in bytes."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"/proc/self/status has no {field} line")


# The warm-up's lengths: 8 rows (as many as length buckets need to be considered), padded.
_WARMUP_LENGTHS = torch.tensor([3, 3, 2, 1, 3, 2, 1, 2])


def memory_probe(cell, shape, contender) -> float:
    """Peak RSS increase (MiB) over one training step, after a warm-up step of the same
    contender on a tiny batch; runs in its own process."""
    x, lengths, mask = make_inputs(shape)
    tiny_x = x[: len(_WARMUP_LENGTHS), :3]
    if contender.startswith("torch"):
        use_lengths = lengths if contender == "torch packed" else None
        train, _ = torch_contender(cell, shape, x, use_lengths)
        tiny_lengths = None if use_lengths is None else _WARMUP_LENGTHS
        tiny_train, _ = torch_contender(cell, shape, tiny_x, tiny_lengths)
    else:
        use_mask = mask if contender == "birnn masked" else None
        train, _ = birnn_contender(cell, shape, x, use_mask)
        tiny_mask = None if use_mask is None else torch.arange(3) < _WARMUP_LENGTHS.unsqueeze(1)
        tiny_train, _ = birnn_contender(cell, shape, tiny_x, tiny_mask)
    tiny_train()
    # The high-water mark starts at the RSS now (not at the parent's, which exec carries over).
    with open("/proc/self/clear_refs", "w") as clear_refs:
        clear_refs.write("5")
    before = _memory_status("VmRSS")
    train()
    return (_memory_status("VmHWM") - before) / 2**20


def measure_memory(cell, shape, threads) -> dict[str, float]:
    results = {}
    environment = {**os.environ, "MALLOC_MMAP_THRESHOLD_": "65536"}
    environment.pop("MALLOC_TRIM_THRESHOLD_", None)
    for contender in MEMORY_CONTENDERS:
        probe = json.dumps([cell, list(shape), contender])
        output = subprocess.run(
            [sys.executable, __file__, "--threads", str(threads), "--memory-probe", probe],
            env=environment,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        results[contender] = float(output.strip().splitlines()[-1])
    return results


# -- report ---------------------------------------------------------------------------------


def _shape_name(shape) -> str:
    return "B={} T={} F={} U={}".format(*shape)


def _ratio(numerator, denominator) -> str:
    if numerator is None or denominator is None:
        return "–"
    return f"{numerator / denominator:.2f}"


def _table(header, rows) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return lines + [""]


def write_report(
    results, loop_results, mask_results, small_results, memory, environment, out_dir: Path
):
    lines = [
        "# Bidirectional benchmark",
        "",
        f"{environment}. Medians of interleaved rounds in one process; ratios of medians.",
        "Lower is better everywhere; `x/torch` is a ratio to raw `torch.nn.{LSTM,GRU}"
        "(bidirectional=True)` on unmasked inputs of the same shape.",
        "",
        "## Training step (forward + backward + zero_grad)",
        "",
    ]
    header = [
        "cell",
        "shape",
        "torch ms",
        "concat",
        "sum",
        "mul",
        "ave",
        "None",
        "masked",
        "packed / masked",
        "keras3",
        "keras3 masked",
        "tf-keras",
        "tf-keras masked",
        "tf-keras masked / masked",
    ]
    rows = []
    for (cell, shape), (train, _) in results.items():
        base = train["torch"]
        rows.append(
            [
                cell,
                _shape_name(shape),
                f"{base:.1f}",
                *[_ratio(train[f"birnn {m}"], base) for m in MERGE_MODES],
                _ratio(train["birnn masked"], base),
                _ratio(train["torch packed"], train["birnn masked"]),
                _ratio(train.get("keras3"), base),
                _ratio(train.get("keras3 masked"), base),
                _ratio(train.get("tf-keras"), base),
                _ratio(train.get("tf-keras masked"), base),
                _ratio(train.get("tf-keras masked"), train["birnn masked"]),
            ]
        )
    lines += ["Columns from `concat` to `tf-keras masked`: x/torch.", ""]
    lines += _table(header, rows)

    lines += ["## Inference (forward under no_grad)", ""]
    header = [
        "cell",
        "shape",
        "torch ms",
        "birnn",
        "birnn masked",
        "torch packed",
        "keras3",
        "keras3 masked",
        "tf-keras",
        "tf-keras masked",
    ]
    rows = []
    for (cell, shape), (_, infer) in results.items():
        base = infer["torch"]
        rows.append(
            [
                cell,
                _shape_name(shape),
                f"{base:.1f}",
                _ratio(infer["birnn concat"], base),
                _ratio(infer["birnn masked"], base),
                _ratio(infer["torch packed"], base),
                _ratio(infer.get("keras3"), base),
                _ratio(infer.get("keras3 masked"), base),
                _ratio(infer.get("tf-keras"), base),
                _ratio(infer.get("tf-keras masked"), base),
            ]
        )
    lines += ["Columns after `torch ms`: x/torch.", ""]
    lines += _table(header, rows)

    lines += [
        "## GRU(reset_after=False) and the step loop, unmasked",
        "",
        "Bidirectional GRU(reset_after=False), which PyTorch has no kernel for: on birnn's CPU "
        "kernel (`before`, the default) and on the step loop (`loop`, `use_fused=False`). "
        "`/ fused`: against birnn's fused GRU (reset_after=True) of the same shape; "
        "`keras3 / before`: Keras 3's GRU(reset_after=False) on the torch backend over birnn's "
        "(higher means birnn is faster).",
        "",
    ]
    header = [
        "shape",
        "train before ms",
        "train before / fused",
        "train loop / fused",
        "train keras3 / before",
        "infer before ms",
        "infer before / fused",
        "infer loop / fused",
        "infer keras3 / before",
    ]
    rows = []
    for shape, loop_timings in loop_results.items():
        row = [_shape_name(shape)]
        for timing in loop_timings:  # training, then inference
            row += [
                f"{timing['birnn reset_before']:.1f}",
                _ratio(timing["birnn reset_before"], timing["birnn fused"]),
                _ratio(timing["birnn loop"], timing["birnn fused"]),
                _ratio(timing.get("keras3 loop"), timing["birnn reset_before"]),
            ]
        rows.append(row)
    lines += _table(header, rows)

    if mask_results:
        lines += [
            "## Masks that cost less than padding (training step)",
            "",
            "Right-padded masks on the same padded batch: long-tailed lengths (lognormal, median "
            "T/4, sigma 1, clipped to [1, T], one full row) and uniform in [T/3, T]. "
            "`x/unmasked`: birnn masked over birnn unmasked; `packed / birnn`: raw torch on the "
            "same lengths as packed sequences over birnn masked (higher means birnn is faster).",
            "",
        ]
        header = [
            "cell",
            "shape",
            "seed",
            "unmasked ms",
            "long-tailed x/unmasked",
            "uniform x/unmasked",
            "long-tailed packed / birnn",
            "uniform packed / birnn",
        ]
        rows = []
        for (cell, shape, seed), train in mask_results.items():
            rows.append(
                [
                    cell,
                    _shape_name(shape),
                    seed,
                    f"{train['birnn']:.1f}",
                    _ratio(train["birnn long-tailed"], train["birnn"]),
                    _ratio(train["birnn uniform"], train["birnn"]),
                    _ratio(train["torch packed long-tailed"], train["birnn long-tailed"]),
                    _ratio(train["torch packed uniform"], train["birnn uniform"]),
                ]
            )
        lines += _table(header, rows)

    if small_results:
        lines += [
            "## Small-shape inference",
            "",
            "Bidirectional LSTM, forward under no_grad, x/torch against raw "
            "`torch.nn.LSTM(bidirectional=True)` unmasked (masked: lengths uniform in [T/2, T]).",
            "",
        ]
        header = ["shape", "torch us", "birnn", "birnn masked"]
        rows = [
            [
                _shape_name(shape),
                f"{values['torch']:.0f}",
                _ratio(values["birnn"], values["torch"]),
                _ratio(values["birnn masked"], values["torch"]),
            ]
            for shape, values in small_results.items()
        ]
        lines += _table(header, rows)

    if memory:
        lines += [
            "## Peak memory of a training step",
            "",
            "Peak RSS increase over one step in a fresh process (MiB), and x/torch.",
            "",
        ]
        header = ["cell", "shape", "torch MiB", "birnn", "birnn masked", "torch packed"]
        rows = []
        for (cell, shape), values in memory.items():
            base = values["torch"]
            rows.append(
                [
                    cell,
                    _shape_name(shape),
                    f"{base:.1f}",
                    _ratio(values["birnn"], base),
                    _ratio(values["birnn masked"], base),
                    _ratio(values["torch packed"], base),
                ]
            )
        lines += _table(header, rows)

    (out_dir / "results.md").write_text("\n".join(lines))
    _write_chart(results, out_dir / "results.png")


def _write_chart(results, path: Path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    series = [
        "birnn concat",
        "birnn masked",
        "torch packed",
        "keras3",
        "keras3 masked",
        "tf-keras",
        "tf-keras masked",
    ]
    groups = list(results)
    figure, axis = plt.subplots(figsize=(12, 5))
    width = 0.8 / len(series)
    for index, name in enumerate(series):
        values = [results[g][0].get(name, float("nan")) / results[g][0]["torch"] for g in groups]
        positions = [g + (index - len(series) / 2 + 0.5) * width for g in range(len(groups))]
        axis.bar(positions, values, width, label=name)
    axis.axhline(1.0, color="black", linewidth=0.8)
    axis.set_xticks(range(len(groups)))
    axis.set_xticklabels([f"{c}\n{_shape_name(s)}" for c, s in groups], fontsize=8)
    axis.set_yscale("log")
    axis.set_ylabel("training step time / raw torch (log)")
    axis.set_title(
        "Bidirectional training step, relative to torch.nn.{LSTM,GRU}(bidirectional=True)"
    )
    axis.legend(fontsize=8, ncol=4)
    figure.tight_layout()
    figure.savefig(path, dpi=110)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="intra-op threads for torch and TensorFlow (default 1)",
    )
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument(
        "--clock",
        choices=CLOCK_NAMES,
        default="cpu",
        help="cpu: CPU time (default; other load on a shared machine inflates it far less "
        "than wall time); wall: elapsed time",
    )
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument(
        "--quick", action="store_true", help="first shape only, 5 rounds, print and write nothing"
    )
    parser.add_argument("--no-memory", action="store_true")
    parser.add_argument("--out", type=Path, default=HERE)
    parser.add_argument("--memory-probe", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if not args.memory_probe and os.environ.get("MALLOC_MMAP_THRESHOLD_") is None:
        environment = {**os.environ, **MALLOC_REUSE}
        arguments = sys.argv[1:] if argv is None else list(argv)
        os.execve(sys.executable, [sys.executable, __file__, *arguments], environment)
    torch.set_num_threads(args.threads)
    global clock_name
    clock_name = args.clock

    if args.memory_probe:
        cell, shape, contender = json.loads(args.memory_probe)
        print(memory_probe(cell, tuple(shape), contender))
        return

    peers = (_import_keras3(), _import_tf_keras(args.threads))
    shapes = SHAPES[:1] if args.quick else SHAPES
    rounds = 5 if args.quick else args.rounds
    results, loop_results, memory = {}, {}, {}
    for shape in shapes:
        for cell in CELLS:
            results[(cell, shape)] = time_configuration(cell, shape, peers, rounds, args.warmup)
            print(
                cell,
                shape,
                {k: round(v, 1) for k, v in results[(cell, shape)][0].items()},
                flush=True,
            )
            if not (args.quick or args.no_memory):
                memory[(cell, shape)] = measure_memory(cell, shape, args.threads)
                print("  memory", memory[(cell, shape)], flush=True)
        loop_results[shape] = time_loop_path(shape, peers, rounds, args.warmup)
        print("loop", shape, loop_results[shape], flush=True)
    mask_results = {}
    for shape in MASK_SHAPES[:1] if args.quick else MASK_SHAPES:
        for cell in CELLS:
            for seed in MASK_SEEDS[:1] if args.quick else MASK_SEEDS:
                mask_results[(cell, shape, seed)] = time_masks(
                    cell, shape, seed, rounds, args.warmup
                )
                print("masks", cell, shape, seed, mask_results[(cell, shape, seed)], flush=True)
    small_results = time_small_shapes(20 if args.quick else 10 * rounds, args.warmup)
    print("small", small_results, flush=True)
    if args.quick:
        return
    versions = [f"torch {torch.__version__}"]
    if peers[0] is not None:
        versions.append(f"keras {peers[0].__version__}")
    if peers[1] is not None:
        versions.append(f"tf-keras {peers[1][1].__version__}")
    environment = (
        f"{datetime.date.today()}, {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} cores, {args.threads} thread(s), {args.clock} clock, "
        f"{args.rounds} rounds; " + ", ".join(versions)
    )
    write_report(results, loop_results, mask_results, small_results, memory, environment, args.out)


if __name__ == "__main__":
    main()
