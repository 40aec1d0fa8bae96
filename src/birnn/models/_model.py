"""``Model``: Keras 2's training API (``compile``, ``fit``, ``evaluate``, ``predict``) and
saving, on a layer whose ``forward`` leaves the output mask on its output
(``output._keras_mask``), as Keras models do.

One training step, as tf-keras runs it: forward in training mode → per-sample losses
weighted by the output mask (mean over valid entries) → plus the layers' regularization
``losses`` → backward → optimizer step → weight constraints → metrics.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Callable, Iterator
from functools import partial
from typing import Any

import numpy as np
import torch
from torch import nn

from .. import optimizers as optimizers_module
from .._version import __version__
from ..layers._layer import Layer
from . import _batches, _data
from ._model_files import load_weights_into, save_model_file
from ._objectives import Objectives
from ._progbar import History, Progbar

_UNSUPPORTED_FIT_OPTIONS = ("callbacks", "class_weight", "sample_weight", "steps_per_epoch")


def _verbosity(verbose: Any) -> int:
    if verbose == "auto":
        return 1
    if verbose not in (0, 1, 2):
        raise ValueError(f"verbose must be 0, 1, 2 or 'auto'. Received: {verbose!r}.")
    return int(verbose)


def _refuse(method: str, **options: Any) -> None:
    for name, value in options.items():
        empty = isinstance(value, (list, tuple, dict)) and not value
        if value is not None and value is not False and not empty:
            raise ValueError(
                f"{method}: {name} is not supported by birnn. Expected: {name}=None. "
                f"Received: {name}={value!r:.100}."
            )


@contextlib.contextmanager
def _training_mode(model: torch.nn.Module, training: bool) -> Iterator[None]:
    """Runs a block with ``model.train(training)`` and restores the previous mode after it."""
    previous = model.training
    model.train(training)
    try:
        yield
    finally:
        model.train(previous)


# Set by ``_functional`` (which subclasses Model), so Model(inputs, outputs) can return one.
_functional_class: list[type] = []


class Model(Layer):
    """Base class of birnn models: Keras 2's ``compile``/``fit``/``evaluate``/``predict``,
    ``save``/``load_weights`` and ``to_json`` on a ``Layer``. See ``Sequential``.

    ``Model(inputs, outputs, name=...)`` builds one of the Functional models (``Functional``):
    layers called on ``Input`` tensors, with several inputs and outputs, shared layers and
    nested models, as in Keras 2.
    """

    def __new__(cls, *args: Any, **kwargs: Any) -> Model:
        # Keras 2: Model(inputs, outputs) makes a Functional model.
        if cls is Model and (args or "inputs" in kwargs or "outputs" in kwargs):
            return super().__new__(_functional_class[0])
        return super().__new__(cls)

    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        self.optimizer: torch.optim.Optimizer | None = None
        self._optimizer_spec: Any = None
        self.compiled_loss: Callable | None = None
        self.loss: Any = None
        self._loss_weights: Any = None
        self._metric_names: Any = []
        self._objectives_cache: Objectives | None = None
        self._compile_config: dict[str, Any] | None = None

    # -- weights: layer by layer, as Keras models order them ------------------------------

    def _sublayers(self) -> list[nn.Module]:
        return list(getattr(self, "_layers", []))

    def _layer_weights(self, layer: nn.Module) -> list[nn.Parameter]:
        return layer.weights if isinstance(layer, Layer) else list(layer.parameters())

    def _all_weights(self) -> list[nn.Parameter]:
        return [w for layer in self._sublayers() for w in self._layer_weights(layer)]

    @property
    def weights(self) -> list[nn.Parameter]:
        """All weights, layer by layer (Keras models' order: not all trainable ones first)."""
        return self._all_weights()

    def _check_built(self, method: str) -> None:
        unbuilt = [layer.name for layer in self._layers_only() if not layer.built]
        if unbuilt:
            raise ValueError(
                f"{method}: this model has not yet been built. Build it first with "
                "build(input_shape), input_shape= on the first layer, or a call on a batch "
                f"of data. Received: unbuilt layers {unbuilt}."
            )

    # -- compile ----------------------------------------------------------------------------

    def compile(
        self,
        optimizer: Any = "rmsprop",
        loss: Any = None,
        metrics: list | None = None,
        loss_weights: Any = None,
        weighted_metrics: Any = None,
        run_eagerly: bool | None = None,
        steps_per_execution: int | None = None,
        jit_compile: bool | None = None,
        **kwargs: Any,
    ) -> None:
        """Configures the model for training (Keras 2's ``Model.compile``).

        Args:
            optimizer: a Keras name (``'rmsprop'``, ``'adam'``, ``'sgd'``, ``'adagrad'``,
                ``'adamax'``) with Keras 2's defaults, a Keras optimizer dict, a
                ``birnn.optimizers`` optimizer, a ``torch.optim.Optimizer`` over this
                model's parameters, or a callable ``params -> torch.optim.Optimizer``.
            loss: ``'categorical_crossentropy'``, ``'sparse_categorical_crossentropy'``,
                ``'binary_crossentropy'``, ``'mse'``, ``'mae'`` (or their long and class
                names), or a callable ``(y_true, y_pred) -> per-sample losses``.
            metrics: a list of names (``'accuracy'`` picks binary, sparse or categorical
                accuracy as Keras does) or callables.
            run_eagerly, steps_per_execution, jit_compile: accepted; no effect here.

        Raises:
            ValueError: for unknown optimizers, losses or metrics, or unsupported options
                (``loss_weights``, ``weighted_metrics``).
        """
        kwargs.pop("pss_evaluation_shards", None)
        if kwargs:
            raise TypeError(f"compile: unexpected argument(s) {sorted(kwargs)}.")
        _refuse("compile", weighted_metrics=weighted_metrics)
        if metrics is not None and not isinstance(metrics, (list, tuple, dict)):
            metrics = [metrics]
        self._optimizer_spec = optimizers_module.get(optimizer)
        self.optimizer = (
            self._optimizer_spec
            if isinstance(self._optimizer_spec, torch.optim.Optimizer)
            and not isinstance(self._optimizer_spec, optimizers_module.Optimizer)
            else None
        )
        self.loss = loss
        self._loss_weights = loss_weights
        self._metric_names = metrics if isinstance(metrics, dict) else list(metrics or [])
        self._objectives_cache = None
        objectives = self._objectives() if loss is not None else None
        # The loss of the first output that has one (None: not compiled for training).
        self.compiled_loss = None
        if objectives is not None:
            self.compiled_loss = next((fn for fn in objectives.losses if fn is not None), None)
        self._compile_config = self._serializable_compile_config(
            optimizer, loss, metrics, loss_weights
        )

    def _output_names(self) -> list[str]:
        """Names of the outputs, for per-output losses and metrics."""
        last = list(getattr(self, "layers", []))[-1:]
        return [getattr(layer, "name", "output") for layer in last] or ["output"]

    def _objectives(self) -> Objectives:
        if self._objectives_cache is None:
            self._objectives_cache = Objectives(
                self.loss, self._loss_weights, self._metric_names, self._output_names()
            )
        return self._objectives_cache

    @staticmethod
    def _serializable_compile_config(optimizer, loss, metrics, loss_weights) -> dict | None:
        if isinstance(optimizer, optimizers_module.Optimizer):
            optimizer = optimizers_module.serialize(optimizer)
        if not isinstance(optimizer, (str, dict)):
            return None
        plain = (str, int, float, type(None))
        for value in (loss, metrics, loss_weights):
            leaves = value.values() if isinstance(value, dict) else value
            leaves = leaves if isinstance(leaves, (list, tuple, type({}.values()))) else [leaves]
            if not all(
                isinstance(leaf, plain) or isinstance(leaf, (dict, list)) for leaf in leaves
            ):
                return None
            if callable(value):
                return None
        if isinstance(loss, (list, tuple)) and not all(isinstance(item, str) for item in loss):
            return None
        config = {"optimizer": optimizer, "loss": loss, "metrics": metrics or None}
        if loss_weights is not None:
            config["loss_weights"] = loss_weights
        return config

    def _bound_optimizer(self) -> torch.optim.Optimizer:
        if self.optimizer is not None:
            return self.optimizer
        spec = self._optimizer_spec
        params = [p for p in self.parameters()]
        if isinstance(spec, optimizers_module.Optimizer):
            self.optimizer = spec if spec._bound else spec.bind(params)
        else:
            optimizer = spec(params)
            if not isinstance(optimizer, torch.optim.Optimizer):
                raise ValueError(
                    "compile: optimizer as a callable must return a torch.optim.Optimizer. "
                    f"Received: {type(optimizer).__name__} from {spec!r:.100}."
                )
            self.optimizer = optimizer
        return self.optimizer

    def _check_compiled(self, method: str) -> Callable:
        if self.compiled_loss is None:
            raise ValueError(
                f"{method}: the model needs a loss. Expected model.compile(optimizer, loss) "
                "first. Received: an uncompiled model (or loss=None)."
            )
        return self.compiled_loss

    # -- one step ---------------------------------------------------------------------------

    def _device(self) -> torch.device:
        parameter = next(self.parameters(), None)
        return parameter.device if parameter is not None else torch.device("cpu")

    def _input_float_dtype(self) -> torch.dtype:
        return torch.get_default_dtype()

    def _as_inputs(self, x: Any, name: str) -> Any:
        """``x`` as the tensor (or structure of tensors) the model is called on."""
        return _data.as_tensor(x, name, self._input_float_dtype())

    def _as_targets(self, y: Any, name: str) -> list[torch.Tensor]:
        """``y`` as one target tensor per output (a list of them is taken as it is)."""
        if isinstance(y, list) and len(y) == 1 and torch.is_tensor(y[0]):
            y = y[0]
        return [_data.as_tensor(y, name, self._input_float_dtype())]

    def _output_list(self, y_pred: Any) -> list[torch.Tensor]:
        """The model's outputs as a list, in ``_output_names`` order."""
        if not torch.is_tensor(y_pred):
            raise ValueError(
                "fit: the model must return one tensor to compute a loss on. Received: "
                f"{type(y_pred).__name__} of {len(y_pred)} outputs."
            )
        return [y_pred]

    def _score(self, x, y, running, training: bool) -> torch.Tensor:
        self._check_compiled("fit")
        objectives = self._objectives()
        y_pred = self._output_list(self(x, training=training))
        total, parts = objectives.compute(y, y_pred, self.losses)
        if training:
            optimizer = self._bound_optimizer()
            optimizer.zero_grad(set_to_none=True)
            total.backward()
            optimizer.step()
            self.apply_constraints()
        objectives.update(running, y, y_pred, total, parts, _data.sample_count(x))
        return total

    def _train_batch(self, x, y, running) -> None:
        self._score(x, y, running, training=True)

    @torch.no_grad()
    def _test_batch(self, x, y, running) -> None:
        self._score(x, y, running, training=False)

    def _new_running(self) -> dict:
        self._check_compiled("fit")
        return self._objectives().new_running()

    # -- fit / evaluate / predict -----------------------------------------------------------

    def _tensors(self, x, y, x_name="x", y_name="y"):
        x = self._as_inputs(x, x_name)
        y = self._as_targets(y, y_name)
        _data.check_same_length(x, y, x_name, y_name)
        return x, y

    def _batch_source(
        self, method, x, y, batch_size, shuffle, names=("x", "y"), needs_targets=True
    ) -> tuple[partial, int | None]:
        """One pass of ``(x, y)`` batches on the model's device, as a function to call per
        epoch, and the number of batches per pass (``None`` when a loader has no length).

        ``x`` is an array (with targets ``y`` when ``needs_targets``) or an iterable of
        batches (``y`` is ``None``).
        """
        if not _batches.is_batches(x):
            _batches.check_not_a_dataset(x, names[0])
            if needs_targets:
                x, y = self._tensors(x, y, *names)
            else:
                x = self._as_inputs(x, names[0])
            batch_size = _data.check_batch_size(batch_size)
            source = partial(_batches.array_batches, x, y, batch_size, shuffle, self._device())
            return source, -(-_data.sample_count(x) // batch_size)
        for name, value in (("y", y), ("batch_size", batch_size)):
            if value is not None:
                raise ValueError(
                    f"{method}: {name} must be None when x is an iterable of batches (its "
                    f"batches hold the targets and set the batch size). Received: "
                    f"{name}={value!r:.100}."
                )
        return partial(self._loader_batches, x, method, needs_targets), _batches.batch_count(x)

    def _validation_source(self, validation_data, batch_size) -> partial:
        """``fit``'s validation batches: from ``(x_val, y_val)`` or a loader of them."""
        if _batches.is_batches(validation_data):
            return self._batch_source("fit: validation_data", validation_data, None, None, False)[0]
        if not isinstance(validation_data, (list, tuple)) or len(validation_data) != 2:
            raise ValueError(
                "fit: validation_data must be a tuple (x_val, y_val) or an iterable of "
                f"(x_val, y_val) batches such as a DataLoader. Received: "
                f"{_batches.describe(validation_data)}."
            )
        names = ("validation_data[0]", "validation_data[1]")
        return self._batch_source("fit", *validation_data, batch_size, False, names)[0]

    def _loader_batches(self, loader, method: str, needs_targets: bool):
        """A loader's batches as ``(x, y)`` tensors on the model's device (``y`` may be
        ``None`` unless ``needs_targets``)."""
        device = self._device()
        number = -1
        for number, batch in enumerate(loader):
            x, y = _batches.unpack_batch(batch, method, number, needs_targets)
            names = (f"{method}: batch {number}'s x", f"{method}: batch {number}'s y")
            if y is None or not needs_targets:
                yield _data.take(self._as_inputs(x, names[0]), None, device), None
            else:
                x, y = self._tensors(x, y, *names)
                yield _data.take(x, None, device), _data.take(y, None, device)
        if number < 0:
            raise ValueError(
                f"{method}: expected at least one batch from {type(loader).__name__}. Received: "
                "none (an iterator is used up after one pass: give a DataLoader or another "
                "object that can be iterated again)."
            )

    def _run_epoch(self, step, batches, progbar) -> dict[str, float]:
        """Runs ``step`` on every ``(x, y)`` batch; the progress bar shows all but the final
        update, and learns the number of steps if it did not know it."""
        running = self._new_running()
        count = 0
        for count, (x, y) in enumerate(batches, 1):
            step(x, y, running)
            if progbar is not None and (progbar.target is None or count < progbar.target):
                progbar.update(count, [(k, mean.result()) for k, mean in running.items()])
        if progbar is not None:
            progbar.target = count
        return {name: mean.result() for name, mean in running.items()}

    def fit(
        self,
        x: Any = None,
        y: Any = None,
        batch_size: int | None = None,
        epochs: int = 1,
        verbose: Any = "auto",
        callbacks: Any = None,
        validation_split: float = 0.0,
        validation_data: Any = None,
        shuffle: bool = True,
        class_weight: Any = None,
        sample_weight: Any = None,
        initial_epoch: int = 0,
        steps_per_epoch: Any = None,
        validation_batch_size: int | None = None,
        validation_freq: int = 1,
        **kwargs: Any,
    ) -> History:
        """Trains the model for ``epochs`` passes over ``(x, y)`` (Keras 2's ``Model.fit``).

        Args:
            x: inputs, a numpy array or tensor (integer ids stay integer); or a
                ``torch.utils.data.DataLoader`` or any other iterable of ``(x, y)`` batches
                (lists count as tuples), iterated once per epoch.
            y: targets, a numpy array or tensor; ``None`` when ``x`` holds batches.
            batch_size: samples per step (32); ``None`` when ``x`` holds batches.
            epochs: the index of the last epoch (``initial_epoch`` is the first).
            verbose: 0 silent, 1 (``'auto'``) progress bar, 2 one line per epoch.
            validation_split: the fraction of samples, taken from the end before
                shuffling, held out to compute ``val_*`` after each epoch.
            validation_data: ``(x_val, y_val)``, or an iterable of ``(x_val, y_val)``
                batches; overrides ``validation_split``.
            shuffle: reshuffle the training samples every epoch.
            initial_epoch: the epoch to start from.
            validation_batch_size: batch size for validation (``batch_size``).
            validation_freq: validate every ``validation_freq`` epochs.

        Returns:
            A ``History``: ``history.history`` maps ``'loss'``, each metric and their
            ``'val_'`` versions to per-epoch values.

        Raises:
            ValueError: if the model is not compiled, the arrays are not numeric or differ
                in length, or an unsupported option (callbacks, sample or class weights,
                steps_per_epoch) is set.
        """
        if kwargs:
            raise TypeError(f"fit: unexpected argument(s) {sorted(kwargs)}.")
        _refuse(
            "fit",
            callbacks=callbacks,
            class_weight=class_weight,
            sample_weight=sample_weight,
            steps_per_epoch=steps_per_epoch,
        )
        self._check_compiled("fit")
        verbose = _verbosity(verbose)
        batch_size = None if batch_size is None else _data.check_batch_size(batch_size)
        epochs = _data.check_int(epochs, "epochs", 0)
        initial_epoch = _data.check_int(initial_epoch, "initial_epoch", 0)
        validation_freq = _data.check_int(validation_freq, "validation_freq", 1)
        validation_split = _data.check_validation_split(validation_split)
        if validation_split and validation_data is None:
            if _batches.is_batches(x):
                raise ValueError(
                    "fit: validation_split needs x and y as arrays (it holds out their last "
                    f"samples). Received: x of type {type(x).__name__}; pass the validation "
                    "batches as validation_data instead."
                )
            x, y = self._tensors(x, y)
            x, y, validation_data = _data.split_validation(x, y, validation_split)
        validation = None
        if validation_data is not None:
            validation = self._validation_source(
                validation_data, validation_batch_size or batch_size
            )
        train, steps = self._batch_source("fit", x, y, batch_size, shuffle)
        history = History(self, {"verbose": verbose, "epochs": epochs, "steps": steps})
        with _training_mode(self, training=True):
            for epoch in range(initial_epoch, epochs):
                if verbose and epochs > 1:
                    print(f"Epoch {epoch + 1}/{epochs}")
                progbar = Progbar(steps, verbose) if verbose else None
                logs = self._run_epoch(self._train_batch, train(), progbar)
                if validation is not None and (epoch + 1) % validation_freq == 0:
                    with _training_mode(self, training=False):
                        val_logs = self._run_epoch(self._test_batch, validation(), None)
                    logs.update({f"val_{name}": value for name, value in val_logs.items()})
                if progbar is not None:
                    progbar.update(progbar.target, list(logs.items()))
                history.record(epoch, logs)
        return history

    def evaluate(
        self,
        x: Any = None,
        y: Any = None,
        batch_size: int | None = None,
        verbose: Any = "auto",
        sample_weight: Any = None,
        steps: Any = None,
        callbacks: Any = None,
        return_dict: bool = False,
        **kwargs: Any,
    ) -> float | list[float] | dict[str, float]:
        """Returns the loss (and metrics) on ``(x, y)`` in inference mode.

        ``x`` may also be a ``DataLoader`` or any iterable of ``(x, y)`` batches (then ``y``
        and ``batch_size`` stay ``None``), as in ``fit``.

        Returns:
            The loss when no metrics were compiled, else ``[loss, *metrics]``; with
            ``return_dict`` a dict by name.

        Example:
            >>> from birnn.layers import Dense
            >>> from birnn.models import Sequential
            >>> model = Sequential([Dense(1, input_shape=(2,), kernel_initializer="zeros")])
            >>> model.compile(loss="mse", optimizer="sgd")
            >>> model.evaluate(np.ones((4, 2)), np.ones((4, 1)), verbose=0)
            1.0
        """
        if kwargs:
            raise TypeError(f"evaluate: unexpected argument(s) {sorted(kwargs)}.")
        _refuse("evaluate", sample_weight=sample_weight, steps=steps, callbacks=callbacks)
        self._check_compiled("evaluate")
        verbose = _verbosity(verbose)
        batches, steps = self._batch_source("evaluate", x, y, batch_size, False)
        progbar = Progbar(steps, verbose) if verbose else None
        with _training_mode(self, training=False):
            logs = self._run_epoch(self._test_batch, batches(), progbar)
        if progbar is not None:
            progbar.update(progbar.target, list(logs.items()))
        return _keras_results(logs, return_dict)

    @torch.no_grad()
    def predict(
        self,
        x: Any,
        batch_size: int | None = None,
        verbose: Any = "auto",
        steps: Any = None,
        callbacks: Any = None,
        **kwargs: Any,
    ) -> np.ndarray | list[np.ndarray]:
        """Returns the model's outputs on ``x`` as numpy, computed in batches in eval mode.

        ``x`` may also be a ``DataLoader`` or any iterable of batches, each ``x``, ``(x,)``
        or ``(x, y)`` (targets are ignored).

        Example:
            >>> from birnn.layers import Dense
            >>> from birnn.models import Sequential
            >>> model = Sequential([Dense(3, input_shape=(2,))])
            >>> model.predict(np.zeros((5, 2)), verbose=0).shape
            (5, 3)
        """
        if kwargs:
            raise TypeError(f"predict: unexpected argument(s) {sorted(kwargs)}.")
        _refuse("predict", steps=steps, callbacks=callbacks)
        verbose = _verbosity(verbose)
        batches, steps = self._batch_source(
            "predict", x, None, batch_size, False, needs_targets=False
        )
        progbar = Progbar(steps, verbose) if verbose else None
        outputs: list[Any] = []
        with _training_mode(self, training=False):
            for index, (batch, _) in enumerate(batches()):
                outputs.append(self(batch, training=False))
                if progbar is not None:
                    progbar.update(index + 1, [])
        if progbar is not None and progbar.target is None:
            progbar.target = len(outputs)
            progbar.update(len(outputs), [])
        if not outputs:
            raise ValueError("predict: x must hold at least one sample. Received: 0 samples.")
        return _data.concatenate(outputs)

    def train_on_batch(self, x: Any, y: Any, return_dict: bool = False) -> Any:
        """One training step on one batch; returns the loss (and metrics) on it."""
        self._check_compiled("train_on_batch")
        x, y = self._tensors(x, y)
        running = self._new_running()
        with _training_mode(self, training=True):
            device = self._device()
            self._train_batch(_data.take(x, None, device), _data.take(y, None, device), running)
        return self._batch_logs(running, return_dict)

    def test_on_batch(self, x: Any, y: Any, return_dict: bool = False) -> Any:
        """The loss (and metrics) on one batch in inference mode, without training."""
        self._check_compiled("test_on_batch")
        x, y = self._tensors(x, y)
        running = self._new_running()
        with _training_mode(self, training=False):
            device = self._device()
            self._test_batch(_data.take(x, None, device), _data.take(y, None, device), running)
        return self._batch_logs(running, return_dict)

    @staticmethod
    def _batch_logs(running: dict, return_dict: bool) -> Any:
        return _keras_results({name: mean.result() for name, mean in running.items()}, return_dict)

    # -- configs and files ------------------------------------------------------------------

    def to_json(self, **kwargs: Any) -> str:
        """The model's config as JSON, in tf-keras 2.x's ``to_json()`` form."""
        return json.dumps(
            {
                "class_name": type(self).__name__,
                "config": self.get_config(),
                "backend": "torch",
                "birnn_version": __version__,
            },
            **kwargs,
        )

    def save(self, filepath: str | os.PathLike, overwrite: bool = True, **kwargs: Any) -> None:
        """Saves the model (config, weights, compile settings) in birnn's own format.

        One file: a safetensors file whose metadata holds the JSON config. Read it back
        with ``birnn.models.load_model``. Keras formats (``.h5``, ``.keras``) are read by
        ``load_model`` but not written.

        Raises:
            ValueError: for a ``.h5``/``.keras`` path, or an existing file when
                ``overwrite=False``.
        """
        _refuse("save", **{k: v for k, v in kwargs.items() if k != "save_format"})
        save_model_file(self, filepath, overwrite=overwrite, include_config=True)

    def save_weights(self, filepath: str | os.PathLike, overwrite: bool = True) -> None:
        """Saves the weights in birnn's format (safetensors); ``load_weights`` reads them."""
        save_model_file(self, filepath, overwrite=overwrite, include_config=False)

    def load_weights(self, filepath: str | os.PathLike, **kwargs: Any) -> None:
        """Loads weights saved by ``save``/``save_weights``, or from a Keras file.

        Keras files: ``.h5`` weights or model files (matched by layer name, else by the
        order of the layers with weights, as Keras 2 does), ``*.weights.h5`` and ``.keras``
        files (matched by layer class and position). Nothing is changed unless every
        weight matches.

        Raises:
            ValueError: if the file is not a weights file, or a layer or shape differs.
        """
        _refuse("load_weights", **{k: v for k, v in kwargs.items() if k != "by_name"})
        load_weights_into(self, filepath)


def _keras_results(logs: dict[str, float], return_dict: bool) -> Any:
    """What Keras's evaluate/test_on_batch return: the dict, one value, or a list of values."""
    if return_dict:
        return logs
    values = list(logs.values())
    return values[0] if len(values) == 1 else values
