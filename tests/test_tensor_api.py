"""Tensor creation, dtypes, attributes, repr, comparisons and the errors users hit first."""

import numpy as np
import pytest

import autograd


def test_default_dtypes_follow_pytorch():
    assert autograd.tensor([1.0, 2.0]).dtype == np.float32
    assert autograd.tensor(1.5).dtype == np.float32
    assert autograd.tensor(np.array([1.0, 2.0])).dtype == np.float64  # float64 data stays
    assert autograd.tensor(np.array([1.0], np.float32)).dtype == np.float32
    assert autograd.tensor([1, 2]).dtype == np.int64
    assert autograd.tensor([True]).dtype == np.bool_
    assert autograd.tensor([1, 2], dtype=autograd.float64).dtype == np.float64
    assert autograd.tensor([1, 2], dtype="float32").dtype == np.float32


def test_tensor_copies_numpy_data():
    a = np.array([1.0, 2.0])
    t = autograd.tensor(a)
    a[0] = 100
    assert t._data[0] == 1.0


def test_factories():
    assert autograd.zeros(2, 3).shape == (2, 3) and autograd.zeros((2, 3)).dtype == np.float32
    assert autograd.ones(4)._data.sum() == 4
    assert autograd.full((2,), 7).dtype == np.int64 and autograd.full((2,), 7.0).dtype == np.float32
    np.testing.assert_array_equal(autograd.eye(2)._data, np.eye(2))
    assert autograd.arange(5).dtype == np.int64 and autograd.arange(0, 1, 0.5).dtype == np.float32
    np.testing.assert_array_equal(autograd.arange(1, 7, 2)._data, [1, 3, 5])
    x = autograd.randn(3, 2, dtype=autograd.float64, requires_grad=True)
    assert x.dtype == np.float64 and x.requires_grad and x.is_leaf
    assert autograd.zeros_like(x).dtype == np.float64 and autograd.ones_like(x).shape == (3, 2)
    assert autograd.randn_like(x).shape == (3, 2)
    r = autograd.rand(1000)
    assert 0 <= r._data.min() and r._data.max() < 1
    assert autograd.randint(0, 3, (10,))._data.max() < 3
    with pytest.raises(ValueError, match="non-negative"):
        autograd.zeros(-1)


def test_manual_seed_reproduces():
    autograd.manual_seed(123)
    a, b = autograd.randn(5), autograd.rand(3)
    autograd.manual_seed(123)
    np.testing.assert_array_equal(a._data, autograd.randn(5)._data)
    np.testing.assert_array_equal(b._data, autograd.rand(3)._data)


def test_attributes():
    x = autograd.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
    assert x.shape == (2, 3) and x.ndim == 2 and x.dim() == 2 and x.numel() == 6 and x.size(1) == 3
    assert x.T.shape == (3, 2) and x.mT.shape == (3, 2)
    assert x.grad is None and x.grad_fn is None and x.is_leaf
    y = x * 2
    assert not y.is_leaf and y.requires_grad
    d = y.detach()
    assert d.is_leaf and not d.requires_grad and np.shares_memory(d._data, y._data)
    assert np.asarray(x) is x._data
    assert np.asarray(x, dtype=np.float64).dtype == np.float64
    assert x[1, 2].item() == 6.0 and float(x[0, 0]) == 1.0
    assert len(x) == 2 and [r.shape for r in x] == [(3,), (3,)]
    assert x.tolist() == [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]


def test_numpy_refuses_tensor_that_requires_grad():
    x = autograd.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"detach\(\).numpy\(\)"):
        x.numpy()
    assert x.detach().numpy().shape == (2,)


def test_item_needs_one_element():
    with pytest.raises(ValueError, match="one element"):
        autograd.ones(2).item()


def test_bool_of_many_elements_is_ambiguous():
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(autograd.ones(2))
    assert bool(autograd.ones(1))


def test_repr_like_pytorch():
    assert repr(autograd.tensor([1.0, 2.0], requires_grad=True)) == "tensor([1., 2.], requires_grad=True)"
    assert repr(autograd.tensor([1.0, 2.0]) * 1) == "tensor([1., 2.])"
    x = autograd.tensor([1.0], requires_grad=True)
    assert repr(x * 2) == "tensor([2.], grad_fn=<MulBackward>)"
    assert repr(autograd.tensor(0.5, dtype=autograd.float64)) == "tensor(0.5, dtype=autograd.float64)"
    assert repr(autograd.tensor([1, 2])) == "tensor([1, 2])"


