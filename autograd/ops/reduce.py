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
from autograd.ops import either
from autograd.tensor import Tensor, get_default_dtype, values_of


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
    a Tensor or a numpy array (see ``autograd.ops.either``).
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
    if acc is np.float64:
        return long_sum(x, dims, keepdims=True).reshape(shape).astype(dtype, copy=False)
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
        return either.cast(either.expand(grad, ctx.shape), ctx.dtype), None, None


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


def long_sum(a: np.ndarray, dims: tuple[int, ...], keepdims: bool = False) -> np.ndarray:
    """A long float32 sum over ``dims`` as accurate as PyTorch's and nearly as fast as numpy's:
    the trailing contiguous axes first (numpy sums them pairwise, in float32), then the rest,
    in float64 only when that rest is itself long (a conv bias gradient: 1,024 pixels pairwise,
    then 64 images)."""
    dims = tuple(sorted(d % a.ndim for d in dims))
    k = 0
    while k < len(dims) and dims[len(dims) - 1 - k] == a.ndim - 1 - k:
        k += 1  # how many of the reduced axes are the trailing ones
    if a.flags.c_contiguous and k:
        inner = a.reshape(a.shape[: a.ndim - k] + (-1,)).sum(axis=-1)
        outer = dims[: len(dims) - k]
        long = math.prod([a.shape[d] for d in outer]) > LONG_SUM
        total = np.sum(inner, axis=outer, dtype=np.float64 if long else None) if outer else inner
    else:
        total = np.sum(a, axis=dims, dtype=np.float64)
    total = np.asarray(total).astype(a.dtype, copy=False)
    return total.reshape([1 if i in dims else n for i, n in enumerate(a.shape)]) if keepdims else total


class Sum(Op):
    """y = sum of x over ``dims``. Shapes: x (*) -> y (* without dims, or 1s with keepdim)."""

    @staticmethod
    def forward(ctx, x, dims, keepdim):
        ctx.shape, ctx.dims, ctx.keepdim = x.shape, dims, keepdim
        a = x._data
        acc = accumulator(a, dims)
        if acc is np.float64:  # a long float32 sum along a strided axis
            return np.asarray(long_sum(a, dims, keepdim), order="C")
        total = np.sum(a, axis=dims, keepdims=keepdim, dtype=acc)
        if a.dtype.kind == "f" and total.dtype != a.dtype:
            total = total.astype(a.dtype)  # rounded once, at the end
        return np.asarray(total, order="C")  # (numpy keeps a permuted input's layout; PyTorch does not)

    @staticmethod
    def backward(ctx, grad):
        # dy/dx_i = 1: every summed element receives the upstream gradient
        if not ctx.keepdim:
            grad = grad.reshape(_kept_shape(ctx.shape, ctx.dims))
        return either.expand(grad, ctx.shape), None, None


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
        return either.expand(grad, ctx.shape) / ctx.count, None, None


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
        centered = x - either.mean_keep(x, ctx.dims)
        if ctx.denominator <= 0:  # n <= correction: (2 / 0) (x_i - mean) is nan at x_i == mean, else +-inf
            c = either.data(centered)
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
        return either.keep(grad, share > 0) * share.astype(grad.dtype), None, None, None


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
            grad = either.unsqueeze(grad, ctx.dim)
        return either.keep(grad, onehot), None, None, None


class MaxResult(NamedTuple):
    """``(values, indices)`` as returned by ``max(dim)``/``min(dim)``, like PyTorch's."""

    values: Tensor
    indices: Tensor


def sum(x: Tensor, dim: int | tuple[int, ...] | None = None, keepdim: bool = False, **aliases: Any) -> Tensor:
    """Sum of elements over ``dim`` (all when None); ``axis=``/``keepdims=`` are accepted too."""
    if aliases:
        dim, keepdim = reduce_args("sum", dim, keepdim, aliases)
    return Sum.apply(x, normalize_dims(_all_if_empty(dim), x.ndim), keepdim)


def mean(x: Tensor, dim: int | tuple[int, ...] | None = None, keepdim: bool = False, **aliases: Any) -> Tensor:
    """Mean over ``dim`` (all when None); ``axis=``/``keepdims=`` are accepted too."""
    if aliases:
        dim, keepdim = reduce_args("mean", dim, keepdim, aliases)
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


