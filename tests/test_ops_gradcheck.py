"""Property-based gradient checks of every differentiable op against finite differences.

Each test draws small float64 inputs (at most 3 dimensions of at most 4, 0-d included) with
the public strategies of ``autograd.testing`` and runs ``autograd.gradcheck`` (full
Jacobians) on the op; a representative set also runs ``gradgradcheck`` (second derivatives).
Inputs stay away from kinks (abs, relu, clamp bounds) and ties (max, min, maximum), where
finite differences are not valid.
"""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import autograd as ag
from autograd.testing import broadcastable_pair, matmul_shapes, shapes, tensor_pair, tensors


def leaf(data):
    """A float64 leaf that requires grad (numpy 0-d results are scalars: keep float64 explicit)."""
    return ag.tensor(np.asarray(data), dtype=ag.float64, requires_grad=True)


def check(fn, *inputs, **kwargs):
    assert ag.gradcheck(fn, inputs, **kwargs)


def check2(fn, *inputs, **kwargs):
    assert ag.gradgradcheck(fn, inputs, **kwargs)


# ---------------------------------------------------------------- strategies


@st.composite
def distinct_tensors(draw, shape=None):
    """A float64 tensor whose elements are at least 0.3 apart (no ties for max/min)."""
    if shape is None:
        shape = shapes()
    if isinstance(shape, st.SearchStrategy):
        shape = draw(shape)
    n = int(np.prod(shape))
    order = np.array(draw(st.permutations(range(n))), dtype=np.float64)
    jitter = draw(hnp.arrays(np.float64, n, elements=st.floats(0.0, 0.2)))
    return leaf((order * 0.5 - n * 0.25 + jitter).reshape(shape))


@st.composite
def separated_pair(draw, shape_pair=None):
    """Two broadcastable tensors that differ by at least 0.15 everywhere (no ties for maximum)."""
    a_shape, b_shape = draw(shape_pair if shape_pair is not None else broadcastable_pair())

    def grid(shape, parity):
        k = draw(hnp.arrays(np.int64, shape, elements=st.integers(-6, 6)))
        jitter = draw(hnp.arrays(np.float64, shape, elements=st.floats(-0.05, 0.05)))
        return leaf((2 * k + parity) * 0.25 + jitter)

    return grid(a_shape, 1), grid(b_shape, 0)


@st.composite
def reduce_dim(draw, ndim, allow_empty=True):
    """A ``dim`` argument: None, an int or a tuple of distinct ints (negatives included)."""
    kind = draw(st.sampled_from(["none", "int", "tuple"]))
    if kind == "none":
        return None
    if ndim == 0:
        return draw(st.sampled_from([0, -1])) if kind == "int" else draw(st.sampled_from([(0,), (-1,), ()]))
    if kind == "int":
        return draw(st.integers(-ndim, ndim - 1))
    dims = draw(st.lists(st.integers(0, ndim - 1), min_size=0 if allow_empty else 1, max_size=ndim, unique=True))
    return tuple(d - ndim if draw(st.booleans()) else d for d in dims)


def count_reduced(shape, dim):
    if dim is None:
        return int(np.prod(shape))
    dims = (dim,) if isinstance(dim, int) else dim
    return int(np.prod([shape[d] for d in dims])) if shape else 1


def push_away(a, points, gap=0.1):
    """Move elements within ``gap`` of any of ``points`` to ``gap`` away from it."""
    for p in points:
        a = np.where(np.abs(a - p) < gap, p + gap * np.where(a >= p, 1.0, -1.0), a)
    return a


