"""Keras 2 optimizers as ``torch.optim.Optimizer`` subclasses, with Keras's update rules.

The update rules are tf-keras 2.x's (``tf_keras/optimizers/*.py``, the default
optimizers since TF 2.11), which differ from PyTorch's namesakes:

- ``RMSprop``: Keras divides by ``sqrt(v + epsilon)``, PyTorch by ``sqrt(v) + eps``; with
  ``epsilon=1e-7`` the first steps differ when gradients are small.
- ``Adam``/``Adamax``: Keras adds ``epsilon`` to the bias-uncorrected ``sqrt(v)``
  ("epsilon hat" of the Adam paper), PyTorch to the corrected one.
- ``Adagrad``: Keras starts the accumulator at ``0.1`` and divides by
  ``sqrt(accumulator + epsilon)``.

Each optimizer takes Keras's arguments (``Adam(learning_rate=1e-3)``) and can be created
before the model's weights exist: ``compile`` binds it to them. ``params=`` binds it at
once, as a PyTorch optimizer. ``clipnorm``, ``clipvalue``, ``global_clipnorm`` and
decoupled ``weight_decay`` work as in Keras. The learning rate lives in each param
group's ``"lr"``, so PyTorch's learning-rate schedulers work too.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Callable, Iterable
from typing import Any

import torch

from ._objects import as_config, from_config, lookup, serialize_object

__all__ = ["Optimizer", "SGD", "RMSprop", "Adam", "Adagrad", "Adamax", "get", "serialize"]

_BASE_KEYS = ("weight_decay", "clipnorm", "global_clipnorm", "clipvalue")
# Keys Keras writes that change nothing here.
_IGNORED_KEYS = ("name", "jit_compile", "is_legacy_optimizer", "ema_momentum")
# Keras 3 keys that change nothing while they are None (their default).
_NONE_ONLY_KEYS = ("loss_scale_factor", "gradient_accumulation_steps")


class Optimizer(torch.optim.Optimizer):
    """Base class: Keras's gradient clipping, weight decay and config around an update rule.

    Subclasses define ``_defaults`` (their own Keras arguments) and ``_update``; their
    constructors take the arguments below.

    Args:
        learning_rate: the step size, a float (``lr`` is accepted too); for schedules use a
            ``torch.optim.lr_scheduler``.
        weight_decay: optional decoupled weight decay: each step also subtracts
            ``weight_decay * learning_rate * w``, as Keras does.
        clipnorm: optional: clip each gradient to this L2 norm.
        clipvalue: optional: clip each gradient entry to ``[-clipvalue, clipvalue]``.
        global_clipnorm: optional: clip all gradients together to this L2 norm (not with
            ``clipnorm``).
        use_ema: accepted when false; moving averages of the weights are not supported.
        ema_overwrite_frequency: accepted when ``None``.
        params: the parameters to train; ``compile`` binds a model's own when omitted.
        **options: the update rule's own Keras arguments (``beta_1``, ``rho``, ...).
    """

    _defaults: dict[str, Any] = {}

    def __init__(
        self,
        learning_rate: float = 0.001,
        *,
        weight_decay: float | None = None,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        global_clipnorm: float | None = None,
        use_ema: bool = False,
        ema_overwrite_frequency: int | None = None,
        params: Iterable | None = None,
        **options: Any,
    ):
        owner = type(self).__name__
        for key in _IGNORED_KEYS:
            options.pop(key, None)
        for key in _NONE_ONLY_KEYS:
            if options.pop(key, None) is not None:
                raise ValueError(f"{owner}: {key} is not supported. Expected: {key}=None.")
        if "lr" in options:  # Keras < 2.11 and PyTorch spell it so
            learning_rate = options.pop("lr")
        if options.pop("decay", 0.0):
            raise ValueError(
                f"{owner}: the legacy `decay` argument is not supported. Expected: decay=0 "
                "(use a torch.optim.lr_scheduler instead)."
            )
        unknown = sorted(set(options) - set(self._defaults))
        if unknown:
            raise TypeError(
                f"{owner}: unexpected argument(s) {unknown}. Expected some of "
                f"{sorted(self._defaults)} and {list(_BASE_KEYS)}."
            )
        if isinstance(learning_rate, bool) or not isinstance(learning_rate, (int, float)):
            raise ValueError(
                f"{owner}: learning_rate must be a float (learning-rate schedules: use a "
                f"torch.optim.lr_scheduler). Received: {type(learning_rate).__name__} "
                f"{learning_rate!r:.100}. Pass the weights as params=..."
            )
        # tf-keras 2.21 writes ema_overwrite_frequency=100 next to use_ema=False; without
        # EMA it means nothing.
        if use_ema:
            raise ValueError(f"{owner}: use_ema is not supported. Received: use_ema={use_ema}.")
        if clipnorm is not None and global_clipnorm is not None:
            raise ValueError(
                f"{owner}: expected at most one of clipnorm and global_clipnorm. Received: "
                f"clipnorm={clipnorm}, global_clipnorm={global_clipnorm}."
            )
        self._options = {
            "weight_decay": weight_decay,
            "clipnorm": clipnorm,
            "global_clipnorm": global_clipnorm,
            "clipvalue": clipvalue,
        }
        self._group_defaults = {"lr": float(learning_rate), **self._defaults, **options}
        self.iterations = 0
        self._bound = False
        # torch's step() wrapper reads these before our unbound check can run.
        self._optimizer_step_pre_hooks: OrderedDict = OrderedDict()
        self._optimizer_step_post_hooks: OrderedDict = OrderedDict()
        if params is not None:
            self.bind(params)

    def __getstate__(self) -> dict[str, Any]:
        # torch keeps only defaults, state and param_groups; ours also needs its Keras options,
        # and an unbound optimizer has none of torch's attributes yet.
        return dict(self.__dict__)

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)

    def state_dict(self) -> dict[str, Any]:
        # The step count drives Adam's bias correction: it belongs to the checkpoint.
        return {**super().state_dict(), "iterations": self.iterations}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        state_dict = dict(state_dict)
        self.iterations = int(state_dict.pop("iterations", 0))
        super().load_state_dict(state_dict)

    def bind(self, params: Iterable) -> Optimizer:
        """Gives the optimizer the weights it updates (``compile``/``fit`` call this).

        Raises:
            ValueError: if it already has weights.
        """
        if self._bound:
            raise ValueError(
                f"{type(self).__name__}: this optimizer already updates other weights. "
                "Expected an unbound optimizer. Received: one bound by params= or an earlier "
                "model."
            )
        super().__init__(params, dict(self._group_defaults))
        self._bound = True
        return self

    @property
    def learning_rate(self) -> float:
        groups = getattr(self, "param_groups", None)
        return groups[0]["lr"] if groups else self._group_defaults["lr"]

    def _clipped(self, grads: list[torch.Tensor]) -> list[torch.Tensor]:
        clipnorm, global_clipnorm = self._options["clipnorm"], self._options["global_clipnorm"]
        clipvalue = self._options["clipvalue"]
        # As tf-keras: clipnorm, else global_clipnorm, else clipvalue; never two of them.
        if clipnorm is not None:
            return [g * (clipnorm / torch.clamp(g.norm(), min=clipnorm)) for g in grads]
        if global_clipnorm is not None and grads:
            norm = torch.sqrt(sum((g * g).sum() for g in grads))
            return [g * (global_clipnorm / torch.clamp(norm, min=global_clipnorm)) for g in grads]
        if clipvalue is not None:
            return [g.clamp(-clipvalue, clipvalue) for g in grads]
        return grads

    @torch.no_grad()
    def step(self, closure: Callable | None = None) -> Any:
        """Applies one update to every weight with a gradient, as Keras's ``apply_gradients``."""
        if not self._bound:
            raise ValueError(
                f"{type(self).__name__}: the optimizer has no weights yet. Expected "
                "params=... or model.compile(optimizer=...). Received: step() on an unbound "
                "optimizer."
            )
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        self.iterations += 1
        for group in self.param_groups:
            params = [p for p in group["params"] if p.grad is not None]
            grads = self._clipped([p.grad for p in params])
            if self._options["weight_decay"]:
                for p in params:
                    p.sub_(p * self._options["weight_decay"] * group["lr"])
            for p, g in zip(params, grads):
                self._update(p, g, self.state[p], group)
        return loss

    def _update(self, p: torch.Tensor, g: torch.Tensor, state: dict, group: dict) -> None:
        raise NotImplementedError

    def __repr__(self) -> str:
        state = "" if self._bound else ", unbound"
        return f"{type(self).__name__}(learning_rate={self.learning_rate}{state})"

    def get_config(self) -> dict[str, Any]:
        """Returns the config tf-keras 2.x writes for this optimizer."""
        group = self.param_groups[0] if self._bound else self._group_defaults
        return {
            "name": type(self).__name__,
            **self._options,
            "use_ema": False,
            "ema_momentum": 0.99,
            "ema_overwrite_frequency": None,
            "jit_compile": False,
            "is_legacy_optimizer": False,
            "learning_rate": group["lr"],
            **{key: group[key] for key in self._defaults},
        }

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Optimizer:
        return cls(**config)


