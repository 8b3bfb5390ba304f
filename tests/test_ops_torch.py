"""Every differentiable op compared with PyTorch: forward values and all input gradients.

Each case is a function ``fn(L, *inputs, **params)`` written once for both libraries (``L`` is
``autograd`` or ``torch``) plus a hypothesis strategy for its inputs. The same numpy data goes
into both; the outputs, dtypes, shapes and the gradients of a random upstream gradient must
agree. Float64 is compared tightly, float32 with float32 tolerances (and must stay float32).
Special cases follow: ties (max, min, maximum, relu, clamp, abs), unbiased var, repeated
advanced indices, saturating inputs (+-1e3) and -inf masks without numpy warnings, powers at
a zero base, mixed float dtypes and integer inputs (PyTorch's dtype rules).
The random cases (hypothesis) compare live and are skipped without PyTorch (the ``torch``
fixture); the fixed cases get PyTorch's half from the ``oracle`` fixture (frozen without it).
"""

import types
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import autograd as ag
from autograd.testing import broadcastable_pair, matmul_shapes, shapes

# the ``torch`` fixture only returns the module, so sharing it across examples is safe
with_torch = settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

TOLERANCES = {np.float64: dict(rtol=1e-10, atol=1e-12), np.float32: dict(rtol=1e-4, atol=1e-5)}


# ---------------------------------------------------------------- running both libraries


def is_torch(L):
    return L is not ag


def to_list(value):
    return list(value) if isinstance(value, (tuple, list)) else [value]


def dtype_name(t):
    return t.dtype.name if isinstance(t, ag.Tensor) else str(t.dtype).replace("torch.", "")


def record(t):
    """A torch tensor as plain values (what the oracle can freeze): its value, dtype and requires_grad."""
    return {"value": np.array(t.detach().numpy()), "dtype": dtype_name(t), "requires_grad": t.requires_grad}


def pytorch(ref, fn, *args):
    """``fn(torch, *args)``: ``ref`` is PyTorch itself (the live tier) or the ``oracle`` fixture."""
    return fn(ref, *args) if isinstance(ref, types.ModuleType) else ref(fn, *args)


def assert_same(ours, theirs, rtol, atol, what):
    """Our tensor against a ``record`` of PyTorch's: shape, dtype and values."""
    assert isinstance(ours, ag.Tensor), f"{what}: got {type(ours).__name__}, not a Tensor"
    shape = theirs["value"].shape
    assert ours.shape == shape, f"{what}: shape {ours.shape} != torch {shape}"
    assert dtype_name(ours) == theirs["dtype"], f"{what}: dtype {ours.dtype} != torch {theirs['dtype']}"
    np.testing.assert_allclose(ours._data, theirs["value"], rtol=rtol, atol=atol, err_msg=what)


def torch_half(torch, fn, data, params, seed):
    """PyTorch's side of ``compare``: the outputs and, after a backward pass of the same random
    upstream gradients (drawn from the outputs' shapes and dtypes), the inputs' gradients."""
    inputs = [torch.tensor(a, requires_grad=True) for a in data]
    outputs = to_list(fn(torch, *inputs, **params))
    rng = np.random.default_rng(seed)
    pairs = [t for t in outputs if t.requires_grad]
    upstream = [np.asarray(rng.standard_normal(tuple(t.shape))).astype(dtype_name(t)) for t in pairs]
    torch.autograd.backward(pairs, [torch.tensor(g) for g in upstream])
    return {
        "outputs": [record(t) for t in outputs],
        "grads": [None if t.grad is None else record(t.grad) for t in inputs],
    }


def compare(ref, fn, arrays, params=None, dtype=np.float64, seed=0, rtol=None, atol=None):
    """Run ``fn`` in both libraries on the same data; compare outputs and input gradients.
    ``ref`` is the ``torch`` fixture (live) or the ``oracle`` fixture (live or frozen)."""
    params = params or {}
    tol = TOLERANCES[dtype]
    rtol = tol["rtol"] if rtol is None else rtol
    atol = tol["atol"] if atol is None else atol
    data = [np.asarray(a, dtype=dtype) for a in arrays]
    ours_in = [ag.tensor(a, requires_grad=True) for a in data]
    ours = to_list(fn(ag, *ours_in, **params))
    theirs = pytorch(ref, lambda torch, *args: torch_half(torch, fn, *args), data, params, seed)
    outputs, grads = theirs["outputs"], theirs["grads"]
    assert len(ours) == len(outputs)
    for k, (o, t) in enumerate(zip(ours, outputs)):
        assert_same(o, t, rtol, atol, f"output {k}")
    rng = np.random.default_rng(seed)
    pairs = [o for o in ours if o.requires_grad]
    assert [t["requires_grad"] for t in outputs] == [o.requires_grad for o in ours]
    upstream = [np.asarray(rng.standard_normal(o.shape)).astype(o.dtype) for o in pairs]
    ag.backward(pairs, [ag.tensor(g) for g in upstream])
    for k, (o, t) in enumerate(zip(ours_in, grads)):
        if t is None:
            assert o.grad is None or not np.any(o.grad._data), f"input {k}: torch has no gradient"
            continue
        assert o.grad is not None, f"input {k}: no gradient, torch has one"
        assert_same(o.grad, t, rtol, atol, f"gradient of input {k}")
    return ours, theirs


