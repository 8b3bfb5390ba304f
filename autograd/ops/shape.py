"""Shape ops: reshape/view/flatten/squeeze/unsqueeze, transpose, permute, expand, cast, pad,
cat, stack. Their backward only moves gradients around: it applies the inverse movement."""

from __future__ import annotations

import math
import operator
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from autograd.function import Op
from autograd.ops import either
from autograd.ops.reduce import normalize_dims, unbroadcast
from autograd.tensor import Tensor, as_dtype, values_of


class Reshape(Op):
    """y = x with a new shape (same elements, row-major order). Shapes: x (*) -> y (shape)."""

    is_view = True

    @staticmethod
    def forward(ctx, x, shape):
        ctx.shape = x.shape
        return x._data.reshape(shape)

    @staticmethod
    def backward(ctx, grad):
        # the inverse reshape
        return grad.reshape(ctx.shape), None


class Transpose(Op):
    """y = x with dimensions ``dim0`` and ``dim1`` swapped."""

    is_view = True

    @staticmethod
    def forward(ctx, x, dim0, dim1):
        ctx.dims = (dim0, dim1)
        return np.swapaxes(x._data, dim0, dim1)

    @staticmethod
    def backward(ctx, grad):
        # swapping back is its own inverse
        return either.swap(grad, *ctx.dims), None, None


class Permute(Op):
    """y = x with dimensions reordered: y.shape[i] = x.shape[dims[i]]."""

    is_view = True

    @staticmethod
    def forward(ctx, x, dims):
        ctx.inverse = tuple(np.argsort(dims))
        return np.transpose(x._data, dims)

    @staticmethod
    def backward(ctx, grad):
        # the inverse permutation
        return either.permute(grad, ctx.inverse), None


class Expand(Op):
    """y = x broadcast to ``shape`` without copying. Shapes: x (*) -> y (shape)."""

    is_view = True

    @staticmethod
    def forward(ctx, x, shape):
        ctx.x_like = (x.shape, x.dtype)
        return np.broadcast_to(x._data, shape)

    @staticmethod
    def backward(ctx, grad):
        # the adjoint of broadcasting is summing the copies
        return unbroadcast(grad, *ctx.x_like), None


class Cast(Op):
    """y = x converted to ``dtype``. Shapes: x (*) -> y (*)."""

    @staticmethod
    def forward(ctx, x, dtype):
        ctx.dtype = x.dtype
        return x._data.astype(dtype)

    @staticmethod
    def backward(ctx, grad):
        # dy/dx = 1; the gradient goes back to the input's dtype
        return either.cast(grad, ctx.dtype), None


class Clone(Op):
    """y = a copy of x with its own memory. Shapes: x (*) -> y (*)."""

    @staticmethod
    def forward(ctx, x):
        return x._data.copy()

    @staticmethod
    def backward(ctx, grad):
        # dy/dx = 1
        return grad


class Pad(Op):
    """y = x with constant ``value`` borders. ``widths`` holds (before, after) per dimension."""

    @staticmethod
    def forward(ctx, x, widths, value):
        ctx.inner = tuple(slice(b, b + n) for (b, _), n in zip(widths, x.shape))
        if x.ndim == 0:  # nothing to pad (np.pad rejects 0-d arrays)
            return x._data.copy()
        return np.pad(x._data, widths, mode="constant", constant_values=value)

    @staticmethod
    def backward(ctx, grad):
        # the border does not depend on x: cut the gradient back to the inner region
        return grad[ctx.inner], None, None


class Cat(Op):
    """y = the inputs joined along ``dim``. Shapes: (*, n_i, *) each -> (*, sum n_i, *)."""

    @staticmethod
    def forward(ctx, *xs, dim):
        ctx.dim, ctx.dtypes = dim, [x.dtype for x in xs]
        ctx.bounds = np.cumsum([0] + [x.shape[dim] for x in xs])
        return np.asarray(np.concatenate([x._data for x in xs], axis=dim), order="C")  # (contiguous, as PyTorch's)

    @staticmethod
    def backward(ctx, grad):
        # each input gets back its own slab of the gradient (in its own dtype, if cat promoted it)
        lead = (slice(None),) * ctx.dim
        return tuple(
            either.cast(grad[lead + (slice(int(a), int(b)),)], dtype) if need else None
            for a, b, dtype, need in zip(ctx.bounds[:-1], ctx.bounds[1:], ctx.dtypes, ctx.needs_input_grad)
        )


