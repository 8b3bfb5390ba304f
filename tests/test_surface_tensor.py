"""The PyTorch surface that teaching code uses (issue 14): dtype names and conversions, the
default dtype, elementwise math, reductions and comparisons, shape and indexing ops, factories.

Each case is a program ``fn(L, *inputs)`` written once for both libraries (``L`` is ``autograd``
or ``torch``); ``run`` gives its outputs (values and dtypes) and the inputs' gradients after a
backward pass of a fixed weighting, and the ``oracle`` fixture gives PyTorch's. The
differentiable cases are also checked against finite differences in float64 (``gradcheck``).
"""

import math

import numpy as np
import pytest

import autograd as ag

RNG = np.random.default_rng(14)
UNIT = RNG.uniform(0.1, 0.9, (3, 4))  # inside the domain of asin, acos, log, ...
WIDE = RNG.uniform(-2.4, 2.4, (3, 4))  # no .5 ties for the rounding functions
INTS = np.array([[3, -1, 0, 7], [2, 5, -4, 1]], dtype=np.int64)
MAT = RNG.standard_normal((3, 4))
BATCH = RNG.standard_normal((2, 3, 4))


def dtype_name(t):
    return str(t.dtype).replace("torch.", "")


def run(L, fn, *arrays):
    """Outputs (values, dtypes) of ``fn(L, *inputs)`` and the gradients of sum(w * output)."""
    xs = [L.tensor(a, requires_grad=a.dtype.kind == "f") for a in arrays]
    out = fn(L, *xs)
    outs = list(out) if isinstance(out, (tuple, list)) else [out]
    result = {"values": [np.array(o.detach().numpy()) for o in outs], "dtypes": [dtype_name(o) for o in outs]}
    loss = None
    for o in outs:
        if o.requires_grad:
            w = np.cos(np.arange(o.numel()) + 1.0).reshape(tuple(o.shape)).astype(dtype_name(o))
            term = (o * L.tensor(w)).sum()
            loss = term if loss is None else loss + term
    if loss is not None:
        loss.backward()
    result["grads"] = [None if x.grad is None else np.array(x.grad.numpy()) for x in xs]
    return result


def check(ours, theirs, rtol=1e-10, atol=1e-12):
    assert ours["dtypes"] == list(theirs["dtypes"])
    for a, b in zip(ours["values"], theirs["values"]):
        assert a.shape == b.shape
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)
    for a, b in zip(ours["grads"], theirs["grads"]):
        assert (a is None) == (b is None)
        if a is not None:
            np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)


# name -> (program, inputs); differentiable float64 programs are gradchecked too
UNARY = "sin cos tan asin acos atan sinh cosh exp2 expm1 log2 log10 log1p rsqrt square reciprocal".split()
STEPS = "floor ceil round trunc sign".split()