# ---------------------------------------------------------------- strategies


def arrays(shape, low=-3.0, high=3.0, ties=False):
    """float64 arrays; with ``ties`` the values come from a coarse grid, so equal values are common."""
    if ties:
        elements = st.sampled_from([float(v) for v in np.arange(low, high + 0.25, 0.5)])
    else:
        elements = st.floats(low, high, allow_nan=False, allow_infinity=False)
    return hnp.arrays(np.float64, shape, elements=elements)


def away(a, point=0.0, gap=0.1):
    return np.where(np.abs(a - point) < gap, point + gap * np.where(a >= point, 1.0, -1.0), a)


@st.composite
def one(draw, shape=None, low=-3.0, high=3.0, ties=None, **params):
    """One input (ties drawn half the time unless fixed) and fixed ``params``."""
    shape = draw(shapes() if shape is None else shape)
    ties = draw(st.booleans()) if ties is None else ties
    return (draw(arrays(shape, low, high, ties)),), params


@st.composite
def two(draw, pair=None, low=-3.0, high=3.0, ties=None):
    a_shape, b_shape = draw(broadcastable_pair() if pair is None else pair)
    ties = draw(st.booleans()) if ties is None else ties
    return (draw(arrays(a_shape, low, high, ties)), draw(arrays(b_shape, low, high, ties))), {}


@st.composite
def reduce_dim(draw, ndim):
    """None, an int or a non-empty tuple (``dim=()`` means "all" in PyTorch, "none" in numpy)."""
    kind = draw(st.sampled_from(["none", "int", "tuple"]))
    if kind == "none":
        return None
    if ndim == 0:
        return draw(st.sampled_from([0, -1])) if kind == "int" else draw(st.sampled_from([(0,), (-1,)]))
    if kind == "int":
        return draw(st.integers(-ndim, ndim - 1))
    dims = draw(st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True))
    return tuple(d - ndim if draw(st.booleans()) else d for d in dims)


def count_reduced(shape, dim):
    if dim is None or not shape:
        return int(np.prod(shape))
    dims = (dim,) if isinstance(dim, int) else dim
    return int(np.prod([shape[d] for d in dims]))


@st.composite
def reduction(draw, ties=False):
    (x,), _ = draw(one(ties=ties))
    return (x,), {"dim": draw(reduce_dim(x.ndim)), "keepdim": draw(st.booleans())}


@st.composite
def var_args(draw):
    (x,), params = draw(reduction())
    n = count_reduced(x.shape, params["dim"])
    corrections = [c for c in (None, 0, 1, 2) if (1 if c is None else c) < n]
    correction = draw(st.sampled_from(corrections)) if corrections else 0
    params["correction"] = correction
    return (x,), params


@st.composite
def dim_of(draw, ties=None, min_dims=0):
    (x,), _ = draw(one(shape=shapes(min_dims=min_dims), ties=ties))
    n = max(x.ndim, 1)
    return (x,), {"dim": draw(st.integers(-n, n - 1)), "keepdim": draw(st.booleans())}


@st.composite
def reshape_args(draw):
    (x,), _ = draw(one())
    n = x.size
    options = [(n,), (-1,), (1, n), (n, 1, -1), tuple(reversed(x.shape)), x.shape + (1,)]
    if n % 2 == 0:
        options += [(2, -1), (-1, 2, 1)]
    return (x,), {"shape": draw(st.sampled_from(options))}


@st.composite
def flatten_args(draw):
    (x,), _ = draw(one())
    if x.ndim == 0:
        return (x,), {"start": 0, "end": -1}
    start = draw(st.integers(-x.ndim, x.ndim - 1))
    return (x,), {"start": start, "end": draw(st.integers(start % x.ndim, x.ndim - 1))}


@st.composite
def transpose_args(draw):
    (x,), _ = draw(one())
    n = max(x.ndim, 1)
    return (x,), {"d0": draw(st.integers(-n, n - 1)), "d1": draw(st.integers(-n, n - 1))}


