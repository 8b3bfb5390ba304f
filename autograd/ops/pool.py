"""Pooling: max_pool2d, avg_pool2d, adaptive_avg_pool2d (NCHW, PyTorch semantics).

Max pooling keeps, per window, the position of its maximum; backward routes each output
gradient to that one position (ties: the first in scan order; NaNs: the last NaN, as
PyTorch's CPU kernel). The loops below run over the kH * kW kernel offsets only, each step
a whole-array numpy operation.

Average pooling is a window sum (the same loop over kernel offsets) divided by each
window's count; the sum's backward spreads each window's gradient over its positions, and
the two are each other's adjoints, so every higher derivative works too. Adaptive pooling
with bins of different sizes is linear and separable: out = P_h @ x @ P_w^T with small
constant averaging matrices. Their zeros would multiply an inf or NaN into every bin
(0 * inf = NaN), so a non-finite result is recomputed bin by bin, with slices.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from autograd import workspace
from autograd.function import Op
from autograd.ops import dual
from autograd.ops.conv import IntPair, int_pair, is_int
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

    def inside(self, i: int, j: int) -> np.ndarray:
        """Which windows read a real input position (not padding) at kernel offset (i, j): (H_out, W_out)."""
        (sh, sw), (ph, pw), (dh, dw) = self.stride, self.padding, self.dilation
        rows = np.arange(self.out_hw[0]) * sh - ph + i * dh  # the input row each window reads at this offset
        cols = np.arange(self.out_hw[1]) * sw - pw + j * dw
        (h, w) = self.in_hw
        return ((rows >= 0) & (rows < h))[:, None] & ((cols >= 0) & (cols < w))

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


def pool_sizes(kernel_size, stride, padding, dilation, fn: str) -> tuple[tuple[int, int], ...]:
    """Checked kernel_size, stride (None or () for the kernel size), padding and dilation as
    (height, width) pairs; ``fn`` names the pooling in errors, which use PyTorch's words."""

    def pair(value, name):
        lengths = "either be omitted, a single int," if name == "stride" else "either be a single int,"
        return int_pair(value, name, fn, f"{fn}: {name} must {lengths} or a tuple of two ints, got {name}={value!r}")

    k = pair(kernel_size, "kernel_size")
    s = k if stride is None or (isinstance(stride, (tuple, list)) and not stride) else pair(stride, "stride")
    p, d = pair(padding, "padding"), pair(dilation, "dilation")
    if min(k) < 1:
        raise ValueError(f"{fn}: kernel size should be greater than zero, but got kernel_size={k}")
    if min(s) < 1:
        problem = "should not be zero, but got" if 0 in s else "should be greater than zero, but got"
        raise ValueError(f"{fn}: stride {problem} stride={s}")
    if min(p) < 0:
        raise ValueError(f"{fn}: pad must be non-negative, but got padding={p}")
    if min(d) < 1:
        raise ValueError(f"{fn}: dilation should be greater than zero, but got dilation={d}")
    if any(pi > ki // 2 for pi, ki in zip(p, k)):  # PyTorch's rule (on the kernel without dilation)
        raise ValueError(
            f"{fn}: pad should be at most half of kernel_size, but got padding={p} and kernel_size={k} "
            "(the kernel without dilation, rounded down)"
        )
    return k, s, p, d


def _pool_geometry(x: Tensor, kernel_size, stride, padding, dilation, ceil_mode: bool, fn: str) -> PoolGeometry:
    if x.ndim not in (3, 4):
        raise ValueError(f"{fn}: expected input of shape (N, C, H, W) or (C, H, W), got shape {x.shape}")
    k, s, p, d = pool_sizes(kernel_size, stride, padding, dilation, fn)
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
    the last offset k at which the running maximum grew: the max over k of k * grew_k. A NaN
    maximum, or one of -inf (which padding also holds), takes the exact scan instead.
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
    if argmax and not (best > -np.inf).all():  # a NaN or -inf maximum: the exact scan
        which = _window_argmax(padded, best, geo)
    return best, which


def _index_dtype(geo: PoolGeometry) -> np.dtype:
    """The smallest integer type for a kernel offset (small types are faster to scan)."""
    size = geo.kernel[0] * geo.kernel[1]
    return np.dtype(np.int8 if size <= 127 else np.int16 if size <= 32767 else np.int32)


def _window_argmax(padded: np.ndarray, best: np.ndarray, geo: PoolGeometry) -> np.ndarray:
    """Which kernel offset (i * kW + j) holds each window's maximum ``best``, PyTorch's CPU rule
    (a scan in row-major order keeping a value that is greater, or NaN): ties go to the first
    in scan order, a NaN maximum to the last NaN, and never to padding (a window of -inf
    values picks its first real position)."""
    dtype = _index_dtype(geo)
    which = np.zeros(best.shape, dtype)
    free = np.ones(best.shape, bool)  # windows whose maximum is not found yet
    nan = np.isnan(best).any()
    padding = geo.padding != (0, 0) or geo.padded_hw() != geo.in_hw
    for i, j, k in geo.offsets():
        v = geo.view(padded, i, j)
        hit = v == best
        if padding:
            hit &= geo.inside(i, j)
        hit &= free
        free ^= hit
        which += np.multiply(hit, k, dtype=dtype)  # (np.copyto with where= is far slower)
        if nan:  # a later NaN takes over: the last NaN wins (NaN == NaN is false above)
            np.copyto(which, k, where=np.isnan(v))
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
        # a gather by flat position (masking each offset's view would multiply 0 * inf elsewhere)
        n, c, h, w = x.shape
        at = _flat_indices(which, geo).reshape(n, c, -1)
        return np.take_along_axis(x._data.reshape(n, c, h * w), at, axis=2).reshape(n, c, *geo.out_hw)

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
    _, which = _window_max(_pad(x._data, geo, -np.inf), geo, argmax=True)  # the argmax again, as positions
    return out, Tensor._make(_flat_indices(which, geo).reshape(out.shape))


def _flat_indices(which: np.ndarray, geo: PoolGeometry) -> np.ndarray:
    """Each window's argmax (a kernel offset) as the flat position h * W + w in its input plane."""
    (_, kw), (sh, sw), (ph, pw), (dh, dw), (ho, wo) = geo.kernel, geo.stride, geo.padding, geo.dilation, geo.out_hw
    which = which.astype(np.int64)  # (offsets are stored small; row * dilation may not fit)
    rows = np.arange(ho).reshape(-1, 1) * sh - ph + (which // kw) * dh
    cols = np.arange(wo) * sw - pw + (which % kw) * dw
    return rows * geo.in_hw[1] + cols


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


def _bins(n: int, out: int) -> list[tuple[int, int]]:
    """(start, end) of each adaptive bin along an axis: bin i covers floor(i*n/out) .. ceil((i+1)*n/out) - 1."""
    return [((i * n) // out, -(-((i + 1) * n) // out)) for i in range(out)]


@functools.lru_cache(maxsize=256)
def _adaptive_matrix(n: int, out: int, dtype: str) -> np.ndarray:
    """P (out x n): row i averages bin i (1 / its size there, 0 elsewhere)."""
    m = np.zeros((out, n))
    for i, (start, end) in enumerate(_bins(n, out)):
        m[i, start:end] = 1.0 / (end - start)
    return m.astype(dtype)


def _bin_means(x: np.ndarray, out_hw: tuple[int, int]) -> np.ndarray:
    """Each bin's mean, P_h @ x @ P_w^T. Shapes: x (..., H, W) -> (..., oH, oW).

    The products multiply P's zeros with every value, so one inf or NaN in x makes every bin
    non-finite (0 * inf = NaN): a non-finite result (rare) is computed again from slices.
    """
    (h, w), (oh, ow) = x.shape[-2:], out_hw
    with np.errstate(invalid="ignore", over="ignore"):
        out = _adaptive_matrix(h, oh, x.dtype.str) @ x @ _adaptive_matrix(w, ow, x.dtype.str).T
    return out if np.isfinite(out).all() else _bin_means_sliced(x, out_hw)


def _bin_means_sliced(x: np.ndarray, out_hw: tuple[int, int]) -> np.ndarray:
    """_bin_means from slices of x (a loop over the oH + oW bins): an inf or NaN stays in its bins."""
    (h, w), (oh, ow) = x.shape[-2:], out_hw
    with np.errstate(invalid="ignore", over="ignore"):  # inf - inf in a bin: NaN, as PyTorch's
        cols = np.stack([x[..., a:b].mean(-1) for a, b in _bins(w, ow)], -1)  # (..., H, oW)
        return np.stack([cols[..., a:b, :].mean(-2) for a, b in _bins(h, oh)], -2)


def _bin_spread(g: np.ndarray, in_hw: tuple[int, int]) -> np.ndarray:
    """Each bin's value spread evenly over its inputs, P_h^T @ g @ P_w (overlapping bins add up).
    Shapes: g (..., oH, oW) -> (..., H, W). A non-finite g (rare) is spread from slices, so that
    an inf reaches only its own bin's inputs."""
    (oh, ow), (h, w) = g.shape[-2:], in_hw
    if not np.isfinite(g).all():
        return _bin_spread_sliced(g, in_hw)
    return _adaptive_matrix(h, oh, g.dtype.str).T @ g @ _adaptive_matrix(w, ow, g.dtype.str)


def _bin_spread_sliced(g: np.ndarray, in_hw: tuple[int, int]) -> np.ndarray:
    """_bin_spread by adding each bin's share to a slice (a loop over the oH + oW bins)."""
    (oh, ow), (h, w) = g.shape[-2:], in_hw
    cols = np.zeros(g.shape[:-1] + (w,), g.dtype)  # (..., oH, W)
    out = np.zeros(g.shape[:-2] + (h, w), g.dtype)
    with np.errstate(invalid="ignore"):  # inf - inf where bins overlap: NaN, as PyTorch's
        for j, (a, b) in enumerate(_bins(w, ow)):
            cols[..., a:b] += g[..., j : j + 1] / (b - a)
        for i, (a, b) in enumerate(_bins(h, oh)):
            out[..., a:b, :] += cols[..., i : i + 1, :] / (b - a)
    return out


class AdaptiveAvgPool2d(Op):
    """y = P_h @ x @ P_w^T: the mean of each adaptive bin. Shapes: x (..., H, W) -> y (..., oH, oW)."""

    @staticmethod
    def forward(ctx, x, out_hw):
        ctx.in_hw = x.shape[-2:]
        return _bin_means(x._data, out_hw)

    @staticmethod
    def backward(ctx, grad):
        # linear: dx = P_h^T @ dy @ P_w, each bin's gradient spread evenly over its inputs
        return dual.apply(AdaptiveAvgSpread, (grad,), ctx.in_hw), None


class AdaptiveAvgSpread(Op):
    """gx = P_h^T @ g @ P_w: the adjoint of AdaptiveAvgPool2d. Shapes: g (..., oH, oW) -> gx (..., H, W)."""

    @staticmethod
    def forward(ctx, g, in_hw):
        ctx.out_hw = g.shape[-2:]
        return _bin_spread(g._data, in_hw)

    @staticmethod
    def backward(ctx, grad):
        # linear in g: read the gradient back as bin means
        return dual.apply(AdaptiveAvgPool2d, (grad,), ctx.out_hw), None


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
    if tiles and divisor_override is None and kh * kw > 16:
        # large windows that tile the input (adaptive pooling to a few bins): one mean per block
        # of a reshape beats a loop over the kh * kw offsets (which wins for small windows)
        out = x.reshape(x.shape[0], x.shape[1], oh, kh, ow, kw).mean((3, 5))
    else:
        out = WindowSum.apply(x, geo) * Tensor._make((1.0 / divisor).astype(input.dtype))
    return out if input.ndim == 4 else out.squeeze(0)


def adaptive_output_size(output_size, fn: str) -> tuple[int | None, int | None]:
    """Checked output_size of an adaptive pooling: an int, None (the input's size), or a pair of
    them; ``fn`` names the pooling in errors, which use PyTorch's words."""
    sizes = (output_size, output_size) if is_int(output_size) or output_size is None else output_size
    if not isinstance(sizes, (tuple, list)):
        raise TypeError(
            f"{fn}(): argument 'output_size' must be tuple of ints, not {type(output_size).__name__}; "
            "pass an int, None or a pair of them, such as output_size=(7, 7)"
        )
    for pos, v in enumerate(sizes):
        if not (v is None or is_int(v)):
            raise TypeError(
                f"{fn}(): argument 'output_size' must be tuple of ints, but found element of type "
                f"{type(v).__name__} at pos {pos}"
            )
    if len(sizes) != 2:
        raise ValueError(f"{fn}: output_size must be 2 values (an int or a pair), got output_size={output_size!r}")
    if any(v is not None and v < 1 for v in sizes):
        raise ValueError(f"{fn}: elements of output_size must be >= 1, got output_size={output_size!r}")
    return tuple(None if v is None else int(v) for v in sizes)


def check_divisor(divisor_override, fn: str) -> None:
    """avg_pool2d's divisor_override: None or a nonzero int (a negative one flips the sign, as PyTorch's)."""
    if divisor_override is None:
        return
    if not is_int(divisor_override):
        raise TypeError(f"{fn}(): argument 'divisor_override' must be int, not {type(divisor_override).__name__}")
    if divisor_override == 0:
        raise ValueError(f"{fn}: divisor must be not zero (divisor_override=0); use None to divide by the window size")


def adaptive_avg_pool2d(input: Tensor, output_size: IntPair | tuple[int | None, int | None]) -> Tensor:
    """Average into a fixed output grid whatever the input size, PyTorch's ``F.adaptive_avg_pool2d``.

    ``output_size=1`` is global average pooling. Shapes: (N, C, H, W) or (C, H, W) -> (..., oH, oW).
    """
    if input.ndim not in (3, 4):
        raise ValueError(f"adaptive_avg_pool2d: expected (N, C, H, W) or (C, H, W), got shape {input.shape}")
    h, w = input.shape[-2:]
    oh, ow = (n if o is None else o for o, n in zip(adaptive_output_size(output_size, "adaptive_avg_pool2d"), (h, w)))
    if (oh, ow) == (1, 1):
        return input.mean((-2, -1), keepdim=True)
    if h % oh == 0 and w % ow == 0:  # equal bins: a plain average pooling (no n x n matrices)
        return avg_pool2d(input, (h // oh, w // ow))
    return AdaptiveAvgPool2d.apply(input, (oh, ow))
