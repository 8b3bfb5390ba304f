"""Convolution and pooling: gradchecks over random geometries, PyTorch oracle, lecture numbers, errors."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd
from autograd import conv2d, conv_transpose2d, max_pool2d
from autograd.testing import conv_cases


def rand(shape, seed=0, requires_grad=True):
    return autograd.tensor(np.random.default_rng(seed).standard_normal(shape), requires_grad=requires_grad)


def out_padding(case, y_hw):
    """output_padding that makes conv_transpose2d(y) come back to the conv's input size."""
    return tuple(
        n + 2 * p - ((o - 1) * s + d * (k - 1) + 1)
        for n, o, k, s, p, d in zip(case.input_hw, y_hw, case.kernel, case.stride, case.padding, case.dilation)
    )


# ---------------------------------------------------------------- gradients over random geometries


@settings(max_examples=15)
@given(conv_cases(), st.booleans())
def test_conv2d_gradcheck(case, bias):
    x, w = rand(case.input_shape, 1), rand(case.weight_shape, 2)
    b = rand((case.out_channels,), 3) if bias else None
    inputs = (x, w, b) if bias else (x, w)
    assert autograd.gradcheck(lambda x, w, b=None: conv2d(x, w, b, **case.kwargs), inputs)


@settings(max_examples=15)
@given(st.integers(1, 3), st.integers(1, 3), st.integers(1, 2), st.integers(1, 5), st.integers(1, 2))
def test_conv2d_same_width_gradcheck(half_h, half_w, dilation, width, groups):
    """Stride 1 with 'same' width: the shifted-rows layout, including rows narrower than the kernel."""
    kh, kw = 2 * half_h - 1, 2 * half_w + 1
    x, w = rand((2, 2 * groups, dilation * (kh - 1) + 2, width), 1), rand((2 * groups, 2, kh, kw), 2)
    padding = (0, dilation * half_w)
    assert autograd.gradcheck(lambda x, w: conv2d(x, w, None, 1, padding, dilation, groups), (x, w))
    assert autograd.gradgradcheck(lambda x, w: conv2d(x, w, None, 1, padding, dilation, groups), (x, w))


@settings(max_examples=10)
@given(conv_cases())
def test_conv2d_gradgradcheck(case):
    x, w = rand(case.input_shape, 1), rand(case.weight_shape, 2)
    assert autograd.gradgradcheck(lambda x, w: conv2d(x, w, **case.kwargs), (x, w), fast_mode=True)


