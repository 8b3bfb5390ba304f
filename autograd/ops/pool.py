"""Pooling: max_pool2d, avg_pool2d, adaptive_avg_pool2d (NCHW, PyTorch semantics).

Max pooling keeps, per window, the position of its maximum; backward routes each output
gradient to that one position (ties: the first in scan order; NaNs: the last NaN, as
PyTorch's CPU kernel), and the second derivative reads the gradient back there:

    y = max over the window of x          dx[argmax] += dy       (MaxPoolScatter)
    gx = scatter of g at the argmaxes      dg = dgx[argmax]       (MaxPoolGather)

Average pooling is a window sum (a loop over the kH * kW kernel offsets, each a strided
view) divided by each window's count; the sum's backward spreads each window's gradient
over its positions, and the two are each other's adjoints, so every higher derivative works
too. Adaptive pooling averages bins of different sizes, bin i covering
floor(i*H/oH) .. ceil((i+1)*H/oH) - 1; it is linear, its adjoint spreads each bin's value
evenly back over the bin.

The code below is the reference; by default the ops run the faster kernels of
``autograd/kernels/pool.py`` (``autograd.kernels.reference()`` switches to this code).
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from autograd import kernels
from autograd.function import Op
from autograd.kernels import pool as fast
from autograd.kernels.pool import window_argmax as _window_argmax  # noqa: F401  (read here by the tests)
from autograd.kernels.pool import window_max as _window_max  # noqa: F401  (read here by the tests)
from autograd.ops import either
from autograd.ops.geometry import (  # noqa: F401  (pool_sizes, ...: imported from here)
    IntPair,
    PoolGeometry,
    adaptive_bins,
    adaptive_output_size,
    check_divisor,
    pool_sizes,
)
from autograd.ops.geometry import pool_geometry as _pool_geometry
from autograd.tensor import Tensor

# ------------------------------------------------------------------ max pooling


class MaxPool2d(Op):
    """y = max over each window. Shapes: x (N, C, H, W) -> y (N, C, H_out, W_out)."""

    @staticmethod
    def forward(ctx, x, geo):
        padded = _pad(x._data, geo, -np.inf)  # padding never wins a maximum
        if kernels.enabled:
            best, which = fast.window_max(padded, geo, argmax=ctx.needs_input_grad[0])
        else:
            best, which = window_max(padded, geo)
        ctx.save_for_backward(which)  # each window's argmax: all that backward needs
        ctx.geo = geo
        return best

    @staticmethod
    def backward(ctx, grad):
        # dy/dx = 1 at the argmax of each window, 0 elsewhere: route the gradient there
        (which,) = ctx.saved_tensors
        return either.apply(MaxPoolScatter, (grad,), which, ctx.geo), None


class MaxPoolScatter(Op):
    """gx = each window's gradient placed at its argmax (overlapping windows add up).

    Shapes: g (N, C, H_out, W_out), which (N, C, H_out, W_out) kernel offsets -> gx (N, C, H, W).
    """

    @staticmethod
    def forward(ctx, g, which, geo):
        ctx.save_for_backward(which)
        ctx.geo = geo
        if kernels.enabled:
            return fast.max_pool_scatter(g._data, which, geo)
        # gx_pad[n, c, y*sh + i*dh, x*sw + j*dw] += g[n, c, y, x] where offset (i, j) is the argmax
        (ph, pw), (h, w) = geo.padding, geo.in_hw
        out = np.zeros(g.shape[:2] + geo.padded_hw(), g.dtype)
        for i, j, k in geo.offsets():
            geo.view(out, i, j)[...] += np.where(which == k, g._data, 0)  # (where: 0 * inf would be NaN)
        return out[..., ph : ph + h, pw : pw + w]

    @staticmethod
    def backward(ctx, grad):
        # linear in g: read the gradient back at the same argmax positions
        (which,) = ctx.saved_tensors
        return either.apply(MaxPoolGather, (grad,), which, ctx.geo), None, None


class MaxPoolGather(Op):
    """y = x at each window's recorded argmax. Shapes: x (N, C, H, W) -> y (N, C, H_out, W_out)."""

    @staticmethod
    def forward(ctx, x, which, geo):
        ctx.save_for_backward(which)
        ctx.geo = geo
        # a gather by flat position (masking each offset's view would multiply 0 * inf elsewhere)
        n, c, h, w = x.shape
        at = _flat_indices(which, geo).reshape(n, c, -1)
        return np.take_along_axis(x._data.reshape(n, c, h * w), at, axis=2).reshape(n, c, *geo.out_hw)

    @staticmethod
    def backward(ctx, grad):
        # the adjoint of gathering is scattering back
        (which,) = ctx.saved_tensors
        return either.apply(MaxPoolScatter, (grad,), which, ctx.geo), None, None


