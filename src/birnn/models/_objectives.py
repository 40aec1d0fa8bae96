"""``Objectives``: what ``compile`` asked for, per model output, and how one batch is scored.

Keras 2's rules for several outputs: ``loss`` is one loss for every output, a list (one
per output) or a dict by output name (an output without a loss is not trained on);
``loss_weights`` weigh each output's loss in the total; ``metrics`` is a list for every
output, a list of lists or a dict by output name. The logs are ``loss`` (the total, with
regularization), then ``<output>_loss`` per output, then ``<output>_<metric>``; a
single-output model logs ``loss`` and the metric names only.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import torch

from .. import losses as losses_module
from .. import metrics as metrics_module

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


def _is_loss_object(loss: Any) -> bool:
    return isinstance(loss, dict) and "class_name" in loss


def _per_output(spec: Any, names: list[str], what: str, default: Any) -> list[Any]:
    """``spec`` given once, as a list (one per output) or a dict by output name."""
    if isinstance(spec, dict) and not _is_loss_object(spec):
        unknown = sorted(set(spec) - set(names))
        if unknown:
            raise ValueError(
                f"compile: {what} as a dict must be keyed by output names {names}. "
                f"Received: keys {sorted(spec)}."
            )
        return [spec.get(name, default) for name in names]
    if isinstance(spec, (list, tuple)) and what != "metrics":
        if len(spec) != len(names):
            raise ValueError(
                f"compile: {what} as a list must have one entry per output {names}. "
                f"Received: {len(spec)} entries."
            )
        return list(spec)
    return [spec] * len(names)


class Objectives:
    """The compiled losses, loss weights and metrics of a model with ``output_names``.

    Raises:
        ValueError: for an unknown loss or metric, or a list or dict that does not fit
            the outputs.
    """

    def __init__(self, loss: Any, loss_weights: Any, metrics: Any, output_names: list[str]):
        self.output_names = list(output_names)
        count = len(self.output_names)
        losses = _per_output(loss, self.output_names, "loss", None)
        self.losses = [None if item is None else losses_module.get(item) for item in losses]
        weights = _per_output(loss_weights, self.output_names, "loss_weights", 1.0)
        self.loss_weights = [1.0 if w is None else float(w) for w in weights]
        if isinstance(metrics, dict):
            per_output = _per_output(metrics, self.output_names, "metrics", [])
        elif metrics and all(isinstance(m, (list, tuple)) for m in metrics):
            per_output = _per_output(list(metrics), self.output_names, "loss", None)
        else:
            per_output = [metrics] * count
        self.metrics = [
            [] if items is None else list(items) if isinstance(items, (list, tuple)) else [items]
            for items in per_output
        ]
        for items in self.metrics:
            for metric in items:
                if isinstance(metric, str):
                    metrics_module.get(metric, torch.zeros(1, 2), torch.zeros(1, 2))

    def _prefix(self, index: int) -> str:
        return f"{self.output_names[index]}_" if len(self.output_names) > 1 else ""

    def log_names(self) -> list[str]:
        names = ["loss"]
        if len(self.output_names) > 1:
            names += [f"{self._prefix(i)}loss" for i, fn in enumerate(self.losses) if fn]
        for index, items in enumerate(self.metrics):
            names += [self._prefix(index) + metrics_module.name_of(m) for m in items]
        return names

    def compute(self, y: list, y_pred: list, regularization: list) -> tuple:
        """The total loss and each output's ``(loss, mask)`` (``None`` without a loss)."""
        total = None
        parts: list[tuple[Any, Any]] = []
        for index, (loss_fn, target, output) in enumerate(zip(self.losses, y, y_pred)):
            mask = getattr(output, "_keras_mask", None)
            if loss_fn is None:
                parts.append((None, mask))
                continue
            y_true, y_pred_matched = losses_module.match_ranks(target, output)
            _check_targets(
                loss_fn, y_true, y_pred_matched, tuple(target.shape), tuple(output.shape)
            )
            per_sample = loss_fn(y_true, y_pred_matched)
            if mask is not None and tuple(mask.shape) != tuple(per_sample.shape):
                raise ValueError(
                    f"fit: the output mask of shape {tuple(mask.shape)} does not fit the "
                    f"losses of shape {tuple(per_sample.shape)}. Expected targets shaped like "
                    f"the masked outputs {tuple(output.shape)}. Received: targets of shape "
                    f"{tuple(target.shape)}."
                )
            loss = losses_module.reduce_loss(per_sample, mask)
            parts.append((loss, mask))
            weighted = loss * self.loss_weights[index]
            total = weighted if total is None else total + weighted
        if total is None:
            raise ValueError(
                f"fit: no output has a loss. Expected a loss for at least one of the "
                f"outputs {self.output_names}. Received: none."
            )
        if regularization:
            total = (
                total + torch.stack([r.to(total.dtype).reshape(()) for r in regularization]).sum()
            )
        return total, parts

    def new_running(self) -> dict[str, metrics_module.Mean]:
        return {name: metrics_module.Mean() for name in self.log_names()}

    def update(self, running: dict, y: list, y_pred: list, total, parts, batch: int) -> None:
        running["loss"].update(total.detach(), weight=batch)
        with torch.no_grad():
            for index, (target, output, (loss, mask)) in enumerate(zip(y, y_pred, parts)):
                prefix = self._prefix(index)
                if loss is not None and len(self.output_names) > 1:
                    running[f"{prefix}loss"].update(loss.detach(), weight=batch)
                if not self.metrics[index]:
                    continue
                y_true, y_pred_matched = losses_module.match_ranks(target, output.detach())
                for identifier in self.metrics[index]:
                    function = metrics_module.get(identifier, target, output)
                    values = function(y_true, y_pred_matched)
                    weight = mask if mask is not None and mask.shape == values.shape else None
                    running[prefix + metrics_module.name_of(identifier)].update(values, weight)
