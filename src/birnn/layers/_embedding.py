"""``Embedding``: integer ids to dense vectors, with Keras 2's optional padding mask."""

from __future__ import annotations

from typing import Any

import torch

from .. import regularizers as regularizers_module
from ._layer import Layer, check_units, serialize_weight_options


class Embedding(Layer):
    """Turns non-negative integer ids into dense vectors (Keras 2's ``Embedding``).

    Args:
        input_dim: the vocabulary size; ids are in ``[0, input_dim)``.
        output_dim: the size of each vector.
        embeddings_initializer: initializer of ``embeddings`` ``(input_dim, output_dim)``;
            ``'uniform'`` is Keras's ``RandomUniform(-0.05, 0.05)``.
        embeddings_regularizer: optional penalty added to ``losses``.
        activity_regularizer: optional penalty on the output.
        embeddings_constraint: optional projection after optimizer steps.
        mask_zero: whether id 0 is padding: ``compute_mask`` then returns ``ids != 0``
            for the layers that follow (id 0 still has a vector).
        input_length: the sequence length, when fixed; sets ``input_shape=(input_length,)``.
        sparse: accepted when false; sparse gradients are not supported.
        **kwargs: base layer arguments (``name``, ``input_shape``, ...).

    Call arguments:
        inputs: integer ids ``(batch, ...)``; float or bool ids holding whole numbers are
            cast to integers, as Keras casts them (a fractional or non-finite id is an error).

    Returns:
        ``(batch, ..., output_dim)``.

    Raises:
        ValueError: for non-positive sizes, ids that are not whole numbers, or ids outside
            ``[0, input_dim)``.

    Example:
        >>> layer = Embedding(10, 3, mask_zero=True)
        >>> ids = torch.tensor([[4, 2, 0]])
        >>> layer(ids).shape, layer.compute_mask(ids)
        (torch.Size([1, 3, 3]), tensor([[ True,  True, False]]))
    """

    def __init__(
        self,
        input_dim: int,
        output_dim: int,
        embeddings_initializer: Any = "uniform",
        embeddings_regularizer: Any = None,
        activity_regularizer: Any = None,
        embeddings_constraint: Any = None,
        mask_zero: bool = False,
        input_length: int | None = None,
        sparse: bool = False,
        **kwargs: Any,
    ):
        for name, value in (("input_dim", input_dim), ("output_dim", output_dim)):
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise ValueError(
                    f"Embedding: {name} must be a positive integer. Received: {name}={value!r}."
                )
        if sparse:
            raise ValueError(
                "Embedding: sparse gradients are not supported. Received: sparse=True."
            )
        # Keras 2 always gives an Embedding an input shape: (input_length,) or (None,).
        if kwargs.get("input_shape") is None and kwargs.get("batch_input_shape") is None:
            kwargs["input_shape"] = (input_length,)
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        self.input_dim = check_units("Embedding", input_dim, "input_dim")
        self.output_dim = check_units("Embedding", output_dim, "output_dim")
        self._set_options(
            embeddings_initializer=embeddings_initializer,
            embeddings_regularizer=embeddings_regularizer,
            embeddings_constraint=embeddings_constraint,
        )
        self.mask_zero = bool(mask_zero)
        self.input_length = input_length
        self._declare_weights("embeddings")
        self._build_from_constructor()

    def build(self, input_shape: tuple) -> None:
        self.add_weight(
            "embeddings",
            (self.input_dim, self.output_dim),
            self.embeddings_initializer,
            self.embeddings_regularizer,
            self.embeddings_constraint,
        )
        self.built = True

    def _ids(self, inputs: Any) -> torch.Tensor:
        if not torch.is_tensor(inputs):
            raise ValueError(
                f"Embedding '{self.name}': inputs must be a torch.Tensor of integer ids. "
                f"Received: {type(inputs).__name__}."
            )
        if inputs.dtype in (torch.int32, torch.int64):
            return inputs
        expected = f"Embedding '{self.name}': inputs must be integer ids in [0, {self.input_dim})"
        if inputs.is_complex():
            raise ValueError(f"{expected}. Received: dtype {inputs.dtype}.")
        if inputs.is_floating_point():
            if not bool(torch.isfinite(inputs).all()):
                raise ValueError(f"{expected}. Received: non-finite ids (nan or inf).")
            fractional = inputs[inputs != inputs.trunc()]
            if fractional.numel():
                raise ValueError(
                    f"{expected} (whole numbers). Received: {inputs.dtype} ids with a "
                    f"fractional part, e.g. {fractional[0].item():g}."
                )
        return inputs.long()

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        ids = self._ids(inputs)
        if ids.numel() and (bool((ids < 0).any()) or bool((ids >= self.input_dim).any())):
            raise ValueError(
                f"Embedding '{self.name}': ids must be in [0, {self.input_dim}). Received: ids "
                f"from {int(ids.min())} to {int(ids.max())}."
            )
        return torch.nn.functional.embedding(ids, self.embeddings)

    def compute_mask(self, inputs: Any, mask: torch.Tensor | None = None) -> torch.Tensor | None:
        if not self.mask_zero:
            return None
        return self._ids(inputs) != 0

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return tuple(input_shape) + (self.output_dim,)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.pop("activity_regularizer", None)
        config.update(
            {
                "input_dim": self.input_dim,
                "output_dim": self.output_dim,
                **serialize_weight_options(
                    {
                        "embeddings_initializer": self.embeddings_initializer,
                        "embeddings_regularizer": self.embeddings_regularizer,
                    }
                ),
                "activity_regularizer": regularizers_module.serialize(self.activity_regularizer),
                **serialize_weight_options({"embeddings_constraint": self.embeddings_constraint}),
                "mask_zero": self.mask_zero,
                "input_length": self.input_length,
            }
        )
        return config

    def extra_repr(self) -> str:
        return f"{self.input_dim}, {self.output_dim}, name={self.name!r}"
