"""Elementwise math: exp, log, sqrt, abs, clamp, maximum, minimum, where."""

from __future__ import annotations

import numpy as np

from autograd.function import Op
from autograd.ops import dual
from autograd.ops.reduce import unbroadcast
from autograd.tensor import Tensor, lift


def float_data(x: Tensor) -> np.ndarray:
    """x's array; integers and booleans become float32, PyTorch's default float dtype."""
    data = x._data
    return data if data.dtype.kind in "fc" else data.astype(np.float32)


class Exp(Op):
    """y = e^x. Shapes: x (*) -> y (*)."""

    @staticmethod
    def forward(ctx, x):
        y = np.exp(float_data(x))
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        # dy/dx = e^x = y
        (y,) = ctx.saved_tensors
        return grad * y


class Log(Op):
    """y = ln(x). Shapes: x (*) -> y (*)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.log(float_data(x))

    @staticmethod
    def backward(ctx, grad):
        # dy/dx = 1 / x
        (x,) = ctx.saved_tensors
        return grad / x


class Sqrt(Op):
    """y = sqrt(x). Shapes: x (*) -> y (*)."""

    @staticmethod
    def forward(ctx, x):
        with np.errstate(invalid="ignore"):
            y = np.sqrt(float_data(x))
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        # dy/dx = 1 / (2 sqrt(x)) = 1 / (2 y)
        (y,) = ctx.saved_tensors
        return grad / (y * 2)


class Abs(Op):
    """y = |x|. Shapes: x (*) -> y (*)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(np.subtract(x._data > 0, x._data < 0, dtype=x._data.dtype))  # sign, 0 at NaN
        return np.abs(x._data)

    @staticmethod
    def backward(ctx, grad):
        # dy/dx = sign(x) (0 at 0 and at NaN, as PyTorch)
        (sign,) = ctx.saved_tensors
        return grad * sign


class Clamp(Op):
    """y = min(max(x, low), high). Shapes: x (*) -> y (*)."""

    @staticmethod
    def forward(ctx, x, low, high):
        data = x._data
        if x.dtype.kind in "iub" and any(isinstance(b, (float, np.floating)) for b in (low, high)):
            data = float_data(x)  # float bounds make an integer tensor float32, as PyTorch
        inside = np.ones(x.shape, dtype=bool)
        if low is not None:
            inside &= x._data >= low
        if high is not None:
            inside &= x._data <= high
        ctx.save_for_backward(inside)
        return np.clip(data, low, high).astype(data.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        # dy/dx = 1 where low <= x <= high, else 0
        (inside,) = ctx.saved_tensors
        return dual.keep(grad, inside), None, None


class Maximum(Op):
    """z = max(x, y) elementwise; ties split the gradient. Shapes: broadcastable -> z."""

    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        return np.maximum(x._data, y._data)

    @staticmethod
    def backward(ctx, grad):
        # dz/dx = 1 where x > y, 1/2 where x == y, else 0 (and the mirror for y)
        x, y = ctx.saved_tensors
        return _split(ctx, grad, x, y, np.less)


class Minimum(Op):
    """z = min(x, y) elementwise; ties split the gradient. Shapes: broadcastable -> z."""

    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        return np.minimum(x._data, y._data)

    @staticmethod
    def backward(ctx, grad):
        # dz/dx = 1 where x < y, 1/2 where x == y, else 0 (and the mirror for y)
        x, y = ctx.saved_tensors
        return _split(ctx, grad, x, y, np.greater)


def _split(ctx, grad, x, y, loses):
    """Gradients of maximum/minimum: all of grad to an input unless it ``loses`` (np.less for
    maximum, np.greater for minimum), half to each on a tie. Where a NaN is involved neither
    loses, so both get it (as PyTorch: the NaN's source gets a gradient). Exact zeros
    elsewhere, never NaN * 0."""
    x_needs, y_needs = ctx.needs_input_grad
    xd, yd = dual.data(x), dual.data(y)
    tie = 0.5 * (xd == yd)
    wx, wy = 1 - loses(xd, yd) - tie, 1 - loses(yd, xd) - tie
    gx = dual.keep(grad, wx > 0) * wx.astype(grad.dtype) if x_needs else None
    gy = dual.keep(grad, wy > 0) * wy.astype(grad.dtype) if y_needs else None
    return (
        unbroadcast(gx, x.shape, x.dtype) if x_needs else None,
        unbroadcast(gy, y.shape, y.dtype) if y_needs else None,
    )


class Where(Op):
    """z = x where cond else y. Shapes: cond, x, y broadcastable -> z."""

    @staticmethod
    def forward(ctx, cond, x, y):
        ctx.save_for_backward(cond)
        ctx.x_like, ctx.y_like = (x.shape, x.dtype), (y.shape, y.dtype)
        return np.where(cond, x._data, y._data)

    @staticmethod
    def backward(ctx, grad):
        # dz/dx = cond, dz/dy = not cond
        (cond,) = ctx.saved_tensors
        _, x_needs, y_needs = ctx.needs_input_grad
        return (
            None,
            unbroadcast(dual.keep(grad, cond), *ctx.x_like) if x_needs else None,
            unbroadcast(dual.keep(grad, ~cond), *ctx.y_like) if y_needs else None,
        )


def exp(x: Tensor) -> Tensor:
    """Elementwise e^x."""
    return Exp.apply(x)


def log(x: Tensor) -> Tensor:
    """Elementwise natural logarithm."""
    return Log.apply(x)


def sqrt(x: Tensor) -> Tensor:
    """Elementwise square root."""
    return Sqrt.apply(x)


def abs(x: Tensor) -> Tensor:
    """Elementwise absolute value."""
    return Abs.apply(x)


def clamp(x: Tensor, min: float | None = None, max: float | None = None) -> Tensor:
    """Limit every element to ``[min, max]`` (either bound may be None)."""
    if min is None and max is None:
        raise ValueError("clamp() needs at least one of min or max")
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        raise TypeError("clamp() takes numbers for min and max; use maximum()/minimum() for tensors")
    return Clamp.apply(x, min, max)


def maximum(x: Tensor, y: Tensor | float) -> Tensor:
    """Elementwise maximum of two tensors (broadcasting)."""
    return Maximum.apply(*lift(x, y))


def minimum(x: Tensor, y: Tensor | float) -> Tensor:
    """Elementwise minimum of two tensors (broadcasting)."""
    return Minimum.apply(*lift(x, y))


def where(condition: Tensor, x: Tensor | float, y: Tensor | float) -> Tensor:
    """Choose ``x`` where ``condition`` is true and ``y`` elsewhere (broadcasting)."""
    cond = np.asarray(condition._data if isinstance(condition, Tensor) else condition)
    if cond.dtype != np.bool_:
        raise TypeError(f"where() needs a boolean condition, got dtype {cond.dtype}")
    x, y = lift(x, y)
    return Where.apply(cond, x, y)
