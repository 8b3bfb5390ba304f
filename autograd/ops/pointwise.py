"""Elementwise math: exp, log, sqrt, abs, clamp, maximum, minimum, where; trigonometric and
hyperbolic functions, exp2/expm1/log2/log10/log1p, rounding, sign, rsqrt, square, reciprocal, atan2.

Integer and boolean inputs of a floating-point function give the default float dtype, as PyTorch.
"""

from __future__ import annotations

import math

import numpy as np

from autograd.function import Op
from autograd.ops import either
from autograd.ops.reduce import unbroadcast
from autograd.tensor import Tensor, as_array, get_default_dtype, lift


def float_data(x: Tensor) -> np.ndarray:
    """x's array; integers and booleans become the default float dtype (float32), as PyTorch."""
    data = x._data
    return data if data.dtype.kind in "fc" else data.astype(get_default_dtype())


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
        # dy/dx = 1 / x (inf at x = 0, silently, as PyTorch)
        (x,) = ctx.saved_tensors
        with np.errstate(divide="ignore", invalid="ignore"):
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
        return either.keep(grad, inside), None, None


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
    xd, yd = either.data(x), either.data(y)
    tie = 0.5 * (xd == yd)
    wx, wy = 1 - loses(xd, yd) - tie, 1 - loses(yd, xd) - tie
    gx = either.keep(grad, wx > 0) * wx.astype(grad.dtype) if x_needs else None
    gy = either.keep(grad, wy > 0) * wy.astype(grad.dtype) if y_needs else None
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
            unbroadcast(either.keep(grad, cond), *ctx.x_like) if x_needs else None,
            unbroadcast(either.keep(grad, ~cond), *ctx.y_like) if y_needs else None,
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
    cond = as_array(condition)
    if cond.dtype != np.bool_:
        raise TypeError(f"where() needs a boolean condition, got dtype {cond.dtype}")
    x, y = lift(x, y)
    return Where.apply(cond, x, y)


# ---------------------------------------------------------------- more elementwise functions
# Each backward is written with operators and the helpers below, so it runs on numpy arrays
# (a first-order pass) as well as on Tensors (create_graph=True: differentiable again).


def _sin(x):
    return x.sin() if isinstance(x, Tensor) else np.sin(x)


def _cos(x):
    return x.cos() if isinstance(x, Tensor) else np.cos(x)


def _sinh(x):
    return x.sinh() if isinstance(x, Tensor) else np.sinh(x)


def _cosh(x):
    return x.cosh() if isinstance(x, Tensor) else np.cosh(x)


def _sqrt(x):
    return x.sqrt() if isinstance(x, Tensor) else np.sqrt(x)


class Sin(Op):
    """y = sin(x). Shapes: x (*) -> y (*)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.sin(float_data(x))

    @staticmethod
    def backward(ctx, grad):
        # dy/dx = cos(x)
        (x,) = ctx.saved_tensors
        return grad * _cos(x)


class Cos(Op):
    """y = cos(x). Shapes: x (*) -> y (*)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.cos(float_data(x))

    @staticmethod
    def backward(ctx, grad):
        # dy/dx = -sin(x)
        (x,) = ctx.saved_tensors
        return -grad * _sin(x)


class Tan(Op):
    """y = tan(x). Shapes: x (*) -> y (*)."""

    @staticmethod
    def forward(ctx, x):
        y = np.tan(float_data(x))
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        # dy/dx = 1 / cos^2(x) = 1 + y^2
        (y,) = ctx.saved_tensors
        return grad * (y * y + 1)


class Asin(Op):
    """y = arcsin(x), NaN outside [-1, 1]. Shapes: x (*) -> y (*)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        with np.errstate(invalid="ignore"):
            return np.arcsin(float_data(x))

    @staticmethod
    def backward(ctx, grad):
        # dy/dx = 1 / sqrt(1 - x^2)
        (x,) = ctx.saved_tensors
        with np.errstate(divide="ignore", invalid="ignore"):
            return grad / _sqrt(1 - x * x)


class Acos(Op):
    """y = arccos(x), NaN outside [-1, 1]. Shapes: x (*) -> y (*)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        with np.errstate(invalid="ignore"):
            return np.arccos(float_data(x))

    @staticmethod
    def backward(ctx, grad):
        # dy/dx = -1 / sqrt(1 - x^2)
        (x,) = ctx.saved_tensors
        with np.errstate(divide="ignore", invalid="ignore"):
            return -grad / _sqrt(1 - x * x)


