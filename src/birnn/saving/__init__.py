"""Reading Keras model and weights files into plain Python data.

Nothing here builds layers: the readers return configs (dicts) and weights
(NumPy arrays) that `birnn.models` turns into modules. (Keras 3 configs are
rewritten in the Keras 2 style next to layer serialization:
``birnn.layers._keras3_config``.)
"""

from ._keras_files import KerasFile, read_keras_file, read_weights_file

__all__ = [
    "KerasFile",
    "read_keras_file",
    "read_weights_file",
]
