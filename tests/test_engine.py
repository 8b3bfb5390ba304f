"""The engine's contract: traversal, accumulation, graph freeing, errors, hooks, grad modes."""

import gc
import threading
import weakref

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd
from autograd import Function, Scalar
from autograd.engine import run_backward


def leaf(values, dtype=autograd.float64):
    return autograd.tensor(values, dtype=dtype, requires_grad=True)


# ---------------------------------------------------------------- traversal


def test_input_used_twice_accumulates():
    a = leaf([1.0, 2.0])
    (a + a).sum().backward()
    np.testing.assert_array_equal(a.grad._data, [2.0, 2.0])
    b = leaf(3.0)
    (b * b).backward()
    assert b.grad.item() == 6.0


def test_diamond_graph():
    # x -> (y1 = 2x, y2 = x^2) -> z = y1 * y2 = 2x^3 ; dz/dx = 6x^2
    x = leaf(1.5)
    y1, y2 = x * 2, x**2
    (y1 * y2).backward()
    assert x.grad.item() == pytest.approx(6 * 1.5**2)


def test_deep_chain_has_no_recursion_limit_and_is_linear():
    x = leaf(1.0)
    y = x
    for _ in range(100_000):
        y = y * 1.0
    y.backward()
    assert x.grad.item() == 1.0
    s = Scalar(2.0)
    z = s
    for _ in range(100_000):
        z = z + 1.0
    z.backward()
    assert s.grad == 1.0


def test_leaf_gradients_accumulate_across_backward_calls():
    x = leaf([1.0, -1.0])
    for _ in range(3):
        (x * 3).sum().backward()
    np.testing.assert_array_equal(x.grad._data, [9.0, 9.0])
    x.grad = None
    (x * 3).sum().backward()
    np.testing.assert_array_equal(x.grad._data, [3.0, 3.0])


def test_grad_has_leaf_shape_and_dtype():
    x = autograd.randn(3, 4, requires_grad=True)
    (x * autograd.tensor(2.0, dtype=autograd.float64)).sum().backward()
    assert x.grad.shape == (3, 4) and x.grad.dtype == np.float32


def test_shared_gradient_objects_are_not_aliased():
    # Add passes the same gradient to both inputs; their .grad must be independent.
    a, b = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    (a + b).sum().backward()
    a.grad.zero_()
    np.testing.assert_array_equal(b.grad._data, [1.0, 1.0])


def test_non_leaf_grad_not_kept_unless_retained():
    x = leaf([1.0, 2.0])
    y = x * 2
    z = y * 3
    y.retain_grad()
    z.sum().backward()
    np.testing.assert_array_equal(y.grad._data, [3.0, 3.0])
    assert z.grad is None
    assert y.retains_grad and not z.retains_grad


def test_backward_from_a_leaf():
    x = leaf(2.0)
    x.backward()
    assert x.grad.item() == 1.0


# ---------------------------------------------------------------- freeing the graph


def test_second_backward_through_freed_graph_raises():
    x = leaf([1.0, 2.0])
    y = (x.exp() * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        y.backward()


def test_second_backward_through_ops_that_saved_nothing_works():
    """As in PyTorch: only saved tensors are freed, so a graph of + and sum runs twice."""
    x = leaf([1.0, 2.0])
    y = (x + 1).sum()
    y.backward()
    y.backward()
    assert x.grad.tolist() == [2.0, 2.0]


def test_retain_graph_allows_second_backward():
    x = leaf([1.0, 2.0])
    y = (x.exp() * x).sum()
    y.backward(retain_graph=True)
    first = x.grad._data.copy()
    y.backward()
    np.testing.assert_allclose(x.grad._data, 2 * first)


def test_saved_arrays_released_after_backward():
    x = autograd.randn(50, 50, requires_grad=True)
    h = x.sigmoid()
    watch = weakref.ref(h._data)  # sigmoid saved its output array
    loss = (h @ x).tanh().sum()
    del h
    gc.collect()
    assert watch() is not None  # still needed: the graph holds it
    loss.backward()
    gc.collect()
    assert watch() is None  # freed after backward, although `loss` (and its grad_fn) live on
    assert loss.grad_fn is not None


def test_saved_arrays_kept_with_retain_graph():
    x = autograd.randn(5, requires_grad=True)
    h = x.exp()
    watch = weakref.ref(h._data)
    loss = h.sum() * 2
    del h
    loss.backward(retain_graph=True)
    gc.collect()
    assert watch() is not None


def test_graph_without_backward_is_freed_by_refcount():
    x = autograd.randn(20, requires_grad=True)
    y = x.sigmoid().exp().tanh()
    watch = weakref.ref(y.grad_fn)
    gc.disable()
    try:
        del y
        assert watch() is None  # no reference cycles: freed at once, without the collector
    finally:
        gc.enable()


# ---------------------------------------------------------------- errors


def test_backward_on_non_scalar_needs_gradient():
    x = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match=r"shape \(2,\).*gradient="):
        (x * 2).backward()
    (x * 2).backward(autograd.tensor([1.0, 10.0], dtype=autograd.float64))
    np.testing.assert_array_equal(x.grad._data, [2.0, 20.0])


