"""Activations: sigmoid, tanh, relu, softmax, log_softmax — all numerically stable."""

from __future__ import annotations

import numpy as np

from autograd import kernels, workspace
from autograd.function import Op
from autograd.kernels import pointwise as fast
from autograd.ops import either
from autograd.ops.pointwise import float_data
from autograd.tensor import Tensor


class Sigmoid(Op):
    """y = 1 / (1 + e^-x). Shapes: x (*) -> y (*)."""

    @staticmethod
    def forward(ctx, x):
        data = float_data(x)
        e = np.exp(-np.abs(data))  # never overflows: the exponent is <= 0
        y = np.where(data >= 0, 1 / (1 + e), e / (1 + e)).astype(data.dtype, copy=False)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        # dy/dx = y (1 - y) = y - y^2: the local gradient needs only the output
        (y,) = ctx.saved_tensors
        return grad * (y - y * y)


class Tanh(Op):
    """y = tanh(x). Shapes: x (*) -> y (*)."""

    @staticmethod
    def forward(ctx, x):
        y = np.tanh(float_data(x))
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad):
        # dy/dx = 1 - y^2 (as a factor: grad - grad y^2 would be inf - inf for an infinite grad)
        (y,) = ctx.saved_tensors
        return grad * (1 - y * y)


class ReLU(Op):
    """y = max(x, 0). Shapes: x (*) -> y (*)."""

    @staticmethod
    def forward(ctx, x):
        y = fast.relu(x._data) if kernels.enabled else np.maximum(x._data, 0)
        positive = np.not_equal(y, 0, out=workspace.empty(x.shape, bool))  # x > 0, or NaN (as PyTorch)
        ctx.save_for_backward(positive)
        return y

    @staticmethod
    def backward(ctx, grad):
        # dy/dx = 1 where x > 0 (or NaN), else 0: the Jacobian is diagonal, so multiply elementwise
        (positive,) = ctx.saved_tensors
        return either.keep(grad, positive)


class LeakyReLU(Op):
    """y = x where x > 0, else slope * x. Shapes: x (*) -> y (*)."""

    @staticmethod
    def forward(ctx, x, slope):
        positive = x._data > 0
        ctx.save_for_backward(positive)
        ctx.slope = slope
        return np.where(positive, x._data, x._data * np.asarray(slope, x.dtype))

    @staticmethod
    def backward(ctx, grad):
        # dy/dx = 1 where x > 0, else slope (diagonal again: multiply elementwise)
        (positive,) = ctx.saved_tensors
        return grad * np.where(positive, 1.0, ctx.slope).astype(either.data(grad).dtype), None


class Softmax(Op):
    """y_i = e^(x_i - max) / sum_j e^(x_j - max) along ``dim``. Shapes: x (*) -> y (*)."""

    @staticmethod
    def forward(ctx, x, dim):
        data = float_data(x)
        e = np.exp(data - np.max(data, axis=dim, keepdims=True, initial=-np.inf))  # (initial: a size-0 dim)
        y = np.asarray(e / np.sum(e, axis=dim, keepdims=True), order="C")  # (contiguous, as PyTorch's)
        ctx.save_for_backward(y)
        ctx.dim = dim
        return y

    @staticmethod
    def backward(ctx, grad):
        # dx = y * (g - sum(g * y)): the Jacobian diag(y) - y y^T applied without forming it
        (y,) = ctx.saved_tensors
        return y * (grad - either.sum_keep(grad * y, ctx.dim)), None


class LogSoftmax(Op):
    """y = x - max - log(sum e^(x - max)) along ``dim``. Shapes: x (*) -> y (*)."""

    @staticmethod
    def forward(ctx, x, dim):
        data = float_data(x)
        shifted = data - np.max(data, axis=dim, keepdims=True, initial=-np.inf)
        with np.errstate(divide="ignore"):  # (the sum is >= 1, or 0 over an empty dimension)
            y = np.asarray(shifted - np.log(np.sum(np.exp(shifted), axis=dim, keepdims=True)), order="C")
        ctx.save_for_backward(y)
        ctx.dim = dim
        return y

    @staticmethod
    def backward(ctx, grad):
        # dx = g - softmax(x) * sum(g), with softmax(x) = e^y
        (y,) = ctx.saved_tensors
        return grad - either.exp(y) * either.sum_keep(grad, ctx.dim), None


def _dim(x: Tensor, dim: int, name: str) -> int:
    from autograd.ops.reduce import normalize_dims

    if dim is None:
        raise TypeError(f"{name}() needs dim: the dimension that should sum to one, e.g. dim=-1")
    (d,) = normalize_dims(dim, x.ndim) or (None,)
    return d


def sigmoid(x: Tensor) -> Tensor:
    """Logistic sigmoid, stable for large |x|."""
    return Sigmoid.apply(x)


def tanh(x: Tensor) -> Tensor:
    """Hyperbolic tangent."""
    return Tanh.apply(x)


def relu(x: Tensor) -> Tensor:
    """Rectified linear unit max(x, 0)."""
    return ReLU.apply(x)


def leaky_relu(x: Tensor, negative_slope: float = 0.01) -> Tensor:
    """x where x > 0, else negative_slope * x."""
    return LeakyReLU.apply(x, negative_slope)


def softmax(x: Tensor, dim: int) -> Tensor:
    """Softmax along ``dim`` (subtracts the max first, so it never overflows)."""
    return Softmax.apply(x, _dim(x, dim, "softmax"))


def log_softmax(x: Tensor, dim: int) -> Tensor:
    """Log of softmax along ``dim``, computed stably (log-sum-exp)."""
    return LogSoftmax.apply(x, _dim(x, dim, "log_softmax"))
