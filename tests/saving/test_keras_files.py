"""Tests for reading Keras model and weights files (`birnn.saving`)."""

from __future__ import annotations

import io
import json
import re
import shutil
import zipfile
from pathlib import Path

import h5py
import numpy as np
import pytest

from birnn.saving import KerasFile, read_keras_file, read_weights_file

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "files"
TF_KERAS = GOLDEN / "tf-keras-2.21"
KERAS3 = GOLDEN / "keras-3.15"
MODELS = ("masked_tagger", "spec_example_1", "spec_example_2")
ALL_FILES = [TF_KERAS / f"{m}.{ext}" for m in MODELS for ext in ("h5", "keras")] + [
    KERAS3 / f"{m}.keras" for m in MODELS
]


def _config_layers(config: dict) -> list[dict]:
    return [layer for layer in config["config"]["layers"] if layer["class_name"] != "InputLayer"]


def _ids(paths):
    return [f"{p.parent.name}/{p.name}" for p in paths]


# --- Reading the golden files ------------------------------------------------------------


@pytest.mark.parametrize("path", ALL_FILES, ids=_ids(ALL_FILES))
def test_layer_names_of_config_are_the_weights_keys_in_order(path):
    keras_file = read_keras_file(path)
    assert isinstance(keras_file, KerasFile)
    names = [layer["config"]["name"] for layer in _config_layers(keras_file.config)]
    assert list(keras_file.weights) == names
    for arrays in keras_file.weights.values():
        assert all(isinstance(a, np.ndarray) and a.dtype == np.float32 for a in arrays)


@pytest.mark.parametrize(
    "path, expected_format, expected_version",
    [
        (TF_KERAS / "spec_example_1.h5", "h5", "2.21.0"),
        (TF_KERAS / "spec_example_1.keras", "keras-v2", "2.21.0"),
        (KERAS3 / "spec_example_1.keras", "keras-v3", "3.15.1"),
    ],
)
def test_format_and_version(path, expected_format, expected_version):
    keras_file = read_keras_file(path)
    assert keras_file.format == expected_format
    assert keras_file.keras_version == expected_version
    assert keras_file.config["class_name"] == "Sequential"


@pytest.mark.parametrize("folder", [TF_KERAS, KERAS3], ids=["tf-keras", "keras3"])
def test_spec_example_1_shapes_are_keras2_shapes(folder):
    path = folder / ("spec_example_1.keras")
    shapes = {
        name: [a.shape for a in arrays] for name, arrays in read_keras_file(path).weights.items()
    }
    # Bidirectional(LSTM(10)) on (5, 10), per direction:
    # kernel (10, 40), recurrent (10, 40), bias (40,).
    lstm_on_10 = [(10, 40), (10, 40), (40,)]
    # The second one sees the concatenated 20 features.
    lstm_on_20 = [(20, 40), (10, 40), (40,)]
    assert shapes == {
        "bidirectional": lstm_on_10 * 2,
        "bidirectional_1": lstm_on_20 * 2,
        "dense": [(20, 5), (5,)],
        "activation": [],
    }


@pytest.mark.parametrize("folder", [TF_KERAS, KERAS3], ids=["tf-keras", "keras3"])
def test_masked_tagger_shapes_are_keras2_shapes(folder):
    weights = read_keras_file(folder / "masked_tagger.keras").weights
    shapes = {name: [a.shape for a in arrays] for name, arrays in weights.items()}
    # GRU(6, reset_after=True) on 8 features: bias holds input and recurrent biases.
    gru = [(8, 18), (6, 18), (2, 18)]
    assert shapes == {"embedding": [(50, 8)], "bidirectional_3": gru * 2, "dense_2": [(6, 4), (4,)]}


@pytest.mark.parametrize("model", MODELS)
def test_h5_and_keras_files_of_tf_keras_hold_identical_arrays(model):
    from_h5 = read_keras_file(TF_KERAS / f"{model}.h5")
    from_zip = read_keras_file(TF_KERAS / f"{model}.keras")
    assert list(from_h5.weights) == list(from_zip.weights)
    for name in from_h5.weights:
        assert len(from_h5.weights[name]) == len(from_zip.weights[name])
        for a, b in zip(from_h5.weights[name], from_zip.weights[name], strict=True):
            np.testing.assert_array_equal(a, b)


