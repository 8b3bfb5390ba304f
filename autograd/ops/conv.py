"""Convolution: conv2d, conv_transpose2d and the weight gradient, as im2col + one matrix product.

A convolution is a sliding dot product. Laid out as im2col, every receptive field of the
padded input becomes one row of a matrix (here a strided view, no copy), and the whole layer
is one matrix product per group:

    y[n, o, y, x] = b[o] + sum over c, i, j of  w[o, c, i, j] * x_pad[n, c, y*sh + i*dh, x*sw + j*dw]

Backward is an implicit vector-Jacobian product, never a Jacobian. The three ops below are
each other's VJPs, so ``create_graph=True`` works for all of them:

    y = conv2d(x, w)            dx = conv_transpose2d(dy, w)    dw = conv2d_weight(x, dy)
    z = conv_transpose2d(y, w)  dy = conv2d(dz, w)              dw = conv2d_weight(dz, y)
    v = conv2d_weight(x, g)     dx = conv_transpose2d(g, dv)    dg = conv2d(x, dv)

conv_transpose2d is col2im, the adjoint of im2col: each output pixel's w-weighted copy is
added back onto the input pixels its window read.

Layout is NCHW; weights are (C_out, C_in/groups, kH, kW) for conv2d and
(C_in, C_out/groups, kH, kW) for conv_transpose2d, as in PyTorch. The code below is the
reference; by default the ops run the same math on the faster kernels of
``autograd/kernels/conv.py`` (``autograd.kernels.reference()`` switches to this code).
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from autograd import kernels
from autograd.function import Op
from autograd.kernels import conv as fast
from autograd.kernels.conv import COLUMN_BLOCK_BYTES  # noqa: F401  (tests/test_conv_pool.py patches it here)
from autograd.ops import either
from autograd.ops.geometry import (  # noqa: F401  (ConvArithmetic, conv_arithmetic, ...: imported from here)
    ConvArithmetic,
    Geometry,
    IntPair,
    check_fits,
    check_output_padding,
    check_transposed_fits,
    conv_arithmetic,
    conv_geometry,
    conv_output_hw,
    int_pair,
    is_int,
)
from autograd.tensor import Tensor

# ------------------------------------------------------------------ the three Functions


class Conv2d(Op):
    """y = conv2d(x, w) + b. Shapes: x (N, C, H, W), w (C_out, C/G, kH, kW), b (C_out,)
    -> y (N, C_out, H_out, W_out); ``out_hw`` (None: all that fit; the backward ops give it)
    keeps only the first H_out x W_out windows: x's rows only the others read take no part."""

    @staticmethod
    def forward(ctx, x, w, b, geo, out_hw):
        ctx.geo = geo
        if kernels.enabled:
            y, cols = fast.conv2d_forward(x._data, w._data, geo, None if b is None else b._data, out_hw)
            # keep the im2col buffer for the weight gradient (one buffer per layer) when needed
            ctx.save_for_backward(x, w, cols if ctx.needs_input_grad[1] else None)
            return y
        ctx.save_for_backward(x, w, None)
        # y[n, o, y, x] = sum over c, i, j of w[o, c, i, j] * windows[n, c, y, x, i, j], per group
        out_hw = conv_output_hw(x.shape[2:], w.shape[2:], geo) if out_hw is None else out_hw
        windows = im2col(x._data, w.shape[2:], geo, out_hw)  # (N, G, C/G, H_out, W_out, kH, kW)
        weights = grouped(w._data, geo.groups)  # (G, C_out/G, C/G, kH, kW)
        y = np.einsum("ngcyxij,gocij->ngoyx", windows, weights, optimize=True)  # one GEMM per group
        y = y.reshape(y.shape[0], w.shape[0], *out_hw)  # (not -1: an empty batch has no size to infer)
        if b is not None:
            y = y + b._data.reshape(1, -1, 1, 1)
        return y

    @staticmethod
    def backward(ctx, grad):
        # dx = conv_transpose2d(dy, w); dw = correlation of x with dy; db = sum of dy
        x, w, cols = ctx.saved_tensors
        x_needs, w_needs, b_needs = ctx.needs_input_grad[:3]
        geo = ctx.geo
        gx = gw = gb = None
        # fast path on arrays (first-order): both GEMMs share one copy of the gradient as columns
        g_cols = None
        arrays = kernels.enabled and not isinstance(grad, Tensor)
        if arrays and fast.wants_output_columns(w.shape, geo, x_needs, x.shape[2:], grad.shape[2:]):
            g_cols = fast.output_columns(grad, geo.groups)
        if x_needs:
            gx = either.apply(ConvTranspose2d, (grad, w, None), geo, x.shape[2:], g_cols)
        if arrays and w_needs and b_needs and fast.has_ones_row(cols, w.shape):
            # the forward's columns end in a row of ones (a folded bias): one product gives dw and db
            gw, gb = fast.weight_and_bias_grads(grad, cols, g_cols, w.shape, geo)
            return gx, gw, gb, None, None
        if w_needs:
            gw = either.apply(Conv2dWeight, (x, grad), w.shape[2:], geo, cols, g_cols)
        if b_needs:
            gb = either.sum_keep(grad, (0, 2, 3)).reshape(-1) if g_cols is None else g_cols.sum(-1).reshape(-1)
        return gx, gw, gb, None, None