@st.composite
def permute_args(draw):
    (x,), _ = draw(one())
    return (x,), {"dims": tuple(draw(st.permutations(range(x.ndim))))}


@st.composite
def squeeze_args(draw):
    (x,), _ = draw(one(shape=shapes(max_side=2)))
    return (x,), {"dim": draw(reduce_dim(x.ndim))}


@st.composite
def unsqueeze_args(draw):
    (x,), _ = draw(one())
    return (x,), {"dim": draw(st.integers(-x.ndim - 1, x.ndim))}


@st.composite
def expand_args(draw):
    shape = draw(shapes(max_side=3))
    sizes = [draw(st.integers(1, 3)) for _ in range(draw(st.integers(0, 3 - len(shape))))]
    sizes += [draw(st.integers(1, 3)) if n == 1 else draw(st.sampled_from([n, -1])) for n in shape]
    return (draw(arrays(shape)),), {"sizes": tuple(sizes)}


@st.composite
def basic_index_args(draw):
    """Ints, slices with positive steps (PyTorch has no negative steps), None and Ellipsis."""
    (x,), _ = draw(one())
    parts = []
    for n in x.shape:
        kind = draw(st.sampled_from(["int", "slice", "all"]))
        if kind == "int":
            parts.append(draw(st.integers(-n, n - 1)))
        elif kind == "slice":
            bound = st.none() | st.integers(-n - 1, n + 1)
            parts.append(slice(draw(bound), draw(bound), draw(st.none() | st.integers(1, 3))))
        else:
            parts.append(slice(None))
    if draw(st.booleans()):  # Ellipsis stands for parts[i:j]; what follows it keeps to the end
        i = draw(st.integers(0, len(parts)))
        parts = parts[:i] + [Ellipsis] + parts[draw(st.integers(i, len(parts))) :]
    else:  # trailing dimensions may be left out
        parts = parts[: draw(st.integers(0, len(parts)))]
    for _ in range(draw(st.integers(0, 2))):
        parts.insert(draw(st.integers(0, len(parts))), None)
    return (x,), {"index": tuple(parts)}


@st.composite
def advanced_index_args(draw):
    """Integer arrays with repeated positions (alone, two together, next to slices) or masks."""
    (x,), _ = draw(one(shape=shapes(min_dims=1)))
    shape, ndim = x.shape, x.ndim
    kind = draw(st.sampled_from(["array", "list", "mixed", "two", "split", "mask", "mask_lead"]))

    def picks(n, size=None):
        values = draw(st.lists(st.integers(-n, n - 1), min_size=size or 1, max_size=size or 5))
        return values + values[:1] if size is None else values  # a repeat: gradients must add up

    if kind == "mask":
        return (x,), {"index": draw(hnp.arrays(np.bool_, shape))}
    if kind == "mask_lead":
        return (x,), {"index": (draw(hnp.arrays(np.bool_, shape[:1])), Ellipsis)}
    if kind == "array":
        arr = np.array(picks(shape[0]))
        return (x,), {"index": arr.reshape(2, -1) if arr.size % 2 == 0 and draw(st.booleans()) else arr}
    if kind == "list":
        return (x,), {"index": picks(shape[0])}
    if kind == "mixed" or (kind in ("two", "split") and ndim < 2):
        d = draw(st.integers(0, ndim - 1))
        return (x,), {"index": (slice(None),) * d + (np.array(picks(shape[d])),)}
    if kind == "two" or ndim < 3:
        a = picks(shape[0])
        return (x,), {"index": (np.array(a), np.array(picks(shape[1], len(a))))}
    # "split": advanced indices separated by a slice; the indexed dimension moves to the front
    a = picks(shape[0])
    return (x,), {"index": (np.array(a), slice(None), np.array(picks(shape[2], len(a))))}


@st.composite
def cat_args(draw):
    base = list(draw(shapes(min_dims=1)))
    d = draw(st.integers(-len(base), len(base) - 1))
    xs = []
    for _ in range(draw(st.integers(1, 3))):
        shape = list(base)
        shape[d] = draw(st.integers(1, 3))
        xs.append(draw(arrays(tuple(shape))))
    return tuple(xs), {"dim": d}


@st.composite
def stack_args(draw):
    shape = draw(shapes())
    xs = tuple(draw(arrays(shape)) for _ in range(draw(st.integers(1, 3))))
    return xs, {"dim": draw(st.integers(-len(shape) - 1, len(shape)))}