def test_operators_with_numbers_and_arrays():
    x = autograd.tensor([1.0, 2.0])
    assert (x + 1).dtype == np.float32 and (2 * x).dtype == np.float32
    np.testing.assert_array_equal((1 - x)._data, [0.0, -1.0])
    np.testing.assert_array_equal((2 / x)._data, [2.0, 1.0])
    np.testing.assert_array_equal((2**x)._data, [2.0, 4.0])
    y = np.array([10.0, 20.0], dtype=np.float32) * x  # numpy defers to the Tensor
    assert isinstance(y, autograd.Tensor)
    np.testing.assert_array_equal(y._data, [10.0, 40.0])
    assert (autograd.tensor([1, 2]) * 1.5).dtype == np.float32  # int tensor with a float: float32
    assert (autograd.tensor([3, 4]) / autograd.tensor([2, 2])).dtype == np.float32


def test_comparisons_return_bool_tensors_without_grad():
    x = autograd.tensor([1.0, 2.0, 3.0], requires_grad=True)
    for mask in (x > 1.5, x >= 2, x < 2, x <= 1, x == 2, x != 2):
        assert mask.dtype == np.bool_ and not mask.requires_grad
    np.testing.assert_array_equal((x > 1.5)._data, [False, True, True])
    np.testing.assert_array_equal(((x > 1) & (x < 3))._data, [False, True, False])
    np.testing.assert_array_equal((~(x > 1))._data, [True, False, False])


def test_tensors_are_hashable_by_identity():
    a, b = autograd.ones(1), autograd.ones(1)
    assert len({a, b}) == 2


def test_requires_grad_on_non_leaf_is_an_error():
    y = autograd.ones(2, requires_grad=True) * 2
    with pytest.raises(RuntimeError, match="leaf"):
        y.requires_grad_(False)


def test_casts():
    x = autograd.tensor([1.5, 2.5], requires_grad=True)
    y = x.double()
    assert y.dtype == np.float64 and y.requires_grad
    y.sum().backward()
    assert x.grad.dtype == np.float32
    assert x.detach().long().dtype == np.int64
    assert x.to(autograd.float32) is x


def test_shape_errors_are_clear():
    x = autograd.ones(2, 3)
    with pytest.raises(ValueError, match=r"shape \(4, 2\) is invalid for a tensor of shape \(2, 3\)"):
        x.reshape(4, 2)
    with pytest.raises(ValueError, match=r"matmul shapes \(2, 3\) and \(2, 3\) do not match"):
        x @ x
    with pytest.raises(IndexError, match="Dimension out of range"):
        x.sum(dim=2)
    with pytest.raises(ValueError, match="expand"):
        x.expand(4, 3)
    with pytest.raises(ValueError, match="permute"):
        x.permute(0, 0)
    with pytest.raises(ValueError, match="cat"):
        autograd.cat([x, autograd.ones(3, 3)], dim=1)
    with pytest.raises(TypeError, match="dim"):
        autograd.softmax(x, None)
    with pytest.raises(RuntimeError, match="reshape"):
        x.T.view(6)


def test_broadcasting_mismatch_is_an_error():
    with pytest.raises(ValueError):
        autograd.ones(2, 3) + autograd.ones(4)


def test_max_min_with_dim_return_values_and_indices():
    x = autograd.tensor([[1.0, 5.0, 3.0], [7.0, 0.0, 2.0]])
    values, indices = x.max(dim=1)
    np.testing.assert_array_equal(values._data, [5.0, 7.0])
    np.testing.assert_array_equal(indices._data, [1, 0])
    m = x.min(dim=0, keepdim=True)
    assert m.values.shape == (1, 3) and m.indices.dtype == np.int64
    assert x.max().item() == 7.0 and x.argmax().item() == 3


def test_var_is_unbiased_by_default():
    x = autograd.tensor([1.0, 2.0, 3.0, 4.0])
    assert x.var().item() == pytest.approx(np.var([1, 2, 3, 4], ddof=1))
    assert x.var(unbiased=False).item() == pytest.approx(np.var([1, 2, 3, 4]))