def test_format_is_detected_by_content_not_extension(tmp_path):
    h5_named_keras = tmp_path / "model.keras"
    zip_named_h5 = tmp_path / "model.h5"
    shutil.copy(TF_KERAS / "spec_example_2.h5", h5_named_keras)
    shutil.copy(TF_KERAS / "spec_example_2.keras", zip_named_h5)
    assert read_keras_file(h5_named_keras).format == "h5"
    assert read_keras_file(zip_named_h5).format == "keras-v2"
    assert read_keras_file(str(zip_named_h5)).format == "keras-v2"


# --- The weights reproduce the golden outputs ----------------------------------------------
# A float64 NumPy forward pass of the three golden models, written from the Keras 2
# equations; it only passes if every array is where the weights dict says it is.


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _softmax(x):
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


_ACTIVATIONS = {
    "tanh": np.tanh,
    "sigmoid": _sigmoid,
    "relu": lambda x: np.maximum(x, 0.0),
    "linear": lambda x: x,
    "softmax": _softmax,
}


def _run_rnn(layer, weights, x, mask):
    """Returns (outputs in processing order, last state) of an LSTM or GRU."""
    cfg = layer["config"]
    act = _ACTIVATIONS[cfg["activation"]]
    ract = _ACTIVATIONS[cfg["recurrent_activation"]]
    kernel, recurrent, bias = weights
    units = recurrent.shape[0]
    h = np.zeros((x.shape[0], units))
    c = np.zeros_like(h)
    steps = range(x.shape[1] - 1, -1, -1) if cfg["go_backwards"] else range(x.shape[1])
    outputs = []
    for t in steps:
        if layer["class_name"] == "LSTM":
            i, f, g, o = np.split(x[:, t] @ kernel + h @ recurrent + bias, 4, axis=-1)
            c_new = ract(f) * c + ract(i) * act(g)
            h_new = ract(o) * act(c_new)
        else:  # GRU with reset_after=True: bias[0] for inputs, bias[1] for the state.
            xw = x[:, t] @ kernel + bias[0]
            hw = h @ recurrent + bias[1]
            z = ract(xw[:, :units] + hw[:, :units])
            r = ract(xw[:, units : 2 * units] + hw[:, units : 2 * units])
            h_new = z * h + (1 - z) * act(xw[:, 2 * units :] + r * hw[:, 2 * units :])
            c_new = c
        keep = np.ones((x.shape[0], 1), bool) if mask is None else mask[:, t : t + 1]
        h, c = np.where(keep, h_new, h), np.where(keep, c_new, c)
        outputs.append(np.where(keep, h_new, 0.0))
    return np.stack(outputs, axis=1), h


def _run_model(config, weights, x):
    from birnn.layers._keras3_config import keras3_to_keras2_config

    config = keras3_to_keras2_config(config)
    mask = None
    for layer in _config_layers(config):
        cfg, w = layer["config"], weights[layer["config"]["name"]]
        if layer["class_name"] == "Embedding":
            mask = (x != 0) if cfg["mask_zero"] else None
            x = w[0][x].astype(np.float64)
        elif layer["class_name"] == "Bidirectional":
            forward = cfg["layer"]
            backward = cfg.get("backward_layer") or {
                "class_name": forward["class_name"],
                "config": {**forward["config"], "go_backwards": True},
            }
            n = len(w) // 2
            f_seq, f_last = _run_rnn(forward, w[:n], x, mask)
            b_seq, b_last = _run_rnn(backward, w[n:], x, mask)
            if forward["config"]["return_sequences"]:
                a, b = f_seq, b_seq[:, ::-1]
            else:
                a, b, mask = f_last, b_last, None
            x = np.concatenate([a, b], -1) if cfg["merge_mode"] == "concat" else a + b
        elif layer["class_name"] == "Dense":
            x = _ACTIVATIONS[cfg["activation"]](x @ w[0] + w[1])
        elif layer["class_name"] == "Activation":
            x = _ACTIVATIONS[cfg["activation"]](x)
        else:
            raise AssertionError(layer["class_name"])
    return x


@pytest.mark.parametrize("path", ALL_FILES, ids=_ids(ALL_FILES))
def test_weights_reproduce_golden_outputs(path):
    keras_file = read_keras_file(path)
    data = np.load(path.with_suffix(".io.npz"))
    x = data["x"] if data["x"].dtype.kind == "i" else data["x"].astype(np.float64)
    y = _run_model(keras_file.config, keras_file.weights, x)
    np.testing.assert_allclose(y, data["y"], rtol=0, atol=1e-6)