def _shape_arg(shape: tuple) -> tuple[int, ...]:
    """Accept ``f(2, 3)`` as well as ``f((2, 3))``, as PyTorch does."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    try:
        return tuple([operator.index(n) for n in shape])  # ints only: 2.9 is not truncated to 2
    except TypeError:
        raise TypeError(f"sizes must be ints, got {shape}") from None


def _resolve_shape(x: Tensor, shape: tuple[int, ...]) -> tuple[int, ...]:
    """Fill in one ``-1`` and check that the number of elements matches."""
    if shape.count(-1) > 1:
        raise ValueError(f"only one dimension can be -1, got shape {shape}")
    if shape == x.shape:
        return shape
    known = math.prod(n for n in shape if n != -1)
    if -1 in shape:
        if known == 0 or x.numel() % known:
            raise ValueError(f"shape {shape} is invalid for a tensor of shape {x.shape} ({x.numel()} elements)")
        shape = tuple(x.numel() // known if n == -1 else n for n in shape)
    if math.prod(shape) != x.numel() or any(n < 0 for n in shape):
        raise ValueError(f"shape {shape} is invalid for a tensor of shape {x.shape} ({x.numel()} elements)")
    return shape


def reshape(x: Tensor, *shape: int) -> Tensor:
    """Same elements in a new shape; one dimension may be -1 (inferred)."""
    shape = _resolve_shape(x, _shape_arg(shape))
    return Reshape.apply(x, shape)  # (a new tensor even for the same shape, as PyTorch)


def view(x: Tensor, *shape: int) -> Tensor:
    """Like ``reshape`` but guaranteed to share memory; raises when that needs a copy."""
    shape = _resolve_shape(x, _shape_arg(shape))
    try:
        np.reshape(x._data, shape, copy=False)
    except ValueError:
        raise RuntimeError(
            f"view{shape} of a tensor of shape {x.shape} would need a copy because its memory "
            "is not contiguous (e.g. after transpose); use reshape() instead"
        ) from None
    return Reshape.apply(x, shape)


def flatten(x: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Merge dimensions ``start_dim..end_dim`` into one."""
    if x.ndim == 0:
        return reshape(x, 1)
    start, end = normalize_dims(start_dim, x.ndim)[0], normalize_dims(end_dim, x.ndim)[0]
    if start > end:
        raise ValueError(f"flatten() has start_dim={start_dim} after end_dim={end_dim}")
    shape = x.shape[:start] + (math.prod(x.shape[start : end + 1]),) + x.shape[end + 1 :]
    return Reshape.apply(x, shape)


def squeeze(x: Tensor, dim: int | tuple[int, ...] | None = None) -> Tensor:
    """Remove dimensions of size 1 (all of them, or those in ``dim`` that have size 1)."""
    dims = normalize_dims(dim, x.ndim)
    return Reshape.apply(x, tuple(n for i, n in enumerate(x.shape) if not (i in dims and n == 1)))


def unsqueeze(x: Tensor, dim: int) -> Tensor:
    """Insert a dimension of size 1 at ``dim`` (``-1`` appends)."""
    if not -x.ndim - 1 <= dim <= x.ndim:
        raise IndexError(f"unsqueeze dim {dim} out of range for {x.ndim}-d tensor (allowed {-x.ndim - 1}..{x.ndim})")
    dim = dim % (x.ndim + 1)
    return Reshape.apply(x, x.shape[:dim] + (1,) + x.shape[dim:])


def transpose(x: Tensor, dim0: int, dim1: int) -> Tensor:
    """Swap two dimensions."""
    if x.ndim == 0:  # dims 0 and -1 are allowed (as PyTorch); a 0-d tensor is its own transpose
        normalize_dims(dim0, 0), normalize_dims(dim1, 0)
        return Reshape.apply(x, ())
    d0, d1 = (normalize_dims(d, x.ndim)[0] for d in (dim0, dim1))
    return Transpose.apply(x, d0, d1)


