"""``Layer``: Keras 2's layer habits on a ``torch.nn.Module``.

Weights are created by ``build(input_shape)``, on the first call unless the
constructor got ``input_shape``; ``get_weights``/``set_weights`` use Keras's
order; ``get_config``/``from_config`` round-trip; ``trainable`` freezes.

Before that, the weights a layer will have exist as PyTorch's
``UninitializedParameter``s (as in ``torch.nn.LazyLinear``), which ``build``
materializes in place: an optimizer made before the first call holds the very
parameters that are trained, ``.to()``/``.double()`` apply to them, and
``load_state_dict`` into an unbuilt layer builds it with the loaded shapes.
"""

from __future__ import annotations

import inspect
import itertools
import re
from collections import defaultdict
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn.modules.lazy import LazyModuleMixin
from torch.nn.parameter import UninitializedParameter, is_lazy

from .. import activations
from .. import constraints as constraints_module
from .. import initializers as initializers_module
from .. import regularizers as regularizers_module
from .._objects import DTYPES, dtype_name, snake_case

_name_counters: defaultdict[str, Iterator[int]] = defaultdict(itertools.count)

_FLOAT_DTYPES = {name: dtype for name, dtype in DTYPES.items() if dtype.is_floating_point}

# Base-layer keys Keras writes into configs that change nothing here.
_IGNORED_BASE_KEYS = ("autocast", "dynamic", "input_length", "implementation_mode")


def unique_name(prefix: str) -> str:
    """Returns ``prefix`` the first time, then ``prefix_1``, ``prefix_2``... as Keras does."""
    count = next(_name_counters[prefix])
    return prefix if count == 0 else f"{prefix}_{count}"


def resolve_dtype(dtype: Any, owner: str = "Layer") -> torch.dtype:
    """Maps a Keras dtype (name, policy dict or torch dtype) to a torch floating dtype."""
    if dtype is None:
        return torch.get_default_dtype()
    if isinstance(dtype, torch.dtype):
        if not dtype.is_floating_point:
            raise ValueError(f"{owner}: dtype must be a floating dtype. Received: {dtype}.")
        return dtype
    dtype = dtype_name(dtype)
    if isinstance(dtype, str) and dtype in _FLOAT_DTYPES:
        return _FLOAT_DTYPES[dtype]
    raise ValueError(
        f"{owner}: dtype must be one of {sorted(_FLOAT_DTYPES)} or a torch floating dtype. "
        f"Received: {dtype!r}."
    )


def _is_shape(shape: Any) -> bool:
    """Whether ``shape`` is a list or tuple of non-negative ints and ``None``s."""
    return isinstance(shape, (list, tuple)) and all(
        size is None
        or (isinstance(size, (int, np.integer)) and not isinstance(size, bool) and size >= 0)
        for size in shape
    )


_OPTION_RESOLVERS: dict[str, Callable[[Any], Any]] = {
    "activation": activations.get,
    "initializer": initializers_module.get,
    "regularizer": regularizers_module.get,
    "constraint": constraints_module.get,
}


def check_units(owner: str, units: Any, name: str = "units") -> int:
    """``units`` as an int, or a ValueError naming ``owner`` and the argument."""
    if isinstance(units, bool) or not isinstance(units, (int, np.integer)) or units <= 0:
        raise ValueError(f"{owner}: {name} must be a positive integer. Received: {name}={units!r}.")
    return int(units)


_CALL_ARGUMENTS = re.compile(r"^Call arguments:\n((?:[ \t]+\S.*\n?|[ \t]*\n)+)", re.M)


def _forward_doc(cls: type) -> str:
    """The docstring of a layer's ``forward``: the Call arguments of its class docstring."""
    summary = f"Runs the {cls.__name__} on its inputs: ``layer(inputs, ...)`` calls this."
    found = _CALL_ARGUMENTS.search(inspect.cleandoc(cls.__doc__ or ""))
    if found is None:
        return f"{summary}\n\nSee ``help({cls.__name__})`` for its inputs and outputs."
    return f"{summary}\n\nCall arguments:\n{found.group(1).rstrip()}"


def _init_doc(cls: type) -> str:
    return "Creates the layer; the class docstring lists its arguments (Args)."


