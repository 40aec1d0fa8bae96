"""Tests for `python -m birnn.demo`: data builder, metrics, and an end-to-end smoke run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from birnn.demo import _data, _metrics, _model, _train
from birnn.demo.__main__ import main


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


def test_masked_bce_ignores_padding():
    logits = torch.tensor([[2.0, -1.0, 50.0]])
    labels = torch.tensor([[1.0, 0.0, 0.0]])
    mask = torch.tensor([[True, True, False]])
    expected = torch.nn.functional.binary_cross_entropy_with_logits(logits[:, :2], labels[:, :2])
    assert _train.masked_bce(logits, labels, mask).item() == pytest.approx(expected.item())


def test_models_have_matched_budgets():
    units = _model.matched_units(32)
    forward = _model.count_params(_model.build_model(32, bidirectional=False))
    both = _model.count_params(_model.build_model(units, bidirectional=True))
    assert units < 32 and abs(both - forward) <= 0.05 * forward


@pytest.mark.parametrize("bidirectional", [False, True])
def test_padding_does_not_change_valid_logits(bidirectional):
    # The Embedding's mask must reach the LSTM: the backward direction would otherwise
    # start in the padding and change every valid step of the short row.
    model = _model.build_model(8, bidirectional).eval()
    short, long = _data.build_chunks({"t": "ab cd. efg hij klm nop."}, max_len=100)
    alone, _, _ = _data.pad_batch([short])
    padded, _, mask = _data.pad_batch([short, long])
    assert not mask[0].all()
    with torch.no_grad():
        expected = _model.step_logits(model, alone)[0]
        got = _model.step_logits(model, padded)[0, : len(short.chars)]
    torch.testing.assert_close(got, expected)


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[int, tuple[Path, dict]]:
    out = {}
    for seed in (0, 1):
        path = tmp_path_factory.mktemp(f"demo_seed{seed}")
        main(["--quick", "--seed", str(seed), "--out", str(path)])
        out[seed] = (path, json.loads((path / "metrics.json").read_text()))
    return out


def test_demo_writes_chart_metrics_and_model(runs):
    path, _ = runs[0]
    assert (path / "learning_curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (path / "bidirectional.birnn").stat().st_size > 1000


def test_demo_metrics_come_from_the_data(runs):
    path, payload = runs[0]
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