class SGD(Optimizer):
    """Keras 2's ``SGD(learning_rate=0.01, momentum=0.0, nesterov=False)``.

    Example:
        >>> w = torch.nn.Parameter(torch.tensor([1.0]))
        >>> optimizer = SGD(0.1, params=[w])
        >>> w.grad = torch.tensor([2.0]); optimizer.step(); w.data
        tensor([0.8000])
    """

    _defaults = {"momentum": 0.0, "nesterov": False}

    def __init__(self, learning_rate: float = 0.01, **kwargs: Any):
        super().__init__(learning_rate, **kwargs)

    def _update(self, p, g, state, group):
        lr, momentum = group["lr"], group["momentum"]
        if not momentum:
            p.sub_(lr * g)
            return
        m = state.setdefault("momentum", torch.zeros_like(p))
        m.mul_(momentum).sub_(lr * g)
        p.add_(m * momentum - lr * g if group["nesterov"] else m)


class RMSprop(Optimizer):
    """Keras 2's ``RMSprop(learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-07,
    centered=False)``: ``w -= lr * g / sqrt(v + epsilon)`` with ``v`` the running mean of
    ``g ** 2`` (``epsilon`` inside the root, unlike ``torch.optim.RMSprop``).

    Example:
        >>> w = torch.nn.Parameter(torch.tensor([1.0]))
        >>> optimizer = RMSprop(params=[w])
        >>> w.grad = torch.tensor([1.0]); optimizer.step(); round(float(w.detach()), 6)
        0.996838
    """

    _defaults = {"rho": 0.9, "momentum": 0.0, "epsilon": 1e-07, "centered": False}

    def _update(self, p, g, state, group):
        rho, epsilon = group["rho"], group["epsilon"]
        v = state.setdefault("velocity", torch.zeros_like(p))
        v.mul_(rho).add_((1 - rho) * g * g)
        if group["centered"]:
            mean = state.setdefault("average_gradient", torch.zeros_like(p))
            mean.mul_(rho).add_((1 - rho) * g)
            denominator = v - mean * mean + epsilon
        else:
            denominator = v + epsilon
        increment = group["lr"] * g * torch.rsqrt(denominator)
        if group["momentum"] > 0:
            m = state.setdefault("momentum", torch.zeros_like(p))
            m.mul_(group["momentum"]).add_(increment)
            p.sub_(m)
        else:
            p.sub_(increment)


