"""Matrix multiplication (1-d, 2-d and batched with broadcasting), as numpy.matmul."""

from __future__ import annotations

import numpy as np

from autograd.function import Function
from autograd.ops.reduce import unbroadcast
from autograd.tensor import Tensor


class MatMul(Function):
    """y = x @ w. Shapes: x (*, N, D), w (*, D, M) -> y (*, N, M); 1-d operands as numpy.

    The Jacobian dy/dx would be (N x D) x (N x M); backward never forms it:
    dL/dx = dL/dy @ w^T and dL/dw = x^T @ dL/dy — the only products whose shapes match.
    """

    @staticmethod
    def forward(ctx, x, w):
        ctx.save_for_backward(x, w)
        return np.matmul(x.data, w.data)

    @staticmethod
    def backward(ctx, grad):
        x, w = ctx.saved_tensors
        x_needs, w_needs = ctx.needs_input_grad
        if x.ndim == 1 and w.ndim == 1:  # dot product: grad is 0-d
            return (grad * w if x_needs else None, grad * x if w_needs else None)
        # Treat vectors as matrices: x (D,) -> (1, D), w (D,) -> (D, 1), and grad to match.
        x2 = x.unsqueeze(0) if x.ndim == 1 else x
        w2 = w.unsqueeze(-1) if w.ndim == 1 else w
        if x.ndim == 1:
            grad = grad.unsqueeze(-2)
        if w.ndim == 1:
            grad = grad.unsqueeze(-1)
        gx = gw = None
        if x_needs:  # dL/dx = dL/dy @ w^T
            gx = unbroadcast(grad @ w2.mT, x2.shape, x.dtype).reshape(x.shape)
        if w_needs:  # dL/dw = x^T @ dL/dy
            gw = unbroadcast(x2.mT @ grad, w2.shape, w.dtype).reshape(w.shape)
        return gx, gw


def matmul(x: Tensor, w: Tensor) -> Tensor:
    """Matrix product with numpy.matmul semantics (vectors, matrices, batches)."""
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
    try:
        np.broadcast_shapes(x.shape[:-2], w.shape[:-2])
    except ValueError:
        raise ValueError(f"matmul batch dimensions of {x.shape} and {w.shape} do not broadcast") from None
    return MatMul.apply(x, w)