def _amax(x: Tensor, dim: int | tuple[int, ...], keepdim: bool, largest: bool) -> Tensor:
    name = "amax" if largest else "amin"
    dims = normalize_dims(_all_if_empty(dim), x.ndim)
    for d in dims:
        if x.shape[d] == 0:
            raise IndexError(f"{name}(): Expected reduction dim {d} to have non-zero size.")
    if x.numel() == 0:  # an empty result (another dimension is 0): a sum has its shape and graph
        return Sum.apply(x, dims, keepdim)
    return Amax.apply(x, dims, keepdim, largest)


def amax(x: Tensor, dim: int | tuple[int, ...] = (), keepdim: bool = False) -> Tensor:
    """Largest value over ``dim`` (every dimension by default: ``()``); ties share the gradient.

    Shapes: x (*) -> y (* without dim, or 1s with keepdim). Unlike ``max(dim)`` it returns the
    values only, and may reduce several dimensions at once.
    """
    return _amax(x, dim, keepdim, True)


def amin(x: Tensor, dim: int | tuple[int, ...] = (), keepdim: bool = False) -> Tensor:
    """Smallest value over ``dim`` (every dimension by default); ties share the gradient."""
    return _amax(x, dim, keepdim, False)


def logsumexp(x: Tensor, dim: int | tuple[int, ...], keepdim: bool = False) -> Tensor:
    """log(sum(exp(x))) over ``dim``, computed without overflow. Shapes: x (*) -> y (* reduced).

    log sum exp(x) = m + log sum exp(x - m) for any constant m; with m the maximum no exp()
    overflows. m is a constant (no gradient flows through it), so dy/dx = exp(x - m) / sum
    exp(x - m) = softmax(x) either way. Integer inputs become the default float dtype.
    """
    if x.dtype.kind not in "fc":
        x = x.to(get_default_dtype())
    dims = normalize_dims(_all_if_empty(dim), x.ndim)
    with np.errstate(invalid="ignore"):
        m = np.max(x._data, axis=dims, keepdims=True, initial=-np.inf)
    m[~np.isfinite(m)] = 0.0  # every element -inf (or an inf, or empty): shift by nothing
    y = (x - Tensor._make(m)).exp().sum(dims, keepdim=True).log() + Tensor._make(m)
    return y if keepdim else y.squeeze(dims)


# ---------------------------------------------------------------- more reductions


def reduce_args(name: str, dim: Any, keepdim: bool, kwargs: dict) -> tuple[Any, bool]:
    """PyTorch's numpy-style aliases ``axis=`` (for ``dim``) and ``keepdims=``; ``out=`` refused."""
    if "out" in kwargs:
        raise TypeError(f"{name}(): dagrad does not support out=...; assign the result instead: y = x.{name}(...)")
    unknown = set(kwargs) - {"axis", "keepdims"}
    if unknown:
        raise TypeError(f"{name}() got an unexpected keyword argument {sorted(unknown)[0]!r}")
    if "axis" in kwargs:
        if dim is not None:
            raise TypeError(f"{name}() got both dim and its alias axis; pass one")
        dim = kwargs["axis"]
    if "keepdims" in kwargs:
        keepdim = kwargs["keepdims"]
    return dim, bool(keepdim)


def std(
    x: Tensor,
    dim: int | tuple[int, ...] | None = None,
    unbiased: bool = True,
    keepdim: bool = False,
    *,
    correction: int | None = None,
) -> Tensor:
    """Standard deviation over ``dim``: ``sqrt(var(...))``, unbiased (n - 1) by default."""
    if x.dtype.kind not in "fc":
        raise TypeError(f"std() needs a floating-point tensor, got {x.dtype}; use x.float()")
    return var(x, dim, unbiased, keepdim, correction=correction).sqrt()


