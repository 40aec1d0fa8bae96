"""Merge layers: ``Add``, ``Subtract``, ``Multiply``, ``Average``, ``Maximum``, ``Minimum``,
``Concatenate`` and ``Dot``, and their functional forms (``add([a, b])``...).

Each takes a list of tensors. Masks merge as in tf-keras 2: the element-wise layers AND the
masks they are given (an input without a mask does not count), ``Concatenate`` ANDs them with
an all-true mask for each unmasked input, and ``Dot`` stops the mask.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable, Sequence
from typing import Any

import torch

from ._core import _as_float_input
from ._layer import Layer


def _lined_up(shape: tuple, rank: int) -> tuple:
    """``shape`` with size-1 axes added after the batch axis up to ``rank``, as tf-keras lines
    up merge inputs of lower rank (they then broadcast)."""
    return shape[:1] + (1,) * (rank - len(shape)) + shape[1:]


class _Merge(Layer):
    """Base of the merge layers: checks the list of inputs, then merges it."""

    _min_inputs = 1
    _max_inputs: int | None = None

    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)

    # -- checks ------------------------------------------------------------------------------

    def _owner(self) -> str:
        return f"{type(self).__name__} '{self.name}'"

    def _check_count(self, shapes: Sequence) -> None:
        count_ok = len(shapes) >= self._min_inputs and (
            self._max_inputs is None or len(shapes) <= self._max_inputs
        )
        if not count_ok:
            if self._max_inputs == self._min_inputs:
                wanted = f"exactly {self._min_inputs}"
            else:
                wanted = f"at least {self._min_inputs}"
            raise ValueError(
                f"{self._owner()}: expected a list of {wanted} inputs. "
                f"Received: {len(shapes)} inputs with shapes {list(shapes)}."
            )

    def _check_shapes(self, shapes: list[tuple]) -> None:
        """Element-wise merges need shapes that broadcast, aligned from the last axis."""
        self._check_count(shapes)
        rank = max(len(shape) for shape in shapes)
        shapes = [_lined_up(shape, rank) for shape in shapes]
        for shape in shapes[1:]:
            for left, right in zip(shapes[0], shape):
                if None in (left, right) or left == right or 1 in (left, right):
                    continue
                raise ValueError(
                    f"{self._owner()}: expected inputs of the same shape (or shapes that "
                    f"broadcast). Received: shapes {shapes[0]} and {shape}."
                )

    def _input_list(self, inputs: Any) -> list[torch.Tensor]:
        if not isinstance(inputs, (list, tuple)) or not all(torch.is_tensor(x) for x in inputs):
            received = (
                [type(x).__name__ for x in inputs]
                if isinstance(inputs, (list, tuple))
                else type(inputs).__name__
            )
            raise ValueError(f"{self._owner()}: expected a list of tensors. Received: {received}.")
        tensors = [_as_float_input(self, x) for x in inputs]
        shapes = [tuple(x.shape) for x in tensors]
        self._check_shapes(shapes)
        if not self.built:
            self._maybe_build(shapes, tensors[0].device if tensors else None)
        return tensors

    # -- Keras API ---------------------------------------------------------------------------

    def build(self, input_shape: Sequence) -> None:
        if not isinstance(input_shape, (list, tuple)) or not all(
            isinstance(shape, (list, tuple)) for shape in input_shape
        ):
            raise ValueError(
                f"{self._owner()}: expected a list of input shapes (the layer merges a list "
                f"of tensors). Received: input_shape={input_shape!r}."
            )
        self._check_shapes([tuple(shape) for shape in input_shape])
        self.built = True

    def forward(self, inputs: Sequence[torch.Tensor]) -> torch.Tensor:
        tensors = self._input_list(inputs)
        rank = max(x.dim() for x in tensors)
        return self._merge([x.reshape(_lined_up(tuple(x.shape), rank)) for x in tensors])

    # The element-wise operation, applied left to right over the inputs as tf-keras does.
    _combine: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]

    def _merge(self, tensors: list[torch.Tensor]) -> torch.Tensor:
        return functools.reduce(self._combine, tensors)

    def _has_masks(self, inputs: Any, mask: Any) -> bool:
        """Whether any input has a mask; a ValueError unless ``mask`` has one entry per input."""
        if mask is None:
            return False
        if not isinstance(mask, (list, tuple)) or len(mask) != len(inputs):
            raise ValueError(
                f"{self._owner()}: mask must be a list with one entry (a mask or None) per "
                f"input. Received: mask={mask!r:.100}."
            )
        return any(m is not None for m in mask)

    def _keras3_call(
        self, inputs: Sequence[torch.Tensor], masks: Sequence[torch.Tensor | None]
    ) -> torch.Tensor:
        """The output Keras 3 computes for masked inputs, for a Keras 3 model's graph: the same
        as tf-keras except ``Maximum``, ``Minimum`` and ``Multiply``, which read the masks."""
        return self(inputs)

    def compute_mask(self, inputs: Any, mask: Any = None) -> torch.Tensor | None:
        if not self._has_masks(inputs, mask):
            return None
        masks = [m.bool() for m in mask if m is not None]
        merged = masks[0]
        for m in masks[1:]:
            merged = merged & m
        return merged

    def compute_output_shape(self, input_shape: Sequence) -> tuple:
        rank = max(len(shape) for shape in input_shape)
        shapes = [_lined_up(tuple(shape), rank) for shape in input_shape]
        output = []
        for sizes in map(set, zip(*shapes)):
            known = sizes - {None, 1}
            output.append(known.pop() if known else None if None in sizes else 1)
        return tuple(output)


def _full_masks(
    tensors: list[torch.Tensor], masks: Sequence[torch.Tensor | None]
) -> list[torch.Tensor | None]:
    """Each ``(batch, steps)`` mask broadcast to its tensor's shape."""
    return [
        None
        if m is None
        else m.bool().unsqueeze(-1).expand_as(x)
        if m.dim() < x.dim()
        else m.bool()
        for x, m in zip(tensors, masks)
    ]


