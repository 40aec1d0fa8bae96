"""Builds the Functional-model golden files in tf-keras 2.21 and Keras 3.15.

Run it in a side venv with tensorflow-cpu 2.21, tf-keras 2.21 and keras 3.15 (never a
dependency of birnn), from the repository root:

    python tests/golden/make_functional_files.py tests/golden/functional [CASE ...]

For each case it writes, as the starting set in ``tests/golden/functional`` (see its
README.md):

- ``tf-keras-2.21/NAME.h5``, ``NAME.keras``, ``NAME.io.npz``: the model built in tf-keras,
  every float weight seeded random (BatchNorm variances positive), compiled, saved both ways;
- ``keras-3.15/NAME.keras``, ``NAME.io.npz``: the same architecture built in Keras 3 with the
  same weights (copied by layer name), and Keras 3's own outputs.

``NAME.io.npz`` holds ``x``/``y`` for one input/output, else ``x0, x1, ...``/``y0, y1, ...``
in ``model.inputs``/``model.outputs`` order (dict inputs and outputs: sorted by name, as
``model.inputs`` lists them); ids are int32 with right padding, left padding and holes.
Each file is reloaded by the library that wrote it and must reproduce ``y`` exactly.

Cases whose names start with ``real_`` are small rebuilds of common public
Bidirectional architectures (keras.io's "Bidirectional LSTM on IMDB", NER taggers, ...).
"""

from __future__ import annotations

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

import numpy as np  # noqa: E402

SEED = 1234
BATCH = 5