class Prod(Op):
    """y = product of x over one dimension ``dim`` (None: all elements, flattened).

    Shapes: x (*) -> y (* without dim, or 1 with keepdim)."""

    @staticmethod
    def forward(ctx, x, dim, keepdim):
        a = x._data if dim is not None else x._data.reshape(-1)
        d = 0 if dim is None else dim
        ctx.save_for_backward(x)
        ctx.dim, ctx.keepdim, ctx.flat = d, keepdim, dim is None
        dtype = np.int64 if a.dtype.kind in "biu" else None
        return np.asarray(np.prod(a, axis=d, keepdims=keepdim and dim is not None, dtype=dtype))

    @staticmethod
    def backward(ctx, grad):
        # dy/dx_i = product of the other elements (computed without dividing: exact at zeros)
        (x,) = ctx.saved_tensors
        d = ctx.dim
        xf = x.reshape(-1) if ctx.flat else x
        if not ctx.keepdim or ctx.flat:
            grad = either.unsqueeze(grad.reshape(()) if ctx.flat else grad, d)
        if isinstance(xf, Tensor):  # create_graph: the product divided by x_i, differentiable
            if (xf._data == 0).any():
                raise RuntimeError("dagrad computes the double backward of prod() only for inputs without zeros")
            g = grad * xf.prod(d, keepdim=True) / xf
        else:  # the products of the elements before and after each one (exclusive cumulative products)
            ones = np.ones(xf.shape[:d] + (1,) + xf.shape[d + 1 :], xf.dtype)
            before = np.cumprod(np.concatenate([ones, np.delete(xf, -1, d)], d), d)
            after = np.flip(np.cumprod(np.flip(np.concatenate([np.delete(xf, 0, d), ones], d), d), d), d)
            g = grad * before * after
        return (g.reshape(x.shape) if ctx.flat else g), None, None