class ConvTranspose2d(Op):
    """z = conv_transpose2d(y, w) + b. Shapes: y (N, C_in, H, W), w (C_in, C_out/G, kH, kW)
    -> z (N, C_out, H_out, W_out) with H_out given by ``out_hw``."""

    @staticmethod
    def forward(ctx, y, w, b, geo, out_hw, y_cols):
        ctx.save_for_backward(y, w)
        ctx.geo = geo
        if kernels.enabled:
            z = fast.conv_transpose2d_forward(y._data, w._data, geo, tuple(out_hw), y_cols)
        else:
            # windows[n, c, y, x, i, j] = sum over o of y[n, o, y, x] * w[o, c, i, j], per group;
            # then col2im adds each window back onto the pixels it covers
            c_in, c_out_g, kh, kw = w.shape
            windows = np.einsum("ngoyx,gocij->ngcyxij", grouped(y._data, geo.groups, 1), grouped(w._data, geo.groups))
            z = col2im(windows, (y.shape[0], c_out_g * geo.groups, *out_hw), geo)
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
            gy = either.apply(Conv2d, (grad, w, None), geo, y.shape[2:])
        if w_needs:
            gw = either.apply(Conv2dWeight, (grad, y), w.shape[2:], geo, None, None)
        if b_needs:
            gb = either.sum_keep(grad, (0, 2, 3)).reshape(-1)
        return gy, gw, gb, None, None, None


