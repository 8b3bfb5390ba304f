"""``either``: the few operations whose spelling differs between numpy arrays and Tensors.

A built-in op's backward receives its gradient as *either* kind, and is written once for both
(``either.keep(grad, mask)``, ``either.expand(grad, shape)``, ...). Every built-in op writes its
backward once. Without ``create_graph`` the engine runs it on
plain numpy arrays (fast: no graph is recorded); with ``create_graph=True`` it runs on
Tensors, so the backward pass is itself recorded and can be differentiated again. Operators
(``+ - * / ** @``, indexing, ``.reshape``, ``.mT``) read the same for both; the helpers below
cover the rest.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from autograd import kernels
from autograd.kernels import pointwise as fast
from autograd.tensor import Tensor, values_of

data = values_of  # the numpy values of an array or a Tensor (for masks and other constants)


def expand(x: Any, shape: tuple[int, ...]) -> Any:
    """Broadcast to ``shape`` without copying."""
    return x.expand(shape) if isinstance(x, Tensor) else np.broadcast_to(x, shape)


def sum_keep(x: Any, dims: tuple[int, ...]) -> Any:
    """Sum over ``dims``, keeping them as size 1."""
    return x.sum(dims, keepdim=True) if isinstance(x, Tensor) else x.sum(axis=dims, keepdims=True)


def mean_keep(x: Any, dims: tuple[int, ...]) -> Any:
    """Mean over ``dims``, keeping them as size 1."""
    return x.mean(dims, keepdim=True) if isinstance(x, Tensor) else x.mean(axis=dims, keepdims=True)


def swap(x: Any, dim0: int, dim1: int) -> Any:
    """Swap two dimensions."""
    return x.transpose(dim0, dim1) if isinstance(x, Tensor) else x.swapaxes(dim0, dim1)


def permute(x: Any, dims: tuple[int, ...]) -> Any:
    """Reorder all dimensions."""
    return x.permute(dims) if isinstance(x, Tensor) else x.transpose(dims)


def cast(x: Any, dtype: np.dtype) -> Any:
    """Convert to ``dtype``."""
    return x.to(dtype) if isinstance(x, Tensor) else x.astype(dtype, copy=False)


def exp(x: Any) -> Any:
    """e^x elementwise."""
    return x.exp() if isinstance(x, Tensor) else np.exp(x)


def log(x: Any) -> Any:
    """Natural logarithm elementwise."""
    return x.log() if isinstance(x, Tensor) else np.log(x)


def keep(x: Any, mask: np.ndarray) -> Any:
    """``x`` where ``mask`` is true, exact zeros elsewhere (broadcasting).

    Not ``x * mask``: that would leave -0.0 where x < 0 and turn inf into NaN (inf * 0).
    """
    if isinstance(x, Tensor):
        from autograd.ops.pointwise import where

        return where(mask, x, 0.0)
    if kernels.enabled:
        return fast.keep(x, mask)
    return np.where(mask, x, np.zeros((), x.dtype))


def mm(a: Any, b: Any) -> Any:
    """a @ b for 2-d operands (on arrays ``ndarray.dot``: 2-3x faster than ``@`` on small ones)."""
    return a.dot(b) if type(a) is np.ndarray and type(b) is np.ndarray else a @ b


def unsqueeze(x: Any, dim: int) -> Any:
    """Insert a size-1 dimension at ``dim`` (0 <= dim <= ndim)."""
    return x.reshape(x.shape[:dim] + (1,) + x.shape[dim:])


def apply(function: Any, inputs: tuple, *options: Any) -> Any:
    """``function.apply(*inputs, *options)``: recorded on Tensors; on arrays, the same op
    computed without a graph (``inputs`` are the differentiable arguments, ``options`` the rest)."""
    if any(isinstance(a, Tensor) for a in inputs):
        return function.apply(*inputs, *options)
    wrapped = [None if a is None else Tensor._make(a) for a in inputs]
    return function.apply(*wrapped, *options)._data