def permute(x: Tensor, *dims: int) -> Tensor:
    """Reorder all dimensions: ``x.permute(2, 0, 1)``."""
    dims = _shape_arg(dims)
    n = max(x.ndim, 1)
    if any(not -n <= d < n for d in dims):
        raise IndexError(f"Dimension out of range: permute{dims} for a tensor with {x.ndim} dimension(s)")
    if len(dims) != x.ndim or sorted(d % n for d in dims) != list(range(x.ndim)):
        raise ValueError(f"permute{dims} must list each of the {x.ndim} dimensions of shape {x.shape} once")
    return Permute.apply(x, tuple(d % x.ndim for d in dims))


def expand(x: Tensor, *sizes: int) -> Tensor:
    """Broadcast to a larger shape without copying; -1 keeps a dimension's size."""
    sizes = _shape_arg(sizes)
    lead = len(sizes) - x.ndim
    if lead < 0:
        raise ValueError(f"expand{sizes} has fewer dimensions than the tensor's shape {x.shape}")
    shape = tuple(x.shape[i - lead] if n == -1 and i >= lead else n for i, n in enumerate(sizes))
    for i, n in enumerate(x.shape):
        if n != 1 and n != shape[lead + i]:
            raise ValueError(
                f"expand{sizes}: dimension {i} of size {n} can only expand from size 1 (tensor shape {x.shape})"
            )
    return Expand.apply(x, shape)


def to_dtype(x: Tensor, dtype: Any) -> Tensor:
    """Convert to ``dtype`` (a differentiable cast between float types)."""
    dtype = as_dtype(dtype)
    if dtype == x.dtype:
        return x
    if dtype.kind not in "fc":  # an integer/bool copy has no gradient: nothing to record
        return Tensor._make(x._data.astype(dtype))
    return Cast.apply(x, dtype)


def clone(x: Tensor) -> Tensor:
    """A copy with its own memory; the gradient flows through."""
    return Clone.apply(x)