@st.composite
def pad_args(draw):
    (x,), _ = draw(one())
    k = draw(st.integers(0, x.ndim))
    widths = tuple(draw(st.lists(st.integers(0, 2), min_size=2 * k, max_size=2 * k)))
    return (x,), {"widths": widths, "value": draw(st.floats(-2.0, 2.0))}


@st.composite
def matmul_args(draw):
    kind = draw(st.sampled_from(["shapes", "vector_batch", "batch_vector"]))
    if kind == "shapes":
        a_shape, b_shape = draw(matmul_shapes())
    else:
        k = draw(st.integers(1, 4))
        batch = draw(shapes(min_dims=1, max_dims=2, max_side=3))
        matrix = batch + ((k, draw(st.integers(1, 3))) if kind == "vector_batch" else (draw(st.integers(1, 3)), k))
        a_shape, b_shape = ((k,), matrix) if kind == "vector_batch" else (matrix, (k,))
    return (draw(arrays(a_shape)), draw(arrays(b_shape))), {}


@st.composite
def where_args(draw):
    c_shape, x_shape, y_shape = draw(
        hnp.mutually_broadcastable_shapes(num_shapes=3, max_dims=3, max_side=4).map(lambda b: b.input_shapes)
    )
    return (draw(arrays(x_shape)), draw(arrays(y_shape))), {"cond": draw(hnp.arrays(np.bool_, c_shape))}


@st.composite
def div_args(draw):
    (a, b), _ = draw(two(ties=False))
    return (a, np.where(b >= 0, 1.0, -1.0) * (np.abs(b) + 0.5)), {}


@st.composite
def pow_int_args(draw):
    (x,), _ = draw(one(ties=False))
    return (away(x),), {"n": draw(st.sampled_from([0, 1, 2, 3, -1, -2]))}


@st.composite
def clamp_args(draw):
    (x,), _ = draw(one(ties=True))
    low = draw(st.sampled_from([-2.0, -1.0, -0.5, 0.0, None]))
    high = draw(st.sampled_from([0.0, 0.5, 1.0, 2.5] + ([None] if low is not None else [])))
    if low is not None and high is not None and high < low:
        low, high = high, low
    return (x,), {"low": low, "high": high}


# ---------------------------------------------------------------- the ops, written once for both


def index_for(L, index):
    """The same index for either library (numpy arrays become torch tensors for torch)."""
    if isinstance(index, tuple):
        return tuple(index_for(L, i) for i in index)
    if isinstance(index, np.ndarray) and is_torch(L):
        return L.tensor(index)
    return index


def pad(L, x, widths, value):
    if is_torch(L):
        return L.nn.functional.pad(x, widths, mode="constant", value=value)
    return ag.pad(x, widths, mode="constant", value=value)


def squeeze(L, x, dim):
    return x.squeeze() if dim is None else x.squeeze(dim)


def max_min(L, x, op, dim=None, keepdim=False):
    if dim is None:
        return getattr(x, op)()
    result = getattr(x, op)(dim, keepdim)
    return result.values, result.indices


def var(L, x, dim, keepdim, correction):
    if correction is None:
        return x.var(dim=dim, keepdim=keepdim)  # the default: unbiased
    return x.var(dim=dim, keepdim=keepdim, correction=correction)


