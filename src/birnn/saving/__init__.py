"""Reading Keras model and weights files into plain Python data.

Nothing here builds layers: the readers return configs (dicts) and weights
(NumPy arrays) that `birnn.models` turns into modules.
"""

from ._keras3 import keras3_to_keras2_config
from ._keras_files import KerasFile, read_keras_file, read_weights_file

__all__ = [
    "KerasFile",
    "keras3_to_keras2_config",
    "read_keras_file",
    "read_weights_file",
]