class Conv2dWeight(Op):
    """v = dL/dw of conv2d for input x and output gradient g.
    Shapes: x (N, C, H, W), g (N, C_out, H_out, W_out) -> v (C_out, C/G, kH, kW)."""

    @staticmethod
    def forward(ctx, x, g, kernel, geo, cols, g_cols):
        ctx.save_for_backward(x, g)
        ctx.geo = geo
        if kernels.enabled:
            return fast.conv2d_weight_forward(x._data, g._data, tuple(kernel), geo, cols, g_cols)
        # v[o, c, i, j] = sum over n, y, x of g[n, o, y, x] * windows[n, c, y, x, i, j], per group
        windows = im2col(x._data, tuple(kernel), geo, g.shape[2:])  # (N, G, C/G, H_out, W_out, kH, kW)
        v = np.einsum("ngoyx,ngcyxij->gocij", grouped(g._data, geo.groups, 1), windows, optimize=True)
        return v.reshape(g.shape[1], x.shape[1] // geo.groups, *kernel)

    @staticmethod
    def backward(ctx, grad):
        # v is bilinear in (x, g): dx = conv_transpose2d(g, dv), dg = conv2d(x, dv)
        x, g = ctx.saved_tensors
        x_needs, g_needs = ctx.needs_input_grad[:2]
        gx = either.apply(ConvTranspose2d, (g, grad, None), ctx.geo, x.shape[2:], None) if x_needs else None
        gg = either.apply(Conv2d, (x, grad, None), ctx.geo, g.shape[2:]) if g_needs else None  # g's windows only
        return gx, gg, None, None, None, None


# ------------------------------------------------------------------ im2col and col2im (reference)


def im2col(x: np.ndarray, kernel: tuple[int, int], geo: Geometry, out_hw: tuple[int, int]) -> np.ndarray:
    """Every receptive field of the zero-padded x, as a strided view (no copy):
    windows[n, g, c, y, x, i, j] = x_pad[n, g*C/G + c, y*sh + i*dh, x*sw + j*dw] for the first
    H_out x W_out windows. Shapes: x (N, C, H, W) -> (N, G, C/G, H_out, W_out, kH, kW)."""
    (kh, kw), (ho, wo) = kernel, out_hw
    (ph, pw), (sh, sw), (dh, dw) = geo.padding, geo.stride, geo.dilation
    x_pad = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    span = (dh * (kh - 1) + 1, dw * (kw - 1) + 1)  # the dilated kernel
    windows = sliding_window_view(x_pad, span, axis=(2, 3))  # every span-sized window, stride 1
    windows = windows[:, :, : (ho - 1) * sh + 1 : sh, : (wo - 1) * sw + 1 : sw, ::dh, ::dw]  # stride, dilation
    return grouped(windows, geo.groups, 1)


def col2im(windows: np.ndarray, shape: tuple[int, int, int, int], geo: Geometry) -> np.ndarray:
    """The adjoint of im2col: add every window's values back onto the pixels it came from.

    Shapes: windows (N, G, C/G, H_out, W_out, kH, kW) -> image ``shape`` (N, C, H, W).
    One strided add per kernel offset (i, j), covering all windows at once.
    """
    n, c, h, w = shape
    *_, ho, wo, kh, kw = windows.shape
    (ph, pw), (sh, sw), (dh, dw) = geo.padding, geo.stride, geo.dilation
    windows = windows.reshape(n, c, ho, wo, kh, kw)
    # the padded image, large enough for every window (the last ones may reach past the padding)
    padded = np.zeros((n, c, max(h + 2 * ph, (ho - 1) * sh + dh * (kh - 1) + 1),
                       max(w + 2 * pw, (wo - 1) * sw + dw * (kw - 1) + 1)), windows.dtype)  # fmt: skip
    for i in range(kh):
        for j in range(kw):
            rows = slice(i * dh, i * dh + (ho - 1) * sh + 1, sh)  # the pixels tap (i, j) read, in every window
            columns = slice(j * dw, j * dw + (wo - 1) * sw + 1, sw)
            padded[:, :, rows, columns] += windows[..., i, j]
    return padded[:, :, ph : ph + h, pw : pw + w]


def grouped(t: np.ndarray, groups: int, axis: int = 0) -> np.ndarray:
    """Split ``axis`` (channels) into (groups, channels per group): (..., C, ...) -> (..., G, C/G, ...)."""
    return t.reshape(*t.shape[:axis], groups, t.shape[axis] // groups, *t.shape[axis + 1 :])


# ------------------------------------------------------------------ checks and public API


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
    check_fits(x.shape[2:], weight.shape[2:], geo, "conv2d")
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
    out_hw = check_transposed_fits(x.shape[2:], weight.shape[2:], geo, op, "conv_transpose2d")
    c_out = weight.shape[1] * geo.groups
    if bias is not None and bias.shape != (c_out,):
        raise ValueError(f"conv_transpose2d: bias must have shape ({c_out},), got {bias.shape}")
    z = ConvTranspose2d.apply(x, weight, bias, geo, out_hw, None)
    return z.squeeze(0) if unbatched else z
