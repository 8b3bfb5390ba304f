"""Indexing: ``x[index]`` (basic and advanced) and its adjoint, scattering a gradient back."""

from __future__ import annotations

from typing import Any

import numpy as np

from autograd.function import Op
from autograd.ops import either
from autograd.tensor import Tensor, as_array, values_of


def normalize_index(index: Any) -> Any:
    """Replace Tensors inside an index by their numpy arrays."""
    if isinstance(index, tuple):
        return tuple(normalize_index(i) for i in index)
    if isinstance(index, Tensor):
        return index._data
    if isinstance(index, range):  # x[range(3)]: the positions as an array
        return np.arange(index.start, index.stop, index.step)
    if isinstance(index, list):  # (an empty list selects nothing: integer positions, not floats)
        return np.asarray([values_of(i) for i in index], dtype=None if index else np.int64)
    return index


def is_basic(index: Any) -> bool:
    """True when ``index`` uses only ints, slices, None and Ellipsis (a view, no repeats)."""
    parts = index if isinstance(index, tuple) else (index,)
    return all(
        isinstance(p, (int, np.integer, slice, type(None), type(Ellipsis)))
        or (isinstance(p, np.ndarray) and p.ndim == 0 and p.dtype.kind in "iu")
        for p in parts
    )


def split_ints_first(index: Any) -> tuple[tuple, tuple] | None:
    """PyTorch applies integer indices first (each removes its dimension) and the array indices
    after; numpy counts an integer among arrays as one more array, which moves the result's
    dimensions when a slice or None separates them (``x[0, :, [0, 1]]``). For such an index,
    return the two steps (integers, slices and None; then the arrays); else None."""
    if not isinstance(index, tuple):
        return None
    ints = [
        (isinstance(p, (int, np.integer)) and not isinstance(p, (bool, np.bool_)))
        or (isinstance(p, np.ndarray) and p.ndim == 0 and p.dtype.kind in "iu")  # (a 0-d integer tensor)
        for p in index
    ]
    arrays = [isinstance(p, np.ndarray) and p.ndim > 0 for p in index]
    if not any(ints) or not any(arrays):
        return None
    first, second = [], []
    for p, is_int, is_array in zip(index, ints, arrays):
        if is_int:
            first.append(int(p))  # (a plain int: numpy takes a 0-d array as an array, and copies)
        elif is_array:  # kept for the second step; its dimensions pass the first one untouched
            first.extend([slice(None)] * (p.ndim if p.dtype == np.bool_ else 1))
            second.append(p)
        else:  # a slice, None or Ellipsis
            first.append(p)
            second.append(p if p is Ellipsis else slice(None))
    return tuple(first), tuple(second)


def take(a: np.ndarray, index: Any) -> np.ndarray:
    """``a[index]`` with PyTorch's order (see ``split_ints_first``)."""
    steps = split_ints_first(index)
    return a[index] if steps is None else a[steps[0]][steps[1]]


class Index(Op):
    """y = x[index]. Shapes: x (*) -> y (shape chosen by the index)."""

    @staticmethod
    def forward(ctx, x, index):
        ctx.index, ctx.shape = index, x.shape
        ctx.is_view = is_basic(index)
        if not ctx.is_view:  # a copy: made contiguous, as PyTorch's
            return np.asarray(take(x._data, index), order="C")
        out = x._data[index]
        if type(out) is not np.ndarray:  # x[0] of a vector: numpy copies out a scalar; a 0-d view
            out = x._data[(index if isinstance(index, tuple) else (index,)) + (Ellipsis,)]
        return out

    @staticmethod
    def backward(ctx, grad):
        # each selected element sends its gradient back to where it came from
        return either.apply(IndexScatter, (grad,), ctx.index, ctx.shape), None


class IndexScatter(Op):
    """y = zeros(shape) with y[index] += g (repeated indices add up). The adjoint of Index."""

    @staticmethod
    def forward(ctx, g, index, shape):
        ctx.index = index
        out = np.zeros(shape, dtype=g.dtype)
        if is_basic(index):
            out[index] = g._data
        else:
            steps = split_ints_first(index)
            target, positions = (out, index) if steps is None else (out[steps[0]], steps[1])  # (a view)
            np.add.at(target, positions, g._data)
        return out

    @staticmethod
    def backward(ctx, grad):
        # linear in g: read the gradient back at the same positions
        return (grad[ctx.index] if isinstance(grad, Tensor) else take(grad, ctx.index)), None, None


def index(x: Tensor, index: Any) -> Tensor:
    """``x[index]`` with numpy semantics; the gradient scatters back, repeats accumulate."""
    return Index.apply(x, normalize_index(index))


# ---------------------------------------------------------------- gather, scatter_add, index_select


def _along(index: np.ndarray, dim: int) -> tuple:
    """The full index tuple that picks ``index[i...]`` along ``dim`` at every other position i."""
    grid = list(np.indices(index.shape, sparse=True))
    grid[dim] = index
    return tuple(grid)


class Gather(Op):
    """y[i][j][k] = x[i][index[i][j][k]][k] (for dim = 1). Shapes: x (*), index (*) of ints -> y (index's)."""

    @staticmethod
    def forward(ctx, x, dim, index):
        ctx.dim, ctx.index, ctx.shape = dim, index, x.shape
        return x._data[_along(index, dim)]

    @staticmethod
    def backward(ctx, grad):
        # each picked element sends its gradient back to where it came from (repeats add up)
        zeros = np.zeros(ctx.shape, either.data(grad).dtype)
        zeros = Tensor._make(zeros) if isinstance(grad, Tensor) else zeros
        return either.apply(ScatterAdd, (zeros, grad), ctx.dim, ctx.index), None, None