CASES = {f"{name}": (lambda L, x, name=name: getattr(L, name)(x), (UNIT,)) for name in UNARY}
CASES.update({f"{name}_method": (lambda L, x, name=name: getattr(x * 0.9, name)(), (UNIT,)) for name in UNARY})
CASES.update({f"{name}": (lambda L, x, name=name: getattr(L, name)(x), (WIDE,)) for name in STEPS})
CASES.update({f"{name}_int": (lambda L, x, name=name: getattr(L, name)(x), (INTS,)) for name in UNARY + STEPS})
CASES.update(
    {
        "sin_float32": (lambda L, x: L.sin(x), (UNIT.astype(np.float32),)),
        "round_decimals": (lambda L, x: L.round(x * 10, decimals=1), (WIDE,)),
        "atan2": (lambda L, y, x: L.atan2(y, x), (MAT, MAT[:1] + 0.3)),
        "pow_method": (lambda L, x: x.pow(3), (MAT,)),
        "std": (lambda L, x: x.std(), (MAT,)),
        "std_dim": (lambda L, x: x.std(1, keepdim=True), (MAT,)),
        "std_correction": (lambda L, x: L.std(x, 0, correction=0), (MAT,)),
        "prod": (lambda L, x: x.prod(), (UNIT,)),
        "prod_dim": (lambda L, x: L.prod(x, 1, keepdim=True), (MAT,)),
        "prod_zero": (lambda L, x: (x * L.tensor([1.0, 0.0, 1.0, 1.0], dtype=L.float64)).prod(1), (MAT,)),
        "prod_int": (lambda L, x: x.prod(0), (INTS,)),
        "cumsum": (lambda L, x: x.cumsum(1), (MAT,)),
        "cumsum_dim0": (lambda L, x: L.cumsum(x, dim=0), (BATCH,)),
        "cumsum_int": (lambda L, x: x.cumsum(-1), (INTS,)),
        "norm": (lambda L, x: x.norm(), (MAT,)),
        "norm_dim": (lambda L, x: L.norm(x, 2, 1), (MAT,)),
        "norm_1": (lambda L, x: x.norm(1, 0, keepdim=True), (MAT,)),
        "norm_inf": (lambda L, x: x.norm(float("inf"), 1), (MAT,)),
        "norm_3": (lambda L, x: x.norm(3), (MAT,)),
        "norm_zero_row": (lambda L, x: (x * L.tensor([[0.0], [1.0], [1.0]], dtype=L.float64)).norm(dim=1), (MAT,)),
        "sort": (lambda L, x: L.sort(x, 1), (MAT,)),
        "sort_descending": (lambda L, x: x.sort(0, descending=True), (MAT,)),
        "argsort": (lambda L, x: x.argsort(dim=1, descending=True), (MAT,)),
        "topk": (lambda L, x: x.topk(2), (MAT,)),
        "topk_smallest": (lambda L, x: L.topk(x, 2, dim=0, largest=False), (MAT,)),
        "argmin": (lambda L, x: (L.argmin(x), x.argmin(1), x.argmax(0, keepdim=True)), (MAT,)),
        "all_any": (lambda L, x: (L.all(x > 0, 1), (x > 0).any(0, keepdim=True), (x > 0).all()), (MAT,)),
        "count_nonzero": (lambda L, x: (L.count_nonzero(x), x.count_nonzero(1)), (INTS,)),
        "isnan_isinf": (lambda L, x: (L.isnan(x.log()), L.isinf(1 / (x * 0)), L.isfinite(x)), (MAT,)),
        "isclose": (lambda L, x: L.isclose(x, x + 1e-6, rtol=0, atol=1e-5), (MAT,)),
        "sum_axis": (lambda L, x: (x.sum(axis=1, keepdims=True), L.sum(x, axis=0), x.mean(axis=(0, 1))), (MAT,)),
        "t": (lambda L, x: x.t() * 2, (MAT,)),
        "mm": (lambda L, a, b: L.mm(a, b.t()), (MAT, MAT + 1)),
        "bmm": (lambda L, a, b: a.bmm(b.transpose(1, 2)), (BATCH, BATCH * 2)),
        "addmm": (lambda L, c, a, b: L.addmm(c, a, b, beta=0.5, alpha=2), (MAT[0, :3], MAT, MAT.T.copy())),
        "roll": (lambda L, x: x.roll(1, 1), (MAT,)),
        "roll_dims": (lambda L, x: L.roll(x, (1, -2), (0, 2)), (BATCH,)),
        "roll_flat": (lambda L, x: x.roll(5), (MAT,)),
        "flip": (lambda L, x: L.flip(x, (0, 2)), (BATCH,)),
        "flip_method": (lambda L, x: x.flip(1), (MAT,)),
        "tril": (lambda L, x: L.tril(x), (MAT,)),
        "triu": (lambda L, x: x.triu(1), (BATCH,)),
        "tril_negative": (lambda L, x: x.tril(-1), (MAT,)),
        "gather": (lambda L, x: x.gather(1, L.tensor([[0, 0], [3, 1], [2, 2]])), (MAT,)),
        "scatter_add": (
            lambda L, x, s: L.scatter_add(x, 1, L.tensor([[0, 0], [3, 1], [2, 2]]), s),
            (MAT, MAT[:, :2] * 3),
        ),
        "index_select": (lambda L, x: L.index_select(x, 1, L.tensor([3, 0, 3])), (MAT,)),
        "repeat": (lambda L, x: x.repeat(2, 1, 3), (MAT,)),
        "tile": (lambda L, x: L.tile(x, (2,)), (MAT,)),
        "chunk": (lambda L, x: x.chunk(3, 1), (MAT,)),
        "split": (lambda L, x: L.split(x, 3, dim=1), (MAT,)),
        "split_sizes": (lambda L, x: x.split([1, 2], 0), (MAT,)),
        "unbind": (lambda L, x: x.unbind(1), (MAT,)),
        "narrow": (lambda L, x: L.narrow(x, 1, 1, 2), (MAT,)),
        "range_index": (lambda L, x: x[range(0, 3, 2)], (MAT,)),
        # reductions, products and selections that tutorials reach for now and then
        "amax": (lambda L, x: (L.amax(x), x.amax(1)), (MAT,)),
        "amax_dims": (lambda L, x: L.amax(x, (0, 2), keepdim=True), (BATCH,)),
        "amin": (lambda L, x: (x.amin(), L.amin(x, -1, True)), (MAT,)),
        "amax_ties": (lambda L, x: L.amax(L.stack([x * 2, x.detach() * 2]), 0), (MAT,)),
        "amax_int": (lambda L, x: (L.amax(x, 1), x.amin(0)), (INTS,)),
        "logsumexp": (lambda L, x: L.logsumexp(x, 1), (MAT,)),
        "logsumexp_dims": (lambda L, x: x.logsumexp((0, 2), keepdim=True), (BATCH,)),
        "logsumexp_large": (lambda L, x: L.logsumexp(x * 1000, 0), (MAT,)),
        "logsumexp_float32": (lambda L, x: L.logsumexp(x * 50, -1), (MAT.astype(np.float32),)),
        "logsumexp_int": (lambda L, x: L.logsumexp(x, 1), (INTS,)),
        "logsumexp_bool_int": (lambda L, x: L.logsumexp(x > 0, 1), (INTS,)),
        "logsumexp_empty": (lambda L, x: L.logsumexp(x[:0], 0), (MAT,)),
        "logsumexp_infinite": (
            lambda L, x: L.logsumexp(x + L.tensor([[-math.inf], [0.0], [math.inf]], dtype=L.float64), 1),
            (MAT,),
        ),
        "outer": (lambda L, x: L.outer(x[0], x[1, :3]), (MAT,)),
        "dot": (lambda L, x: (L.dot(x[0], x[1]), x[2].dot(x[0])), (MAT,)),
        "einsum_matmul": (lambda L, a, b: L.einsum("ij,kj->ik", a, b), (MAT, MAT + 1)),
        "einsum_batch": (lambda L, a, b: L.einsum("bij,bkj->bik", a, b), (BATCH, BATCH * 2)),
        "einsum_implicit": (lambda L, a, b: L.einsum("ij,jk", a, b.t()), (MAT, MAT + 1)),
        "einsum_trace": (lambda L, x: L.einsum("ii", x[:, :3]), (MAT,)),
        "einsum_diagonal": (lambda L, x: L.einsum("ii->i", x[:, :3]), (MAT,)),
        "einsum_repeated_batch": (lambda L, x: L.einsum("iij->ji", x[:, :, :3].permute(2, 1, 0)), (BATCH,)),
        "einsum_ellipsis": (lambda L, a, b: L.einsum("...j,j->...", a, b[0]), (BATCH, MAT)),
        "einsum_ellipsis_out": (lambda L, a: L.einsum("b...->...b", a), (BATCH,)),
        "einsum_sum": (lambda L, x: (L.einsum("ij->j", x), L.einsum("ij->", x)), (MAT,)),
        "einsum_list": (lambda L, x: L.einsum("i,j->ij", [x[0], x[1]]), (MAT,)),
        "einsum_broadcast": (lambda L, a: L.einsum("ij,ij->i", a, a[:1] * 2), (MAT,)),
        "einsum_three": (lambda L, a, b, c: L.einsum("ij,jk,kl->il", a, b.t(), c), (MAT, MAT + 1, MAT)),
        "einsum_spaces": (lambda L, a: L.einsum("i j -> j i", a), (MAT,)),
        "einsum_float32": (
            lambda L, a, b: L.einsum("ij,kj->ik", a, b),
            (MAT.astype(np.float32), UNIT.astype(np.float32)),
        ),
        "einsum_promotes": (lambda L, a, b: L.einsum("ij,ij->ij", a, b), (MAT.astype(np.float32), MAT)),
        "diag_vector": (lambda L, x: L.diag(x[0]), (MAT,)),
        "diag_vector_k": (lambda L, x: (L.diag(x[0], -2), x[1].diag(1)), (MAT,)),
        "diag_matrix": (lambda L, x: (x.diag(), L.diag(x, 1), L.diag(x, -2), L.diag(x, 7)), (MAT,)),
        "masked_select": (lambda L, x: L.masked_select(x, x > 0), (MAT,)),
        "masked_select_broadcast": (lambda L, x: x[:1].masked_select(L.tensor([[True], [False], [True]])), (MAT,)),
        "nonzero_int": (lambda L, x: (L.nonzero(x), *x.nonzero(as_tuple=True), L.nonzero(x[0, 0])), (INTS,)),
        "hstack": (lambda L, x: (L.hstack([x, x[:, :1]]), L.hstack((x[0], x[1]))), (MAT,)),
        "vstack": (lambda L, x: (L.vstack([x, x[0]]), L.vstack([x[0], x[1]])), (MAT,)),
        "broadcast_to": (lambda L, x: (L.broadcast_to(x[0], (2, 4)), x[:1].broadcast_to((3, -1))), (MAT,)),
        "meshgrid": (lambda L, a, b: L.meshgrid(a[0], b[1, :3], indexing="ij"), (MAT, MAT + 1)),
        "meshgrid_xy": (lambda L, a: L.meshgrid([a[0], a[1, :3], a[2, :2]], indexing="xy"), (MAT,)),
        "meshgrid_0d": (lambda L, a: L.meshgrid(a[0, 0], a[1], indexing="ij"), (MAT,)),
        "repeat_interleave": (lambda L, x: (L.repeat_interleave(x, 2), x.repeat_interleave(3, dim=1)), (MAT,)),
        "repeat_interleave_counts": (
            lambda L, x: (x.repeat_interleave(L.tensor([2, 0, 1]), dim=0), L.repeat_interleave(x, L.tensor([2]))),
            (MAT,),
        ),
        "repeat_interleave_alone_int": (lambda L, x: L.repeat_interleave(x[0].abs()), (INTS,)),
        "unique_int": (
            lambda L, x: (L.unique(x), *x.unique(return_inverse=True, return_counts=True), x.unique(sorted=False)),
            (INTS,),
        ),
        "unique_dim_int": (
            lambda L, x: L.unique(L.cat([x, x[:1]]), dim=0, return_inverse=True, return_counts=True),
            (INTS,),
        ),
        "bincount_int": (
            lambda L, x: (
                L.bincount(x.abs()[0]),
                x.abs()[1].bincount(minlength=9),
                L.bincount(x.abs()[0], weights=L.tensor([0.5, 1.5, 2.0, -1.0])),
                L.bincount(x.abs()[0], L.tensor([0.5, 1.5, 2.0, -1.0], dtype=L.float64)),
                L.bincount(x.abs()[0], x[1]),
            ),
            (INTS,),
        ),
    }
)


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_torch(name, oracle):
    fn, arrays = CASES[name]
    rtol = 1e-5 if name.endswith("_int") or any(a.dtype == np.float32 for a in arrays) else 1e-10
    check(run(ag, fn, *arrays), oracle(lambda torch, *a: run(torch, fn, *a), *arrays), rtol=rtol, atol=rtol * 1e-2)