@st.composite
def basic_index(draw, shape, negative_steps=True):
    """A basic index for ``shape``: ints, slices (any step), None and Ellipsis."""
    parts = []
    for n in shape:
        kind = draw(st.sampled_from(["int", "slice", "all"]))
        if kind == "int":
            parts.append(draw(st.integers(-n, n - 1)))
        elif kind == "slice":
            steps = st.integers(1, 3) | st.integers(-3, -1) if negative_steps else st.integers(1, 3)
            bound = st.none() | st.integers(-n - 1, n + 1)
            parts.append(slice(draw(bound), draw(bound), draw(st.none() | steps)))
        else:
            parts.append(slice(None))
    if draw(st.booleans()):  # Ellipsis stands for parts[i:j]; what follows it keeps to the end
        i = draw(st.integers(0, len(parts)))
        parts = parts[:i] + [Ellipsis] + parts[draw(st.integers(i, len(parts))) :]
    else:  # trailing dimensions may be left out
        parts = parts[: draw(st.integers(0, len(parts)))]
    for _ in range(draw(st.integers(0, 2))):
        parts.insert(draw(st.integers(0, len(parts))), None)
    return tuple(parts) if len(parts) != 1 or draw(st.booleans()) else parts[0]


@st.composite
def advanced_index(draw, shape):
    """An advanced index for ``shape`` (at least 1-d) with repeated positions or a mask."""
    ndim = len(shape)
    kind = draw(st.sampled_from(["array", "list", "tensor", "two_arrays", "mixed", "mask", "mask_lead"]))
    if kind in ("array", "list", "tensor", "mixed"):
        d = draw(st.integers(0, ndim - 1)) if kind == "mixed" else 0
        n = shape[d]
        picks = draw(st.lists(st.integers(-n, n - 1), min_size=1, max_size=5))
        picks = picks + [picks[0]]  # a repeated index: its gradients must add up
        if kind == "list":
            return picks
        arr = np.array(picks)
        if draw(st.booleans()):
            arr = arr.reshape(2, -1) if arr.size % 2 == 0 else arr.reshape(1, -1)
        if kind == "tensor":
            return ag.tensor(arr)
        if kind == "array":
            return arr
        return (slice(None),) * d + (arr,)
    if kind == "two_arrays":
        if ndim < 2:
            first = draw(st.lists(st.integers(0, shape[0] - 1), min_size=1, max_size=4))
            return np.array(first + first)
        a = draw(st.lists(st.integers(0, shape[0] - 1), min_size=1, max_size=4))
        b = draw(st.lists(st.integers(0, shape[1] - 1), min_size=len(a), max_size=len(a)))
        return np.array(a + a), np.array(b + b)
    if kind == "mask":
        return draw(hnp.arrays(np.bool_, shape))
    lead = draw(hnp.arrays(np.bool_, shape[:1]))
    return ag.tensor(lead)


@st.composite
def cat_inputs(draw, max_tensors=3):
    base = list(draw(shapes(min_dims=1)))
    ndim = len(base)
    d = draw(st.integers(-ndim, ndim - 1))
    out = []
    for _ in range(draw(st.integers(1, max_tensors))):
        shape = list(base)
        shape[d] = draw(st.integers(1, 3))
        out.append(draw(tensors(tuple(shape))))
    return out, d


@st.composite
def expand_args(draw):
    """A tensor and ``expand`` sizes: size-1 dimensions grow, new leading ones appear, -1 keeps."""
    shape = draw(shapes(max_side=3))
    sizes = [draw(st.integers(1, 3)) for _ in range(draw(st.integers(0, 3 - len(shape))))]
    for n in shape:
        if n == 1:
            sizes.append(draw(st.integers(1, 3)))
        else:
            sizes.append(draw(st.sampled_from([n, -1])))
    return draw(tensors(shape)), tuple(sizes)


@st.composite
def reshape_target(draw, shape):
    n = int(np.prod(shape))
    options = [(n,), (-1,), (1, n), (n, 1, -1), tuple(reversed(shape)), shape + (1,)]
    if n % 2 == 0:
        options += [(2, -1), (-1, 2, 1)]
    return draw(st.sampled_from(options))


# ---------------------------------------------------------------- arithmetic


@given(tensor_pair())
def test_add(pair):
    check(lambda a, b: a + b, *pair)
    check(lambda a, b: ag.add(a, b, alpha=-2.5), *pair)
    check(lambda a: 1.5 + a + 2, pair[0])


