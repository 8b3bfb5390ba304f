"""The fast convolution kernels: im2col + GEMM with a cache-friendly layout.

They compute what the reference code in ``autograd/ops/conv.py`` computes (im2col as a
strided view, one matrix product, col2im as its adjoint), faster. Each trick is marked
``# speed:`` with what it buys (a factor where one was measured: time without / time with it).

Every kernel works on "columns": a (G, rows, N * H_out * W_out) matrix whose last axis runs
over the output pixels (n, y, x). When a stride-1 convolution keeps the width (W_out == W,
as 3x3 with padding 1 does) an output row y reads whole rows y + i of the image, shifted
sideways by j - padding; with the images flattened, kernel offset (i, j) reads one
contiguous stretch, so im2col is kH * kW long copies. The few reads that wrap around a row
end stand for the zero padding and are zeroed. conv_transpose2d (conv2d's input gradient) in
that layout splits the kernel: kW sideways copies of y (one per kernel column), one product
that sums over the kernel columns and channels for every kernel row, and kH adds of whole rows
(one per kernel row). Other geometries use strided views and col2im.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.lib.stride_tricks import as_strided

from autograd import workspace
from autograd.ops.geometry import Geometry, conv_output_hw

# speed: rows of a columns matrix ROW_PAD elements further apart than their length: rows of a
# power-of-two length (N * H * W usually is one) fall on the same cache sets, and the GEMMs
# then run 1.15-1.2x slower
ROW_PAD = 16
# speed: conv_transpose2d (and conv2d's input gradient) makes its columns in blocks of at most
# this many bytes, still in cache when added back
COLUMN_BLOCK_BYTES = 6 << 20
# speed, memory: conv_transpose2d at stride 1 (see _transpose_by_kernel_rows) makes its sideways
# copies of y for a block of images at a time, at most this many bytes, still in cache when the
# product reads them (the CNN step of bench_train at batch 256: 1.09x faster than in one block)
TRANSPOSE_BLOCK_BYTES = 4 << 20
# speed: conv2d's forward makes one product per image when its columns have fewer rows than this
# (C/G * kH * kW): measured faster below 64 rows (9, 27, 32), slower from 72 rows up
IMAGEWISE_K = 64
# speed: a pointwise (1x1) convolution's weight gradient sums per-image products when they hold
# at most this many numbers (N * C_out * C), else it makes columns (one product over the batch)
POINTWISE_PRODUCTS = 1 << 21


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


def _zero_wrapped(tap: np.ndarray, shift: int) -> None:
    """Zero the columns that wrapped around a row end. tap (..., H_out, W): its column x holds
    the image's column x + shift of the same row, so where that lies outside [0, W) it is padding."""
    width = tap.shape[-1]
    if shift < 0:
        tap[..., : min(-shift, width)] = 0
    elif shift > 0:
        tap[..., max(width - shift, 0) :] = 0


