"""Command line entry point: `python -m birnn.demo`."""

from __future__ import annotations

import argparse
import platform
import random
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from birnn.demo import _data, _model, _report, _train

DEFAULTS = {
    "epochs": 12,
    "units": 96,
    "embed_dim": 16,
    "batch_size": 32,
    "learning_rate": 1e-2,
    "max_len": 100,
    "max_chars": None,
    "max_test_chars": None,
}
TASK = "word-boundary tagging of pydoc_data.topics prose, spaces removed"
QUICK = {"epochs": 4, "units": 16, "batch_size": 8, "max_chars": 8000, "max_test_chars": 1500}


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Parses the command line.

    Args:
        argv: Arguments without the program name; `None` reads `sys.argv`.

    Returns:
        The parsed options, with `--quick` defaults filled in.
    """
    parser = argparse.ArgumentParser(
        prog="python -m birnn.demo",
        description=(
            "Train a forward-only LSTM and a Bidirectional LSTM of similar size to put the "
            "spaces back into sentences from Python's documentation (pydoc_data.topics), "
            "and compare their word-boundary precision/recall/F1 on held-out topics."
        ),
    )
    parser.add_argument(
        "--epochs", type=int, help=f"passes over the data (default {DEFAULTS['epochs']})"
    )
    parser.add_argument(
        "--seed", type=int, default=0, help="seed for split, init and shuffling (default 0)"
    )
    parser.add_argument(
        "--out", type=Path, default=Path("demo-output"), help="output folder (default demo-output/)"
    )
    parser.add_argument(
        "--max-chars", type=int, help="cap on training characters (default: all training topics)"
    )
    parser.add_argument(
        "--max-test-chars",
        type=int,
        help="cap on held-out characters (default: all held-out topics)",
    )
    parser.add_argument(
        "--units",
        type=int,
        help=f"forward LSTM units; Bidirectional gets a like budget (default {DEFAULTS['units']})",
    )
    parser.add_argument(
        "--batch-size", type=int, help=f"chunks per step (default {DEFAULTS['batch_size']})"
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch intra-op threads (default 1: these small LSTMs gain little from more, "
        "and extra threads spin-wait and slow down badly when the CPU is busy)",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="tiny budget for smoke tests: " + ", ".join(f"{k}={v}" for k, v in QUICK.items()),
    )
    args = parser.parse_args(argv)
    base = dict(DEFAULTS, **(QUICK if args.quick else {}))
    for key, value in base.items():
        if getattr(args, key, None) is None:
            setattr(args, key, value)
    return args


def seed_everything(seed: int) -> None:
    """Seeds Python, NumPy and torch, and asks torch for deterministic kernels."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True)


MISSING_MATPLOTLIB = (
    "birnn-demo draws its learning curves with matplotlib, which is not installed. "
    "Install it with: pip install 'birnn[demo]'  (or: pip install matplotlib)"
)


