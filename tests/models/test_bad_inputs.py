"""Bad inputs to models, their layers and model files get a clear error.

The same table as ``tests/test_bad_inputs.py`` (its ``Bad`` rows and its check), for
``birnn.models`` (``Sequential``, ``fit``/``evaluate``/``predict``, ``set_weights``,
``model_from_json``), the non-recurrent layers (``Dense``, ``Embedding``, ``Masking``,
``TimeDistributed``, ``Dropout``, ``InputLayer``) and files (``load_model``,
``load_weights``). Every row runs in its own scratch directory: the bad files are built
there from the golden files (truncated, patched, zip members rewritten) under short
relative names, which the messages show. ``docs/bad_inputs.md`` lists the rows.
"""

from __future__ import annotations

import json
import os
import shutil
import zipfile
from collections.abc import Callable
from pathlib import Path

import h5py
import numpy as np
import pytest
import torch

from birnn.layers import (
    LSTM,
    Bidirectional,
    Dense,
    Dropout,
    Embedding,
    InputLayer,
    Masking,
    TimeDistributed,
)
from birnn.models import Sequential, load_model, model_from_json

from ..test_bad_inputs import Bad, check_bad_input

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "files"
TF_KERAS = GOLDEN / "tf-keras-2.21"
KERAS_3 = GOLDEN / "keras-3.15"

X = np.zeros((4, 3), np.float32)
Y = np.zeros((4, 2), np.float32)


# -- models ----------------------------------------------------------------------------------


def _dense(loss: str | None = "mse") -> Sequential:
    """``Dense(2)`` on 3 features, compiled with ``loss`` unless it is None."""
    model = Sequential([Dense(2, input_shape=(3,), name="out")], name="model")
    if loss is not None:
        model.compile(optimizer="sgd", loss=loss)
    return model


def _tagger() -> Sequential:
    """A small sequence tagger on ``(batch, 5, 3)`` inputs."""
    model = Sequential(
        [
            Bidirectional(LSTM(4, return_sequences=True), input_shape=(5, 3), name="bi"),
            Dense(2, name="out"),
        ],
        name="tagger",
    )
    model.compile(optimizer="sgd", loss="mse")
    return model


def _json(*layers: dict, **config) -> str:
    return json.dumps({"class_name": "Sequential", "config": {"layers": list(layers), **config}})


def _dense_config(**config) -> dict:
    return {"class_name": "Dense", "config": {"units": 2, **config}}


# -- files (written to the current directory, a scratch one) ----------------------------------


def _copy(source: Path, name: str) -> str:
    shutil.copyfile(source, name)
    return name


def _write(name: str, data: bytes) -> str:
    Path(name).write_bytes(data)
    return name


def _truncated(source: Path | str, name: str, keep: float = 0.5) -> str:
    data = Path(source).read_bytes()
    return _write(name, data[: int(len(data) * keep)])


def _rewritten(source: Path, name: str, **edits: Callable[[bytes], bytes | None]) -> str:
    """A copy of the zip ``source`` with members edited (``config_json`` for
    ``config.json``...); an edit returning None drops the member."""
    with zipfile.ZipFile(source) as original, zipfile.ZipFile(name, "w") as copy:
        for member in original.namelist():
            edit = edits.get(member.replace(".", "_"), lambda data: data)
            data = edit(original.read(member))
            if data is not None:
                copy.writestr(member, data)
    return name


def _replace(old: bytes, new: bytes, count: int = 1) -> Callable[[bytes], bytes]:
    def edit(data: bytes) -> bytes:
        assert old in data
        return data.replace(old, new, count)

    return edit


def _without_attribute(source: Path, name: str, attribute: str = "model_config") -> str:
    _copy(source, name)
    with h5py.File(name, "r+") as f:
        del f.attrs[attribute]
    return name


def _saved(name: str = "tagger.birnn", weights_only: bool = False) -> str:
    model = _tagger()
    (model.save_weights if weights_only else model.save)(name)
    return name


def _resaved(name: str, edit: Callable[[dict, dict], None]) -> str:
    """A birnn file of ``_tagger()`` whose tensors and metadata ``edit`` changed."""
    from safetensors import safe_open
    from safetensors.torch import save_file

    with safe_open(_saved(), framework="pt") as f:
        metadata = dict(f.metadata())
        tensors = {key: f.get_tensor(key) for key in f.keys()}
    edit(tensors, metadata)
    save_file(tensors, name, metadata=metadata)
    return name