def test_functions_mirror_methods():
    x = autograd.tensor([[-1.0, 2.0], [3.0, -4.0]])
    np.testing.assert_array_equal(autograd.relu(x)._data, x.relu()._data)
    np.testing.assert_array_equal(autograd.where(x > 0, x, 0.0)._data, [[0, 2], [3, 0]])
    np.testing.assert_array_equal(autograd.stack([x, x]).shape, (2, 2, 2))
    np.testing.assert_array_equal(autograd.cat([x, x], dim=1).shape, (2, 4))
    np.testing.assert_array_equal(autograd.pad(x, (1, 1)).shape, (2, 4))
    np.testing.assert_array_equal(autograd.clamp(x, min=0)._data, [[0, 2], [3, 0]])
    assert autograd.matmul(x, x).shape == (2, 2)
    np.testing.assert_allclose(autograd.softmax(x, dim=1)._data.sum(1), [1, 1], rtol=1e-6)


# ---------------------------------------------------------------- regressions found in review


def test_leaf_grads_after_create_graph_are_private_and_writable():
    a = autograd.tensor([1.0, 2.0], requires_grad=True)
    b = autograd.tensor([3.0, 4.0], requires_grad=True)
    (a + b).sum().backward(create_graph=True)
    assert a.grad is not b.grad
    (a * 2).sum().backward()  # first-order accumulation on top
    np.testing.assert_array_equal(a.grad._data, [3.0, 3.0])
    np.testing.assert_array_equal(b.grad._data, [1.0, 1.0])


def test_inplace_ops_refuse_to_truncate():
    t = autograd.tensor([1, 2, 3])
    with pytest.raises(RuntimeError, match="result type float64 can't be cast to the desired output type int64"):
        t.add_(1.5)  # PyTorch: "result type Float can't be cast to the desired output type Long"
    np.testing.assert_array_equal(t._data, [1, 2, 3])  # unchanged


def test_accumulating_a_loss_into_a_plain_tensor():
    w = autograd.tensor([1.0, 2.0], requires_grad=True)
    total = autograd.zeros(())
    for k in range(3):
        total += (w * k).sum()
    total.backward()
    np.testing.assert_array_equal(w.grad._data, [3.0, 3.0])


def test_integer_copy_of_a_tensor_that_requires_grad():
    w = autograd.tensor([1.7, 2.2], requires_grad=True)
    idx = w.long()
    assert idx.dtype == np.int64 and not idx.requires_grad
    np.testing.assert_array_equal(idx._data, [1, 2])


def test_cat_promotes_integers_to_the_float_dtype():
    assert autograd.cat([autograd.ones(2), autograd.tensor([1, 2])]).dtype == np.float32


def test_max_with_nan_routes_gradient_to_the_nan():
    x = autograd.tensor([1.0, float("nan"), 3.0], requires_grad=True)
    x.max().backward()
    np.testing.assert_array_equal(x.grad._data, [0.0, 1.0, 0.0])


NAN_PROGRAMS = {  # written once for both libraries
    "maximum": lambda lib, x, y: lib.maximum(x, y),
    "minimum": lambda lib, x, y: lib.minimum(x, y),
    "relu": lambda lib, x, y: lib.relu(x) + y,
    "abs": lambda lib, x, y: lib.abs(x) + y,
    "clamp": lambda lib, x, y: x.clamp(-0.5, 0.5) + y,
}


def _nan_gradients(lib, name, xs, ys):
    """The gradients of sum(program(x, y)) with respect to x and y."""
    x, y = lib.tensor(xs, requires_grad=True), lib.tensor(ys, requires_grad=True)
    NAN_PROGRAMS[name](lib, x, y).sum().backward()
    return x.grad.detach().numpy(), y.grad.detach().numpy()


@pytest.mark.parametrize("name", list(NAN_PROGRAMS))
def test_nan_inputs_get_pytorchs_gradients(oracle, name):
    nan = float("nan")
    xs, ys = np.array([nan, 1.0, nan, 2.0, -1.0, 0.0]), np.array([1.0, nan, nan, 2.0, 3.0, 0.0])
    ours = _nan_gradients(autograd, name, xs, ys)
    theirs = oracle(_nan_gradients, name, xs, ys)
    np.testing.assert_array_equal(ours[0], theirs[0])
    np.testing.assert_array_equal(ours[1], theirs[1])


