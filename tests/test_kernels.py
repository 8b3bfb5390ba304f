"""The fast kernels (autograd/kernels/) against the reference code in autograd/ops/conv.py and
autograd/ops/pool.py: every conv and pool op both ways, values, gradients and second-order
gradients, in float64 to 1e-12."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd
from autograd import kernels
from autograd.kernels import conv as fast_conv
from autograd.kernels import pointwise as fast_pointwise
from autograd.kernels import pool as fast_pool
from autograd.ops.geometry import conv_arithmetic, output_size, transposed_output_size
from autograd.testing import conv_cases


def rand(shape, seed):
    return np.random.default_rng(seed).standard_normal(shape)


def derivatives(op, inputs, seed=100):
    """y = op(*inputs); the gradients for a random upstream g (a graph, create_graph=True); and the
    second-order gradients of <grads, u> in the inputs and in g. All as float64 arrays."""
    ts = [autograd.tensor(a, requires_grad=True) for a in inputs]
    y = op(*ts)
    g = autograd.tensor(rand(y.shape, seed), requires_grad=True)
    grads = autograd.autograd.grad(y, ts, g, create_graph=True, allow_unused=True)
    inner = sum(
        ((d * autograd.tensor(rand(d.shape, seed + 1 + k))).sum() for k, d in enumerate(grads) if d is not None)
    )
    second = autograd.autograd.grad(inner, [*ts, g], allow_unused=True)
    return [y._data.copy()] + [None if d is None else d._data.copy() for d in (*grads, *second)]


def assert_kernels_agree(op, inputs, rtol=1e-12, atol=1e-12):
    """The op on the fast kernels and on the reference: the same values and derivatives."""
    fast = derivatives(op, inputs)
    with kernels.reference():
        reference = derivatives(op, inputs)
    assert kernels.enabled
    for k, (a, b) in enumerate(zip(fast, reference)):
        assert (a is None) == (b is None), k
        if a is not None:
            assert a.shape == b.shape, k
            np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, equal_nan=True, err_msg=f"output {k}")
    return fast


def assert_plain_backward_agrees(op, inputs, x_needs, g):
    """y = op(*inputs) and y.backward(g) (a first-order pass, on arrays) with the fast kernels and
    with the reference: the same y and .grad of every input (the first one needs a gradient only
    when ``x_needs``)."""
    results = []
    for reference in (False, True):
        kernels.enabled = not reference
        try:
            ts = [autograd.tensor(a, requires_grad=x_needs or i > 0) for i, a in enumerate(inputs)]
            y = op(*ts)
            y.backward(autograd.tensor(g))
            results.append([y._data.copy()] + [t.grad._data.copy() for t in ts if t.requires_grad])
        finally:
            kernels.enabled = True
    for fast, ref in zip(*results):
        np.testing.assert_allclose(fast, ref, rtol=1e-12, atol=1e-12)


# ---------------------------------------------------------------- the switch


def test_reference_switch_restores_the_kernels_even_after_an_error():
    assert kernels.enabled
    with pytest.raises(RuntimeError), kernels.reference():
        assert not kernels.enabled
        raise RuntimeError
    assert kernels.enabled


def test_reference_mode_never_calls_a_fast_kernel(monkeypatch):
    """Inside reference() every op runs the reference code: the kernels would raise here."""

    def forbidden(*args, **kwargs):
        raise AssertionError("a fast kernel ran in reference mode")

    for module in (fast_conv, fast_pool, fast_pointwise):
        for name in dir(module):
            if callable(getattr(module, name)) and not name.startswith("__") and name[0].islower():
                monkeypatch.setattr(module, name, forbidden)
    with kernels.reference():
        x, w = rand((2, 4, 7, 7), 1), rand((4, 2, 3, 3), 2)
        derivatives(lambda x, w: autograd.conv2d(x, w, padding=1, groups=2), (x, w))
        derivatives(lambda x, w: autograd.conv_transpose2d(x, w, stride=2, groups=2), (x, rand((4, 3, 3, 3), 3)))
        derivatives(lambda x: autograd.max_pool2d(x, 3, 2, 1), (x,))
        derivatives(lambda x: autograd.max_pool2d(x, 2).relu(), (x,))
        autograd.max_pool2d(autograd.tensor(x), 2, return_indices=True)
        derivatives(lambda x: autograd.avg_pool2d(x, 7), (x,))
        derivatives(lambda x: autograd.adaptive_avg_pool2d(x, (3, 2)), (x,))
    with pytest.raises(AssertionError, match="a fast kernel ran"):
        autograd.conv2d(autograd.tensor(x), autograd.tensor(w), padding=1, groups=2)


# ---------------------------------------------------------------- convolutions


@settings(max_examples=25, deadline=None)
@given(conv_cases(), st.booleans())
def test_conv2d_fast_and_reference_agree(case, bias):
    inputs = [rand(case.input_shape, 1), rand(case.weight_shape, 2)] + ([rand((case.out_channels,), 3)] if bias else [])
    assert_kernels_agree(lambda x, w, b=None: autograd.conv2d(x, w, b, **case.kwargs), inputs)


@settings(max_examples=25, deadline=None)
@given(conv_cases(), st.integers(0, 1), st.booleans())
def test_conv_transpose2d_fast_and_reference_agree(case, extra, bias):
    """conv_cases' geometry read as a transposed convolution, output_padding up to stride - 1."""
    c_in, c_out_g = case.in_channels, case.out_channels // case.groups
    op = tuple(min(extra, max(s, d) - 1) for s, d in zip(case.stride, case.dilation))
    out_hw = [transposed_output_size(n, k, s, p, d, o) for n, k, s, p, d, o in
              zip(case.input_hw, case.kernel, case.stride, case.padding, case.dilation, op)]  # fmt: skip
    if min(out_hw) < 1:
        return
    inputs = [rand(case.input_shape, 4), rand((c_in, c_out_g, *case.kernel), 5)]
    inputs += [rand((c_out_g * case.groups,), 6)] if bias else []

    def op_fn(y, w, b=None):
        return autograd.conv_transpose2d(y, w, b, case.stride, case.padding, op, case.groups, case.dilation)

    assert_kernels_agree(op_fn, inputs)


