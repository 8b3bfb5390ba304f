"""The fast pooling kernels: max pooling's argmax from the running maximum, its scatter, and
adaptive average pooling as two small matrix products.

They compute what the reference code in ``autograd/ops/pool.py`` computes, faster. Each trick
is marked ``# speed:`` with what it buys.
"""

from __future__ import annotations

import functools

import numpy as np

from autograd import workspace
from autograd.kernels import pointwise
from autograd.ops.geometry import PoolGeometry, adaptive_bins


def window_max(padded: np.ndarray, geo: PoolGeometry, argmax: bool) -> tuple[np.ndarray, np.ndarray | None]:
    """Each window's maximum, an elementwise max over the kH * kW strided views (NaN wins), and
    with ``argmax`` which kernel offset holds it (see window_argmax for the rule).

    A maximum is only taken over by a strictly larger value, so without NaNs the argmax is
    the last offset k at which the running maximum grew: the max over k of k * grew_k. A NaN
    maximum, or one of -inf (which padding also holds), takes the exact scan instead.
    """
    # speed: the argmax from where the running maximum grew, one pass over the views with
    # small integer offsets, instead of the exact scan's compare-and-mask per offset
    if argmax:
        padded = _off_the_cache_line(padded, geo)
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
        which = window_argmax(padded, best, geo)
    return best, which


def _off_the_cache_line(padded: np.ndarray, geo: PoolGeometry) -> np.ndarray:
    """``padded`` itself, or, when its rows are 128 bytes long, start on a 64-byte cache line and
    are read every other one (stride 2 down), a copy of it that starts 16 bytes into a line."""
    # speed: copying every other 128-byte row out of an array that starts on a cache line runs
    # about 1.5x slower (up to 4x on a busy machine) than out of one that starts mid-line; rows of
    # 64, 96, 192 or 256 bytes barely notice (measured on AMD Zen 4). With the argmax the views
    # are copied four times: a 64x32x32x32 float32 2x2 pool took 1.6 ms mid-line, 2.5-9.2 ms on
    # a line, and 1.9-3.3 ms with this one sequential copy first. Where numpy's allocator puts
    # an activation is chance, so the kernel moves it rather than leave the time to chance.
    line = 64
    reads_every_other_row = geo.stride[0] == 2 and padded.strides[-2] == 2 * line
    if not reads_every_other_row or padded.ctypes.data % line or not padded.flags.c_contiguous:
        return padded
    buf = workspace.empty((padded.nbytes + line,), np.uint8)
    start = (16 - buf.ctypes.data) % line
    moved = buf[start : start + padded.nbytes].view(padded.dtype).reshape(padded.shape)
    np.copyto(moved, padded)
    return moved


def _index_dtype(geo: PoolGeometry) -> np.dtype:
    """The smallest integer type for a kernel offset."""
    # speed: int8 offsets (for windows up to 127 positions): 8x fewer bytes to scan than int64
    size = geo.kernel[0] * geo.kernel[1]
    return np.dtype(np.int8 if size <= 127 else np.int16 if size <= 32767 else np.int32)


def window_argmax(padded: np.ndarray, best: np.ndarray, geo: PoolGeometry) -> np.ndarray:
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
        # speed: a multiply-add of the 0/1 mask; np.copyto with where= is far slower
        which += np.multiply(hit, k, dtype=dtype)
        if nan:  # a later NaN takes over: the last NaN wins (NaN == NaN is false above)
            np.copyto(which, k, where=np.isnan(v))
    return which


def max_pool_scatter(g: np.ndarray, which: np.ndarray, geo: PoolGeometry) -> np.ndarray:
    """Each window's gradient g placed at its argmax ``which`` (a kernel offset); overlapping
    windows add up. Shapes: g (N, C, H_out, W_out) -> (N, C, H, W)."""
    (ph, pw), (h, w) = geo.padding, geo.in_hw
    if _disjoint(geo):
        out = _scatter_disjoint(g, which, geo)
    else:
        finite = np.isfinite(g).all()  # else multiplying by a 0/1 mask would turn inf into NaN
        out = workspace.zeros(g.shape[:2] + geo.padded_hw(), g.dtype)
        for i, j, k in geo.offsets():
            if finite:
                # speed: g * mask rather than np.where (the where is the exact path for inf and NaN)
                geo.view(out, i, j)[...] += g * (which == k)
            else:
                geo.view(out, i, j)[...] += np.where(which == k, g, 0)
        out += 0.0  # -0.0 (a negative gradient times 0) becomes +0.0
    return out[..., ph : ph + h, pw : pw + w]


def _disjoint(geo: PoolGeometry) -> bool:
    """Whether no two windows share an input position (the usual 2x2 stride-2 pool)."""
    return all(s >= d * (k - 1) + 1 for s, d, k in zip(geo.stride, geo.dilation, geo.kernel))


