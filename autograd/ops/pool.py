"""Pooling: max_pool2d, avg_pool2d, adaptive_avg_pool2d (NCHW, PyTorch semantics).

Max pooling keeps, per window, the position of its maximum; backward routes each output
gradient to that one position (ties: the first in scan order, as PyTorch). The loops below
run over the kH * kW kernel offsets only, each step a whole-array numpy operation.

Average pooling is a window sum (the same loop over kernel offsets) divided by each
window's count; the sum's backward spreads each window's gradient over its positions, and
the two are each other's adjoints, so every higher derivative works too. Adaptive pooling
with bins of different sizes is linear and separable: out = P_h @ x @ P_w^T with small
constant averaging matrices, written with ``matmul``.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from autograd import workspace
from autograd.function import Op
from autograd.ops import dual
from autograd.ops.conv import IntPair, _pair
from autograd.tensor import Tensor


@dataclass(frozen=True)
class PoolGeometry:
    """Kernel, stride, padding, dilation as (height, width) pairs; input and output sizes."""

    kernel: tuple[int, int]
    stride: tuple[int, int]
    padding: tuple[int, int]
    dilation: tuple[int, int]
    in_hw: tuple[int, int]
    out_hw: tuple[int, int]

    def offsets(self) -> list[tuple[int, int, int]]:
        """Each kernel offset (i, j) with its flat number i * kW + j."""
        kh, kw = self.kernel
        return [(i, j, i * kw + j) for i in range(kh) for j in range(kw)]

    def view(self, padded: np.ndarray, i: int, j: int) -> np.ndarray:
        """The strided view of ``padded`` seen by kernel offset (i, j): shape (N, C, H_out, W_out)."""
        (sh, sw), (dh, dw), (ho, wo) = self.stride, self.dilation, self.out_hw
        return padded[..., i * dh : i * dh + sh * (ho - 1) + 1 : sh, j * dw : j * dw + sw * (wo - 1) + 1 : sw]

    def padded_hw(self) -> tuple[int, int]:
        """Size of the padded input buffer: the windows may reach past the right padding (ceil_mode)."""
        return tuple(
            max(n + 2 * p, (o - 1) * s + d * (k - 1) + 1)
            for n, p, o, s, d, k in zip(self.in_hw, self.padding, self.out_hw, self.stride, self.dilation, self.kernel)
        )


def _pool_out(n: int, k: int, s: int, p: int, d: int, ceil_mode: bool) -> int:
    span = n + 2 * p - d * (k - 1) - 1
    out = (-(-span // s) if ceil_mode else span // s) + 1
    if ceil_mode and (out - 1) * s >= n + p:  # the last window must start inside the input or left padding
        out -= 1
    return out


def _pool_geometry(x: Tensor, kernel_size, stride, padding, dilation, ceil_mode: bool, fn: str) -> PoolGeometry:
    if x.ndim not in (3, 4):
        raise ValueError(f"{fn}: expected input of shape (N, C, H, W) or (C, H, W), got shape {x.shape}")
    k = _pair(kernel_size, "kernel_size")
    s = k if stride is None or (isinstance(stride, (tuple, list)) and not stride) else _pair(stride, "stride")
    p, d = _pair(padding, "padding"), _pair(dilation, "dilation")
    if min(k) < 1 or min(s) < 1 or min(d) < 1 or min(p) < 0:
        raise ValueError(
            f"{fn}: kernel_size, stride and dilation must be >= 1 and padding >= 0; got kernel_size={k}, "
            f"stride={s}, padding={p}, dilation={d}"
        )
    if any(pi > ki // 2 for pi, ki in zip(p, k)):  # PyTorch's rule (on the kernel without dilation)
        raise ValueError(f"{fn}: padding {p} must be at most half of kernel_size {k}, rounded down")
    in_hw = x.shape[-2:]
    out = tuple(_pool_out(n, ki, si, pi, di, ceil_mode) for n, ki, si, pi, di in zip(in_hw, k, s, p, d))
    if min(out) < 1:
        raise ValueError(
            f"{fn}: output size (N + 2P - D*(F-1) - 1)/S + 1 is {out} for input {in_hw}, kernel {k}, stride {s}, "
            f"padding {p}, dilation {d}: it must be at least 1; use a smaller kernel or more padding"
        )
    return PoolGeometry(k, s, p, d, in_hw, out)


def _pad(x: np.ndarray, geo: PoolGeometry, value: float) -> np.ndarray:
    (ph, pw), (hh, ww) = geo.padding, geo.padded_hw()
    h, w = x.shape[-2:]
    if (ph, pw) == (0, 0) and (hh, ww) == (h, w):
        return x
    return np.pad(x, ((0, 0), (0, 0), (ph, hh - h - ph), (pw, ww - w - pw)), constant_values=value)


def _window_max(padded: np.ndarray, geo: PoolGeometry, argmax: bool) -> tuple[np.ndarray, np.ndarray | None]:
    """Each window's maximum, an elementwise max over the kH * kW strided views (NaN wins), and
    with ``argmax`` which kernel offset holds it (see _window_argmax for the rule).

    A maximum is only taken over by a strictly larger value, so without NaNs the argmax is
    the last offset k at which the running maximum grew: the max over k of k * grew_k.
    """
    offsets = geo.offsets()
    best = workspace.contiguous(geo.view(padded, *offsets[0][:2]))
    which = np.zeros(best.shape, _index_dtype(geo)) if argmax else None
    for i, j, k in offsets[1:]:
        v = geo.view(padded, i, j)
        if argmax:
            v = workspace.contiguous(v)  # read the strided view once
            np.maximum(which, np.multiply(v > best, k, dtype=which.dtype), out=which)
        np.maximum(best, v, out=best)
    if argmax and np.isnan(best).any():  # NaN maxima: the exact scan
        which = _window_argmax(padded, best, geo)
    return best, which


def _index_dtype(geo: PoolGeometry) -> np.dtype:
    """The smallest integer type for a kernel offset (small types are faster to scan)."""
    size = geo.kernel[0] * geo.kernel[1]
    return np.dtype(np.int8 if size <= 127 else np.int16 if size <= 32767 else np.int32)


def _window_argmax(padded: np.ndarray, best: np.ndarray, geo: PoolGeometry) -> np.ndarray:
    """Which kernel offset (i * kW + j) holds each window's maximum; ties go to the first in
    scan order, as PyTorch's; a NaN maximum goes to the NaN."""
    dtype = _index_dtype(geo)
    which = np.zeros(best.shape, dtype)
    free = np.ones(best.shape, bool)  # windows whose maximum is not found yet
    nan = np.isnan(best).any()
    for i, j, k in geo.offsets():
        v = geo.view(padded, i, j)
        hit = v == best
        if nan:
            hit |= np.isnan(v)
        hit &= free
        free ^= hit
        which += np.multiply(hit, k, dtype=dtype)  # (np.copyto with where= is far slower)
    return which