def window_max(padded: np.ndarray, geo: PoolGeometry) -> tuple[np.ndarray, np.ndarray]:
    """Each window's maximum (NaN wins) and which kernel offset i * kW + j holds it, PyTorch's
    CPU rule: ties go to the first in scan order, a NaN maximum to the last NaN, and never to
    padding (a window of -inf values picks its first real position).
    Shapes: padded (N, C, H_pad, W_pad) -> two (N, C, H_out, W_out) arrays."""
    (kh, kw), (sh, sw), (dh, dw), (ho, wo) = geo.kernel, geo.stride, geo.dilation, geo.out_hw
    span = (dh * (kh - 1) + 1, dw * (kw - 1) + 1)  # the dilated kernel
    windows = sliding_window_view(padded, span, axis=(2, 3))[:, :, : (ho - 1) * sh + 1 : sh, : (wo - 1) * sw + 1 : sw]
    windows = windows[..., ::dh, ::dw].reshape(*padded.shape[:2], ho, wo, kh * kw)  # the last axis: offsets
    best = windows.max(-1)  # (np.max propagates NaN)
    real = np.stack([geo.inside(i, j) for i, j, _ in geo.offsets()], -1)  # (H_out, W_out, kH * kW)
    first_max = np.argmax((windows == best[..., None]) & real, -1)
    nan = np.isnan(windows)
    last_nan = kh * kw - 1 - np.argmax(nan[..., ::-1], -1)
    return best, np.where(nan.any(-1), last_nan, first_max)


def _argmax(padded: np.ndarray, geo: PoolGeometry) -> np.ndarray:
    """Each window's argmax (a kernel offset), on the fast kernel or the reference."""
    return fast.window_max(padded, geo, argmax=True)[1] if kernels.enabled else window_max(padded, geo)[1]


def _pad(x: np.ndarray, geo: PoolGeometry, value: float) -> np.ndarray:
    """x with ``value`` around it: the padding, and room for windows that reach past it (ceil_mode)."""
    (ph, pw), (hh, ww) = geo.padding, geo.padded_hw()
    h, w = x.shape[-2:]
    if (ph, pw) == (0, 0) and (hh, ww) == (h, w):
        return x
    return np.pad(x, ((0, 0), (0, 0), (ph, hh - h - ph), (pw, ww - w - pw)), constant_values=value)