class Layer(LazyModuleMixin, nn.Module):
    """Base class of birnn layers: a ``torch.nn.Module`` with Keras 2's layer contract.

    Args:
        name: the layer's name; unique by default (``"lstm"``, ``"lstm_1"``, ...).
        trainable: whether the weights are trained (``requires_grad``).
        dtype: the weights' dtype (``"float32"`` by default); float inputs are cast to it.
        input_shape: shape of one sample, without the batch; builds the weights at once.
        batch_input_shape: the same with the batch size first.
        batch_size: the batch size, with ``input_shape``.
        input_dim: shorthand for ``input_shape=(None, input_dim)`` on sequence layers.
        weights: initial weights in ``get_weights()`` order, set when the layer is built.
        activity_regularizer: a penalty on the layer's output, added to ``losses``.
    """

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # Without a docstring of its own, help(cls.forward) shows torch's "Should be
        # overridden by all subclasses" and help(cls.__init__) torch's Module.__init__.
        for method, text in (("forward", _forward_doc(cls)), ("__init__", _init_doc(cls))):
            function = cls.__dict__.get(method)
            if function is not None and getattr(function, "__doc__", "") is None:
                function.__doc__ = text

    def __init__(
        self,
        *,
        name: str | None = None,
        trainable: bool = True,
        dtype: Any = None,
        input_shape: tuple | list | None = None,
        batch_input_shape: tuple | list | None = None,
        batch_size: int | None = None,
        input_dim: int | None = None,
        weights: list | None = None,
        activity_regularizer: Any = None,
        **kwargs: Any,
    ):
        """Sets the base layer arguments listed in the class docstring (Args)."""
        super().__init__()
        owner = type(self).__name__
        for key in _IGNORED_BASE_KEYS:
            kwargs.pop(key, None)
        if kwargs:
            raise TypeError(
                f"{owner}: unexpected keyword argument(s) {sorted(kwargs)}. "
                f"See help({owner}) for the arguments it accepts."
            )
        if name is not None and not isinstance(name, str):
            raise ValueError(f"{owner}: name must be a string. Received: {name!r}.")
        if not isinstance(trainable, bool):
            raise ValueError(f"{owner}: trainable must be a bool. Received: {trainable!r}.")
        self.name = name or unique_name(snake_case(owner))
        self._dtype = resolve_dtype(dtype, owner)
        self._trainable = trainable
        self._weight_names: list[str] = []
        self._untrainable_names: set[str] = set()
        self._regularized: list[tuple[str, Callable]] = []
        self._constrained: list[tuple[str, Callable]] = []
        self._initial_weights = weights
        self.activity_regularizer = regularizers_module.get(activity_regularizer)
        self._activity_losses: list[torch.Tensor] = []
        self.built = False
        self._built_input_shape: tuple | None = None
        self._build_device: torch.device | None = None

        for key, shape in (("input_shape", input_shape), ("batch_input_shape", batch_input_shape)):
            if shape is not None and not _is_shape(shape):
                raise ValueError(
                    f"{owner}: {key} must be a tuple of ints or None. Received: {key}={shape!r}."
                )
        for key, size in (("input_dim", input_dim), ("batch_size", batch_size)):
            if size is not None and not _is_shape([size]):
                raise ValueError(f"{owner}: {key} must be an int. Received: {key}={size!r}.")
        if batch_input_shape is None and input_dim is not None and input_shape is None:
            input_shape = (None, input_dim)
        if batch_input_shape is None and input_shape is not None:
            batch_input_shape = (batch_size, *tuple(input_shape))
        self._batch_input_shape = None if batch_input_shape is None else tuple(batch_input_shape)

    def _set_options(self, **options: Any) -> None:
        """Resolves and sets ``*activation``, ``*_initializer``, ``*_regularizer`` and
        ``*_constraint`` arguments; a bad one raises a ValueError that names it."""
        for name, value in options.items():
            resolve = _OPTION_RESOLVERS[name.rsplit("_", 1)[-1]]
            try:
                setattr(self, name, resolve(value))
            except ValueError as error:
                raise ValueError(f"{type(self).__name__}: invalid {name}. {error}") from None

    def _declare_weights(self, *names: str | None) -> None:
        """Registers the weights ``build`` will create, as uninitialized parameters until then
        (call in ``__init__``; ``None`` entries are skipped)."""
        for name in names:
            if name is not None:
                self.register_parameter(
                    name, UninitializedParameter(requires_grad=self._trainable, dtype=self._dtype)
                )

    def _build_from_constructor(self) -> None:
        """Builds at once when the constructor got an input shape (call at the end of __init__)."""
        if self._batch_input_shape is not None and not self.built:
            self._maybe_build(self._batch_input_shape)

    # -- building ---------------------------------------------------------------------------

    def forward(self, *inputs: Any, **kwargs: Any) -> Any:
        """Computes the layer's outputs; each layer defines it (see its Call arguments)."""
        raise NotImplementedError(
            f'Module [{type(self).__name__}] is missing the required "forward" function'
        )

    def build(self, input_shape: tuple) -> None:
        """Creates the layer's weights for inputs of ``input_shape`` (batch first).

        Called on the first call, or by the constructor given ``input_shape``; call it
        yourself to create the weights before any data is seen, e.g. for ``set_weights``.

        Args:
            input_shape: the inputs' shape with the batch size first (``None`` for
                unknown sizes), e.g. ``(None, time, features)`` for a recurrent layer.
        """
        self.built = True

    def _maybe_build(self, input_shape: tuple, device: torch.device | None = None) -> None:
        if self.built:
            return
        self._build_device = device
        self._built_input_shape = tuple(input_shape)
        self.build(tuple(input_shape))
        self.built = True
        if self._initial_weights is not None:
            self.set_weights(self._initial_weights)
            self._initial_weights = None

    # -- PyTorch's lazy-module protocol (torch.compile runs it before tracing) -------------

    cls_to_become = None

    def initialize_parameters(self, *args: Any, **kwargs: Any) -> None:
        """Builds the layer for its first input (PyTorch's lazy-module hook)."""
        if not self.built and args and torch.is_tensor(args[0]):
            self._maybe_build(tuple(args[0].shape), args[0].device)

    def _infer_parameters(self, module: nn.Module, args: Any, kwargs: Any = None) -> None:
        module.initialize_parameters(*args, **(kwargs or {}))
        # Inputs it cannot build from are left to forward's own error message.
        if not module.has_uninitialized_params():
            super()._infer_parameters(module, args, kwargs)

    def _lazy_load_hook(self, state_dict: dict, prefix: str, *unused: Any) -> None:
        """``load_state_dict`` pre-hook: builds an unbuilt layer for the loaded weights'
        shapes, so that they load into it (a built layer is left to PyTorch's checks)."""
        if not self.built:
            input_shape = self._input_shape_from_weights(state_dict, prefix)
            if input_shape is not None:
                self._maybe_build(input_shape)

    def _replicate_for_data_parallel(self) -> nn.Module:
        if self.has_uninitialized_params():
            return super()._replicate_for_data_parallel()  # PyTorch's error
        return nn.Module._replicate_for_data_parallel(self)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if not self.built and args and isinstance(args[0], torch.Tensor):
            self._maybe_build(tuple(args[0].shape), args[0].device)
        outputs = super().__call__(*args, **kwargs)
        self._record_activity(outputs[0] if isinstance(outputs, (list, tuple)) else outputs)
        return outputs

    def _record_activity(self, output: torch.Tensor) -> None:
        """Records the activity regularizer's penalty on this call's ``output``."""
        if self.activity_regularizer is not None:
            self._activity_losses = [self.activity_regularizer(output) / output.shape[0]]

    def add_weight(
        self,
        name: str,
        shape: tuple[int, ...],
        initializer: Any = "zeros",
        regularizer: Any = None,
        constraint: Any = None,
        trainable: bool = True,
    ) -> nn.Parameter:
        """Creates the weight ``name`` and records it in Keras order.

        A parameter already registered under ``name`` (uninitialized, or from an earlier
        build) is filled in place, so optimizers holding it train the new values.
        """
        parameter = self._parameters.get(name)
        device = self._build_device
        if device is None and parameter is not None:
            device = parameter.device
        init = initializers_module.get(initializer)
        value = init(tuple(shape), dtype=torch.float32).to(dtype=self._dtype, device=device)
        requires_grad = trainable and self._trainable
        if parameter is None:
            parameter = nn.Parameter(value, requires_grad=requires_grad)
            self.register_parameter(name, parameter)
        else:
            if is_lazy(parameter):
                parameter.materialize(value.shape, device=value.device, dtype=value.dtype)
            parameter.data = value
            parameter.requires_grad_(requires_grad)
        # A second build refills the same weights: each is listed once.
        if name not in self._weight_names:
            self._weight_names.append(name)
        if not trainable:  # e.g. BatchNormalization's moving statistics: never trained
            self._untrainable_names.add(name)
        self._regularized = [entry for entry in self._regularized if entry[0] != name]
        self._constrained = [entry for entry in self._constrained if entry[0] != name]
        if regularizer is not None:
            self._regularized.append((name, regularizer))
        if constraint is not None:
            self._constrained.append((name, constraint))
        return parameter

    def _input_shape_from_weights(self, state_dict: dict, prefix: str) -> tuple | None:
        """The input shape that gives this layer's weights the shapes in ``state_dict``
        (keys under ``prefix``), or ``None`` when they do not tell; ``load_state_dict``
        builds an unbuilt layer with it. By default a 2-D ``kernel`` ``(features, ...)``."""
        kernel = state_dict.get(prefix + "kernel")
        if "kernel" in self._parameters and _is_loaded_matrix(kernel):
            return (None, kernel.shape[0])
        return None

    def _save_to_state_dict(self, destination: dict, prefix: str, keep_vars: bool) -> None:
        # An unbuilt layer's uninitialized parameters are saved as they are (detach() refuses
        # them), as torch's lazy modules do; loading them back leaves the layer unbuilt.
        super()._save_to_state_dict(destination, prefix, True)
        if keep_vars:
            return
        for name, value in itertools.chain(self._parameters.items(), self._buffers.items()):
            key = prefix + name
            if key in destination and value is not None and not is_lazy(value):
                destination[key] = value.detach()

    # -- weights ----------------------------------------------------------------------------

    def _sublayers(self) -> list[nn.Module]:
        """Modules whose weights follow this layer's own, in Keras order: birnn layers, or
        plain torch modules (their ``parameters()``, frozen with ``requires_grad_``)."""
        return []

    def _layers_only(self) -> list[Layer]:
        return [module for module in self._sublayers() if isinstance(module, Layer)]

    @property
    def weights(self) -> list[nn.Parameter]:
        """All weights in Keras order: trainable ones first, then non-trainable ones."""
        return self.trainable_weights + self.non_trainable_weights

    def _all_weights(self) -> list[nn.Parameter]:
        own = [getattr(self, name) for name in self._weight_names]
        for module in self._sublayers():
            own += module._all_weights() if isinstance(module, Layer) else list(module.parameters())
        return own

    @property
    def trainable_weights(self) -> list[nn.Parameter]:
        return [w for w in self._all_weights() if w.requires_grad]

    @property
    def non_trainable_weights(self) -> list[nn.Parameter]:
        return [w for w in self._all_weights() if not w.requires_grad]

    @property
    def trainable(self) -> bool:
        return self._trainable

    @trainable.setter
    def trainable(self, value: bool) -> None:
        self._trainable = bool(value)
        for name in self._weight_names:
            getattr(self, name).requires_grad_(
                self._trainable and name not in self._untrainable_names
            )
        for module in self._sublayers():
            if isinstance(module, Layer):
                module.trainable = value
            else:
                module.requires_grad_(self._trainable)

    @property
    def dtype(self) -> torch.dtype:
        return self._dtype

    def _apply(self, fn: Callable, recurse: bool = True) -> Layer:
        result = super()._apply(fn, recurse)
        # .double()/.half()/.to(dtype) set the dtype that inputs and new weights take, also
        # for a layer whose weights live in its cell or sublayers, or that is not built yet.
        weight = next(self.parameters(), None)
        converted = weight if weight is not None else fn(torch.zeros((), dtype=self._dtype))
        if torch.is_tensor(converted) and converted.is_floating_point():
            self._dtype = converted.dtype
        return result

    def count_params(self) -> int:
        """The number of scalars in all weights (Keras's ``count_params``).

        Raises:
            ValueError: if the layer is not built yet.

        Example:
            >>> Dense(3, input_shape=(4,)).count_params()
            15
        """
        self._check_built("count_params")
        return count_weights(self.weights)

    def _check_built(self, method: str) -> None:
        if not self.built:
            raise ValueError(
                f"{type(self).__name__} '{self.name}': {method} needs a built layer; call "
                "build(input_shape) or the layer on an input first. Received: an unbuilt layer."
            )

    def get_weights(self) -> list[np.ndarray]:
        """Returns the weights as numpy arrays, in Keras order."""
        return [w.detach().cpu().numpy().copy() for w in self.weights]

    def set_weights(self, weights: list) -> None:
        """Sets the weights from arrays or tensors, in ``get_weights()`` order.

        Raises:
            ValueError: if the layer has no weights yet, or the count or a shape differs.
        """
        targets = self.weights
        owner = f"{type(self).__name__} '{self.name}'"
        if not self.built:
            raise ValueError(
                f"{owner}: set_weights needs a built layer; call build(input_shape) or the "
                f"layer on an input first. Received: {len(weights)} arrays for an unbuilt layer."
            )
        if not isinstance(weights, (list, tuple)) or len(weights) != len(targets):
            count = len(weights) if isinstance(weights, (list, tuple)) else type(weights).__name__
            raise ValueError(
                f"{owner}: set_weights expected a list of {len(targets)} arrays with shapes "
                f"{[tuple(t.shape) for t in targets]}. Received: {count}."
            )
        values = []
        for index, (target, value) in enumerate(zip(targets, weights)):
            tensor = _weight_tensor(owner, index, target, value)
            if tuple(tensor.shape) != tuple(target.shape):
                raise ValueError(
                    f"{owner}: set_weights expected weight {index} of shape "
                    f"{tuple(target.shape)}. Received: shape {tuple(tensor.shape)}."
                )
            values.append(tensor)
        with torch.no_grad():
            for target, tensor in zip(targets, values):
                target.copy_(tensor.to(dtype=target.dtype, device=target.device))

    # -- regularization and constraints -----------------------------------------------------

    @property
    def losses(self) -> list[torch.Tensor]:
        """Regularization penalties of this layer and its sublayers (Keras's ``layer.losses``)."""
        own = [reg(getattr(self, name)) for name, reg in self._regularized]
        own += self._activity_losses
        return own + [loss for layer in self._layers_only() for loss in layer.losses]

    @property
    def constraints(self) -> dict[nn.Parameter, Callable]:
        """Maps each constrained weight to its constraint."""
        own = {getattr(self, name): c for name, c in self._constrained}
        for layer in self._layers_only():
            own.update(layer.constraints)
        return own

    @torch.no_grad()
    def apply_constraints(self) -> None:
        """Projects each constrained weight in place, as Keras does after an optimizer step."""
        for weight, constraint in self.constraints.items():
            weight.copy_(constraint(weight))

    # -- shapes, masks and configs ----------------------------------------------------------

    def compute_output_shape(self, input_shape: tuple) -> Any:
        return tuple(input_shape)

    def compute_mask(self, inputs: Any, mask: torch.Tensor | None = None) -> Any:
        return mask

    def get_config(self) -> dict[str, Any]:
        """Returns the layer's constructor arguments as JSON-serializable values."""
        config: dict[str, Any] = {
            "name": self.name,
            "trainable": self.trainable,
            "dtype": dtype_name(self._dtype),
        }
        if self._batch_input_shape is not None:
            config["batch_input_shape"] = list(self._batch_input_shape)
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Layer:
        """Creates a layer from ``get_config()``'s output."""
        return cls(**config)

    def extra_repr(self) -> str:
        return f"name={self.name!r}"