# no finite differences: a maximum shared by equal elements (a kink), results of -inf or inf
NOT_SMOOTH = {"amax_ties", "logsumexp_empty", "logsumexp_infinite"}


def differentiable(name):
    """A case whose inputs are all float64 and whose program has an output that requires grad."""
    fn, arrays = CASES[name]
    if any(a.dtype != np.float64 for a in arrays) or name in NOT_SMOOTH:
        return False
    out = fn(ag, *[ag.tensor(a, requires_grad=True) for a in arrays])
    return any(o.requires_grad for o in (out if isinstance(out, (tuple, list)) else [out]))


DIFFERENTIABLE = sorted(filter(differentiable, CASES))


@pytest.mark.parametrize("name", DIFFERENTIABLE)
def test_gradcheck(name):
    fn, arrays = CASES[name]
    inputs = [ag.tensor(a, requires_grad=True) for a in arrays]

    def program(*xs):
        out = fn(ag, *xs)
        outs = [o for o in (out if isinstance(out, (tuple, list)) else [out]) if o.requires_grad]
        return tuple(outs)

    assert ag.gradcheck(program, inputs)


# ---------------------------------------------------------------- dtypes


def test_dtype_names(oracle):
    def program(L):
        t = L.tensor([1.5, -2.0])
        return {
            "names": [dtype_name(L.zeros(1, dtype=d)) for d in (L.float, L.double, L.half, L.long, L.int, L.bool)],
            "python": [dtype_name(L.zeros(1, dtype=d)) for d in (float, int, bool)],
            "methods": [dtype_name(f()) for f in (t.float, t.double, t.half, t.long, t.int, t.bool)],
            "values": [t.int().numpy(), t.bool().numpy(), t.long().numpy()],
            "type": [t.type(), t.long().type(), t.bool().type(), dtype_name(t.type(L.float64))],
            "floating": [t.is_floating_point(), t.long().is_floating_point()],
        }

    ours, theirs = program(ag), oracle(program)
    for key in ("names", "python", "methods", "type", "floating"):
        assert ours[key] == list(theirs[key]), key
    for a, b in zip(ours["values"], theirs["values"]):
        np.testing.assert_array_equal(a, b)