def test_backward_gradient_shape_checked():
    x = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match="has shape"):
        (x * 2).backward(autograd.tensor([1.0, 2.0, 3.0]))


def test_backward_on_tensor_without_grad():
    x = autograd.tensor([1.0, 2.0])
    with pytest.raises(RuntimeError, match="does not require grad"):
        x.sum().backward()


def test_integer_tensors_cannot_require_grad():
    with pytest.raises(TypeError, match="floating-point"):
        autograd.tensor([1, 2, 3], requires_grad=True)
    with pytest.raises(TypeError, match="floating-point"):
        autograd.arange(3).requires_grad_()
    with pytest.raises(TypeError):
        autograd.tensor([True, False], requires_grad=True)


def test_engine_checks_gradient_shape_and_names_op():
    class BadShape(Function):
        @staticmethod
        def forward(ctx, x):
            return x._data * 2

        @staticmethod
        def backward(ctx, grad):
            return grad.sum()

    x = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match=r"BadShape.backward returned a gradient of shape \(\)"):
        BadShape.apply(x).sum().backward()


def test_engine_checks_gradient_dtype():
    class BadDtype(Function):
        @staticmethod
        def forward(ctx, x):
            return x._data * 2

        @staticmethod
        def backward(ctx, grad):
            return grad.to(autograd.float32)

    x = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match="BadDtype.*dtype float32"):
        BadDtype.apply(x).sum().backward()


# Built-in ops' gradients are checked exactly only with check_every_gradient on (the suite runs
# with it on, see conftest.py); these tests switch it off to check what ordinary use gets.


def _doubling(name, base, backward):
    """An op y = 2x of class ``base`` (a user's Function or a built-in-style Op) with ``backward``."""
    return type(
        name, (base,), {"forward": staticmethod(lambda ctx, x: x._data * 2), "backward": staticmethod(backward)}
    )


def test_a_users_function_is_checked_exactly_in_ordinary_use(monkeypatch):
    monkeypatch.setattr(autograd.engine, "check_every_gradient", False)
    bad_shape = _doubling("BadShape", Function, lambda ctx, grad: grad.sum())
    with pytest.raises(RuntimeError, match=r"BadShape.backward returned a gradient of shape \(\)"):
        (bad_shape.apply(leaf([1.0, 2.0])) * 1.0).sum().backward()


def test_a_builtin_ops_gradient_is_checked_exactly_on_request(monkeypatch):
    wrong_shape = _doubling("WrongShapeOp", autograd.function.Op, lambda ctx, grad: grad.sum(keepdims=True))
    for on in (True, False):
        monkeypatch.setattr(autograd.engine, "check_every_gradient", on)
        x = leaf([1.0, 2.0])
        y = wrong_shape.apply(x) * 1.0
        if on:  # the engine names the op
            with pytest.raises(RuntimeError, match=r"WrongShapeOp.backward returned a gradient of shape \(1,\)"):
                y.sum().backward()
        else:  # the leaf still refuses it, once it has arrived
            with pytest.raises(RuntimeError, match=r"leaf tensor of shape \(2,\) has shape \(1,\)"):
                y.sum().backward()
        assert x.grad is None