def test_masked_gradients_stay_zero_with_infinite_upstream():
    x = autograd.tensor([[[[1.0, 5.0], [2.0, 3.0]]]], requires_grad=True)
    autograd.max_pool2d(x, 2).backward(autograd.tensor([[[[float("inf")]]]]))
    np.testing.assert_array_equal(x.grad._data, [[[[0.0, np.inf], [0.0, 0.0]]]])
    y = autograd.tensor([1.0, 4.0], requires_grad=True)
    autograd.maximum(y, autograd.tensor([2.0, 2.0])).backward(autograd.tensor([np.inf, np.inf]))
    np.testing.assert_array_equal(y.grad._data, [0.0, np.inf])


def test_matmul_and_conv_need_one_dtype():
    with pytest.raises(TypeError, match="one dtype"):
        autograd.ones(2, 2) @ autograd.ones(2, 2, dtype=autograd.float64)
    with pytest.raises(TypeError, match="one dtype"):
        autograd.conv2d(autograd.ones(1, 1, 4, 4), autograd.ones(1, 1, 3, 3, dtype=autograd.float64))


def test_set_grad_enabled_as_a_plain_call():
    try:
        autograd.set_grad_enabled(False)
        assert not autograd.is_grad_enabled()
    finally:
        autograd.set_grad_enabled(True)
    assert autograd.is_grad_enabled()


def test_sum_over_empty_dims_reduces_everything():
    assert autograd.ones(2, 3).sum(dim=()).shape == ()
    for empty in ((), []):
        assert autograd.ones(2, 3).sum(dim=empty).item() == 6.0
        assert autograd.ones(2, 3).mean(dim=empty).shape == autograd.ones(2, 3).var(dim=empty).shape == ()


def test_integer_and_bool_sums_are_int64(oracle):
    dtypes = (np.uint8, np.int8, np.int32, np.bool_)
    arrays = [np.array([1, 0, 1], dtype) for dtype in dtypes]
    theirs = oracle(lambda torch, arrays: [torch.tensor(values).sum().dtype for values in arrays], arrays)
    for values, their_dtype in zip(arrays, theirs):
        assert autograd.tensor(values).sum().dtype == np.int64 == np.dtype(their_dtype)
    assert autograd.tensor(np.array([200, 100], np.uint8)).sum().item() == 300  # no wrap-around


@pytest.mark.parametrize(
    "big, small, expected",
    [
        ((3,), np.float64, np.float32),  # a 0-d tensor of the same kind takes the other's dtype
        ((3,), np.float32, np.float32),
        ((), np.float64, np.float64),  # both 0-d: the wider one
        ((3,), np.int64, None),  # int64 0-d with an int32 vector below: int32
    ],
)
def test_zero_dim_tensors_do_not_widen_the_dtype(oracle, big, small, expected):
    base = np.ones(big, np.float32)
    if expected is None:
        base, expected = np.ones(big, np.int32), np.int32
    scalar = np.array(2, small)
    ops = (  # written once for both libraries
        lambda lib, a, b: a + b,
        lambda lib, a, b: a * b,
        lambda lib, a, b: b - a,
        lambda lib, a, b: lib.maximum(a, b),
    )

    def dtypes(lib, base, scalar):
        return [op(lib, lib.tensor(base), lib.tensor(scalar)).dtype for op in ops]

    theirs = oracle(dtypes, base, scalar)
    assert len(theirs) == len(ops)
    for op, their_dtype in zip(ops, theirs):
        ours = op(autograd, autograd.tensor(base), autograd.tensor(scalar))
        assert ours.dtype == expected and their_dtype == str(np.dtype(expected))
        with autograd.no_grad():
            assert op(autograd, autograd.tensor(base), autograd.tensor(scalar)).dtype == expected


def test_float32_code_with_a_float64_constant_stays_float32():
    """The knock-on case: a float64 0-d constant must not turn a float32 layer into float64."""
    x = autograd.ones(2, 3, requires_grad=True)
    c = autograd.tensor(np.sqrt(2.0), dtype=autograd.float64, requires_grad=True)
    y = (x * c) @ autograd.ones(3, 4)
    y.sum().backward()
    assert y.dtype == x.grad.dtype == np.float32 and c.grad.dtype == np.float64
    assert c.grad.item() == pytest.approx(24.0)
    assert (autograd.ones(3, dtype=autograd.int32) + autograd.tensor(1.5, dtype=autograd.float64)).dtype == np.float64