@given(tensor_pair())
def test_sub(pair):
    check(lambda a, b: a - b, *pair)
    check(lambda a, b: a.sub(b, alpha=3), *pair)
    check(lambda a: 1.5 - a - 2, pair[0])


@given(tensor_pair())
def test_mul(pair):
    check(lambda a, b: a * b, *pair)
    check(lambda a: a * a, pair[0])  # the same input twice
    check(lambda a: 2.5 * a * -1, pair[0])


@given(tensor_pair(), st.sampled_from([1.0, -1.0]))
def test_div(pair, sign):
    x, y = pair
    y = leaf(sign * (np.abs(y._data) + 0.5))  # |y| >= 0.5
    check(lambda a, b: a / b, x, y)
    check(lambda b: 2.0 / b, y)
    check(lambda a: a / 4, x)
    check(ag.div, x, y)


@given(tensors())
def test_neg(x):
    check(lambda a: -a, x)
    check(ag.neg, x)


@given(tensors(away_from=0.0), st.sampled_from([0, 1, 2, 3, -1, -2]))
def test_pow_tensor_int(x, n):
    check(lambda a: a**n, x)


@given(tensors(low=0.2, high=3.0), st.floats(-2.5, 2.5))
def test_pow_tensor_float(x, p):
    check(lambda a: a**p, x)
    check(lambda a: ag.pow(a, p), x)


@given(st.floats(0.1, 3.0), tensors())
def test_pow_number_tensor(base, y):
    check(lambda b: base**b, y)
    check(lambda b: ag.pow(base, b), y)


@given(tensor_pair(broadcastable_pair()))
def test_pow_tensor_tensor(pair):
    x, y = pair
    x = leaf(np.abs(x._data) + 0.2)  # positive base
    check(lambda a, b: a**b, x, y)


# ---------------------------------------------------------------- elementwise math


@given(tensors())
def test_exp(x):
    check(ag.exp, x)
    check(lambda a: a.exp(), x)


@given(tensors(low=0.1, high=5.0))
def test_log(x):
    check(ag.log, x)


@given(tensors(low=0.1, high=5.0))
def test_sqrt(x):
    check(ag.sqrt, x)


@given(tensors(away_from=0.0))
def test_abs(x):
    check(ag.abs, x)


@given(tensors(low=-10.0, high=10.0))
def test_sigmoid(x):
    check(ag.sigmoid, x)


@given(tensors())
def test_tanh(x):
    check(ag.tanh, x)


@given(tensors(away_from=0.0))
def test_relu(x):
    check(ag.relu, x)
    check(lambda a: a.relu(), x)


@given(tensors(), st.floats(-2.0, 1.0), st.floats(0.5, 3.0), st.sampled_from(["both", "min", "max"]))
def test_clamp(x, low, width, which):
    high = low + width
    x = leaf(push_away(x._data, [low, high]))
    lo = None if which == "max" else low
    hi = None if which == "min" else high
    check(lambda a: a.clamp(lo, hi), x)
    check(lambda a: ag.clip(a, min=lo, max=hi), x)


@given(separated_pair())
def test_maximum_minimum(pair):
    check(ag.maximum, *pair)
    check(ag.minimum, *pair)
    check(lambda a, b: a.maximum(b), *pair[::-1])
    check(lambda a: ag.max(a, ag.tensor(0.1, dtype=ag.float64)), pair[0])  # max(x, other tensor)


@given(st.data())
def test_where(data):
    cond_shape, x_shape, y_shape = data.draw(
        hnp.mutually_broadcastable_shapes(num_shapes=3, max_dims=3, max_side=4).map(lambda b: b.input_shapes)
    )
    cond = data.draw(hnp.arrays(np.bool_, cond_shape))
    x, y = data.draw(tensors(x_shape)), data.draw(tensors(y_shape))
    check(lambda a, b: ag.where(ag.tensor(cond), a, b), x, y)
    check(lambda a: ag.where(cond, a, 0.5), x)
    check(lambda b: ag.where(cond, -1.0, b), y)