def _keras3_extremum(
    self: _Merge, inputs: Sequence[torch.Tensor], masks: Sequence[torch.Tensor | None]
) -> torch.Tensor:
    """Keras 3's Maximum/Minimum of masked inputs: a step one input masks takes the other
    inputs' values."""
    tensors = self._input_list(inputs)
    output, output_mask = None, None
    for x, mask in zip(tensors, _full_masks(tensors, masks)):
        if output is None:
            output, output_mask = x, mask
            continue
        if mask is not None:
            x = torch.where(mask, x, output)
        if output_mask is not None:
            output = torch.where(output_mask, output, x)
        output_mask = None if mask is None or output_mask is None else output_mask | mask
        output = self._combine(output, x)
    return output


class Add(_Merge):
    """Adds a list of tensors of the same shape (Keras 2's ``Add``).

    Example:
        >>> Add()([torch.ones(2, 3), torch.full((2, 3), 2.0)])[0]
        tensor([3., 3., 3.])
    """

    _combine = staticmethod(operator.add)


class Subtract(_Merge):
    """Subtracts the second of two tensors from the first (Keras 2's ``Subtract``).

    Example:
        >>> Subtract()([torch.ones(1, 2), torch.full((1, 2), 3.0)])
        tensor([[-2., -2.]])
    """

    _min_inputs = 2
    _max_inputs = 2
    _combine = staticmethod(operator.sub)