# --- Stand-alone weights files -------------------------------------------------------------


def _legacy_weights_file(tmp_path: Path, model: str) -> Path:
    """Writes what tf-keras `save_weights("w.h5")` writes: `model_weights` at the root."""
    out = tmp_path / f"{model}.weights.h5"
    with h5py.File(TF_KERAS / f"{model}.h5", "r") as src, h5py.File(out, "w") as dst:
        for key, value in src["model_weights"].attrs.items():
            dst.attrs[key] = value
        for key in src["model_weights"]:
            src.copy(src["model_weights"][key], dst, name=key)
    return out


def _keras3_weights_file(tmp_path: Path, model: str) -> Path:
    """Writes what Keras 3 `save_weights("w.weights.h5")` writes: the archive's weights."""
    out = tmp_path / f"{model}.weights.h5"
    with zipfile.ZipFile(KERAS3 / f"{model}.keras") as archive:
        out.write_bytes(archive.read("model.weights.h5"))
    return out


def _assert_same_weights(a: dict, b: dict) -> None:
    assert list(a) == list(b)
    for name in a:
        assert len(a[name]) == len(b[name])
        for x, y in zip(a[name], b[name], strict=True):
            np.testing.assert_array_equal(x, y)


@pytest.mark.parametrize("model", MODELS)
def test_legacy_weights_file(tmp_path, model):
    expected = read_keras_file(TF_KERAS / f"{model}.h5").weights
    _assert_same_weights(read_weights_file(_legacy_weights_file(tmp_path, model)), expected)
    # A full model file also serves as a weights file, as in Keras.
    _assert_same_weights(read_weights_file(TF_KERAS / f"{model}.h5"), expected)


@pytest.mark.parametrize("model", MODELS)
def test_keras3_weights_file_needs_and_uses_the_config(tmp_path, model):
    keras_file = read_keras_file(KERAS3 / f"{model}.keras")
    path = _keras3_weights_file(tmp_path, model)
    _assert_same_weights(read_weights_file(path, keras_file.config), keras_file.weights)
    with pytest.raises(ValueError, match=r"Expected `config`.*Received: config=None"):
        read_weights_file(path)


def test_keras_archive_as_weights_file_uses_its_own_config():
    path = TF_KERAS / "spec_example_1.keras"
    _assert_same_weights(read_weights_file(path), read_keras_file(path).weights)


def test_keras3_weights_with_a_keras2_config():
    # Class and layer names agree between the two styles, which is all the mapping needs.
    keras2_config = read_keras_file(TF_KERAS / "spec_example_2.keras").config
    weights = read_weights_file(KERAS3 / "spec_example_2.keras", keras2_config)
    assert [a.shape for a in weights["bidirectional_2"]] == [(10, 40), (10, 40), (40,)] * 2


def test_chunked_layer_names_attribute(tmp_path):
    path = _legacy_weights_file(tmp_path, "spec_example_1")
    with h5py.File(path, "a") as f:
        names = list(f.attrs["layer_names"])
        del f.attrs["layer_names"]
        f.attrs["layer_names0"] = np.array(names[:2], dtype=object)
        f.attrs["layer_names1"] = np.array(names[2:], dtype=object)
    assert list(read_weights_file(path)) == [
        "bidirectional",
        "bidirectional_1",
        "dense",
        "activation",
    ]


def test_legacy_bidirectional_weights_come_forward_first(tmp_path):
    # Keras 2 stores trainable weights first: with only the forward layer frozen,
    # the backward weights come first in the file.
    path = _legacy_weights_file(tmp_path, "spec_example_2")
    with h5py.File(path, "a") as f:
        names = list(f["bidirectional_2"].attrs["weight_names"])
        f["bidirectional_2"].attrs["weight_names"] = np.array(names[3:] + names[:3], dtype=object)
    config = read_keras_file(TF_KERAS / "spec_example_2.h5").config
    expected = read_keras_file(TF_KERAS / "spec_example_2.h5").weights["bidirectional_2"]
    swapped = read_weights_file(path)["bidirectional_2"]
    np.testing.assert_array_equal(swapped[0], expected[3])
    reordered = read_weights_file(path, config)["bidirectional_2"]
    for a, b in zip(reordered, expected, strict=True):
        np.testing.assert_array_equal(a, b)


