"""The tensor operations Keras 3 records in Functional configs to compute masks.

Keras 3 writes a layer's mask computation (``Embedding(mask_zero=True)``'s ``ids != 0``, a
merge layer's combination of masks) as nodes of ``keras.src.ops.numpy`` operations whose
outputs reach the next layer as its ``mask=`` argument. These modules run them.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

MODULE = "keras.src.ops.numpy"

_DTYPES = {
    None: None,
    "bool": torch.bool,
    "float32": torch.float32,
    "float64": torch.float64,
    "int32": torch.int32,
    "int64": torch.int64,
}


def _dtype(value: Any) -> torch.dtype | None:
    if value not in _DTYPES:
        raise ValueError(f"Keras op: dtype must be one of {list(_DTYPES)}. Received: {value!r}.")
    return _DTYPES[value]


class Operation(nn.Module):
    """A Keras 3 operation node: a name, its config and a tensor function."""

    def __init__(self, name: str | None = None, **config: Any):
        super().__init__()
        self.name = name or type(self).__name__.lower()
        self.config = config

    def get_config(self) -> dict[str, Any]:
        return {"name": self.name, **self.config}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Operation:
        return cls(**config)

    def extra_repr(self) -> str:
        return f"name={self.name!r}"


def _unary(function):
    class Unary(Operation):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return function(x, **self.config)

    return Unary


def _binary(function):
    class Binary(Operation):
        def forward(self, x: Any, y: Any) -> torch.Tensor:
            return function(torch.as_tensor(x), torch.as_tensor(y))

    return Binary


def _any(x, axis=None, keepdims=False):
    return x.bool().any() if axis is None else x.bool().any(dim=axis, keepdim=keepdims)


def _all(x, axis=None, keepdims=False):
    return x.bool().all() if axis is None else x.bool().all(dim=axis, keepdim=keepdims)


def _like(fill):
    def make(x, dtype=None):
        return torch.full_like(x, fill, dtype=_dtype(dtype) or x.dtype)

    return make


def _convert(x, dtype=None, sparse=None, ragged=None):
    return x if dtype is None else x.to(_dtype(dtype))


class Concatenate(Operation):
    def forward(self, xs: list[torch.Tensor]) -> torch.Tensor:
        return torch.cat(list(xs), dim=self.config.get("axis", 0))


OPERATIONS: dict[str, type] = {
    "NotEqual": _binary(torch.ne),
    "Equal": _binary(torch.eq),
    "LogicalOr": _binary(torch.logical_or),
    "LogicalAnd": _binary(torch.logical_and),
    "Any": _unary(_any),
    "All": _unary(_all),
    "ExpandDims": _unary(lambda x, axis: x.unsqueeze(axis)),
    "Squeeze": _unary(lambda x, axis=None: x.squeeze() if axis is None else x.squeeze(axis)),
    "OnesLike": _unary(_like(1)),
    "ZerosLike": _unary(_like(0)),
    "ConvertToTensor": _unary(_convert),
    "Cast": _unary(lambda x, dtype: x.to(_dtype(dtype))),
    "Concatenate": Concatenate,
}
for _name, _cls in OPERATIONS.items():
    _cls.__name__ = _cls.__qualname__ = _name