class Multiply(_Merge):
    """Multiplies a list of tensors element-wise (Keras 2's ``Multiply``).

    Example:
        >>> Multiply()([torch.full((1, 2), 2.0), torch.full((1, 2), 3.0)])
        tensor([[6., 6.]])
    """

    _combine = staticmethod(operator.mul)

    def _keras3_call(
        self, inputs: Sequence[torch.Tensor], masks: Sequence[torch.Tensor | None]
    ) -> torch.Tensor:
        # Keras 3 multiplies masked steps by 1, then zeroes the steps no input keeps.
        tensors = self._input_list(inputs)
        full = _full_masks(tensors, masks)
        factors = [
            x if m is None else torch.where(m, x, torch.ones_like(x)) for x, m in zip(tensors, full)
        ]
        output = functools.reduce(operator.mul, factors)
        if all(m is not None for m in full):
            output = torch.where(
                functools.reduce(operator.or_, full), output, torch.zeros_like(output)
            )
        return output


class Average(_Merge):
    """Averages a list of tensors element-wise (Keras 2's ``Average``).

    Example:
        >>> Average()([torch.ones(1, 2), torch.full((1, 2), 3.0)])
        tensor([[2., 2.]])
    """

    _combine = staticmethod(operator.add)

    def _merge(self, tensors: list[torch.Tensor]) -> torch.Tensor:
        return super()._merge(tensors) / len(tensors)


class Maximum(_Merge):
    """The element-wise maximum of a list of tensors (Keras 2's ``Maximum``).

    Example:
        >>> Maximum()([torch.tensor([[1.0, 5.0]]), torch.tensor([[3.0, 2.0]])])
        tensor([[3., 5.]])
    """

    _combine = staticmethod(torch.maximum)
    _keras3_call = _keras3_extremum


class Minimum(_Merge):
    """The element-wise minimum of a list of tensors (Keras 2's ``Minimum``).

    Example:
        >>> Minimum()([torch.tensor([[1.0, 5.0]]), torch.tensor([[3.0, 2.0]])])
        tensor([[1., 2.]])
    """

    _combine = staticmethod(torch.minimum)
    _keras3_call = _keras3_extremum


class Concatenate(_Merge):
    """Concatenates a list of tensors along ``axis`` (Keras 2's ``Concatenate``).

    Args:
        axis: the axis to join along; the other axes must match.
        **kwargs: base layer arguments.

    Example:
        >>> Concatenate()([torch.zeros(2, 5, 3), torch.ones(2, 5, 4)]).shape
        torch.Size([2, 5, 7])
    """

    def __init__(self, axis: int = -1, **kwargs: Any):
        if isinstance(axis, bool) or not isinstance(axis, int):
            raise ValueError(f"Concatenate: axis must be an int. Received: axis={axis!r}.")
        super().__init__(**kwargs)
        self.axis = axis

    def _check_shapes(self, shapes: list[tuple]) -> None:
        self._check_count(shapes)
        ranks = {len(shape) for shape in shapes}
        rank = ranks.pop()
        axis = self.axis % rank if rank else None
        matching = (
            not ranks
            and axis is not None
            and all(
                all(
                    a is None or b is None or a == b
                    for index, (a, b) in enumerate(zip(shapes[0], shape))
                    if index != axis
                )
                for shape in shapes[1:]
            )
        )
        if not matching:
            raise ValueError(
                f"{self._owner()}: expected inputs with matching shapes except for the "
                f"concatenation axis {self.axis}. Received: input shapes {shapes}."
            )

    def forward(self, inputs: Sequence[torch.Tensor]) -> torch.Tensor:
        return torch.cat(self._input_list(inputs), dim=self.axis)

    def compute_mask(self, inputs: Any, mask: Any = None) -> torch.Tensor | None:
        if not self._has_masks(inputs, mask):
            return None
        full = []
        for x, m in zip(inputs, mask):
            if m is None:
                full.append(torch.ones(x.shape, dtype=torch.bool, device=x.device))
            elif m.dim() < x.dim():
                full.append(m.bool().unsqueeze(-1))
            else:
                full.append(m.bool())
        try:
            joined = torch.cat(full, dim=self.axis)
        except RuntimeError:
            raise ValueError(
                f"{self._owner()}: the masks cannot be concatenated along axis {self.axis}, "
                "as in tf-keras: mask every input (or none) to join masked sequences in time. "
                f"Received: mask shapes {[None if m is None else tuple(m.shape) for m in mask]}."
            ) from None
        return joined.all(dim=-1)

    def compute_output_shape(self, input_shape: Sequence) -> tuple:
        shapes = [list(shape) for shape in input_shape]
        output = shapes[0]
        axis = self.axis % len(output)
        sizes = [shape[axis] for shape in shapes]
        output[axis] = None if None in sizes else sum(sizes)
        return tuple(output)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config["axis"] = self.axis
        return config


