"""The fast pointwise kernels: ReLU's max(x, 0), and keeping a gradient where a mask is true,
exactly, in one pass.

A ReLU's or a max's backward passes the gradient where a mask is true and an exact +0.0
elsewhere. ``np.where(mask, g, 0)`` is the plain way (the reference, in ``autograd/ops/either.py``);
multiplying by the 0/1 mask would turn inf into NaN and leave -0.0 for negative gradients.
"""

from __future__ import annotations

import functools

import numpy as np

from autograd import workspace


def unsigned(dtype: np.dtype) -> np.dtype:
    """The unsigned integer type as wide as ``dtype`` (float32 -> uint32): its bit pattern."""
    return np.dtype(f"u{dtype.itemsize}")


def keep(x: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """``x`` where ``mask`` is true, +0.0 elsewhere (broadcasting), bit for bit ``np.where``'s answer.

    x (*) float, mask (*) bool -> (*), the broadcast shape.
    """
    if not (isinstance(x, np.ndarray) and x.dtype.kind == "f"):
        return np.where(mask, x, np.zeros((), np.result_type(x)))
    # speed: multiply x's bit pattern by the 0/1 mask as unsigned integers: the bits of x
    # (inf and NaN included) or all-zero bits (+0.0), one pass; np.where is 8-15x slower here
    # and a float multiply needs two more passes (a finiteness check, then -0.0 + 0.0)
    bits = unsigned(x.dtype)
    out = workspace.empty(np.broadcast_shapes(x.shape, mask.shape), x.dtype)
    np.multiply(x.view(bits), mask, out=out.view(bits))
    return out


ROW = 4096  # elements in the row of zeros relu compares with


@functools.lru_cache(maxsize=16)
def _zeros_row(dtype: np.dtype) -> np.ndarray:
    """A read-only row of ROW zeros of ``dtype``."""
    row = np.zeros(ROW, dtype)
    row.flags.writeable = False
    return row


def relu(x: np.ndarray) -> np.ndarray:
    """max(x, 0) elementwise (NaN stays NaN), what ``np.maximum(x, 0)`` gives. x (*) -> (*)."""
    out = workspace.empty_like(x)
    if not x.flags.c_contiguous or x.size < ROW:
        return np.maximum(x, 0, out=out)
    # speed: numpy's maximum of an array and a scalar runs a scalar loop (here 2.8x slower than
    # against an array): take it against a row of zeros, the array seen as rows of ROW elements
    flat, flat_out = x.reshape(-1), out.reshape(-1)
    body = x.size - x.size % ROW
    np.maximum(flat[:body].reshape(-1, ROW), _zeros_row(x.dtype), out=flat_out[:body].reshape(-1, ROW))
    np.maximum(flat[body:], 0, out=flat_out[body:])  # the last partial row
    return out
