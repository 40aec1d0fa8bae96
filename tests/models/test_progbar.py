"""History and Progbar: Keras 2's record and progress lines."""

from __future__ import annotations

import io

from birnn.models._progbar import History, Progbar


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_history_collects_each_epochs_logs():
    history = History()
    history.record(0, {"loss": 2.0, "val_loss": 3.0})
    history.record(1, {"loss": 1.0, "val_loss": 2.5})
    assert history.history == {"loss": [2.0, 1.0], "val_loss": [3.0, 2.5]}
    assert history.epoch == [0, 1]


def test_verbose_1_prints_one_final_line_outside_a_terminal():
    stream = io.StringIO()
    bar = Progbar(3, stream=stream)
    bar.update(1, [("loss", 1.0)])
    bar.update(3, [("loss", 0.5), ("acc", 0.0001)])
    line = stream.getvalue()
    assert line.count("\n") == 1
    assert line.startswith("3/3 [==============================] - ")
    assert line.rstrip().endswith("- loss: 0.5000 - acc: 1.0000e-04")


def test_verbose_1_redraws_in_place_on_a_terminal():
    stream = _Terminal()
    bar = Progbar(4, stream=stream)
    bar.update(2, [("loss", 1.0)])
    bar.update(4, [("loss", 0.5)])
    text = stream.getvalue()
    assert text.startswith("\r2/4 [==============>...............] - ETA: ")
    assert "\r4/4 [==============================]" in text and text.endswith("\n")


def test_verbose_2_prints_a_line_without_the_bar():
    stream = io.StringIO()
    Progbar(2, verbose=2, stream=stream).update(2, [("loss", 0.25)])
    line = stream.getvalue()
    assert line.startswith("2/2 - ") and "[" not in line and "/epoch - " in line