def prod(x: Tensor, dim: int | None = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:
    """Product of all elements, or over one dimension ``dim``. Integers multiply in int64."""
    if dtype is not None:
        x = x.to(dtype)
    d = None if dim is None else normalize_dims(dim, x.ndim)
    if d is not None and len(d) != 1:
        raise TypeError(f"prod() takes one dim (an int), got {dim!r}")
    return Prod.apply(x, None if d is None else d[0], keepdim)


class Cumsum(Op):
    """y_i = x_0 + ... + x_i along ``dim``. Shapes: x (*) -> y (*)."""

    @staticmethod
    def forward(ctx, x, dim):
        ctx.dim, ctx.dtype = dim, x.dtype
        dtype = np.int64 if x.dtype.kind in "biu" else None
        return np.cumsum(x._data, axis=dim, dtype=dtype)

    @staticmethod
    def backward(ctx, grad):
        # dL/dx_j = sum over i >= j of g_i: a cumulative sum of the gradient from the end
        d = ctx.dim
        if isinstance(grad, Tensor):
            return grad.flip(d).cumsum(d).flip(d), None
        return np.flip(np.cumsum(np.flip(grad, d), d), d), None


def cumsum(x: Tensor, dim: int, *, dtype: Any = None) -> Tensor:
    """Running sum along ``dim`` (integers and booleans sum in int64)."""
    if dtype is not None:
        x = x.to(dtype)
    (d,) = normalize_dims(dim, x.ndim) or (0,)
    if x.ndim == 0:
        return x * 1
    return Cumsum.apply(x, d)


class Norm2(Op):
    """y = sqrt(sum of x^2) over ``dims`` (the Euclidean norm). Shapes: x (*) -> y (* reduced)."""

    @staticmethod
    def forward(ctx, x, dims, keepdim):
        y = np.sqrt(np.sum(x._data * x._data, axis=dims, keepdims=True))
        ctx.save_for_backward(x, y)
        ctx.dims, ctx.keepdim = dims, keepdim
        return y if keepdim else np.squeeze(y, axis=dims)

    @staticmethod
    def backward(ctx, grad):
        # dy/dx_i = x_i / y (0 where y == 0, as PyTorch)
        x, y = ctx.saved_tensors
        if not ctx.keepdim:
            grad = grad.reshape(_kept_shape(x.shape, ctx.dims))
        with np.errstate(divide="ignore", invalid="ignore"):
            g = grad * (x / y)
        return either.keep(g, np.broadcast_to(either.data(y) != 0, x.shape)), None, None


def norm(x: Tensor, p: float | str = "fro", dim: int | tuple[int, ...] | None = None, keepdim: bool = False) -> Tensor:
    """The vector p-norm over ``dim`` (all elements when None): p = 2 or 'fro' (default), 1, inf,
    -inf, 0 (the count of non-zeros) or any other number, (sum |x|^p)^(1/p)."""
    if x.dtype.kind not in "fc":
        raise TypeError(f"norm(): input dtype should be floating point, but got {x.dtype}; use x.float()")
    dims = normalize_dims(_all_if_empty(dim), x.ndim)
    if p == "fro" or p == 2:
        return Norm2.apply(x, dims, keepdim)
    if isinstance(p, str):
        raise ValueError(f"norm(): p must be a number or 'fro', got {p!r}")
    if p == math.inf or p == -math.inf:
        return Amax.apply(x.abs(), dims, keepdim, p > 0)
    if p == 0:
        return (x != 0).to(x.dtype).sum(dims, keepdim)
    if p == 1:
        return x.abs().sum(dims, keepdim)
    return (x.abs() ** p).sum(dims, keepdim) ** (1.0 / p)


class SortResult(NamedTuple):
    """``(values, indices)`` as returned by ``sort`` and ``topk``, like PyTorch's."""

    values: Tensor
    indices: Tensor


def argsort(x: Tensor, dim: int = -1, descending: bool = False, stable: bool = False) -> Tensor:
    """The indices that sort ``x`` along ``dim`` (ties keep their order)."""
    if x.ndim == 0:
        normalize_dims(dim, 0)
        return Tensor._make(np.array(0))
    (d,) = normalize_dims(dim, x.ndim)
    a = x._data
    if descending:  # the largest first (ties in their original order): a stable sort of the negated order
        order = np.argsort(np.flip(a, d), axis=d, kind="stable")
        order = np.flip(x.shape[d] - 1 - order, d)
    else:
        order = np.argsort(a, axis=d, kind="stable")
    return Tensor._make(order.astype(np.int64))


def sort(x: Tensor, dim: int = -1, descending: bool = False, stable: bool = False) -> SortResult:
    """Values sorted along ``dim`` and their original indices; gradients go back to the positions."""
    from autograd.ops.indexing import gather

    indices = argsort(x, dim, descending, stable)
    if x.ndim == 0:
        return SortResult(x * 1, indices)
    return SortResult(gather(x, dim, indices), indices)


def topk(x: Tensor, k: int, dim: int = -1, largest: bool = True, sorted: bool = True) -> SortResult:
    """The ``k`` largest (or smallest) values along ``dim`` and their indices, largest first."""
    from autograd.ops.indexing import gather

    (d,) = normalize_dims(dim, x.ndim) or (0,)
    n = x.shape[d] if x.ndim else 1
    if not 0 <= k <= n:
        raise RuntimeError(f"selected index k out of range: k={k} for dimension {dim} of size {n}")
    if x.ndim == 0:
        return SortResult(x * 1, Tensor._make(np.array(0)))
    indices = argsort(x, d, descending=largest)._data
    indices = Tensor._make(np.ascontiguousarray(np.take(indices, range(k), axis=d)))
    return SortResult(gather(x, d, indices), indices)


def all(x: Tensor, dim: int | tuple[int, ...] | None = None, keepdim: bool = False) -> Tensor:
    """True where every element (over ``dim``) is non-zero."""
    if dim is None:
        return Tensor._make(np.asarray(x._data.all()))
    return Tensor._make(np.asarray(x._data.all(axis=normalize_dims(dim, x.ndim), keepdims=keepdim)))


def any(x: Tensor, dim: int | tuple[int, ...] | None = None, keepdim: bool = False) -> Tensor:
    """True where some element (over ``dim``) is non-zero."""
    if dim is None:
        return Tensor._make(np.asarray(x._data.any()))
    return Tensor._make(np.asarray(x._data.any(axis=normalize_dims(dim, x.ndim), keepdims=keepdim)))


def count_nonzero(x: Tensor, dim: int | tuple[int, ...] | None = None) -> Tensor:
    """How many elements (over ``dim``) are non-zero, as int64."""
    dims = normalize_dims(dim, x.ndim)
    return Tensor._make(np.asarray(np.count_nonzero(x._data, axis=dims), dtype=np.int64))


def _checked_pair(fn: str, x: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
    if not isinstance(x, Tensor) or not isinstance(y, Tensor):
        bad = "input" if not isinstance(x, Tensor) else "other"
        value = x if bad == "input" else y
        raise TypeError(f"{fn}(): argument '{bad}' must be Tensor, not {type(value).__name__}")
    return x._data, y._data


def isclose(x: Tensor, y: Tensor, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False) -> Tensor:
    """Elementwise ``|x - y| <= atol + rtol * |y|`` (a boolean tensor)."""
    a, b = _checked_pair("isclose", x, y)
    if a.dtype != b.dtype:
        raise RuntimeError(f"{a.dtype} did not match {b.dtype}: isclose() needs two tensors of one dtype")
    return Tensor._make(np.asarray(np.isclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan)))


def allclose(x: Tensor, y: Tensor, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False) -> bool:
    """True when every element pair is close: ``|x - y| <= atol + rtol * |y|``."""
    return bool(isclose(x, y, rtol, atol, equal_nan)._data.all())


def equal(x: Tensor, y: Tensor) -> bool:
    """True when both tensors have the same shape and the same values."""
    a, b = _checked_pair("equal", x, y)
    return a.shape == b.shape and bool((a == b).all())


def isnan(x: Tensor) -> Tensor:
    """True where an element is NaN."""
    return Tensor._make(np.isnan(x._data) if x.dtype.kind == "f" else np.zeros(x.shape, bool))


def isinf(x: Tensor) -> Tensor:
    """True where an element is +inf or -inf."""
    return Tensor._make(np.isinf(x._data) if x.dtype.kind == "f" else np.zeros(x.shape, bool))


def isfinite(x: Tensor) -> Tensor:
    """True where an element is neither NaN nor infinite."""
    return Tensor._make(np.isfinite(x._data) if x.dtype.kind == "f" else np.ones(x.shape, bool))


def argmax(x: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:
    """Index of the largest value (into the flattened tensor when ``dim`` is None)."""
    return _arg(np.argmax, x, dim, keepdim)


def argmin(x: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:
    """Index of the smallest value (into the flattened tensor when ``dim`` is None)."""
    return _arg(np.argmin, x, dim, keepdim)


def _arg(fn: Any, x: Tensor, dim: int | None, keepdim: bool) -> Tensor:
    if dim is None:  # the index into the flattened tensor; keepdim keeps every dimension as 1
        index = np.asarray(fn(x._data))
        return Tensor._make(index.reshape((1,) * x.ndim) if keepdim else index)
    (d,) = normalize_dims(dim, x.ndim) or (0,)
    if x.ndim == 0:
        return Tensor._make(np.array(0))
    return Tensor._make(np.asarray(fn(x._data, axis=d, keepdims=keepdim)))


# ---------------------------------------------------------------- unique, bincount


def unique(
    x: Tensor,
    sorted: bool = True,
    return_inverse: bool = False,
    return_counts: bool = False,
    dim: int | None = None,
) -> Any:
    """The distinct elements of x in ascending order (distinct slices along ``dim`` if given),
    with ``return_inverse`` where each element of x went (x's shape) and ``return_counts`` how
    often each occurs. Not differentiable. dagrad always sorts (``sorted=False`` too)."""
    a = values_of(x)
    if dim is not None:
        (dim,) = normalize_dims(dim, a.ndim)
    values, inverse, counts = np.unique(a, return_inverse=True, return_counts=True, axis=dim)
    out = [Tensor._make(values)]
    if return_inverse:
        out.append(Tensor._make(inverse.reshape(a.shape if dim is None else -1).astype(np.int64)))
    if return_counts:
        out.append(Tensor._make(counts.astype(np.int64)))
    return out[0] if len(out) == 1 else tuple(out)


def bincount(x: Tensor, weights: Tensor | None = None, minlength: int = 0) -> Tensor:
    """How often each value 0, 1, ..., max(x) occurs in the 1-d non-negative integer x (at least
    ``minlength`` bins); with ``weights``, the sum of the weights of each value's elements instead
    (float32 weights give float32, any other weights float64). Not differentiable."""
    a = values_of(x)
    if a.dtype.kind not in "iu":
        raise NotImplementedError(f'"bincount_cpu" not implemented for {a.dtype}: bincount counts integers')
    if a.ndim != 1 or (a.size and a.min() < 0):
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    if weights is None:
        return Tensor._make(np.bincount(a, minlength=minlength).astype(np.int64))
    w = values_of(weights)
    if w.shape != a.shape:
        raise RuntimeError("weights should be 1-d and have the same length as input")
    dtype = np.float32 if w.dtype == np.float32 else np.float64
    return Tensor._make(np.bincount(a, weights=w, minlength=minlength).astype(dtype))
