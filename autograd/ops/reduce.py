"""Reductions: sum, mean, var, max/min, and ``unbroadcast`` (the adjoint of broadcasting).

Broadcasting copies an input along new or size-1 dimensions, so its vector-Jacobian product
adds the copies back up: every op that broadcasts calls ``unbroadcast`` in its backward.
"""

from __future__ import annotations

import functools
import math
from typing import Any, NamedTuple

import numpy as np

from autograd.function import Op
from autograd.grad_mode import is_grad_enabled
from autograd.ops import dual
from autograd.tensor import Tensor


def normalize_dims(dim: int | tuple[int, ...] | list[int] | None, ndim: int) -> tuple[int, ...]:
    """Turn ``dim`` (None = all, an int, or a tuple; negatives allowed) into sorted axes."""
    if dim is None:
        return tuple(range(ndim))
    if isinstance(dim, (int, np.integer)):
        dims = (dim,)
    elif isinstance(dim, (tuple, list)):
        dims = tuple(dim)
    else:
        raise TypeError(f"dim must be an int or a tuple of ints, got {dim!r}")
    out = []
    n = ndim or 1  # a 0-d tensor accepts dim 0 and -1, as in PyTorch
    for d in dims:
        if not isinstance(d, (int, np.integer)):
            raise TypeError(f"dim must be an int or a tuple of ints, got {dim!r}")
        if not -n <= d < n:
            raise IndexError(
                f"Dimension out of range: got dim={d} for a tensor with {ndim} dimension(s) "
                f"(expected to be in range [{-n}, {n - 1}])"
            )
        out.append(d % ndim if ndim else 0)
    if len(set(out)) != len(out):
        raise ValueError(f"dim {dim} names the same dimension twice")
    return tuple(sorted(out)) if ndim else ()


def _all_if_empty(dim: Any) -> Any:
    """``dim=()`` or ``[]`` in a reduction means every dimension, as in PyTorch."""
    return None if isinstance(dim, (tuple, list)) and not dim else dim


def _kept_shape(shape: tuple[int, ...], dims: tuple[int, ...]) -> tuple[int, ...]:
    """``shape`` with every reduced dimension set to 1 (the keepdim=True shape)."""
    return tuple(1 if i in dims else n for i, n in enumerate(shape))


def unbroadcast(grad: Any, shape: tuple[int, ...], dtype: np.dtype) -> Any:
    """Sum ``grad`` down to an input's ``shape`` and cast it to the input's ``dtype``.

    Shapes: grad (broadcast shape) -> shape. Call it in the backward of every op that
    broadcasts its inputs; it returns ``grad`` itself when nothing was broadcast. ``grad`` is
    a Tensor or a numpy array (see ``autograd.ops.dual``).
    """
    if grad.shape == shape and (grad.dtype is dtype or grad.dtype == dtype):  # (``is``: the usual, fast answer)
        return grad
    if isinstance(grad, Tensor):
        if not is_grad_enabled():  # nothing to record: the sum itself
            return Tensor._make(_sum_to(grad._data, shape, dtype))
        return SumTo.apply(grad, shape, dtype)
    return _sum_to(grad, shape, dtype)  # a first-order backward on numpy arrays


