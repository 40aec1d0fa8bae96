"""``History`` and ``Progbar``: what ``fit`` returns and what it prints, as Keras 2 does."""

from __future__ import annotations

import sys
import time
from typing import Any, TextIO


class History:
    """The record ``fit`` returns: ``history`` maps each metric name to its per-epoch values.

    Args:
        model: the model ``fit`` trained.
        params: ``{"verbose", "epochs", "steps"}``, as Keras records them.

    Attributes:
        history: ``{"loss": [...], "accuracy": [...], "val_loss": [...], ...}``.
        epoch: the epoch indices run.
        params: ``{"verbose", "epochs", "steps"}``, as Keras records them.
        model: the model trained.
    """

    def __init__(self, model: Any = None, params: dict | None = None):
        self.model = model
        self.params = params or {}
        self.epoch: list[int] = []
        self.history: dict[str, list[float]] = {}

    def record(self, epoch: int, logs: dict[str, float]) -> None:
        self.epoch.append(epoch)
        for key, value in logs.items():
            self.history.setdefault(key, []).append(value)

    def __repr__(self) -> str:
        return f"History(epochs={len(self.epoch)}, keys={list(self.history)})"


def _format_value(value: float) -> str:
    return f"{value:.4f}" if abs(value) > 1e-3 else f"{value:.4e}"


def _format_time_per_step(seconds: float, unit: str) -> str:
    if seconds >= 1 or seconds == 0:
        return f"{seconds:.0f}s/{unit}"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.0f}ms/{unit}"
    return f"{seconds * 1e6:.0f}us/{unit}"


class Progbar:
    """Keras 2's progress bar: ``4/4 [======] - 0s 3ms/step - loss: 1.6094``.

    ``target`` is the number of steps, or ``None`` when unknown (a loader without a
    length): the bar then shows ``3/Unknown`` until the caller sets ``target``.

    With ``verbose=1`` the bar redraws in place on a terminal and is printed once, when
    done, elsewhere (logs, notebooks' captured output). With ``verbose=2`` only the final
    line is printed, without the bar.

    Example:
        >>> import io
        >>> stream = io.StringIO()
        >>> bar = Progbar(2, stream=stream)
        >>> bar.update(2, [("loss", 0.5)])
        >>> print(stream.getvalue().split(" - ")[0])
        2/2 [==============================]
    """

    width = 30

    def __init__(
        self, target: int | None, verbose: int = 1, stream: TextIO | None = None, unit: str = "step"
    ):
        self.target = target
        self.verbose = verbose
        self.stream = stream if stream is not None else sys.stdout
        self.unit = unit
        self.start = time.perf_counter()
        self._dynamic = bool(getattr(self.stream, "isatty", lambda: False)())
        self._last_width = 0

    def _bar(self, current: int) -> str:
        if self.target is None:
            return f"{current}/Unknown"
        digits = len(str(self.target))
        bar = f"{current:{digits}d}/{self.target} ["
        filled = int(self.width * current / self.target) if self.target else self.width
        if filled > 0:
            bar += "=" * (filled - 1) + (">" if current < self.target else "=")
        return bar + "." * (self.width - filled) + "]"

    def update(self, current: int, values: list[tuple[str, float]]) -> None:
        """Shows progress ``current`` of ``target`` with the running metric values."""
        done = self.target is not None and current >= self.target
        if self.verbose == 2 and not done or self.verbose == 0:
            return
        if self.verbose == 1 and not done and not self._dynamic:
            return
        elapsed = time.perf_counter() - self.start
        metrics = "".join(f" - {name}: {_format_value(value)}" for name, value in values)
        per_step = _format_time_per_step(elapsed / max(current, 1), self.unit)
        if self.verbose == 2:
            line = f"{current}/{self.target} - {elapsed:.0f}s{metrics}"
            line += f" - {elapsed:.0f}s/epoch - {per_step}"
        elif done:
            line = f"{self._bar(current)} - {elapsed:.0f}s {per_step}{metrics}"
        elif self.target is None:
            line = f"{self._bar(current)} - {elapsed:.0f}s {per_step}{metrics}"
        else:
            eta = elapsed / max(current, 1) * (self.target - current)
            line = f"{self._bar(current)} - ETA: {eta:.0f}s{metrics}"
        if self._dynamic and self.verbose == 1:
            padding = " " * max(self._last_width - len(line), 0)
            self.stream.write("\r" + line + padding)
            self._last_width = len(line)
        else:
            self.stream.write(line)
        if done:
            self.stream.write("\n")
        self.stream.flush()
