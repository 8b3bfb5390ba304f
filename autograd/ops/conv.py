"""Convolution: conv2d, conv_transpose2d and the weight gradient, as im2col + one GEMM.

A convolution is a sliding dot product. ``_im2col`` lays every receptive field out as a
column (a strided view of the padded input, copied once), so the whole layer is one matrix
product per group: (C_out, C*kH*kW) @ (C*kH*kW, N*H_out*W_out).

Backward is an implicit vector-Jacobian product, never a Jacobian. The three ops below are
each other's VJPs, so ``create_graph=True`` works for all of them:

    y = conv2d(x, w)            dx = conv_transpose2d(dy, w)    dw = conv2d_weight(x, dy)
    z = conv_transpose2d(y, w)  dy = conv2d(dz, w)              dw = conv2d_weight(dz, y)
    v = conv2d_weight(x, g)     dx = conv_transpose2d(g, dv)    dg = conv2d(x, dv)

Layout is NCHW; weights are (C_out, C_in/groups, kH, kW) for conv2d and
(C_in, C_out/groups, kH, kW) for conv_transpose2d, as in PyTorch.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import as_strided

from autograd import workspace
from autograd.function import Op
from autograd.ops import dual
from autograd.tensor import Tensor

IntPair = int | tuple[int, int]
ROW_PAD = 16  # elements between rows of a columns matrix (see _columns)
COLUMN_BLOCK_BYTES = 6 << 20  # conv_transpose2d (and conv2d's input gradient) makes its columns in blocks this large


@dataclass(frozen=True)
class Geometry:
    """Stride, padding and dilation (each a (height, width) pair) and the number of groups."""

    stride: tuple[int, int]
    padding: tuple[int, int]
    dilation: tuple[int, int]
    groups: int


# ------------------------------------------------------------------ numpy kernels
#
# Every kernel works on "columns": a (G, rows, N * H_out * W_out) matrix whose last axis runs
# over the output pixels (n, y, x). When a stride-1 convolution keeps the width (W_out == W,
# as 3x3 with padding 1 does) an output row y reads whole rows y + i of the image, shifted
# sideways by j - padding; with the images flattened, kernel offset (i, j) reads one
# contiguous stretch, so im2col and col2im are kH * kW long copies/adds. The few reads that
# wrap around a row end stand for the zero padding and are zeroed. Other geometries use
# strided views (many shorter copies).


def _shifted_rows(x_w: int, out_w: int, geo: Geometry) -> bool:
    """Whether the contiguous-shift layout applies: stride 1 and the output as wide as the input."""
    return geo.stride == (1, 1) and out_w == x_w


def _padded_rows(x: np.ndarray, geo: Geometry) -> np.ndarray:
    """x (N, C, H, W) -> (C, N, P + (H + 2*ph) * W + P) with P = pw: each image with ph zero
    rows above and below, flattened, between P zeros (where the first and last taps read)."""
    n, c, h, w = x.shape
    (ph, pw) = geo.padding
    flat = workspace.empty((c, n, (h + 2 * ph) * w + 2 * pw), x.dtype)
    flat[:, :, : pw + ph * w] = 0
    flat[:, :, pw + ph * w : pw + (ph + h) * w] = x.transpose(1, 0, 2, 3).reshape(c, n, h * w)
    flat[:, :, pw + (ph + h) * w :] = 0
    return flat


def _zero_wrapped(tap: np.ndarray, j: int, geo: Geometry) -> None:
    """Zero the columns where kernel column j wrapped around a row end. tap (..., H_out, W)."""
    (_, pw), (_, dw), width = geo.padding, geo.dilation, tap.shape[-1]
    shift = j * dw - pw  # tap j reads column x + shift: outside [0, W) is padding
    if shift < 0:
        tap[..., : min(-shift, width)] = 0
    elif shift > 0:
        tap[..., max(width - shift, 0) :] = 0


def _im2col(x: np.ndarray, kernel: tuple[int, int], out_hw: tuple[int, int], geo: Geometry) -> np.ndarray:
    """Receptive fields as columns. x (N, C, H, W) -> (G, C/G * kH * kW, N * H_out * W_out)."""
    n, c, h, w = x.shape
    (kh, kw), (ho, wo) = kernel, out_hw
    (ph, pw), (sh, sw), (dh, dw) = geo.padding, geo.stride, geo.dilation
    cols = _columns((c * kh * kw,), n * ho * wo, x.dtype).reshape(c, kh, kw, n, ho * wo)
    if _shifted_rows(w, wo, geo):
        # cols[c, i, j, n, y * W + x] = image[c, n, y + i*dh, x + j*dw - pw]: one slice per offset
        images = _padded_rows(x, geo)
        for i in range(kh):
            for j in range(kw):
                start = i * dh * w + j * dw
                cols[:, i, j] = images[:, :, start : start + ho * w]
                _zero_wrapped(cols[:, i, j].reshape(c, n, ho, w), j, geo)
    else:
        if ph or pw:
            x = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
        s_n, s_c, s_h, s_w = x.strides
        # windows[c, i, j, n, y, x] = x_padded[n, c, y*sh + i*dh, x*sw + j*dw]  (a view, no copy)
        shape, strides = (c, kh, kw, n, ho, wo), (s_c, s_h * dh, s_w * dw, s_n, s_h * sh, s_w * sw)
        cols.reshape(shape)[...] = as_strided(x, shape, strides, writeable=False)
    return cols.reshape(geo.groups, c // geo.groups * kh * kw, n * ho * wo)


def _col2im(
    w_mat: np.ndarray,
    y_cols: np.ndarray,
    shape: tuple[int, int, int, int],
    kernel: tuple[int, int],
    out_hw: tuple[int, int],
    geo: Geometry,
) -> np.ndarray:
    """The adjoint of _im2col applied to the columns w_mat @ y_cols: add every column back
    onto the pixels it came from.

    w_mat (G, C/G * kH * kW, C_y/G), y_cols (G, C_y/G, N * H_out * W_out) -> (N, C, H, W),
    where (H, W) = ``shape[2:]`` and (H_out, W_out) = ``out_hw``. The columns are made for a
    block of channels at a time (at most COLUMN_BLOCK_BYTES: small, and still in cache when
    added back), each block with one add per kernel offset, never a loop over pixels.
    """
    n, c, h, w = shape
    groups, per_group = geo.groups, c // geo.groups
    (kh, kw), (ho, wo) = kernel, out_hw
    (ph, pw), (sh, sw), (dh, dw) = geo.padding, geo.stride, geo.dilation
    shifted = _shifted_rows(w, wo, geo)
    if shifted:  # laid out as _padded_rows
        padded = workspace.zeros((groups, per_group, n, (h + 2 * ph) * w + 2 * pw), y_cols.dtype)
    else:
        full_h = max(h + 2 * ph, (ho - 1) * sh + dh * (kh - 1) + 1)
        full_w = max(w + 2 * pw, (wo - 1) * sw + dw * (kw - 1) + 1)
        padded = workspace.zeros((groups, per_group, n, full_h, full_w), y_cols.dtype)
    column_bytes = groups * per_group * kh * kw * y_cols.shape[-1] * y_cols.itemsize  # all columns at once
    step = math.ceil(per_group / max(1, math.ceil(column_bytes / COLUMN_BLOCK_BYTES)))  # channels per block
    for c0 in range(0, per_group, step):
        c1 = min(c0 + step, per_group)
        cols = _matmul(w_mat[:, c0 * kh * kw : c1 * kh * kw], y_cols).reshape(groups, c1 - c0, kh, kw, n, ho, wo)
        part = padded[:, c0:c1]
        for i in range(kh):
            for j in range(kw):
                if shifted:
                    _zero_wrapped(cols[:, :, i, j], j, geo)  # those columns belong to the padding
                    start = i * dh * w + j * dw
                    part[..., start : start + ho * w] += cols[:, :, i, j].reshape(groups, c1 - c0, n, ho * w)
                else:
                    rows = slice(i * dh, i * dh + sh * (ho - 1) + 1, sh)
                    columns = slice(j * dw, j * dw + sw * (wo - 1) + 1, sw)
                    part[..., rows, columns] += cols[:, :, i, j]
        del cols  # its buffer is free for the next block
    if shifted:
        image = padded[..., pw + ph * w : pw + (ph + h) * w].reshape(c, n, h, w)
    else:
        image = padded.reshape(c, n, full_h, full_w)[:, :, ph : ph + h, pw : pw + w]
    return workspace.contiguous(image.transpose(1, 0, 2, 3))


def output_columns(t: np.ndarray, groups: int) -> np.ndarray:
    """(N, C, H, W) -> (G, C/G, N * H * W): channels grouped, the rest flattened (one copy).

    This is how the GEMMs take a conv's output gradient (both backward GEMMs share it)."""
    n, c, h, w = t.shape
    out = _columns((c,), n * h * w, t.dtype)
    out.reshape(c, n, h * w)[...] = t.transpose(1, 0, 2, 3).reshape(c, n, h * w)
    return out.reshape(groups, c // groups, n * h * w)


def _columns(lead: tuple[int, ...], length: int, dtype: np.dtype) -> np.ndarray:
    """An empty (*lead, length) matrix whose rows lie ROW_PAD elements further apart than their
    length: rows of a power-of-two length (N * H * W usually is one) fall on the same cache sets,
    and the GEMMs then run 15-20% slower."""
    return workspace.empty((*lead, length + ROW_PAD), dtype)[..., :length]


def _from_columns(t: np.ndarray, n: int, hw: tuple[int, int]) -> np.ndarray:
    """(G, C/G, N * H * W) -> contiguous (N, C, H, W) (one copy)."""
    return workspace.contiguous(t.reshape(t.shape[0] * t.shape[1], n, *hw).transpose(1, 0, 2, 3))


def _matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a @ b for stacks of matrices with long rows (columns matrices), the result in a cached buffer."""
    return np.matmul(a, b, out=_columns(a.shape[:-1], b.shape[-1], np.result_type(a, b)))


def conv2d_forward(
    x: np.ndarray,
    w: np.ndarray,
    geo: Geometry,
    b: np.ndarray | None = None,
    out_hw: tuple[int, int] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """y[n, o] = b[o] + sum over c, i, j of w[o, c, i, j] * x_pad[n, c, y*s + i*d, x*s + j*d].

    ``out_hw`` (at most ``conv_output_hw``) computes only the first windows: x's rows and
    columns that only later windows read are never read. Returns y and the im2col buffer
    (the weight gradient can reuse it).
    """
    c_out, _, kh, kw = w.shape
    ho, wo = conv_output_hw(x.shape[2:], (kh, kw), geo) if out_hw is None else out_hw
    cols = _im2col(x, (kh, kw), (ho, wo), geo)
    y = _matmul(w.reshape(geo.groups, c_out // geo.groups, -1), cols)
    if b is not None:
        y += b.reshape(geo.groups, -1, 1)  # in place, on contiguous columns
    return _from_columns(y, x.shape[0], (ho, wo)), cols


def conv_transpose2d_forward(
    y: np.ndarray, w: np.ndarray, geo: Geometry, out_hw: tuple[int, int], y_cols: np.ndarray | None = None
) -> np.ndarray:
    """The adjoint of conv2d_forward in its input: scatter w-weighted copies of each y pixel.

    ``y_cols`` is ``output_columns(y, groups)`` when the caller has it already.
    """
    c_in, c_out_g, kh, kw = w.shape
    n = y.shape[0]
    w_mat = w.reshape(geo.groups, c_in // geo.groups, c_out_g * kh * kw).transpose(0, 2, 1)
    if y_cols is None:
        y_cols = output_columns(y, geo.groups)
    return _col2im(w_mat, y_cols, (n, c_out_g * geo.groups, *out_hw), (kh, kw), y.shape[2:], geo)


def conv2d_weight_forward(
    x: np.ndarray,
    g: np.ndarray,
    kernel: tuple[int, int],
    geo: Geometry,
    cols: np.ndarray | None = None,
    g_cols: np.ndarray | None = None,
) -> np.ndarray:
    """dL/dw of conv2d: correlate the input x with the output gradient g. -> (C_out, C/G, kH, kW).

    ``cols`` is x's im2col buffer when the forward pass kept it, ``g_cols`` g's output columns.
    """
    if cols is None:
        cols = _im2col(x, kernel, g.shape[2:], geo)
    if g_cols is None:
        g_cols = output_columns(g, geo.groups)
    gw = np.matmul(cols, g_cols.transpose(0, 2, 1)).transpose(0, 2, 1)  # (cols g^T)^T: the faster GEMM here
    return gw.reshape(g.shape[1], x.shape[1] // geo.groups, *kernel)


def conv_output_hw(in_hw: tuple[int, int], kernel: tuple[int, int], geo: Geometry) -> tuple[int, int]:
    """(H + 2P - D(K - 1) - 1) // S + 1 for height and width."""
    return tuple(
        (n + 2 * p - d * (k - 1) - 1) // s + 1
        for n, k, s, p, d in zip(in_hw, kernel, geo.stride, geo.padding, geo.dilation)
    )


# ------------------------------------------------------------------ the three Functions


class Conv2d(Op):
    """y = conv2d(x, w) + b. Shapes: x (N, C, H, W), w (C_out, C/G, kH, kW), b (C_out,)
    -> y (N, C_out, H_out, W_out); ``out_hw`` (None: all that fit; the backward ops give it)
    keeps only the first H_out x W_out windows: x's rows only the others read take no part."""

    @staticmethod
    def forward(ctx, x, w, b, geo, out_hw):
        y, cols = conv2d_forward(x._data, w._data, geo, None if b is None else b._data, out_hw)
        # keep the im2col buffer for the weight gradient (one buffer per layer) when needed
        ctx.save_for_backward(x, w, cols if ctx.needs_input_grad[1] else None)
        ctx.geo = geo
        return y

    @staticmethod
    def backward(ctx, grad):
        # dx = conv_transpose2d(dy, w); dw = correlation of x with dy; db = sum of dy
        x, w, cols = ctx.saved_tensors
        x_needs, w_needs, b_needs = ctx.needs_input_grad[:3]
        geo = ctx.geo
        gx = gw = gb = None
        # on arrays (first-order), both GEMMs share one copy of the gradient as columns
        g_cols = None if isinstance(grad, Tensor) else output_columns(grad, geo.groups)
        if x_needs:
            gx = dual.apply(ConvTranspose2d, (grad, w, None), geo, x.shape[2:], g_cols)
        if w_needs:
            gw = dual.apply(Conv2dWeight, (x, grad), w.shape[2:], geo, cols, g_cols)
        if b_needs:
            gb = dual.sum_keep(grad, (0, 2, 3)).reshape(-1) if g_cols is None else g_cols.sum(-1).reshape(-1)
        return gx, gw, gb, None, None


class ConvTranspose2d(Op):
    """z = conv_transpose2d(y, w) + b. Shapes: y (N, C_in, H, W), w (C_in, C_out/G, kH, kW)
    -> z (N, C_out, H_out, W_out) with H_out given by ``out_hw``."""

    @staticmethod
    def forward(ctx, y, w, b, geo, out_hw, y_cols):
        ctx.save_for_backward(y, w)
        ctx.geo = geo
        z = conv_transpose2d_forward(y._data, w._data, geo, tuple(out_hw), y_cols)
        if b is not None:
            z += b._data.reshape(1, -1, 1, 1)  # in place: z is a fresh sum
        return z

    @staticmethod
    def backward(ctx, grad):
        # dy = conv2d(dz, w); dw = correlation of dz (as input) with y (as output gradient)
        y, w = ctx.saved_tensors
        y_needs, w_needs, b_needs = ctx.needs_input_grad[:3]
        geo = ctx.geo
        gy = gw = gb = None
        if y_needs:
            # y's windows only: with output_padding >= stride a conv over dz would fit more
            # windows (over z's rows no y reaches), and cropping them afterwards would leave
            # 0 * dz there in the second derivative (NaN where dz is inf or NaN)
            gy = dual.apply(Conv2d, (grad, w, None), geo, y.shape[2:])
        if w_needs:
            gw = dual.apply(Conv2dWeight, (grad, y), w.shape[2:], geo, None, None)
        if b_needs:
            gb = dual.sum_keep(grad, (0, 2, 3)).reshape(-1)
        return gy, gw, gb, None, None, None


class Conv2dWeight(Op):
    """v = dL/dw of conv2d for input x and output gradient g.
    Shapes: x (N, C, H, W), g (N, C_out, H_out, W_out) -> v (C_out, C/G, kH, kW)."""

    @staticmethod
    def forward(ctx, x, g, kernel, geo, cols, g_cols):
        ctx.save_for_backward(x, g)
        ctx.geo = geo
        return conv2d_weight_forward(x._data, g._data, tuple(kernel), geo, cols, g_cols)

    @staticmethod
    def backward(ctx, grad):
        # v is bilinear in (x, g): dx = conv_transpose2d(g, dv), dg = conv2d(x, dv)
        x, g = ctx.saved_tensors
        x_needs, g_needs = ctx.needs_input_grad[:2]
        gx = dual.apply(ConvTranspose2d, (g, grad, None), ctx.geo, x.shape[2:], None) if x_needs else None
        gg = dual.apply(Conv2d, (x, grad, None), ctx.geo, g.shape[2:]) if g_needs else None  # g's windows only
        return gx, gg, None, None, None, None


# ------------------------------------------------------------------ checks and public API


def is_int(value: Any) -> bool:
    """An int or a numpy integer, not a bool (PyTorch refuses True as a size)."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def int_pair(value: Any, name: str, fn: str, length_error: str | None = None) -> tuple[int, int]:
    """``value`` as a (height, width) pair: an int, or a tuple/list of one or two ints (PyTorch
    takes both). Floats, bools and strings raise TypeError, other lengths ValueError
    (``length_error`` or the convolutions' words), in PyTorch's words, naming the argument."""
    if is_int(value):
        return int(value), int(value)
    hint = f"; pass an int or a pair of ints, such as {name}=2 or {name}=(2, 1)"
    if not isinstance(value, (tuple, list)):
        raise TypeError(f"{fn}(): argument '{name}' must be tuple of ints, not {type(value).__name__}{hint}")
    for pos, v in enumerate(value):
        if not is_int(v):
            raise TypeError(
                f"{fn}(): argument '{name}' must be tuple of ints, but found element of type "
                f"{type(v).__name__} at pos {pos}{hint}"
            )
    if len(value) not in (1, 2):
        raise ValueError(
            length_error
            or f"{fn}: expected {name} to be a single integer value or a list of 2 values to match the "
            f"convolution dimensions, but got {name}={list(value)}"
        )
    return int(value[0]), int(value[-1])


def _check_dtypes(fn: str, *tensors: Tensor | None) -> None:
    dtypes = {t.dtype for t in tensors if t is not None}
    if len(dtypes) > 1:
        names = ", ".join(str(t.dtype) for t in tensors if t is not None)
        raise TypeError(f"{fn}: input, weight and bias must have one dtype, got {names}; convert with .to(dtype)")


def _check_rank(x: Tensor, w: Tensor, fn: str) -> None:
    for name, t in (("input", x), ("weight", w)):
        if not isinstance(t, Tensor):
            raise TypeError(f"{fn}: {name} must be a Tensor, got {type(t).__name__} (wrap it: autograd.tensor(...))")
    if x.ndim not in (3, 4):
        raise ValueError(f"{fn}: expected input of shape (N, C, H, W) or unbatched (C, H, W), got shape {x.shape}")
    if w.ndim != 4:
        raise ValueError(f"{fn}: expected a 4-d weight (out, in/groups, kH, kW), got shape {w.shape}")


def conv_geometry(stride: IntPair, padding: IntPair, dilation: IntPair, groups: int, fn: str) -> Geometry:
    """The checked geometry of a convolution (``fn`` names it in errors, with PyTorch's words)."""
    s, p, d = int_pair(stride, "stride", fn), int_pair(padding, "padding", fn), int_pair(dilation, "dilation", fn)
    if not is_int(groups):
        raise TypeError(f"{fn}(): argument 'groups' must be int, not {type(groups).__name__}")
    if min(s) < 1:
        raise ValueError(
            f"{fn}: non-positive stride is not supported, got stride={s}; stride and dilation must be >= 1"
        )
    if min(p) < 0:
        raise ValueError(f"{fn}: negative padding is not supported, got padding={p}; use padding >= 0")
    if min(d) < 1:
        raise ValueError(
            f"{fn}: dilation should be greater than zero, but got dilation={d}; stride and dilation must be >= 1"
        )
    if groups < 1:
        raise ValueError(
            f"{fn}: non-positive groups is not supported, got groups={groups}; groups must be a positive integer"
        )
    return Geometry(s, p, d, int(groups))


def check_output_padding(output_padding: IntPair, geo: Geometry, fn: str) -> tuple[int, int]:
    """conv_transpose2d's output_padding: ints >= 0, each below its axis' stride or dilation."""
    op = int_pair(output_padding, "output_padding", fn)
    if min(op) < 0:
        raise ValueError(f"{fn}: negative output_padding is not supported, got output_padding={op}")
    if not all(o < max(s, d) for o, s, d in zip(op, geo.stride, geo.dilation)):
        raise ValueError(
            f"{fn}: output padding must be smaller than either stride or dilation, but got output_padding={op}, "
            f"stride={geo.stride}, dilation={geo.dilation}"
        )
    return op


def _check_fits(in_hw: tuple[int, int], kernel: tuple[int, int], geo: Geometry, fn: str) -> tuple[int, int]:
    out = conv_output_hw(in_hw, kernel, geo)
    for axis, n, k, s, p, d, o in zip(("height", "width"), in_hw, kernel, geo.stride, geo.padding, geo.dilation, out):
        span = d * (k - 1) + 1
        if span > n + 2 * p or o < 1:
            raise ValueError(
                f"{fn}: the kernel does not fit the input along the {axis}: input {n} + 2*padding {p} = {n + 2 * p} "
                f"is smaller than the dilated kernel {d}*({k}-1)+1 = {span}. Output size "
                f"(N + 2P - D*(F-1) - 1)/S + 1 = ({n} + 2*{p} - {d}*({k}-1) - 1)/{s} + 1 = {o} < 1; "
                "use a smaller kernel or more padding."
            )
    return out


def _batched(x: Tensor) -> tuple[Tensor, bool]:
    if x.ndim == 3:
        return x.unsqueeze(0), True
    return x, False


def conv2d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: IntPair = 1,
    padding: IntPair | str = 0,
    dilation: IntPair = 1,
    groups: int = 1,
) -> Tensor:
    """2-d convolution (cross-correlation, as every framework), PyTorch's ``F.conv2d``.

    Shapes: input (N, C_in, H, W) or (C_in, H, W); weight (C_out, C_in/groups, kH, kW);
    bias (C_out,). Output size per axis: (N + 2P - D*(F-1) - 1) // S + 1. ``padding`` may be
    ``'valid'`` (0) or ``'same'`` (output as large as the input; stride 1 only).
    """
    _check_rank(input, weight, "conv2d")
    _check_dtypes("conv2d", input, weight, bias)
    x, unbatched = _batched(input)
    if isinstance(padding, str):
        x, padding = _string_padding(x, weight, padding, stride, dilation)
    geo = conv_geometry(stride, padding, dilation, groups, "conv2d")
    c_in, c_out = x.shape[1], weight.shape[0]
    if c_in % geo.groups or c_out % geo.groups:
        raise ValueError(
            f"conv2d: in_channels ({c_in}) and out_channels ({c_out}) must both be divisible by groups ({geo.groups})"
        )
    if weight.shape[1] * geo.groups != c_in:
        raise ValueError(
            f"conv2d: weight of shape {weight.shape} expects {weight.shape[1] * geo.groups} input channels "
            f"(weight.shape[1] * groups = {weight.shape[1]} * {geo.groups}), but the input of shape "
            f"{input.shape} has {c_in}"
        )
    if bias is not None and bias.shape != (c_out,):
        raise ValueError(f"conv2d: bias must have shape ({c_out},) for {c_out} output channels, got {bias.shape}")
    _check_fits(x.shape[2:], weight.shape[2:], geo, "conv2d")
    y = Conv2d.apply(x, weight, bias, geo, None)
    return y.squeeze(0) if unbatched else y


def _string_padding(
    x: Tensor, weight: Tensor, padding: str, stride: IntPair, dilation: IntPair
) -> tuple[Tensor, IntPair]:
    if padding == "valid":
        return x, 0
    if padding != "same":
        raise ValueError(f"conv2d: Invalid padding string: {padding!r}; use an int, a pair, 'valid' or 'same'")
    geo = conv_geometry(stride, 0, dilation, 1, "conv2d")
    if geo.stride != (1, 1):
        raise ValueError(
            f"conv2d: padding='same' is not supported for strided convolutions (got stride={geo.stride}): "
            "'same' needs stride 1; pad explicitly instead"
        )
    totals = [d * (k - 1) for d, k in zip(geo.dilation, weight.shape[2:])]
    if all(t % 2 == 0 for t in totals):
        return x, (totals[0] // 2, totals[1] // 2)
    # odd total: one more row/column at the bottom/right, as PyTorch
    (th, tw) = totals
    from autograd.ops.shape import pad

    return pad(x, (tw // 2, tw - tw // 2, th // 2, th - th // 2)), 0


def conv_transpose2d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: IntPair = 1,
    padding: IntPair = 0,
    output_padding: IntPair = 0,
    groups: int = 1,
    dilation: IntPair = 1,
) -> Tensor:
    """Transposed convolution (the gradient of conv2d in its input), PyTorch's ``F.conv_transpose2d``.

    Shapes: input (N, C_in, H, W) or (C_in, H, W); weight (C_in, C_out/groups, kH, kW).
    Output size per axis: (H - 1)*S - 2P + D*(K - 1) + output_padding + 1.
    """
    _check_rank(input, weight, "conv_transpose2d")
    _check_dtypes("conv_transpose2d", input, weight, bias)
    x, unbatched = _batched(input)
    geo = conv_geometry(stride, padding, dilation, groups, "conv_transpose2d")
    op = check_output_padding(output_padding, geo, "conv_transpose2d")
    c_in = x.shape[1]
    if c_in % geo.groups:
        raise ValueError(f"conv_transpose2d: in_channels ({c_in}) must be divisible by groups ({geo.groups})")
    if weight.shape[0] != c_in:
        raise ValueError(
            f"conv_transpose2d: weight of shape {weight.shape} expects {weight.shape[0]} input channels "
            f"(weight.shape[0]), but the input of shape {input.shape} has {c_in}"
        )
    out_hw = tuple(
        (n - 1) * s - 2 * p + d * (k - 1) + o + 1
        for n, s, p, d, k, o in zip(x.shape[2:], geo.stride, geo.padding, geo.dilation, weight.shape[2:], op)
    )
    if min(out_hw) < 1:
        raise ValueError(
            f"conv_transpose2d: output size (H-1)*S - 2P + D*(K-1) + output_padding + 1 = {out_hw} is below 1 "
            f"for input {x.shape[2:]}, kernel {weight.shape[2:]}, stride {geo.stride}, padding {geo.padding}"
        )
    c_out = weight.shape[1] * geo.groups
    if bias is not None and bias.shape != (c_out,):
        raise ValueError(f"conv_transpose2d: bias must have shape ({c_out},), got {bias.shape}")
    z = ConvTranspose2d.apply(x, weight, bias, geo, out_hw, None)
    return z.squeeze(0) if unbatched else z


@dataclass(frozen=True)
class ConvArithmetic:
    """The answer to the lecture's spatial-arithmetic question for one axis of a layer."""

    input_size: int
    kernel_size: int
    stride: int
    padding: int
    dilation: int
    output_size: int
    fits: bool
    leftover: int

    def __str__(self) -> str:
        n, f, s, p, d = self.input_size, self.kernel_size, self.stride, self.padding, self.dilation
        formula = f"(N + 2P - D*(F-1) - 1)/S + 1 = ({n} + 2*{p} - {d}*({f}-1) - 1)/{s} + 1"
        exact = (n + 2 * p - d * (f - 1) - 1) / s + 1
        if self.fits:
            return f"{formula} = {self.output_size}: the filter fits exactly"
        return (
            f"{formula} = {exact:.2f}: the filter does not fit exactly; {self.output_size} outputs and "
            f"{self.leftover} row(s)/column(s) of the padded input are left over"
        )


def conv_arithmetic(
    input_size: int, kernel_size: int, stride: int = 1, padding: int = 0, dilation: int = 1
) -> ConvArithmetic:
    """Output size of a conv/pool layer along one axis, and whether the filter fits exactly.

    >>> str(conv_arithmetic(7, 3, stride=3))
    '(N + 2P - D*(F-1) - 1)/S + 1 = (7 + 2*0 - 1*(3-1) - 1)/3 + 1 = 2.33: the filter does not fit ...'
    """
    span = dilation * (kernel_size - 1) + 1
    room = input_size + 2 * padding - span
    if room < 0:
        raise ValueError(
            f"a kernel spanning {span} does not fit an input of {input_size} with padding {padding} "
            f"({input_size} + 2*{padding} = {input_size + 2 * padding} < {span})"
        )
    return ConvArithmetic(
        input_size,
        kernel_size,
        stride,
        padding,
        dilation,
        output_size=room // stride + 1,
        fits=room % stride == 0,
        leftover=room % stride,
    )