CASES = {
    # arithmetic
    "add": (two(), lambda L, a, b: a + b),
    "add_alpha": (two(), lambda L, a, b: a.add(b, alpha=2.5)),
    "add_number": (one(), lambda L, a: 1.5 + a + 2),
    "sub": (two(), lambda L, a, b: a - b),
    "sub_alpha": (two(), lambda L, a, b: a.sub(b, alpha=-3)),
    "rsub_number": (one(), lambda L, a: 2 - a - 0.5),
    "mul": (two(), lambda L, a, b: a * b),
    "mul_self": (one(), lambda L, a: a * a),
    "mul_number": (one(), lambda L, a: 2.5 * a * -1),
    "div": (div_args(), lambda L, a, b: a / b),
    "rdiv_number": (div_args(), lambda L, a, b: 2.0 / b + a / 4),
    "neg": (one(), lambda L, a: -a),
    "pow_int": (pow_int_args(), lambda L, a, n: a**n),
    "pow_float": (one(low=0.1, high=3.0, p=1.7), lambda L, a, p: a**p),
    "pow_sqrt_like": (one(low=0.1, high=3.0, p=-0.5), lambda L, a, p: a.pow(p)),
    "rpow_number": (one(), lambda L, a: 1.8**a),
    "pow_tensor": (two(low=0.1, high=3.0), lambda L, a, b: a**b),
    # elementwise math
    "exp": (one(), lambda L, a: a.exp()),
    "log": (one(low=0.05, high=5.0), lambda L, a: a.log()),
    "sqrt": (one(low=0.05, high=5.0), lambda L, a: a.sqrt()),
    "abs": (one(), lambda L, a: a.abs()),  # grid draws hit 0: both give gradient 0 there
    "sigmoid": (one(low=-20.0, high=20.0), lambda L, a: a.sigmoid()),
    "tanh": (one(low=-10.0, high=10.0), lambda L, a: a.tanh()),
    "relu": (one(), lambda L, a: a.relu()),
    "clamp": (clamp_args(), lambda L, a, low, high: a.clamp(low, high)),
    "maximum": (two(), lambda L, a, b: L.maximum(a, b)),
    "minimum": (two(), lambda L, a, b: L.minimum(a, b)),
    "where": (where_args(), lambda L, a, b, cond: L.where(L.tensor(cond), a, b)),
    # reductions
    "sum": (reduction(), lambda L, a, dim, keepdim: a.sum(dim=dim, keepdim=keepdim)),
    "mean": (reduction(), lambda L, a, dim, keepdim: a.mean(dim=dim, keepdim=keepdim)),
    "var": (var_args(), var),
    "max_full": (one(), lambda L, a: max_min(L, a, "max")),
    "min_full": (one(), lambda L, a: max_min(L, a, "min")),
    "max_dim": (dim_of(), lambda L, a, dim, keepdim: max_min(L, a, "max", dim, keepdim)),
    "min_dim": (dim_of(), lambda L, a, dim, keepdim: max_min(L, a, "min", dim, keepdim)),
    # shape
    "reshape": (reshape_args(), lambda L, a, shape: a.reshape(shape)),  # torch rejects reshape(*())
    "view": (reshape_args(), lambda L, a, shape: a.view(shape)),
    "flatten": (flatten_args(), lambda L, a, start, end: a.flatten(start, end)),
    "transpose": (transpose_args(), lambda L, a, d0, d1: a.transpose(d0, d1)),
    "permute": (permute_args(), lambda L, a, dims: a.permute(dims)),
    "squeeze": (squeeze_args(), squeeze),
    "unsqueeze": (unsqueeze_args(), lambda L, a, dim: a.unsqueeze(dim)),
    "expand": (expand_args(), lambda L, a, sizes: a.expand(sizes)),
    "getitem_basic": (basic_index_args(), lambda L, a, index: a[index_for(L, index)]),
    "getitem_advanced": (advanced_index_args(), lambda L, a, index: a[index_for(L, index)]),
    "cat": (cat_args(), lambda L, *xs, dim: L.cat(list(xs), dim)),
    "cat_twice": (cat_args(), lambda L, *xs, dim: L.cat(list(xs) + list(xs), dim=dim)),
    "stack": (stack_args(), lambda L, *xs, dim: L.stack(xs, dim)),
    "pad": (pad_args(), pad),
    "to_float32": (one(), lambda L, a: a.to(L.float32) * 1.5),
    "to_float64": (one(), lambda L, a: a.to(L.float64) * 1.5),
    "clone": (one(), lambda L, a: a.clone() * a),
    # linear algebra and activations
    "matmul": (matmul_args(), lambda L, a, b: a @ b),
    "softmax": (dim_of(), lambda L, a, dim, keepdim: a.softmax(dim)),
    "log_softmax": (dim_of(), lambda L, a, dim, keepdim: a.log_softmax(dim)),
}


@pytest.mark.parametrize("name", CASES)
@with_torch
@given(data=st.data())
def test_matches_torch_float64(torch, name, data):
    strategy, fn = CASES[name]
    inputs, params = data.draw(strategy, label="inputs")
    compare(torch, fn, inputs, params, dtype=np.float64)


@pytest.mark.parametrize("name", CASES)
@with_torch
@given(data=st.data())
def test_float32_stays_float32(torch, name, data):
    strategy, fn = CASES[name]
    inputs, params = data.draw(strategy, label="inputs")
    ours, _ = compare(torch, fn, inputs, params, dtype=np.float32)
    for out in ours:
        if out.dtype.kind == "f" and name != "to_float64":
            assert out.dtype == np.float32


# ---------------------------------------------------------------- ties and kinks


def test_max_dim_returns_values_and_indices(oracle):
    x = np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 1.0]])
    for op in ("max", "min"):
        for dim, keepdim in [(1, False), (0, True), (-1, True)]:
            (values, indices), _ = compare(oracle, max_min, [x], dict(op=op, dim=dim, keepdim=keepdim))
            assert indices.dtype == np.int64 and values.dtype == np.float64
    # the gradient goes only to the first of the tied elements, the one the index names
    a = ag.tensor(x, requires_grad=True)
    values, indices = a.max(1)
    np.testing.assert_array_equal(indices._data, [1, 0])
    values.sum().backward()
    np.testing.assert_array_equal(a.grad._data, [[0, 1, 0], [1, 0, 0]])
    assert isinstance(a.max(dim=0), tuple) and a.max(dim=0)._fields == ("values", "indices")