def test_indexing_one_element_is_a_view_as_in_torch():
    x = autograd.tensor([1.0, 2.0, 3.0])
    first = x[0]
    x[0] = 5.0
    x[2].fill_(7.0)
    assert first.item() == 5.0 and x.tolist() == [5.0, 2.0, 7.0]
    m = autograd.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    m[1, 0].backward()
    assert m.grad.tolist() == [[0.0, 0.0], [1.0, 0.0]]


def test_argmax_keepdim_without_dim(oracle):
    values = np.arange(6.0).reshape(2, 3)

    def shapes_and_items(torch, values):
        found = {}
        for fn in ("argmax", "argmin"):
            out = getattr(torch.tensor(values), fn)(keepdim=True)
            found[fn] = (out.shape, out.item())
        return found

    theirs = oracle(shapes_and_items, values)
    for fn in ("argmax", "argmin"):
        ours = getattr(autograd.tensor(values), fn)(keepdim=True)
        their_shape, their_item = theirs[fn]
        assert ours.shape == tuple(their_shape) == (1, 1) and ours.item() == their_item


def test_softmax_over_an_empty_dimension():
    for fn in (autograd.softmax, autograd.log_softmax):
        assert fn(autograd.ones(0, 3), 0).shape == (0, 3) and fn(autograd.ones(0, 3), 1).shape == (0, 3)


def test_permute_rejects_dims_out_of_range():
    for dims in ((0, 3), (-3, 0)):
        with pytest.raises(IndexError, match="Dimension out of range"):
            autograd.zeros(2, 3).permute(*dims)


def test_builtin_abs():
    x = autograd.tensor([-2.0, 3.0], requires_grad=True)
    abs(x).sum().backward()
    assert abs(x).tolist() == [2.0, 3.0] and x.grad.tolist() == [-1.0, 1.0]


def test_requires_grad_on_a_computed_tensor():
    y = autograd.tensor([1.0], requires_grad=True) * 2
    assert y.requires_grad_() is y and y.requires_grad  # a no-op, as in PyTorch
    with pytest.raises(RuntimeError, match="detach"):
        y.requires_grad_(False)


def test_factories_like_torch():
    autograd.manual_seed(3)
    a = autograd.randint(5, (200,))  # randint(high, size)
    b = autograd.randint(2, 4, (200,))  # randint(low, high, size)
    with pytest.raises(TypeError, match="needs a size"):
        autograd.randint(3, 10)
    assert a.dtype == b.dtype == np.int64 and set(a.tolist()) == set(range(5)) and set(b.tolist()) == {2, 3}
    like = autograd.ones(2, 3, dtype=autograd.float64)
    assert autograd.full_like(like, 7).tolist() == [[7.0] * 3] * 2 and autograd.full_like(like, 7).dtype == np.float64
    r = autograd.rand_like(like, requires_grad=True)
    assert r.shape == (2, 3) and r.dtype == np.float64 and r.requires_grad and 0 <= r._data.min() < r._data.max() < 1


def test_torch_namespaces_resolve_to_the_same_objects():
    import nn

    assert autograd.autograd.Function is autograd.Function and autograd.autograd.grad is autograd.grad
    assert autograd.nn is nn and autograd.optim is nn.optim
    assert autograd.testing.shapes is not None  # no separate import needed
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        autograd.nope  # noqa: B018


def test_factories_and_shapes_refuse_what_torch_refuses():
    with pytest.raises(TypeError, match="dtype must be a floating-point"):
        autograd.rand(5, dtype=autograd.int64)
    with pytest.raises(TypeError, match="dtype must be a floating-point"):
        autograd.randn(5, dtype=bool)
    with pytest.raises(TypeError, match="unsupported dtype"):
        autograd.tensor(["a"], dtype=str)
    with pytest.raises(TypeError, match="unsupported dtype"):
        autograd.zeros(2, dtype=object)
    with pytest.raises(ValueError, match="one number as fill_value"):
        autograd.full((2, 3), [1.0, 2.0, 3.0])
    x = autograd.randn(2, 3)
    for fn in (autograd.cat, autograd.stack):
        with pytest.raises(TypeError, match="list or tuple of Tensors"):
            fn(x)
    for call in (lambda: x.reshape(2.9, 3), lambda: x.expand(2.7, 3)):
        with pytest.raises(TypeError, match="sizes must be ints"):
            call()
    for call in (lambda: x.sum(1.0), lambda: x.mean((0, 1.5))):
        with pytest.raises(TypeError, match="dim must be an int or a tuple of ints"):
            call()


