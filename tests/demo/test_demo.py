"""Tests for `python -m birnn.demo`: data builder, metrics, and an end-to-end smoke run."""

from __future__ import annotations

import contextlib
import io
import json
import os
import sys
from pathlib import Path

import pytest
import torch

from birnn.demo import _data, _metrics, _model, _report, _train
from birnn.demo.__main__ import main, parse_args


def test_segment_labels_marks_word_ends():
    chars, labels = _data.segment_labels("the cat  sat, ok.")
    assert chars == "thecatsat,ok."
    assert labels == (0, 0, 1, 0, 0, 1, 0, 0, 0, 1, 0, 0, 1)


def test_chunks_round_trip_to_their_text():
    topics = {
        "demo": "Title\n*****\n\nThe first sentence is here. And a second\none follows it.\n\n"
        "   code_block ::= not prose\n\nShort.\n"
    }
    chunks = _data.build_chunks(topics, max_len=12)
    texts = [c.text for c in chunks]
    # One-word pieces ("here.", "it.", "short.") are dropped: nothing to segment but the end.
    assert texts == ["the first", "sentence is", "and a second", "one follows"]
    for chunk in chunks:
        assert " " not in chunk.chars and len(chunk.chars) <= 12
        assert len(chunk.labels) == len(chunk.chars)
        assert _metrics.respace(chunk.chars, chunk.labels) == chunk.text
        assert sum(chunk.labels) == len(chunk.text.split())


def test_real_corpus_labels_follow_spaces():
    chunks = _data.build_chunks(_data.load_topics())
    assert len(chunks) > 1000
    for chunk in chunks[::50]:
        assert _metrics.respace(chunk.chars, chunk.labels) == chunk.text
        assert chunk.text == chunk.text.lower()


def test_split_is_by_topic_and_seeded():
    chunks = _data.build_chunks(_data.load_topics())
    train, test = _data.split_by_topic(chunks, test_fraction=0.2, seed=0)
    assert {c.topic for c in train}.isdisjoint({c.topic for c in test})
    assert len(train) + len(test) == len(chunks)
    assert sum(len(c.chars) for c in test) >= 0.2 * sum(len(c.chars) for c in chunks)
    again = _data.split_by_topic(chunks, test_fraction=0.2, seed=0)[1]
    other = _data.split_by_topic(chunks, test_fraction=0.2, seed=1)[1]
    assert [c.text for c in again] == [c.text for c in test]
    assert {c.topic for c in other} != {c.topic for c in test}


def test_pad_batch_pads_with_zero_and_masks():
    chunks = _data.build_chunks({"t": "ab cd e. xy z."}, max_len=100)
    ids, labels, mask = _data.pad_batch(chunks)
    assert ids.shape == labels.shape == mask.shape == (2, 6)
    assert mask.tolist() == [[True] * 6, [True] * 4 + [False] * 2]
    assert (ids[1, 4:] == _data.PAD_ID).all() and (labels[1, 4:] == 0).all()
    assert labels.tolist() == [[0, 1, 0, 1, 0, 1], [0, 1, 0, 1, 0, 0]]
    assert ids[0, 0] == _data.CHAR_TO_ID["a"]


def test_metrics_on_hand_made_example():
    predicted = torch.tensor([[1, 0, 1, 0, 1], [0, 1, 1, 0, 1]])
    target = torch.tensor([[1, 0, 0, 1, 1], [0, 1, 0, 1, 0]])
    mask = torch.tensor([[True] * 5, [True, True, True, True, False]])
    counts = _metrics.boundary_counts(predicted, target, mask)
    # Valid steps: tp at (0,0) (0,4) (1,1); fp at (0,2) (1,2); fn at (0,3) (1,3); (1,4) is padding.
    assert counts == {"tp": 3, "fp": 2, "fn": 2}
    scores = _metrics.precision_recall_f1(**counts)
    assert scores["precision"] == pytest.approx(3 / 5)
    assert scores["recall"] == pytest.approx(3 / 5)
    assert scores["f1"] == pytest.approx(3 / 5)
    assert _metrics.precision_recall_f1(0, 0, 0) == {"precision": 0.0, "recall": 0.0, "f1": 0.0}