class Atan(Op):
    """y = arctan(x). Shapes: x (*) -> y (*)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.arctan(float_data(x))

    @staticmethod
    def backward(ctx, grad):
        # dy/dx = 1 / (1 + x^2)
        (x,) = ctx.saved_tensors
        return grad / (x * x + 1)


class Atan2(Op):
    """z = atan2(y, x), the angle of the point (x, y). Shapes: y, x broadcastable -> z."""

    @staticmethod
    def forward(ctx, y, x):
        ctx.save_for_backward(y, x)
        return np.arctan2(float_data(y), float_data(x))

    @staticmethod
    def backward(ctx, grad):
        # dz/dy = x / (x^2 + y^2),  dz/dx = -y / (x^2 + y^2)
        y, x = ctx.saved_tensors
        y_needs, x_needs = ctx.needs_input_grad
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = grad / (x * x + y * y)
        return (
            unbroadcast(scale * x, y.shape, y.dtype) if y_needs else None,
            unbroadcast(-scale * y, x.shape, x.dtype) if x_needs else None,
        )


class Sinh(Op):
    """y = sinh(x). Shapes: x (*) -> y (*)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.sinh(float_data(x))

    @staticmethod
    def backward(ctx, grad):
        # dy/dx = cosh(x)
        (x,) = ctx.saved_tensors
        return grad * _cosh(x)


class Cosh(Op):
    """y = cosh(x). Shapes: x (*) -> y (*)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.cosh(float_data(x))

    @staticmethod
    def backward(ctx, grad):
        # dy/dx = sinh(x)
        (x,) = ctx.saved_tensors
        return grad * _sinh(x)


class Exp2(Op):
    """y = 2^x. Shapes: x (*) -> y (*)."""

    @staticmethod
    def forward(ctx, x):
        y = np.exp2(float_data(x))
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        # dy/dx = ln(2) 2^x = ln(2) y
        (y,) = ctx.saved_tensors
        return grad * y * math.log(2)


class Expm1(Op):
    """y = e^x - 1 (accurate for small x). Shapes: x (*) -> y (*)."""

    @staticmethod
    def forward(ctx, x):
        y = np.expm1(float_data(x))
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        # dy/dx = e^x = y + 1
        (y,) = ctx.saved_tensors
        return grad * (y + 1)


class Log2(Op):
    """y = log2(x). Shapes: x (*) -> y (*)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.log2(float_data(x))

    @staticmethod
    def backward(ctx, grad):
        # dy/dx = 1 / (x ln 2)
        (x,) = ctx.saved_tensors
        return grad / (x * math.log(2))


class Log10(Op):
    """y = log10(x). Shapes: x (*) -> y (*)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.log10(float_data(x))

    @staticmethod
    def backward(ctx, grad):
        # dy/dx = 1 / (x ln 10)
        (x,) = ctx.saved_tensors
        return grad / (x * math.log(10))


class Log1p(Op):
    """y = ln(1 + x) (accurate for small x). Shapes: x (*) -> y (*)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.log1p(float_data(x))

    @staticmethod
    def backward(ctx, grad):
        # dy/dx = 1 / (1 + x)
        (x,) = ctx.saved_tensors
        return grad / (x + 1)


class Rsqrt(Op):
    """y = 1 / sqrt(x). Shapes: x (*) -> y (*)."""

    @staticmethod
    def forward(ctx, x):
        with np.errstate(divide="ignore", invalid="ignore"):
            y = 1 / np.sqrt(float_data(x))
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        # dy/dx = -1/2 x^(-3/2) = -y^3 / 2
        (y,) = ctx.saved_tensors
        return grad * (y * y * y) * -0.5