# --- Errors --------------------------------------------------------------------------------


def _assert_error(path, pattern, reader=read_keras_file):
    with pytest.raises(ValueError) as info:
        reader(path)
    message = str(info.value)
    assert "Expected" in message and "Received" in message, message
    assert str(path) in message, message
    assert re.search(pattern, message), message


def test_missing_path(tmp_path):
    _assert_error(tmp_path / "nope.keras", "no such file")
    _assert_error(tmp_path / "nope.h5", "no such file", read_weights_file)


def test_directory(tmp_path):
    _assert_error(tmp_path, "directory")


def test_neither_hdf5_nor_zip(tmp_path):
    path = tmp_path / "model.keras"
    path.write_text('{"class_name": "Sequential"}')
    _assert_error(path, "HDF5 file .* or a zip archive")
    _assert_error(path, "HDF5 file .* or a zip archive", read_weights_file)
    empty = tmp_path / "empty.h5"
    empty.write_bytes(b"")
    _assert_error(empty, "neither")


def _rezip(src: Path, dst: Path, drop=(), replace=None) -> None:
    replace = replace or {}
    with zipfile.ZipFile(src) as old, zipfile.ZipFile(dst, "w") as new:
        for name in old.namelist():
            if name not in drop:
                new.writestr(name, replace.get(name, old.read(name)))


def test_zip_without_config_json(tmp_path):
    path = tmp_path / "model.keras"
    _rezip(TF_KERAS / "spec_example_1.keras", path, drop=("config.json",))
    _assert_error(path, r"contain 'config.json'")


def test_zip_without_weights(tmp_path):
    path = tmp_path / "model.keras"
    _rezip(KERAS3 / "spec_example_1.keras", path, drop=("model.weights.h5",))
    _assert_error(path, r"contain 'model.weights.h5'")


def test_zip_with_bad_json(tmp_path):
    path = tmp_path / "model.keras"
    _rezip(KERAS3 / "spec_example_1.keras", path, replace={"config.json": b"{not json"})
    _assert_error(path, "JSON")


@pytest.mark.parametrize(
    "source", [TF_KERAS / "spec_example_1.keras", TF_KERAS / "spec_example_1.h5"]
)
@pytest.mark.parametrize("keep", [0.5, 0.9])
def test_truncated_file(tmp_path, source, keep):
    data = source.read_bytes()
    path = tmp_path / source.name
    path.write_bytes(data[: int(len(data) * keep)])
    _assert_error(path, "truncated or corrupt")


def test_corrupt_weights_inside_zip(tmp_path):
    path = tmp_path / "model.keras"
    _rezip(
        KERAS3 / "spec_example_1.keras",
        path,
        replace={"model.weights.h5": b"\x89HDF\r\n\x1a\n" + b"\0" * 64},
    )
    _assert_error(path, "truncated or corrupt")


def test_zip_missing_layer_group(tmp_path):
    with zipfile.ZipFile(KERAS3 / "spec_example_2.keras") as archive:
        h5_bytes = archive.read("model.weights.h5")
    buffer = io.BytesIO(h5_bytes)
    with h5py.File(buffer, "a") as f:
        del f["layers/dense"]
    path = tmp_path / "model.keras"
    _rezip(KERAS3 / "spec_example_2.keras", path, replace={"model.weights.h5": buffer.getvalue()})
    _assert_error(path, r"weights group 'layers/dense'.*'dense_1'")


def test_zip_missing_nested_group(tmp_path):
    with zipfile.ZipFile(TF_KERAS / "spec_example_1.keras") as archive:
        buffer = io.BytesIO(archive.read("model.weights.h5"))
    with h5py.File(buffer, "a") as f:
        del f["layers/bidirectional_1/backward_layer"]
    path = tmp_path / "model.keras"
    _rezip(TF_KERAS / "spec_example_1.keras", path, replace={"model.weights.h5": buffer.getvalue()})
    _assert_error(path, r"backward_layer")


def _config_of(archive_path: Path) -> dict:
    with zipfile.ZipFile(archive_path) as archive:
        return json.loads(archive.read("config.json"))


