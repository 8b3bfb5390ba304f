"""Convolution and pooling at the edges, against PyTorch (issue 17).

- inf and NaN stay in the bins and windows that hold them (adaptive and average pooling,
  forward and backward, to second order);
- a max-pooling window with NaNs picks the last NaN, as PyTorch's CPU kernel, and a window of
  -inf values its first real position, never the padding (values, indices, gradients);
- second derivatives of conv_transpose2d ignore the upstream gradient's rows that no input
  reaches (output_padding), as the first derivatives do;
- a bad size argument gets an error in PyTorch's words that names it.

Each program is written once, ``program(lib, ...)``, for ``autograd`` and ``torch``.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd
import nn
from autograd.ops import pool

# inf and NaN on purpose: numpy's "invalid value" warnings are expected (PyTorch is silent)
pytestmark = pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")


def functional(lib):
    """``F``: torch.nn.functional, or autograd itself (same names and arguments)."""
    return lib.nn.functional if lib.__name__ == "torch" else lib


def arrays(*tensors):
    return [None if t is None else t.detach().numpy() for t in tensors]


def assert_same(ours, theirs, rtol=1e-7, atol=1e-12):
    """Equal values, with inf and NaN in the same places."""
    for a, b in zip(ours, theirs, strict=True):
        if b is None:
            assert a is None
            continue
        assert a.shape == b.shape and a.dtype == b.dtype
        np.testing.assert_array_equal(np.isnan(a), np.isnan(b))
        np.testing.assert_array_equal(np.isposinf(a), np.isposinf(b))
        np.testing.assert_array_equal(np.isneginf(a), np.isneginf(b))
        finite = np.isfinite(b)
        np.testing.assert_allclose(a[finite], b[finite], rtol=rtol, atol=atol)


def second_order(lib, pooling, x, g, u):
    """y = pooling(x); dx for the upstream gradient g; then the gradient of <dx, u> in g."""
    t = lib.tensor(x, requires_grad=True)
    upstream = lib.tensor(g, requires_grad=True)
    y = pooling(t)
    (gx,) = lib.autograd.grad(y, t, upstream, create_graph=True)
    (gg,) = lib.autograd.grad((gx * lib.tensor(u)).sum(), upstream)
    return arrays(y, gx, gg)


# ---------------------------------------------------------------- adaptive and average pooling


def adaptive_program(lib, x, g, u, size):
    return second_order(lib, lambda t: functional(lib).adaptive_avg_pool2d(t, size), x, g, u)


def _with(shape, places, seed, dtype=np.float64):
    """Random values with the given {index: value} (inf, -inf, NaN) placed."""
    a = np.random.default_rng(seed).standard_normal(shape).astype(dtype)
    for index, value in places.items():
        a[index] = value
    return a


ADAPTIVE_CASES = {  # input shape, output size, non-finite inputs, upstream and second-order vectors
    "5x5-to-3x3-one-inf": ((1, 1, 5, 5), 3, {(0, 0, 2, 2): np.inf}, {(0, 0, 1, 1): np.inf}, {(0, 0, 4, 0): np.inf}),
    "overlapping-bins": (
        (2, 3, 7, 8),
        (3, 5),
        {(0, 1, 3, 3): np.inf, (1, 2, 0, 0): np.nan, (1, 0, 6, 7): -np.inf, (0, 0, 2, 4): np.inf},
        {(0, 1, 1, 2): -np.inf, (1, 0, 0, 4): np.nan, (1, 1, 2, 2): np.inf},
        {(0, 2, 3, 5): np.nan, (1, 1, 2, 2): -np.inf},
    ),
    "inf-minus-inf-in-a-bin": (
        (1, 2, 5, 7),
        (2, 3),
        {(0, 0, 2, 2): np.inf, (0, 0, 2, 3): -np.inf},  # both in the bins of rows 0-2 and 2-4, columns 2-4
        {(0, 1, 0, 1): np.inf, (0, 1, 1, 1): -np.inf},  # spread onto row 2, which both row bins hold
        {},
    ),
    "unbatched": ((2, 5, 6), (4, 4), {(1, 2, 2): np.nan}, {(0, 3, 0): np.inf}, {(1, 0, 5): np.inf}),
    "equal-bins": ((1, 2, 6, 6), 3, {(0, 0, 1, 1): np.inf}, {(0, 1, 2, 2): np.nan}, {(0, 0, 5, 5): np.inf}),
    "global": ((1, 2, 4, 5), 1, {(0, 1, 1, 1): -np.inf}, {(0, 0, 0, 0): np.inf}, {(0, 0, 3, 4): np.nan}),
    "float32": ((1, 2, 5, 5), 3, {(0, 1, 4, 4): np.inf}, {(0, 0, 2, 2): np.inf}, {(0, 1, 0, 0): np.inf}),
}


@pytest.mark.parametrize("case", list(ADAPTIVE_CASES))
def test_adaptive_avg_pool2d_keeps_inf_and_nan_in_their_bins(oracle, case):
    """A zero-weighted inf made 8 of 9 bins NaN (0 * inf); PyTorch keeps it in its own bin,
    forward, backward (an inf upstream gradient reaches only its bin's inputs) and second order."""
    shape, size, in_places, g_places, u_places = ADAPTIVE_CASES[case]
    dtype = np.float32 if case == "float32" else np.float64
    x = _with(shape, in_places, 0, dtype)
    y_shape = autograd.adaptive_avg_pool2d(autograd.tensor(x), size).shape
    g, u = _with(y_shape, g_places, 1, dtype), _with(shape, u_places, 2, dtype)
    ours = adaptive_program(autograd, x, g, u, size)
    theirs = oracle(adaptive_program, x, g, u, size)
    assert_same(ours, theirs, rtol=1e-5 if dtype == np.float32 else 1e-7, atol=1e-6 if dtype == np.float32 else 1e-12)


@pytest.mark.parametrize("size, out", [((7, 8), (3, 5)), ((5, 5), (3, 3)), ((9, 4), (4, 3)), ((6, 7), (6, 5))])
def test_adaptive_bins_by_slices_agree_with_the_matrices(size, out):
    """The rare sliced path (taken for non-finite values) computes what the matrix products do."""
    x = np.random.default_rng(3).standard_normal((2, 3, *size))
    np.testing.assert_allclose(pool._bin_means_sliced(x, out), pool._bin_means(x, out), rtol=1e-12, atol=1e-14)
    g = np.random.default_rng(4).standard_normal((2, 3, *out))
    np.testing.assert_allclose(pool._bin_spread_sliced(g, size), pool._bin_spread(g, size), rtol=1e-12, atol=1e-14)


def avg_program(lib, x, g, u, geometry):
    return second_order(lib, lambda t: functional(lib).avg_pool2d(t, *geometry), x, g, u)


@pytest.mark.parametrize(
    "geometry",  # kernel, stride, padding, ceil_mode, count_include_pad, divisor_override
    [
        (2, 2, 0, False, True, None),
        (3, 1, 1, False, False, None),
        (3, 2, 1, True, True, None),
        (2, 1, 1, True, False, -3),
    ],
)
def test_avg_pool2d_keeps_inf_and_nan_in_their_windows(oracle, geometry):
    x = _with((1, 2, 6, 7), {(0, 0, 2, 3): np.inf, (0, 1, 0, 0): np.nan, (0, 1, 5, 6): -np.inf}, 5)
    y_shape = autograd.avg_pool2d(autograd.tensor(x), *geometry).shape
    g = _with(y_shape, {(0, 0, 1, 1): np.inf, (0, 1, 2, 2): np.nan}, 6)
    u = _with(x.shape, {(0, 0, 0, 1): -np.inf}, 7)
    assert_same(avg_program(autograd, x, g, u, geometry), oracle(avg_program, x, g, u, geometry))


# ---------------------------------------------------------------- max pooling with NaN and -inf


def max_program(lib, x, g, u, geometry):
    """Values, indices, the gradient for g, and the second-order gradient in g (a gather of u)."""
    t, upstream = lib.tensor(x, requires_grad=True), lib.tensor(g, requires_grad=True)
    y, indices = functional(lib).max_pool2d(t, *geometry, return_indices=True)
    (gx,) = lib.autograd.grad(y, t, upstream, create_graph=True)
    (gg,) = lib.autograd.grad((gx * lib.tensor(u)).sum(), upstream)
    return arrays(y, indices, gx, gg)


MAX_GEOMETRIES = [  # kernel, stride, padding, dilation, ceil_mode
    (2, 2, 0, 1, False),  # disjoint windows
    (3, 1, 1, 1, False),  # overlapping windows with padding
    (3, 2, 1, 2, True),  # dilation and ceil_mode
    (2, 1, 1, 1, True),
    (3, 3, 1, 1, True),  # the last window reaches past the padding
    ((3, 2), (1, 2), (1, 0), (1, 2), False),
]


def _nan_heavy(dtype=np.float64):
    """Rounded values (ties) with several NaNs per window and a corner of -inf (a window of
    -inf values and padding: PyTorch picks its first real position)."""
    x = np.round(np.random.default_rng(8).standard_normal((2, 2, 7, 8)), 0).astype(dtype)
    x[0, 0, 1, 1:6] = np.nan
    x[0, 0, 2, 2] = x[0, 0, 3, 0] = np.nan
    x[0, 1, 4:6, 4:6] = np.nan
    x[1, 0, :3, :3] = -np.inf
    x[1, 1, 5:, 6:] = -np.inf
    x[1, 1, 0, 0] = np.nan
    return x


@pytest.mark.parametrize("geometry", MAX_GEOMETRIES)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_max_pool2d_takes_the_last_nan_as_pytorch(oracle, geometry, dtype):
    x = _nan_heavy(dtype)
    y_shape = autograd.max_pool2d(autograd.tensor(x), *geometry).shape
    g = np.random.default_rng(9).standard_normal(y_shape).astype(dtype)
    u = np.where(np.random.default_rng(10).random(x.shape) < 0.3, np.inf, 1.0).astype(dtype)  # inf off the argmax
    ours, theirs = max_program(autograd, x, g, u, geometry), oracle(max_program, x, g, u, geometry)
    np.testing.assert_array_equal(ours[1], theirs[1])  # the indices, exactly
    tolerance = {"rtol": 1e-6, "atol": 1e-6} if dtype == np.float32 else {}  # (float32: overlapping windows add up)
    assert_same(ours, theirs, **tolerance)


def pytorch_cpu_argmax(x, k, s, p, d, ceil_mode):
    """PyTorch's CPU max-pooling scan, one window at a time (a slow reference): start at the
    window's first real position with -inf, keep a value that is greater, or NaN."""
    geo = pool._pool_geometry(autograd.tensor(x), k, s, p, d, ceil_mode, "max_pool2d")
    (kh, kw), (sh, sw), (ph, pw), (dh, dw), (h, w) = geo.kernel, geo.stride, geo.padding, geo.dilation, geo.in_hw
    out = np.zeros(x.shape[:2] + geo.out_hw, np.int64)
    for n, c, oy, ox in np.ndindex(out.shape):
        rows = [r for r in range(oy * sh - ph, oy * sh - ph + kh * dh, dh) if 0 <= r < h]
        cols = [q for q in range(ox * sw - pw, ox * sw - pw + kw * dw, dw) if 0 <= q < w]
        best, at = -np.inf, rows[0] * w + cols[0]
        for r in rows:
            for q in cols:
                if x[n, c, r, q] > best or np.isnan(x[n, c, r, q]):
                    best, at = x[n, c, r, q], r * w + q
        out[n, c, oy, ox] = at
    return out


@settings(max_examples=40)
@given(
    st.integers(1, 3), st.integers(1, 3), st.integers(0, 1), st.integers(1, 2), st.booleans(),
    st.integers(0, 2**31), st.sampled_from([np.nan, -np.inf]),
)  # fmt: skip
def test_max_pool2d_indices_follow_pytorchs_scan(k, s, p, d, ceil_mode, seed, special):
    """Tie-heavy values with many NaNs or -infs, every geometry: the indices (and so the
    gradients) are those of PyTorch's scan, whichever path (running maximum or exact scan)."""
    p = min(p, k // 2)
    rng = np.random.default_rng(seed)
    x = rng.integers(-2, 3, (1, 2, 6, 7)).astype(np.float64)
    x[rng.random(x.shape) < 0.3] = special
    _, indices = autograd.max_pool2d(autograd.tensor(x), k, s, p, d, ceil_mode, return_indices=True)
    np.testing.assert_array_equal(indices.numpy(), pytorch_cpu_argmax(x, k, s, p, d, ceil_mode))


def test_max_pool2d_nan_example_from_the_issue(oracle):
    x = np.array([[[[np.nan, 1.0], [np.nan, 2.0]]]])

    def program(lib, x):
        return arrays(functional(lib).max_pool2d(lib.tensor(x), 2, return_indices=True)[1])

    assert program(autograd, x)[0].item() == oracle(program, x)[0].item() == 2


# ---------------------------------------------------------------- second derivatives of convolutions


def conv_transpose_program(lib, y, w, b, g, u, v, geometry):
    """First derivatives of z = conv_transpose2d(y, w, b) for the upstream g, then the
    gradients of <dy, u> + <dw, v> in y, w and g."""
    stride, padding, output_padding, groups, dilation = geometry
    Y, W, B = (lib.tensor(a, requires_grad=True) for a in (y, w, b))
    G = lib.tensor(g, requires_grad=True)
    z = functional(lib).conv_transpose2d(Y, W, B, stride, padding, output_padding, groups, dilation)
    gy, gw, gb = lib.autograd.grad(z, (Y, W, B), G, create_graph=True)
    total = (gy * lib.tensor(u)).sum() + (gw * lib.tensor(v)).sum() + gb.sum()
    return arrays(z, gy, gw, *lib.autograd.grad(total, (Y, W, G), allow_unused=True))


CONV_TRANSPOSE_GEOMETRIES = [  # stride, padding, output_padding, groups, dilation
    (1, 0, 1, 1, 2),  # output_padding >= stride: these conv windows used to be computed and cropped
    (2, 0, 2, 1, 3),
    (1, 2, 2, 1, 3),  # every row reached (output_padding <= padding), one window too many
    ((1, 2), (0, 1), (1, 1), 2, (2, 1)),
    (1, (0, 1), (1, 0), 1, (2, 1)),  # as wide as y: the shifted-rows layout, fewer rows
    (2, 1, 1, 1, 1),  # output_padding < stride: the rows past the reach are never read
    (3, 0, 2, 1, 1),
]


@pytest.mark.parametrize("geometry", CONV_TRANSPOSE_GEOMETRIES)
def test_conv_transpose2d_second_order_ignores_unreachable_gradient_rows(oracle, geometry):
    """NaN and inf in the upstream gradient's last rows and columns: where no input reaches
    them the first derivatives ignore them, and so must the second (0 * NaN leaked before)."""
    rng = np.random.default_rng(11)
    groups = geometry[3]
    y, w, b = rng.standard_normal((2, 4, 3, 4)), rng.standard_normal((4, 3, 3, 3)), rng.standard_normal(3 * groups)
    z_shape = autograd.conv_transpose2d(
        autograd.tensor(y), autograd.tensor(w), None, *geometry[:3], groups, geometry[4]
    ).shape
    g = rng.standard_normal(z_shape)
    g[..., -1, :] = np.nan
    g[..., :, -1] = np.inf
    u, v = rng.standard_normal(y.shape), rng.standard_normal(w.shape)
    ours = conv_transpose_program(autograd, y, w, b, g, u, v, geometry)
    assert_same(ours, oracle(conv_transpose_program, y, w, b, g, u, v, geometry), rtol=1e-9, atol=1e-10)


def conv_program(lib, x, w, g, u, v, geometry):
    """The same for conv2d: the gradients of <dx, u> + <dw, v> in x, w and g."""
    X, W, G = lib.tensor(x, requires_grad=True), lib.tensor(w, requires_grad=True), lib.tensor(g, requires_grad=True)
    y = functional(lib).conv2d(X, W, None, *geometry)
    gx, gw = lib.autograd.grad(y, (X, W), G, create_graph=True)
    total = (gx * lib.tensor(u)).sum() + (gw * lib.tensor(v)).sum()
    return arrays(gx, gw, *lib.autograd.grad(total, (X, W, G)))


@pytest.mark.parametrize(
    "geometry", [(3, 0, 1, 1), (2, 1, 2, 1), ((3, 2), 1, 1, 2)]
)  # stride, padding, dilation, groups
def test_conv2d_second_order_ignores_rows_no_window_reads(oracle, geometry):
    """A stride that leaves input rows unread: NaN in u there stays out of every gradient."""
    rng = np.random.default_rng(12)
    x, w = rng.standard_normal((2, 4, 8, 9)), rng.standard_normal((4, 4 // geometry[3], 3, 3))
    g = rng.standard_normal(autograd.conv2d(autograd.tensor(x), autograd.tensor(w), None, *geometry).shape)
    u, v = rng.standard_normal(x.shape), rng.standard_normal(w.shape)
    u[..., -1, :] = np.nan
    u[..., :, -1] = np.inf
    assert_same(
        conv_program(autograd, x, w, g, u, v, geometry), oracle(conv_program, x, w, g, u, v, geometry), rtol=1e-9
    )


# ---------------------------------------------------------------- size arguments: PyTorch's words


def _x(lib):
    return lib.zeros(1, 2, 6, 6)


def layers(lib):
    """``nn``: torch.nn, or dagrad's nn package."""
    return lib.nn if lib.__name__ == "torch" else nn


CALLS = {
    "conv2d": lambda lib, **kw: functional(lib).conv2d(_x(lib), lib.zeros(2, 2, 3, 3), **kw),
    "conv_transpose2d": lambda lib, **kw: functional(lib).conv_transpose2d(_x(lib), lib.zeros(2, 2, 3, 3), **kw),
    "max_pool2d": lambda lib, **kw: functional(lib).max_pool2d(_x(lib), **{"kernel_size": 2, **kw}),
    "avg_pool2d": lambda lib, **kw: functional(lib).avg_pool2d(_x(lib), **{"kernel_size": 2, **kw}),
    "adaptive_avg_pool2d": lambda lib, **kw: functional(lib).adaptive_avg_pool2d(_x(lib), **kw),
    "Conv2d": lambda lib, **kw: layers(lib).Conv2d(2, 2, **{"kernel_size": 3, **kw})(_x(lib)),
    "ConvTranspose2d": lambda lib, **kw: layers(lib).ConvTranspose2d(2, 2, **{"kernel_size": 3, **kw})(_x(lib)),
    "MaxPool2d": lambda lib, **kw: layers(lib).MaxPool2d(**{"kernel_size": 2, **kw})(_x(lib)),
    "AvgPool2d": lambda lib, **kw: layers(lib).AvgPool2d(**{"kernel_size": 2, **kw})(_x(lib)),
    "AdaptiveAvgPool2d": lambda lib, **kw: layers(lib).AdaptiveAvgPool2d(**kw)(_x(lib)),
}


def error_program(lib, call, kwargs):
    """The type and text of the error a call raises."""
    try:
        CALLS[call](lib, **kwargs)
    except Exception as error:  # noqa: BLE001 (the error is the result)
        # (PyTorch prints a set of padding strings, in an order that changes between runs)
        return [type(error).__name__, str(error).replace("{'same', 'valid'}", "{'valid', 'same'}")]
    return ["no error", ""]


ERRORS = [  # call, the arguments, words both messages hold (None: PyTorch's say nothing useful)
    ("conv2d", {"stride": 1.5}, None),  # "'float' object is not iterable" before
    ("conv2d", {"stride": True}, None),
    ("conv2d", {"padding": (1.0, 1)}, None),
    ("conv2d", {"dilation": "2"}, None),
    ("conv2d", {"groups": 1.5}, None),
    ("conv2d", {"groups": True}, None),
    ("conv2d", {"stride": 0}, "non-positive stride is not supported"),
    ("conv2d", {"stride": (-1, 1)}, "non-positive stride is not supported"),
    ("conv2d", {"padding": -1}, "negative padding is not supported"),
    ("conv2d", {"dilation": 0}, "dilation should be greater than zero"),
    ("conv2d", {"groups": 0}, "non-positive groups is not supported"),
    ("conv2d", {"stride": (1, 2, 3)}, "expected stride to be a single integer value or a list of 2 values"),
    ("conv2d", {"padding": "2"}, "Invalid padding string"),
    ("conv2d", {"padding": "same", "stride": 2}, "padding='same' is not supported for strided convolutions"),
    ("conv_transpose2d", {"stride": 1.5}, "argument 'stride' must be tuple of ints, not float"),
    ("conv_transpose2d", {"padding": True}, "argument 'padding' must be tuple of ints, not bool"),
    ("conv_transpose2d", {"output_padding": 1.5}, "argument 'output_padding' must be tuple of ints, not float"),
    ("conv_transpose2d", {"output_padding": -1}, "negative output_padding is not supported"),
    ("conv_transpose2d", {"output_padding": (1, 2, 3)}, "expected output_padding to be a single integer value"),
    ("conv_transpose2d", {"output_padding": 1}, "output padding must be smaller than either stride or dilation"),
    ("conv_transpose2d", {"groups": 1.5}, "argument 'groups' must be int, not float"),
    ("conv_transpose2d", {"dilation": -1}, "dilation should be greater than zero"),
    ("max_pool2d", {"kernel_size": 1.5}, "must be tuple of ints, not float"),
    ("max_pool2d", {"kernel_size": (2.0, 2)}, "must be tuple of ints, but found element of type float at pos 0"),
    ("max_pool2d", {"kernel_size": True}, "must be tuple of ints, not bool"),
    ("max_pool2d", {"kernel_size": -1}, "kernel size should be greater than zero"),
    ("max_pool2d", {"stride": -1}, "stride should be greater than zero"),
    ("max_pool2d", {"stride": 0}, "stride should not be zero"),
    ("max_pool2d", {"padding": -1}, "pad must be non-negative"),
    ("max_pool2d", {"dilation": 0}, "dilation should be greater than zero"),
    ("max_pool2d", {"dilation": 1.5}, "argument 'dilation'"),
    ("max_pool2d", {"kernel_size": (1, 2, 3)}, "kernel_size must either be a single int, or a tuple of two ints"),
    ("max_pool2d", {"stride": (1, 2, 3)}, "stride must either be omitted, a single int, or a tuple of two ints"),
    ("max_pool2d", {"padding": 2}, "pad should be at most half of"),
    ("avg_pool2d", {"stride": 1.5}, "argument 'stride' must be tuple of ints, not float"),
    ("avg_pool2d", {"padding": (1, 2, 3)}, "padding must either be a single int, or a tuple of two ints"),
    ("avg_pool2d", {"divisor_override": 0}, "divisor must be not zero"),
    ("avg_pool2d", {"divisor_override": 1.5}, "argument 'divisor_override' must be int, not float"),
    ("adaptive_avg_pool2d", {"output_size": 1.5}, None),
    ("adaptive_avg_pool2d", {"output_size": (2.5, 1)}, "must be tuple of ints, but found element of type float"),
    ("adaptive_avg_pool2d", {"output_size": True}, "must be tuple of ints, not bool"),
    ("adaptive_avg_pool2d", {"output_size": (1, 2, 3)}, "output_size must be 2"),
    ("adaptive_avg_pool2d", {"output_size": -1}, "elements of output_size must be"),
    ("Conv2d", {"kernel_size": 1.5}, None),
    ("Conv2d", {"kernel_size": 0}, "kernel size should be greater than zero"),
    ("Conv2d", {"stride": 1.5}, None),
    ("Conv2d", {"padding": -1}, "negative padding is not supported"),
    ("Conv2d", {"dilation": (1, 2, 3)}, "expected dilation to be a single integer value or a list of 2 values"),
    ("Conv2d", {"groups": 0}, "groups must be a positive integer"),
    ("Conv2d", {"padding": "full"}, "Invalid padding string 'full', should be one of"),
    ("Conv2d", {"padding": "same", "stride": 2}, "padding='same' is not supported for strided convolutions"),
    ("ConvTranspose2d", {"output_padding": -1}, "negative output_padding is not supported"),
    ("ConvTranspose2d", {"output_padding": True}, None),
    ("ConvTranspose2d", {"groups": True}, None),
    ("MaxPool2d", {"kernel_size": 1.5}, "must be tuple of ints, not float"),
    ("MaxPool2d", {"padding": -1}, "pad must be non-negative"),
    ("MaxPool2d", {"dilation": (1, 2, 3)}, "dilation must"),
    ("AvgPool2d", {"stride": 0}, "stride should not be zero"),
    ("AvgPool2d", {"divisor_override": 0}, "divisor must be not zero"),
    ("AdaptiveAvgPool2d", {"output_size": True}, "must be tuple of ints, not bool"),
]


@pytest.mark.filterwarnings("ignore:Initializing zero-element tensors")  # (PyTorch's, for kernel_size=0)
@pytest.mark.parametrize("call, kwargs, words", ERRORS, ids=[f"{c}-{k}" for c, k, _ in ERRORS])
def test_size_arguments_get_pytorchs_error(oracle, call, kwargs, words):
    """PyTorch's type (TypeError for a float, bool or string; a bad value is dagrad's
    ValueError where PyTorch raises RuntimeError) and words, naming the argument."""
    ours_type, ours = error_program(autograd, call, kwargs)
    theirs_type, theirs = oracle(error_program, call, kwargs)
    assert theirs_type != "no error"
    assert ours_type == ("TypeError" if theirs_type == "TypeError" else "ValueError"), (ours_type, ours)
    assert all(name in ours for name in kwargs), ours
    if words is not None:
        assert words in theirs and words in ours, (ours, theirs)


def test_layers_refuse_bad_sizes_when_built():
    """The layers check at construction what the functional form checks at the call."""
    for make, kind in [
        (lambda: nn.Conv2d(2, 2, 3, stride=1.5), TypeError),
        (lambda: nn.Conv2d(2.0, 2, 3), TypeError),
        (lambda: nn.Conv2d(2, 2, (3, 3, 3)), ValueError),
        (lambda: nn.ConvTranspose2d(2, 2, 3, groups=(1, 2)), TypeError),
        (lambda: nn.MaxPool2d(2, padding=-1), ValueError),
        (lambda: nn.MaxPool2d(2, padding=2), ValueError),
        (lambda: nn.AvgPool2d(2, divisor_override=0.5), TypeError),
        (lambda: nn.AdaptiveAvgPool2d((2, 2.0)), TypeError),
    ]:
        with pytest.raises(kind):
            make()


def one_value_pair_program(lib, x, w):
    """A one-element tuple stands for both axes; a negative divisor_override divides as given."""
    F = functional(lib)
    X, W = lib.tensor(x), lib.tensor(w)
    return arrays(
        F.conv2d(X, W, None, (2,), (1,), (2,)),
        F.conv_transpose2d(X[:, :, :3, :3], W, None, (2,), (1,), (1,), 1, (1,)),
        F.max_pool2d(X, (3,), (2,), (1,), (1,)),
        F.avg_pool2d(X, (2,), divisor_override=-3),
    )


def test_one_value_tuples_and_negative_divisors_as_pytorch(oracle):
    rng = np.random.default_rng(13)
    x, w = rng.standard_normal((1, 2, 7, 6)), rng.standard_normal((2, 2, 3, 3))
    assert_same(one_value_pair_program(autograd, x, w), oracle(one_value_pair_program, x, w), rtol=1e-10)
    layer = nn.Conv2d(2, 2, (3,), stride=(2,), padding=[1])
    assert (layer.kernel_size, layer.stride, layer.padding) == ((3, 3), (2, 2), (1, 1))