def test_default_dtype(oracle):
    def program(L):
        before = dtype_name(L.tensor([0.5]))
        L.set_default_dtype(L.float64)
        try:
            made = [L.tensor([0.5]), L.zeros(2), L.ones(1), L.arange(0, 1, 0.5), L.linspace(0, 1, 3)]
            made += [L.tensor([1]) * 0.5, L.sin(L.tensor([1])), L.full((1,), 2.0), L.eye(2)]
            during = [dtype_name(t) for t in made] + [str(L.get_default_dtype()).replace("torch.", "")]
        finally:
            L.set_default_dtype(L.float32)
        return {"before": before, "during": during, "after": dtype_name(L.tensor([0.5]))}

    ours, theirs = program(ag), oracle(program)
    assert ours["before"] == theirs["before"] and ours["after"] == theirs["after"]
    assert ours["during"] == list(theirs["during"])


def test_default_dtype_must_be_floating():
    with pytest.raises(TypeError, match="only floating-point types"):
        ag.set_default_dtype(ag.int64)
    assert ag.get_default_dtype() == np.float32


def test_inplace_variants():
    x = ag.tensor([0.3, 1.2], dtype=ag.float64, requires_grad=True)
    y = x * 1
    y.sin_()
    y.square_()
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * np.sin([0.3, 1.2]) * np.cos([0.3, 1.2]))
    t = ag.tensor([1.7, -0.2])
    assert t.floor_() is t and t.tolist() == [1.0, -1.0]
    with pytest.raises(RuntimeError, match="can't be cast"):
        ag.tensor([1, 2]).sin_()