def test_a_leaf_whose_data_changed_shape_after_forward_refuses_its_gradient(monkeypatch):
    for on in (True, False):
        monkeypatch.setattr(autograd.engine, "check_every_gradient", on)
        w = leaf([[1.0, 2.0], [3.0, 4.0]])
        loss = (autograd.ones(3, 2, dtype=autograd.float64) @ w).sum()
        w.data = autograd.zeros(3, dtype=autograd.float64)
        with pytest.raises(RuntimeError, match=r"shape \(3,\)"):
            loss.backward()
        assert w.grad is None


def test_builtin_ops_gradients_stay_arrays_without_the_exact_check(monkeypatch):
    # a number (numpy's 0-d results are numpy scalars) becomes an array of the input's dtype
    monkeypatch.setattr(autograd.engine, "check_every_gradient", False)
    number_grad = _doubling("NumberGrad", autograd.function.Op, lambda ctx, grad: float(grad) * 2)
    x = leaf(1.5, autograd.float32)
    (number_grad.apply(x) * 3).backward()
    assert type(x.grad._data) is np.ndarray and x.grad.dtype == autograd.float32
    assert x.grad.item() == 6.0


def test_engine_checks_number_of_gradients():
    class TwoForOne(Function):
        @staticmethod
        def forward(ctx, x):
            return x._data

        @staticmethod
        def backward(ctx, grad):
            return grad, grad

    with pytest.raises(RuntimeError, match="returned 2 gradient"):
        TwoForOne.apply(leaf([1.0])).sum().backward()


def test_inplace_modification_of_saved_tensor_detected():
    a = autograd.tensor([1.0, 2.0], dtype=autograd.float64)
    w = leaf([3.0, 4.0])
    y = (a * w).sum()
    a.mul_(2)
    with pytest.raises(RuntimeError, match=r"MulBackward.*version 1; expected version 0"):
        y.backward()


def test_inplace_on_saved_output_detected():
    x = leaf([0.5, 1.0])
    y = x.exp()
    z = y.sum()
    with autograd.no_grad():
        y.mul_(2)
    with pytest.raises(RuntimeError, match="ExpBackward"):
        z.backward()


def test_inplace_through_a_view_bumps_the_base_version():
    a = autograd.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=autograd.float64)
    w = leaf(2.0)
    y = (a * w).sum()
    a[0].mul_(10)  # a view of a shares its version counter
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        y.backward()


def test_inplace_on_leaf_requiring_grad_is_refused_outside_no_grad():
    w = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match="no_grad"):
        w.add_(1.0)
    with pytest.raises(RuntimeError, match="no_grad"):
        w[0] = 5.0
    with autograd.no_grad():
        w -= 0.5 * autograd.tensor([2.0, 2.0], dtype=autograd.float64)
    assert w.is_leaf and w.requires_grad
    np.testing.assert_array_equal(w._data, [0.0, 1.0])


def test_setitem_and_versions():
    a = autograd.zeros(3)
    assert a._version == 0
    a[1] = 2.0
    a.add_(1.0)
    assert a._version == 2
    np.testing.assert_array_equal(a._data, [1.0, 3.0, 1.0])


def test_augmented_assignment_on_non_leaf_rebinds():
    x = leaf([1.0, 2.0])
    h = x * 2
    h += 1  # h is rebound to h + 1 inside the recorded graph
    h.sum().backward()
    np.testing.assert_array_equal(x.grad._data, [2.0, 2.0])


# ---------------------------------------------------------------- autograd.grad, higher order


def test_grad_does_not_touch_dot_grad():
    x = leaf([1.0, 2.0])
    (g,) = autograd.grad((x**3).sum(), x)
    np.testing.assert_allclose(g._data, [3.0, 12.0])
    assert x.grad is None


def test_grad_second_and_third_derivatives():
    x = leaf(2.0)
    y = x**4
    (g1,) = autograd.grad(y, x, create_graph=True)
    (g2,) = autograd.grad(g1, x, create_graph=True)
    (g3,) = autograd.grad(g2, x)
    assert (g1.item(), g2.item(), g3.item()) == pytest.approx((32.0, 48.0, 48.0))


def test_backward_create_graph_gives_differentiable_grad():
    x = leaf([1.0, 2.0])
    (x.sigmoid().sum()).backward(create_graph=True)
    assert x.grad.requires_grad
    (gg,) = autograd.grad(x.grad.sum(), x)
    s = 1 / (1 + np.exp(-np.array([1.0, 2.0])))
    np.testing.assert_allclose(gg._data, s * (1 - s) * (1 - 2 * s))


