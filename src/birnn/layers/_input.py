"""``InputLayer``: the declared input shape and dtype of a model."""

from __future__ import annotations

import itertools
from typing import Any

import torch

from .._objects import DTYPES, dtype_name
from ._keras_tensor import PROBE_SIZES, KerasTensor, Node, inbound_nodes, probe_tensor
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

    @property
    def torch_dtype(self) -> torch.dtype:
        """The inputs' dtype as a torch dtype."""
        return DTYPES[self.input_dtype]

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


def Input(  # noqa: N802 - Keras's name
    shape: tuple | list | None = None,
    batch_size: int | None = None,
    name: str | None = None,
    dtype: Any = None,
    sparse: bool | None = None,
    tensor: Any = None,
    ragged: bool | None = None,
    type_spec: Any = None,
    batch_shape: tuple | list | None = None,
) -> KerasTensor:
    """Declares an input of a Functional model: a ``KerasTensor`` to call layers on.

    Args:
        shape: the shape of one sample, without the batch (``None`` for an unknown axis).
        batch_size: optional fixed batch size.
        name: the input's name (``"input_1"``... by default); inputs of ``fit`` and
            ``predict`` may be passed in a dict by these names.
        dtype: ``"float32"`` (default), or ``"int32"``/``"int64"`` for token ids.
        batch_shape: the whole shape, batch first, instead of ``shape``.
        sparse: accepted when unset or false; sparse inputs are not supported.
        tensor: accepted when unset; not supported.
        ragged: accepted when unset or false; ragged inputs are not supported.
        type_spec: accepted when unset; not supported.

    Returns:
        A ``KerasTensor``.

    Raises:
        ValueError: for a missing or bad shape, or an unsupported dtype (strings: apply
            ``TextVectorization`` outside the model and feed it ids).

    Example:
        >>> from birnn.layers import Dense
        >>> x = Input(shape=(5, 3))
        >>> x.shape, Dense(2)(x).shape
        ((None, 5, 3), (None, 5, 2))
    """
    if isinstance(dtype, str) and dtype in ("string", "str"):
        raise ValueError(
            "Input: string inputs are not supported: birnn models take numbers. Apply "
            "TextVectorization (or any tokenizer) outside the model and feed the model its "
            f"integer ids (dtype='int32'). Received: dtype={dtype!r}."
        )
    layer = InputLayer(
        input_shape=None if shape is None else tuple(shape),
        batch_size=batch_size,
        dtype=dtype,
        input_tensor=tensor,
        sparse=sparse,
        name=name,
        ragged=ragged,
        type_spec=type_spec,
        batch_input_shape=None if batch_shape is None else tuple(batch_shape),
    )
    return input_tensor_of(layer)


def input_tensor_of(layer: InputLayer) -> KerasTensor:
    """The ``KerasTensor`` an ``InputLayer`` stands for (made once, on its first node)."""
    nodes = inbound_nodes(layer)
    if nodes:
        return nodes[0].outputs[0]
    node = Node(layer, (), {})
    shape = tuple(layer.batch_input_shape)
    dtype = layer.torch_dtype
    probes = tuple(probe_tensor(shape, dtype, size) for size in PROBE_SIZES)
    if all(s is not None for s in shape[1:]):
        probes = (probes[0], probes[0])
    node.output_structure = 0
    node.outputs.append(KerasTensor(shape, dtype, node, 0, probes))
    return node.outputs[0]