def test_models_have_matched_budgets():
    units = _model.matched_units(32)
    forward = _model.build_model(32, bidirectional=False).count_params()
    both = _model.build_model(units, bidirectional=True).count_params()
    assert units < 32 and abs(both - forward) <= 0.05 * forward


@pytest.mark.parametrize("bidirectional", [False, True])
def test_padding_does_not_change_valid_probabilities(bidirectional):
    # The Embedding's mask must reach the LSTM: the backward direction would otherwise
    # start in the padding and change every valid step of the short row.
    model = _model.build_model(8, bidirectional).eval()
    short, long = _data.build_chunks({"t": "ab cd. efg hij klm nop."}, max_len=100)
    alone, _, _ = _data.pad_batch([short])
    padded, _, mask = _data.pad_batch([short, long])
    assert not mask[0].all()
    with torch.no_grad():
        expected = _model.step_probabilities(model, alone)[0]
        got = _model.step_probabilities(model, padded)[0, : len(short.chars)]
    torch.testing.assert_close(got, expected)


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[int, tuple[Path, dict, str]]:
    """Quick runs for seeds 0 and 1: output folder, metrics.json and what was printed."""
    out = {}
    for seed in (0, 1):
        path = tmp_path_factory.mktemp(f"demo_seed{seed}")
        printed = io.StringIO()  # not a terminal, as in a `make demo > log`
        with contextlib.redirect_stdout(printed):
            assert main(["--quick", "--seed", str(seed), "--out", str(path)]) == 0
        out[seed] = (path, json.loads((path / "metrics.json").read_text()), printed.getvalue())
    return out


def test_demo_prints_plain_lines_when_not_on_a_terminal(runs):
    printed = runs[0][2]
    assert "\r" not in printed
    # One progress line per epoch and model, from Sequential.fit's bar.
    epochs = runs[0][1]["config"]["epochs"]
    bars = [line for line in printed.splitlines() if "[==============================]" in line]
    assert len(bars) == 2 * epochs and all("val_loss: " in line for line in bars)