class Adam(Optimizer):
    """Keras 2's ``Adam(learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-07,
    amsgrad=False)``, with ``epsilon`` added to the bias-uncorrected ``sqrt(v)``.

    Example:
        >>> w = torch.nn.Parameter(torch.tensor([1.0]))
        >>> optimizer = Adam(0.1, params=[w])
        >>> w.grad = torch.tensor([3.0]); optimizer.step(); round(float(w.detach()), 6)
        0.9
    """

    _defaults = {"beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-07, "amsgrad": False}

    def _update(self, p, g, state, group):
        beta_1, beta_2, step = group["beta_1"], group["beta_2"], self.iterations
        m = state.setdefault("m", torch.zeros_like(p))
        v = state.setdefault("v", torch.zeros_like(p))
        alpha = group["lr"] * math.sqrt(1 - beta_2**step) / (1 - beta_1**step)
        m.add_((g - m) * (1 - beta_1))
        v.add_((g * g - v) * (1 - beta_2))
        if group["amsgrad"]:
            v_hat = state.setdefault("v_hat", torch.zeros_like(p))
            torch.maximum(v_hat, v, out=v_hat)
            v = v_hat
        p.sub_(m * alpha / (torch.sqrt(v) + group["epsilon"]))


class Adagrad(Optimizer):
    """Keras 2's ``Adagrad(learning_rate=0.001, initial_accumulator_value=0.1,
    epsilon=1e-07)``: ``w -= lr * g / sqrt(sum(g ** 2) + epsilon)``.

    Example:
        >>> w = torch.nn.Parameter(torch.tensor([1.0]))
        >>> optimizer = Adagrad(0.1, params=[w])
        >>> w.grad = torch.tensor([1.0]); optimizer.step(); round(float(w.detach()), 6)
        0.904654
    """

    _defaults = {"initial_accumulator_value": 0.1, "epsilon": 1e-07}

    def _update(self, p, g, state, group):
        accumulator = state.get("accumulator")
        if accumulator is None:
            accumulator = torch.full_like(p, group["initial_accumulator_value"])
            state["accumulator"] = accumulator
        accumulator.add_(g * g)
        p.sub_(group["lr"] * g / torch.sqrt(accumulator + group["epsilon"]))


class Adamax(Optimizer):
    """Keras 2's ``Adamax(learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-07)``.

    Example:
        >>> w = torch.nn.Parameter(torch.tensor([1.0]))
        >>> optimizer = Adamax(0.1, params=[w])
        >>> w.grad = torch.tensor([2.0]); optimizer.step(); round(float(w.detach()), 6)
        0.9
    """

    _defaults = {"beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-07}

    def _update(self, p, g, state, group):
        beta_1 = group["beta_1"]
        m = state.setdefault("m", torch.zeros_like(p))
        u = state.setdefault("u", torch.zeros_like(p))
        m.add_((g - m) * (1 - beta_1))
        torch.maximum(u * group["beta_2"], g.abs(), out=u)
        p.sub_(group["lr"] * m / ((1 - beta_1**self.iterations) * (u + group["epsilon"])))


_CLASSES: dict[str, type[Optimizer]] = {
    "sgd": SGD,
    "rmsprop": RMSprop,
    "adam": Adam,
    "adagrad": Adagrad,
    "adamax": Adamax,
}


def serialize(optimizer: Optimizer) -> dict[str, Any]:
    """Returns the dict tf-keras 2.x writes for an optimizer.

    Example:
        >>> serialize(Adam())["config"]["epsilon"]
        1e-07
    """
    return serialize_object(optimizer, "keras.optimizers")


def get(identifier: Any) -> torch.optim.Optimizer | Callable[[Iterable], torch.optim.Optimizer]:
    """Resolves what ``compile(optimizer=...)`` accepts.

    Args:
        identifier: a Keras name (``'rmsprop'``, ``'adam'``, ``'sgd'``, ``'adagrad'``,
            ``'adamax'``), a Keras optimizer dict (``{"class_name": "Adam", "config":
            {...}}``), an optimizer of this module (bound or not), any
            ``torch.optim.Optimizer``, or a callable ``params -> torch.optim.Optimizer``.

    Returns:
        An optimizer, or a callable that makes one from the weights.

    Raises:
        ValueError: for unknown names or configs.

    Example:
        >>> type(get("rmsprop")).__name__, get("rmsprop").learning_rate
        ('RMSprop', 0.001)
    """
    if isinstance(identifier, type) and issubclass(identifier, Optimizer):
        return identifier()
    if isinstance(identifier, torch.optim.Optimizer) or callable(identifier):
        return identifier
    config = as_config(identifier)
    if config is not None:
        # tf-keras >= 2.11 registers its optimizers as "Custom>Adam" in saved files.
        name = str(config["class_name"]).removeprefix("Custom>")
        expected = (
            " (or their Keras class names), a torch.optim.Optimizer or a callable params -> "
            "optimizer"
        )
        cls = lookup("optimizer", name.lower(), _CLASSES, expected)
        return from_config("optimizer", cls, dict(config["config"]))
    raise ValueError(
        "optimizer must be a Keras optimizer name or dict, a torch.optim.Optimizer or a "
        f"callable params -> optimizer. Received: {identifier!r:.200}."
    )