def test_max_min_full_reduction_split_ties_evenly(oracle):
    x = np.array([[1.0, 3.0, 3.0], [3.0, 2.0, 1.0]])
    compare(oracle, lambda L, a: a.max(), [x])
    compare(oracle, lambda L, a: a.min() * 3, [np.array([[1.0, 1.0], [1.0, 2.0]])])
    a = ag.tensor(x, requires_grad=True)
    a.max().backward()
    np.testing.assert_allclose(a.grad._data, [[0, 1 / 3, 1 / 3], [1 / 3, 0, 0]], rtol=1e-15)


def test_maximum_minimum_ties_split_half(oracle):
    x, y = np.array([1.0, 2.0, 3.0]), np.array([1.0, 1.0, 4.0])
    compare(oracle, lambda L, a, b: L.maximum(a, b), [x, y])
    compare(oracle, lambda L, a, b: L.minimum(a, b), [x, y])
    compare(oracle, lambda L, a, b: L.maximum(a, b), [np.array([[2.0], [1.0]]), np.array([2.0, 2.0, 0.0])])
    a, b = ag.tensor(x, requires_grad=True), ag.tensor(y, requires_grad=True)
    ag.maximum(a, b).sum().backward()
    np.testing.assert_array_equal(a.grad._data, [0.5, 1.0, 0.0])
    np.testing.assert_array_equal(b.grad._data, [0.5, 0.0, 1.0])


def test_relu_abs_at_zero_and_clamp_at_bounds(oracle):
    x = np.array([-1.0, 0.0, 0.5, 1.0, 2.0])
    compare(oracle, lambda L, a: a.relu(), [x])
    a = ag.tensor(x, requires_grad=True)
    a.relu().sum().backward()
    np.testing.assert_array_equal(a.grad._data, [0, 0, 1, 1, 1])  # relu'(0) = 0
    a = ag.tensor(x, requires_grad=True)
    a.abs().sum().backward()
    np.testing.assert_array_equal(a.grad._data, [-1, 0, 1, 1, 1])  # |x|'(0) = 0
    compare(oracle, lambda L, a: a.abs(), [x])
    a = ag.tensor(x, requires_grad=True)
    a.clamp(0.0, 1.0).sum().backward()
    np.testing.assert_array_equal(a.grad._data, [0, 1, 1, 1, 0])  # 1 at both bounds
    compare(oracle, lambda L, a: a.clamp(0.0, 1.0), [x])
    compare(oracle, lambda L, a: a.clamp(min=0.5), [x])
    compare(oracle, lambda L, a: a.clamp(max=0.0), [x])


# ---------------------------------------------------------------- reductions


def test_var_is_unbiased_by_default(oracle):
    x = np.array([[1.0, 2.0, 4.0], [0.5, -1.0, 3.0]])
    ours, _ = compare(oracle, lambda L, a: a.var(), [x])
    np.testing.assert_allclose(ours[0]._data, np.var(x, ddof=1), rtol=1e-15)
    ours, _ = compare(oracle, lambda L, a: a.var(1), [x])
    np.testing.assert_allclose(ours[0]._data, np.var(x, axis=1, ddof=1), rtol=1e-15)
    compare(oracle, lambda L, a: a.var(0, keepdim=True), [x])
    compare(oracle, lambda L, a: a.var(1, unbiased=False), [x])
    compare(oracle, lambda L, a: a.var((0, 1), correction=0, keepdim=True), [x])


def test_var_of_one_element_is_nan_like_torch(oracle):
    # n - correction = 0: the value is nan and so is the gradient (PyTorch warns; so do we)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours, _ = compare(oracle, lambda L, a: a.var(), [np.array(2.0)])
        assert np.isnan(ours[0]._data)
        compare(oracle, lambda L, a: a.var(1), [np.array([[1.0], [2.0]])])
        compare(oracle, lambda L, a: a.var(0, keepdim=True), [np.array([[1.0, 5.0]])])


def test_sum_mean_of_0d(oracle):
    for fn in (
        lambda L, a: a.sum(),
        lambda L, a: a.sum(0),
        lambda L, a: a.sum(-1, keepdim=True),
        lambda L, a: a.mean((0,), keepdim=True),
        lambda L, a: a.var(0, correction=0),
        lambda L, a: max_min(L, a, "max", 0),
        lambda L, a: max_min(L, a, "min", -1, True),
        lambda L, a: a.softmax(0),
        lambda L, a: a.log_softmax(-1),
    ):
        compare(oracle, fn, [np.array(1.5)])