@pytest.mark.parametrize(
    "x_shape, w_shape, kwargs",
    [
        ((2, 3, 9, 8), (4, 3, 3, 3), dict(padding=1)),  # the shifted-rows layout
        ((2, 4, 9, 8), (6, 2, 3, 3), dict(padding=(1, 2), dilation=(1, 2), groups=2)),
        ((1, 2, 6, 6), (2, 2, 3, 3), dict(padding="same", dilation=2)),
        ((1, 2, 7, 6), (2, 2, 2, 4), dict(padding="same")),  # odd 'same' padding (pads the input)
        ((2, 3, 10, 11), (3, 1, 5, 3), dict(stride=(3, 2), padding=2, groups=3)),
        ((3, 2, 4, 4), (5, 2, 1, 1), dict()),
        ((0, 3, 5, 5), (4, 3, 3, 3), dict(padding=1)),  # an empty batch (the reference once failed it)
    ],
)
def test_conv2d_fixed_geometries(x_shape, w_shape, kwargs):
    assert_kernels_agree(lambda x, w: autograd.conv2d(x, w, **kwargs), [rand(x_shape, 7), rand(w_shape, 8)])


@pytest.mark.parametrize("imagewise_k", [0, 10_000])
@pytest.mark.parametrize("c_in, kernel, bias", [(3, 3, True), (8, 3, False), (2, 1, True)])
def test_conv2d_forward_per_image_or_as_one_product(monkeypatch, imagewise_k, c_in, kernel, bias):
    """conv2d's forward makes one product per image for columns with few rows (IMAGEWISE_K), else
    one product over the batch and a layout copy: both give the reference's values and gradients."""
    monkeypatch.setattr(fast_conv, "IMAGEWISE_K", imagewise_k)
    inputs = [rand((3, c_in, 7, 6), 1), rand((5, c_in, kernel, kernel), 2)] + ([rand((5,), 3)] if bias else [])
    assert_kernels_agree(lambda x, w, *b: autograd.conv2d(x, w, *b, padding=kernel // 2), inputs)
    # an input that needs no gradient (a first layer): the weight gradient may skip the columns of g
    x = autograd.tensor(inputs[0])
    assert_kernels_agree(lambda w, *b: autograd.conv2d(x, w, *b, padding=kernel // 2), inputs[1:])


@pytest.mark.parametrize("imagewise_k", [0, 10_000])
@pytest.mark.parametrize("groups, x_needs", [(1, True), (1, False), (2, True)])
def test_conv2d_bias_in_the_product_gives_the_reference_gradients(monkeypatch, imagewise_k, groups, x_needs):
    """With one group conv2d's forward adds the bias in its product (a row of ones in the columns)
    and a plain backward takes dw and db from one product: the reference's y, dx, dw and db."""
    monkeypatch.setattr(fast_conv, "IMAGEWISE_K", imagewise_k)
    x, w, b, g = rand((3, 4, 7, 6), 1), rand((6, 4 // groups, 3, 3), 2), rand((6,), 3), rand((3, 6, 7, 6), 4)
    assert_plain_backward_agrees(lambda *ts: autograd.conv2d(*ts, padding=1, groups=groups), [x, w, b], x_needs, g)
    cols = fast_conv.conv2d_forward(x, w, _conv_geometry(groups), b)[1]
    assert fast_conv.has_ones_row(cols, w.shape) == (groups == 1)


@pytest.mark.parametrize("products", [0, 1 << 30])
@pytest.mark.parametrize("bias, x_needs", [(True, True), (False, True), (True, False)])
def test_pointwise_conv_agrees_with_the_reference_and_makes_no_columns(monkeypatch, products, bias, x_needs):
    """A 1x1 convolution (stride 1, no padding, one group) takes products on the images as they lie
    (the weight gradient per image up to POINTWISE_PRODUCTS numbers, else from columns): the
    reference's values and first- and second-order gradients, and no columns on the way."""
    monkeypatch.setattr(fast_conv, "POINTWISE_PRODUCTS", products)
    x, w, b, g = rand((3, 4, 5, 6), 1), rand((7, 4, 1, 1), 2), rand((7,), 3), rand((3, 7, 5, 6), 4)
    assert_kernels_agree(lambda x, w, *b: autograd.conv2d(x, w, *b), [x, w] + ([b] if bias else []))
    assert_kernels_agree(lambda z, w: autograd.conv_transpose2d(z, w), [g, w])
    if products:  # a plain backward (on arrays) makes no columns at all

        def forbidden(*args, **kwargs):
            raise AssertionError("columns made for a pointwise convolution")

        monkeypatch.setattr(fast_conv, "im2col", forbidden)
        monkeypatch.setattr(fast_conv, "output_columns", forbidden)
    assert_plain_backward_agrees(autograd.conv2d, [x, w] + ([b] if bias else []), x_needs, g)


def _conv_geometry(groups):
    from autograd.ops.geometry import Geometry

    return Geometry((1, 1), (1, 1), (1, 1), groups)


@pytest.mark.parametrize("stride, padding, groups", [(1, 0, 1), (1, 0, 2), (2, 1, 1), (2, 1, 2)])
def test_col2im_in_channel_blocks_agrees_with_the_reference(monkeypatch, stride, padding, groups):
    """col2im builds its columns a block of channels at a time: blocks of one channel (the smallest)
    must still give the reference's gradients."""
    monkeypatch.setattr(fast_conv, "COLUMN_BLOCK_BYTES", 1)
    inputs = [rand((3, 4, 9, 8), 1), rand((6, 4 // groups, 3, 3), 2)]
    op = lambda x, w: autograd.conv2d(x, w, stride=stride, padding=padding, groups=groups)  # noqa: E731
    assert_kernels_agree(op, inputs)


@pytest.mark.parametrize(
    "x_shape, w_shape, kwargs",
    [
        ((2, 3, 9, 8), (4, 3, 3, 3), dict(padding=1)),
        ((2, 4, 9, 8), (6, 2, 3, 3), dict(padding=(1, 2), dilation=(1, 2), groups=2)),
        ((2, 2, 9, 7), (3, 2, 3, 5), dict(padding=(0, 2))),  # y shorter than x: no kernel row reaches every row
        ((1, 2, 5, 6), (2, 2, 5, 3), dict(padding=(4, 1))),  # y taller than x
        ((2, 2, 4, 3), (2, 2, 3, 7), dict(padding=(1, 3))),  # kernel columns that read past a whole row
        ((0, 3, 5, 5), (4, 3, 3, 3), dict(padding=1)),  # an empty batch
    ],
)
@pytest.mark.parametrize("block_bytes", [1, 1 << 30])
def test_transposed_conv_by_kernel_rows_agrees_with_the_reference(monkeypatch, x_shape, w_shape, kwargs, block_bytes):
    """At stride 1 with the output as wide as the input, conv2d's input gradient and conv_transpose2d
    take kW sideways copies, one product and kH row adds (no col2im), one image at a time or the
    whole batch at once (TRANSPOSE_BLOCK_BYTES): the reference's values and first- and second-order
    gradients, both ops, and a plain backward."""

    def no_col2im(*args, **kwargs):
        raise AssertionError("col2im ran for a stride-1 convolution that keeps the width")

    monkeypatch.setattr(fast_conv, "col2im", no_col2im)
    monkeypatch.setattr(fast_conv, "TRANSPOSE_BLOCK_BYTES", block_bytes)
    x, w = rand(x_shape, 1), rand(w_shape, 2)
    b = rand((w_shape[0],), 3)
    assert_kernels_agree(lambda x, w, b: autograd.conv2d(x, w, b, **kwargs), [x, w, b])
    y = rand((x_shape[0], w_shape[0], *autograd.conv2d(autograd.tensor(x), autograd.tensor(w), **kwargs).shape[2:]), 4)
    groups = kwargs.get("groups", 1)
    wt = rand(w_shape, 5)  # read as conv_transpose2d's (C_y, C_z/G, kH, kW)
    bt = rand((w_shape[1] * groups,), 6)
    assert_kernels_agree(lambda y, w, b: autograd.conv_transpose2d(y, w, b, **kwargs), [y, wt, bt])
    assert_plain_backward_agrees(lambda *ts: autograd.conv2d(*ts, **kwargs), [x, w, b], True, y)


# ---------------------------------------------------------------- pooling


def with_specials(shape, seed, special):
    """Tie-heavy values with some NaN or -inf (or none): every rule of the argmax gets exercised."""
    rng = np.random.default_rng(seed)
    x = rng.integers(-2, 3, shape).astype(np.float64) + 0.0
    if special is not None:
        x[rng.random(shape) < 0.2] = special
    return x


@settings(max_examples=40, deadline=None)
@given(
    st.integers(1, 3), st.integers(1, 3), st.integers(0, 1), st.integers(1, 2), st.booleans(),
    st.sampled_from([None, np.nan, -np.inf]), st.integers(0, 2**31),
)  # fmt: skip
def test_max_pool2d_fast_and_reference_agree(k, s, p, d, ceil_mode, special, seed):
    p = min(p, k // 2)
    x = with_specials((2, 3, 7, 6), seed, special)
    assert_kernels_agree(lambda t: autograd.max_pool2d(t, k, s, p, d, ceil_mode), [x])
    indices = []
    for reference in (False, True):
        kernels.enabled = not reference
        try:
            indices.append(autograd.max_pool2d(autograd.tensor(x), k, s, p, d, ceil_mode, return_indices=True)[1])
        finally:
            kernels.enabled = True
    np.testing.assert_array_equal(indices[0]._data, indices[1]._data)


def at_offset(x, offset):
    """A copy of ``x`` whose data starts ``offset`` bytes past a 64-byte boundary."""
    raw = np.empty(x.nbytes + 128, np.uint8)
    start = (offset - raw.ctypes.data) % 64
    moved = raw[start : start + x.nbytes].view(x.dtype).reshape(x.shape)
    moved[...] = x
    assert moved.ctypes.data % 64 == offset
    return moved


@pytest.mark.parametrize("dtype, width", [(np.float32, 32), (np.float64, 16), (np.float32, 30)])
@pytest.mark.parametrize("special", [None, np.nan, -np.inf])
@pytest.mark.parametrize("padding", [0, 1])
def test_max_pool_argmax_of_rows_moved_off_the_cache_line(dtype, width, special, padding):
    """Rows of 128 bytes starting on a cache line are copied to start mid-line before the 2x2
    argmax (kernels/pool.py _off_the_cache_line): the copy holds the same values, and the maximum
    and argmax on it are the reference's; any other row length or start is used as it is."""
    from autograd.ops import pool

    x = with_specials((2, 3, 6, width), 5, special).astype(dtype)
    geo = pool._pool_geometry(autograd.tensor(x), 2, 2, padding, 1, False, "max_pool2d")
    expected = pool.window_max(pool._pad(x, geo, -np.inf), geo)
    for offset in (0, 16):
        padded = at_offset(pool._pad(x, geo, -np.inf), offset)
        moved = fast_pool._off_the_cache_line(padded, geo)
        if offset == 0 and padded.strides[-2] == 128:
            assert moved is not padded and moved.ctypes.data % 64 == 16
            np.testing.assert_array_equal(moved, padded)
        else:
            assert moved is padded
        for got, want in zip(fast_pool.window_max(padded, geo, argmax=True), expected):
            np.testing.assert_array_equal(got, want)


SPECIALS = [np.inf, -np.inf, np.nan, -0.0, 0.0, -1.5, 2.0]


def bits(a):
    """An array's exact bit pattern (tells -0.0 from +0.0 and keeps NaN payloads)."""
    return np.ascontiguousarray(a).view(f"u{a.dtype.itemsize}")


@settings(max_examples=60, deadline=None)
@given(
    st.sampled_from([np.float16, np.float32, np.float64]),
    st.sampled_from([((3, 4), (3, 4)), ((3, 4), (4,)), ((1, 4), (3, 4)), ((2, 3, 4), (3, 1)), ((), (5,))]),
    st.integers(0, 2**31),
)
def test_keep_is_where_bit_for_bit(dtype, shapes, seed):
    """kernels.pointwise.keep (an integer multiply of bit patterns) gives np.where's bits:
    +0.0 where the mask is false, the value itself (inf, NaN, -0.0) where it is true."""
    rng = np.random.default_rng(seed)
    x = rng.choice(np.array(SPECIALS, dtype), shapes[0])
    mask = rng.random(shapes[1]) < 0.5
    want = np.where(mask, x, np.zeros((), dtype))
    got = fast_pointwise.keep(x, mask)
    assert got.dtype == want.dtype and got.shape == want.shape
    np.testing.assert_array_equal(bits(got), bits(want))
    strided = np.repeat(x[..., None], 2, -1)[..., 0]  # a non-contiguous view of the same values
    np.testing.assert_array_equal(bits(fast_pointwise.keep(strided, mask)), bits(want))


@pytest.mark.parametrize(
    "k, s, p, ceil_mode",
    [(2, 2, 0, False), (2, 2, 0, True), (2, 3, 0, False), (3, 3, 1, False), (2, 2, 1, False), (3, 2, 1, False)],
)
def test_max_pool2d_gradient_bits_with_nonfinite_upstream(k, s, p, ceil_mode):
    """The scatter of an upstream gradient holding inf, NaN and negative values: the same bits as
    the reference (+0.0 off the argmax, never -0.0; inf not turned into NaN)."""
    rng = np.random.default_rng(k * 100 + s * 10 + p)
    x = rng.integers(-2, 3, (2, 3, 7, 6)).astype(np.float32)  # ties: the first in scan order wins
    results = []
    for reference in (False, True):
        kernels.enabled = not reference
        try:
            t = autograd.tensor(x, requires_grad=True)
            y = autograd.max_pool2d(t, k, s, p, ceil_mode=ceil_mode)
            g = rng.choice(np.array(SPECIALS, np.float32), y.shape) if not results else results[0][1]
            y.backward(autograd.tensor(g))
            results.append((bits(t.grad._data), g))
        finally:
            kernels.enabled = True
    np.testing.assert_array_equal(results[0][0], results[1][0])


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
@pytest.mark.parametrize("shape, ceil_mode", [((2, 3, 8, 6), False), ((1, 2, 5, 3), True), ((3, 1, 2, 2), False)])
def test_max_pool2d_2x2_gradient_bits_in_every_dtype(dtype, shape, ceil_mode):
    """2x2 windows that tile the input scatter float16/float32 gradients as pairs of values
    (kernels/pool.py _scatter_2x2_pairs): the reference's bits at every argmax position, for an
    upstream gradient with inf, NaN and -0.0 (arrives as +0.0)."""
    rng = np.random.default_rng(shape[2] * 10 + shape[3])
    x = rng.permutation(np.prod(shape)).reshape(shape).astype(dtype)  # (distinct: the argmax is everywhere)
    results = []
    for reference in (False, True):
        kernels.enabled = not reference
        try:
            t = autograd.tensor(x, requires_grad=True)
            y = autograd.max_pool2d(t, 2, ceil_mode=ceil_mode)
            g = rng.choice(np.array(SPECIALS, dtype), y.shape) if not results else results[0][1]
            y.backward(autograd.tensor(g))
            results.append((bits(t.grad._data), g))
        finally:
            kernels.enabled = True
    np.testing.assert_array_equal(results[0][0], results[1][0])
    if shape == (2, 3, 8, 6):  # every position of a window holds some window's maximum
        n, c, h, w = shape
        argmax = x.reshape(n, c, h // 2, 2, w // 2, 2).transpose(0, 1, 2, 4, 3, 5).reshape(-1, 4).argmax(-1)
        assert set(argmax) == {0, 1, 2, 3}


def test_max_pool2d_all_nan_and_all_minus_inf_windows():
    x = np.full((1, 2, 4, 4), -np.inf)
    x[0, 1] = np.nan
    x[0, 1, 0, 0] = 1.0
    assert_kernels_agree(lambda t: autograd.max_pool2d(t, 3, 1, 1), [x])
    assert_kernels_agree(lambda t: autograd.max_pool2d(t, 2, 1, 0, 2, True), [x])


@settings(max_examples=40, deadline=None)
@given(
    st.integers(1, 4), st.integers(1, 3), st.integers(0, 2), st.booleans(), st.booleans(),
    st.sampled_from([None, 3, -2]), st.integers(0, 2**31),
)  # fmt: skip
def test_avg_pool2d_fast_and_reference_agree(k, s, p, ceil_mode, include_pad, divisor, seed):
    p = min(p, k // 2)
    x = rand((2, 3, 7, 6), seed)
    assert_kernels_agree(lambda t: autograd.avg_pool2d(t, k, s, p, ceil_mode, include_pad, divisor), [x])


def test_avg_pool2d_of_large_tiling_windows():
    """The tiled reshape-and-mean path (windows of more than 16 positions that tile the input)."""
    assert_kernels_agree(lambda t: autograd.avg_pool2d(t, (5, 4)), [rand((2, 3, 10, 12), 3)])


@pytest.mark.parametrize("size", [1, (3, 2), (4, 4), (5, 3), (2, None), (7, 6)])
@pytest.mark.parametrize("special", [None, np.inf, np.nan])
def test_adaptive_avg_pool2d_fast_and_reference_agree(size, special):
    """Global, equal, unequal and overlapping bins, with non-finite inputs (the sliced path)."""
    x = rand((2, 3, 8, 6), 5)
    if special is not None:
        x[0, 1, 2, 3] = special
    assert_kernels_agree(lambda t: autograd.adaptive_avg_pool2d(t, size), [x])


# ---------------------------------------------------------------- one rule for the sizes


@settings(max_examples=60, deadline=None)
@given(conv_cases())
def test_one_output_size_rule_for_ops_arithmetic_and_layers(case):
    y = autograd.conv2d(autograd.tensor(rand(case.input_shape, 1)), autograd.tensor(rand(case.weight_shape, 2)),
                        **case.kwargs)  # fmt: skip
    geometry = list(zip(case.input_hw, case.kernel, case.stride, case.padding, case.dilation))
    assert y.shape[2:] == tuple(output_size(*g) for g in geometry)
    assert y.shape[2:] == tuple(conv_arithmetic(*g).output_size for g in geometry)


def _signed_zero_gradients(lib, x, g_relu, g_pool):
    """x.grad's sign bits through relu and through a 2x2 max-pool for upstream gradients that
    hold -0.0 (as PyTorch: relu passes -0.0 on, the pool's scatter adds it onto +0.0)."""
    out = []
    for op, g in ((lib.nn.functional.relu, g_relu), (lambda t: lib.nn.functional.max_pool2d(t, 2), g_pool)):
        t = lib.tensor(x, requires_grad=True)
        op(t).backward(lib.tensor(g))
        out.append(np.signbit(t.grad.numpy()))
    return out


def test_signed_zero_gradients_of_relu_and_max_pool_match_torch(oracle):
    rng = np.random.default_rng(7)
    x = rng.integers(-2, 3, (2, 3, 4, 6)).astype(np.float32)
    g_relu = rng.choice(np.array([-0.0, 0.0, -1.0, 2.0], np.float32), x.shape)
    g_pool = rng.choice(np.array([-0.0, 0.0, -1.0, 2.0], np.float32), (2, 3, 2, 3))
    ours = _signed_zero_gradients(autograd, x, g_relu, g_pool)
    theirs = oracle(_signed_zero_gradients, x, g_relu, g_pool)
    for a, b in zip(ours, theirs):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64, np.int32])
@pytest.mark.parametrize("shape", [(3,), (4096,), (2, 4097), (3, 5, 4096)])
def test_relu_kernel_is_numpy_maximum_bit_for_bit(dtype, shape):
    """kernels.pointwise.relu (a maximum against a row of zeros, the tail apart) gives
    np.maximum(x, 0)'s bits: NaN stays NaN, -0.0 and -inf become +0.0; strided input takes numpy's path."""
    rng = np.random.default_rng(len(shape))
    x = (rng.standard_normal(shape) * 3).astype(dtype)
    if x.dtype.kind == "f":
        x.reshape(-1)[:3] = [-0.0, np.nan, -np.inf]
    for a in (x, x[..., ::2]):
        got, want = fast_pointwise.relu(a), np.maximum(a, 0)
        assert got.dtype == want.dtype and got.shape == want.shape
        np.testing.assert_array_equal(got.view(f"u{got.itemsize}"), want.view(f"u{want.itemsize}"))