def _l2_normalize(x: torch.Tensor, axis: int) -> torch.Tensor:
    squares = (x * x).sum(dim=axis, keepdim=True)
    return x * torch.rsqrt(torch.clamp(squares, min=1e-12))


class Dot(_Merge):
    """The dot product of two tensors along ``axes``, per sample (Keras 2's ``Dot``).

    For inputs ``(batch, n)`` the output is ``(batch, 1)``; for ``(batch, t, d)`` and
    ``(batch, s, d)`` with ``axes=2`` it is ``(batch, t, s)``.

    Args:
        axes: an int, or a pair of ints (one axis per input), counting the batch axis as 0.
        normalize: L2-normalise both inputs along ``axes`` first (cosine similarity).
        **kwargs: base layer arguments.

    Example:
        >>> Dot(axes=1)([torch.tensor([[1.0, 2.0]]), torch.tensor([[3.0, 4.0]])])
        tensor([[11.]])
    """

    _min_inputs = 2
    _max_inputs = 2

    def __init__(self, axes: int | Sequence[int], normalize: bool = False, **kwargs: Any):
        def is_int(value: Any) -> bool:
            return isinstance(value, int) and not isinstance(value, bool)

        pair = isinstance(axes, (list, tuple)) and len(axes) == 2 and all(map(is_int, axes))
        if not (is_int(axes) or pair):
            raise ValueError(
                f"Dot: axes must be an int or a list of 2 ints. Received: axes={axes!r}."
            )
        super().__init__(**kwargs)
        self.axes = axes if is_int(axes) else tuple(axes)
        self.normalize = bool(normalize)

    def _positive_axes(self, shapes: list[tuple]) -> list[int]:
        axes = [self.axes] * 2 if isinstance(self.axes, int) else list(self.axes)
        return [axis % len(shape) if axis < 0 else axis for axis, shape in zip(axes, shapes)]

    def _check_shapes(self, shapes: list[tuple]) -> None:
        self._check_count(shapes)
        first, second = shapes
        axes = self._positive_axes(shapes)
        if any(axis == 0 or axis >= len(shape) for axis, shape in zip(axes, shapes)):
            raise ValueError(
                f"{self._owner()}: axes must name a non-batch axis of each input. "
                f"Received: axes={self.axes} for input shapes {first} and {second}."
            )
        left, right = first[axes[0]], second[axes[1]]
        if left is not None and right is not None and left != right:
            raise ValueError(
                f"{self._owner()}: expected the inputs to have the same size on axes {axes}. "
                f"Received: {left} (axis {axes[0]} of {first}) and {right} "
                f"(axis {axes[1]} of {second})."
            )

    def forward(self, inputs: Sequence[torch.Tensor]) -> torch.Tensor:
        x, y = self._input_list(inputs)
        x_axis, y_axis = self._positive_axes([tuple(x.shape), tuple(y.shape)])
        if self.normalize:
            x, y = _l2_normalize(x, x_axis), _l2_normalize(y, y_axis)
        x = x.movedim(x_axis, -1)
        y = y.movedim(y_axis, 1)
        x_rest, y_rest = x.shape[1:-1], y.shape[2:]
        batch, depth = x.shape[0], x.shape[-1]
        product = torch.bmm(x.reshape(batch, -1, depth), y.reshape(batch, depth, -1))
        output = product.reshape(batch, *x_rest, *y_rest)
        return output.unsqueeze(-1) if output.dim() == 1 else output

    def compute_mask(self, inputs: Any, mask: Any = None) -> None:
        return None

    def compute_output_shape(self, input_shape: Sequence) -> tuple:
        first, second = (tuple(shape) for shape in input_shape)
        x_axis, y_axis = self._positive_axes([first, second])
        output = first[:x_axis] + first[x_axis + 1 :] + second[1:y_axis] + second[y_axis + 1 :]
        return output if len(output) > 1 else output + (1,)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(
            {
                "axes": self.axes if isinstance(self.axes, int) else list(self.axes),
                "normalize": self.normalize,
            }
        )
        return config