# ---------------------------------------------------------------- factories and protocols


def test_factories(oracle):
    def program(L):
        out = [L.linspace(-1, 2, 7), L.logspace(0, 2, 5), L.logspace(0, 3, 4, base=2)]
        out += [L.arange(0, 1, 0.1), L.arange(1, 2.5, 0.5), L.arange(-1, 1, 0.3), L.arange(0.5, 3)]
        out += [L.tensor([L.tensor(1.5), L.tensor(2.0)]), L.tensor([[L.tensor(1), 2], [3, L.tensor(4)]])]
        return [(t.numpy(), dtype_name(t)) for t in out] + [tuple(L.empty(2, 3).shape), dtype_name(L.empty(1))]

    ours, theirs = program(ag), oracle(program)
    for a, b in zip(ours[:-2], theirs[:-2]):
        assert a[1] == b[1] and a[0].shape == b[0].shape
        np.testing.assert_allclose(a[0], b[0], rtol=1e-6)
    assert ours[-2:] == [tuple(theirs[-2]), theirs[-1]]


def test_from_numpy_and_as_tensor_share_memory(oracle):
    """from_numpy and as_tensor keep the array's memory and dtype (writes show both ways), copy
    only for another dtype or for non-array data; numel and is_tensor as PyTorch."""

    def program(L):
        a = np.arange(6.0).reshape(2, 3)
        t = L.from_numpy(a)
        t.add_(1)
        a[0, 0] = -5.0
        shared = [a.copy(), t.numpy().copy(), dtype_name(t)]
        kinds = [np.float32, np.float16, np.int32, np.int64, np.uint8, np.bool_]
        dtypes = [dtype_name(L.from_numpy(np.zeros(2, k))) for k in kinds]
        transposed = L.from_numpy(np.arange(6.0).reshape(2, 3).T)
        x = L.tensor([1.0, 2.0], requires_grad=True)
        b = np.ones(3)
        return {
            "shared": shared,
            "dtypes": dtypes,
            "transposed": [transposed.numpy().copy(), list(transposed.shape), transposed.sum().item()],
            "as_tensor": [
                dtype_name(L.as_tensor([1.5, 2.0])),
                dtype_name(L.as_tensor([1, 2])),
                dtype_name(L.as_tensor(b)),
                bool(np.shares_memory(L.as_tensor(b).numpy(), b)),
                bool(np.shares_memory(L.as_tensor(b, dtype=L.float64).numpy(), b)),
                bool(np.shares_memory(L.as_tensor(b, dtype=L.float32).numpy(), b)),
                dtype_name(L.as_tensor(b, dtype=L.float32)),
                L.as_tensor(x) is x,
                L.as_tensor(x, dtype=L.float32) is x,
                L.as_tensor(x, dtype=L.float64) is x,
                L.as_tensor(x, dtype=L.float64).requires_grad,
            ],
            "counts": [L.numel(x), L.numel(L.zeros(2, 3, 0)), L.is_tensor(x), L.is_tensor(b), L.is_tensor([1.0])],
        }

    ours, theirs = program(ag), oracle(program)
    for a, b in zip(ours["shared"][:2], theirs["shared"][:2]):
        np.testing.assert_array_equal(a, b)
    assert ours["shared"][2] == theirs["shared"][2] == "float64"
    assert ours["dtypes"] == list(theirs["dtypes"])
    np.testing.assert_array_equal(ours["transposed"][0], theirs["transposed"][0])
    assert ours["transposed"][1:] == list(theirs["transposed"][1:])
    assert ours["as_tensor"] == list(theirs["as_tensor"]) and ours["counts"] == list(theirs["counts"])