def test_a_hook_may_not_change_the_gradients_shape():
    w = autograd.ones(3, requires_grad=True)
    w.register_hook(lambda g: autograd.ones(2, 3))
    with pytest.raises(RuntimeError, match=r"returned a gradient of shape \(2, 3\) for a tensor of shape \(3,\)"):
        (w * 2).sum().backward()
    y = autograd.ones(3, requires_grad=True) + 1
    y.register_hook(lambda g: g.sum(0, keepdim=True))
    with pytest.raises(RuntimeError, match="not its shape"):
        y.sum().backward()
    with pytest.raises(TypeError, match="function of the gradient"):
        autograd.ones(1, requires_grad=True).register_hook(5)


@pytest.mark.parametrize(
    "index",
    [
        (0, slice(None), [0, 1]),
        (0, None, [0, 1]),
        ([0, 1], 0, [0, 1]),
        (slice(None), [0, 1], 0, [1, 2]),
        (1, slice(None), np.array([True, False, True, True])),
        (0, slice(1, 3), [[0, 1], [1, 1]]),
        (Ellipsis, 0, [0, 1]),
        (0, np.array(1), slice(None), [0, 1]),  # a 0-d integer array (a tensor index) counts as an int
    ],
)
def test_integers_among_array_indices_select_first_as_in_torch(oracle, index):
    """numpy moves the dimensions of x[0, :, [0, 1]] to the front; PyTorch selects the integer
    first. Values, gradients and assignment follow PyTorch."""
    base = np.arange(120.0).reshape(2, 3, 4, 5)

    def select(lib, base, index):
        y = lib.tensor(base)[index]
        return y.shape, y.numpy()

    def backward_and_assign(lib, base, index, weights):
        x = lib.tensor(base, requires_grad=True)
        (x[index] * lib.tensor(weights)).sum().backward()
        z = lib.tensor(base)
        z[index] = lib.tensor(weights)
        return x.grad.numpy(), z.numpy()

    x = autograd.tensor(base, requires_grad=True)
    y = x[index]
    their_shape, their_values = oracle(select, base, index)
    assert y.shape == tuple(their_shape)
    np.testing.assert_array_equal(y._data, their_values)
    weights = np.random.default_rng(0).standard_normal(y.shape)
    (y * autograd.tensor(weights)).sum().backward()
    their_grad, their_assigned = oracle(backward_and_assign, base, index, weights)
    np.testing.assert_array_equal(x.grad._data, their_grad)
    z = autograd.tensor(base)
    z[index] = weights
    np.testing.assert_array_equal(z._data, their_assigned)


def test_edge_cases_found_by_fuzzing_against_torch():
    x = autograd.tensor(np.arange(24.0).reshape(2, 3, 4))
    assert x[[]].shape == (0, 3, 4)  # an empty index list
    assert x.permute(2, 0, 1).sum(1).view(-1).shape == (12,)  # reductions come out contiguous
    assert x.transpose(0, 1).softmax(-1).view(-1).shape == (24,)
    assert autograd.cat([x.mT, x.mT]).view(-1).shape == (48,)
    assert x[:, :, [2, 0, 1]].view(-1).shape == (18,)
    mask = autograd.tensor(np.array([True, False]))
    assert autograd.where(mask, 1, 2.5).dtype == np.float32  # Python numbers: the default float
    t = autograd.tensor([1.0, 2.0], requires_grad=True)
    same = t.reshape(2)
    assert same is not t and autograd.grad((t * 3).sum(), same, allow_unused=True) == (None,)
    empty = autograd.zeros(0, 1, 4, 5, requires_grad=True)
    out = autograd.conv2d(empty, autograd.ones(2, 1, 2, 3))
    out.sum().backward()
    assert out.shape == (0, 2, 3, 3) and empty.grad.shape == (0, 1, 4, 5)
    wide = autograd.zeros(1, 1, 1, 60000)  # no (out x in) matrices: memory stays linear
    assert autograd.avg_pool2d(wide, (1, 2)).shape == autograd.adaptive_avg_pool2d(wide, (1, 30000)).shape
