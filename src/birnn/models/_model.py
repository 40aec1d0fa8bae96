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

from .. import losses as losses_module
from .. import metrics as metrics_module
from .. import optimizers as optimizers_module
from .._version import __version__
from ..layers._layer import Layer
from . import _batches, _data
from ._model_files import load_weights_into, save_model_file
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


_SAME_SHAPE_LOSSES = (
    losses_module.categorical_crossentropy,
    losses_module.binary_crossentropy,
    losses_module.mean_squared_error,
    losses_module.mean_absolute_error,
)


def _check_targets(loss_fn: Callable, y_true, y_pred, y_shape: tuple, output_shape: tuple) -> None:
    """Targets that fit the outputs for a built-in loss, or a ValueError saying how.

    ``y_true``/``y_pred`` are the rank-matched tensors the loss receives; ``y_shape`` and
    ``output_shape`` the shapes the user sees. Callable losses are not checked.
    """
    function = loss_fn.func if isinstance(loss_fn, partial) else loss_fn
    name = getattr(function, "__name__", "loss")
    if function is losses_module.sparse_categorical_crossentropy:
        expected = tuple(y_pred.shape[:-1])
        if tuple(y_true.shape) not in (expected, expected + (1,)):
            raise ValueError(
                f"y must hold one class id per output for loss '{name}': shape "
                f"{expected} (the model's outputs are {output_shape}). "
                f"Received: y of shape {y_shape}."
            )
        classes = y_pred.shape[-1]
        if y_true.numel():
            low, high = torch.aminmax(y_true.detach())
            low, high = low.item(), high.item()
            if low < 0 or high >= classes:
                raise ValueError(
                    f"y must hold class ids in [0, {classes}) for loss '{name}' (the model "
                    f"outputs {classes} classes). Received: ids from {low:g} to {high:g}."
                )
    elif function in _SAME_SHAPE_LOSSES:
        try:
            shape = tuple(torch.broadcast_shapes(y_true.shape, y_pred.shape))
        except RuntimeError:
            shape = None
        if shape != tuple(y_pred.shape):
            raise ValueError(
                f"y must have the shape of the model's outputs {output_shape} for loss "
                f"'{name}'. Received: y of shape {y_shape}."
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


class Model(Layer):
    """Base class of birnn models: Keras 2's ``compile``/``fit``/``evaluate``/``predict``,
    ``save``/``load_weights`` and ``to_json`` on a ``Layer``. See ``Sequential``."""

    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        self.optimizer: torch.optim.Optimizer | None = None
        self._optimizer_spec: Any = None
        self.compiled_loss: Callable | None = None
        self.loss: Any = None
        self._metric_names: list[Any] = []
        self._compile_config: dict[str, Any] | None = None

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
        _refuse("compile", loss_weights=loss_weights, weighted_metrics=weighted_metrics)
        if metrics is not None and not isinstance(metrics, (list, tuple)):
            metrics = [metrics]
        for metric in metrics or []:
            if isinstance(metric, str):
                metrics_module.get(metric, torch.zeros(1, 2), torch.zeros(1, 2))
        self._optimizer_spec = optimizers_module.get(optimizer)
        self.optimizer = (
            self._optimizer_spec
            if isinstance(self._optimizer_spec, torch.optim.Optimizer)
            and not isinstance(self._optimizer_spec, optimizers_module.Optimizer)
            else None
        )
        self.loss = loss
        self.compiled_loss = None if loss is None else losses_module.get(loss)
        self._metric_names = list(metrics or [])
        self._compile_config = self._serializable_compile_config(optimizer, loss, metrics)

    @staticmethod
    def _serializable_compile_config(optimizer, loss, metrics) -> dict[str, Any] | None:
        if isinstance(optimizer, optimizers_module.Optimizer):
            optimizer = optimizers_module.serialize(optimizer)
        if not isinstance(optimizer, (str, dict)) or not isinstance(loss, (str, dict, type(None))):
            return None
        if not all(isinstance(m, str) for m in metrics or []):
            return None
        return {"optimizer": optimizer, "loss": loss, "metrics": list(metrics or []) or None}

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

    def _compute_loss(self, y, y_pred) -> tuple[torch.Tensor, torch.Tensor | None]:
        """The data loss (mean over the output mask's valid entries) plus regularization."""
        loss_fn = self._check_compiled("fit")
        if not torch.is_tensor(y_pred):
            raise ValueError(
                "fit: the model must return one tensor to compute a loss on. Received: "
                f"{type(y_pred).__name__} of {len(y_pred)} outputs."
            )
        mask = getattr(y_pred, "_keras_mask", None)
        y_true, y_pred_matched = losses_module.match_ranks(y, y_pred)
        _check_targets(loss_fn, y_true, y_pred_matched, tuple(y.shape), tuple(y_pred.shape))
        per_sample = loss_fn(y_true, y_pred_matched)
        if mask is not None and tuple(mask.shape) != tuple(per_sample.shape):
            raise ValueError(
                f"fit: the output mask of shape {tuple(mask.shape)} does not fit the losses of "
                f"shape {tuple(per_sample.shape)}. Expected targets shaped like the masked "
                f"outputs {tuple(y_pred.shape)}. Received: targets of shape {tuple(y.shape)}."
            )
        loss = losses_module.reduce_loss(per_sample, mask)
        regularization = self.losses
        if regularization:
            loss = loss + torch.stack([r.to(loss.dtype).reshape(()) for r in regularization]).sum()
        return loss, mask

    def _update_metrics(self, running: dict, y, y_pred, mask, loss, batch: int) -> None:
        running["loss"].update(loss.detach(), weight=batch)
        if not self._metric_names:
            return
        with torch.no_grad():
            y_true, y_pred_matched = losses_module.match_ranks(y, y_pred.detach())
            for identifier in self._metric_names:
                key = metrics_module.name_of(identifier)
                function = metrics_module.get(identifier, y, y_pred)
                values = function(y_true, y_pred_matched)
                weight = mask if mask is not None and mask.shape == values.shape else None
                running[key].update(values, weight)

    def _new_running(self) -> dict[str, metrics_module.Mean]:
        names = ["loss"] + [metrics_module.name_of(m) for m in self._metric_names]
        return {name: metrics_module.Mean() for name in names}

    def _train_batch(self, x, y, running) -> None:
        y_pred = self(x, training=True)
        loss, mask = self._compute_loss(y, y_pred)
        optimizer = self._bound_optimizer()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        self.apply_constraints()
        self._update_metrics(running, y, y_pred, mask, loss, x.shape[0])

    @torch.no_grad()
    def _test_batch(self, x, y, running) -> None:
        y_pred = self(x, training=False)
        loss, mask = self._compute_loss(y, y_pred)
        self._update_metrics(running, y, y_pred, mask, loss, x.shape[0])

    # -- fit / evaluate / predict -----------------------------------------------------------

    def _tensors(self, x, y, x_name="x", y_name="y"):
        x = _data.as_tensor(x, x_name, self._input_float_dtype())
        y = _data.as_tensor(y, y_name, self._input_float_dtype())
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
                x = _data.as_tensor(x, names[0], self._input_float_dtype())
            batch_size = _data.check_batch_size(batch_size)
            source = partial(_batches.array_batches, x, y, batch_size, shuffle, self._device())
            return source, -(-x.shape[0] // batch_size)
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
                x, y = _data.as_tensor(x, names[0], self._input_float_dtype()), None
                yield x.to(device), None
            else:
                x, y = self._tensors(x, y, *names)
                yield x.to(device), y.to(device)
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
        if outputs and isinstance(outputs[0], (list, tuple)):
            return [
                torch.cat([o[i] for o in outputs]).cpu().numpy() for i in range(len(outputs[0]))
            ]
        if not outputs:
            raise ValueError("predict: x must hold at least one sample. Received: 0 samples.")
        return torch.cat(outputs).cpu().numpy()

    def train_on_batch(self, x: Any, y: Any, return_dict: bool = False) -> Any:
        """One training step on one batch; returns the loss (and metrics) on it."""
        self._check_compiled("train_on_batch")
        x, y = self._tensors(x, y)
        running = self._new_running()
        with _training_mode(self, training=True):
            self._train_batch(x.to(self._device()), y.to(self._device()), running)
        return self._batch_logs(running, return_dict)

    def test_on_batch(self, x: Any, y: Any, return_dict: bool = False) -> Any:
        """The loss (and metrics) on one batch in inference mode, without training."""
        self._check_compiled("test_on_batch")
        x, y = self._tensors(x, y)
        running = self._new_running()
        with _training_mode(self, training=False):
            self._test_batch(x.to(self._device()), y.to(self._device()), running)
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
