"""Attention layers: ``Attention`` (dot-product, Luong), ``AdditiveAttention`` (Bahdanau) and
``MultiHeadAttention``, with Keras 2's weights, masks and numbers.

Masks follow tf-keras 2: a value mask (and ``use_causal_mask``) subtracts ``1e9`` from the
scores of the hidden positions before the softmax; a query mask zeroes the outputs of
``Attention``/``AdditiveAttention`` and is the output's mask. ``MultiHeadAttention`` reads
``query_mask``/``value_mask``/``key_mask`` (as Keras 3 names them) or, when they are not
given, a ``_keras_mask`` left on the tensors, as tf-keras does.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch.nn.parameter import is_lazy

from ._activation_layers import masked_logits
from ._core import _as_float_input, add_kernel_and_bias, kernel_options
from ._layer import Layer, check_units


def _check_rate(owner: str, dropout: Any) -> float:
    if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) or not 0 <= dropout <= 1:
        raise ValueError(
            f"{owner}: dropout must be a float in [0, 1]. Received: dropout={dropout!r}."
        )
    return float(dropout)


def _causal_mask(queries: int, keys: int, device: torch.device) -> torch.Tensor:
    """``(queries, keys)``: query ``i`` sees keys ``j <= i``."""
    return torch.ones(queries, keys, dtype=torch.bool, device=device).tril()


class _DenseAttention(Layer):
    """``Attention``/``AdditiveAttention``: scores from query and key, softmax over the value
    steps, weighted sum of the values."""

    def __init__(self, use_scale: bool, dropout: float, **kwargs: Any):
        super().__init__(**kwargs)
        self.use_scale = bool(use_scale)
        self.dropout = _check_rate(type(self).__name__, dropout)

    def _owner(self) -> str:
        return f"{type(self).__name__} '{self.name}'"

    def _unpack(self, inputs: Any) -> list[torch.Tensor]:
        if (
            not isinstance(inputs, (list, tuple))
            or len(inputs) not in (2, 3)
            or not all(torch.is_tensor(x) and x.dim() == 3 for x in inputs)
        ):
            received = (
                [tuple(x.shape) if torch.is_tensor(x) else type(x).__name__ for x in inputs]
                if isinstance(inputs, (list, tuple))
                else type(inputs).__name__
            )
            raise ValueError(
                f"{self._owner()}: expected a list [query, value] or [query, value, key] of "
                f"(batch, steps, dim) tensors. Received: {received}."
            )
        return [_as_float_input(self, x) for x in inputs]

    def build(self, input_shape: Sequence) -> None:
        self.built = True

    def _scores(self, query: torch.Tensor, key: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def forward(
        self,
        inputs: Sequence[torch.Tensor],
        mask: Sequence[torch.Tensor | None] | None = None,
        training: bool | None = None,
        return_attention_scores: bool = False,
        use_causal_mask: bool = False,
    ) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        tensors = self._unpack(inputs)
        if not self.built:
            self._maybe_build([tuple(x.shape) for x in tensors], tensors[0].device)
        query, value = tensors[0], tensors[1]
        key = tensors[2] if len(tensors) > 2 else value
        if mask is not None and (not isinstance(mask, (list, tuple)) or len(mask) != 2):
            raise ValueError(
                f"{self._owner()}: mask must be a list [query_mask, value_mask]. "
                f"Received: mask={mask!r:.100}."
            )
        query_mask, value_mask = mask if mask is not None else (None, None)
        scores = self._scores(query, key)
        keep = None if value_mask is None else value_mask.bool().unsqueeze(-2)
        if use_causal_mask:
            causal = _causal_mask(scores.shape[-2], scores.shape[-1], scores.device)
            keep = causal if keep is None else keep & causal
        if keep is not None:
            scores = scores - 1e9 * (~keep).to(scores.dtype)
        weights = torch.softmax(scores, dim=-1)
        training = self.training if training is None else bool(training)
        dropped = F.dropout(weights, self.dropout, training) if self.dropout else weights
        result = torch.matmul(dropped, value)
        if query_mask is not None:
            result = result * query_mask.unsqueeze(-1).to(result.dtype)
        return (result, weights) if return_attention_scores else result

    def compute_mask(self, inputs: Any, mask: Any = None) -> torch.Tensor | None:
        if mask is None or mask[0] is None:
            return None
        return mask[0]

    def compute_output_shape(self, input_shape: Sequence) -> tuple:
        query_shape, value_shape = input_shape[0], input_shape[1]
        return (*tuple(query_shape)[:-1], value_shape[-1])

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update({"dropout": self.dropout, "use_scale": self.use_scale})
        return config


class Attention(_DenseAttention):
    """Keras 2's dot-product (Luong-style) attention.

    ``scores = query @ key^T`` (times a learned scalar ``scale`` if ``use_scale``), or with
    ``score_mode="concat"`` ``concat_score_weight * sum(tanh(scale * (query + key)))``; then
    a softmax over the value steps and a weighted sum of ``value``.

    Args:
        use_scale: learn a scalar ``scale`` weight.
        score_mode: ``"dot"`` or ``"concat"`` (adds the scalar ``concat_score_weight``).
        dropout: dropout rate on the attention weights while training.
        **kwargs: base layer arguments.

    Call arguments:
        inputs: ``[query (batch, Tq, dim), value (batch, Tv, dim)]`` and optionally ``key``
            (default: ``value``).
        mask: optional ``[query_mask (batch, Tq), value_mask (batch, Tv)]``.
        training: dropout on or off; ``None`` follows ``module.train()``/``eval()``.
        return_attention_scores: also return the attention weights ``(batch, Tq, Tv)``.
        use_causal_mask: query step ``i`` attends only to value steps ``<= i``.

    Example:
        >>> query, value = torch.zeros(2, 3, 4), torch.ones(2, 5, 4)
        >>> Attention()([query, value]).shape
        torch.Size([2, 3, 4])
    """

    def __init__(
        self, use_scale: bool = False, score_mode: str = "dot", dropout: float = 0.0, **kwargs: Any
    ):
        super().__init__(use_scale, dropout, **kwargs)
        if score_mode not in ("dot", "concat"):
            raise ValueError(
                "Attention: score_mode must be one of 'dot', 'concat'. "
                f"Received: score_mode={score_mode!r}."
            )
        self.score_mode = score_mode
        self._declare_weights(
            "scale" if self.use_scale else None,
            "concat_score_weight" if score_mode == "concat" else None,
        )

    def _input_shape_from_weights(self, state_dict: dict, prefix: str) -> list:
        return [(None, None, None)] * 2  # scalar weights: any inputs

    def build(self, input_shape: Sequence) -> None:
        self.scale = self.add_weight("scale", (), "ones") if self.use_scale else None
        self.concat_score_weight = (
            self.add_weight("concat_score_weight", (), "ones")
            if self.score_mode == "concat"
            else None
        )
        self.built = True

    def _scores(self, query: torch.Tensor, key: torch.Tensor) -> torch.Tensor:
        if self.score_mode == "dot":
            scores = torch.matmul(query, key.transpose(-1, -2))
            return scores * self.scale if self.scale is not None else scores
        pairs = query.unsqueeze(-2) + key.unsqueeze(-3)
        if self.scale is not None:
            pairs = self.scale * pairs
        return self.concat_score_weight * torch.tanh(pairs).sum(dim=-1)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config["score_mode"] = self.score_mode
        return config


class AdditiveAttention(_DenseAttention):
    """Keras 2's additive (Bahdanau-style) attention:
    ``scores = sum(scale * tanh(query + key))`` over the features, with a learned ``scale``
    of shape ``(dim,)`` if ``use_scale``; then as :class:`Attention`.

    Args:
        use_scale: learn ``scale`` (shape ``(dim,)``, Glorot-uniform initialised).
        dropout: dropout rate on the attention weights while training.
        **kwargs: base layer arguments.

    Call arguments: as :class:`Attention`.

    Example:
        >>> AdditiveAttention()([torch.zeros(2, 3, 4), torch.ones(2, 5, 4)]).shape
        torch.Size([2, 3, 4])
    """

    def __init__(self, use_scale: bool = True, dropout: float = 0.0, **kwargs: Any):
        super().__init__(use_scale, dropout, **kwargs)
        self._declare_weights("scale" if self.use_scale else None)

    def _input_shape_from_weights(self, state_dict: dict, prefix: str) -> list | None:
        scale = state_dict.get(prefix + "scale")
        if not torch.is_tensor(scale) or is_lazy(scale) or scale.dim() != 1:
            return None
        return [(None, None, scale.shape[0])] * 2

    def build(self, input_shape: Sequence) -> None:
        dim = input_shape[1][-1]
        self.scale = self.add_weight("scale", (dim,), "glorot_uniform") if self.use_scale else None
        self.built = True

    def _scores(self, query: torch.Tensor, key: torch.Tensor) -> torch.Tensor:
        pairs = torch.tanh(query.unsqueeze(-2) + key.unsqueeze(-3))
        if self.scale is not None:
            pairs = self.scale * pairs
        return pairs.sum(dim=-1)


class MultiHeadAttention(Layer):
    """Keras 2's multi-head attention (``num_heads`` heads of size ``key_dim``).

    Weights, in Keras's order: ``query``, ``key`` and ``value`` kernels ``(dim, num_heads,
    key_dim or value_dim)`` each followed by its bias ``(num_heads, key_dim or value_dim)``,
    then the output kernel ``(num_heads, value_dim, output_dim)`` and bias ``(output_dim,)``.

    Args:
        num_heads: the number of heads.
        key_dim: the size of each head for query and key.
        value_dim: the size of each head for value (default ``key_dim``).
        dropout: dropout rate on the attention weights while training.
        use_bias: whether the projections have biases.
        output_shape: the output's last dimension (default: the query's).
        attention_axes: ``None`` or ``(1,)``: attention over the time axis of
            ``(batch, steps, dim)`` inputs.
        kernel_initializer: initializer of the four kernels.
        bias_initializer: initializer of the four biases.
        kernel_regularizer: optional penalty on each kernel.
        bias_regularizer: optional penalty on each bias.
        activity_regularizer: optional penalty on the output.
        kernel_constraint: optional projection of each kernel after optimizer steps.
        bias_constraint: optional projection of each bias after optimizer steps.
        query_shape: the query shape the layer was built for (Keras 2 writes it to the
            config); with ``value_shape``, the layer is built at once.
        key_shape: the key shape it was built for.
        value_shape: the value shape it was built for.
        softmax_robust_masking: replace masked scores by ``-1e9`` instead of adding it.
        **kwargs: base layer arguments.

    Call arguments:
        query: ``(batch, T, dim)``; value: ``(batch, S, dim_v)``; key: optional
            ``(batch, S, dim_k)``, default ``value``.
        attention_mask: optional bool ``(batch, T, S)``, ``True`` where attention is allowed.
        return_attention_scores: also return the weights ``(batch, num_heads, T, S)``.
        training: dropout on or off; ``None`` follows ``module.train()``/``eval()``.
        use_causal_mask: query step ``i`` attends only to steps ``<= i``.
        query_mask, value_mask, key_mask: optional ``(batch, steps)`` bool masks.

    Example:
        >>> layer = MultiHeadAttention(num_heads=2, key_dim=3)
        >>> x = torch.ones(4, 5, 8)
        >>> layer(x, x).shape, [w.shape for w in layer.get_weights()][:2]
        (torch.Size([4, 5, 8]), [(8, 2, 3), (2, 3)])
    """

    def __init__(
        self,
        num_heads: int,
        key_dim: int,
        value_dim: int | None = None,
        dropout: float = 0.0,
        use_bias: bool = True,
        output_shape: int | Sequence[int] | None = None,
        attention_axes: int | Sequence[int] | None = None,
        kernel_initializer: Any = "glorot_uniform",
        bias_initializer: Any = "zeros",
        kernel_regularizer: Any = None,
        bias_regularizer: Any = None,
        activity_regularizer: Any = None,
        kernel_constraint: Any = None,
        bias_constraint: Any = None,
        query_shape: Sequence | None = None,
        key_shape: Sequence | None = None,
        value_shape: Sequence | None = None,
        softmax_robust_masking: bool = False,
        **kwargs: Any,
    ):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        owner = "MultiHeadAttention"
        self.num_heads = check_units(owner, num_heads, "num_heads")
        self.key_dim = check_units(owner, key_dim, "key_dim")
        self.value_dim = (
            self.key_dim if value_dim is None else check_units(owner, value_dim, "value_dim")
        )
        self.dropout = _check_rate(owner, dropout)
        self.use_bias = bool(use_bias)
        if output_shape is not None:
            sizes = [output_shape] if isinstance(output_shape, int) else list(output_shape)
            for size in sizes:
                check_units(owner, size, "output_shape")
        self.output_shape = (
            output_shape
            if output_shape is None or isinstance(output_shape, int)
            else list(output_shape)
        )
        axes = [attention_axes] if isinstance(attention_axes, int) else attention_axes
        if axes is not None and list(axes) not in ([1], [-2]):
            raise ValueError(
                "MultiHeadAttention: birnn supports attention over the time axis of "
                "(batch, steps, dim) inputs only; expected attention_axes None or (1,). "
                f"Received: attention_axes={attention_axes!r}."
            )
        self.attention_axes = None if axes is None else [1]
        self.softmax_robust_masking = bool(softmax_robust_masking)
        self._set_options(
            kernel_initializer=kernel_initializer,
            bias_initializer=bias_initializer,
            kernel_regularizer=kernel_regularizer,
            bias_regularizer=bias_regularizer,
            kernel_constraint=kernel_constraint,
            bias_constraint=bias_constraint,
        )
        self.query_shape = self.key_shape = self.value_shape = None
        kinds = ("kernel", "bias") if self.use_bias else ("kernel",)
        roles = ("query", "key", "value", "output")
        self._declare_weights(*(f"{role}_{kind}" for role in roles for kind in kinds))
        # The value and key shapes for a build given the query's shape only (by the first
        # call, or load_state_dict); a Keras 2 config holds all three, which build at once.
        self._other_shapes: tuple[Sequence | None, Sequence | None] = (value_shape, key_shape)
        if query_shape is not None and value_shape is not None:
            self._maybe_build(tuple(query_shape))

    def build(
        self,
        query_shape: Sequence,
        value_shape: Sequence | None = None,
        key_shape: Sequence | None = None,
    ) -> None:
        if value_shape is None:
            value_shape, key_shape = self._other_shapes
        value_shape = query_shape if value_shape is None else value_shape
        key_shape = value_shape if key_shape is None else key_shape
        shapes = {"query": query_shape, "value": value_shape, "key": key_shape}
        for role, shape in shapes.items():
            if len(shape) != 3 or shape[-1] is None:
                raise ValueError(
                    f"MultiHeadAttention '{self.name}': expected {role} of shape (batch, steps, "
                    f"dim) with a known dim. Received: {role}_shape={tuple(shape)}."
                )
        self.query_shape, self.value_shape, self.key_shape = (list(s) for s in shapes.values())
        self.attention_axes = [1]
        heads = self.num_heads
        output = (
            [query_shape[-1]]
            if self.output_shape is None
            else (
                [self.output_shape]
                if isinstance(self.output_shape, int)
                else list(self.output_shape)
            )
        )
        projections = (
            ("query", (query_shape[-1], heads, self.key_dim), (heads, self.key_dim)),
            ("key", (key_shape[-1], heads, self.key_dim), (heads, self.key_dim)),
            ("value", (value_shape[-1], heads, self.value_dim), (heads, self.value_dim)),
            ("output", (heads, self.value_dim, *output), tuple(output)),
        )
        for role, kernel_shape, bias_shape in projections:
            add_kernel_and_bias(self, kernel_shape, bias_shape, prefix=f"{role}_")
        self.built = True

    def __call__(self, query: Any, value: Any = None, key: Any = None, **kwargs: Any) -> Any:
        if not self.built and torch.is_tensor(value):
            self._other_shapes = (tuple(value.shape), None if key is None else tuple(key.shape))
        return super().__call__(query, value, key=key, **kwargs)

    def _input_shape_from_weights(self, state_dict: dict, prefix: str) -> tuple | None:
        kernels = [state_dict.get(f"{prefix}{role}_kernel") for role in ("query", "value", "key")]
        if not all(torch.is_tensor(k) and not is_lazy(k) and k.dim() == 3 for k in kernels):
            return None
        query, value, key = ((None, None, k.shape[0]) for k in kernels)
        self._other_shapes = (value, key)
        return query

    def _project(self, x: torch.Tensor, role: str) -> torch.Tensor:
        """``(batch, steps, dim)`` to ``(batch, steps, heads, size)``."""
        projected = torch.einsum("btd,dhs->bths", x, getattr(self, f"{role}_kernel"))
        bias = getattr(self, f"{role}_bias")
        return projected if bias is None else projected + bias

    def _attention_mask(
        self,
        query: torch.Tensor,
        value: torch.Tensor,
        masks: tuple[Any, Any, Any],
        attention_mask: torch.Tensor | None,
        use_causal_mask: bool,
    ) -> torch.Tensor | None:
        query_mask, value_mask, key_mask = masks
        keep = None
        for mask, axis in ((query_mask, -1), (value_mask, -2), (key_mask, -2)):
            if mask is not None:
                part = mask.bool().unsqueeze(axis)
                keep = part if keep is None else keep & part
        if use_causal_mask:
            causal = _causal_mask(query.shape[1], value.shape[1], query.device).unsqueeze(0)
            keep = causal if keep is None else keep & causal
        if keep is not None and attention_mask is not None:
            return attention_mask.bool() & keep
        return keep if keep is not None else attention_mask

    def forward(
        self,
        query: torch.Tensor,
        value: torch.Tensor,
        key: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        return_attention_scores: bool = False,
        training: bool | None = None,
        use_causal_mask: bool = False,
        query_mask: torch.Tensor | None = None,
        value_mask: torch.Tensor | None = None,
        key_mask: torch.Tensor | None = None,
    ) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        key_given = key is not None
        key = value if key is None else key
        masks = (
            query_mask if query_mask is not None else getattr(query, "_keras_mask", None),
            value_mask if value_mask is not None else getattr(value, "_keras_mask", None),
            key_mask
            if key_mask is not None or not key_given
            else getattr(key, "_keras_mask", None),
        )
        for role, x in (("query", query), ("value", value), ("key", key)):
            if (
                not torch.is_tensor(x)
                or x.dim() != 3
                or x.shape[-1] != getattr(self, f"{role}_shape")[-1]
            ):
                received = tuple(x.shape) if torch.is_tensor(x) else type(x).__name__
                raise ValueError(
                    f"MultiHeadAttention '{self.name}': expected {role} of shape (batch, steps, "
                    f"{getattr(self, f'{role}_shape')[-1]}) (the layer was built for that). "
                    f"Received: {received}."
                )
        query, value, key = (_as_float_input(self, x) for x in (query, value, key))
        q = self._project(query, "query") / math.sqrt(float(self.key_dim))
        k = self._project(key, "key")
        v = self._project(value, "value")
        scores = torch.einsum("bshd,bthd->bhts", k, q)
        keep = self._attention_mask(query, value, masks, attention_mask, use_causal_mask)
        if keep is not None:
            scores = masked_logits(scores, keep.unsqueeze(1), self.softmax_robust_masking)
        weights = torch.softmax(scores, dim=-1)
        training = self.training if training is None else bool(training)
        dropped = F.dropout(weights, self.dropout, training) if self.dropout else weights
        context = torch.einsum("bhts,bshd->bthd", dropped, v)
        kernel = self.output_kernel
        output = torch.einsum("bthd,hdo->bto", context, kernel.reshape(*kernel.shape[:2], -1))
        output = output.reshape(*output.shape[:2], *kernel.shape[2:])
        if self.output_bias is not None:
            output = output + self.output_bias
        return (output, weights) if return_attention_scores else output

    def compute_output_shape(
        self,
        query_shape: Sequence,
        value_shape: Sequence | None = None,
        key_shape: Sequence | None = None,
    ) -> tuple:
        if self.output_shape is None:
            return tuple(query_shape)
        output = [self.output_shape] if isinstance(self.output_shape, int) else self.output_shape
        return (*tuple(query_shape)[:-1], *output)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(
            {
                "num_heads": self.num_heads,
                "key_dim": self.key_dim,
                "value_dim": self.value_dim,
                "dropout": self.dropout,
                "use_bias": self.use_bias,
                "output_shape": self.output_shape,
                "attention_axes": self.attention_axes,
                **kernel_options(self),
                "query_shape": self.query_shape,
                "key_shape": self.key_shape,
                "value_shape": self.value_shape,
                "softmax_robust_masking": self.softmax_robust_masking,
            }
        )
        return config

    def extra_repr(self) -> str:
        return f"num_heads={self.num_heads}, key_dim={self.key_dim}, name={self.name!r}"