# ---------------------------------------------------------------- reductions


@given(st.data())
def test_sum_mean(data):
    x = data.draw(tensors())
    dim = data.draw(reduce_dim(x.ndim))
    keepdim = data.draw(st.booleans())
    check(lambda a: a.sum(dim, keepdim), x)
    check(lambda a: ag.sum(a, dim=dim, keepdim=keepdim), x)
    check(lambda a: a.mean(dim, keepdim), x)
    check(lambda a: ag.mean(a, dim=dim, keepdim=keepdim), x)


@given(st.data())
def test_var(data):
    x = data.draw(tensors())
    dim = data.draw(reduce_dim(x.ndim))
    keepdim = data.draw(st.booleans())
    n = count_reduced(x.shape, dim)
    check(lambda a: a.var(dim, unbiased=False, keepdim=keepdim), x)
    check(lambda a: a.var(dim, keepdim=keepdim, correction=0), x)
    if n > 1:
        check(lambda a: a.var(dim, keepdim=keepdim), x)  # unbiased by default
        check(lambda a: ag.var(a, dim, True, keepdim), x)
    if n > 2:
        check(lambda a: a.var(dim, keepdim=keepdim, correction=2), x)


@given(distinct_tensors())
def test_max_min_full(x):
    check(lambda a: a.max(), x)
    check(lambda a: a.min(), x)
    check(ag.max, x)
    check(ag.min, x)


@given(st.data())
def test_max_min_dim(data):
    x = data.draw(distinct_tensors())
    dim = data.draw(st.integers(-x.ndim, x.ndim - 1) if x.ndim else st.sampled_from([0, -1]))
    keepdim = data.draw(st.booleans())
    check(lambda a: a.max(dim, keepdim).values, x)
    check(lambda a: a.min(dim, keepdim)[0], x)
    check(lambda a: ag.max(a, dim=dim, keepdim=keepdim)[0], x)
    check(lambda a: ag.min(a, dim, keepdim).values, x)


# ---------------------------------------------------------------- shape ops


@given(st.data())
def test_reshape_view(data):
    x = data.draw(tensors())
    target = data.draw(reshape_target(x.shape))
    check(lambda a: a.reshape(target), x)
    check(lambda a: a.reshape(*target), x)
    check(lambda a: a.view(target), x)
    check(lambda a: ag.view(a, *target), x)
    check(lambda a: ag.reshape(a, target) * 2, x)


@given(st.data())
def test_flatten(data):
    x = data.draw(tensors())
    check(lambda a: a.flatten(), x)
    if x.ndim:
        start = data.draw(st.integers(-x.ndim, x.ndim - 1))
        end = data.draw(st.integers(start % x.ndim, x.ndim - 1))
        check(lambda a: a.flatten(start, end), x)
        check(lambda a: ag.flatten(a, start_dim=start, end_dim=end), x)


@given(st.data())
def test_transpose_permute(data):
    x = data.draw(tensors())
    n = max(x.ndim, 1)
    d0, d1 = data.draw(st.integers(-n, n - 1)), data.draw(st.integers(-n, n - 1))
    check(lambda a: a.transpose(d0, d1), x)
    check(lambda a: ag.transpose(a, d0, d1), x)
    check(lambda a: a.T, x)
    dims = data.draw(st.permutations(range(x.ndim)))
    check(lambda a: a.permute(*dims), x)
    check(lambda a: ag.permute(a, dims), x)
    if x.ndim >= 2:
        check(lambda a: a.mT, x)


@given(st.data())
def test_squeeze_unsqueeze(data):
    x = data.draw(tensors(shapes(max_side=2)))  # sizes 1 and 2: plenty of size-1 dimensions
    dim = data.draw(reduce_dim(x.ndim))
    check(lambda a: a.squeeze(), x)
    check(lambda a: a.squeeze(dim), x)
    check(lambda a: ag.squeeze(a, dim), x)
    d = data.draw(st.integers(-x.ndim - 1, x.ndim))
    check(lambda a: a.unsqueeze(d), x)
    check(lambda a: ag.unsqueeze(a, d).squeeze(d), x)