def pad(x: Tensor, pad: Sequence[int], mode: str = "constant", value: float = 0.0) -> Tensor:
    """Pad the last dimensions: ``pad = (left, right, top, bottom, ...)`` as in PyTorch.

    Pairs start from the last dimension. ``mode`` is ``'constant'`` (fill with ``value``),
    ``'reflect'`` (mirror without repeating the edge), ``'replicate'`` (repeat the edge) or
    ``'circular'`` (wrap around).
    """
    pad = tuple(int(p) for p in pad)
    if len(pad) % 2 or len(pad) // 2 > x.ndim:
        raise ValueError(
            f"pad {pad} must hold (before, after) pairs for at most {x.ndim} dimensions (tensor shape {x.shape})"
        )
    if any(p < 0 for p in pad):
        raise ValueError(f"pad {pad} has a negative width; only non-negative padding is supported")
    widths = [(0, 0)] * x.ndim
    for i in range(len(pad) // 2):
        widths[x.ndim - 1 - i] = (pad[2 * i], pad[2 * i + 1])
    if mode == "constant":
        return Pad.apply(x, tuple(widths), value)
    if mode not in ("reflect", "replicate", "circular"):
        raise ValueError(f"pad: mode must be 'constant', 'reflect', 'replicate' or 'circular', got {mode!r}")
    # reflect/replicate read existing elements: an index gather per padded dimension, whose
    # gradient scatters back (edge elements used several times accumulate)
    for dim, (before, after) in enumerate(widths):
        if before == after == 0:
            continue
        n = x.shape[dim]
        if mode != "replicate" and (before > n - (mode == "reflect") or after > n - (mode == "reflect")):
            raise ValueError(
                f"pad: {mode} padding ({before}, {after}) must be {'smaller than' if mode == 'reflect' else 'at most'} "
                f"the size {n} of dimension {dim}"
            )
        if mode == "reflect":
            idx = np.r_[np.arange(before, 0, -1), np.arange(n), np.arange(n - 2, n - 2 - after, -1)]
        elif mode == "replicate":
            idx = np.r_[np.zeros(before, int), np.arange(n), np.full(after, n - 1)]
        else:
            idx = np.arange(-before, n + after) % n
        x = x[(slice(None),) * dim + (idx,)]
    return x


def cat(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """Join tensors along an existing dimension ``dim``."""
    tensors = _tensor_list(tensors, "cat")
    if not tensors:
        raise ValueError("cat() needs at least one tensor")
    first = tensors[0]
    if first.ndim == 0:
        raise ValueError("cat() cannot join 0-d tensors; use stack() to add a dimension")
    (d,) = normalize_dims(dim, first.ndim) or (0,)
    for i, t in enumerate(tensors):
        if t.ndim != first.ndim or t.shape[:d] + t.shape[d + 1 :] != first.shape[:d] + first.shape[d + 1 :]:
            raise ValueError(
                f"cat(dim={dim}): tensor {i} has shape {t.shape} but tensor 0 has shape {first.shape}; "
                "all shapes must match except along dim"
            )
    floats = [t.dtype for t in tensors if t.dtype.kind in "fc"]
    if floats:  # integer pieces join a float result in its dtype (PyTorch's promotion)
        common = np.result_type(*floats)
        tensors = [t if t.dtype.kind in "fc" else to_dtype(t, common) for t in tensors]
    return Cat.apply(*tensors, dim=d)


def _tensor_list(tensors: Any, fn: str) -> list[Tensor]:
    """A list or tuple of Tensors (a single Tensor would be iterated row by row: refused)."""
    if not isinstance(tensors, (list, tuple)) or not all(isinstance(t, Tensor) for t in tensors):
        raise TypeError(f"{fn}() needs a list or tuple of Tensors, got {type(tensors).__name__}")
    return list(tensors)


def stack(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """Join same-shaped tensors along a new dimension ``dim``."""
    tensors = _tensor_list(tensors, "stack")
    if not tensors:
        raise ValueError("stack() needs at least one tensor")
    for i, t in enumerate(tensors):
        if t.shape != tensors[0].shape:
            raise ValueError(f"stack(): tensor {i} has shape {t.shape} but tensor 0 has shape {tensors[0].shape}")
    return cat([unsqueeze(t, dim) for t in tensors], dim)


# ---------------------------------------------------------------- flip, roll, triangles, repeat, split


class Flip(Op):
    """y = x with the order of its elements reversed along ``dims``. Shapes: x (*) -> y (*)."""

    @staticmethod
    def forward(ctx, x, dims):
        ctx.dims = dims
        return np.flip(x._data, dims).copy()  # (a copy, as PyTorch's flip)

    @staticmethod
    def backward(ctx, grad):
        # reversing is its own inverse
        return (grad.flip(ctx.dims) if isinstance(grad, Tensor) else np.flip(grad, ctx.dims)), None


class Roll(Op):
    """y = x shifted by ``shifts`` along ``dims``, wrapping around. Shapes: x (*) -> y (*)."""

    @staticmethod
    def forward(ctx, x, shifts, dims):
        ctx.shifts, ctx.dims = shifts, dims
        return np.roll(x._data, shifts, dims)

    @staticmethod
    def backward(ctx, grad):
        # rolling back by -shifts is the inverse
        back = tuple(-s for s in ctx.shifts)
        return (grad.roll(back, ctx.dims) if isinstance(grad, Tensor) else np.roll(grad, back, ctx.dims)), None, None


class Triangle(Op):
    """y = x with the elements outside a triangle of the last two dimensions set to 0
    (``tril``: on and below diagonal ``k``; ``triu``: on and above). Shapes: x (*, n, m) -> y."""

    @staticmethod
    def forward(ctx, x, k, lower):
        n, m = x.shape[-2:]
        ctx.mask = np.tri(n, m, k, dtype=bool) if lower else ~np.tri(n, m, k - 1, dtype=bool)
        return np.where(ctx.mask, x._data, np.zeros((), x.dtype))

    @staticmethod
    def backward(ctx, grad):
        # dy/dx = 1 inside the triangle, 0 outside
        return either.keep(grad, ctx.mask), None, None


class Repeat(Op):
    """y = x tiled ``reps[i]`` times along each dimension i (x gets leading size-1 dimensions
    first when reps is longer). Shapes: x (n_0, ...) -> y (reps_0 n_0, ...)."""

    @staticmethod
    def forward(ctx, x, reps):
        ctx.shape = x.shape
        a = x._data.reshape((1,) * (len(reps) - x.ndim) + x.shape)
        ctx.pairs = tuple(v for r, n in zip(reps, a.shape) for v in (r, n))  # (r_0, n_0, r_1, n_1, ...)
        return np.tile(a, reps)

    @staticmethod
    def backward(ctx, grad):
        # every copy sends its gradient back to the original: sum over the copies
        copies = tuple(range(0, len(ctx.pairs), 2))
        return grad.reshape(ctx.pairs).sum(copies).reshape(ctx.shape), None


class Tril(Triangle):
    """y = the lower triangle of x (on and below diagonal k), zeros above."""


class Triu(Triangle):
    """y = the upper triangle of x (on and above diagonal k), zeros below."""


def flip(x: Tensor, dims: int | Sequence[int]) -> Tensor:
    """Reverse the order of the elements along ``dims`` (a copy)."""
    dims = normalize_dims(dims if isinstance(dims, (tuple, list)) else (dims,), x.ndim)
    return Flip.apply(x, dims)


def roll(x: Tensor, shifts: int | Sequence[int], dims: int | Sequence[int] | None = None) -> Tensor:
    """Shift the elements by ``shifts`` along ``dims``, wrapping around (flattened when dims is None)."""
    if dims is None:
        return reshape(roll(flatten(x), shifts, 0), x.shape)
    shifts = tuple(shifts) if isinstance(shifts, (tuple, list)) else (shifts,)
    dims = tuple(dims) if isinstance(dims, (tuple, list)) else (dims,)
    if len(shifts) != len(dims):
        raise RuntimeError(f"roll(): shifts and dimensions must align. shifts: {len(shifts)}, dims: {len(dims)}")
    dims = tuple(normalize_dims(d, x.ndim)[0] for d in dims)
    return Roll.apply(x, tuple(int(s) for s in shifts), dims)


def _triangle(x: Tensor, diagonal: int, lower: bool) -> Tensor:
    if x.ndim < 2:
        raise RuntimeError(f"{'tril' if lower else 'triu'}: input tensor must have at least 2 dimensions, got {x.ndim}")
    return (Tril if lower else Triu).apply(x, int(diagonal), lower)


def tril(x: Tensor, diagonal: int = 0) -> Tensor:
    """The lower triangle of the last two dimensions (on and below ``diagonal``), zeros above."""
    return _triangle(x, diagonal, True)


def triu(x: Tensor, diagonal: int = 0) -> Tensor:
    """The upper triangle of the last two dimensions (on and above ``diagonal``), zeros below."""
    return _triangle(x, diagonal, False)


def repeat(x: Tensor, *sizes: int) -> Tensor:
    """Tile ``x`` ``sizes[i]`` times along dimension i: ``x.repeat(2, 1)`` stacks two copies."""
    reps = _shape_arg(sizes)
    if len(reps) < x.ndim:
        raise RuntimeError(
            "Number of dimensions of repeat dims can not be smaller than number of dimensions of tensor "
            f"(repeat{reps} for shape {x.shape})"
        )
    return Repeat.apply(x, reps)


def tile(x: Tensor, dims: Sequence[int]) -> Tensor:
    """Like ``repeat``, but a shorter ``dims`` repeats the last dimensions (leading 1s are added)."""
    reps = _shape_arg((dims,))
    return Repeat.apply(x, (1,) * (x.ndim - len(reps)) + reps)


def narrow(x: Tensor, dim: int, start: int, length: int) -> Tensor:
    """The slice ``start:start + length`` along ``dim`` (a view)."""
    (d,) = normalize_dims(dim, x.ndim)
    n = x.shape[d]
    if start < 0:
        start += n
    if not (0 <= start <= n and 0 <= length and start + length <= n):
        raise IndexError(f"start ({start}) + length ({length}) exceeds dimension size ({n}).")
    return x[(slice(None),) * d + (slice(start, start + length),)]


def split(x: Tensor, split_size_or_sections: int | Sequence[int], dim: int = 0) -> tuple[Tensor, ...]:
    """Pieces of ``split_size`` along ``dim`` (the last may be smaller), or of the listed sizes."""
    (d,) = normalize_dims(dim, x.ndim)
    n = x.shape[d]
    if isinstance(split_size_or_sections, (list, tuple)):
        sizes = [int(s) for s in split_size_or_sections]
        if sum(sizes) != n:
            raise RuntimeError(
                f"split_with_sizes expects split_sizes to sum exactly to {n} (input tensor's size at dimension "
                f"{dim}), but got split_sizes={sizes}"
            )
    else:
        size = int(split_size_or_sections)
        if size <= 0 and n > 0:
            raise RuntimeError(f"split expects split_size be non-negative, but got split_size={size}")
        sizes = [min(size, n - s) for s in range(0, n, size)] if n else [0]
    starts = np.cumsum([0] + sizes[:-1])
    return tuple(narrow(x, d, int(s), k) for s, k in zip(starts, sizes))


def chunk(x: Tensor, chunks: int, dim: int = 0) -> tuple[Tensor, ...]:
    """Split into ``chunks`` pieces of ceil(n / chunks) along ``dim`` (fewer when they run out)."""
    if chunks <= 0:
        raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    (d,) = normalize_dims(dim, x.ndim)
    return split(x, max(-(-x.shape[d] // chunks), 1), d)


def unbind(x: Tensor, dim: int = 0) -> tuple[Tensor, ...]:
    """The slices along ``dim``, each without that dimension."""
    (d,) = normalize_dims(dim, x.ndim)
    return tuple(x[(slice(None),) * d + (i,)] for i in range(x.shape[d]))


# ---------------------------------------------------------------- broadcast_to, hstack/vstack, diag


def broadcast_to(x: Tensor, shape: Sequence[int]) -> Tensor:
    """``x`` broadcast to ``shape`` without copying (as ``x.expand(shape)``; -1 keeps a size)."""
    return expand(x, *shape)


def vstack(tensors: Sequence[Tensor]) -> Tensor:
    """Stack as rows: vectors (n,) become rows (1, n), then join along dimension 0."""
    tensors = _stack_list(tensors, "vstack")
    return cat([t.reshape(1, -1) if t.ndim < 2 else t for t in tensors], 0)


def hstack(tensors: Sequence[Tensor]) -> Tensor:
    """Join side by side: vectors end to end (dimension 0), anything else along dimension 1."""
    tensors = [t.reshape(1) if t.ndim == 0 else t for t in _stack_list(tensors, "hstack")]
    return cat(tensors, 0 if tensors[0].ndim == 1 else 1)


def _stack_list(tensors: Any, fn: str) -> list[Tensor]:
    if isinstance(tensors, Tensor):
        raise TypeError(f"{fn}(): argument 'tensors' (position 1) must be tuple of Tensors, not Tensor")
    tensors = _tensor_list(tensors, fn)
    if not tensors:
        raise RuntimeError(f"{fn} expects a non-empty TensorList")
    return tensors


def _diagonal(shape: tuple[int, int], k: int) -> tuple[np.ndarray, np.ndarray]:
    """The (rows, columns) of diagonal ``k`` of a matrix of ``shape`` (k > 0: above the main one)."""
    n, m = shape
    count = max(0, min(n, m - k) if k >= 0 else min(n + k, m))
    steps = np.arange(count)
    return steps + max(-k, 0), steps + max(k, 0)


class Diag(Op):
    """y = diagonal ``k`` of a matrix x as a vector, or a vector x laid on diagonal ``k`` of zeros.

    Shapes: x (n, m) -> y (count,); x (n,) -> y ``shape`` (square, n + |k|, unless given). Each
    direction is the other's adjoint, so each backward is the other direction.
    """

    @staticmethod
    def forward(ctx, x, k, shape):
        ctx.k, ctx.shape = k, x.shape
        if x.ndim == 2:
            return x._data[_diagonal(x.shape, k)]  # (fancy indexing: a copy)
        y = np.zeros(shape, dtype=x.dtype)
        y[_diagonal(shape, k)] = x._data
        return y

    @staticmethod
    def backward(ctx, grad):
        # y_i = x[r_i, c_i]: each y_i's gradient goes back to (r_i, c_i); the other direction's
        # gradient is read off those positions again: each direction is the other's adjoint
        return either.apply(Diag, (grad,), ctx.k, ctx.shape), None, None


def diag(x: Tensor, diagonal: int = 0) -> Tensor:
    """A 2-d tensor's ``diagonal``-th diagonal (0: the main one, > 0 above, < 0 below) as a
    vector; a vector as the square matrix with it on that diagonal and zeros elsewhere."""
    if x.ndim not in (1, 2):
        raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {x.ndim}D")
    k = operator.index(diagonal)
    size = x.shape[0] + abs(k)
    return Diag.apply(x, k, (size, size) if x.ndim == 1 else None)


# ---------------------------------------------------------------- meshgrid, repeat_interleave


def meshgrid(*tensors: Tensor, indexing: str | None = None) -> tuple[Tensor, ...]:
    """Coordinate grids: for vectors of lengths (n0, n1, ...), tensor i of the result holds
    ``tensors[i][j_i]`` at every position (j0, j1, ...). Shapes: (n_i,) each -> (n0, n1, ...) each;
    with ``indexing="xy"`` the first two lengths swap places (n1, n0, ...), as for plotting.
    The grids are broadcast views of the inputs (no copies); their gradients sum back."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    tensors = tuple(_tensor_list(list(tensors), "meshgrid"))
    if indexing is None:
        warnings.warn(
            "torch.meshgrid: in an upcoming release, it will be required to pass the indexing argument.",
            UserWarning,
            stacklevel=2,
        )
        indexing = "ij"
    if indexing not in ("ij", "xy"):
        raise RuntimeError(f'torch.meshgrid: indexing must be one of "xy" or "ij", but received: {indexing}')
    if not tensors:
        raise RuntimeError("meshgrid expects a non-empty TensorList")
    for t in tensors:
        if t.ndim > 1:
            raise RuntimeError(f"torch.meshgrid: Expected 0D or 1D tensor in the tensor list but got: {t.ndim}-D")
        if t.dtype != tensors[0].dtype:
            raise RuntimeError("meshgrid expects all tensors to have the same dtype")
    axes = list(range(len(tensors)))
    if indexing == "xy" and len(tensors) > 1:
        axes[0], axes[1] = 1, 0  # tensor 0 varies along dimension 1, tensor 1 along dimension 0
    shape = [0] * len(tensors)
    for t, axis in zip(tensors, axes):
        shape[axis] = t.numel()
    grids = []
    for t, axis in zip(tensors, axes):
        along = [1] * len(tensors)
        along[axis] = -1
        grids.append(t.reshape(along).expand(shape))
    return tuple(grids)


def repeat_interleave(x: Tensor, repeats: int | Tensor | None = None, dim: int | None = None) -> Tensor:
    """Each element (or each slice along ``dim``) repeated ``repeats`` times in place:
    [a, b] -> [a, a, b, b]. ``repeats`` is an int or an int64 vector (one count per slice, or one
    for all); without ``dim`` x is flattened first. ``repeat_interleave(counts)`` alone gives
    each position i ``counts[i]`` times. The gradient adds up the copies of each element."""
    if repeats is None:  # the one-argument form: positions repeated by the counts they hold
        counts = values_of(x)
        if counts.ndim != 1 or counts.dtype.kind not in "iu":
            raise RuntimeError("repeat_interleave only accept 1D vector as repeat")
        x, repeats = Tensor._make(np.arange(counts.shape[0], dtype=np.int64)), x
    if dim is None:
        x, dim = x.reshape(-1), 0
    (d,) = normalize_dims(dim, x.ndim) or (0,)
    counts = np.asarray(values_of(repeats))
    if counts.dtype.kind not in "iu":
        raise NotImplementedError(
            f'"repeat_interleave_cpu" not implemented for {counts.dtype}: repeats are counts (ints)'
        )
    if counts.ndim > 1:
        raise RuntimeError("repeat_interleave only accept 1D vector as repeat")
    n = x.shape[d] if x.ndim else 1
    if counts.ndim == 1 and counts.shape[0] not in (1, n):
        raise RuntimeError(
            "repeats must have the same size as input along dim, but got "
            f"repeats.size(0) = {counts.shape[0]} and input.size({d}) = {n}"
        )
    if (counts < 0).any():
        raise RuntimeError("Repeats must be non-negative")
    positions = np.repeat(np.arange(n), np.broadcast_to(counts.reshape(-1), (n,)))
    return x[(slice(None),) * d + (positions,)]