class ScatterAdd(Op):
    """y = x with y[i][index[i][j][k]][k] += src[i][j][k] (for dim = 1).

    Shapes: x (*), src and index (one shape, at most x's along every dimension) -> y (x's)."""

    @staticmethod
    def forward(ctx, x, src, dim, index):
        ctx.dim, ctx.index = dim, index
        out = x._data.copy()
        np.add.at(out, _along(index, dim), src._data)
        return out

    @staticmethod
    def backward(ctx, grad):
        # dy/dx = 1; dy/dsrc = the gradient at the positions each src element went to
        x_needs, src_needs = ctx.needs_input_grad[:2]
        src_grad = either.apply(Gather, (grad,), ctx.dim, ctx.index) if src_needs else None
        return (grad if x_needs else None), src_grad, None, None


def _check_index(fn: str, x: Tensor, dim: int, index: Any) -> tuple[int, np.ndarray]:
    from autograd.ops.reduce import normalize_dims

    index = as_array(index)
    if index.dtype != np.int64:
        raise RuntimeError(f"{fn}(): Expected dtype int64 for index, got {index.dtype}")
    if index.ndim != x.ndim and not (index.ndim <= 1 and x.ndim <= 1):
        raise RuntimeError(f"Index tensor must have the same number of dimensions as input tensor ({fn})")
    (d,) = normalize_dims(dim, x.ndim) or (0,)
    if index.size and (index.min() < 0 or index.max() >= (x.shape[d] if x.ndim else 1)):
        raise RuntimeError(f"{fn}(): index out of bounds for dimension {dim} with size {x.shape[d] if x.ndim else 1}")
    return d, index


def gather(x: Tensor, dim: int, index: Tensor) -> Tensor:
    """Pick one element of ``x`` along ``dim`` for every entry of the int64 ``index``."""
    d, index = _check_index("gather", x, dim, index)
    return Gather.apply(x, d, index)


def scatter_add(x: Tensor, dim: int, index: Tensor, src: Tensor) -> Tensor:
    """A copy of ``x`` with each ``src`` element added at its ``index`` along ``dim``."""
    d, index = _check_index("scatter_add", x, dim, index)
    if not isinstance(src, Tensor):
        raise TypeError(f"scatter_add(): argument 'src' must be Tensor, not {type(src).__name__}")
    if src.shape != index.shape:
        raise RuntimeError(f"scatter_add(): dagrad needs src of the index's shape {index.shape}, got {src.shape}")
    if src.dtype != x.dtype:
        raise RuntimeError(f"scatter_add(): Expected self.dtype to be equal to src.dtype ({x.dtype} vs {src.dtype})")
    return ScatterAdd.apply(x, src, d, index)


def index_select(x: Tensor, dim: int, index: Tensor) -> Tensor:
    """The slices of ``x`` at the positions ``index`` (1-d, int64) along ``dim``."""
    from autograd.ops.reduce import normalize_dims

    positions = as_array(index)
    if positions.ndim > 1 or positions.dtype.kind not in "iu":
        raise RuntimeError("index_select(): Index is supposed to be a vector of integers")
    (d,) = normalize_dims(dim, x.ndim) or (0,)
    return Index.apply(x, (slice(None),) * d + (positions.reshape(-1),))


# ---------------------------------------------------------------- masked_select, nonzero


def broadcast_shape(a: tuple[int, ...], b: tuple[int, ...]) -> tuple[int, ...]:
    """The shape ``a`` and ``b`` broadcast to, or PyTorch's error naming the first clash."""
    n = max(len(a), len(b))
    shape = []
    for i in range(n):
        sa = a[i - n + len(a)] if i - n + len(a) >= 0 else 1
        sb = b[i - n + len(b)] if i - n + len(b) >= 0 else 1
        if sa != sb and sa != 1 and sb != 1:
            raise RuntimeError(
                f"The size of tensor a ({sa}) must match the size of tensor b ({sb}) at non-singleton dimension {i}"
            )
        shape.append(sb if sa == 1 else sa)
    return tuple(shape)


def masked_select(x: Tensor, mask: Tensor) -> Tensor:
    """The elements of ``x`` where the bool ``mask`` is True, as a vector (in row-major order).

    Shapes: x and mask broadcast together to (*) -> y (number of True entries,).
    """
    m = as_array(mask)
    if m.dtype != np.bool_:
        raise RuntimeError("masked_select: expected BoolTensor for mask")
    shape = broadcast_shape(x.shape, m.shape)
    if x.shape != shape:
        x = x.expand(shape)
    return Index.apply(x, np.broadcast_to(m, shape))


def nonzero(x: Tensor, *, as_tuple: bool = False) -> Any:
    """The positions of the non-zero elements: an int64 (count, x.ndim) tensor, a row per element
    in row-major order; with ``as_tuple=True`` one vector of positions per dimension."""
    a = as_array(x)
    if as_tuple:
        return tuple(Tensor._make(i.astype(np.int64)) for i in np.nonzero(a.reshape(1) if a.ndim == 0 else a))
    return Tensor._make(np.argwhere(a).astype(np.int64))
