"""load_model, model_from_json and load_weights on the Keras files of tf-keras 2.21 and
Keras 3.15: every golden file loads and computes what Keras computed."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import h5py
import numpy as np
import pytest
import torch

from birnn.layers import GRU, Bidirectional, Dense, Embedding
from birnn.models import Sequential, load_model, model_from_json

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "files"
MODELS = ("masked_tagger", "spec_example_1", "spec_example_2")
FILES = [GOLDEN / "tf-keras-2.21" / f"{m}.{ext}" for m in MODELS for ext in ("h5", "keras")] + [
    GOLDEN / "keras-3.15" / f"{m}.keras" for m in MODELS
]
IDS = [f"{p.parent.name}/{p.name}" for p in FILES]


def _io(path: Path) -> tuple[np.ndarray, np.ndarray]:
    arrays = np.load(path.with_name(path.stem + ".io.npz"))
    return arrays["x"], arrays["y"]


def _rewrite_archive(source: Path, target: Path, edit) -> Path:
    with zipfile.ZipFile(source) as original, zipfile.ZipFile(target, "w") as copy:
        for item in original.namelist():
            data = original.read(item)
            if item == "config.json":
                data = json.dumps(edit(json.loads(data))).encode()
            copy.writestr(item, data)
    return target


@pytest.mark.parametrize("path", FILES, ids=IDS)
def test_every_keras_file_loads_and_matches_keras_outputs(path):
    x, y = _io(path)
    model = load_model(path)
    np.testing.assert_allclose(model.predict(x, verbose=0), y, atol=1e-5, rtol=0)


def test_the_masked_tagger_carries_its_padding_mask():
    path = GOLDEN / "keras-3.15" / "masked_tagger.keras"
    x, _ = _io(path)
    model = load_model(path)
    names = [type(layer).__name__ for layer in model.layers]
    assert names == ["Embedding", "Bidirectional", "Dense"]
    assert model(torch.tensor(x))._keras_mask.tolist() == (x != 0).tolist()


@pytest.mark.parametrize("model_name", MODELS)
def test_keras_3_config_json_reads_with_model_from_json(model_name):
    path = GOLDEN / "keras-3.15" / f"{model_name}.keras"
    with zipfile.ZipFile(path) as archive:
        text = archive.read("config.json").decode()
    model = model_from_json(text)
    reference = load_model(path)
    assert [w.shape for w in model.get_weights()] == [w.shape for w in reference.get_weights()]


def test_load_weights_reads_keras_files_by_name_and_by_order():
    path = GOLDEN / "tf-keras-2.21" / "masked_tagger.h5"
    x, y = _io(path)
    with h5py.File(path) as f:
        config = f.attrs["model_config"]
    same_names = model_from_json(config)
    same_names.load_weights(path)
    np.testing.assert_allclose(same_names.predict(x, verbose=0), y, atol=1e-5)
    other_names = Sequential(
        [
            Embedding(50, 8, mask_zero=True),
            Bidirectional(GRU(6, return_sequences=True), merge_mode="sum"),
            Dense(4, activation="softmax"),
        ]
    )
    other_names.build((None, None))
    other_names.load_weights(path)
    np.testing.assert_allclose(other_names.predict(x, verbose=0), y, atol=1e-5)
    keras_archive = GOLDEN / "keras-3.15" / "masked_tagger.keras"
    same_names.load_weights(keras_archive)
    x3, y3 = _io(keras_archive)
    np.testing.assert_allclose(same_names.predict(x3, verbose=0), y3, atol=1e-5)


def test_load_weights_with_the_wrong_shapes_changes_nothing():
    model = Sequential(
        [Embedding(50, 8, mask_zero=True), Bidirectional(GRU(5, return_sequences=True))]
    )
    model.build((None, None))
    before = model.get_weights()
    with pytest.raises(ValueError, match="Expected"):
        model.load_weights(GOLDEN / "tf-keras-2.21" / "masked_tagger.h5")
    for old, new in zip(before, model.get_weights()):
        np.testing.assert_array_equal(old, new)


def test_unsupported_layers_are_refused_by_name(tmp_path):
    def swap_activation(config):
        for layer in config["config"]["layers"]:
            if layer["class_name"] == "Activation":
                layer["class_name"] = "LayerNormalization"
        return config

    source = GOLDEN / "tf-keras-2.21" / "spec_example_1.keras"
    path = _rewrite_archive(source, tmp_path / "m.keras", swap_activation)
    with pytest.raises(ValueError, match="LayerNormalization"):
        load_model(path)


def test_subclassed_models_are_refused_by_name():
    with pytest.raises(ValueError, match="expected a Sequential or Functional model.*'MyModel'"):
        model_from_json(json.dumps({"class_name": "MyModel", "config": {"layers": []}}))


@pytest.mark.parametrize("content", [b"", b"not a model at all", b"PK\x03\x04broken zip"])
def test_files_that_are_not_keras_models_are_refused(tmp_path, content):
    path = tmp_path / "junk.keras"
    path.write_bytes(content)
    with pytest.raises(ValueError, match="Expected"):
        load_model(path)
    with pytest.raises(ValueError, match="no such file"):
        load_model(tmp_path / "missing.h5")


def test_a_saved_training_configuration_is_compiled_in(tmp_path):
    def compiled(config):
        config["compile_config"] = {
            "optimizer": {"class_name": "Adam", "config": {"learning_rate": 0.01}},
            "loss": "categorical_crossentropy",
            "metrics": ["accuracy"],
        }
        return config

    source = GOLDEN / "tf-keras-2.21" / "spec_example_2.keras"
    model = load_model(_rewrite_archive(source, tmp_path / "c.keras", compiled))
    x, _ = _io(source)
    history = model.fit(x, np.eye(5)[np.zeros((4, 5), int)], epochs=1, verbose=0)
    assert set(history.history) == {"loss", "accuracy"}
    assert type(model.optimizer).__name__ == "Adam" and model.optimizer.learning_rate == 0.01


def test_an_unusable_training_configuration_warns_and_loads_uncompiled(tmp_path):
    def odd(config):
        config["compile_config"] = {"optimizer": "rmsprop", "loss": "cosine_similarity_xl"}
        return config

    source = GOLDEN / "keras-3.15" / "spec_example_1.keras"
    with pytest.warns(UserWarning, match="not compiled"):
        model = load_model(_rewrite_archive(source, tmp_path / "w.keras", odd))
    assert model.compiled_loss is None


def test_load_model_tells_formats_by_content_not_name(tmp_path):
    source = GOLDEN / "tf-keras-2.21" / "spec_example_1.h5"
    renamed = tmp_path / "model.bin"
    shutil.copy(source, renamed)
    x, y = _io(source)
    np.testing.assert_allclose(load_model(renamed).predict(x, verbose=0), y, atol=1e-5)


KERAS3_ADAM = {
    "module": "keras.optimizers",
    "class_name": "Adam",
    "config": {
        "name": "adam",
        "learning_rate": 0.002,
        "weight_decay": None,
        "clipnorm": None,
        "global_clipnorm": None,
        "clipvalue": None,
        "use_ema": False,
        "ema_momentum": 0.99,
        "ema_overwrite_frequency": None,
        "loss_scale_factor": None,
        "gradient_accumulation_steps": None,
        "beta_1": 0.9,
        "beta_2": 0.999,
        "epsilon": 1e-07,
        "amsgrad": False,
    },
    "registered_name": None,
}
TF_KERAS_ADAM = {
    "class_name": "Custom>Adam",
    "config": {
        "name": "Adam",
        "weight_decay": None,
        "clipnorm": None,
        "global_clipnorm": None,
        "clipvalue": None,
        "use_ema": False,
        "ema_momentum": 0.99,
        "ema_overwrite_frequency": None,
        "jit_compile": True,
        "is_legacy_optimizer": False,
        "learning_rate": 0.002,
        "beta_1": 0.9,
        "beta_2": 0.999,
        "epsilon": 1e-07,
        "amsgrad": False,
    },
}


def test_keras3_compile_config_as_keras_writes_it_is_compiled_in(tmp_path, recwarn):
    def compiled(config):
        config["compile_config"] = {
            "optimizer": KERAS3_ADAM,
            "loss": "sparse_categorical_crossentropy",
            "loss_weights": None,
            "metrics": ["accuracy"],
            "weighted_metrics": None,
            "run_eagerly": False,
            "steps_per_execution": 1,
            "jit_compile": False,
        }
        return config

    source = GOLDEN / "keras-3.15" / "masked_tagger.keras"
    model = load_model(_rewrite_archive(source, tmp_path / "k3.keras", compiled))
    assert not [w for w in recwarn if "not compiled" in str(w.message)]
    x, _ = _io(source)
    history = model.fit(x, np.ones(x.shape, int), epochs=1, verbose=0)
    assert set(history.history) == {"loss", "accuracy"}
    assert type(model.optimizer).__name__ == "Adam" and model.optimizer.learning_rate == 0.002


def test_tf_keras_h5_training_config_is_compiled_in(tmp_path, recwarn):
    import json
    import shutil

    import h5py

    path = tmp_path / "compiled.h5"
    shutil.copy(GOLDEN / "tf-keras-2.21" / "masked_tagger.h5", path)
    metric = {
        "class_name": "MeanMetricWrapper",
        "config": {"name": "accuracy", "dtype": "float32", "fn": "sparse_categorical_accuracy"},
    }
    with h5py.File(path, "a") as f:
        f.attrs["training_config"] = json.dumps(
            {
                "loss": "sparse_categorical_crossentropy",
                "metrics": [[metric]],
                "weighted_metrics": None,
                "loss_weights": None,
                "optimizer_config": TF_KERAS_ADAM,
            }
        )
    model = load_model(path)
    assert not [w for w in recwarn if "not compiled" in str(w.message)]
    x, _ = _io(GOLDEN / "tf-keras-2.21" / "masked_tagger.h5")
    history = model.fit(x, np.ones(x.shape, int), epochs=1, verbose=0)
    assert "sparse_categorical_accuracy" in history.history
    assert type(model.optimizer).__name__ == "Adam" and model.optimizer.learning_rate == 0.002
