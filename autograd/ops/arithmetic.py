"""Arithmetic with numpy broadcasting: add, sub, mul, div, neg, pow.

Each backward multiplies the upstream gradient by the local derivative and then calls
``unbroadcast`` to sum it back to the input's shape (the adjoint of broadcasting is sum).
"""

from __future__ import annotations

import numpy as np

from autograd.function import Op
from autograd.ops import either
from autograd.ops.reduce import unbroadcast
from autograd.tensor import Tensor, get_default_dtype, lift


class Add(Op):
    """z = x + y. Shapes: x, y broadcastable -> z (broadcast shape)."""

    @staticmethod
    def forward(ctx, x, y):
        x, y = x._data, y._data  # (the arrays: their attributes are cheaper to read than a Tensor's)
        ctx.x_like, ctx.y_like = (x.shape, x.dtype), (y.shape, y.dtype)
        return x + y

    @staticmethod
    def backward(ctx, grad):
        # dz/dx = 1, dz/dy = 1: an add gate copies the upstream gradient to both inputs
        x_needs, y_needs = ctx.needs_input_grad
        return (
            unbroadcast(grad, *ctx.x_like) if x_needs else None,
            unbroadcast(grad, *ctx.y_like) if y_needs else None,
        )


class Sub(Op):
    """z = x - y. Shapes: x, y broadcastable -> z (broadcast shape)."""

    @staticmethod
    def forward(ctx, x, y):
        x, y = x._data, y._data  # (the arrays: their attributes are cheaper to read than a Tensor's)
        ctx.x_like, ctx.y_like = (x.shape, x.dtype), (y.shape, y.dtype)
        return x - y

    @staticmethod
    def backward(ctx, grad):
        # dz/dx = 1, dz/dy = -1
        x_needs, y_needs = ctx.needs_input_grad
        return (
            unbroadcast(grad, *ctx.x_like) if x_needs else None,
            unbroadcast(-grad, *ctx.y_like) if y_needs else None,
        )


class Mul(Op):
    """z = x * y. Shapes: x, y broadcastable -> z (broadcast shape)."""

    @staticmethod
    def forward(ctx, x, y):
        # keep only what a gradient needs, as PyTorch: y for dz/dx, x for dz/dy (so changing
        # x in place after z = x * 2 leaves z's backward intact)
        x_needs, y_needs = ctx.needs_input_grad
        ctx.save_for_backward(x if y_needs else None, y if x_needs else None)
        a, b = x._data, y._data
        ctx.likes = (a.shape, a.dtype), (b.shape, b.dtype)
        return a * b

    @staticmethod
    def backward(ctx, grad):
        # dz/dx = y, dz/dy = x: a multiply gate swaps its inputs
        x, y = ctx.saved_tensors
        x_like, y_like = ctx.likes
        return (
            unbroadcast(grad * y, *x_like) if y is not None else None,
            unbroadcast(grad * x, *y_like) if x is not None else None,
        )


class Div(Op):
    """z = x / y. Shapes: x, y broadcastable -> z (broadcast shape)."""

    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x if ctx.needs_input_grad[1] else None, y)  # (x only for dz/dy, as PyTorch)
        a, b = x._data, y._data
        ctx.likes = (a.shape, a.dtype), (b.shape, b.dtype)
        z = a / b
        if x.dtype.kind in "iub" and y.dtype.kind in "iub":
            z = z.astype(get_default_dtype())  # int / int gives the default float dtype, as PyTorch
        return z

    @staticmethod
    def backward(ctx, grad):
        # dz/dx = 1 / y, dz/dy = -x / y^2, computed as -(x / y) / y: y * y underflows for tiny y
        x, y = ctx.saved_tensors
        x_needs, y_needs = ctx.needs_input_grad
        x_like, y_like = ctx.likes
        return (
            unbroadcast(grad / y, *x_like) if x_needs else None,
            unbroadcast(-grad * ((x / y) / y), *y_like) if y_needs else None,
        )


class Neg(Op):
    """y = -x. Shapes: x (*) -> y (*)."""

    @staticmethod
    def forward(ctx, x):
        return -x._data

    @staticmethod
    def backward(ctx, grad):
        # dy/dx = -1
        return -grad


class Pow(Op):
    """z = x ** y. Shapes: x, y broadcastable -> z (broadcast shape)."""

    @staticmethod
    def forward(ctx, x, y):
        z = np.power(x._data, y._data)
        ctx.save_for_backward(x, y, z)
        return z

    @staticmethod
    def backward(ctx, grad):
        # dz/dx = y * x^(y-1) (0 where y == 0);  dz/dy = z * log(x) (0 where x == 0, y >= 0)
        x, y, z = ctx.saved_tensors
        x_needs, y_needs = ctx.needs_input_grad
        gx = gy = None
        if x_needs:
            zero = either.data(y) == 0
            if zero.any():  # d/dx x^0 = 0 whatever the upstream gradient (even inf), as PyTorch
                with np.errstate(invalid="ignore"):  # (x^(-1) at x == 0, masked right after)
                    gx = either.keep(grad * (y * x ** (y - 1 + zero)), ~zero)
            else:
                gx = grad * (y * x ** (y - 1))
            gx = unbroadcast(gx, x.shape, x.dtype)
        if y_needs:
            at_zero = (either.data(x) == 0) & (either.data(y) >= 0)
            with np.errstate(divide="ignore", invalid="ignore"):
                safe_x = x if not at_zero.any() else x + at_zero  # log(1) = 0 where masked
                gy = unbroadcast(grad * z * either.log(safe_x), y.shape, y.dtype)
        return gx, gy


def add(x: Tensor, y: Tensor | float, alpha: float = 1) -> Tensor:
    """x + alpha * y, broadcasting."""
    x, y = lift(x, y)
    return Add.apply(x, y if alpha == 1 else y * alpha)


def sub(x: Tensor, y: Tensor | float, alpha: float = 1) -> Tensor:
    """x - alpha * y, broadcasting."""
    x, y = lift(x, y)
    return Sub.apply(x, y if alpha == 1 else y * alpha)


def mul(x: Tensor, y: Tensor | float) -> Tensor:
    """Elementwise product, broadcasting."""
    return Mul.apply(*lift(x, y))


def div(x: Tensor, y: Tensor | float) -> Tensor:
    """Elementwise true division, broadcasting."""
    return Div.apply(*lift(x, y))


def neg(x: Tensor) -> Tensor:
    """Elementwise negation."""
    return Neg.apply(x)


def pow(x: Tensor | float, y: Tensor | float) -> Tensor:
    """Elementwise power ``x ** y``; either side may be a number."""
    return Pow.apply(*lift(x, y))