def test_zip_config_with_a_layer_the_weights_lack(tmp_path):
    # A second Bidirectional in the config: Keras would look for 'layers/bidirectional_1'.
    config = _config_of(TF_KERAS / "spec_example_2.keras")
    config["config"]["layers"].insert(1, json.loads(json.dumps(config["config"]["layers"][1])))
    config["config"]["layers"][1]["config"]["name"] = "extra"
    path = tmp_path / "model.keras"
    _rezip(TF_KERAS / "spec_example_2.keras", path, replace={"config.json": json.dumps(config)})
    _assert_error(path, r"weights group 'layers/bidirectional_1'.*'bidirectional_2'")


def test_keras3_archive_whose_names_disagree_with_its_config(tmp_path):
    config = _config_of(KERAS3 / "spec_example_2.keras")
    config["config"]["layers"][2]["config"]["name"] = "renamed"
    path = tmp_path / "model.keras"
    _rezip(KERAS3 / "spec_example_2.keras", path, replace={"config.json": json.dumps(config)})
    _assert_error(path, r"belong to layer 'renamed'.*saved for layer 'dense_1'")


def test_weights_file_maps_by_class_and_position_not_name():
    # As in Keras, another model's config with other names still receives the weights.
    config = _config_of(KERAS3 / "spec_example_2.keras")
    for i, layer in enumerate(config["config"]["layers"]):
        layer["config"]["name"] = f"other_{i}"
    weights = read_weights_file(KERAS3 / "spec_example_2.keras", config)
    expected = read_keras_file(KERAS3 / "spec_example_2.keras").weights
    assert list(weights) == ["other_1", "other_2", "other_3"]
    _assert_same_weights(dict(zip(expected, weights.values(), strict=True)), expected)


def test_h5_missing_layer_group(tmp_path):
    path = tmp_path / "model.h5"
    shutil.copy(TF_KERAS / "spec_example_2.h5", path)
    with h5py.File(path, "a") as f:
        del f["model_weights/dense_1"]
    _assert_error(path, r"layer 'dense_1'")


def test_h5_layer_of_config_not_in_file(tmp_path):
    path = tmp_path / "model.h5"
    shutil.copy(TF_KERAS / "spec_example_2.h5", path)
    with h5py.File(path, "a") as f:
        group = f["model_weights"]
        names = [n for n in group.attrs["layer_names"] if n not in ("dense_1", b"dense_1")]
        group.attrs["layer_names"] = np.array(names, dtype=object)
        del group["dense_1"]
    _assert_error(path, r"layer 'dense_1', which the model config")


def test_weights_only_h5_is_not_a_model_file(tmp_path):
    _assert_error(_legacy_weights_file(tmp_path, "spec_example_1"), "model_config")


def test_hdf5_that_is_not_a_keras_file(tmp_path):
    path = tmp_path / "data.h5"
    with h5py.File(path, "w") as f:
        f["x"] = np.zeros(3)
    _assert_error(path, "Keras weights file", read_weights_file)
    _assert_error(path, "model_config")


def test_keras3_operations_in_a_config_are_not_layers(tmp_path):
    # Keras 3 Functional configs list bare ops (e.g. a Masking layer's `NotEqual`);
    # they hold no weights and have no group in the file.
    config = _config_of(KERAS3 / "spec_example_2.keras")
    operation = {
        "module": "keras.src.ops.numpy",
        "class_name": "NotEqual",
        "config": {"name": "not_equal"},
    }
    config["config"]["layers"].insert(1, operation)
    path = tmp_path / "model.keras"
    _rezip(KERAS3 / "spec_example_2.keras", path, replace={"config.json": json.dumps(config)})
    assert list(read_keras_file(path).weights) == ["bidirectional_2", "dense_1", "activation_1"]


def test_unknown_nested_weights_are_refused(tmp_path):
    with zipfile.ZipFile(TF_KERAS / "spec_example_2.keras") as archive:
        buffer = io.BytesIO(archive.read("model.weights.h5"))
    with h5py.File(buffer, "a") as f:
        f["layers/dense/extra/vars/0"] = np.zeros(3, np.float32)
    path = tmp_path / "model.keras"
    _rezip(TF_KERAS / "spec_example_2.keras", path, replace={"model.weights.h5": buffer.getvalue()})
    _assert_error(path, r"2 weight\(s\) of layer 'dense_1'.*3 datasets")