def _ids(rng, shape, vocab, pad_rows=()):
    """Token ids with right padding, left padding and holes; rows in pad_rows all zero."""
    ids = rng.integers(1, vocab, size=shape).astype("int32")
    time = shape[1]
    for row in range(shape[0]):
        kind = row % 4
        if kind == 0:
            ids[row, time - 2 :] = 0
        elif kind == 1:
            ids[row, :2] = 0
        elif kind == 2:
            ids[row, time // 2] = 0
    for row in pad_rows:
        ids[row] = 0
    return ids


def _floats(rng, shape, padded=False):
    x = rng.normal(size=shape).astype("float32")
    if padded:
        x[0, -3:] = 0.0
        x[1, :2] = 0.0
    return x


# -- cases: each takes the Keras module (tf_keras or keras) and returns (model, inputs) ----


def fn_dict_io_two_branches(k, rng):
    """Dict inputs and outputs; Embedding(mask_zero) -> Bi(GRU, seq) -> TimeDistributed(Dense);
    Masking -> Bi(LSTM) -> Dense."""
    layers = k.layers
    tokens = k.Input(shape=(8,), dtype="int32", name="tokens")
    signal = k.Input(shape=(6, 3), name="signal")
    x = layers.Embedding(20, 5, mask_zero=True, name="embed")(tokens)
    x = layers.Bidirectional(layers.GRU(4, return_sequences=True), name="bigru")(x)
    tags = layers.TimeDistributed(layers.Dense(3, activation="softmax"), name="tag")(x)
    s = layers.Masking(0.0, name="mask")(signal)
    s = layers.Bidirectional(layers.LSTM(3), merge_mode="sum", name="bilstm")(s)
    value = layers.Dense(1, name="value")(s)
    model = k.Model({"tokens": tokens, "signal": signal}, {"tag": tags, "value": value})
    model.compile("adam", {"tag": "sparse_categorical_crossentropy", "value": "mse"})
    inputs = {"signal": _floats(rng, (BATCH, 6, 3), True), "tokens": _ids(rng, (BATCH, 8), 20)}
    return model, inputs


def fn_shared_bilstm_three_calls(k, rng):
    """One Embedding, one Bi(LSTM) and one Dense called on three inputs (node indices 0-2)."""
    layers = k.layers
    inputs = [k.Input(shape=(7,), dtype="int32", name=f"text_{i}") for i in range(3)]
    embed = layers.Embedding(15, 4, mask_zero=True, name="shared_embed")
    encode = layers.Bidirectional(layers.LSTM(3), name="shared_bilstm")
    score = layers.Dense(2, activation="softmax", name="shared_score")
    outputs = [score(encode(embed(x))) for x in inputs]
    model = k.Model(inputs, outputs)
    model.compile("rmsprop", "categorical_crossentropy")
    return model, [_ids(rng, (BATCH, 7), 15, pad_rows=(i,)) for i in range(3)]


def fn_state_handoff_direct(k, rng):
    """Bi(LSTM, return_state) states as initial_state of an LSTM and a GRU decoder."""
    layers = k.layers
    ids = k.Input(shape=(9,), dtype="int32", name="ids")
    target = k.Input(shape=(4, 2), name="target")
    x = layers.Embedding(12, 5, mask_zero=True, name="embed")(ids)
    seq, fh, fc, bh, bc = layers.Bidirectional(
        layers.LSTM(3, return_sequences=True, return_state=True), name="encoder"
    )(x)
    dec = layers.LSTM(3, return_sequences=True, name="decoder")(target, initial_state=[fh, fc])
    back = layers.GRU(3, name="back_decoder")(target, initial_state=[bh])
    out = layers.TimeDistributed(layers.Dense(2), name="per_step")(dec)
    pooled = layers.Bidirectional(layers.SimpleRNN(2), name="summary_rnn")(seq)
    model = k.Model([ids, target], [out, back, pooled])
    model.compile("sgd", ["mse", "mse", "mse"])
    return model, [_ids(rng, (BATCH, 9), 12), _floats(rng, (BATCH, 4, 2))]


def fn_nested_models(k, rng):
    """A nested Functional encoder (mask flows out of it) and a nested Sequential head."""
    layers = k.layers
    inner_in = k.Input(shape=(8,), dtype="int32", name="inner_ids")
    h = layers.Embedding(16, 4, mask_zero=True, name="inner_embed")(inner_in)
    h = layers.Bidirectional(layers.GRU(3, return_sequences=True), name="inner_bigru")(h)
    encoder = k.Model(inner_in, h, name="encoder")
    head = k.Sequential(
        [
            layers.Dense(4, activation="tanh", input_shape=(6,), name="head_dense"),
            layers.Dense(2, name="head_out"),
        ],
        name="head",
    )
    ids = k.Input(shape=(8,), dtype="int32", name="ids")
    x = encoder(ids)
    x = layers.Bidirectional(layers.LSTM(3), name="outer_bilstm")(x)
    out = head(x)
    model = k.Model(ids, out, name="nested")
    model.compile("adam", "mse")
    return model, _ids(rng, (BATCH, 8), 16, pad_rows=(3,))


def fn_dropout_training_kwarg(k, rng):
    """Keyword arguments between layers: Dropout(training=False), a masked GRU stack."""
    layers = k.layers
    x_in = k.Input(shape=(6, 4), name="frames")
    x = layers.Masking(0.0, name="mask")(x_in)
    x = layers.Dropout(0.5, name="drop")(x, training=False)
    x = layers.Bidirectional(layers.GRU(3, return_sequences=True, reset_after=False), name="bigru")(
        x
    )
    x = layers.Bidirectional(layers.LSTM(2), merge_mode="ave", name="bilstm")(x)
    out = layers.Dense(1, activation="sigmoid", name="out")(x)
    model = k.Model(x_in, out)
    model.compile("rmsprop", "binary_crossentropy")
    return model, _floats(rng, (BATCH, 6, 4), True)


def real_imdb_bilstm(k, rng):
    """keras.io "Bidirectional LSTM on IMDB" (sizes shrunk)."""
    layers = k.layers
    inputs = k.Input(shape=(None,), dtype="int32")
    x = layers.Embedding(50, 8)(inputs)
    x = layers.Bidirectional(layers.LSTM(6, return_sequences=True))(x)
    x = layers.Bidirectional(layers.LSTM(6))(x)
    outputs = layers.Dense(1, activation="sigmoid")(x)
    model = k.Model(inputs, outputs)
    model.compile("adam", "binary_crossentropy", metrics=["accuracy"])
    return model, rng.integers(1, 50, size=(BATCH, 12)).astype("int32")


def real_ner_bilstm_tagger(k, rng):
    """A BiLSTM NER tagger: Embedding(mask_zero) -> Dropout -> Bi(LSTM, seq, recurrent
    dropout) -> TimeDistributed(Dense(softmax))."""
    layers = k.layers
    words = k.Input(shape=(10,), dtype="int32", name="words")
    x = layers.Embedding(40, 8, mask_zero=True)(words)
    x = layers.Dropout(0.1)(x)
    x = layers.Bidirectional(layers.LSTM(6, return_sequences=True, recurrent_dropout=0.1))(x)
    out = layers.TimeDistributed(layers.Dense(5, activation="softmax"))(x)
    model = k.Model(words, out)
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model, _ids(rng, (BATCH, 10), 40)


def real_timeseries_bigru(k, rng):
    """A time-series regressor: stacked Bi(GRU) -> Dense heads for two targets."""
    layers = k.layers
    series = k.Input(shape=(12, 3), name="series")
    x = layers.Bidirectional(layers.GRU(5, return_sequences=True))(series)
    x = layers.Bidirectional(layers.GRU(4))(x)
    x = layers.Dense(8, activation="relu")(x)
    level = layers.Dense(1, name="level")(x)
    trend = layers.Dense(1, activation="tanh", name="trend")(x)
    model = k.Model(series, [level, trend])
    model.compile(
        "adam", {"level": "mse", "trend": "mae"}, loss_weights={"level": 1.0, "trend": 0.5}
    )
    return model, _floats(rng, (BATCH, 12, 3))


def real_toxic_bigru_pools(k, rng):
    """Kaggle-style comment classifier: SpatialDropout1D -> Bi(GRU, seq) -> concatenated
    GlobalAveragePooling1D and GlobalMaxPooling1D -> Dense(sigmoid) per label."""
    layers = k.layers
    inp = k.Input(shape=(15,))
    x = layers.Embedding(60, 8)(inp)
    x = layers.SpatialDropout1D(0.2)(x)
    x = layers.Bidirectional(layers.GRU(6, return_sequences=True))(x)
    pooled = layers.concatenate(
        [layers.GlobalAveragePooling1D()(x), layers.GlobalMaxPooling1D()(x)]
    )
    out = layers.Dense(6, activation="sigmoid")(pooled)
    model = k.Model(inp, out)
    model.compile("adam", "binary_crossentropy", metrics=["accuracy"])
    return model, rng.integers(0, 60, size=(BATCH, 15)).astype("float32")


def real_textcnn_bilstm(k, rng):
    """Sentiment model: Conv1D -> MaxPooling1D -> Bi(LSTM) -> Dropout -> Dense(softmax)."""
    layers = k.layers
    inp = k.Input(shape=(20,), dtype="int32")
    x = layers.Embedding(80, 8)(inp)
    x = layers.Conv1D(12, 3, padding="same", activation="relu")(x)
    x = layers.MaxPooling1D(2)(x)
    x = layers.Bidirectional(layers.LSTM(6))(x)
    x = layers.Dropout(0.3)(x)
    out = layers.Dense(3, activation="softmax")(x)
    model = k.Model(inp, out)
    model.compile("rmsprop", "categorical_crossentropy", metrics=["accuracy"])
    return model, rng.integers(1, 80, size=(BATCH, 20)).astype("int32")


def real_ocr_conv_bilstm(k, rng):
    """keras.io OCR-style head without its CTC layer: Conv2D -> MaxPooling2D -> Reshape ->
    Dense -> Dropout -> Bi(LSTM, seq) x2 -> Dense(softmax) per column."""
    layers = k.layers
    image = k.Input(shape=(16, 8, 1), name="image")
    x = layers.Conv2D(4, 3, activation="relu", padding="same", name="conv1")(image)
    x = layers.MaxPooling2D(2, name="pool1")(x)
    x = layers.Conv2D(6, 3, activation="relu", padding="same", name="conv2")(x)
    x = layers.MaxPooling2D(2, name="pool2")(x)
    x = layers.Reshape((4, 2 * 6), name="reshape")(x)
    x = layers.Dense(8, activation="relu", name="dense1")(x)
    x = layers.Dropout(0.2)(x)
    x = layers.Bidirectional(layers.LSTM(6, return_sequences=True, dropout=0.25))(x)
    x = layers.Bidirectional(layers.LSTM(4, return_sequences=True, dropout=0.25))(x)
    out = layers.Dense(7, activation="softmax", name="dense2")(x)
    model = k.Model(image, out, name="ocr_model_v1")
    model.compile("adam", "categorical_crossentropy")
    return model, _floats(rng, (BATCH, 16, 8, 1))


def real_speech_conv_bigru(k, rng):
    """DeepSpeech-like head: Conv1D -> BatchNormalization -> ReLU -> Bi(GRU, seq) x2 ->
    LayerNormalization -> TimeDistributed(Dense(softmax))."""
    layers = k.layers
    spectrogram = k.Input(shape=(None, 10), name="input")
    x = layers.Conv1D(8, 5, strides=2, padding="same", use_bias=False)(spectrogram)
    x = layers.BatchNormalization()(x)
    x = layers.ReLU()(x)
    for index in range(2):
        x = layers.Bidirectional(
            layers.GRU(6, return_sequences=True, reset_after=True),
            name=f"bidirectional_{index + 1}",
        )(x)
    x = layers.LayerNormalization()(x)
    out = layers.TimeDistributed(layers.Dense(9, activation="softmax"))(x)
    model = k.Model(spectrogram, out, name="speech")
    model.compile("adam", "categorical_crossentropy")
    return model, _floats(rng, (BATCH, 14, 10))


def real_attention_bilstm(k, rng):
    """BiLSTM with dot-product self-attention and multi-head attention, masked ids."""
    layers = k.layers
    ids = k.Input(shape=(12,), dtype="int32")
    x = layers.Embedding(50, 8, mask_zero=True)(ids)
    x = layers.Bidirectional(layers.LSTM(6, return_sequences=True))(x)
    attended = layers.Attention()([x, x])
    x = layers.Add()([x, attended])
    x = layers.LayerNormalization()(x)
    mha = layers.MultiHeadAttention(num_heads=2, key_dim=4)(x, x)
    x = layers.GlobalAveragePooling1D()(mha)
    out = layers.Dense(1, activation="sigmoid")(x)
    model = k.Model(ids, out)
    model.compile("adam", "binary_crossentropy")
    return model, _ids(rng, (BATCH, 12), 50)


CASES = {
    fn.__name__: fn
    for fn in (
        fn_dict_io_two_branches,
        fn_shared_bilstm_three_calls,
        fn_state_handoff_direct,
        fn_nested_models,
        fn_dropout_training_kwarg,
        real_imdb_bilstm,
        real_ner_bilstm_tagger,
        real_timeseries_bigru,
        real_toxic_bigru_pools,
        real_textcnn_bilstm,
        real_ocr_conv_bilstm,
        real_speech_conv_bigru,
        real_attention_bilstm,
    )
}


# -- building, weights and files ----------------------------------------------------------


def _randomize(model, rng):
    for layer in model.layers:
        if hasattr(layer, "layers") and layer.layers:
            _randomize(layer, rng)
            continue
        weights = []
        for variable, value in zip(layer.weights, layer.get_weights()):
            if "variance" in variable.name:
                weights.append(rng.uniform(0.5, 1.5, value.shape).astype(value.dtype))
            else:
                weights.append((rng.normal(size=value.shape) * 0.4).astype(value.dtype))
        layer.set_weights(weights)


def _copy_weights(source, target):
    """By layer name; layers named automatically (names differ between the libraries) by
    their position among the layers with weights."""
    names = {layer.name for layer in source.layers}
    if all(layer.name in names for layer in target.layers if layer.weights):
        for layer in target.layers:
            if layer.weights:
                layer.set_weights(source.get_layer(layer.name).get_weights())
        return
    sources = [layer for layer in source.layers if layer.weights]
    targets = [layer for layer in target.layers if layer.weights]
    for layer, other in zip(targets, sources, strict=True):
        layer.set_weights(other.get_weights())


def _as_list(structure, names=None):
    """A list of arrays: a dict's values by sorted key (``model.outputs`` order)."""
    if isinstance(structure, dict):
        return [structure[name] for name in names or sorted(structure)]
    return list(structure) if isinstance(structure, (list, tuple)) else [structure]


def _io(model, inputs, outputs):
    xs, ys = _as_list(inputs), _as_list(outputs)
    data = {}
    if len(xs) == 1:
        data["x"] = xs[0]
    else:
        data.update({f"x{i}": x for i, x in enumerate(xs)})
    if len(ys) == 1:
        data["y"] = ys[0]
    else:
        data.update({f"y{i}": np.asarray(y) for i, y in enumerate(ys)})
    return data


def _check(load, path, inputs, outputs):
    reloaded = load(path)
    again = reloaded.predict(inputs, verbose=0)
    for a, b in zip(_as_list(again), _as_list(outputs)):
        if not np.array_equal(np.asarray(a), np.asarray(b)):
            raise AssertionError(f"{path}: reloaded predictions differ")


def build(name, out_dir):
    import keras
    import tf_keras

    rng = np.random.default_rng(SEED)
    model2, inputs = CASES[name](tf_keras, rng)
    _randomize(model2, np.random.default_rng(SEED + 1))
    outputs2 = model2.predict(inputs, verbose=0)
    model3, _ = CASES[name](keras, np.random.default_rng(SEED))
    _copy_weights(model2, model3)
    outputs3 = model3.predict(inputs, verbose=0)
    for sub, model, outputs, formats in (
        ("tf-keras-2.21", model2, outputs2, ("h5", "keras")),
        ("keras-3.15", model3, outputs3, ("keras",)),
    ):
        directory = os.path.join(out_dir, sub)
        os.makedirs(directory, exist_ok=True)
        for extension in formats:
            path = os.path.join(directory, f"{name}.{extension}")
            model.save(path)
            load = tf_keras.models.load_model if model is model2 else keras.models.load_model
            _check(load, path, inputs, outputs)
        np.savez(os.path.join(directory, f"{name}.io.npz"), **_io(model, inputs, outputs))
    diff = max(
        float(np.abs(np.asarray(a) - np.asarray(b)).max())
        for a, b in zip(_as_list(outputs2), _as_list(outputs3))
    )
    print(f"{name}: written; Keras 3 - tf-keras max |diff| {diff:.1e}")


def main(argv):
    if not argv:
        print(__doc__)
        return 2
    out_dir, names = argv[0], argv[1:] or list(CASES)
    for name in names:
        build(name, out_dir)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