def _flat_indices(which: np.ndarray, geo: PoolGeometry) -> np.ndarray:
    """Each window's argmax (a kernel offset) as the flat position h * W + w in its input plane."""
    (_, kw), (sh, sw), (ph, pw), (dh, dw), (ho, wo) = geo.kernel, geo.stride, geo.padding, geo.dilation, geo.out_hw
    which = which.astype(np.int64)  # (offsets are stored small; row * dilation may not fit)
    rows = np.arange(ho).reshape(-1, 1) * sh - ph + (which // kw) * dh
    cols = np.arange(wo) * sw - pw + (which % kw) * dw
    return rows * geo.in_hw[1] + cols


# ------------------------------------------------------------------ average pooling


class WindowSum(Op):
    """y = the sum of each window of x (zero padding). Shapes: x (N, C, H, W) -> y (N, C, H_out, W_out)."""

    @staticmethod
    def forward(ctx, x, geo):
        ctx.geo = geo
        padded = _pad(x._data, geo, 0)
        out = np.zeros(x.shape[:2] + geo.out_hw, dtype=x.dtype)
        for i, j, _ in geo.offsets():
            out += geo.view(padded, i, j)
        return out

    @staticmethod
    def backward(ctx, grad):
        # dy/dx = 1 for every position in a window: each window's gradient spreads over them
        return either.apply(WindowSpread, (grad,), ctx.geo), None


class WindowSpread(Op):
    """gx = every window's value added at each of its positions: the adjoint of WindowSum.

    Shapes: g (N, C, H_out, W_out) -> gx (N, C, H, W).
    """

    @staticmethod
    def forward(ctx, g, geo):
        ctx.geo = geo
        (ph, pw), (h, w) = geo.padding, geo.in_hw
        out = np.zeros(g.shape[:2] + geo.padded_hw(), dtype=g.dtype)
        for i, j, _ in geo.offsets():
            geo.view(out, i, j)[...] += g._data
        return out[..., ph : ph + h, pw : pw + w]

    @staticmethod
    def backward(ctx, grad):
        # linear in g: read the gradient back as window sums
        return either.apply(WindowSum, (grad,), ctx.geo), None


def _window_counts(n: int, out: int, k: int, s: int, p: int, include_pad: bool) -> np.ndarray:
    """How many positions window i covers along one axis (padding counted with ``include_pad``;
    a ceil_mode window reaching past the padding never counts that part)."""
    start = np.arange(out) * s - p
    end = np.minimum(start + k, n + p)
    if not include_pad:
        start, end = np.maximum(start, 0), np.minimum(end, n)
    return np.maximum(end - start, 1)


# ------------------------------------------------------------------ adaptive average pooling


class AdaptiveAvgPool2d(Op):
    """y = the mean of each adaptive bin. Shapes: x (..., H, W) -> y (..., oH, oW)."""

    @staticmethod
    def forward(ctx, x, out_hw):
        ctx.in_hw = x.shape[-2:]
        return _bin_means(x._data, out_hw)

    @staticmethod
    def backward(ctx, grad):
        # linear: each bin's gradient spread evenly over its inputs
        return either.apply(AdaptiveAvgSpread, (grad,), ctx.in_hw), None


class AdaptiveAvgSpread(Op):
    """gx = each bin's value spread evenly over its inputs: the adjoint of AdaptiveAvgPool2d.
    Shapes: g (..., oH, oW) -> gx (..., H, W)."""

    @staticmethod
    def forward(ctx, g, in_hw):
        ctx.out_hw = g.shape[-2:]
        return _bin_spread(g._data, in_hw)

    @staticmethod
    def backward(ctx, grad):
        # linear in g: read the gradient back as bin means
        return either.apply(AdaptiveAvgPool2d, (grad,), ctx.out_hw), None


def _bin_means_sliced(x: np.ndarray, out_hw: tuple[int, int]) -> np.ndarray:
    """Each bin's mean from slices of x: the means over each column bin, then over each row bin.
    Shapes: x (..., H, W) -> (..., oH, oW)."""
    (h, w), (oh, ow) = x.shape[-2:], out_hw
    with np.errstate(invalid="ignore", over="ignore"):  # inf - inf in a bin: NaN, as PyTorch's
        cols = np.stack([x[..., a:b].mean(-1) for a, b in adaptive_bins(w, ow)], -1)  # (..., H, oW)
        return np.stack([cols[..., a:b, :].mean(-2) for a, b in adaptive_bins(h, oh)], -2)


def _bin_spread_sliced(g: np.ndarray, in_hw: tuple[int, int]) -> np.ndarray:
    """Each bin's share g / its size added to the slice it covers (overlapping bins add up).
    Shapes: g (..., oH, oW) -> (..., H, W)."""
    (oh, ow), (h, w) = g.shape[-2:], in_hw
    cols = np.zeros(g.shape[:-1] + (w,), g.dtype)  # (..., oH, W)
    out = np.zeros(g.shape[:-2] + (h, w), g.dtype)
    with np.errstate(invalid="ignore"):  # inf - inf where bins overlap: NaN, as PyTorch's
        for j, (a, b) in enumerate(adaptive_bins(w, ow)):
            cols[..., a:b] += g[..., j : j + 1] / (b - a)
        for i, (a, b) in enumerate(adaptive_bins(h, oh)):
            out[..., a:b, :] += cols[..., i : i + 1, :] / (b - a)
    return out


def _bin_means(x: np.ndarray, out_hw: tuple[int, int]) -> np.ndarray:
    """The bin means on the fast kernel (finite values) or the reference slices."""
    out = fast.bin_means(x, out_hw) if kernels.enabled else None
    return _bin_means_sliced(x, out_hw) if out is None else out


def _bin_spread(g: np.ndarray, in_hw: tuple[int, int]) -> np.ndarray:
    """The bin spread on the fast kernel (finite values) or the reference slices."""
    out = fast.bin_spread(g, in_hw) if kernels.enabled else None
    return _bin_spread_sliced(g, in_hw) if out is None else out


# ------------------------------------------------------------------ public API


def max_pool2d(
    input: Tensor,
    kernel_size: IntPair,
    stride: IntPair | None = None,
    padding: IntPair = 0,
    dilation: IntPair = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
) -> Tensor | tuple[Tensor, Tensor]:
    """Max over kH x kW windows (stride defaults to the kernel size), PyTorch's ``F.max_pool2d``.

    Shapes: (N, C, H, W) or (C, H, W) -> (..., H_out, W_out) with
    H_out = (H + 2P - D*(K-1) - 1) / S + 1 (floor, or ceil with ``ceil_mode``).
    With ``return_indices`` also returns each maximum's flat position h * W + w in its plane.
    """
    geo = _pool_geometry(input, kernel_size, stride, padding, dilation, ceil_mode, "max_pool2d")
    x = input.unsqueeze(0) if input.ndim == 3 else input
    out = MaxPool2d.apply(x, geo)
    if input.ndim == 3:
        out = out.squeeze(0)
    if not return_indices:
        return out
    which = _argmax(_pad(x._data, geo, -np.inf), geo)  # the argmax again, as positions
    return out, Tensor._make(_flat_indices(which, geo).reshape(out.shape))


def avg_pool2d(
    input: Tensor,
    kernel_size: IntPair,
    stride: IntPair | None = None,
    padding: IntPair = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    divisor_override: int | None = None,
) -> Tensor:
    """Mean over kH x kW windows, PyTorch's ``F.avg_pool2d`` (zero padding counts by default).

    Shapes: (N, C, H, W) or (C, H, W) -> (..., H_out, W_out), H_out = (H + 2P - K) / S + 1.
    """
    geo = _pool_geometry(input, kernel_size, stride, padding, 1, ceil_mode, "avg_pool2d")
    if input.dtype.kind != "f":
        raise TypeError(f"avg_pool2d needs a floating-point input, got {input.dtype}")
    check_divisor(divisor_override, "avg_pool2d")
    if divisor_override is not None:
        divisor = np.full(geo.out_hw, float(divisor_override))
    else:
        counts = (
            _window_counts(n, o, k, s, p, count_include_pad)
            for n, o, k, s, p in zip(geo.in_hw, geo.out_hw, geo.kernel, geo.stride, geo.padding)
        )
        divisor = np.multiply.outer(*counts).astype(np.float64)
    x = input if input.ndim == 4 else input.unsqueeze(0)
    (kh, kw), (oh, ow) = geo.kernel, geo.out_hw
    tiles = geo.stride == geo.kernel and geo.padding == (0, 0) and geo.in_hw == (oh * kh, ow * kw)
    if kernels.enabled and tiles and divisor_override is None and kh * kw > 16:
        # speed: large windows that tile the input (adaptive pooling to a few bins): one mean per block
        # of a reshape beats a loop over the kh * kw offsets (which wins for small windows)
        out = x.reshape(x.shape[0], x.shape[1], oh, kh, ow, kw).mean((3, 5))
    else:
        out = WindowSum.apply(x, geo) * Tensor._make((1.0 / divisor).astype(input.dtype))
    return out if input.ndim == 4 else out.squeeze(0)


def adaptive_avg_pool2d(input: Tensor, output_size: IntPair | tuple[int | None, int | None]) -> Tensor:
    """Average into a fixed output grid whatever the input size, PyTorch's ``F.adaptive_avg_pool2d``.

    ``output_size=1`` is global average pooling. Shapes: (N, C, H, W) or (C, H, W) -> (..., oH, oW).
    """
    if input.ndim not in (3, 4):
        raise ValueError(f"adaptive_avg_pool2d: expected (N, C, H, W) or (C, H, W), got shape {input.shape}")
    h, w = input.shape[-2:]
    oh, ow = (n if o is None else o for o, n in zip(adaptive_output_size(output_size, "adaptive_avg_pool2d"), (h, w)))
    if kernels.enabled and (oh, ow) == (1, 1):  # speed: global pooling is a plain mean
        return input.mean((-2, -1), keepdim=True)
    if kernels.enabled and h % oh == 0 and w % ow == 0:
        # speed: equal bins are a plain average pooling (no n x n matrices)
        return avg_pool2d(input, (h // oh, w // ow))
    return AdaptiveAvgPool2d.apply(input, (oh, ow))