class Reciprocal(Op):
    """y = 1 / x. Shapes: x (*) -> y (*)."""

    @staticmethod
    def forward(ctx, x):
        with np.errstate(divide="ignore"):
            y = 1 / float_data(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        # dy/dx = -1 / x^2 = -y^2
        (y,) = ctx.saved_tensors
        return -grad * (y * y)


class Square(Op):
    """y = x^2 (integers stay integers). Shapes: x (*) -> y (*)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.square(x._data)

    @staticmethod
    def backward(ctx, grad):
        # dy/dx = 2x
        (x,) = ctx.saved_tensors
        return grad * x * 2


class Flat(Op):
    """y = round_fn(x) for a step function (floor, ceil, round, trunc, sign): its derivative is
    0 wherever it exists, so PyTorch's gradient is all zeros. Shapes: x (*) -> y (*)."""

    @staticmethod
    def forward(ctx, x, round_fn):
        ctx.shape = x.shape
        y = round_fn(x._data)
        return y if y.dtype == x.dtype else x._data.copy()  # (integers are already whole numbers)

    @staticmethod
    def backward(ctx, grad):
        # dy/dx = 0 (almost everywhere): exact zeros, even for an infinite upstream gradient
        return either.keep(grad, np.zeros(ctx.shape, bool)), None


class Floor(Flat):
    """y = floor(x), the largest whole number <= x; zero gradient."""


class Ceil(Flat):
    """y = ceil(x), the smallest whole number >= x; zero gradient."""


class Trunc(Flat):
    """y = trunc(x), x rounded toward zero; zero gradient."""


class Round(Flat):
    """y = round(x), half to even; zero gradient."""


class Sign(Flat):
    """y = sign(x) in {-1, 0, 1}; zero gradient."""


def sin(x: Tensor) -> Tensor:
    """Elementwise sine (radians)."""
    return Sin.apply(x)


def cos(x: Tensor) -> Tensor:
    """Elementwise cosine (radians)."""
    return Cos.apply(x)


def tan(x: Tensor) -> Tensor:
    """Elementwise tangent (radians)."""
    return Tan.apply(x)


def asin(x: Tensor) -> Tensor:
    """Elementwise arcsine (NaN outside [-1, 1])."""
    return Asin.apply(x)


def acos(x: Tensor) -> Tensor:
    """Elementwise arccosine (NaN outside [-1, 1])."""
    return Acos.apply(x)


def atan(x: Tensor) -> Tensor:
    """Elementwise arctangent."""
    return Atan.apply(x)


def atan2(input: Tensor, other: Tensor | float) -> Tensor:
    """Elementwise angle of the point (other, input): ``atan2(y, x)``, broadcasting."""
    if not isinstance(input, Tensor):
        raise TypeError(f"atan2(): argument 'input' must be Tensor, not {type(input).__name__}")
    return Atan2.apply(*lift(input, other))


def sinh(x: Tensor) -> Tensor:
    """Elementwise hyperbolic sine."""
    return Sinh.apply(x)


def cosh(x: Tensor) -> Tensor:
    """Elementwise hyperbolic cosine."""
    return Cosh.apply(x)


def exp2(x: Tensor) -> Tensor:
    """Elementwise 2^x."""
    return Exp2.apply(x)


def expm1(x: Tensor) -> Tensor:
    """Elementwise e^x - 1, accurate near 0."""
    return Expm1.apply(x)


def log2(x: Tensor) -> Tensor:
    """Elementwise base-2 logarithm."""
    return Log2.apply(x)


def log10(x: Tensor) -> Tensor:
    """Elementwise base-10 logarithm."""
    return Log10.apply(x)


def log1p(x: Tensor) -> Tensor:
    """Elementwise ln(1 + x), accurate near 0."""
    return Log1p.apply(x)


def rsqrt(x: Tensor) -> Tensor:
    """Elementwise 1 / sqrt(x)."""
    return Rsqrt.apply(x)


def reciprocal(x: Tensor) -> Tensor:
    """Elementwise 1 / x."""
    return Reciprocal.apply(x)


def square(x: Tensor) -> Tensor:
    """Elementwise x^2."""
    return Square.apply(x)


def floor(x: Tensor) -> Tensor:
    """Round down to an integer value (integer tensors are unchanged); zero gradient."""
    return Floor.apply(x, np.floor)


def ceil(x: Tensor) -> Tensor:
    """Round up to an integer value; zero gradient."""
    return Ceil.apply(x, np.ceil)


def trunc(x: Tensor) -> Tensor:
    """Round toward zero; zero gradient."""
    return Trunc.apply(x, np.trunc)


def round(x: Tensor, *, decimals: int = 0) -> Tensor:
    """Round half to even (as PyTorch), to ``decimals`` places; zero gradient."""
    if decimals == 0:
        return Round.apply(x, np.round)
    return Round.apply(x, lambda a: np.round(a, decimals))


def sign(x: Tensor) -> Tensor:
    """-1, 0 or 1 by the sign of each element (booleans stay booleans); zero gradient."""
    if x.dtype == np.bool_:
        return Tensor._make(x._data.copy())
    return Sign.apply(x, np.sign)
