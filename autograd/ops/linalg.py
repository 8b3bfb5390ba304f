"""Matrix multiplication (1-d, 2-d and batched with broadcasting), as numpy.matmul."""

from __future__ import annotations

import numpy as np

from autograd.function import Op
from autograd.ops import either
from autograd.ops.reduce import unbroadcast
from autograd.tensor import Tensor


class MatMul(Op):
    """y = x @ w. Shapes: x (*, N, D), w (*, D, M) -> y (*, N, M); 1-d operands as numpy.

    The Jacobian dy/dx would be (N x D) x (N x M); backward never forms it:
    dL/dx = dL/dy @ w^T and dL/dw = x^T @ dL/dy — the only products whose shapes match.
    """

    @staticmethod
    def forward(ctx, x, w):
        ctx.save_for_backward(x, w)
        a, b = x._data, w._data
        if a.ndim == 2 and b.ndim == 2 and a.shape[1] == b.shape[0] and a.dtype is b.dtype:
            return a.dot(b)  # two matrices (``dot``: the same product as @, 2-3x faster when small)
        check_matmul(x, w)  # anything else is checked first, for a clear error
        return np.matmul(a, b)

    @staticmethod
    def backward(ctx, grad):
        # dL/dx = dL/dy @ w^T, dL/dw = x^T @ dL/dy: the Jacobian is never formed
        x, w = ctx.saved_tensors
        x_needs, w_needs = ctx.needs_input_grad
        if x.ndim == 2 and w.ndim == 2:  # matrices: dL/dx = dL/dy @ w^T, dL/dw = x^T @ dL/dy
            return (either.mm(grad, w.T) if x_needs else None, either.mm(x.T, grad) if w_needs else None)
        if x.ndim > 1 and w.ndim > 1:  # batches of matrices (broadcast batch dimensions sum back)
            return (
                unbroadcast(grad @ w.mT, x.shape, x.dtype) if x_needs else None,
                unbroadcast(x.mT @ grad, w.shape, w.dtype) if w_needs else None,
            )
        if x.ndim == 1 and w.ndim == 1:  # dot product: grad is 0-d
            return (grad * w if x_needs else None, grad * x if w_needs else None)
        # Treat vectors as matrices: x (D,) -> (1, D), w (D,) -> (D, 1), and grad to match.
        x2 = either.unsqueeze(x, 0) if x.ndim == 1 else x
        w2 = either.unsqueeze(w, 1) if w.ndim == 1 else w
        if x.ndim == 1:
            grad = either.unsqueeze(grad, grad.ndim - 1)
        if w.ndim == 1:
            grad = either.unsqueeze(grad, grad.ndim)
        gx = gw = None
        if x_needs:  # dL/dx = dL/dy @ w^T
            gx = unbroadcast(grad @ w2.mT, x2.shape, x.dtype)
        if w_needs:  # dL/dw = x^T @ dL/dy
            gw = unbroadcast(x2.mT @ grad, w2.shape, w.dtype)
        return (
            gx if x.ndim > 1 or gx is None else gx.reshape(x.shape),
            gw if w.ndim > 1 or gw is None else gw.reshape(w.shape),
        )


def matmul(x: Tensor, w: Tensor) -> Tensor:
    """Matrix product with numpy.matmul semantics (vectors, matrices, batches)."""
    return MatMul.apply(x, w)


def check_matmul(x: Tensor, w: Tensor) -> None:
    """Raise a clear error unless ``x @ w`` is defined."""
    x, w = x._data, w._data  # (the arrays: their attributes are cheaper to read than a Tensor's)
    if x.dtype != w.dtype:
        raise TypeError(f"matmul needs operands of one dtype, got {x.dtype} and {w.dtype}; convert one with .to(dtype)")
    if x.ndim == 0 or w.ndim == 0:
        raise ValueError(f"matmul needs at least 1-d operands, got shapes {x.shape} and {w.shape}")
    inner_x = x.shape[-1]
    inner_w = w.shape[0] if w.ndim == 1 else w.shape[-2]
    if inner_x != inner_w:
        raise ValueError(
            f"matmul shapes {x.shape} and {w.shape} do not match: the last dimension of the "
            f"first ({inner_x}) must equal the {'only' if w.ndim == 1 else 'second-to-last'} "
            f"dimension of the second ({inner_w})"
        )
    if x.ndim > 2 or w.ndim > 2:
        try:
            np.broadcast_shapes(x.shape[:-2], w.shape[:-2])
        except ValueError:
            raise ValueError(f"matmul batch dimensions of {x.shape} and {w.shape} do not broadcast") from None


def mm(x: Tensor, w: Tensor) -> Tensor:
    """The product of two matrices: (n, m) @ (m, p) -> (n, p); no broadcasting."""
    if x.ndim != 2 or w.ndim != 2:
        raise RuntimeError(f"mm(): both arguments must be matrices, got shapes {x.shape} and {w.shape}")
    return MatMul.apply(x, w)


def bmm(x: Tensor, w: Tensor) -> Tensor:
    """A batch of matrix products: (b, n, m) @ (b, m, p) -> (b, n, p); no broadcasting."""
    if x.ndim != 3 or w.ndim != 3:
        raise RuntimeError(
            f"bmm(): batch1 must be a 3D tensor and batch2 must be a 3D tensor, got {x.shape}, {w.shape}"
        )
    if x.shape[0] != w.shape[0]:
        raise RuntimeError(f"bmm(): batch1 and batch2 must have the same batch size, got {x.shape[0]} and {w.shape[0]}")
    return MatMul.apply(x, w)


def addmm(input: Tensor, mat1: Tensor, mat2: Tensor, *, beta: float = 1, alpha: float = 1) -> Tensor:
    """``beta * input + alpha * (mat1 @ mat2)`` (input broadcasts to the product's shape)."""
    product = mm(mat1, mat2)
    if alpha != 1:
        product = product * alpha
    return product + (input if beta == 1 else input * beta)
