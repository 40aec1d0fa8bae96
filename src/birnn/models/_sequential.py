"""``Sequential``: a plain stack of layers, each fed the previous one's output and mask."""

from __future__ import annotations

import copy
from typing import Any

import torch
from torch import nn

from ..layers._input import InputLayer
from ..layers._layer import Layer, _is_shape
from ..layers._serialization import deserialize, serialize
from ..layers._wrapper import accepted_call_arguments, call_with_accepted_arguments
from ._model import Model
from ._summary import print_summary


class Sequential(Model):
    """A linear stack of layers with Keras 2's training API (``tf.keras.Sequential``).

    The input shape comes from an ``InputLayer``, from ``input_shape=`` on the first layer
    (which adds an ``InputLayer`` named ``<layer>_input``, as Keras does), or from the
    first call. Once it is known, every layer is built as it is added, so ``summary()``
    and ``get_weights()`` work before any data is seen.

    Masks flow as in Keras: each layer's ``compute_mask`` gives the mask the next layer
    receives (when its ``forward`` takes ``mask``). The output mask is left on the output
    as ``output._keras_mask``; ``fit`` weights the loss with it.

    Args:
        layers: optional list of layers to add.
        name: the model's name (``"sequential"``, ``"sequential_1"``... by default).

    Call arguments:
        inputs: a batch of inputs.
        mask: optional mask for the first layer.
        training: ``None`` follows ``module.train()``/``eval()``.

    Example:
        >>> from birnn.layers import LSTM, Activation, Bidirectional, Dense
        >>> model = Sequential()
        >>> model.add(Bidirectional(LSTM(10, return_sequences=True), input_shape=(5, 10)))
        >>> model.add(Bidirectional(LSTM(10)))
        >>> model.add(Dense(5))
        >>> model.add(Activation("softmax"))
        >>> model.compile(loss="categorical_crossentropy", optimizer="rmsprop")
        >>> model.count_params(), model(torch.zeros(2, 5, 10)).shape
        (4265, torch.Size([2, 5]))
    """

    def __init__(self, layers: list | None = None, name: str | None = None, **kwargs: Any):
        super().__init__(name=name, **kwargs)
        self._layers = nn.ModuleList()
        self._input_layer: InputLayer | None = None
        self._output_shapes: list[Any] = []
        self._build_input_shape: tuple | None = None
        self._call_arguments: list[frozenset[str]] = []
        if layers is not None:
            if not isinstance(layers, (list, tuple)):
                layers = [layers]
            for layer in layers:
                self.add(layer)

    # -- layers -----------------------------------------------------------------------------

    @property
    def layers(self) -> list[nn.Module]:
        """The model's layers, without its ``InputLayer`` (as in Keras)."""
        return list(self._layers)

    @property
    def input_shape(self) -> tuple | None:
        if self._input_layer is not None:
            return self._input_layer.batch_input_shape
        return self._build_input_shape

    def add(self, layer: nn.Module) -> None:
        """Adds a layer on top of the stack.

        Raises:
            TypeError: if ``layer`` is not a ``torch.nn.Module``.
            ValueError: if its name is taken, or an ``InputLayer`` comes after other layers.
        """
        if not isinstance(layer, nn.Module):
            raise TypeError(
                "Sequential.add: the added layer must be a layer (a torch.nn.Module). "
                f"Received: layer={layer!r:.100} of type {type(layer).__name__}."
            )
        if isinstance(layer, InputLayer):
            if self._input_layer is not None or self._layers:
                raise ValueError(
                    "Sequential.add: an InputLayer must come first. Received: an InputLayer "
                    f"after {len(self._layers)} layer(s)."
                )
            self._input_layer = layer
            self._output_shapes = []
            return
        name = getattr(layer, "name", None)
        if name is not None and any(getattr(other, "name", None) == name for other in self._layers):
            raise ValueError(
                "Sequential.add: all layers of a Sequential model must have unique names. "
                f"Received: a second layer named {name!r}."
            )
        first_shape = getattr(layer, "_batch_input_shape", None)
        if not self._layers and self._input_layer is None and first_shape is not None:
            self._input_layer = InputLayer(
                batch_input_shape=first_shape,
                dtype=getattr(layer, "dtype", torch.float32),
                name=f"{name}_input",
            )
        self._layers.append(layer)
        self._call_arguments.append(accepted_call_arguments(layer))
        self._build_layers()

    def pop(self) -> None:
        """Removes the last layer.

        Raises:
            TypeError: if there is no layer.
        """
        if not self._layers:
            raise TypeError("Sequential.pop: there are no layers in the model.")
        del self._layers[len(self._layers) - 1]
        self._call_arguments.pop()
        self._output_shapes = self._output_shapes[: len(self._layers)]

    def get_layer(self, name: str | None = None, index: int | None = None) -> nn.Module:
        """Returns a layer by name or by index.

        Raises:
            ValueError: if no layer has that name or index.
        """
        if index is not None:
            if not -len(self._layers) <= index < len(self._layers):
                raise ValueError(
                    f"get_layer: index must be in [0, {len(self._layers)}). Received: {index}."
                )
            return self._layers[index]
        for layer in self._layers:
            if getattr(layer, "name", None) == name:
                return layer
        names = [getattr(layer, "name", type(layer).__name__) for layer in self._layers]
        raise ValueError(f"get_layer: no layer named {name!r}. Expected one of {names}.")

    # -- building ---------------------------------------------------------------------------

    def _build_layers(self, input_shape: tuple | None = None) -> None:
        """Builds the layers along the known shapes; stops at the first unknown one."""
        shape = input_shape or self.input_shape
        self._output_shapes = []
        for layer in self._layers:
            if shape is None or not isinstance(layer, Layer):
                shape = None
            else:
                layer._maybe_build(tuple(shape), self._build_device)
                try:
                    shape = layer.compute_output_shape(tuple(shape))
                except (ValueError, TypeError, AttributeError, IndexError):
                    shape = None
                if not isinstance(shape, tuple):
                    shape = None
            self._output_shapes.append(shape)
        self.built = all(getattr(layer, "built", True) for layer in self._layers)

    def build(self, input_shape: tuple | list | None = None) -> None:
        """Builds every layer for inputs of ``input_shape`` (batch first).

        Raises:
            ValueError: if no shape is given and none is known.
        """
        if input_shape is None:
            input_shape = self.input_shape
        if input_shape is None:
            raise ValueError(
                "Sequential.build: expected input_shape (batch first), since the model has no "
                "InputLayer or input_shape. Received: input_shape=None."
            )
        input_shape = (None, *tuple(input_shape)[1:])
        if self._input_layer is None:
            self._build_input_shape = input_shape
        self._build_layers(input_shape)

    def _input_shape_from_weights(self, state_dict: dict, prefix: str) -> tuple | None:
        first = self._layers[0] if len(self._layers) else None
        if not isinstance(first, Layer):
            return None
        return first._input_shape_from_weights(state_dict, prefix + "_layers.0.")

    def _maybe_build(self, input_shape: tuple, device: torch.device | None = None) -> None:
        if self.built:
            return
        self._build_device = device
        self.build(input_shape)

    # -- calling ----------------------------------------------------------------------------

    def forward(
        self,
        inputs: Any,
        mask: torch.Tensor | None = None,
        training: bool | None = None,
    ) -> Any:
        x = self._input_layer(inputs) if self._input_layer is not None else inputs
        for layer, accepted in zip(self._layers, self._call_arguments):
            outputs = call_with_accepted_arguments(layer, x, accepted, mask=mask, training=training)
            mask = self._next_mask(layer, x, mask)
            x = outputs
        if mask is not None and torch.is_tensor(x) and torch.is_tensor(mask):
            x._keras_mask = mask
        return x

    @staticmethod
    def _next_mask(layer: nn.Module, inputs: Any, mask: Any) -> Any:
        compute_mask = getattr(layer, "compute_mask", None)
        if compute_mask is not None:
            return compute_mask(inputs, mask)
        if mask is not None:
            raise TypeError(
                f"Sequential: layer {type(layer).__name__} does not support masking (it has no "
                "compute_mask), but received a mask. Expected a birnn layer, or no mask "
                "before it (e.g. Embedding(mask_zero=False))."
            )
        return None

    def compute_output_shape(self, input_shape: tuple) -> Any:
        shape = tuple(input_shape)
        for layer in self._layers:
            shape = layer.compute_output_shape(shape)
        return shape

    # -- weights ----------------------------------------------------------------------------

    def _sublayers(self) -> list[nn.Module]:
        return list(self._layers)

    def _layer_weights(self, layer: nn.Module) -> list[nn.Parameter]:
        return layer.weights if isinstance(layer, Layer) else list(layer.parameters())

    def _all_weights(self) -> list[nn.Parameter]:
        return [w for layer in self._layers for w in self._layer_weights(layer)]

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

    def summary(
        self,
        line_length: int | None = None,
        positions: list[float] | None = None,
        print_fn: Any = None,
    ) -> None:
        """Prints Keras 2's summary table: each layer's output shape and parameter count.

        Raises:
            ValueError: if the model is not built.
        """
        self._check_built("summary")
        rows = []
        for layer, shape in zip(self._layers, self._output_shapes):
            name = getattr(layer, "name", type(layer).__name__.lower())
            count = sum(w.numel() for w in self._layer_weights(layer))
            rows.append((f"{name} ({type(layer).__name__})", shape or "multiple", count))
        print_summary(self, rows, line_length, positions, print_fn)

    # -- config -----------------------------------------------------------------------------

    def get_config(self) -> dict[str, Any]:
        """``{"name", "layers"}`` as tf-keras 2.x writes it (the InputLayer first)."""
        layers = [serialize(layer) for layer in self._layers]
        if self._input_layer is not None:
            layers.insert(0, serialize(self._input_layer))
        config: dict[str, Any] = {"name": self.name, "layers": layers}
        if self._input_layer is None and self._build_input_shape is not None:
            config["build_input_shape"] = list(self._build_input_shape)
        return copy.deepcopy(config)

    @classmethod
    def from_config(
        cls, config: dict[str, Any] | list, custom_objects: dict | None = None
    ) -> Sequential:
        """Creates a model from ``get_config()``'s output or a Keras 2/3 Sequential config.

        Raises:
            ValueError: for an unknown or unsupported layer (named in the message).
        """
        if isinstance(config, list):  # Keras < 2.2 wrote the bare list of layers
            config = {"layers": config}
        if not isinstance(config, dict) or not isinstance(config.get("layers"), list):
            raise ValueError(
                "Sequential.from_config: expected a dict with a 'layers' list. Received: "
                f"{config!r:.200}."
            )
        model = cls(name=config.get("name"))
        for layer_config in config["layers"]:
            model.add(deserialize(layer_config, custom_objects))
        build_input_shape = config.get("build_input_shape")
        if build_input_shape is not None and not _is_shape(build_input_shape):
            raise ValueError(
                "Sequential.from_config: build_input_shape must be a list of ints or None "
                f"(batch first). Received: build_input_shape={build_input_shape!r:.100}."
            )
        if build_input_shape is not None and model._input_layer is None:
            model.build(tuple(build_input_shape))
        if config.get("trainable") is False:
            model.trainable = False
        return model

    def extra_repr(self) -> str:
        return f"name={self.name!r}"
