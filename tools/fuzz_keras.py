"""Differential fuzzer: random layer configurations through tf-keras 2.x and birnn.

Each case (``fuzz_cases.draw_case(seed, index)``) is built in tf-keras and twice in birnn:
from tf-keras's serialized config (``birnn.layers.deserialize``) and from birnn's own
constructors with the same arguments. Each birnn layer gets tf-keras's weights and is
compared on trainable flags, weight shapes and order, ``get_config()``,
``compute_output_shape``, ``compute_mask``, outputs and states (structure and values),
gradients (inputs and trainable weights), ``losses`` and, for stateful layers, a second
call and ``reset_states(states)``. Differences are grouped into classes; each case has a
replay command. Documented tf-keras quirks (the README's "where we differ") are labelled.

Needs a venv with tensorflow-cpu==2.21.0, tf-keras==2.21.0, torch and birnn (see the
README's development section). Not part of ``make test``::

    python tools/fuzz_keras.py --seed 0 --cases 1000 --jobs 2
    python tools/fuzz_keras.py --replay 0:17
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import sys
import traceback
from concurrent.futures import ProcessPoolExecutor
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fuzz_cases  # noqa: E402
from fuzz_checks import Failure, compare_case, short_error  # noqa: E402


def run_case(seed: int, index: int, verbose: bool = False) -> dict[str, Any]:
    """Runs one case; returns ``{"status", "failures": [{"class", "detail"}], ...}``."""
    case = fuzz_cases.draw_case(seed, index)
    try:
        failures, status = compare_case(case)
    except Exception as error:  # a bug in the fuzzer itself: report it as its own class
        failures = [
            Failure(
                f"fuzzer error: {short_error(error)}",
                traceback.format_exc(),
            )
        ]
        status = "failed"
    quirk_or_birnn = []
    for failure in failures:
        quirk = "skipped" if status == "tf_rejected" else known_quirk(case, failure)
        label = f"tf-keras quirk ({quirk}): {failure.key}" if quirk else failure.key
        if status == "tf_rejected":
            label = f"skipped, {failure.key}"
        quirk_or_birnn.append({"class": label, "detail": failure.detail, "quirk": bool(quirk)})
    if verbose:
        print(json.dumps(case, indent=1))
    return {"seed": seed, "index": index, "status": status, "failures": quirk_or_birnn}


# -- documented tf-keras quirks (README, "where we differ") ---------------------------------


def _effective_zero_output(case: dict[str, Any], spec: dict[str, Any], wrapped: bool) -> bool:
    args = spec["args"]
    if wrapped:  # Bidirectional sets zero_output_for_mask to return_sequences
        return bool(case["layer"]["layer"]["args"].get("return_sequences"))
    return bool(args.get("zero_output_for_mask"))


def known_quirk(case: dict[str, Any], failure: Failure) -> str | None:
    """The documented tf-keras quirk that explains ``failure``, or ``None``."""
    if case["kind"] == "other":
        return None
    top = case["layer"]
    wrapped = top["class"] == "Bidirectional"
    sides = [top["layer"], top.get("backward_layer")] if wrapped else [top]
    check = failure.check
    if check in ("outputs", "gradients", "stateful") and case["mask"] != "none":
        for side in sides:
            if side is None:
                continue
            go_backwards = bool(side["args"].get("go_backwards"))
            if wrapped and side is top["layer"] and "backward_layer" not in top:
                go_backwards = True  # the automatic backward copy flips it
            if (
                side["args"].get("unroll")
                and (go_backwards or (wrapped and side is not top["layer"]))
                and _effective_zero_output(case, side, wrapped)
            ):
                return "unroll + go_backwards + mask + zero_output_for_mask"
    if check == "compute_mask" and any(s is not None and _has_nested_states(s) for s in sides):
        return "compute_mask counts the nested states of stacked cells"
    if _activity_in_omitting_config(top):
        quirk = "Bidirectional and RNN(cell) configs omit activity_regularizer"
        # Bidirectional re-creates its layers from their configs, so the loss goes there too
        if check == "losses" and (failure.variant == "deserialize" or wrapped):
            return quirk
        if check == "config" and "activity_regularizer" in failure.key + failure.detail:
            return quirk
    return None


def _activity_in_omitting_config(spec: dict[str, Any]) -> bool:
    """Whether a Bidirectional or an RNN(cell) in ``spec`` has an activity regularizer."""
    return any(
        "activity_regularizer" in part["args"] and part["class"] in ("Bidirectional", "RNN")
        for part in fuzz_cases.walk(spec)
    )


def _has_nested_states(spec: dict[str, Any]) -> bool:
    cells = spec.get("cells") or spec.get("cell", {}).get("cells")
    return bool(cells)


# -- running many cases -----------------------------------------------------------------------


def _run_chunk(arguments: tuple[int, list[int]]) -> list[dict[str, Any]]:
    seed, indices = arguments
    return [run_case(seed, index) for index in indices]


def run_many(seed: int, start: int, count: int, jobs: int) -> list[dict[str, Any]]:
    indices = list(range(start, start + count))
    if jobs <= 1:
        results = []
        for done, index in enumerate(indices, 1):
            results.append(run_case(seed, index))
            if done % 50 == 0:
                print(f"  {done}/{count} cases", file=sys.stderr, flush=True)
        return results
    chunks = [indices[j::jobs] for j in range(jobs)]
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        parts = list(pool.map(_run_chunk, [(seed, chunk) for chunk in chunks]))
    return sorted((r for part in parts for r in part), key=lambda r: r["index"])


def summarize(results: list[dict[str, Any]], seed: int, examples: int = 3) -> str:
    statuses = collections.Counter(r["status"] for r in results)
    classes: dict[str, list[dict[str, Any]]] = collections.defaultdict(list)
    for result in results:
        for failure in result["failures"]:
            classes[failure["class"]].append(result)
    lines = [
        f"seed {seed}: {len(results)} cases; "
        + ", ".join(f"{count} {status}" for status, count in sorted(statuses.items())),
    ]
    birnn_side = [c for c in classes if not c.startswith(("tf-keras quirk", "skipped"))]
    quirks = [c for c in classes if c.startswith("tf-keras quirk")]
    lines.append(
        f"{len(birnn_side)} birnn-side failure classes, {len(quirks)} documented tf-keras "
        f"quirks, {len(classes) - len(birnn_side) - len(quirks)} kinds of case tf-keras rejects"
    )
    for name, cases in sorted(classes.items(), key=lambda item: (-len(item[1]), item[0])):
        unique = sorted({(r["seed"], r["index"]) for r in cases})
        lines.append(f"\n[{len(unique)} cases] {name}")
        for case_seed, index in unique[:examples]:
            lines.append(f"    python tools/fuzz_keras.py --replay {case_seed}:{index}")
    return "\n".join(lines)


def replay(target: str) -> int:
    seed, index = (int(part) for part in target.split(":"))
    result = run_case(seed, index, verbose=True)
    print(f"status: {result['status']}")
    for failure in result["failures"]:
        print(f"\n== {failure['class']}\n{failure['detail']}")
    return 1 if any(not f["quirk"] for f in result["failures"]) else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cases", type=int, default=200, help="how many cases to run")
    parser.add_argument("--start", type=int, default=0, help="index of the first case")
    parser.add_argument("--jobs", type=int, default=1, help="worker processes")
    parser.add_argument("--replay", metavar="SEED:INDEX", help="rerun one case, with details")
    parser.add_argument("--json", metavar="PATH", help="write every case's result here")
    args = parser.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if args.replay:
        return replay(args.replay)
    results = run_many(args.seed, args.start, args.cases, args.jobs)
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(results, handle, indent=1)
    print(summarize(results, args.seed))
    birnn_side = [f for r in results for f in r["failures"] if not f["quirk"]]
    return 1 if birnn_side else 0


if __name__ == "__main__":
    sys.exit(main())