@settings(max_examples=15)
@given(conv_cases())
def test_conv_transpose2d_gradcheck_and_gradgradcheck(case):
    # conv_transpose2d with the conv's geometry maps the conv's output size back to its input
    y_hw = autograd.conv2d(
        rand(case.input_shape, requires_grad=False), rand(case.weight_shape, requires_grad=False), **case.kwargs
    ).shape[2:]
    op = out_padding(case, y_hw)
    y = rand((case.batch, case.out_channels, *y_hw), 1)
    w = rand((case.out_channels, case.in_channels // case.groups, *case.kernel), 2)
    b = rand((case.in_channels,), 3)

    def f(y, w, b):
        return conv_transpose2d(y, w, b, case.stride, case.padding, op, case.groups, case.dilation)

    assert f(y, w, b).shape == case.input_shape
    assert autograd.gradcheck(f, (y, w, b))
    assert autograd.gradgradcheck(f, (y, w, b), fast_mode=True)


@pytest.mark.parametrize("stride, dilation, output_padding", [(1, 2, 1), (2, 3, 2), ((1, 2), (2, 1), (1, 1))])
def test_conv_transpose2d_with_output_padding_past_the_stride(stride, dilation, output_padding):
    """output_padding >= stride (allowed when dilation > stride) adds output rows that no input
    position reaches: the input's gradient (and the weight gradient's own) is cropped to size."""

    def f(y, w):
        return conv_transpose2d(y, w, None, stride, 0, output_padding, 1, dilation)

    y, w = rand((1, 2, 3, 4), 1), rand((2, 2, 3, 3), 2)
    assert autograd.gradcheck(f, (y, w))
    assert autograd.gradgradcheck(f, (y, w))


@settings(max_examples=15)
@given(st.integers(1, 3), st.integers(1, 3), st.integers(0, 1), st.integers(1, 2), st.booleans(), st.integers(3, 7))
def test_pools_gradcheck(k, s, p, d, ceil_mode, size):
    if p > k // 2 or d * (k - 1) + 1 > size + 2 * p:
        return
    x = rand((2, 2, size, size + 1), 4)  # distinct values: no ties inside a window
    assert autograd.gradcheck(lambda x: max_pool2d(x, k, s, p, d, ceil_mode), (x,))
    assert autograd.gradgradcheck(lambda x: max_pool2d(x, k, s, p, d, ceil_mode), (x,))
    if d == 1:
        for include in (True, False):
            assert autograd.gradcheck(
                lambda x, include=include: autograd.avg_pool2d(x, k, s, p, ceil_mode, include), (x,)
            )
            assert autograd.gradgradcheck(
                lambda x, include=include: autograd.avg_pool2d(x, k, s, p, ceil_mode, include), (x,)
            )


@settings(max_examples=10)
@given(st.integers(1, 7), st.integers(1, 7))
def test_adaptive_avg_pool2d_gradcheck(oh, ow):
    x = rand((1, 2, 7, 6), 5)
    assert autograd.gradcheck(lambda x: autograd.adaptive_avg_pool2d(x, (oh, ow)), (x,))
    assert autograd.gradgradcheck(lambda x: autograd.adaptive_avg_pool2d(x, (oh, ow)), (x,))


@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate"])
def test_pad_modes_gradcheck(mode):
    x = rand((2, 4, 4), 6)
    assert autograd.gradcheck(lambda x: autograd.pad(x, (2, 1, 1, 3), mode=mode), (x,))
    assert autograd.gradgradcheck(lambda x: autograd.pad(x, (2, 1, 1, 3), mode=mode), (x,))


# ---------------------------------------------------------------- PyTorch oracle
# Each comparison is one program ``fn(F, *tensors, *geometry)`` for both libraries: ``F`` is
# ``autograd`` or ``torch.nn.functional`` (same names and argument order).


def _torch_half(torch, fn, arrays, geometry):
    """PyTorch's output and, after a backward pass of a random upstream gradient, its input gradients."""
    theirs = [torch.tensor(a, requires_grad=a.dtype.kind == "f") for a in arrays]
    ty = fn(torch.nn.functional, *theirs, *geometry)
    g = np.random.default_rng(9).standard_normal(ty.shape)
    ty.backward(torch.tensor(g))
    return ty, [t.grad if t.requires_grad else None for t in theirs]


def _compare(oracle, fn, arrays, geometry=(), atol=1e-10):
    ours = [autograd.tensor(a, requires_grad=a.dtype.kind == "f") for a in arrays]
    ty, grads = oracle(lambda torch, *args: _torch_half(torch, fn, *args), arrays, geometry)
    y = fn(autograd, *ours, *geometry)
    np.testing.assert_allclose(y._data, ty, atol=atol, rtol=1e-7)
    g = np.random.default_rng(9).standard_normal(ty.shape)  # the upstream gradient PyTorch's side drew
    y.backward(autograd.tensor(g))
    for a, t in zip(ours, grads):
        if a.requires_grad:
            np.testing.assert_allclose(a.grad._data, t, atol=atol, rtol=1e-7)


CONV_CASES = [  # (x shape, w shape, stride, padding, dilation, groups)
    ((2, 4, 9, 9), (6, 4, 3, 3), 2, 1, 1, 1),
    ((2, 4, 9, 8), (6, 2, 3, 3), 1, 1, 2, 2),
    ((2, 4, 9, 9), (4, 2, 3, 3), 2, 1, 2, 2),  # stride 2 / padding 1 / dilation 2 / groups 2
    ((2, 3, 6, 7), (5, 3, 1, 1), 1, 0, 1, 1),  # 1x1
    ((2, 4, 8, 8), (4, 1, 3, 3), 1, 1, 1, 4),  # depthwise
    ((1, 2, 7, 7), (3, 2, 3, 3), 3, 0, 1, 1),  # stride 3 leaves a row/column over
    ((1, 2, 6, 5), (3, 2, 2, 3), 1, "same", 1, 1),
    ((1, 2, 6, 5), (3, 2, 3, 3), 1, "same", 2, 1),
    ((1, 2, 6, 5), (3, 2, 3, 2), 1, "valid", 1, 1),
    ((3, 6, 6), (2, 3, 3, 3), 1, 1, 1, 1),  # unbatched
    # stride 1 keeping the width: the contiguous shifted-rows layout, taps wrapping at row ends
    ((2, 3, 5, 4), (4, 3, 3, 3), 1, 1, 1, 1),
    ((2, 2, 3, 2), (3, 2, 5, 5), 1, 2, 1, 1),  # taps reach past the whole row
    ((1, 2, 6, 5), (3, 2, 3, 3), 1, 2, 2, 1),  # dilation 2
    ((2, 4, 4, 5), (4, 2, 1, 3), 1, (0, 1), 1, 2),  # 1x3, groups 2
    ((2, 2, 5, 5), (3, 2, 3, 1), 1, (2, 0), 1, 1),  # 3x1: taller output, same width
]


@pytest.mark.filterwarnings("ignore:Using padding='same'")
@pytest.mark.parametrize("xs, ws, s, p, d, g", CONV_CASES)
def test_conv2d_matches_torch(oracle, xs, ws, s, p, d, g):
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(xs), rng.standard_normal(ws), rng.standard_normal(ws[0])]
    _compare(oracle, lambda F, x, w, b, *geometry: F.conv2d(x, w, b, *geometry), arrays, (s, p, d, g))


@pytest.mark.parametrize(
    "xs, ws, s, p, op, d, g",
    [
        ((2, 4, 5, 5), (4, 3, 3, 3), 2, 1, 1, 1, 1),
        ((2, 4, 5, 4), (4, 2, 3, 2), 1, 0, 0, 2, 2),
        ((1, 4, 3, 3), (4, 1, 3, 3), 2, 1, 0, 1, 4),
        ((1, 2, 4, 4), (2, 3, 1, 1), 3, 0, 2, 1, 1),
        ((2, 5, 5), (2, 3, 3, 3), 2, 0, 1, 1, 1),
        ((2, 4, 5, 4), (4, 3, 3, 3), 1, 1, 0, 1, 1),  # shifted rows
        ((1, 4, 4, 3), (4, 2, 3, 3), 1, 2, 0, 2, 2),  # shifted rows, dilation 2, groups 2
        ((1, 2, 4, 4), (2, 3, 3, 3), 1, 0, 1, 2, 1),  # output_padding >= stride (dilation > stride)
        ((2, 2, 3, 4), (2, 1, 3, 2), 2, 1, 2, 3, 2),
    ],
)
def test_conv_transpose2d_matches_torch(oracle, xs, ws, s, p, op, d, g):
    rng = np.random.default_rng(1)
    arrays = [rng.standard_normal(xs), rng.standard_normal(ws), rng.standard_normal(ws[1] * g)]
    _compare(
        oracle,
        lambda F, x, w, b, *geometry: F.conv_transpose2d(x, w, b, *geometry),
        arrays,
        (s, p, op, g, d),
    )


@pytest.mark.parametrize(
    "k, s, p, d, ceil",
    [(2, 2, 0, 1, False), (3, 2, 1, 1, False), (3, 2, 1, 2, True), (2, 1, 1, 1, False), (3, 3, 0, 1, True)],
)
def test_pools_match_torch(oracle, k, s, p, d, ceil):
    rng = np.random.default_rng(2)
    x = np.round(rng.standard_normal((2, 3, 7, 8)), 1)  # rounded: ties inside windows happen
    _compare(oracle, lambda F, x, *geometry: F.max_pool2d(x, *geometry), [x], (k, s, p, d, ceil))
    _, idx = max_pool2d(autograd.tensor(x), k, s, p, d, ceil, return_indices=True)

    def indices(torch, x, geometry):
        return torch.nn.functional.max_pool2d(torch.tensor(x), *geometry, return_indices=True)[1]

    tidx = oracle(indices, x, (k, s, p, d, ceil))
    np.testing.assert_array_equal(idx._data, tidx)
    if d == 1:
        for include in (True, False):
            _compare(oracle, lambda F, x, *geometry: F.avg_pool2d(x, *geometry), [x], (k, s, p, ceil, include))


@pytest.mark.parametrize("size", [1, 2, (3, 2), (5, 7), (7, 8), (None, 3)])
def test_adaptive_avg_pool2d_matches_torch(oracle, size):
    x = np.random.default_rng(3).standard_normal((2, 3, 7, 8))
    _compare(oracle, lambda F, x, size: F.adaptive_avg_pool2d(x, size), [x], (size,))


@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate"])
def test_pad_matches_torch(oracle, mode):
    x = np.random.default_rng(4).standard_normal((2, 3, 4, 5))
    _compare(oracle, lambda F, x, mode: F.pad(x, (2, 1, 3, 1), mode=mode), [x], (mode,))


def test_float32_stays_float32():
    x = autograd.randn(2, 3, 8, 8, requires_grad=True)
    w = autograd.randn(4, 3, 3, 3, requires_grad=True)
    y = max_pool2d(conv2d(x, w, padding=1), 2)
    y.sum().backward()
    assert y.dtype == x.grad.dtype == w.grad.dtype == np.float32


# ---------------------------------------------------------------- the lecture's numbers


def test_lecture_conv_layer_32x32x3_with_ten_5x5_filters():
    x = autograd.randn(1, 3, 32, 32)
    w = autograd.randn(10, 3, 5, 5, requires_grad=True)
    b = autograd.zeros(10, requires_grad=True)
    assert conv2d(x, w, b, stride=1, padding=2).shape == (1, 10, 32, 32)
    assert w.numel() + b.numel() == 760 == 10 * (5 * 5 * 3 + 1)
    assert conv2d(x, w[:6]).shape == (1, 6, 28, 28)  # 6 filters, no padding: 28x28x6
    assert conv2d(conv2d(x, w[:6]), autograd.randn(10, 6, 5, 5)).shape == (1, 10, 24, 24)  # 32 -> 28 -> 24


@pytest.mark.parametrize("stride, padding, expected", [(1, 0, 5), (2, 0, 3), (1, 1, 7)])
def test_lecture_spatial_arithmetic_7x7_3x3(stride, padding, expected):
    geo = autograd.conv_arithmetic(7, 3, stride=stride, padding=padding)
    assert geo.output_size == expected and geo.fits
    y = conv2d(autograd.randn(1, 1, 7, 7), autograd.randn(1, 1, 3, 3), stride=stride, padding=padding)
    assert y.shape[2:] == (expected, expected)


def test_lecture_stride_3_does_not_fit():
    geo = autograd.conv_arithmetic(7, 3, stride=3)
    assert not geo.fits and geo.leftover == 1 and geo.output_size == 2
    assert "does not fit" in str(geo) and "2.33" in str(geo)
    for f in (3, 5, 7):  # pad (F - 1)/2 preserves size
        assert autograd.conv_arithmetic(32, f, padding=(f - 1) // 2).output_size == 32


def test_lecture_1x1_convolution():
    x = autograd.randn(1, 64, 56, 56)
    w = autograd.randn(32, 64, 1, 1)
    y = conv2d(x, w)
    assert y.shape == (1, 32, 56, 56)
    np.testing.assert_allclose(y._data[0, :, 10, 20], w._data[:, :, 0, 0] @ x._data[0, :, 10, 20], rtol=1e-4, atol=1e-4)


def test_lecture_max_pool_example_and_gradient():
    x = autograd.tensor([[[[1.0, 1, 2, 4], [5, 6, 7, 8], [3, 2, 1, 0], [1, 2, 3, 4]]]], requires_grad=True)
    y = max_pool2d(x, 2, stride=2)
    np.testing.assert_array_equal(y._data[0, 0], [[6, 8], [3, 4]])
    y.sum().backward()
    np.testing.assert_array_equal(x.grad._data[0, 0], [[0, 0, 0, 0], [0, 1, 0, 1], [1, 0, 0, 0], [0, 0, 0, 1]])
    assert autograd.avg_pool2d(autograd.randn(1, 64, 224, 224), 2).shape == (1, 64, 112, 112)


def test_conv_is_a_sliding_dot_product():
    rng = np.random.default_rng(5)
    x, w, b = rng.standard_normal((1, 3, 6, 6)), rng.standard_normal((2, 3, 3, 3)), rng.standard_normal(2)
    y = conv2d(autograd.tensor(x), autograd.tensor(w), autograd.tensor(b), stride=1)._data
    for o in range(2):
        for i in range(4):
            for j in range(4):
                assert y[0, o, i, j] == pytest.approx(np.sum(x[0, :, i : i + 3, j : j + 3] * w[o]) + b[o])


# ---------------------------------------------------------------- errors, raised before any work


@pytest.mark.parametrize(
    "args, kwargs, message",
    [
        (
            ((1, 3, 4, 4), (2, 3, 5, 5)),
            {},
            r"\(N \+ 2P - D\*\(F-1\) - 1\)/S \+ 1 = \(4 \+ 2\*0 - 1\*\(5-1\) - 1\)/1 \+ 1 = 0",
        ),
        (((1, 4, 8, 8), (6, 2, 3, 3)), {"groups": 3}, "divisible by groups"),
        (((1, 3, 8, 8), (6, 2, 3, 3)), {}, r"expects 2 input channels"),
        (((3, 8, 8, 1, 1), (6, 3, 3, 3)), {}, r"\(N, C, H, W\)"),
        (((1, 3, 8, 8), (6, 3, 3)), {}, "4-d weight"),
        (((1, 3, 8, 8), (6, 3, 3, 3)), {"padding": -1}, "padding >= 0"),
        (((1, 3, 8, 8), (6, 3, 3, 3)), {"stride": 0}, "stride and dilation must be >= 1"),
        (((1, 3, 8, 8), (6, 3, 3, 3)), {"dilation": 0}, "stride and dilation must be >= 1"),
        (((1, 3, 8, 8), (6, 3, 3, 3)), {"padding": "same", "stride": 2}, "'same' needs stride 1"),
    ],
)
def test_conv2d_errors(args, kwargs, message):
    x, w = (autograd.zeros(*s) for s in args)
    with pytest.raises(ValueError, match=message):
        conv2d(x, w, **kwargs)


def test_pool_and_transpose_errors():
    with pytest.raises(ValueError, match="at least 1"):
        max_pool2d(autograd.zeros(1, 1, 2, 2), 3)
    with pytest.raises(ValueError, match="at most half"):
        max_pool2d(autograd.zeros(1, 1, 8, 8), 2, padding=2)
    with pytest.raises(ValueError, match="at most half of kernel_size"):  # dilation does not widen it (PyTorch)
        max_pool2d(autograd.zeros(1, 1, 8, 8), 3, padding=2, dilation=2)
    with pytest.raises(ValueError, match="expects 4 input channels"):
        conv_transpose2d(autograd.zeros(1, 3, 4, 4), autograd.zeros(4, 2, 3, 3))
    with pytest.raises(ValueError, match="output_padding"):
        conv_transpose2d(autograd.zeros(1, 4, 4, 4), autograd.zeros(4, 2, 3, 3), stride=2, output_padding=2)
    with pytest.raises(ValueError, match="reflect padding"):
        autograd.pad(autograd.zeros(1, 3), (3, 0), mode="reflect")
    with pytest.raises(ValueError, match="does not fit"):
        autograd.conv_arithmetic(2, 5)


def test_conv_memory_stays_near_one_im2col_buffer():
    import tracemalloc

    x = autograd.randn(8, 16, 32, 32, requires_grad=True)
    w = autograd.randn(32, 16, 3, 3, requires_grad=True)
    tracemalloc.start()
    y = conv2d(x, w, padding=1)
    y.backward(autograd.ones(*y.shape))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    im2col = 16 * 9 * 8 * 32 * 32 * 4  # bytes of one (C*kH*kW, N*H*W) float32 buffer
    jacobian = (x.numel() * y.numel()) * 4
    assert peak < 4 * im2col < jacobian / 1000


@pytest.mark.parametrize("stride, padding, groups", [(1, 0, 1), (1, 0, 2), (2, 1, 1), (2, 1, 2)])
def test_transposed_columns_in_channel_blocks_give_the_same_gradients(monkeypatch, stride, padding, groups):
    """conv2d's input gradient builds its columns a block of channels at a time: one channel per
    block (the smallest blocks) must give exactly what one block of all channels gives."""
    from autograd.kernels import conv  # (the fast kernels: the reference has no column blocks)

    x, w = rand((3, 4, 9, 8), 1), rand((6, 4 // groups, 3, 3), 2)

    def grads():
        x.grad = w.grad = None
        y = conv2d(x, w, stride=stride, padding=padding, groups=groups)  # (padding 0 at stride 1: col2im)
        y.backward(rand(y.shape, 3, requires_grad=False))
        return x.grad.numpy().copy(), w.grad.numpy().copy()

    whole = grads()
    monkeypatch.setattr(conv, "COLUMN_BLOCK_BYTES", 1)
    blocked = grads()
    np.testing.assert_allclose(blocked[0], whole[0], rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(blocked[1], whole[1])
    assert np.abs(whole[0]).max() > 0.1  # real gradients, not zeros


def test_conv_output_is_contiguous_and_survives_buffer_reuse():
    """Outputs live in cached buffers; a later conv must never write over one still in use."""
    x, w = rand((8, 16, 32, 32), 1, False), rand((32, 16, 3, 3), 2, False)
    first = conv2d(x, w, padding=1)
    kept = first.numpy().copy()
    assert first.numpy().flags.c_contiguous
    for _ in range(3):
        conv2d(x * 2, w, padding=1)
    np.testing.assert_array_equal(first.numpy(), kept)


@settings(max_examples=40)
@given(st.integers(1, 3), st.integers(1, 3), st.integers(0, 1), st.integers(1, 2), st.booleans(), st.integers(0, 2**31))
def test_max_pool_argmax_from_the_running_maximum_matches_the_exact_scan(k, s, p, d, with_nan, seed):
    """The forward pass finds each window's argmax from where the running maximum grew; it must
    agree with a scan for the first maximum (ties as PyTorch; NaN wins) on tie-heavy inputs."""
    from autograd.ops import pool

    p = min(p, k // 2)
    x = np.random.default_rng(seed).integers(-2, 3, (2, 3, 7, 6)).astype(np.float32)  # many ties
    if with_nan:
        x[0, 1, 2, 3] = np.nan
    geo = pool._pool_geometry(autograd.tensor(x), k, s, p, d, False, "max_pool2d")
    padded = pool._pad(x, geo, -np.inf)
    best, which = pool._window_max(padded, geo, argmax=True)
    np.testing.assert_array_equal(which, pool._window_argmax(padded, best, geo))


@pytest.mark.parametrize("value", [np.inf, -np.inf, np.nan])
def test_max_pool_gradient_with_non_finite_upstream_gradient(value):
    """A tiled 2x2 pool fills its gradient without zeroing first, except on this path."""
    x = rand((1, 2, 4, 4), 5)
    y = max_pool2d(x, 2)
    g = np.ones(y.shape)
    g[0, 0, 0, 0] = value
    y.backward(autograd.tensor(g))
    gx = x.grad.numpy()
    window = gx[0, 0, :2, :2]
    assert np.count_nonzero(window) == 1 and (np.isnan(window).sum() == 1 if np.isnan(value) else value in window)
    assert np.isfinite(gx[0, 1]).all() and np.count_nonzero(gx[0, 1]) == 4


@pytest.mark.parametrize("size, out", [(10, 2), (12, 3), (6, 2)])
def test_average_pooling_of_tiling_windows_both_ways(oracle, size, out):
    """Windows that tile the input: large ones (5x5: 25 > 16 offsets) take the reshape-mean
    path, small ones (4x4, 3x3) the loop over offsets; both match PyTorch, to second order."""
    x = rand((2, 3, size, size), 7)
    assert autograd.gradgradcheck(lambda t: autograd.adaptive_avg_pool2d(t, out), (x,), fast_mode=True)
    ours = autograd.adaptive_avg_pool2d(x, out)
    theirs = oracle(lambda torch, x, out: torch.nn.functional.adaptive_avg_pool2d(torch.tensor(x), out), x._data, out)
    np.testing.assert_allclose(ours._data, theirs, rtol=1e-12)
