"""Writes into a tensor, recorded for backward: ``x[index] = v`` (IndexPut), and a write made
through a view, recorded on the view's base (CopySlices). See ``Tensor._inplace``."""

from __future__ import annotations

from typing import Any

import numpy as np

from autograd.function import Op
from autograd.ops import either
from autograd.ops.indexing import split_ints_first, take
from autograd.ops.reduce import unbroadcast
from autograd.tensor import Tensor, lift

_NOWHERE = np.zeros((), bool)  # a mask that keeps nothing: exact zeros of the gradient's shape


def _region(shape: tuple[int, ...], index: Any) -> np.ndarray:
    """True at the elements ``x[index]`` selects (PyTorch's order for integers among arrays)."""
    mask = np.zeros(shape, bool)
    steps = split_ints_first(index)
    target, where = (mask, index) if steps is None else (mask[steps[0]], steps[1])  # (a view)
    target[where] = True
    return mask


class IndexPut(Op):
    """y = x with y[index] = v (v broadcast to the region). Shapes: x (*), v (broadcastable to
    x[index]) -> y (*). Repeated positions take the last value written, as numpy's assignment."""

    @staticmethod
    def forward(ctx, x, v, index):
        ctx.index, ctx.v_like = index, (v.shape, v.dtype)
        out = x._data.copy()
        steps = split_ints_first(index)
        target, where = (out, index) if steps is None else (out[steps[0]], steps[1])  # (a view)
        target[where] = v._data
        return out

    @staticmethod
    def backward(ctx, grad):
        # x's elements outside the region pass through; v receives what the region received
        outside = ~_region(grad.shape, ctx.index)
        region = grad[ctx.index] if isinstance(grad, Tensor) else take(grad, ctx.index)
        return either.keep(grad, outside), unbroadcast(region, *ctx.v_like), None


def index_put(x: Tensor, index: Any, value: Any) -> Tensor:
    """``x`` with ``x[index] = value`` as a new tensor (``value`` cast to x's dtype)."""
    _, v = lift(x, value)
    if v.dtype != x.dtype:
        v = v.to(x.dtype)
    return IndexPut.apply(x, v, index)


def replay(x: Any, steps: tuple) -> Any:
    """The view ``steps`` (view ops and their arguments, from the base) applied to ``x``: a
    Tensor (recorded) or a numpy array (a numpy view of it)."""
    for op, args in steps:
        x = op.apply(x, *args) if isinstance(x, Tensor) else op.forward(op(), Tensor._make(x), *args)
    return x


class CopySlices(Op):
    """y = base with its view (``steps``) replaced by v. Shapes: base (*), v (the view's shape)
    -> y (*). The values are already in the base's memory (written through the view); this op
    records the write, so gradients reach the view's new values and the rest of the base."""

    @classmethod
    def name(cls) -> str:
        """PyTorch's name for this node."""
        return "CopySlices"

    @staticmethod
    def forward(ctx, base, v, steps):
        ctx.steps = steps
        return base._data

    @staticmethod
    def backward(ctx, grad):
        # the overwritten region gets no gradient from the old base; v gets what the view reads
        written = np.zeros(grad.shape, bool)
        replay(written, ctx.steps)[...] = True
        return either.keep(grad, ~written), replay(grad, ctx.steps), None


class Fill(Op):
    """y = value everywhere (x's shape and dtype). Shapes: x (*), value () -> y (*)."""

    @staticmethod
    def forward(ctx, x, value):
        ctx.value_like = (value.shape, value.dtype)
        return np.full(x.shape, value._data, dtype=x.dtype)

    @staticmethod
    def backward(ctx, grad):
        # x is overwritten everywhere: no gradient to it; the one value fed every element
        return either.keep(grad, _NOWHERE), unbroadcast(grad, *ctx.value_like)


class Zero(Fill):
    """y = 0 everywhere (``zero_``). Shapes: x (*) -> y (*)."""


class Copy(Op):
    """y = src broadcast to x's shape and cast to x's dtype (``copy_``). Shapes: x (*), src
    (broadcastable to x) -> y (*)."""

    @staticmethod
    def forward(ctx, x, src):
        ctx.src_like = (src.shape, src.dtype)
        return np.broadcast_to(src._data, x.shape).astype(x.dtype)

    @staticmethod
    def backward(ctx, grad):
        # x is overwritten: no gradient to it; src gets the gradient, summed over its copies
        return either.keep(grad, _NOWHERE), unbroadcast(grad, *ctx.src_like)


class MaskedFill(Op):
    """y = value where mask, else x. Shapes: x (*), mask (broadcastable to x), value () -> y (*)."""

    @staticmethod
    def forward(ctx, x, mask, value):
        ctx.mask, ctx.value_like = np.broadcast_to(mask._data, x.shape), (value.shape, value.dtype)
        return np.where(ctx.mask, value._data.astype(x.dtype), x._data)

    @staticmethod
    def backward(ctx, grad):
        # x's gradient passes where it was kept; the value gets the sum over the filled places
        filled = either.keep(grad, ctx.mask)
        return either.keep(grad, ~ctx.mask), None, unbroadcast(filled, *ctx.value_like)


def _number(x: Tensor, value: Any, what: str) -> Tensor:
    """A fill value as a 0-d tensor (a number, or a 0-d tensor whose gradient is kept)."""
    if isinstance(value, Tensor):
        if value.ndim != 0:
            raise RuntimeError(
                f"{what} only supports 0-dimension value tensor but got tensor with {value.ndim} dimensions."
            )
        return value
    return Tensor._make(np.asarray(value, dtype=x.dtype))


def fill(x: Tensor, value: Any) -> Tensor:
    """``value`` everywhere, recorded as a fill of ``x``."""
    return Fill.apply(x, _number(x, value, "fill_"))


def zero(x: Tensor) -> Tensor:
    """Zeros everywhere, recorded as ``zero_`` of ``x``."""
    return Zero.apply(x, Tensor._make(np.zeros((), x.dtype)))


def copy(x: Tensor, src: Any) -> Tensor:
    """``src`` broadcast and cast into ``x``'s shape and dtype, recorded as ``copy_``."""
    src = src if isinstance(src, Tensor) else Tensor._make(np.asarray(src))
    if np.broadcast_shapes(src.shape, x.shape) != x.shape:
        raise RuntimeError(f"copy_: the source of shape {src.shape} does not broadcast to the tensor's {x.shape}")
    return Copy.apply(x, src)


def masked_fill(x: Tensor, mask: Any, value: Any) -> Tensor:
    """``x`` with ``value`` where ``mask`` (a bool tensor broadcastable to x) is true."""
    mask = mask if isinstance(mask, Tensor) else Tensor._make(np.asarray(mask))
    if mask.dtype != np.bool_:
        raise RuntimeError(f"masked_fill_ only supports boolean masks, but got mask with dtype {mask.dtype}")
    if np.broadcast_shapes(mask.shape, x.shape) != x.shape:
        raise RuntimeError(f"masked_fill: the mask of shape {mask.shape} does not broadcast to the tensor's {x.shape}")
    return MaskedFill.apply(x, mask, _number(x, value, "masked_fill_"))