def test_grad_allow_unused():
    x, z = leaf(1.0), leaf(2.0)
    y = x * 3
    with pytest.raises(RuntimeError, match="allow_unused=True"):
        autograd.grad(y, [x, z], retain_graph=True)
    gx, gz = autograd.grad(y, [x, z], allow_unused=True)
    assert gx.item() == 3.0 and gz is None


def test_grad_with_respect_to_non_leaf():
    x = leaf([1.0, 2.0])
    h = x * 2
    y = (h**2).sum()
    (gh,) = autograd.grad(y, h)
    np.testing.assert_allclose(gh._data, [4.0, 8.0])


def test_grad_outputs_and_multiple_outputs():
    x = leaf([1.0, 2.0])
    y1, y2 = x * 2, x * 3
    (g,) = autograd.grad(
        [y1, y2], x, [autograd.ones(2, dtype=autograd.float64), autograd.full((2,), 2.0, dtype=autograd.float64)]
    )
    np.testing.assert_allclose(g._data, [8.0, 8.0])


def test_grad_input_not_requiring_grad():
    with pytest.raises(RuntimeError, match="does not require grad"):
        autograd.grad(leaf(1.0) * 2, autograd.tensor(1.0))


# ---------------------------------------------------------------- hooks


def test_hook_on_leaf_can_replace_gradient():
    x = leaf([1.0, 2.0])
    seen = []
    handle = x.register_hook(lambda g: seen.append(g._data.copy()) or g * 10)
    (x * 2).sum().backward()
    np.testing.assert_array_equal(seen[0], [2.0, 2.0])
    np.testing.assert_array_equal(x.grad._data, [20.0, 20.0])
    handle.remove()
    x.grad = None
    (x * 2).sum().backward()
    np.testing.assert_array_equal(x.grad._data, [2.0, 2.0])


def test_hook_on_intermediate_changes_what_flows_upstream():
    x = leaf([1.0, 2.0])
    h = x * 3
    h.register_hook(lambda g: g * 0)
    (h * h).sum().backward()
    np.testing.assert_array_equal(x.grad._data, [0.0, 0.0])


# ---------------------------------------------------------------- grad modes


def test_no_grad_context_and_decorator():
    x = leaf([1.0])
    with autograd.no_grad():
        y = x * 2
        with autograd.enable_grad():
            z = x * 2
    assert not y.requires_grad and y.grad_fn is None
    assert z.requires_grad

    @autograd.no_grad()
    def f(t):
        return t * 2

    @autograd.no_grad  # bare, as PyTorch allows
    def g(t):
        return t * 2

    @autograd.enable_grad
    def h(t):
        return t * 2

    assert not f(x).requires_grad and not g(x).requires_grad and g.__name__ == "g"
    with autograd.no_grad():
        assert h(x).requires_grad
    assert autograd.is_grad_enabled()


def test_no_grad_decorates_every_step_of_a_generator():
    x = leaf([1.0])

    @autograd.no_grad()
    def steps(n):
        for _ in range(n):
            received = yield x * 2
            assert received is None or received == "sent"
        return "done"

    outputs = []
    gen = steps(3)
    outputs.append(next(gen))
    assert (x * 2).requires_grad  # the caller's code between steps records as usual
    outputs.append(gen.send("sent"))
    with pytest.raises(ValueError, match="thrown"):
        gen.throw(ValueError("thrown"))
    assert not any(o.requires_grad for o in outputs) and autograd.is_grad_enabled()

    def outer():
        return (yield from steps(2))

    run = outer()
    assert [o.requires_grad for o in run] == [False, False]
    assert autograd.is_grad_enabled()


def test_set_grad_enabled():
    x = leaf([1.0])
    with autograd.set_grad_enabled(False):
        assert not (x * 2).requires_grad
    assert (x * 2).requires_grad
    assert autograd.set_grad_enabled(False)(lambda: autograd.is_grad_enabled())() is False


