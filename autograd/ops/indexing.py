"""Indexing: ``x[index]`` (basic and advanced) and its adjoint, scattering a gradient back."""

from __future__ import annotations

from typing import Any

import numpy as np

from autograd.function import Op
from autograd.ops import dual
from autograd.tensor import Tensor


def normalize_index(index: Any) -> Any:
    """Replace Tensors inside an index by their numpy arrays."""
    if isinstance(index, tuple):
        return tuple(normalize_index(i) for i in index)
    if isinstance(index, Tensor):
        return index.data
    if isinstance(index, list):
        return np.asarray([i.data if isinstance(i, Tensor) else i for i in index])
    return index


def is_basic(index: Any) -> bool:
    """True when ``index`` uses only ints, slices, None and Ellipsis (a view, no repeats)."""
    parts = index if isinstance(index, tuple) else (index,)
    return all(
        isinstance(p, (int, np.integer, slice, type(None), type(Ellipsis)))
        or (isinstance(p, np.ndarray) and p.ndim == 0 and p.dtype.kind in "iu")
        for p in parts
    )


class Index(Op):
    """y = x[index]. Shapes: x (*) -> y (shape chosen by the index)."""

    @staticmethod
    def forward(ctx, x, index):
        ctx.index, ctx.shape = index, x.shape
        ctx.is_view = is_basic(index)
        out = x.data[index]
        if ctx.is_view and type(out) is not np.ndarray:  # x[0] of a vector: numpy copies out a
            out = x.data[(index if isinstance(index, tuple) else (index,)) + (Ellipsis,)]  # scalar; a 0-d view
        return out

    @staticmethod
    def backward(ctx, grad):
        # each selected element sends its gradient back to where it came from
        return dual.apply(IndexScatter, (grad,), ctx.index, ctx.shape), None


class IndexScatter(Op):
    """y = zeros(shape) with y[index] += g (repeated indices add up). The adjoint of Index."""

    @staticmethod
    def forward(ctx, g, index, shape):
        ctx.index = index
        out = np.zeros(shape, dtype=g.dtype)
        if is_basic(index):
            out[index] = g.data
        else:
            np.add.at(out, index, g.data)
        return out

    @staticmethod
    def backward(ctx, grad):
        # linear in g: read the gradient back at the same positions
        return grad[ctx.index], None, None


def index(x: Tensor, index: Any) -> Tensor:
    """``x[index]`` with numpy semantics; the gradient scatters back, repeats accumulate."""
    return Index.apply(x, normalize_index(index))
