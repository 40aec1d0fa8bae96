"""birnn's own file: round trips, content sniffing, and clear errors for bad files."""

from __future__ import annotations

import os
import stat

import numpy as np
import pytest
import torch

from birnn.layers import GRU, LSTM, Bidirectional, Dense, Embedding, TimeDistributed
from birnn.models import Sequential, load_model
from birnn.saving._birnn_format import is_birnn_file


def _tagger():
    model = Sequential(
        [
            Embedding(20, 4, mask_zero=True),
            Bidirectional(GRU(3, return_sequences=True)),
            TimeDistributed(Dense(2, activation="softmax")),
        ]
    )
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["acc"])
    return model


def _ids():
    return np.array([[3, 4, 5, 0], [1, 2, 0, 0]])


def test_save_and_load_model_give_identical_outputs(tmp_path):
    model = _tagger()
    model.fit(_ids(), np.array([[0, 1, 1, 0], [1, 0, 0, 0]]), epochs=1, verbose=0)
    path = tmp_path / "tagger.birnn"
    model.save(path)
    assert is_birnn_file(path)
    loaded = load_model(path)
    np.testing.assert_array_equal(
        loaded.predict(_ids(), verbose=0), model.predict(_ids(), verbose=0)
    )
    assert loaded.get_config() == model.get_config()
    assert loaded.compiled_loss is not None and loaded._metric_names == ["acc"]


def test_a_model_built_by_its_first_call_round_trips(tmp_path):
    model = Sequential([Bidirectional(LSTM(3)), Dense(2)])
    x = torch.randn(2, 4, 5)
    expected = model(x)
    model.save(tmp_path / "m")
    torch.testing.assert_close(load_model(tmp_path / "m")(x), expected)


def test_save_weights_and_load_weights_round_trip(tmp_path):
    model, other = _tagger(), _tagger()
    model.save_weights(tmp_path / "w.safetensors")
    other.load_weights(tmp_path / "w.safetensors")
    for mine, theirs in zip(model.get_weights(), other.get_weights()):
        np.testing.assert_array_equal(mine, theirs)
    with pytest.raises(ValueError, match="holds weights only"):
        load_model(tmp_path / "w.safetensors")


def test_mismatched_weights_fail_and_change_nothing(tmp_path):
    _tagger().save(tmp_path / "a.birnn")
    smaller = Sequential([Embedding(20, 4), Bidirectional(GRU(2, return_sequences=True))])
    smaller.build((None, None))
    before = smaller.get_weights()
    with pytest.raises(ValueError, match="Expected"):
        smaller.load_weights(tmp_path / "a.birnn")
    for old, new in zip(before, smaller.get_weights()):
        np.testing.assert_array_equal(old, new)


@pytest.mark.parametrize("cut", [0.5, 0.99])
def test_a_truncated_file_fails_with_a_value_error(tmp_path, cut):
    path = tmp_path / "m.birnn"
    _tagger().save(path)
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * cut)])
    with pytest.raises(ValueError, match="Expected"):
        load_model(path)


def test_a_damaged_header_fails_with_a_value_error(tmp_path):
    path = tmp_path / "m.birnn"
    _tagger().save(path)
    data = bytearray(path.read_bytes())
    data[9:14] = b"#####"
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="header is damaged"):
        load_model(path)


def test_a_plain_safetensors_file_is_not_taken_for_ours(tmp_path):
    from safetensors.torch import save_file

    path = tmp_path / "other.safetensors"
    save_file({"w": torch.zeros(2)}, path)
    assert not is_birnn_file(path)
    with pytest.raises(ValueError, match="Expected"):
        load_model(path)


def test_save_refuses_keras_names_and_existing_files(tmp_path):
    model = _tagger()
    with pytest.raises(ValueError, match="not Keras's"):
        model.save(tmp_path / "m.keras")
    model.save(tmp_path / "m.birnn")
    with pytest.raises(ValueError, match="exists"):
        model.save(tmp_path / "m.birnn", overwrite=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.birnn"]


@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_saved_files_follow_the_umask(tmp_path, umask, mode):
    model = Sequential([Dense(2, input_shape=(3,))])
    previous = os.umask(umask)
    try:
        model.save(tmp_path / "model.birnn")
        model.save_weights(tmp_path / "weights.birnn")
        model.save(tmp_path / "model.birnn")  # overwriting too
    finally:
        os.umask(previous)
    for name in ("model.birnn", "weights.birnn"):
        assert stat.S_IMODE(os.stat(tmp_path / name).st_mode) == mode