def _scatter_disjoint(g: np.ndarray, which: np.ndarray, geo: PoolGeometry) -> np.ndarray:
    """max_pool_scatter when windows do not overlap: each position gets at most one gradient.
    Shapes: g (N, C, H_out, W_out) -> (N, C, H_pad, W_pad), padding included."""
    (sh, sw), (dh, dw), (kh, kw) = geo.stride, geo.dilation, geo.kernel
    padded_hw, out_hw = geo.padded_hw(), geo.out_hw
    # windows tiling the whole buffer write every position: no zeros needed first
    tiled = (sh, sw) == (kh, kw) and (dh, dw) == (1, 1) and padded_hw == (out_hw[0] * sh, out_hw[1] * sw)
    out = (workspace.empty if tiled else workspace.zeros)(g.shape[:2] + padded_hw, g.dtype)
    # PyTorch adds each gradient onto zeros, so a -0.0 gradient arrives as +0.0: so does it here
    g = np.add(g, 0.0, out=workspace.empty_like(g))  # -0.0 + 0.0 == +0.0; any other value unchanged
    if tiled and (kh, kw) == (2, 2) and g.dtype.itemsize in (2, 4):
        _scatter_2x2_pairs(g, which, out)
        return out
    bits = pointwise.unsigned(g.dtype)
    g_bits, here = g.view(bits), workspace.empty(g.shape, bits)
    # speed: the gradient's bit pattern times the 0/1 mask "argmax is here", as unsigned integers
    # (see kernels/pointwise.keep): g's exact bits or +0.0, written in place - one pass per offset,
    # no add, no finiteness check, no -0.0 to repair afterwards
    for i, j, k in geo.offsets():
        np.equal(which, k, out=here, casting="unsafe")  # 1 where the argmax is offset k, else 0
        np.multiply(g_bits, here, out=geo.view(out, i, j).view(bits))
    return out


def _scatter_2x2_pairs(g: np.ndarray, which: np.ndarray, out: np.ndarray) -> None:
    """_scatter_disjoint for 2x2 windows that tile ``out``, float32 or float16: the two values of
    a window row, seen as one unsigned integer twice as wide, are g's bits shifted into the half
    that holds the argmax, or zero. Shapes: g, which (N, C, H_out, W_out) -> out (N, C, 2 H_out, 2 W_out).
    """
    # speed: each output row written whole, in two passes, instead of four passes of single
    # values at every other position (the batch-64 CNN step's two pool gradients: about 5.3 ->
    # 3.7 ms, measured in two steps of this change, alternating in one process)
    half = 8 * g.dtype.itemsize  # bits of one value
    pair = np.dtype(f"u{2 * g.dtype.itemsize}")  # two values side by side (x86 and ARM: little-endian)
    n_rows, w_out = g.size // g.shape[-1], g.shape[-1]
    bits = g.reshape(n_rows, w_out).view(pointwise.unsigned(g.dtype))
    # which is 0 1 / 2 3 in a window. Row 0's shift is which * half: 0 or half bits up, or 2*half
    # and more for an argmax in row 1 (numpy shifts everything out then: zero). Row 1 flips the
    # 2*half bit: 2 -> 0, 3 -> half, 0 -> 2*half, 1 -> 3*half
    shifts = np.multiply(which.reshape(n_rows, w_out), half, out=np.empty((n_rows, w_out), np.uint8), casting="unsafe")
    rows = out.view(pair).reshape(n_rows, 2, w_out)  # (N * C * H_out, window row, W_out pairs)
    for i in range(2):
        np.left_shift(bits, shifts, out=rows[:, i], dtype=pair)  # g's bits widened on the way
        shifts ^= 2 * half


@functools.lru_cache(maxsize=256)
def _adaptive_matrix(n: int, out: int, dtype: str) -> np.ndarray:
    """P (out x n): row i averages bin i (1 / its size there, 0 elsewhere)."""
    m = np.zeros((out, n))
    for i, (start, end) in enumerate(adaptive_bins(n, out)):
        m[i, start:end] = 1.0 / (end - start)
    return m.astype(dtype)


def bin_means(x: np.ndarray, out_hw: tuple[int, int]) -> np.ndarray | None:
    """Each adaptive bin's mean as P_h @ x @ P_w^T. Shapes: x (..., H, W) -> (..., oH, oW).

    The products multiply P's zeros with every value, so one inf or NaN in x would make every
    bin non-finite (0 * inf = NaN): returns None then (the caller takes the reference's slices).
    """
    # speed: two matrix products instead of a loop over the oH + oW bins' slices
    (h, w), (oh, ow) = x.shape[-2:], out_hw
    with np.errstate(invalid="ignore", over="ignore"):
        out = _adaptive_matrix(h, oh, x.dtype.str) @ x @ _adaptive_matrix(w, ow, x.dtype.str).T
    return out if np.isfinite(out).all() else None


def bin_spread(g: np.ndarray, in_hw: tuple[int, int]) -> np.ndarray | None:
    """Each bin's value spread evenly over its inputs, P_h^T @ g @ P_w (overlapping bins add up).
    Shapes: g (..., oH, oW) -> (..., H, W); None for a non-finite g (an inf must reach only its
    own bin's inputs: the caller takes the reference's slices)."""
    (oh, ow), (h, w) = g.shape[-2:], in_hw
    if not np.isfinite(g).all():
        return None
    return _adaptive_matrix(h, oh, g.dtype.str).T @ g @ _adaptive_matrix(w, ow, g.dtype.str)