def test_grad_mode_is_thread_local():
    x = leaf([1.0])
    seen = {}

    def worker():
        seen["other"] = (x * 2).requires_grad

    with autograd.no_grad():
        t = threading.Thread(target=worker)
        t.start()
        t.join()
        seen["this"] = (x * 2).requires_grad
    assert seen == {"other": True, "this": False}


def test_detect_anomaly_names_op_and_creation_site():
    x = leaf([0.0, 1.0])
    with autograd.detect_anomaly():
        y = x.sqrt()  # d sqrt / dx at 0 is inf
        with (
            np.errstate(divide="ignore"),
            pytest.raises(RuntimeError, match=r"SqrtBackward returned NaN or Inf(.|\n)*test_engine.py"),
        ):
            y.sum().backward()


def test_detect_anomaly_checks_autograd_grad_and_a_users_function():
    class Reciprocal(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return 1 / x._data

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return -grad / (x * x)

    x = leaf([0.0, 1.0])
    with autograd.detect_anomaly(), np.errstate(divide="ignore"):
        y = Reciprocal.apply(x + 0.0)
        with pytest.raises(RuntimeError, match=r"ReciprocalBackward returned NaN or Inf"):
            autograd.grad(y.sum(), x)


def test_without_anomaly_mode_nan_passes_silently():
    x = leaf([0.0, 1.0])
    with np.errstate(divide="ignore"):
        x.sqrt().sum().backward()
    assert np.isinf(x.grad._data[0])


# ---------------------------------------------------------------- Function


class Multiply(Function):
    """The lecture's multiply gate."""

    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        return x * y

    @staticmethod
    def backward(ctx, grad_z):
        x, y = ctx.saved_tensors
        return grad_z * y, grad_z * x


def test_custom_function_and_needs_input_grad():
    x, y = leaf([2.0, 3.0]), autograd.tensor([4.0, 5.0], dtype=autograd.float64)
    z = Multiply.apply(x, y)
    assert repr(z.grad_fn) == "<MultiplyBackward>"
    assert z.grad_fn.needs_input_grad == (True, False)
    z.sum().backward()
    np.testing.assert_array_equal(x.grad._data, [4.0, 5.0])


def test_custom_function_forward_is_not_recorded():
    seen = {}

    class Peek(Function):
        @staticmethod
        def forward(ctx, x):
            seen["grad_enabled"] = autograd.is_grad_enabled()
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g * 2

    out = Peek.apply(leaf([1.0]))
    assert seen["grad_enabled"] is False and out.requires_grad


def test_custom_function_saving_output_supports_double_backward():
    class Sigmoid(Function):
        @staticmethod
        def forward(ctx, x):
            out = 1 / (1 + (-x).exp())
            ctx.save_for_backward(out)
            return out

        @staticmethod
        def backward(ctx, grad):
            (out,) = ctx.saved_tensors
            return grad * out * (1 - out)

    x = leaf([0.3, -1.2])
    assert autograd.gradcheck(Sigmoid.apply, (x,))
    assert autograd.gradgradcheck(Sigmoid.apply, (x,))


def test_custom_function_with_numpy_forward_and_tensor_backward():
    class Cube(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x._data**3

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return grad * 3 * x**2

    x = leaf([1.0, 2.0])
    assert autograd.gradcheck(Cube.apply, (x,))
    assert autograd.gradgradcheck(Cube.apply, (x,))


def test_a_function_with_several_outputs_is_refused_clearly():
    class Split(autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2, x * 3

        @staticmethod
        def backward(ctx, g1, g2):
            return g1 * 2 + g2 * 3

    with pytest.raises(TypeError, match="Split.forward returned 2 values.*one output"):
        Split.apply(leaf([1.0, 2.0]))
    with autograd.no_grad(), pytest.raises(TypeError, match="one output"):
        Split.apply(leaf([1.0, 2.0]))


def test_builtin_ops_are_functions():
    x = leaf([1.0])
    for y in (x + 1, x * 2, x.exp(), x.sigmoid(), x.sum(), x.reshape(1, 1), x[0]):
        assert isinstance(y.grad_fn, Function)


def test_failed_backward_leaves_no_stale_engine_state():
    class Broken(Function):
        @staticmethod
        def forward(ctx, x):
            return x._data * 2

        @staticmethod
        def backward(ctx, grad):
            raise ValueError("broken backward")

    x = leaf([1.0, 2.0])
    y = (x * 3 + Broken.apply(x)).sum()
    with pytest.raises(ValueError, match="broken backward"):
        y.backward()
    (x * 3).sum().backward()  # nothing of the failed pass is left behind
    np.testing.assert_array_equal(x.grad._data, [3.0, 3.0])


def test_failed_builtin_backward_does_not_leak_array_mode():
    x = leaf([1.0, 2.0])
    y = x * x
    node = y.grad_fn
    with pytest.raises(ValueError):
        node._backward(np.ones(3))  # a gradient of the wrong shape: numpy refuses to broadcast
    with autograd.enable_grad():  # then a create_graph pass through the same node: Tensors again
        gx, _ = node._backward(autograd.ones(2, dtype=autograd.float64))
    assert isinstance(gx, autograd.Tensor) and gx.requires_grad
    np.testing.assert_array_equal(gx._data, [1.0, 2.0])


def test_a_function_may_return_a_python_number_as_gradient():
    class Twice(autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return 2.0  # a number: the engine turns it into an array of the input's dtype

    x = leaf(3.0)
    Twice.apply(x).backward()
    assert x.grad.dtype == autograd.float64 and x.grad.item() == 2.0
    y = leaf(3.0, dtype=autograd.float32)
    (g,) = autograd.grad(Twice.apply(y), y)
    assert g.dtype == autograd.float32 and g.item() == 2.0


# ---------------------------------------------------------------- order by creation number


@given(st.lists(st.tuples(st.integers(0, 99), st.integers(0, 99), st.sampled_from("+*-")), min_size=1, max_size=25))
def test_random_dags_give_the_same_gradients_as_tensors_and_scalars(steps):
    """Random DAGs with fan-out and nodes reused at different depths: the creation-number
    order must run every node after all its consumers, so tensors, scalars and the numeric
    derivative agree."""

    def build(values, combine):
        nodes = list(values)
        for i, j, op in steps:
            a, b = nodes[i % len(nodes)], nodes[j % len(nodes)]
            nodes.append(combine(a, b, op))
        return sum(nodes[2:], nodes[-1])  # every intermediate feeds the output

    def combine(a, b, op):
        return a + b if op == "+" else a * b if op == "*" else a - b

    start = [0.5, -0.75]
    xs = [leaf(v) for v in start]
    build(xs, lambda a, b, op: combine(a, b, op).tanh()).backward()
    ss = [Scalar(v) for v in start]
    build(ss, lambda a, b, op: combine(a, b, op).tanh()).backward()
    for x, s in zip(xs, ss):
        got = 0.0 if x.grad is None else x.grad.item()  # (an input the steps never used)
        assert got == pytest.approx(s.grad, rel=1e-9, abs=1e-12)
    inputs = (leaf(start[0]), leaf(start[1]))
    assert autograd.gradcheck(lambda a, b: build([a, b], lambda p, q, op: combine(p, q, op).tanh()), inputs)


def test_numbers_taken_by_other_graphs_are_skipped_few_or_many():
    """The traversal walks creation numbers down from the root. Numbers between the graph's nodes
    that belong to no node it reached (one here and there, a run of 500, a node made long before
    the rest) are skipped: every node runs after all its consumers, latest-created first, and the
    gradients are those of the same graph built without anything in between."""

    def build(a, gaps):
        made = []  # nodes no edge of the graph reaches: they take numbers in between
        early = a * 2.0
        if gaps:
            made += [a + 1.0 for _ in range(500)]  # 500 numbers between early and the rest
        y = early.tanh() * a
        for k in range(20):
            if gaps:
                made.append(y + 3.0)  # one number between each pair of the graph's nodes
            y = y * early + k
        return y

    a, b = Scalar(0.5), Scalar(0.5)
    y, z = build(a, gaps=True), build(b, gaps=False)
    ran = []
    run_backward([(y, 1.0)], retain_graph=False, observer=lambda node, grad, grads: ran.append(node))
    z.backward()
    assert a.grad == pytest.approx(b.grad, rel=1e-12) and a.grad != 0.0
    numbers = [node._seq for node in ran if node._seq]
    assert numbers == sorted(numbers, reverse=True) and len(numbers) == len(set(numbers)) == 43


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(0, 300), min_size=1, max_size=60))
def test_a_wide_graph_with_gaps_runs_latest_first(gaps):
    """Many nodes waiting at once (a sum of terms) with numbers of other graphs between them, as
    many as ``gaps`` says: once the next number is not just below the last, the pass asks a heap;
    the order stays latest-created first and every gradient is right."""
    xs = [Scalar(0.1 * (k + 1)) for k in range(len(gaps))]
    terms, unrelated = [], []
    for x, gap in zip(xs, gaps):
        terms.append(x * x + 1.0)
        for _ in range(gap):
            unrelated.append(x * 3.0)  # takes a number; no edge of the sum reaches it
    total = terms[0]
    for t in terms[1:]:
        total = total + t
    ran = []
    run_backward([(total, 1.0)], retain_graph=False, observer=lambda node, grad, grads: ran.append(node))
    numbers = [node._seq for node in ran if node._seq]
    assert numbers == sorted(numbers, reverse=True) and len(numbers) == len(set(numbers))
    assert [x.grad for x in xs] == pytest.approx([2 * x.data for x in xs], rel=1e-12)


def test_hook_on_a_node_used_at_several_depths_sees_the_total_once():
    x = leaf([1.0, 2.0])
    h = x * 3  # used directly, one op deeper and two ops deeper
    seen = []
    h.register_hook(lambda g: seen.append(g._data.copy()))
    (h + (h * 2).exp() * 0 + h.tanh().tanh() * 0 + h).sum().backward()
    assert len(seen) == 1
    np.testing.assert_allclose(seen[0], [2.0, 2.0])
    np.testing.assert_allclose(x.grad._data, [6.0, 6.0])


def test_graphs_built_in_interleaved_order_stay_independent():
    a, b = leaf([1.0]), leaf([2.0])
    ya = a * 2
    yb = b * 5  # created between two ops of the other graph
    za = (ya * ya).sum()
    zb = (yb + yb).sum()
    zb.backward()
    assert a.grad is None and b.grad.item() == 10.0
    za.backward()
    assert a.grad.item() == 8.0  # d(4a^2)/da = 8a at a = 1


def test_threads_backpropagate_their_own_graphs():
    errors = []

    def work(seed):
        try:
            rng = np.random.default_rng(seed)
            for _ in range(50):
                v = rng.standard_normal(3)
                x = leaf(v)
                ((x * x).tanh() * 2 + x).sum().backward()
                expected = 2 * (1 - np.tanh(v * v) ** 2) * 2 * v + 1
                np.testing.assert_allclose(x.grad._data, expected, rtol=1e-12)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(seed,)) for seed in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors


def test_wrong_gradient_for_a_repeated_input_names_its_position():
    class Pair(Function):
        @staticmethod
        def forward(ctx, x, y):
            return x._data * y._data

        @staticmethod
        def backward(ctx, grad):
            return grad, grad.sum()  # the second one lost its shape

    x = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match=r"Pair.backward returned a gradient of shape \(\) .* for input 1"):
        Pair.apply(x, x).sum().backward()


def test_non_tensor_arguments_get_clear_errors():
    w = leaf([1.0, 2.0])
    with pytest.raises(TypeError, match="output 0 must be a Tensor, got float"):
        autograd.grad(3.0, w)
    with pytest.raises(TypeError, match="input 0 of grad\\(\\) must be a Tensor, got ndarray"):
        autograd.grad((w * 2).sum(), [np.ones(2)])
    with pytest.raises(TypeError, match="conv2d: input must be a Tensor"):
        autograd.conv2d(np.ones((1, 1, 3, 3)), autograd.ones(1, 1, 2, 2))


def test_a_user_backward_may_return_a_list():
    class Double(autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return [g * 2]

    x = leaf([1.0, 2.0, 3.0])
    Double.apply(x).sum().backward()
    assert x.grad.tolist() == [2.0, 2.0, 2.0]


def test_a_no_grad_generator_closes_inside_the_mode():
    seen = []

    @autograd.no_grad()
    def gen():
        try:
            yield 1
        finally:
            seen.append(autograd.is_grad_enabled())

    g = gen()
    next(g)
    g.close()
    assert seen == [False] and autograd.is_grad_enabled()