def test_from_numpy_errors_name_the_array_and_the_fix():
    """PyTorch's words where it has them; dagrad's own list of the dtypes it holds."""
    with pytest.raises(TypeError, match=r"expected np.ndarray \(got list\)"):
        ag.from_numpy([1.0, 2.0])
    with pytest.raises(TypeError, match=r"expected np.ndarray \(got numpy.float64\)"):
        ag.from_numpy(np.float64(2.0))
    with pytest.raises(TypeError, match="numpy.str_. The only supported types are: float64, float32"):
        ag.from_numpy(np.array(["a"]))
    with pytest.raises(TypeError, match="numpy.complex128"):
        ag.from_numpy(np.array([1j]))
    with pytest.raises(ValueError, match="negative.*array.copy"):
        ag.from_numpy(np.arange(3.0)[::-1])
    with pytest.raises(ValueError, match="negative"):
        ag.as_tensor(np.arange(3.0)[::-1])
    with pytest.raises(ValueError, match="byte order"):
        ag.from_numpy(np.arange(3.0).astype(">f8"))
    frozen = np.arange(3.0)
    frozen.flags.writeable = False
    with pytest.warns(UserWarning, match="not writable"):
        t = ag.from_numpy(frozen)
    with pytest.raises(ValueError, match="read-only"):
        t.add_(1)
    np.testing.assert_array_equal(frozen, [0.0, 1.0, 2.0])
    with pytest.raises(TypeError, match="must be Tensor, not list"):
        ag.numel([1, 2])
    with pytest.raises(RuntimeError, match="no 'cuda' device"):
        ag.as_tensor([1.0], device="cuda")