def _sum_to(x: np.ndarray, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
    if x.ndim == 2 and shape == x.shape[1:] and x.shape[0] <= ROWS_BY_DOT and x.dtype.char in "fd":
        # rows summed into a vector (a bias gradient): ones @ x is one BLAS call, while
        # numpy's reduce costs about 1 us more on small arrays
        out = _ones(x.shape[0], x.dtype).dot(x)
        return out if out.dtype == dtype else out.astype(dtype)
    dims = _broadcast_dims(x.shape, shape)
    acc = accumulator(x, dims) if x.dtype.kind == "f" else None  # (float16 and long float32 sums)
    if shape and len(dims) == x.ndim - len(shape):  # only leading dimensions were added: sum them away
        out = np.add.reduce(x, axis=dims, dtype=acc)
    else:
        out = np.add.reduce(x, axis=dims, keepdims=True, dtype=acc).reshape(shape)
    return out if out.dtype == dtype else out.astype(dtype)


ROWS_BY_DOT = 4096  # _sum_to sums at most this many rows with a dot product


@functools.lru_cache(maxsize=64)
def _ones(n: int, dtype: np.dtype) -> np.ndarray:
    ones = np.ones(n, dtype)
    ones.flags.writeable = False  # shared by every caller
    return ones


@functools.lru_cache(maxsize=1024)
def _broadcast_dims(big: tuple[int, ...], shape: tuple[int, ...]) -> tuple[int, ...]:
    """The dimensions of ``big`` that broadcasting ``shape`` to it added or stretched."""
    lead = len(big) - len(shape)
    return tuple(range(lead)) + tuple(lead + i for i, n in enumerate(shape) if n == 1 and big[lead + i] != 1)


class SumTo(Op):
    """y = x summed over the dimensions that broadcasting added or stretched, cast to dtype.

    Shapes: x (broadcast shape) -> y (shape). The adjoint of broadcasting.
    """

    @staticmethod
    def forward(ctx, x, shape, dtype):
        ctx.shape, ctx.dtype = x.shape, x.dtype
        return _sum_to(x._data, shape, dtype)

    @staticmethod
    def backward(ctx, grad):
        # each copy made by broadcasting receives the gradient of the sum
        return dual.cast(dual.expand(grad, ctx.shape), ctx.dtype), None, None


# Float32 sums of more elements than this along a strided axis accumulate in float64. numpy adds
# along such an axis one element at a time, so its float32 error grows like n * 6e-8 (5e-5 relative
# for 200,000 rows); PyTorch's pairwise sums stay near 6e-8. Sums over the trailing axes of a
# C-contiguous array are pairwise in numpy too (accurate), and short sums are accurate enough.
LONG_SUM = 4096


def accumulator(a: np.ndarray, dims: tuple[int, ...]) -> Any:
    """The dtype a sum of ``a`` over ``dims`` accumulates in, as PyTorch: int64 for integers and
    bools, float32 for float16, float64 for long float32 sums; None: ``a``'s own."""
    if a.dtype.kind in "biu":
        return np.int64
    if a.dtype == np.float16:
        return np.float32
    if a.dtype == np.float32 and math.prod([a.shape[d] for d in dims]) > LONG_SUM:
        trailing = sorted(d % a.ndim for d in dims) == list(range(a.ndim - len(dims), a.ndim))
        if not (trailing and a.flags.c_contiguous):
            return np.float64
    return None


class Sum(Op):
    """y = sum of x over ``dims``. Shapes: x (*) -> y (* without dims, or 1s with keepdim)."""

    @staticmethod
    def forward(ctx, x, dims, keepdim):
        ctx.shape, ctx.dims, ctx.keepdim = x.shape, dims, keepdim
        a = x._data
        total = np.sum(a, axis=dims, keepdims=keepdim, dtype=accumulator(a, dims))
        if a.dtype.kind == "f" and total.dtype != a.dtype:
            total = total.astype(a.dtype)  # rounded once, at the end
        return np.asarray(total, order="C")  # (numpy keeps a permuted input's layout; PyTorch does not)

    @staticmethod
    def backward(ctx, grad):
        # dy/dx_i = 1: every summed element receives the upstream gradient
        if not ctx.keepdim:
            grad = grad.reshape(_kept_shape(ctx.shape, ctx.dims))
        return dual.expand(grad, ctx.shape), None, None


class Mean(Op):
    """y = mean of x over ``dims``. Shapes: x (*) -> y (* reduced)."""

    @staticmethod
    def forward(ctx, x, dims, keepdim):
        ctx.shape, ctx.dims, ctx.keepdim = x.shape, dims, keepdim
        ctx.count = math.prod([x.shape[d] for d in dims])
        a = x._data
        mean = np.mean(a, axis=dims, keepdims=keepdim, dtype=accumulator(a, dims))
        return np.asarray(mean, dtype=a.dtype if a.dtype.kind == "f" else None, order="C")

    @staticmethod
    def backward(ctx, grad):
        # dy/dx_i = 1/n
        if not ctx.keepdim:
            grad = grad.reshape(_kept_shape(ctx.shape, ctx.dims))
        return dual.expand(grad, ctx.shape) / ctx.count, None, None


class Var(Op):
    """y = sum((x - mean)^2) / (n - correction) over ``dims``. Shapes: x (*) -> y (* reduced)."""

    @staticmethod
    def forward(ctx, x, dims, correction, keepdim):
        ctx.save_for_backward(x)
        ctx.dims, ctx.keepdim = dims, keepdim
        ctx.denominator = math.prod([x.shape[d] for d in dims]) - correction
        a = x._data
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.var(a, axis=dims, ddof=correction, keepdims=keepdim, dtype=accumulator(a, dims)).astype(a.dtype)

    @staticmethod
    def backward(ctx, grad):
        # dy/dx_i = 2 (x_i - mean) / (n - correction)
        (x,) = ctx.saved_tensors
        if not ctx.keepdim:
            grad = grad.reshape(_kept_shape(x.shape, ctx.dims))
        centered = x - dual.mean_keep(x, ctx.dims)
        if ctx.denominator <= 0:  # n <= correction: (2 / 0) (x_i - mean) is nan at x_i == mean, else +-inf
            c = dual.data(centered)
            local = np.where(c == 0, np.nan, np.copysign(np.inf, c))
            return grad * local.astype(x.dtype), None, None, None
        return grad * centered * (2.0 / ctx.denominator), None, None, None


class Amax(Op):
    """y = max (or min) of x over ``dims``; ties share the gradient equally (as PyTorch)."""

    @staticmethod
    def forward(ctx, x, dims, keepdim, largest):
        if x.numel() == 0:
            raise RuntimeError(f"max()/min() of an empty tensor of shape {x.shape}")
        y = (np.max if largest else np.min)(x._data, axis=dims, keepdims=True)
        hits = (x._data == y) | (np.isnan(x._data) & np.isnan(y))  # a NaN maximum is where the NaN is
        ctx.save_for_backward(hits / hits.sum(axis=dims, keepdims=True))
        ctx.dims, ctx.keepdim = dims, keepdim
        return y if keepdim else np.squeeze(y, axis=dims)

    @staticmethod
    def backward(ctx, grad):
        # dy/dx_i = 1/k for the k elements equal to the max, 0 elsewhere
        (share,) = ctx.saved_tensors
        if not ctx.keepdim:
            grad = grad.reshape(_kept_shape(share.shape, ctx.dims))
        return dual.keep(grad, share > 0) * share.astype(grad.dtype), None, None, None


class TakeAlongDim(Op):
    """y = x at one index per slice along ``dim`` (the values of ``max(dim)``/``min(dim)``).

    Shapes: x (*, n, *), index (*, *) of ints -> y (*, *) (or (*, 1, *) with keepdim).
    """

    @staticmethod
    def forward(ctx, x, index, dim, keepdim):
        kept = np.expand_dims(index, dim)
        positions = np.arange(x.shape[dim]).reshape((-1,) + (1,) * (x.ndim - 1 - dim))
        ctx.save_for_backward(positions == kept)  # one-hot of the chosen elements
        ctx.dim, ctx.keepdim = dim, keepdim
        y = np.take_along_axis(x._data, kept, axis=dim)
        return y if keepdim else np.squeeze(y, dim)

    @staticmethod
    def backward(ctx, grad):
        # dy/dx = one-hot at the chosen index
        (onehot,) = ctx.saved_tensors
        if not ctx.keepdim:
            grad = dual.unsqueeze(grad, ctx.dim)
        return dual.keep(grad, onehot), None, None, None


class MaxResult(NamedTuple):
    """``(values, indices)`` as returned by ``max(dim)``/``min(dim)``, like PyTorch's."""

    values: Tensor
    indices: Tensor


def sum(x: Tensor, dim: int | tuple[int, ...] | None = None, keepdim: bool = False) -> Tensor:
    """Sum of elements over ``dim`` (all when None)."""
    return Sum.apply(x, normalize_dims(_all_if_empty(dim), x.ndim), keepdim)


def mean(x: Tensor, dim: int | tuple[int, ...] | None = None, keepdim: bool = False) -> Tensor:
    """Mean over ``dim`` (all when None)."""
    if x.dtype.kind not in "fc":
        raise TypeError(f"mean() needs a floating-point tensor, got {x.dtype}; use x.float()")
    return Mean.apply(x, normalize_dims(_all_if_empty(dim), x.ndim), keepdim)


def var(
    x: Tensor,
    dim: int | tuple[int, ...] | None = None,
    unbiased: bool = True,
    keepdim: bool = False,
    *,
    correction: int | None = None,
) -> Tensor:
    """Variance over ``dim``; unbiased (divides by n - 1) by default, as PyTorch."""
    if correction is None:
        correction = 1 if unbiased else 0
    if x.dtype.kind not in "fc":
        raise TypeError(f"var() needs a floating-point tensor, got {x.dtype}; use x.float()")
    return Var.apply(x, normalize_dims(_all_if_empty(dim), x.ndim), correction, keepdim)


def _extreme(x, dim, keepdim, largest):
    if dim is None:
        return Amax.apply(x, normalize_dims(None, x.ndim), False, largest)
    (d,) = normalize_dims(dim, x.ndim) or (0,)
    if x.ndim == 0:
        return MaxResult(x * 1, Tensor._make(np.array(0)))
    if x.shape[d] == 0:
        raise IndexError(f"max()/min() over dim {dim} of size 0 in a tensor of shape {x.shape}")
    index = (np.argmax if largest else np.argmin)(x._data, axis=d)
    values = TakeAlongDim.apply(x, index, d, keepdim)
    indices = Tensor._make(np.expand_dims(index, d) if keepdim else index)
    return MaxResult(values, indices)


def max(x: Tensor, dim: int | None = None, keepdim: bool = False) -> Any:
    """Largest element; with ``dim``, a ``(values, indices)`` pair along that dimension."""
    if isinstance(dim, Tensor):
        from autograd.ops.pointwise import maximum

        return maximum(x, dim)
    return _extreme(x, dim, keepdim, True)


def min(x: Tensor, dim: int | None = None, keepdim: bool = False) -> Any:
    """Smallest element; with ``dim``, a ``(values, indices)`` pair along that dimension."""
    if isinstance(dim, Tensor):
        from autograd.ops.pointwise import minimum

        return minimum(x, dim)
    return _extreme(x, dim, keepdim, False)