def test_demo_without_matplotlib_says_how_to_install_it(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib now fails
    assert main(["--quick", "--out", str(tmp_path / "out")]) == 1
    assert "pip install 'birnn[demo]'" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()  # it stopped before training


def test_demo_writes_chart_metrics_and_model(runs):
    path, _, _ = runs[0]
    assert (path / "learning_curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (path / "bidirectional.birnn").stat().st_size > 1000


def test_demo_metrics_come_from_the_data(runs):
    path, payload, _ = runs[0]
    config = payload["config"]
    # Rebuild the held-out set independently and check the counts add up to its boundaries.
    chunks = _data.build_chunks(_data.load_topics(), max_len=config["max_len"])
    _, test = _data.split_by_topic(chunks, seed=config["seed"])
    test = _data.limit_chars(test, config["max_test_chars"], seed=config["seed"])
    boundaries = sum(sum(c.labels) for c in test)
    assert payload["data"]["test_chars"] == sum(len(c.chars) for c in test)
    for result in payload["models"].values():
        tp, fp, fn = result["tp"], result["fp"], result["fn"]
        assert tp + fn == boundaries
        assert tp + fp <= payload["data"]["test_chars"]
        scores = _metrics.precision_recall_f1(tp, fp, fn)
        for key in ("precision", "recall", "f1"):
            assert result[key] == pytest.approx(scores[key])
        assert result["history"]["test_f1"][-1] == pytest.approx(result["f1"])
        assert len(result["history"]["train_loss"]) == config["epochs"]
    # Non-degenerate: some boundary was found, so the counts above were not all trivially 0.
    assert any(r["tp"] > 0 for r in payload["models"].values())
    # The saved model reproduces the reported Bidirectional counts.
    model = _model.load_tagger(path / "bidirectional.birnn")
    metrics, _ = _train.evaluate(model, test)
    saved = payload["models"]["Bidirectional"]
    assert {k: metrics[k] for k in ("tp", "fp", "fn")} == {k: saved[k] for k in ("tp", "fp", "fn")}


def test_demo_numbers_depend_on_the_seed(runs):
    a, b = runs[0][1], runs[1][1]
    assert a["data"]["test_topics"] != b["data"]["test_topics"]
    for name in a["models"]:
        assert (
            a["models"][name]["history"]["train_loss"] != b["models"][name]["history"]["train_loss"]
        )


def test_demo_is_deterministic_for_a_seed(runs, tmp_path):
    assert main(["--quick", "--seed", "0", "--out", str(tmp_path)]) == 0
    payload = json.loads((tmp_path / "metrics.json").read_text())
    for name, result in runs[0][1]["models"].items():
        assert payload["models"][name]["history"]["train_loss"] == result["history"]["train_loss"]
        assert payload["models"][name]["tp"] == result["tp"]


def test_chart_names_the_task_both_losses_and_the_budgets():
    histories = {
        name: {"train_loss": [0.5, 0.4], "test_loss": [0.55, 0.45], "test_f1": [0.6, 0.7]}
        for name in ("forward LSTM", "Bidirectional")
    }
    params = {"forward LSTM": 3073, "Bidirectional": 3125}
    figure = _report.learning_curves_figure(histories, params, "word-boundary tagging")
    assert "word-boundary tagging" in figure._suptitle.get_text()
    loss_axes, f1_axes = figure.axes
    labels = [text.get_text() for text in loss_axes.get_legend().get_texts()]
    assert labels == [
        "forward LSTM (3,073 params), training",
        "forward LSTM (3,073 params), held-out",
        "Bidirectional (3,125 params), training",
        "Bidirectional (3,125 params), held-out",
    ]
    assert [list(line.get_ydata()) for line in loss_axes.get_lines()][1] == [0.55, 0.45]
    assert len(f1_axes.get_lines()) == 2


ROOT = Path(__file__).resolve().parents[2]
STORED = ROOT / "docs" / "demo" / "metrics.json"


def _keys(tree: object) -> object:
    """The nested dict keys of a metrics.json, its values left out."""
    if isinstance(tree, dict):
        return {key: _keys(value) for key, value in tree.items()}
    return None


def test_readme_quotes_the_stored_seed0_run():
    stored = json.loads(STORED.read_text())
    readme = " ".join((ROOT / "README.md").read_text().split())
    forward, both = stored["models"]["forward LSTM"], stored["models"]["Bidirectional"]
    assert (
        f"Held-out word-boundary F1, seed 0: forward LSTM {forward['f1']:.3f} "
        f"({forward['params']:,} parameters), Bidirectional {both['f1']:.3f} "
        f"({both['params']:,} parameters)."
    ) in readme
    assert f"The full run took {stored['wall_seconds']:.0f} s" in readme
    assert both["f1"] - forward["f1"] > 0.1  # the demo's point: bidirectional clearly wins


def test_stored_run_is_the_default_full_run_as_the_demo_writes_it(runs):
    stored = json.loads(STORED.read_text())
    defaults = vars(parse_args([]))
    assert {k: v for k, v in stored["config"].items() if k != "out"} == {
        k: v for k, v in defaults.items() if k != "out"
    }
    quick = runs[0][1]
    assert _keys(stored) == _keys(quick)
    assert stored["models"].keys() == quick["models"].keys()
    for name, result in stored["models"].items():
        assert result.keys() == quick["models"][name].keys()
        assert len(result["history"]["train_loss"]) == defaults["epochs"]
        scores = _metrics.precision_recall_f1(result["tp"], result["fp"], result["fn"])
        assert result["f1"] == pytest.approx(scores["f1"])


@pytest.mark.skipif(
    not os.environ.get("BIRNN_FULL_DEMO"),
    reason="the full demo takes minutes; run with BIRNN_FULL_DEMO=1",
)
def test_full_seed0_run_reproduces_the_stored_numbers(tmp_path):
    assert main(["--out", str(tmp_path)]) == 0
    fresh = json.loads((tmp_path / "metrics.json").read_text())
    stored = json.loads(STORED.read_text())
    for name, result in stored["models"].items():
        for key in ("params", "tp", "fp", "fn"):
            assert fresh["models"][name][key] == result[key], (name, key)
