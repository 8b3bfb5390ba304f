"""Writes into a tensor, recorded for backward: ``x[index] = v`` (IndexPut), and a write made
through a view, recorded on the view's base (CopySlices). See ``Tensor._inplace``."""

from __future__ import annotations

from typing import Any

import numpy as np

from autograd.function import Op
from autograd.ops import dual
from autograd.ops.indexing import split_ints_first, take
from autograd.ops.reduce import unbroadcast
from autograd.tensor import Tensor, lift


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
        return dual.keep(grad, outside), unbroadcast(region, *ctx.v_like), None


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

    @staticmethod
    def forward(ctx, base, v, steps):
        ctx.steps = steps
        return base._data

    @staticmethod
    def backward(ctx, grad):
        # the overwritten region gets no gradient from the old base; v gets what the view reads
        written = np.zeros(grad.shape, bool)
        replay(written, ctx.steps)[...] = True
        return dual.keep(grad, ~written), replay(grad, ctx.steps), None