def im2col(
    x: np.ndarray, kernel: tuple[int, int], out_hw: tuple[int, int], geo: Geometry, ones_row: bool = False
) -> np.ndarray:
    """Receptive fields as columns. x (N, C, H, W) -> (G, C/G * kH * kW, N * H_out * W_out).

    ``ones_row`` (one group) adds a last row of ones: (1, C * kH * kW + 1, N * H_out * W_out), so
    a product with a bias column adds the bias (see conv2d_forward)."""
    n, c, h, w = x.shape
    (kh, kw), (ho, wo) = kernel, out_hw
    (ph, pw), (sh, sw), (dh, dw) = geo.padding, geo.stride, geo.dilation
    rows = c * kh * kw
    buffer = _columns((rows + ones_row,), n * ho * wo, x.dtype)
    if ones_row:
        buffer[rows] = 1
    cols = buffer[:rows].reshape(c, kh, kw, n, ho * wo)
    if _shifted_rows(w, wo, geo):
        # speed: stride 1, same width: one contiguous copy per kernel offset instead of a strided
        # view's short rows
        # cols[c, i, j, n, y * W + x] = image[c, n, y + i*dh, x + j*dw - pw]: one slice per offset
        images = _padded_rows(x, geo)
        for i in range(kh):
            for j in range(kw):
                start = i * dh * w + j * dw
                cols[:, i, j] = images[:, :, start : start + ho * w]
                _zero_wrapped(cols[:, i, j].reshape(c, n, ho, w), j * dw - pw)
    else:
        if ph or pw:
            x = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
        s_n, s_c, s_h, s_w = x.strides
        # windows[c, i, j, n, y, x] = x_padded[n, c, y*sh + i*dh, x*sw + j*dw]  (a view, no copy)
        shape, strides = (c, kh, kw, n, ho, wo), (s_c, s_h * dh, s_w * dw, s_n, s_h * sh, s_w * sw)
        cols.reshape(shape)[...] = as_strided(x, shape, strides, writeable=False)
    return buffer.reshape(geo.groups, (rows + ones_row) // geo.groups, n * ho * wo)


def col2im(
    w_mat: np.ndarray,
    y_cols: np.ndarray,
    shape: tuple[int, int, int, int],
    kernel: tuple[int, int],
    out_hw: tuple[int, int],
    geo: Geometry,
) -> np.ndarray:
    """The adjoint of im2col applied to the columns w_mat @ y_cols: add every column back
    onto the pixels it came from.

    w_mat (G, C/G * kH * kW, C_y/G), y_cols (G, C_y/G, N * H_out * W_out) -> (N, C, H, W),
    where (H, W) = ``shape[2:]`` and (H_out, W_out) = ``out_hw``. The columns are made for a
    block of channels at a time (at most COLUMN_BLOCK_BYTES), each block with one strided add
    per kernel offset, never a loop over pixels.
    """
    n, c, h, w = shape
    groups, per_group = geo.groups, c // geo.groups
    (kh, kw), (ho, wo) = kernel, out_hw
    (ph, pw), (sh, sw), (dh, dw) = geo.padding, geo.stride, geo.dilation
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
                rows = slice(i * dh, i * dh + sh * (ho - 1) + 1, sh)
                columns = slice(j * dw, j * dw + sw * (wo - 1) + 1, sw)
                part[..., rows, columns] += cols[:, :, i, j]
        del cols  # its buffer is free for the next block
    image = padded.reshape(c, n, full_h, full_w)[:, :, ph : ph + h, pw : pw + w]
    return workspace.contiguous(image.transpose(1, 0, 2, 3))


def _sideways_copies(y_cols: np.ndarray, kw: int, geo: Geometry, width: int) -> np.ndarray:
    """y_cols (G, C_y/G, N * H_y * W) -> (G, kW, C_y/G, N * H_y * W): copy j holds at column x
    what conv_transpose2d's kernel column j adds onto column x: y's column x + pw - j*dw of the
    same row (0 past either end of the row). One long copy per kernel column."""
    groups, per_group, length = y_cols.shape
    (_, pw), (_, dw) = geo.padding, geo.dilation
    copies = _columns((groups, kw, per_group), length, y_cols.dtype)
    for j in range(kw):
        shift = pw - j * dw  # copies[:, j, :, q] = y_cols[:, :, q + shift]
        tap, k = copies[:, j], min(abs(shift), length)
        if shift >= 0:
            tap[..., : length - k] = y_cols[..., k:]
        else:
            tap[..., k:] = y_cols[..., : length - k]
        _zero_wrapped(tap.reshape(groups, per_group, length // width, width), shift)
    return copies


def _transpose_by_kernel_rows(y_cols: np.ndarray, w: np.ndarray, geo: Geometry, h_y: int, z: np.ndarray) -> None:
    """conv_transpose2d when z is as wide as y at stride 1 (the shifted-rows layout):
    z[n, c, Y] = sum over i of rows_i[c, n, Y + ph - i*dh], where rows_i, the sum over the kernel
    columns j and the channels o of w[o, c, i, j] * (y shifted sideways for column j), are one
    product of w (kH * C_z/G, kW * C_y/G) with _sideways_copies. Writes z (N, C_z, H, W), where
    y_cols (G, C_y/G, N * H_y * W) are y's output_columns."""
    c_y, c_z_g, kh, kw = w.shape
    groups, (n, _, h, width) = geo.groups, z.shape
    (ph, _), (dh, _) = geo.padding, geo.dilation
    copies = _sideways_copies(y_cols, kw, geo, width)
    # w_mat[g, i * C_z/G + c, j * C_y/G + o] = w[g * C_y/G + o, c, i, j]
    w_mat = w.reshape(groups, c_y // groups, c_z_g, kh, kw).transpose(0, 3, 2, 4, 1)
    w_mat = w_mat.reshape(groups, kh * c_z_g, kw * c_y // groups)
    rows = _matmul(w_mat, copies.reshape(groups, kw * c_y // groups, y_cols.shape[-1]))
    rows = rows.reshape(groups, kh, c_z_g, n, h_y, width).transpose(1, 3, 0, 2, 4, 5)  # (kH, N, G, C_z/G, H_y, W)
    z = z.reshape(n, groups, c_z_g, h, width)
    shifts = [ph - i * dh for i in range(kh)]  # kernel row i adds rows_i's row Y + shift onto z's row Y
    first = next((i for i, s in enumerate(shifts) if 0 <= s <= h_y - h), None)  # one that covers every row
    if first is None:
        z[...] = 0
    else:
        z[...] = rows[first, ..., shifts[first] : shifts[first] + h, :]
    for i, s in enumerate(shifts):
        lo, hi = max(0, -s), min(h, h_y - s)
        if i != first and lo < hi:
            z[..., lo:hi, :] += rows[i, ..., lo + s : hi + s, :]


def output_columns(t: np.ndarray, groups: int) -> np.ndarray:
    """(N, C, H, W) -> (G, C/G, N * H * W): channels grouped, the rest flattened (one copy).

    This is how the GEMMs take a conv's output gradient (both backward GEMMs share it)."""
    n, c, h, w = t.shape
    out = _columns((c,), n * h * w, t.dtype)
    out.reshape(c, n, h * w)[...] = t.transpose(1, 0, 2, 3).reshape(c, n, h * w)
    return out.reshape(groups, c // groups, n * h * w)


def _columns(lead: tuple[int, ...], length: int, dtype: np.dtype) -> np.ndarray:
    """An empty (*lead, length) matrix whose rows lie ROW_PAD elements further apart than their
    length (see ROW_PAD), in a cached buffer."""
    # speed: workspace buffers are reused from step to step: no fresh pages to fault in
    return workspace.empty((*lead, length + ROW_PAD), dtype)[..., :length]


def _from_columns(t: np.ndarray, n: int, hw: tuple[int, int], b: np.ndarray | None = None) -> np.ndarray:
    """(G, C/G, N * H * W) -> contiguous (N, C, H, W) (one copy), plus b (C,) when given."""
    c = t.shape[0] * t.shape[1]
    image = t.reshape(c, n, *hw).transpose(1, 0, 2, 3)
    if b is None:
        return workspace.contiguous(image)
    # speed: the bias added on the way, in the same pass as the copy
    return np.add(image, b.reshape(c, 1, 1), out=workspace.empty((n, c, *hw), t.dtype))


def _matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a @ b for stacks of matrices with long rows (columns matrices), the result in a cached buffer."""
    return np.matmul(a, b, out=_columns(a.shape[:-1], b.shape[-1], np.result_type(a, b)))


def pointwise(w_shape: tuple[int, ...], geo: Geometry, in_hw: tuple[int, ...], out_hw: tuple[int, ...]) -> bool:
    """Whether a conv2d from ``in_hw`` to ``out_hw`` is a 1x1 kernel at stride 1 without padding,
    one group, every pixel kept: then image n's output is the product W @ x[n], (C_out, C) @
    (C, H*W), on the image as it lies."""
    return (
        w_shape[2:] == (1, 1)
        and geo.stride == (1, 1)
        and geo.padding == (0, 0)
        and geo.groups == 1
        and tuple(in_hw) == tuple(out_hw)
    )


def imagewise(rows: int, geo: Geometry) -> bool:
    """Whether conv2d's products go one image at a time: columns of fewer than IMAGEWISE_K rows
    (C/G * kH * kW), one group."""
    return geo.groups == 1 and rows < IMAGEWISE_K


def wants_output_columns(
    w_shape: tuple[int, ...], geo: Geometry, x_needs: bool, x_hw: tuple[int, ...], g_hw: tuple[int, ...]
) -> bool:
    """Whether conv2d's backward should make output_columns of its gradient g: the input gradient
    always uses them, the weight gradient unless it goes one image at a time; a pointwise
    convolution's gradients use none."""
    if pointwise(w_shape, geo, x_hw, g_hw):
        return False
    return x_needs or not imagewise(w_shape[1] * w_shape[2] * w_shape[3], geo)


def conv2d_forward(
    x: np.ndarray,
    w: np.ndarray,
    geo: Geometry,
    b: np.ndarray | None = None,
    out_hw: tuple[int, int] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """y[n, o] = b[o] + sum over c, i, j of w[o, c, i, j] * x_pad[n, c, y*s + i*d, x*s + j*d].

    ``out_hw`` (at most ``conv_output_hw``) computes only the first windows. Returns y and the
    im2col buffer (the weight gradient can reuse it; with a bias and one group it has a last row
    of ones, which gives the bias gradient too: see weight_and_bias_grads).
    """
    c_out, _, kh, kw = w.shape
    ho, wo = conv_output_hw(x.shape[2:], (kh, kw), geo) if out_hw is None else out_hw
    if pointwise(w.shape, geo, x.shape[2:], (ho, wo)):
        # speed: a 1x1 convolution needs no columns: y[n] = W @ x[n] on the images as they lie,
        # written straight in (N, C_out, H*W) order (no im2col, no layout copies; forward +
        # backward 1.4x faster at 64x32x16x16 -> 64 channels). No columns to keep.
        n, c = x.shape[:2]
        y = np.matmul(w.reshape(c_out, c), x.reshape(n, c, ho * wo), out=workspace.empty((n, c_out, ho * wo), w.dtype))
        if b is not None:
            y += b.reshape(c_out, 1)
        return y.reshape(n, c_out, ho, wo), None
    # speed: with one group the bias rides in the product, as a column of w against a row of
    # ones in the columns: no pass over y to add it (and none over the gradient to sum it)
    fold = b is not None and geo.groups == 1
    cols = im2col(x, (kh, kw), (ho, wo), geo, ones_row=fold)
    w_mat = w.reshape(geo.groups, c_out // geo.groups, -1)
    if fold:
        w_mat = np.concatenate([w_mat[0], b.reshape(c_out, 1).astype(w.dtype, copy=False)], axis=1)[None]
    if imagewise(w_mat.shape[2] - fold, geo):
        # speed: with few rows (3 input channels x 3 x 3 = 27) the product is bound by memory,
        # not arithmetic: one product per image writes y straight in (N, C_out, H*W) order,
        # which saves _from_columns' copy (2.5-3.5x faster for a 3x3 conv on 3 channels)
        n, k = x.shape[0], cols.shape[1]
        y = workspace.empty((n, c_out, ho * wo), np.result_type(w, cols))
        np.matmul(w_mat[0], cols[0].reshape(k, n, ho * wo).transpose(1, 0, 2), out=y)  # (one group: bias folded)
        return y.reshape(n, c_out, ho, wo), cols
    y = _matmul(w_mat, cols)
    return _from_columns(y, x.shape[0], (ho, wo), None if fold else b), cols


def conv_transpose2d_forward(
    y: np.ndarray, w: np.ndarray, geo: Geometry, out_hw: tuple[int, int], y_cols: np.ndarray | None = None
) -> np.ndarray:
    """The adjoint of conv2d_forward in its input: scatter w-weighted copies of each y pixel.

    ``y_cols`` is ``output_columns(y, groups)`` when the caller has it already.
    """
    c_in, c_out_g, kh, kw = w.shape
    n = y.shape[0]
    if pointwise(w.shape, geo, out_hw, y.shape[2:]):
        # speed: (see conv2d_forward) z[n] = W^T @ y[n] on the images as they lie
        hw = y.shape[2] * y.shape[3]
        z = workspace.empty((n, c_out_g, hw), w.dtype)
        return np.matmul(w.reshape(c_in, c_out_g).T, y.reshape(n, c_in, hw), out=z).reshape(n, c_out_g, *out_hw)
    if y_cols is None:
        y_cols = output_columns(y, geo.groups)
    if _shifted_rows(out_hw[1], y.shape[3], geo):
        # speed: kW sideways copies of y, one product, kH adds of whole rows: no columns kH * kW
        # times the size of z and no kH * kW adds of them (the 3x3 input gradient of a 64x32x16x16
        # batch, with the gradient's columns, 1.1x faster)
        # speed, memory: a block of images at a time, its copies at most TRANSPOSE_BLOCK_BYTES
        z = workspace.empty((n, c_out_g * geo.groups, *out_hw), np.result_type(w, y_cols))
        hw = y.shape[2] * y.shape[3]
        copy_bytes = kw * y_cols.shape[0] * y_cols.shape[1] * hw * y_cols.itemsize  # one image's copies
        step = max(1, TRANSPOSE_BLOCK_BYTES // max(1, copy_bytes))
        for n0 in range(0, n, step):
            n1 = min(n0 + step, n)
            _transpose_by_kernel_rows(y_cols[..., n0 * hw : n1 * hw], w, geo, y.shape[2], z[n0:n1])
        return z
    w_mat = w.reshape(geo.groups, c_in // geo.groups, c_out_g * kh * kw).transpose(0, 2, 1)
    return col2im(w_mat, y_cols, (n, c_out_g * geo.groups, *out_hw), (kh, kw), y.shape[2:], geo)


def conv2d_weight_forward(
    x: np.ndarray,
    g: np.ndarray,
    kernel: tuple[int, int],
    geo: Geometry,
    cols: np.ndarray | None = None,
    g_cols: np.ndarray | None = None,
) -> np.ndarray:
    """dL/dw of conv2d: correlate the input x with the output gradient g. -> (C_out, C/G, kH, kW).

    ``cols`` is x's im2col buffer when the forward pass kept it (a row of ones after x's rows is
    left out), ``g_cols`` g's output columns.
    """
    n, c, c_out = x.shape[0], x.shape[1], g.shape[1]
    if pointwise((c_out, c, *kernel), geo, x.shape[2:], g.shape[2:]) and n * c_out * c <= POINTWISE_PRODUCTS:
        # speed: (see conv2d_forward) the sum over images of g[n] @ x[n]^T, with no columns of
        # either; the images' products, (N, C_out, C), are summed after
        hw = x.shape[2] * x.shape[3]
        per_image = np.matmul(g.reshape(n, c_out, hw), x.reshape(n, c, hw).transpose(0, 2, 1))
        return per_image.sum(0).reshape(c_out, c, 1, 1)
    if cols is None:
        cols = im2col(x, kernel, g.shape[2:], geo)
    k = x.shape[1] // geo.groups * kernel[0] * kernel[1]  # rows of a group's columns
    return _weight_products(g, cols, g_cols, geo, k)[..., :k].reshape(g.shape[1], x.shape[1] // geo.groups, *kernel)


def weight_and_bias_grads(
    g: np.ndarray, cols: np.ndarray, g_cols: np.ndarray | None, w_shape: tuple[int, ...], geo: Geometry
) -> tuple[np.ndarray, np.ndarray]:
    """dL/dw and dL/db of conv2d in one product: ``cols`` has conv2d_forward's row of ones, whose
    product with g is the sum of g over the batch and the pixels, the bias gradient.
    -> (C_out, C, kH, kW), (C_out,)"""
    k = math.prod(w_shape[1:])
    products = _weight_products(g, cols, g_cols, geo, k)[0]  # (C_out, k + 1)
    return products[:, :k].reshape(w_shape), np.ascontiguousarray(products[:, k])


def has_ones_row(cols: np.ndarray | None, w_shape: tuple[int, ...]) -> bool:
    """Whether conv2d_forward's ``cols`` carry the row of ones of a folded bias."""
    return cols is not None and cols.shape[0] == 1 and cols.shape[1] == math.prod(w_shape[1:]) + 1


def _weight_products(g: np.ndarray, cols: np.ndarray, g_cols: np.ndarray | None, geo: Geometry, k: int) -> np.ndarray:
    """Every output channel's products with every row of ``cols`` (k rows of x, perhaps a row of
    ones): (G, C_out/G, rows of cols)."""
    # speed: the forward pass's im2col buffer is reused (one im2col less per step), and both
    # backward GEMMs share one copy of the gradient as columns
    if g_cols is None and imagewise(k, geo):
        # speed: (as conv2d_forward) one product per image, g read in its own (N, C_out, H*W)
        # order: no copy of g as columns; the images' products are summed after
        n, rows, hw = g.shape[0], cols.shape[1], g.shape[2] * g.shape[3]
        per_image = np.matmul(g.reshape(n, g.shape[1], hw), cols[0].reshape(rows, n, hw).transpose(1, 2, 0))
        return per_image.sum(0)[None]
    if g_cols is None:
        g_cols = output_columns(g, geo.groups)
    # speed: (cols g^T)^T rather than g cols^T: numpy's GEMM runs this orientation faster here
    return np.matmul(cols, g_cols.transpose(0, 2, 1)).transpose(0, 2, 1)