# ---------------------------------------------------------------- indexing


def test_repeated_advanced_indices_accumulate(oracle):
    x = np.arange(12.0).reshape(3, 4)
    for index in ([0, 0, 2, 0], (np.array([1, 1]), np.array([3, 3])), (slice(None), np.array([2, 2, -2]))):
        compare(oracle, lambda L, a, index: a[index_for(L, index)], [x], {"index": index})
    a = ag.tensor(x, requires_grad=True)
    a[[0, 0, 2, 0]].sum().backward()
    np.testing.assert_array_equal(a.grad._data, [[3] * 4, [0] * 4, [1] * 4])
    a = ag.tensor(x, requires_grad=True)
    a[np.array([1, 1]), np.array([3, 3])].backward(ag.tensor(np.array([2.0, 5.0])))
    expected = np.zeros((3, 4))
    expected[1, 3] = 7.0
    np.testing.assert_array_equal(a.grad._data, expected)


def test_boolean_mask_and_index_tensors(oracle):
    x = np.arange(6.0).reshape(2, 3)
    mask = np.array([[True, False, True], [False, True, True]])
    compare(oracle, lambda L, a, index: a[L.tensor(index)], [x], {"index": mask})
    compare(oracle, lambda L, a, index: a[L.tensor(index)], [x], {"index": np.array([True, False])})
    compare(oracle, lambda L, a, index: a[L.tensor(index)], [x], {"index": np.array([1, 1, 0])})
    compare(oracle, lambda L, a, index: a[:, L.tensor(index)], [x], {"index": np.array([[2, 2], [0, 2]])})


# ---------------------------------------------------------------- saturating inputs