def check_dependencies() -> str | None:
    """Returns why the demo cannot run (its chart needs matplotlib), or ``None`` if it can."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return MISSING_MATPLOTLIB
    return None


def main(argv: Sequence[str] | None = None) -> int:
    """Runs the demo end to end: data, two models, training, report, saved files.

    torch's thread count and determinism switch are restored afterwards, so
    calling `main` from other code (e.g. tests) leaves no global change behind.

    Args:
        argv: Command-line arguments without the program name; `None` reads `sys.argv`.

    Returns:
        The process exit status (the `birnn-demo` script exits with it): 0, or 1 before
        any training when matplotlib is missing.
    """
    args = parse_args(argv)
    problem = check_dependencies()
    if problem:
        print(problem, file=sys.stderr)
        return 1
    threads = torch.get_num_threads()
    deterministic = torch.are_deterministic_algorithms_enabled()
    try:
        torch.set_num_threads(args.threads)
        run(args)
        return 0
    finally:
        torch.set_num_threads(threads)
        torch.use_deterministic_algorithms(deterministic)


def run(args: argparse.Namespace) -> dict:
    """Runs the demo with parsed options; see `main`.

    Args:
        args: Options from `parse_args`.

    Returns:
        The dict written to `metrics.json`.
    """
    started = time.perf_counter()
    seed_everything(args.seed)
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)

    chunks = _data.build_chunks(_data.load_topics(), max_len=args.max_len)
    train, test = _data.split_by_topic(chunks, test_fraction=0.2, seed=args.seed)
    train = _data.limit_chars(train, args.max_chars, seed=args.seed)
    test = _data.limit_chars(test, args.max_test_chars, seed=args.seed)
    test_topics = sorted({c.topic for c in test})
    n_train, n_test = sum(len(c.chars) for c in train), sum(len(c.chars) for c in test)
    print(
        f"data: {len(train)} training chunks ({n_train} chars), {len(test)} held-out chunks "
        f"({n_test} chars) from {len(test_topics)} held-out topics; vocabulary {_data.VOCAB_SIZE}"
    )

    bi_units = _model.matched_units(args.units, args.embed_dim)
    specs = {
        "forward LSTM": (args.units, False),
        "Bidirectional": (bi_units, True),
    }
    results: dict[str, dict] = {}
    histories: dict[str, dict] = {}
    predictions: dict[str, list[list[int]]] = {}
    models: dict[str, torch.nn.Module] = {}
    for i, (name, (units, bidirectional)) in enumerate(specs.items()):
        # Re-seed per model so each one's init does not depend on what ran before it.
        torch.manual_seed(args.seed * 1000 + i)
        model = _model.build_model(units, bidirectional, args.embed_dim)
        params = model.count_params()
        print(f"{name}: LSTM units {units} per direction, {params} trainable parameters")
        histories[name] = _train.fit(
            model,
            train,
            test,
            epochs=args.epochs,
            batch_size=args.batch_size,
            learning_rate=args.learning_rate,
            label=name,
        )
        metrics, predictions[name] = _train.evaluate(model, test)
        results[name] = {
            "units": units,
            "bidirectional": bidirectional,
            "params": params,
            **metrics,
            "loss": histories[name]["test_loss"][-1],
        }
        models[name] = model

    print()
    print("Word-boundary detection on held-out topics (threshold 0.5):")
    print(_report.metrics_table(results))
    gap = results["Bidirectional"]["f1"] - results["forward LSTM"]["f1"]
    print(f"F1 gap, Bidirectional minus forward-only: {gap:+.3f}")
    sample_ids = _report.pick_samples(test, count=4, seed=args.seed)
    print()
    print("Held-out sentences, re-spaced by each model:")
    print(_report.sample_lines(test, predictions, sample_ids))

    chart = out / "learning_curves.png"
    _report.plot_learning_curves(
        histories, {name: r["params"] for name, r in results.items()}, TASK, chart
    )
    model_path = _model.save_tagger(models["Bidirectional"], out / "bidirectional.birnn")
    payload = {
        "task": TASK,
        "config": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "data": {
            "train_chunks": len(train),
            "train_chars": n_train,
            "test_chunks": len(test),
            "test_chars": n_test,
            "test_topics": test_topics,
            "vocab_size": _data.VOCAB_SIZE,
        },
        "models": {name: {**results[name], "history": histories[name]} for name in specs},
        "f1_gap": gap,
        "samples": [
            {
                "truth": test[i].text,
                **{n: _report.respace(test[i].chars, predictions[n][i]) for n in specs},
            }
            for i in sample_ids
        ],
        "environment": {
            "python": platform.python_version(),
            "torch": torch.__version__,
            "threads": torch.get_num_threads(),
        },
        "wall_seconds": time.perf_counter() - started,
    }
    metrics_path = out / "metrics.json"
    _report.write_metrics(payload, metrics_path)
    print()
    print(f"chart:   {chart}")
    print(f"metrics: {metrics_path}")
    print(f"model:   {model_path} (Bidirectional tagger; birnn.models.load_model reads it)")
    print(f"wall time {payload['wall_seconds']:.1f}s")
    return payload


if __name__ == "__main__":
    sys.exit(main())