@given(expand_args())
def test_expand(args):
    x, sizes = args
    check(lambda a: a.expand(*sizes), x)
    check(lambda a: a.expand(sizes) * 1.5, x)
    check(lambda a: ag.expand(a, sizes), x)
    target = ag.zeros(*[s if s != -1 else x.shape[i - len(sizes) + x.ndim] for i, s in enumerate(sizes)])
    check(lambda a: a.expand_as(target), x)


@given(st.data())
def test_getitem_basic(data):
    x = data.draw(tensors())
    index = data.draw(basic_index(x.shape))
    check(lambda a: a[index], x)
    check(lambda a: ag.index(a, index), x)


@given(tensors(shapes(min_dims=0, max_dims=0)))
def test_getitem_0d(x):
    for index in [(), None, Ellipsis, (None, Ellipsis), (Ellipsis, None, None)]:
        check(lambda a, i=index: a[i], x)


@given(st.data())
def test_getitem_advanced(data):
    x = data.draw(tensors(shapes(min_dims=1)))
    index = data.draw(advanced_index(x.shape))
    check(lambda a: a[index], x)
    check(lambda a: a[index] * a[index], x)


@given(cat_inputs())
def test_cat(args):
    xs, d = args
    check(lambda *ts: ag.cat(ts, d), *xs)
    check(lambda *ts: ag.cat(list(ts) + list(ts), dim=d), *xs)  # each input used twice


@given(st.data())
def test_stack(data):
    shape = data.draw(shapes())
    xs = [data.draw(tensors(shape)) for _ in range(data.draw(st.integers(1, 3)))]
    d = data.draw(st.integers(-len(shape) - 1, len(shape)))
    check(lambda *ts: ag.stack(ts, d), *xs)
    check(lambda *ts: ag.stack(list(ts), dim=d), *xs)


@given(st.data())
def test_pad(data):
    x = data.draw(tensors())
    k = data.draw(st.integers(0, x.ndim))
    widths = data.draw(st.lists(st.integers(0, 2), min_size=2 * k, max_size=2 * k))
    value = data.draw(st.floats(-2.0, 2.0))
    check(lambda a: ag.pad(a, widths, value=value), x)
    check(lambda a: ag.pad(a, tuple(widths), mode="constant"), x)


@given(st.data())
def test_to_dtype_and_clone(data):
    x = data.draw(tensors())
    check(lambda a: a.to(ag.float64), x)
    check(lambda a: a.double() * 2, x)
    check(lambda a: a.clone(), x)
    check(lambda a: ag.clone(a) * a, x)
    check(lambda a: a.contiguous(), x)
    # a real Cast: to float32 and back (linear, so a large step keeps float32 rounding small)
    check(lambda a: a.to(ag.float32).to(ag.float64), x, eps=1e-2, atol=1e-4, rtol=1e-4)
    check(lambda a: a.float().double() * 3, x, eps=1e-2, atol=1e-4, rtol=1e-4)
    check(lambda a: a.to("float16").to("double"), x, eps=0.25, atol=1e-2, rtol=1e-2)


# ---------------------------------------------------------------- matmul and activations


@given(tensor_pair(matmul_shapes()))
def test_matmul(pair):
    check(lambda a, b: a @ b, *pair)
    check(ag.matmul, *pair)
    check(lambda a, b: a.matmul(b), *pair)


@given(st.data())
def test_matmul_vector_with_batch(data):
    k = data.draw(st.integers(1, 4))
    batch = data.draw(shapes(min_dims=1, max_dims=2, max_side=3))
    v = data.draw(tensors((k,)))
    m = data.draw(tensors(batch + (k, data.draw(st.integers(1, 3)))))
    check(lambda a, b: a @ b, v, m)  # (k,) @ (*, k, m) -> (*, m)
    mt = data.draw(tensors(batch + (data.draw(st.integers(1, 3)), k)))
    check(lambda a, b: a @ b, mt, v)  # (*, n, k) @ (k,) -> (*, n)


