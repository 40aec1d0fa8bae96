"""The spec's examples, character for character, with only the imports added.

The block is copied from ``tf.keras.layers.Bidirectional.md``. Its second example is
indented by one space there, so each example is dedented before it runs.
"""

from __future__ import annotations

import textwrap

import numpy as np

SPEC_BLOCK = """\
model = Sequential()
model.add(Bidirectional(LSTM(10, return_sequences=True), input_shape=(5, 10)))
model.add(Bidirectional(LSTM(10)))
model.add(Dense(5))
model.add(Activation('softmax'))
model.compile(loss='categorical_crossentropy', optimizer='rmsprop')

 # With custom backward layer
 model = Sequential()
 forward_layer = LSTM(10, return_sequences=True)
 backward_layer = LSTM(10, activation='relu', return_sequences=True,
                       go_backwards=True)
 model.add(Bidirectional(forward_layer, backward_layer=backward_layer,
                         input_shape=(5, 10)))
 model.add(Dense(5))
 model.add(Activation('softmax'))
 model.compile(loss='categorical_crossentropy', optimizer='rmsprop')
"""

IMPORTS = """
from birnn.models import Sequential
from birnn.layers import Bidirectional, LSTM, Dense, Activation
"""


def test_spec_examples_run_verbatim_and_train():
    examples = SPEC_BLOCK.split("\n\n")
    assert len(examples) == 2
    rng = np.random.default_rng(0)
    for example, label_shape in zip(examples, [(64,), (64, 5)]):
        namespace: dict = {}
        exec(IMPORTS + textwrap.dedent(example), namespace)
        model = namespace["model"]
        x = rng.normal(size=(64, 5, 10)).astype("float32")
        y = np.eye(5, dtype="float32")[rng.integers(0, 5, size=label_shape)]
        history = model.fit(x, y, epochs=3, batch_size=16, verbose=0)
        assert np.isfinite(history.history["loss"]).all()
        assert history.history["loss"][-1] < history.history["loss"][0]
