"""gradcheck / gradgradcheck catch wrong gradients; autograd.functional matches the maths."""

import numpy as np
import pytest
from hypothesis import find, given, settings
from hypothesis import strategies as st

import autograd
from autograd import Function, GradcheckError, functional
from autograd.functional import hessian, jacobian, jvp, vjp


class WrongSquare(Function):
    """x^2 with a deliberately wrong backward (3x instead of 2x)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x._data**2

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * 3 * x


class TransposedGrad(Function):
    """x @ w where backward forgets a transpose: right shapes only for square w."""

    @staticmethod
    def forward(ctx, x, w):
        ctx.save_for_backward(x, w)
        return x._data @ w._data

    @staticmethod
    def backward(ctx, grad):
        x, w = ctx.saved_tensors
        return grad @ w, x.mT @ grad


def x64(*shape, seed=0):
    rng = np.random.default_rng(seed)
    return autograd.tensor(rng.standard_normal(shape), requires_grad=True)


def test_gradcheck_passes_for_correct_ops():
    assert autograd.gradcheck(lambda a, b: (a @ b).tanh(), (x64(3, 4), x64(4, 2, seed=1)))
    assert autograd.gradcheck(lambda a: a.softmax(dim=0), (x64(5),), fast_mode=True)


def test_gradcheck_reports_input_element_and_values():
    with pytest.raises(GradcheckError) as err:
        autograd.gradcheck(
            WrongSquare.apply, (autograd.tensor([1.0, 2.0], dtype=autograd.float64, requires_grad=True),)
        )
    msg = str(err.value)
    assert "input 0" in msg and "input element (0,)" in msg
    assert "numerical: 2.0000" in msg and "analytic:  3.0" in msg


def test_gradcheck_catches_missing_transpose():
    x, w = x64(2, 3), x64(3, 3, seed=2)
    with pytest.raises(GradcheckError, match="input 0"):
        autograd.gradcheck(TransposedGrad.apply, (x, w))
    with pytest.raises(GradcheckError, match="fast mode"):
        autograd.gradcheck(TransposedGrad.apply, (x, w), fast_mode=True)
    assert autograd.gradcheck(TransposedGrad.apply, (x, w), raise_exception=False) is False


def test_gradcheck_warns_below_float64():
    x = autograd.tensor([1.0, 2.0], requires_grad=True)
    with pytest.warns(UserWarning, match="float64"):
        autograd.gradcheck(lambda t: t * 2, (x,), eps=1e-2, atol=1e-2)


def test_gradcheck_needs_an_input_requiring_grad():
    with pytest.raises(ValueError, match="requires_grad"):
        autograd.gradcheck(lambda t: t * 2, (autograd.ones(2),))


def test_gradgradcheck_catches_wrong_double_backward():
    class ConstantLocal(Function):
        """sigmoid whose backward treats the saved output as a constant (first order is right)."""

        @staticmethod
        def forward(ctx, x):
            out = 1 / (1 + np.exp(-x._data))
            ctx.out = out
            return out

        @staticmethod
        def backward(ctx, grad):
            return grad * (ctx.out * (1 - ctx.out))

    x = x64(3)
    assert autograd.gradcheck(ConstantLocal.apply, (x,))
    with pytest.raises(GradcheckError):
        autograd.gradgradcheck(ConstantLocal.apply, (x,))
    assert autograd.gradgradcheck(lambda t: t.sigmoid(), (x,))


def test_jacobian_of_vector_function():
    x = autograd.tensor([1.0, 2.0, 3.0], dtype=autograd.float64)
    J = jacobian(lambda t: t**2, x)
    np.testing.assert_allclose(J._data, np.diag([2.0, 4.0, 6.0]))
    Ja, Jb = jacobian(lambda a, b: a * b, (x, x * 2))
    np.testing.assert_allclose(Ja._data, np.diag(x._data * 2))
    np.testing.assert_allclose(Jb._data, np.diag(x._data))


def test_vjp_and_jvp_agree_with_explicit_jacobian():
    rng = np.random.default_rng(3)
    W = autograd.tensor(rng.standard_normal((4, 3)))

    def f(x):
        return (W @ x).tanh()

    x = autograd.tensor(rng.standard_normal(3))
    J = jacobian(f, x)._data
    u, v = rng.standard_normal(4), rng.standard_normal(3)
    out, uJ = vjp(f, x, autograd.tensor(u))
    np.testing.assert_allclose(uJ._data, u @ J)
    np.testing.assert_allclose(out._data, f(x)._data)
    out, Jv = jvp(f, x, autograd.tensor(v))
    np.testing.assert_allclose(Jv._data, J @ v)


def test_hessian_of_quadratic_and_cubic():
    A = np.array([[2.0, 1.0], [1.0, 3.0]])
    At = autograd.tensor(A)
    H = hessian(lambda x: (x @ (At @ x)) * 0.5, autograd.tensor([0.3, -0.2], dtype=autograd.float64))
    np.testing.assert_allclose(H._data, A)
    H3 = hessian(lambda x: (x**3).sum(), autograd.tensor([1.0, 2.0], dtype=autograd.float64))
    np.testing.assert_allclose(H3._data, np.diag([6.0, 12.0]))


def _hessian_and_jacobian(lib, functional_module, x0):
    """Written once for both libraries: a Hessian and a softmax Jacobian at ``x0``."""

    def f(x):
        return (x.sigmoid() * x).sum() + (x**3).sum()

    H = functional_module.hessian(f, lib.tensor(x0))
    J = functional_module.jacobian(lambda x: x.softmax(dim=0), lib.tensor(x0))
    return H.numpy(), J.numpy()


def test_functional_against_torch(oracle):
    rng = np.random.default_rng(4)
    x0 = rng.standard_normal(4)
    H, J = _hessian_and_jacobian(autograd, functional, x0)
    their_H, their_J = oracle(lambda torch, x0: _hessian_and_jacobian(torch, torch.autograd.functional, x0), x0)
    np.testing.assert_allclose(H, their_H, rtol=1e-10)
    np.testing.assert_allclose(J, their_J, rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("fast_mode", [False, True])
def test_gradcheck_perturbs_inputs_of_any_memory_layout(fast_mode):
    a = autograd.tensor(np.arange(1.0, 7.0).reshape(2, 3), requires_grad=True)
    fortran = autograd.tensor(np.asfortranarray(np.arange(1.0, 7.0).reshape(2, 3)), requires_grad=True)
    for x in (a.T, fortran, a[:, ::2]):
        assert autograd.gradcheck(lambda t: t * t * t, (x,), fast_mode=fast_mode)
        assert autograd.gradgradcheck(lambda t: t * t * t, (x,), fast_mode=fast_mode)
    np.testing.assert_array_equal(a._data, np.arange(1.0, 7.0).reshape(2, 3))  # restored


@pytest.mark.parametrize("fast_mode", [False, True])
def test_gradcheck_fails_an_output_cut_off_from_the_graph(fast_mode):
    x = autograd.tensor([1.0, 2.0], dtype=autograd.float64, requires_grad=True)
    with pytest.raises(autograd.GradcheckError, match="numerical: .*\nanalytic:  0.0"):
        autograd.gradcheck(lambda a: autograd.tensor(a._data * 2), (x,), fast_mode=fast_mode)

    class Detached(autograd.Function):  # a backward that cuts the graph: second derivatives are lost
        @staticmethod
        def forward(ctx, a):
            ctx.save_for_backward(a)
            return a._data**3

        @staticmethod
        def backward(ctx, g):
            (a,) = ctx.saved_tensors
            return autograd.tensor(g._data * 3 * a._data**2)

    assert autograd.gradcheck(Detached.apply, (x,), fast_mode=fast_mode)
    with pytest.raises(autograd.GradcheckError):
        autograd.gradgradcheck(Detached.apply, (x,), fast_mode=fast_mode)


def test_functional_checks_its_vectors_and_outputs():
    x = autograd.tensor([1.0, 2.0], dtype=autograd.float64)
    with pytest.raises(ValueError, match="got 1 v.* for 2 input"):
        functional.jvp(lambda a, b: a * b, (x, x), x)
    with pytest.raises(ValueError, match="got 2 v.* for 1 output"):
        functional.vjp(lambda a: a * 2, x, (x, x))
    with pytest.raises(ValueError, match=r"v of shape \(3,\) does not match output 0 of shape \(2,\)"):
        functional.vjp(lambda a: a * 2, x, autograd.ones(3, dtype=autograd.float64))
    with pytest.raises(TypeError, match="must return a Tensor or a tuple of Tensors, got float"):
        functional.jacobian(lambda a: 1.0, x)
    with pytest.raises(RuntimeError, match="one output element"):
        functional.hessian(lambda a: (a.sum(), a.sum()), x)


STRICT_CASES = [("vjp", ("x",)), ("jacobian", ()), ("jvp", (("x", "x"),))]  # name, the arguments after inputs


def _strict_raises(lib, functional_module, values):
    """For each case: does ``strict=True`` raise a RuntimeError for an output independent of input 1?"""
    x = lib.tensor(values, dtype=lib.float64)
    raised = []
    for name, args in STRICT_CASES:
        call_args = tuple((x, x) if isinstance(a, tuple) else x for a in args)
        try:
            getattr(functional_module, name)(lambda a, b: a * 2, (x, x), *call_args, strict=True)
        except RuntimeError:
            raised.append(True)
        else:
            raised.append(False)
    return raised


def test_functional_strict_like_torch(oracle):
    values = np.array([1.0, 2.0])
    x = autograd.tensor(values, dtype=autograd.float64)
    theirs = oracle(lambda torch, v: _strict_raises(torch, torch.autograd.functional, v), values)
    assert theirs == [True] * len(STRICT_CASES)  # PyTorch refuses each one too
    for name, args in STRICT_CASES:
        fn = getattr(functional, name)
        call_args = tuple((x, x) if isinstance(a, tuple) else x for a in args)
        with pytest.raises(RuntimeError, match="does not depend on input 1"):
            fn(lambda a, b: a * 2, (x, x), *call_args, strict=True)
        fn(lambda a, b: a * 2, (x, x), *call_args)  # without strict: zeros for the unused input


@settings(max_examples=50)
@given(st.data())
def test_tensors_away_from_a_kink_stay_in_bounds(data):
    from autograd.testing import tensors

    kink = data.draw(st.sampled_from([0.0, 1.0, -1.0, 0.95]))
    t = data.draw(tensors(shape=(5,), low=-1.0, high=1.0, away_from=kink))
    assert ((-1.0 <= t._data) & (t._data <= 1.0)).all() and (np.abs(t._data - kink) >= 0.1 - 1e-12).all()


def test_tensors_away_from_refuses_an_empty_range():
    from autograd.testing import tensors

    with pytest.raises(ValueError, match="no value in"):
        find(tensors(shape=(2,), low=0.0, high=0.15, away_from=0.05), lambda t: True)
