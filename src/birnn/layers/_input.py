"""``InputLayer``: the declared input shape and dtype of a model."""

from __future__ import annotations

import itertools
from typing import Any

import torch

from .._objects import DTYPES, dtype_name
from ._layer import Layer

_input_counter = itertools.count(1)


def _dtype_name(dtype: Any) -> str:
    if dtype is None:
        return "float32"
    dtype = dtype_name(dtype)
    if dtype not in DTYPES:
        raise ValueError(f"InputLayer: dtype must be one of {sorted(DTYPES)}. Received: {dtype!r}.")
    return dtype


class InputLayer(Layer):
    """Declares a model's input: its shape (without or with the batch size) and dtype.

    In a ``Sequential`` model it is not one of ``model.layers``: it fixes the input shape,
    so the layers are built at once, and casts inputs to ``dtype`` as Keras does.

    Args:
        input_shape: shape of one sample, without the batch (also ``shape``, Keras 3's name).
        batch_size: optional fixed batch size.
        dtype: the inputs' dtype name (``"float32"`` by default; ``"int32"`` for ids).
        name: the layer's name (``"input_1"``, ``"input_2"``... by default).
        batch_input_shape: the whole shape, batch first (also ``batch_shape``, Keras 3's).
        input_tensor: accepted when ``None``; birnn has no symbolic tensors to wrap.
        sparse: accepted when false; sparse inputs are not supported.
        ragged: accepted when false; ragged inputs are not supported.
        type_spec: accepted when ``None`` (a TensorFlow type spec).
        shape: Keras 3's name for ``input_shape``.
        batch_shape: Keras 3's name for ``batch_input_shape``.
        optional: accepted when false (Keras 3's optional inputs are not supported).

    Raises:
        ValueError: if no shape is given, both forms are given, or an unsupported option
            is set.

    Example:
        >>> layer = InputLayer(input_shape=(5, 10))
        >>> layer.get_config()["batch_input_shape"]
        [None, 5, 10]
    """

    def __init__(
        self,
        input_shape: tuple | list | None = None,
        batch_size: int | None = None,
        dtype: Any = None,
        input_tensor: Any = None,
        sparse: bool | None = None,
        name: str | None = None,
        ragged: bool | None = None,
        type_spec: Any = None,
        batch_input_shape: tuple | list | None = None,
        shape: tuple | list | None = None,
        batch_shape: tuple | list | None = None,
        optional: bool = False,
        **kwargs: Any,
    ):
        for option, value in (
            ("input_tensor", input_tensor),
            ("type_spec", type_spec),
            ("sparse", sparse),
            ("ragged", ragged),
            ("optional", optional),
        ):
            if value:
                raise ValueError(
                    f"InputLayer: {option} is not supported. Expected: {option} left unset. "
                    f"Received: {option}={value!r}."
                )
        input_shape = input_shape if input_shape is not None else shape
        batch_input_shape = batch_input_shape if batch_input_shape is not None else batch_shape
        if (input_shape is None) == (batch_input_shape is None):
            raise ValueError(
                "InputLayer: expected exactly one of input_shape (or shape) and "
                "batch_input_shape (or batch_shape). Received: "
                f"input_shape={input_shape!r}, batch_input_shape={batch_input_shape!r}."
            )
        kwargs.pop("trainable", None)
        super().__init__(
            name=name or f"input_{next(_input_counter)}",
            input_shape=input_shape,
            batch_input_shape=batch_input_shape,
            batch_size=batch_size,
            **kwargs,
        )
        self.input_dtype = _dtype_name(dtype)
        self.built = True

    @property
    def batch_input_shape(self) -> tuple:
        return self._batch_input_shape

    def forward(self, inputs: Any) -> torch.Tensor:
        try:
            tensor = torch.as_tensor(inputs)
        except (TypeError, ValueError, RuntimeError) as error:
            raise ValueError(
                f"InputLayer '{self.name}': inputs must be a numeric array or tensor "
                f"(dtype {self.input_dtype}). Received: {type(inputs).__name__} ({error})."
            ) from None
        if tensor.is_complex():
            raise ValueError(
                f"InputLayer '{self.name}': inputs must be real (dtype {self.input_dtype}). "
                f"Received: dtype {tensor.dtype}."
            )
        return tensor.to(DTYPES[self.input_dtype])

    def get_config(self) -> dict[str, Any]:
        return {
            "batch_input_shape": list(self._batch_input_shape),
            "dtype": self.input_dtype,
            "sparse": False,
            "ragged": False,
            "name": self.name,
            "optional": False,
        }