def _patched_birnn_header(name: str) -> str:
    data = bytearray(Path(_saved()).read_bytes())
    data[9] = ord("#")  # The header's first key loses its opening quote.
    return _write(name, bytes(data))


def _directory(name: str) -> str:
    os.mkdir(name)
    return name


MODEL_BAD_INPUTS = [
    # -- Sequential ------------------------------------------------------------------------
    Bad(
        "add-not-a-layer",
        lambda: Sequential().add(3),
        TypeError,
        ("Sequential.add: the added layer must be a layer", "Received: layer=3 of type int"),
    ),
    Bad(
        "add-a-layer-class",
        lambda: Sequential([Dense]),
        TypeError,
        ("the added layer must be a layer (a torch.nn.Module)", "of type type"),
    ),
    Bad(
        "add-input-layer-after-layers",
        lambda: Sequential([Dense(2), InputLayer(input_shape=(3,))]),
        ValueError,
        ("an InputLayer must come first", "Received: an InputLayer after 1 layer(s)"),
    ),
    Bad(
        "add-duplicate-layer-name",
        lambda: Sequential([Dense(2, name="out"), Dense(2, name="out")]),
        ValueError,
        ("must have unique names", "Received: a second layer named 'out'"),
    ),
    # -- fit / evaluate / predict: arrays --------------------------------------------------
    Bad(
        "fit-x-y-different-lengths",
        lambda: _dense().fit(X, Y[:3], verbose=0),
        ValueError,
        ("x and y must have the same number of samples", "Received: x with 4, y with 3"),
    ),
    Bad(
        "evaluate-x-y-different-lengths",
        lambda: _dense().evaluate(X[:2], Y, verbose=0),
        ValueError,
        ("x and y must have the same number of samples", "Received: x with 2, y with 4"),
    ),
    Bad(
        "fit-validation-data-different-lengths",
        lambda: _dense().fit(X, Y, validation_data=(X, Y[:2]), verbose=0),
        ValueError,
        ("validation_data[0] and validation_data[1] must have the same number", "with 2"),
    ),
    Bad(
        "fit-validation-data-not-a-pair",
        lambda: _dense().fit(X, Y, validation_data=(X, Y, Y), verbose=0),
        ValueError,
        ("validation_data must be a tuple (x_val, y_val)", "Received: tuple of length 3"),
    ),
    Bad(
        "predict-wrong-feature-size",
        lambda: _dense().predict(np.zeros((4, 5)), verbose=0),
        ValueError,
        ("Dense 'out': inputs must have 3 features", "Received: shape (4, 5)"),
    ),
    Bad(
        "fit-wrong-rank",
        lambda: _tagger().fit(np.zeros((4, 3)), np.zeros((4, 5, 2)), verbose=0),
        ValueError,
        ("inputs must be 3-D (batch, time, features)", "Received: shape (4, 3)"),
    ),
    Bad(
        "predict-strings",
        lambda: _dense().predict(np.array([["a", "b", "c"]]), verbose=0),
        ValueError,
        ("x must be a numeric array or tensor", "Received: ndarray", "numpy.str_"),
    ),
    Bad(
        "fit-y-objects",
        lambda: _dense().fit(X, np.array([[1, None]] * 4, dtype=object), verbose=0),
        ValueError,
        ("y must be a numeric array or tensor", "Received: ndarray", "numpy.object_"),
    ),
    Bad(
        "predict-list-of-arrays",
        lambda: _dense().predict([X, X], verbose=0),
        ValueError,
        ("x must be one array or tensor", "Received: a list of 2 arrays"),
    ),
    Bad(
        "fit-x-none",
        lambda: _dense().fit(None, Y, verbose=0),
        ValueError,
        ("x must be an array or tensor", "Received: None"),
    ),
    Bad(
        "predict-no-samples",
        lambda: _dense().predict(np.zeros((0, 3)), verbose=0),
        ValueError,
        ("x must hold at least one sample", "Received: 0 samples"),
    ),
    # -- targets that do not fit the loss --------------------------------------------------
    Bad(
        "fit-y-wrong-shape-mse",
        lambda: _dense().fit(X, np.zeros((4, 3)), verbose=0),
        ValueError,
        ("y must have the shape of the model's outputs (4, 2)", "Received: y of shape (4, 3)"),
    ),
    Bad(
        "fit-y-wrong-rank-mse",
        lambda: _tagger().fit(np.zeros((4, 5, 3)), np.zeros((4, 2)), verbose=0),
        ValueError,
        ("y must have the shape of the model's outputs (4, 5, 2)", "y of shape (4, 2)"),
    ),
    Bad(
        "fit-y-wrong-shape-categorical",
        lambda: _dense("categorical_crossentropy").fit(X, np.zeros((4, 3)), verbose=0),
        ValueError,
        ("outputs (4, 2) for loss 'categorical_crossentropy'", "Received: y of shape (4, 3)"),
    ),
    Bad(
        "evaluate-y-one-hot-for-sparse-loss",
        lambda: _dense("sparse_categorical_crossentropy").evaluate(X, Y, verbose=0),
        ValueError,
        ("y must hold one class id per output", "shape (4,)", "Received: y of shape (4, 2)"),
    ),
    Bad(
        "fit-y-class-ids-out-of-range",
        lambda: _dense("sparse_categorical_crossentropy").fit(X, np.arange(4), verbose=0),
        ValueError,
        ("y must hold class ids in [0, 2)", "Received: ids from 0 to 3"),
    ),
    # -- compile ---------------------------------------------------------------------------
    Bad(
        "compile-unknown-loss",
        lambda: _dense(None).compile(optimizer="sgd", loss="mean_sq_error"),
        ValueError,
        ("loss must be one of", "'mean_squared_error'", "Received: 'mean_sq_error'"),
    ),
    Bad(
        "compile-unknown-optimizer",
        lambda: _dense(None).compile(optimizer="adamw2", loss="mse"),
        ValueError,
        ("optimizer must be one of ['adagrad', 'adam',", "Received: 'adamw2'"),
    ),
    Bad(
        "compile-unknown-metric",
        lambda: _dense(None).compile(optimizer="sgd", loss="mse", metrics=["acuracy"]),
        ValueError,
        ("metrics must be names among ['acc', 'accuracy',", "Received: 'acuracy'"),
    ),
    Bad(
        "compile-loss-not-a-loss",
        lambda: _dense(None).compile(optimizer="sgd", loss=3),
        ValueError,
        ("loss must be a Keras loss name, a serialized Keras loss or a callable", "Received: 3"),
    ),
    Bad(
        "compile-loss-weights",
        lambda: _dense(None).compile(optimizer="sgd", loss="mse", loss_weights=[2.0, 1.0]),
        ValueError,
        ("loss_weights as a list must have one entry per output", "Received: 2 entries"),
    ),
    Bad(
        "fit-before-compile",
        lambda: _dense(None).fit(X, Y, verbose=0),
        ValueError,
        ("fit: the model needs a loss", "Expected model.compile", "an uncompiled model"),
    ),
    Bad(
        "evaluate-before-compile",
        lambda: _dense(None).evaluate(X, Y, verbose=0),
        ValueError,
        ("evaluate: the model needs a loss", "Received: an uncompiled model"),
    ),
    # -- fit options -----------------------------------------------------------------------
    Bad(
        "fit-negative-epochs",
        lambda: _dense().fit(X, Y, epochs=-1, verbose=0),
        ValueError,
        ("epochs must be an integer >= 0", "Received: epochs=-1"),
    ),
    Bad(
        "fit-float-epochs",
        lambda: _dense().fit(X, Y, epochs=2.5, verbose=0),
        ValueError,
        ("epochs must be an integer >= 0", "Received: epochs=2.5"),
    ),
    Bad(
        "fit-negative-initial-epoch",
        lambda: _dense().fit(X, Y, initial_epoch=-1, verbose=0),
        ValueError,
        ("initial_epoch must be an integer >= 0", "Received: initial_epoch=-1"),
    ),
    Bad(
        "fit-batch-size-zero",
        lambda: _dense().fit(X, Y, batch_size=0, verbose=0),
        ValueError,
        ("batch_size must be a positive integer", "Received: 0"),
    ),
    Bad(
        "predict-batch-size-float",
        lambda: _dense().predict(X, batch_size=2.0, verbose=0),
        ValueError,
        ("batch_size must be a positive integer", "Received: 2.0"),
    ),
    *[
        Bad(
            f"fit-validation-split-{value!r}",
            lambda value=value: _dense().fit(X, Y, validation_split=value, verbose=0),
            ValueError,
            ("validation_split must be a float in [0, 1)", f"Received: validation_split={value!r}"),
        )
        for value in (1.0, -0.1, "0.2")
    ],
    Bad(
        "fit-validation-split-leaves-nothing",
        lambda: _dense().fit(X[:1], Y[:1], validation_split=0.5, verbose=0),
        ValueError,
        ("validation_split=0.5 leaves no samples", "Received: 1 samples"),
    ),
    Bad(
        "fit-validation-freq-zero",
        lambda: _dense().fit(X, Y, validation_data=(X, Y), validation_freq=0, verbose=0),
        ValueError,
        ("validation_freq must be a positive integer", "Received: validation_freq=0"),
    ),
    Bad(
        "fit-callbacks",
        lambda: _dense().fit(X, Y, callbacks=["early_stopping"], verbose=0),
        ValueError,
        ("callbacks is not supported", "Expected: callbacks=None", "['early_stopping']"),
    ),
    Bad(
        "fit-sample-weight",
        lambda: _dense().fit(X, Y, sample_weight=np.ones(4), verbose=0),
        ValueError,
        ("sample_weight is not supported", "Expected: sample_weight=None", "Received"),
    ),
    Bad(
        "fit-verbose-3",
        lambda: _dense().fit(X, Y, verbose=3),
        ValueError,
        ("verbose must be 0, 1, 2 or 'auto'", "Received: 3"),
    ),
    Bad(
        "fit-unknown-keyword",
        lambda: _dense().fit(X, Y, epoch=3),
        TypeError,
        ("fit: unexpected argument(s) ['epoch']",),
    ),
    # -- weights and layers of a model -----------------------------------------------------
    Bad(
        "model-set-weights-wrong-count",
        lambda: _dense().set_weights([np.zeros((3, 2))]),
        ValueError,
        ("set_weights expected a list of 2 arrays", "[(3, 2), (2,)]", "Received: 1"),
    ),
    Bad(
        "model-set-weights-wrong-shape",
        lambda: _tagger().set_weights([w.T for w in _tagger().get_weights()]),
        ValueError,
        ("set_weights expected weight 0 of shape (3, 16)", "Received: shape (16, 3)"),
    ),
    Bad(
        "model-set-weights-unbuilt",
        lambda: Sequential([Dense(2)]).set_weights([np.zeros((3, 2)), np.zeros(2)]),
        ValueError,
        ("set_weights needs a built layer", "Received: 2 arrays for an unbuilt layer"),
    ),
    Bad(
        "model-summary-unbuilt",
        lambda: Sequential([Dense(2, name="out")]).summary(),
        ValueError,
        ("summary: this model has not yet been built", "Received: unbuilt layers ['out']"),
    ),
    Bad(
        "model-get-layer-unknown",
        lambda: _dense().get_layer("dense"),
        ValueError,
        ("get_layer: no layer named 'dense'", "Expected one of ['out']"),
    ),
    # -- model_from_json -------------------------------------------------------------------
    Bad(
        "json-invalid",
        lambda: model_from_json('{"class_name": "Sequential", '),
        ValueError,
        ("expected the JSON text of model.to_json()", 'Received: \'{"class_name"'),
    ),
    Bad(
        "json-none",
        lambda: model_from_json(None),
        ValueError,
        ("expected the JSON text of model.to_json()", "Received: None"),
    ),
    Bad(
        "json-unknown-layer",
        lambda: model_from_json(_json({"class_name": "ConvLSTM1D", "config": {"filters": 2}})),
        ValueError,
        ("'ConvLSTM1D' (ConvLSTM1D): custom or unsupported layer(s)",),
    ),
    Bad(
        "json-subclassed-model",
        lambda: model_from_json(json.dumps({"class_name": "MyModel", "config": {}})),
        ValueError,
        ("expected a Sequential or Functional model", "Received: class_name='MyModel'"),
    ),
    Bad(
        "json-functional-without-graph",
        lambda: model_from_json(json.dumps({"class_name": "Functional", "config": {}})),
        ValueError,
        ("Functional.from_config: expected a dict with 'layers', 'input_layers'", "{}"),
    ),
    Bad(
        "json-not-a-model",
        lambda: model_from_json("[1, 2]"),
        ValueError,
        ("expected a dict with 'class_name' and 'config'", "Received: [1, 2]"),
    ),
    Bad(
        "json-no-layers",
        lambda: model_from_json(json.dumps({"class_name": "Sequential", "config": {}})),
        ValueError,
        ("expected a dict with a 'layers' list", "Received: {}"),
    ),
    Bad(
        "json-layer-not-a-dict",
        lambda: model_from_json(_json(3)),
        ValueError,
        ("deserialize: expected a dict with 'class_name' and 'config'", "Received: 3"),
    ),
    Bad(
        "json-bad-layer-argument",
        lambda: model_from_json(_json(_dense_config(units=-1))),
        ValueError,
        ("Dense: units must be a positive integer", "Received: units=-1"),
    ),
    Bad(
        "json-bad-build-input-shape",
        lambda: model_from_json(_json(_dense_config(), build_input_shape="3")),
        ValueError,
        ("build_input_shape must be a list of ints or None", "Received: build_input_shape='3'"),
    ),
    # -- layers: Dense ---------------------------------------------------------------------
    Bad(
        "dense-wrong-feature-size",
        lambda: Dense(2, input_shape=(3,), name="out")(torch.zeros(4, 5)),
        ValueError,
        ("Dense 'out': inputs must have 3 features on the last axis", "Received: shape (4, 5)"),
    ),
    Bad(
        "dense-complex-inputs",
        lambda: Dense(2, name="out")(torch.zeros(4, 3, dtype=torch.complex64)),
        ValueError,
        ("Dense 'out': inputs must be real", "Received: dtype torch.complex64"),
    ),
    Bad(
        "dense-inputs-on-another-device",
        lambda: Dense(2, input_shape=(3,), name="out")(torch.zeros(4, 3, device="meta")),
        ValueError,
        ("inputs must be on the layer's device cpu", "Received: a tensor on meta"),
    ),
    Bad(
        "dense-numpy-inputs",
        lambda: Dense(2, name="out")(X),
        ValueError,
        ("Dense 'out': inputs must be a torch.Tensor", "Received: ndarray"),
    ),
    Bad(
        "dense-units-zero",
        lambda: Dense(0),
        ValueError,
        ("Dense: units must be a positive integer", "Received: units=0"),
    ),
    # -- layers: Embedding -----------------------------------------------------------------
    Bad(
        "embedding-ids-out-of-range",
        lambda: Embedding(10, 3, name="emb")(torch.tensor([[1, 10]])),
        ValueError,
        ("Embedding 'emb': ids must be in [0, 10)", "Received: ids from 1 to 10"),
    ),
    Bad(
        "embedding-negative-ids",
        lambda: Embedding(10, 3, name="emb")(torch.tensor([[-1, 2]])),
        ValueError,
        ("ids must be in [0, 10)", "Received: ids from -1 to 2"),
    ),
    Bad(
        "embedding-ids-out-of-range-in-a-model",
        lambda: Sequential([Embedding(10, 3, name="emb")]).predict(np.array([[1, 12]]), verbose=0),
        ValueError,
        ("Embedding 'emb': ids must be in [0, 10)", "Received: ids from 1 to 12"),
    ),
    Bad(
        "embedding-fractional-ids",
        lambda: Embedding(10, 3, name="emb")(torch.tensor([[1.5, 2.0]])),
        ValueError,
        ("inputs must be integer ids in [0, 10) (whole numbers)", "fractional part, e.g. 1.5"),
    ),
    Bad(
        "embedding-nan-ids",
        lambda: Embedding(10, 3, name="emb")(torch.tensor([[float("nan"), 2.0]])),
        ValueError,
        ("inputs must be integer ids in [0, 10)", "Received: non-finite ids (nan or inf)"),
    ),
    Bad(
        "embedding-complex-ids",
        lambda: Embedding(10, 3, name="emb")(torch.tensor([[1 + 1j]])),
        ValueError,
        ("inputs must be integer ids in [0, 10)", "Received: dtype torch.complex64"),
    ),
    Bad(
        "embedding-numpy-ids",
        lambda: Embedding(10, 3, name="emb")(np.array([[1, 2]])),
        ValueError,
        ("inputs must be a torch.Tensor of integer ids", "Received: ndarray"),
    ),
    Bad(
        "embedding-input-dim-zero",
        lambda: Embedding(0, 3),
        ValueError,
        ("Embedding: input_dim must be a positive integer", "Received: input_dim=0"),
    ),
    # -- layers: Masking, TimeDistributed, Dropout, InputLayer -----------------------------
    Bad(
        "masking-rank-1",
        lambda: Masking(name="mask")(torch.zeros(3)),
        ValueError,
        ("Masking 'mask': inputs must be a tensor of rank >= 2", "Received: (3,)"),
    ),
    Bad(
        "masking-value-string",
        lambda: Masking(mask_value="0"),
        ValueError,
        ("mask_value must be a number", "Received: mask_value='0'"),
    ),
    Bad(
        "time-distributed-not-a-layer",
        lambda: TimeDistributed("dense"),
        ValueError,
        ("TimeDistributed: layer must be a layer", "Received: 'dense' of type str"),
    ),
    Bad(
        "time-distributed-rank-2",
        lambda: TimeDistributed(Dense(2), name="td")(torch.zeros(4, 3)),
        ValueError,
        ("'td': inputs must have at least 3 axes (batch, time, ...)", "input_shape=(4, 3)"),
    ),
    Bad(
        "time-distributed-mask-wrong-time",
        lambda: TimeDistributed(Dense(2), name="td")(
            torch.zeros(4, 5, 3), mask=torch.ones(4, 6, dtype=torch.bool)
        ),
        ValueError,
        ("'td': mask must be a bool tensor of shape (batch, time, ...) = (4, 5)", "(4, 6)"),
    ),
    *[
        Bad(
            f"dropout-rate-{rate!r}",
            lambda rate=rate: Dropout(rate),
            ValueError,
            ("Dropout: rate must be a float in [0, 1]", f"Received: rate={rate!r}"),
        )
        for rate in (-0.1, 1.5, "0.5")
    ],
    Bad(
        "dropout-noise-shape-mismatch",
        lambda: Dropout(0.5, noise_shape=(3, 3), name="drop")(torch.ones(2, 3), training=True),
        ValueError,
        ("noise_shape must have one entry per input axis, each None, 1 or", "(3, 3)", "(2, 3)"),
    ),
    Bad(
        "dropout-numpy-inputs",
        lambda: Dropout(0.5, name="drop")(X, training=True),
        ValueError,
        ("Dropout 'drop': inputs must be a torch.Tensor", "Received: ndarray"),
    ),
    Bad(
        "input-layer-no-shape",
        lambda: InputLayer(),
        ValueError,
        ("expected exactly one of input_shape", "Received: input_shape=None"),
    ),
    Bad(
        "input-layer-both-shapes",
        lambda: InputLayer(input_shape=(3,), batch_input_shape=(None, 3)),
        ValueError,
        ("expected exactly one of input_shape", "batch_input_shape=(None, 3)"),
    ),
    Bad(
        "input-layer-negative-size",
        lambda: InputLayer(input_shape=(-3,)),
        ValueError,
        ("input_shape must be a tuple of ints or None", "Received: input_shape=(-3,)"),
    ),
    Bad(
        "input-layer-complex-dtype",
        lambda: InputLayer(input_shape=(3,), dtype="complex64"),
        ValueError,
        ("InputLayer: dtype must be one of ['bfloat16', 'bool',", "Received: 'complex64'"),
    ),
    Bad(
        "input-layer-sparse",
        lambda: InputLayer(input_shape=(3,), sparse=True),
        ValueError,
        ("sparse is not supported", "Received: sparse=True"),
    ),
    Bad(
        "input-layer-string-inputs",
        lambda: InputLayer(input_shape=(3,), name="in")(np.array([["a", "b", "c"]])),
        ValueError,
        ("InputLayer 'in': inputs must be a numeric array or tensor", "Received: ndarray"),
    ),
    # -- files: load_model -----------------------------------------------------------------
    Bad(
        "load-missing-path",
        lambda: load_model("missing.keras"),
        ValueError,
        ("Expected filepath to be a birnn file", "filepath='missing.keras' (no such file)"),
    ),
    Bad(
        "load-directory",
        lambda: load_model(_directory("saved_model")),
        ValueError,
        ("Expected filepath to be", "filepath='saved_model' (a directory"),
    ),
    Bad(
        "load-empty-file",
        lambda: load_model(_write("empty.keras", b"")),
        ValueError,
        ("Expected filepath to be", "filepath='empty.keras' (an empty file)"),
    ),
    Bad(
        "load-text-file",
        lambda: load_model(_write("model.txt", b"not a model at all")),
        ValueError,
        ("a Keras .h5 (HDF5) file or a Keras .keras (zip) archive", "b'not a mo'"),
    ),
    Bad(
        "load-plain-safetensors",
        lambda: load_model(_resaved("other.safetensors", lambda _, metadata: metadata.clear())),
        ValueError,
        ("Expected filepath to be", "(a safetensors file without birnn's metadata)"),
    ),
    Bad(
        "load-truncated-h5",
        lambda: load_model(_truncated(TF_KERAS / "spec_example_1.h5", "model.h5")),
        ValueError,
        ("to be a readable HDF5 file", "path='model.h5', a truncated or corrupt file"),
    ),
    Bad(
        "load-h5-without-model-config",
        lambda: load_model(_without_attribute(TF_KERAS / "spec_example_1.h5", "w.h5")),
        ValueError,
        ("a Keras model file with a `model_config` attribute", "'w.h5'", "weights-only"),
    ),
    Bad(
        "load-truncated-keras",
        lambda: load_model(_truncated(KERAS_3 / "spec_example_1.keras", "model.keras", 0.9)),
        ValueError,
        ("to be a complete zip archive", "path='model.keras', a truncated or corrupt"),
    ),
    Bad(
        "load-keras-without-config-json",
        lambda: load_model(
            _rewritten(KERAS_3 / "spec_example_1.keras", "model.keras", config_json=lambda _: None)
        ),
        ValueError,
        ("archive 'model.keras' to contain 'config.json'", "Received: entries ['metadata.json',"),
    ),
    Bad(
        "load-keras-config-not-json",
        lambda: load_model(
            _rewritten(KERAS_3 / "spec_example_1.keras", "model.keras", config_json=lambda d: d[:9])
        ),
        ValueError,
        ("'config.json' of 'model.keras' to be JSON", "Received: JSONDecodeError"),
    ),
    Bad(
        "load-keras-truncated-weights-member",
        lambda: load_model(
            _rewritten(
                KERAS_3 / "spec_example_1.keras",
                "model.keras",
                model_weights_h5=lambda data: data[: len(data) // 2],
            )
        ),
        ValueError,
        ("a readable HDF5 file", "path='model.keras:model.weights.h5', a truncated or corrupt"),
    ),
    Bad(
        "load-keras-weights-not-matching-config",
        lambda: load_model(
            _rewritten(
                KERAS_3 / "spec_example_1.keras",
                "model.keras",
                config_json=_replace(b'"units": 10', b'"units": 11'),
            )
        ),
        ValueError,
        ("weight 0 of layer 'bidirectional' to have shape (10, 44)", "(10, 40) in 'model.keras'"),
    ),
    Bad(
        "load-keras-unsupported-layer",
        lambda: load_model(
            _rewritten(
                TF_KERAS / "spec_example_2.keras",
                "model.keras",
                config_json=_replace(b'"Activation"', b'"UnitNormalization"'),
            )
        ),
        ValueError,
        ("the model saved in 'model.keras'. the model has 1 layer(s) birnn cannot build",),
    ),
    Bad(
        "load-keras-functional-model",
        lambda: load_model(
            _rewritten(
                KERAS_3 / "spec_example_1.keras",
                "model.keras",
                config_json=_replace(b'"Sequential"', b'"Functional"'),
            )
        ),
        ValueError,
        ("the model saved in 'model.keras'", "Functional.from_config: expected a dict"),
    ),
    Bad(
        "load-birnn-corrupt-header",
        lambda: load_model(_patched_birnn_header("model.birnn")),
        ValueError,
        ("'model.birnn' to be a complete birnn (safetensors) file", "header is damaged"),
    ),
    Bad(
        "load-birnn-truncated-header",
        lambda: load_model(_truncated(_saved(), "model.birnn", 0.01)),
        ValueError,
        ("'model.birnn' to be a complete birnn", "Received: a truncated file of", "needs"),
    ),
    Bad(
        "load-birnn-truncated-tensors",
        lambda: load_model(_truncated(_saved(), "model.birnn", 0.9)),
        ValueError,
        ("'model.birnn' to be a complete birnn file", "Received: a truncated or corrupt file"),
    ),
    Bad(
        "load-birnn-missing-tensor",
        lambda: load_model(_resaved("model.birnn", lambda tensors, _: tensors.pop("out/1"))),
        ValueError,
        ("'model.birnn' to hold the tensors its layer list names", "without ['out/1']"),
    ),
    Bad(
        "load-birnn-wrong-tensor-shape",
        lambda: load_model(
            _resaved("model.birnn", lambda tensors, _: tensors.update({"out/1": torch.zeros(3)}))
        ),
        ValueError,
        ("weight 1 of layer 'out' to have shape (2,)", "Received: shape (3,) in 'model.birnn'"),
    ),
    Bad(
        "load-birnn-corrupt-layer-list",
        lambda: load_model(
            _resaved("model.birnn", lambda _, metadata: metadata.update({"layers": "[[1]]"}))
        ),
        ValueError,
        ("'layers' metadata of 'model.birnn' to be a JSON list", "Received: '[[1]]'"),
    ),
    Bad(
        "load-birnn-corrupt-config",
        lambda: load_model(
            _resaved("model.birnn", lambda _, metadata: metadata.update({"config": "{"}))
        ),
        ValueError,
        ("'config' metadata of 'model.birnn' to be JSON", "Received: JSONDecodeError"),
    ),
    Bad(
        "load-birnn-unsupported-layer",
        lambda: load_model(
            _resaved(
                "model.birnn",
                lambda _, metadata: metadata.update(
                    {"config": _json({"class_name": "ConvLSTM1D", "config": {}})}
                ),
            )
        ),
        ValueError,
        ("the model saved in 'model.birnn'. the model has 1 layer(s) birnn cannot build",),
    ),
    Bad(
        "load-birnn-weights-file",
        lambda: load_model(_saved("tagger.weights.birnn", weights_only=True)),
        ValueError,
        ("'tagger.weights.birnn' holds weights only", "Expected a file written by model.save"),
    ),
    # -- files: load_weights and save ------------------------------------------------------
    Bad(
        "load-weights-of-another-architecture",
        lambda: _dense().load_weights(_saved("tagger.weights.birnn", weights_only=True)),
        ValueError,
        ("weights only for the model's layers ['out']", "for unknown layers ['bi']"),
    ),
    Bad(
        "load-weights-keras-file-of-another-architecture",
        lambda: _dense().load_weights(_copy(TF_KERAS / "spec_example_1.h5", "model.h5")),
        ValueError,
        ("model's 1 layer(s) with weights ['out'] in 'model.h5'", "for 3 layer(s)"),
    ),
    Bad(
        "load-weights-wrong-shapes",
        lambda: _tagger().load_weights(_copy(KERAS_3 / "spec_example_1.keras", "model.keras")),
        ValueError,
        ("weight 0 of layer 'bi' to have shape (3, 16)", "(10, 40) in 'model.keras'"),
    ),
    Bad(
        "load-weights-missing-path",
        lambda: _dense().load_weights("missing.h5"),
        ValueError,
        ("load_weights: Expected filepath to be", "filepath='missing.h5' (no such file)"),
    ),
    Bad(
        "load-weights-unbuilt-model",
        lambda: Sequential([Dense(2, name="out")]).load_weights("missing.h5"),
        ValueError,
        ("load_weights: this model has not yet been built", "unbuilt layers ['out']"),
    ),
    Bad(
        "save-keras-extension",
        lambda: _dense().save("model.keras"),
        ValueError,
        ("birnn writes its own format", "Received: 'model.keras'"),
    ),
]


def test_cases_are_many_and_distinct():
    ids = [case.id for case in MODEL_BAD_INPUTS]
    assert len(ids) == len(set(ids))
    assert len(ids) >= 30


@pytest.mark.parametrize("case", MODEL_BAD_INPUTS, ids=[case.id for case in MODEL_BAD_INPUTS])
def test_bad_model_input_raises_a_clear_error(case, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    check_bad_input(case)


def test_a_failed_load_weights_changes_nothing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    model = _tagger()
    before = model.get_weights()
    with pytest.raises(ValueError):
        model.load_weights(_copy(KERAS_3 / "spec_example_1.keras", "model.keras"))
    for old, new in zip(before, model.get_weights()):
        np.testing.assert_array_equal(old, new)


# -- inputs with a defined result ------------------------------------------------------------


def test_float_ids_holding_whole_numbers_are_cast_as_keras_casts_them():
    layer = Embedding(10, 3)
    torch.testing.assert_close(layer(torch.tensor([[1.0, 9.0]])), layer(torch.tensor([[1, 9]])))


def test_zero_epochs_train_nothing():
    model = _dense()
    before = model.get_weights()
    assert model.fit(X, Y, epochs=0, verbose=0).history == {}
    assert model.fit(X, Y, epochs=2, initial_epoch=2, verbose=0).history == {}
    for old, new in zip(before, model.get_weights()):
        np.testing.assert_array_equal(old, new)


@pytest.mark.parametrize("shape", [(4,), (4, 1)])
def test_class_ids_with_or_without_a_last_axis_of_1(shape):
    model = _dense("sparse_categorical_crossentropy")
    assert np.isfinite(model.evaluate(X, np.ones(shape), verbose=0))


def test_targets_that_broadcast_to_the_outputs_are_broadcast():
    model = _dense()
    model.set_weights([np.zeros((3, 2)), np.array([1.0, 3.0])])
    assert model.evaluate(X, np.ones((4, 1)), verbose=0) == pytest.approx(2.0)
