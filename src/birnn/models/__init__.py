"""Keras-shaped models on PyTorch: ``from birnn.models import Sequential, load_model``."""

from ._functional import Functional
from ._loading import load_model, model_from_config, model_from_json
from ._model import Model
from ._progbar import History
from ._sequential import Sequential

__all__ = [
    "Functional",
    "History",
    "Model",
    "Sequential",
    "load_model",
    "model_from_config",
    "model_from_json",
]