@given(st.data())
def test_softmax_log_softmax(data):
    x = data.draw(tensors(low=-5.0, high=5.0))
    n = max(x.ndim, 1)
    dim = data.draw(st.integers(-n, n - 1))
    check(lambda a: a.softmax(dim), x)
    check(lambda a: ag.softmax(a, dim=dim), x)
    check(lambda a: a.log_softmax(dim), x)
    check(lambda a: ag.log_softmax(a, dim), x)


# ---------------------------------------------------------------- composites


@given(tensor_pair(matmul_shapes(max_batch_dims=1, max_side=3)))
def test_composite_mlp_layer(pair):
    x, w = pair
    check(lambda a, b: ((a @ b).tanh() * 2 - (a @ b).sigmoid()).sum(), x, w)


@given(tensors(shapes(min_dims=1), low=-2.0, high=2.0))
def test_composite_cross_entropy_like(x):
    check(lambda a: -(a.log_softmax(-1)[..., 0]).mean(), x)
    # log-sum-exp with the max taken out and put back: smooth even where the max is tied
    check(lambda a: (a - a.max()).exp().sum().log() + a.max(), x)
    check(lambda a: (a - a.max(-1, keepdim=True).values).exp().sum(-1).log() + a.max(-1).values, x)


# ---------------------------------------------------------------- second derivatives

small = shapes(max_side=3)
small_pair = broadcastable_pair(max_side=3)


@given(tensor_pair(small_pair))
def test_gradgrad_mul_div(pair):
    x, y = pair
    check2(lambda a, b: a * b, x, y)
    check2(lambda a: a * a * a, x)
    y = leaf(np.abs(y._data) + 0.5)
    check2(lambda a, b: a / b, x, y)


@given(tensor_pair(small_pair, low=0.3, high=2.0), st.sampled_from([0, 1, 2, 3, -1, 0.5, 2.5]))
def test_gradgrad_pow(pair, p):
    x, y = pair
    check2(lambda a: a**p, x)
    check2(lambda b: 1.7**b, y)
    check2(lambda a, b: a**b, x, y)


@given(tensors(small, low=0.2, high=3.0))
def test_gradgrad_exp_log(x):
    check2(ag.exp, x)
    check2(ag.log, x)


@given(tensors(small))
def test_gradgrad_sigmoid_tanh(x):
    check2(ag.sigmoid, x)
    check2(ag.tanh, x)


@given(st.data())
def test_gradgrad_softmax_log_softmax(data):
    x = data.draw(tensors(small))
    n = max(x.ndim, 1)
    dim = data.draw(st.integers(-n, n - 1))
    check2(lambda a: a.softmax(dim), x)
    check2(lambda a: a.log_softmax(dim), x)


@given(tensor_pair(matmul_shapes(max_batch_dims=1, max_side=3)))
def test_gradgrad_matmul(pair):
    check2(lambda a, b: a @ b, *pair)
    check2(lambda a: a @ a if a.ndim == 1 else a.mT @ a, pair[0])


@given(st.data())
def test_gradgrad_reductions(data):
    x = data.draw(tensors(small))
    dim = data.draw(reduce_dim(x.ndim))
    keepdim = data.draw(st.booleans())
    check2(lambda a: a.sum(dim, keepdim), x)
    check2(lambda a: a.mean(dim, keepdim), x)
    check2(lambda a: a.var(dim, keepdim=keepdim, correction=0), x)
    if count_reduced(x.shape, dim) > 1:
        check2(lambda a: a.var(dim, keepdim=keepdim), x)
    check2(lambda a: (a * a).sum(dim, keepdim), x)


@given(st.data())
def test_gradgrad_getitem_advanced(data):
    x = data.draw(tensors(shapes(min_dims=1, max_side=3)))
    index = data.draw(advanced_index(x.shape))
    check2(lambda a: a[index], x)
    check2(lambda a: a[index] * a[index], x)