class MaxPool2d(Op):
    """y = max over each window. Shapes: x (N, C, H, W) -> y (N, C, H_out, W_out)."""

    @staticmethod
    def forward(ctx, x, geo):
        best, which = _window_max(_pad(x._data, geo, -np.inf), geo, argmax=ctx.needs_input_grad[0])
        ctx.save_for_backward(which)  # each window's argmax: all that backward needs
        ctx.geo = geo
        return best

    @staticmethod
    def backward(ctx, grad):
        # dy/dx = 1 at the argmax of each window, 0 elsewhere: route the gradient there
        (which,) = ctx.saved_tensors
        return dual.apply(MaxPoolScatter, (grad,), which, ctx.geo), None


class MaxPoolScatter(Op):
    """gx = each window's gradient placed at its argmax (overlapping windows add up).

    Shapes: g (N, C, H_out, W_out), which (N, C, H_out, W_out) kernel offsets -> gx (N, C, H, W).
    """

    @staticmethod
    def forward(ctx, g, which, geo):
        ctx.save_for_backward(which)
        ctx.geo = geo
        (ph, pw), (h, w) = geo.padding, geo.in_hw
        disjoint = all(s >= d * (k - 1) + 1 for s, d, k in zip(geo.stride, geo.dilation, geo.kernel))
        finite = np.isfinite(g._data).all()  # else multiplying by a 0/1 mask would turn inf into NaN
        out = workspace.zeros(g.shape[:2] + geo.padded_hw(), g.dtype)
        for i, j, k in geo.offsets():
            if disjoint and finite:  # windows do not overlap: each position gets at most one gradient
                np.multiply(g._data, which == k, out=geo.view(out, i, j))
            elif finite:
                geo.view(out, i, j)[...] += g._data * (which == k)
            else:
                geo.view(out, i, j)[...] += np.where(which == k, g._data, 0)
        out += 0.0  # -0.0 (a negative gradient times 0) becomes +0.0
        return out[..., ph : ph + h, pw : pw + w]

    @staticmethod
    def backward(ctx, grad):
        # linear in g: read the gradient back at the same argmax positions
        (which,) = ctx.saved_tensors
        return dual.apply(MaxPoolGather, (grad,), which, ctx.geo), None, None