EXTREME_OPS = {
    "sigmoid": lambda L, a: a.sigmoid(),
    "tanh": lambda L, a: a.tanh(),
    "softmax": lambda L, a: a.softmax(-1),
    "log_softmax": lambda L, a: a.log_softmax(-1),
    "softmax_dim0": lambda L, a: a.softmax(0),
    "log_softmax_dim0": lambda L, a: a.log_softmax(0),
}


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", EXTREME_OPS)
def test_saturating_inputs_are_finite_and_warning_free(oracle, name, dtype):
    x = np.array([[1e3, -1e3, 0.0, 1.0], [-1e3, -1e3, -1e3, 5.0], [1e3, 1e3, -2.0, -1e3]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any numpy overflow/invalid warning fails the test
        ours, _ = compare(oracle, EXTREME_OPS[name], [x], dtype=dtype)
        a = ag.tensor(x.astype(dtype), requires_grad=True)
        EXTREME_OPS[name](ag, a).sum().backward()
    assert np.all(np.isfinite(ours[0]._data))
    assert np.all(np.isfinite(a.grad._data))
    assert ours[0].dtype == dtype and a.grad.dtype == dtype


def test_saturating_values_are_exact():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        x = ag.tensor(np.array([1e3, -1e3]), requires_grad=True)
        s = x.sigmoid()
        np.testing.assert_array_equal(s._data, [1.0, 0.0])
        s.sum().backward()
        np.testing.assert_array_equal(x.grad._data, [0.0, 0.0])
        ls = ag.tensor(np.array([1e3, -1e3, 0.0])).log_softmax(0)
        np.testing.assert_allclose(ls._data, [0.0, -2e3, -1e3], rtol=1e-15)


def test_minus_infinity_masks_like_torch(oracle):
    x = np.array([[1.0, -np.inf, 2.0], [-np.inf, 0.5, -np.inf]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        compare(oracle, lambda L, a: a.softmax(-1), [x])
        compare(oracle, lambda L, a: a.log_softmax(-1), [x])


# ---------------------------------------------------------------- powers at zero


def test_pow_at_zero_base(oracle):
    x = np.array([0.0, 1.0, -2.0, 0.5])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for n in (0, 1, 2, 3):
            compare(oracle, lambda L, a, n: a**n, [x], {"n": n})
        compare(oracle, lambda L, a: a**0.0, [x])
        compare(oracle, lambda L, a, b: a**b, [np.array([0.0, 0.0, 2.0]), np.array([0.0, 2.0, 0.0])])
        compare(oracle, lambda L, b: 0.0**b, [np.array([0.0, 1.0, 2.5])])
    a = ag.tensor(x, requires_grad=True)
    (a**0).sum().backward()
    np.testing.assert_array_equal(a.grad._data, [0.0, 0.0, 0.0, 0.0])


# ---------------------------------------------------------------- dtypes


INTEGER_OPS = {
    "exp": lambda L, a: a.exp(),
    "log": lambda L, a: a.log(),
    "sqrt": lambda L, a: a.sqrt(),
    "sigmoid": lambda L, a: a.sigmoid(),
    "tanh": lambda L, a: a.tanh(),
    "clamp_float_bounds": lambda L, a: a.clamp(0.5, 2.5),
    "clamp_int_bounds": lambda L, a: a.clamp(1, 2),
    "abs": lambda L, a: a.abs(),
    "relu": lambda L, a: a.relu(),
    "neg": lambda L, a: -a,
    "div": lambda L, a: a / 2,
    "pow_float": lambda L, a: a**0.5,
    "sum": lambda L, a: a.sum(),
    "max": lambda L, a: a.max(),
}


# (rtol, atol) for a float32 result a few roundings deep (exp, log, a softmax of 4 values): each
# rounding is within 2^-24 (6e-8) relative, and libm/SIMD kernels differ by an ulp or two between
# CPUs; log_softmax's x - max - log(sum) loses up to |x| * 2^-24 absolutely. 1e-5 is ~80 roundings.
F32_FEW_ROUNDINGS = (1e-5, 1e-5)


@pytest.mark.parametrize("name", INTEGER_OPS)
def test_integer_inputs_give_torch_dtypes(oracle, name):
    # float ops on integer tensors give PyTorch's default float32; integer ops stay int64
    x = np.array([1, 3, 2, 0])
    ours = INTEGER_OPS[name](ag, ag.tensor(x))
    theirs = oracle(lambda torch, name, x: record(INTEGER_OPS[name](torch, torch.tensor(x))), name, x)
    assert_same(ours, theirs, *F32_FEW_ROUNDINGS, name)


def test_integer_softmax_is_float32(oracle):
    # PyTorch has no integer softmax (NotImplementedError); ours computes it in float32
    x = np.array([1, 3, 2, 0])

    def softmaxes(torch, x):
        expected = torch.tensor(x, dtype=torch.float32)
        return record(expected.softmax(0)), record(expected.log_softmax(0))

    softmax, log_softmax = oracle(softmaxes, x)
    assert_same(ag.tensor(x).softmax(0), softmax, *F32_FEW_ROUNDINGS, "softmax")
    assert_same(ag.tensor(x).log_softmax(0), log_softmax, *F32_FEW_ROUNDINGS, "log_softmax")


MIXED = {
    "add": lambda L, a, b: a + b,
    "mul": lambda L, a, b: a * b,
    "div": lambda L, a, b: a / (b * b + 1),
    "maximum": lambda L, a, b: L.maximum(a, b),
    "where": lambda L, a, b: L.where(a > 0, a, b),
    "cat": lambda L, a, b: L.cat([a, b], 0),
    "stack": lambda L, a, b: L.stack([a, b], -1),
}


@pytest.mark.parametrize("name", MIXED)
def test_mixed_float_dtypes_promote_and_grads_keep_input_dtype(oracle, name):
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal((2, 3)).astype(np.float32), rng.standard_normal((2, 3))

    def run(torch, name, a, b, g=None):
        """PyTorch's output, or with an upstream gradient ``g`` the inputs' gradients."""
        torch_in = [torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)]
        tout = MIXED[name](torch, *torch_in)
        if g is None:
            return record(tout)
        tout.backward(torch.tensor(g))
        return [record(t.grad) for t in torch_in]

    ours_in = [ag.tensor(a, requires_grad=True), ag.tensor(b, requires_grad=True)]
    out, tout = MIXED[name](ag, *ours_in), oracle(run, name, a, b)
    assert_same(out, tout, 1e-6, 1e-7, "output")
    g = rng.standard_normal(out.shape)
    out.backward(ag.tensor(g))
    for o, t in zip(ours_in, oracle(run, name, a, b, g)):
        assert_same(o.grad, t, 1e-6, 1e-7, "gradient")
    assert ours_in[0].grad.dtype == np.float32 and ours_in[1].grad.dtype == np.float64


def test_python_numbers_keep_float32():
    a = ag.tensor(np.array([0.5, 1.5], dtype=np.float32), requires_grad=True)
    for out in (a * 2.5, 2.5 * a, a + 1, 1 - a, a / 3.0, 2.0 / a, a**2, a**0.5, 2.0**a, a.clamp(0.6, 1.0)):
        assert out.dtype == np.float32
        out.sum().backward()
        assert a.grad.dtype == np.float32