@given(cat_inputs(max_tensors=2))
def test_gradgrad_cat(args):
    xs, d = args
    check2(lambda *ts: ag.cat(ts, d), *xs)
    check2(lambda *ts: ag.cat([t * t for t in ts], d), *xs)


@given(expand_args())
def test_gradgrad_expand(args):
    x, sizes = args
    check2(lambda a: a.expand(*sizes), x)
    check2(lambda a: a.expand(*sizes) * a.expand(*sizes), x)


@given(separated_pair(small_pair))
def test_gradgrad_maximum(pair):
    check2(ag.maximum, *pair)
    check2(lambda a, b: ag.maximum(a * a, b), *pair)


# ---------------------------------------------------------------- gradcheck itself


def test_gradcheck_catches_a_wrong_gradient():
    class Wrong(ag.Function):
        @staticmethod
        def forward(ctx, x):
            return x._data * 3

        @staticmethod
        def backward(ctx, grad):
            return grad * 2

    x = ag.tensor(np.array([1.0, -2.0]), requires_grad=True)
    with pytest.raises(ag.GradcheckError):
        ag.gradcheck(Wrong.apply, (x,))
    assert ag.gradcheck(Wrong.apply, (x,), raise_exception=False) is False


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16])
@pytest.mark.parametrize("rows", [1, 7, 4096, 4097])
def test_unbroadcast_rows_into_a_vector(rows: int, dtype: type) -> None:
    """Summing broadcast rows back into a bias (a dot product with ones for up to
    ROWS_BY_DOT rows, numpy's reduce beyond) gives the sum, in the input's dtype."""
    x = np.random.default_rng(rows).standard_normal((rows, 5)).astype(dtype)
    out = ag.unbroadcast(x, (5,), np.dtype(dtype))
    assert out.shape == (5,) and out.dtype == dtype
    tol = 1e-2 if dtype == np.float16 else 1e-4
    np.testing.assert_allclose(out.astype(np.float64), x.astype(np.float64).sum(0), rtol=tol, atol=tol * np.sqrt(rows))
    assert ag.unbroadcast(x, (1, 5), np.dtype(dtype)).shape == (1, 5)  # kept dimensions: numpy's reduce


def test_float16_sums_accumulate_in_float32() -> None:
    """As PyTorch's: a float16 sum is rounded to float16 once, not after every addition."""
    x = np.random.default_rng(0).standard_normal((5000, 3)).astype(np.float16)
    exact = x.astype(np.float64).sum(0)
    for got in (ag.tensor(x).sum(0).numpy(), ag.unbroadcast(x, (3,), np.dtype(np.float16))):
        assert got.dtype == np.float16
        # within the final rounding (half a float16 ulp, 2^-11 relative); rounding each partial sum was ~10 ulps off
        np.testing.assert_allclose(got.astype(np.float64), exact, rtol=2**-10, atol=0)


@pytest.mark.parametrize("reduce", ["sum", "mean", "var", "unbroadcast"])
def test_long_float32_reductions_are_as_accurate_as_pytorchs(reduce: str) -> None:
    """numpy adds a strided axis one element at a time (error ~ n x 6e-8); PyTorch sums pairwise
    (~6e-8). 200,000 rows along axis 0 must stay within a few float32 roundings."""
    x = np.random.default_rng(1).standard_normal((200_000, 8)).astype(np.float32) + 1
    exact = x.astype(np.float64)
    t = ag.tensor(x)
    got, want = {
        "sum": (lambda: t.sum(0).numpy(), exact.sum(0)),
        "mean": (lambda: t.mean(0).numpy(), exact.mean(0)),
        "var": (lambda: t.var(0).numpy(), exact.var(0, ddof=1)),
        "unbroadcast": (lambda: ag.unbroadcast(x, (8,), np.dtype(np.float32)), exact.sum(0)),
    }[reduce]
    result = got()
    assert result.dtype == np.float32
    np.testing.assert_allclose(result, want, rtol=5e-7)  # (the old sequential sums were ~5e-5 off)