class MaxPoolGather(Op):
    """y = x at each window's recorded argmax. Shapes: x (N, C, H, W) -> y (N, C, H_out, W_out)."""

    @staticmethod
    def forward(ctx, x, which, geo):
        ctx.save_for_backward(which)
        ctx.geo = geo
        padded = _pad(x._data, geo, 0)
        out = np.zeros(x.shape[:2] + geo.out_hw, dtype=x.dtype)
        for i, j, k in geo.offsets():
            out += geo.view(padded, i, j) * (which == k)
        return out

    @staticmethod
    def backward(ctx, grad):
        # the adjoint of gathering is scattering back
        (which,) = ctx.saved_tensors
        return dual.apply(MaxPoolScatter, (grad,), which, ctx.geo), None, None


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
    padded = _pad(x._data, geo, -np.inf)  # the argmax again, as positions in each input plane
    which = _window_argmax(padded, out._data.reshape(x.shape[:2] + geo.out_hw), geo)
    return out, Tensor._make(_flat_indices(which, geo).reshape(out.shape))


def _flat_indices(which: np.ndarray, geo: PoolGeometry) -> np.ndarray:
    (_, kw), (sh, sw), (ph, pw), (dh, dw), (ho, wo) = geo.kernel, geo.stride, geo.padding, geo.dilation, geo.out_hw
    rows = np.arange(ho).reshape(-1, 1) * sh - ph + (which // kw) * dh
    cols = np.arange(wo) * sw - pw + (which % kw) * dw
    return (rows * geo.in_hw[1] + cols).astype(np.int64)


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
        return dual.apply(WindowSpread, (grad,), ctx.geo), None


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
        return dual.apply(WindowSum, (grad,), ctx.geo), None


def _window_counts(n: int, out: int, k: int, s: int, p: int, include_pad: bool) -> np.ndarray:
    """How many positions window i covers along one axis (padding counted with ``include_pad``;
    a ceil_mode window reaching past the padding never counts that part)."""
    start = np.arange(out) * s - p
    end = np.minimum(start + k, n + p)
    if not include_pad:
        start, end = np.maximum(start, 0), np.minimum(end, n)
    return np.maximum(end - start, 1)


@functools.lru_cache(maxsize=256)
def _adaptive_matrix(n: int, out: int, dtype: str) -> np.ndarray:
    """P (out x n): bin i averages rows floor(i*n/out) .. ceil((i+1)*n/out) - 1."""
    m = np.zeros((out, n))
    for i in range(out):
        start, end = (i * n) // out, -(-((i + 1) * n) // out)
        m[i, start:end] = 1.0 / (end - start)
    return m.astype(dtype)


def _separable(x: Tensor, rows: np.ndarray, cols: np.ndarray) -> Tensor:
    """rows @ x @ cols^T over the last two dimensions: a separable linear pooling."""
    return Tensor._make(rows) @ x @ Tensor._make(np.ascontiguousarray(cols.T))


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
    if divisor_override is not None and divisor_override <= 0:
        raise ValueError(f"avg_pool2d: divisor_override must be positive, got {divisor_override}")
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
    if tiles and divisor_override is None and kh * kw > 16:
        # large windows that tile the input (adaptive pooling to a few bins): one mean per block
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
    sizes = (
        (output_size, output_size)
        if isinstance(output_size, (int, np.integer)) or output_size is None
        else tuple(output_size)
    )
    if len(sizes) != 2:
        raise ValueError(f"adaptive_avg_pool2d: output_size must be an int or a pair, got {output_size!r}")
    h, w = input.shape[-2:]
    oh, ow = (n if o is None else int(o) for o, n in zip(sizes, (h, w)))
    if oh < 1 or ow < 1:
        raise ValueError(f"adaptive_avg_pool2d: output_size must be >= 1, got {(oh, ow)}")
    if (oh, ow) == (1, 1):
        return input.mean((-2, -1), keepdim=True)
    if h % oh == 0 and w % ow == 0:  # equal bins: a plain average pooling (no n x n matrices)
        return avg_pool2d(input, (h // oh, w // ow))
    dt = str(input.dtype)
    return _separable(input, _adaptive_matrix(h, oh, dt), _adaptive_matrix(w, ow, dt))