def test_zero_dim_formatting():
    t = ag.tensor(3.75)
    assert "%d" % t == "3" and "%.2f" % t == "3.75" and f"{t:.1f}" == "3.8"  # noqa: UP031  (the % protocol)
    assert ag.tensor([1, 2]).nelement() == 2


def test_errors():
    x = ag.tensor([[1.0, 2.0], [3.0, 4.0]])
    with pytest.raises(TypeError, match="out="):
        x.sum(0, out=x)
    with pytest.raises(RuntimeError, match="matrices"):
        ag.mm(x, x[0])
    with pytest.raises(RuntimeError, match="3D"):
        ag.bmm(x, x)
    with pytest.raises(RuntimeError, match="int64"):
        x.gather(0, ag.tensor([[0.0]]))
    with pytest.raises(RuntimeError, match="k out of range"):
        x.topk(3)
    with pytest.raises(RuntimeError, match="sum exactly"):
        x.split([1, 2])
    with pytest.raises(RuntimeError, match="at least 2 dimensions"):
        ag.tril(x[0])
    with pytest.raises(RuntimeError, match="<= 2 dimensions"):
        ag.zeros(1, 2, 3).t()
    assert math.isclose(x.norm().item(), math.sqrt(30), rel_tol=1e-6)


def test_more_surface_errors_use_pytorch_words():
    """outer, dot, diag, masked_select, hstack/vstack, amax and einsum: PyTorch's error texts."""
    m, v, w = ag.ones(2, 3), ag.ones(3), ag.ones(4)
    with pytest.raises(RuntimeError, match="outer: Expected 1-D argument self, but got 2-D"):
        ag.outer(m, v)
    with pytest.raises(RuntimeError, match="outer: Expected 1-D argument vec2, but got 2-D"):
        v.outer(m)
    with pytest.raises(RuntimeError, match="1D tensors expected, but got 2D and 1D tensors"):
        ag.dot(m, v)
    with pytest.raises(RuntimeError, match=r"expected tensor \[3\] and src \[4\] .* got 3 and 4 elements"):
        ag.dot(v, w)
    with pytest.raises(RuntimeError, match="same dtype, but found Float and Double"):
        ag.dot(v, v.double())
    with pytest.raises(RuntimeError, match="Supports 1D or 2D tensors. Got 3D"):
        ag.diag(ag.ones(2, 2, 2))
    with pytest.raises(RuntimeError, match="expected BoolTensor for mask"):
        ag.masked_select(m, ag.tensor([1, 0, 1]))
    with pytest.raises(
        RuntimeError, match=r"size of tensor a \(3\) must match the size of tensor b \(4\) at non-singleton dimension 1"
    ):
        ag.masked_select(m, ag.ones(4, dtype=ag.bool_))
    with pytest.raises(RuntimeError, match="vstack expects a non-empty TensorList"):
        ag.vstack([])
    with pytest.raises(TypeError, match="must be tuple of Tensors, not Tensor"):
        ag.hstack(m)
    with pytest.raises(IndexError, match=r"amax\(\): Expected reduction dim 0 to have non-zero size"):
        ag.amax(ag.ones(0, 2), 0)
    assert ag.amax(ag.ones(0, 2), 1).shape == (0,) and ag.amin(ag.ones(2, 0), 0, keepdim=True).shape == (1, 0)
    with pytest.raises(TypeError, match="missing 1 required positional argument: 'dim'"):
        ag.logsumexp(m)  # (Python's words: PyTorch's own say "arguments")
    with pytest.raises(
        RuntimeError, match="subscript j has size 2 for operand 1 which does not broadcast with previously seen size 3"
    ):
        ag.einsum("ij,jk->ik", m, m)
    with pytest.raises(RuntimeError, match="more operands were provided than specified"):
        ag.einsum("ij->", m, m)
    with pytest.raises(RuntimeError, match="fewer operands were provided than specified"):
        ag.einsum("ij,jk->ik", m)
    with pytest.raises(RuntimeError, match="output subscript k does not appear in the equation for any input operand"):
        ag.einsum("ij->ik", m)
    with pytest.raises(RuntimeError, match="output subscript i appears more than once"):
        ag.einsum("ij->ii", m)
    with pytest.raises(
        RuntimeError, match=r"number of subscripts in the equation \(2\) does not match .* \(1\) for operand 0"
    ):
        ag.einsum("ij->i", v)
    with pytest.raises(RuntimeError, match=r"invalid subscript given at index 1"):
        ag.einsum("i1->i", m)
    with pytest.raises(RuntimeError, match="Expected 0D or 1D tensor in the tensor list"):
        ag.meshgrid(m, indexing="ij")
    with pytest.raises(RuntimeError, match="meshgrid expects all tensors to have the same dtype"):
        ag.meshgrid(v, ag.arange(2), indexing="ij")
    with pytest.raises(RuntimeError, match='indexing must be one of "xy" or "ij", but received: foo'):
        ag.meshgrid(v, indexing="foo")
    with pytest.warns(UserWarning, match="required to pass the indexing argument"):
        assert ag.meshgrid(v, w)[0].shape == (3, 4)
    with pytest.raises(RuntimeError, match=r"repeats.size\(0\) = 2 and input.size\(0\) = 3"):
        ag.repeat_interleave(v, ag.tensor([1, 2]), dim=0)
    with pytest.raises(RuntimeError, match="Repeats must be non-negative"):
        v.repeat_interleave(-1)
    with pytest.raises(NotImplementedError, match="repeat_interleave_cpu"):
        ag.repeat_interleave(v, v)
    with pytest.raises(RuntimeError, match="bincount only supports 1-d non-negative integral inputs"):
        ag.bincount(ag.tensor([-1]))
    with pytest.raises(RuntimeError, match="bincount only supports 1-d non-negative integral inputs"):
        ag.bincount(ag.ones(2, 2, dtype=ag.int64))
    with pytest.raises(NotImplementedError, match="bincount_cpu"):
        ag.bincount(v)
    with pytest.raises(RuntimeError, match="subscript i is repeated for operand 0 but the sizes don't match, 3 != 2"):
        ag.einsum("ii->i", m)
    with pytest.raises(RuntimeError, match="found '.' for operand 0 that is not part of any ellipsis"):
        ag.einsum("..i.->i", m)
    with pytest.raises(
        RuntimeError, match=r"subscripts in the equation \(3\) is more than the number of dimensions \(2\)"
    ):
        ag.einsum("ij...k->i", m)