def _is_loaded_matrix(value: Any) -> bool:
    return torch.is_tensor(value) and not is_lazy(value) and value.dim() == 2


def count_weights(weights: list[torch.Tensor]) -> int:
    """The number of scalars in ``weights``."""
    return sum(weight.numel() for weight in weights)


def _weight_tensor(owner: str, index: int, target: torch.Tensor, value: Any) -> torch.Tensor:
    """``value`` as a real-valued tensor with data, or a ValueError naming weight ``index``."""
    expected = f"set_weights expected weight {index} to be a real-valued array of shape " + str(
        tuple(target.shape)
    )
    try:
        tensor = value if torch.is_tensor(value) else torch.as_tensor(np.asarray(value))
    except (TypeError, ValueError, RuntimeError):
        raise ValueError(f"{owner}: {expected}. Received: {value!r:.100}.") from None
    if tensor.is_complex() or tensor.is_meta:
        raise ValueError(
            f"{owner}: {expected}. Received: a {tensor.dtype} tensor on {tensor.device}."
        )
    return tensor


def serialize_weight_options(options: dict[str, Any]) -> dict[str, Any]:
    """Serializes initializer/regularizer/constraint objects keyed as in Keras configs."""
    out = {}
    for key, value in options.items():
        if key.endswith("_initializer"):
            out[key] = initializers_module.serialize(value)
        elif key.endswith("_regularizer"):
            out[key] = regularizers_module.serialize(value)
        elif key.endswith("_constraint"):
            out[key] = constraints_module.serialize(value)
    return out