def _functional(cls: type, doc_example: str) -> Callable[..., torch.Tensor]:
    def merge(inputs: Sequence[torch.Tensor], **kwargs: Any) -> torch.Tensor:
        return cls(**kwargs)(inputs)

    merge.__name__ = cls.__name__.lower()
    merge.__doc__ = (
        f"Functional form of :class:`{cls.__name__}`: ``{cls.__name__}(**kwargs)(inputs)``.\n\n"
        f"    Works on tensors and on the symbolic tensors of a Functional model.\n\n"
        f"    Args:\n"
        f"        inputs: the list of tensors to merge.\n"
        f"        **kwargs: the layer's arguments (``name``...).\n\n"
        f"    Example:\n        {doc_example}\n"
    )
    return merge


add = _functional(Add, ">>> add([torch.ones(1, 2), torch.ones(1, 2)])\n        tensor([[2., 2.]])")
subtract = _functional(
    Subtract, ">>> subtract([torch.ones(1, 2), torch.ones(1, 2)])\n        tensor([[0., 0.]])"
)
multiply = _functional(
    Multiply, ">>> multiply([torch.ones(1, 2), torch.ones(1, 2)])\n        tensor([[1., 1.]])"
)
average = _functional(
    Average,
    ">>> average([torch.ones(1, 2), torch.zeros(1, 2)])\n        tensor([[0.5000, 0.5000]])",
)
maximum = _functional(
    Maximum, ">>> maximum([torch.ones(1, 2), torch.zeros(1, 2)])\n        tensor([[1., 1.]])"
)
minimum = _functional(
    Minimum, ">>> minimum([torch.ones(1, 2), torch.zeros(1, 2)])\n        tensor([[0., 0.]])"
)


def concatenate(inputs: Sequence[torch.Tensor], axis: int = -1, **kwargs: Any) -> torch.Tensor:
    """Functional form of :class:`Concatenate`: ``Concatenate(axis, **kwargs)(inputs)``.

    Works on tensors and on the symbolic tensors of a Functional model.

    Args:
        inputs: the list of tensors to join.
        axis: the axis to join along.
        **kwargs: the layer's other arguments (``name``...).

    Example:
        >>> concatenate([torch.zeros(1, 2), torch.ones(1, 1)])
        tensor([[0., 0., 1.]])
    """
    return Concatenate(axis=axis, **kwargs)(inputs)


def dot(
    inputs: Sequence[torch.Tensor],
    axes: int | Sequence[int],
    normalize: bool = False,
    **kwargs: Any,
) -> torch.Tensor:
    """Functional form of :class:`Dot`: ``Dot(axes, normalize, **kwargs)(inputs)``.

    Args:
        inputs: the two tensors.
        axes: an int, or a pair of ints, counting the batch axis as 0.
        normalize: L2-normalise both inputs along ``axes`` first.
        **kwargs: the layer's other arguments (``name``...).

    Example:
        >>> dot([torch.tensor([[1.0, 2.0]]), torch.tensor([[3.0, 4.0]])], axes=1)
        tensor([[11.]])
    """
    return Dot(axes=axes, normalize=normalize, **kwargs)(inputs)
