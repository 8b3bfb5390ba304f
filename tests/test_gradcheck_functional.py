"""gradcheck / gradgradcheck catch wrong gradients; autograd.functional matches the maths."""

import numpy as np
import pytest

import autograd
from autograd import Function, GradcheckError
from autograd.functional import hessian, jacobian, jvp, vjp


class WrongSquare(Function):
    """x^2 with a deliberately wrong backward (3x instead of 2x)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.data**2

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * 3 * x


class TransposedGrad(Function):
    """x @ w where backward forgets a transpose: right shapes only for square w."""

    @staticmethod
    def forward(ctx, x, w):
        ctx.save_for_backward(x, w)
        return x.data @ w.data

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
            out = 1 / (1 + np.exp(-x.data))
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
    np.testing.assert_allclose(J.data, np.diag([2.0, 4.0, 6.0]))
    Ja, Jb = jacobian(lambda a, b: a * b, (x, x * 2))
    np.testing.assert_allclose(Ja.data, np.diag(x.data * 2))
    np.testing.assert_allclose(Jb.data, np.diag(x.data))


def test_vjp_and_jvp_agree_with_explicit_jacobian():
    rng = np.random.default_rng(3)
    W = autograd.tensor(rng.standard_normal((4, 3)))

    def f(x):
        return (W @ x).tanh()

    x = autograd.tensor(rng.standard_normal(3))
    J = jacobian(f, x).data
    u, v = rng.standard_normal(4), rng.standard_normal(3)
    out, uJ = vjp(f, x, autograd.tensor(u))
    np.testing.assert_allclose(uJ.data, u @ J)
    np.testing.assert_allclose(out.data, f(x).data)
    out, Jv = jvp(f, x, autograd.tensor(v))
    np.testing.assert_allclose(Jv.data, J @ v)


def test_hessian_of_quadratic_and_cubic():
    A = np.array([[2.0, 1.0], [1.0, 3.0]])
    At = autograd.tensor(A)
    H = hessian(lambda x: (x @ (At @ x)) * 0.5, autograd.tensor([0.3, -0.2], dtype=autograd.float64))
    np.testing.assert_allclose(H.data, A)
    H3 = hessian(lambda x: (x**3).sum(), autograd.tensor([1.0, 2.0], dtype=autograd.float64))
    np.testing.assert_allclose(H3.data, np.diag([6.0, 12.0]))


def test_functional_against_torch(torch):
    from torch.autograd import functional as TF

    rng = np.random.default_rng(4)
    x0 = rng.standard_normal(4)

    def f_ours(x):
        return (x.sigmoid() * x).sum() + (x**3).sum()

    def f_torch(x):
        return (x.sigmoid() * x).sum() + (x**3).sum()

    np.testing.assert_allclose(
        hessian(f_ours, autograd.tensor(x0)).data, TF.hessian(f_torch, torch.tensor(x0)).numpy(), rtol=1e-10
    )
    np.testing.assert_allclose(
        jacobian(lambda x: x.softmax(dim=0), autograd.tensor(x0)).data,
        TF.jacobian(lambda x: x.softmax(dim=0), torch.tensor(x0)).numpy(),
        rtol=1e-10,
        atol=1e-14,
    )