@pytest.mark.parametrize(
    "equation, shapes",
    [
        ("ij,jk->ik", [(2, 3), (3, 4)]),
        ("iij->ji", [(3, 3, 2)]),
        ("ij->", [(2, 3)]),
        ("i,i->", [(4,)] * 2),
        ("...j,jk->...k", [(2, 1, 3), (3, 2)]),
        ("bi,bi->b", [(3, 4), (1, 4)]),
        ("ij,jk,kl->il", [(2, 3), (3, 2), (2, 2)]),
    ],
)
def test_einsum_second_derivatives(equation, shapes):
    """einsum's backward is itself einsums (with identities for diagonals and ones for summed-away
    letters), so its gradient can be differentiated again."""
    rng = np.random.default_rng(len(equation))
    inputs = [ag.tensor(rng.standard_normal(s), requires_grad=True) for s in shapes]
    assert ag.gradgradcheck(lambda *xs: ag.einsum(equation, *xs), inputs)


def test_diag_second_derivatives():
    rng = np.random.default_rng(3)
    assert ag.gradgradcheck(lambda m: ag.diag(m, 1), [ag.tensor(rng.standard_normal((3, 4)), requires_grad=True)])
    assert ag.gradgradcheck(lambda v: ag.diag(v, -2) * 3, [ag.tensor(rng.standard_normal(3), requires_grad=True)])


def test_einsum_of_one_operand_is_a_copy():
    """numpy's einsum returns a view for "ij->ij" and "ii->i"; PyTorch's result is a new tensor
    here too, so writing to it leaves the operand as it was."""
    m = ag.tensor([[1.0, 2.0], [3.0, 4.0]])
    for equation in ("ij->ij", "ij", "ii->i", "ij->ji"):
        y = ag.einsum(equation, m)
        y.add_(10)
        assert m.tolist() == [[1.0, 2.0], [3.0, 4.0]], equation
