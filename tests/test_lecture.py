"""LECTURE.md sections 1-4 reproduced with dagrad, with the numbers the lecture shows."""

import numpy as np
import pytest

import autograd
from autograd import Scalar

W0, X0, W1, X1, W2 = 2.0, -1.0, -3.0, -2.0, -3.0
EXPECTED = {"w0": -0.20, "x0": 0.39, "w1": -0.39, "x1": -0.59, "w2": 0.20}


def test_section1_scalar_circuit():
    w0, x0, w1, x1, w2 = (Scalar(v) for v in (W0, X0, W1, X1, W2))
    s0 = w0 * x0
    s1 = w1 * x1
    s2 = s0 + s1
    s3 = s2 + w2
    L = s3.sigmoid()
    L.backward()
    assert round(L.data, 2) == 0.73
    got = {"w0": w0.grad, "x0": x0.grad, "w1": w1.grad, "x1": x1.grad, "w2": w2.grad}
    assert {k: round(v, 2) for k, v in got.items()} == EXPECTED
    # add gates copy the upstream gradient; the sigmoid's local gradient is (1 - L) L
    assert s0.grad == s1.grad == s2.grad == s3.grad == pytest.approx((1 - L.data) * L.data)


def test_section1_flat_backprop_by_hand_matches_engine():
    s3 = W0 * X0 + W1 * X1 + W2
    L = 1 / (1 + np.exp(-s3))
    grad_s3 = 1.0 * (1 - L) * L
    grad_s0 = grad_s1 = grad_w2 = grad_s3
    by_hand = {"w0": grad_s0 * X0, "x0": grad_s0 * W0, "w1": grad_s1 * X1, "x1": grad_s1 * W1, "w2": grad_w2}
    t = {
        k: autograd.tensor(v, dtype=autograd.float64, requires_grad=True)
        for k, v in zip(EXPECTED, (W0, X0, W1, X1, W2))
    }
    (t["w0"] * t["x0"] + t["w1"] * t["x1"] + t["w2"]).sigmoid().backward()
    for k in EXPECTED:
        assert t[k].grad.item() == pytest.approx(by_hand[k])
        assert round(by_hand[k], 2) == EXPECTED[k]


def test_section1_gradient_as_vector_function_of_x():
    w = autograd.tensor([W0, W1], dtype=autograd.float64)
    x = autograd.tensor([X0, X1], dtype=autograd.float64, requires_grad=True)
    ((w * x).sum() + W2).sigmoid().backward()
    np.testing.assert_allclose(x.grad._data, [0.39, -0.59], atol=0.005)
    assert x.grad.shape == x.shape


def test_section2_two_layer_net_matches_flat_backprop():
    rng = np.random.default_rng(0)
    N, D, H, C = 5, 4, 6, 3
    X = rng.standard_normal((N, D))
    y = rng.integers(0, C, N)
    W1, b1 = rng.standard_normal((D, H)), rng.standard_normal(H)
    W2, b2 = rng.standard_normal((H, C)), rng.standard_normal(C)
    # flat backprop, staged as in the lecture
    h1 = np.maximum(X @ W1 + b1, 0)
    scores = h1 @ W2 + b2
    p = np.exp(scores - scores.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    loss = -np.log(p[np.arange(N), y]).mean()
    dscores = p.copy()
    dscores[np.arange(N), y] -= 1
    dscores /= N
    dW2, db2 = h1.T @ dscores, dscores.sum(0)
    dh1 = dscores @ W2.T
    dh1[h1 <= 0] = 0
    dW1, db1 = X.T @ dh1, dh1.sum(0)
    # the engine
    params = [autograd.tensor(a, requires_grad=True) for a in (W1, b1, W2, b2)]
    tW1, tb1, tW2, tb2 = params
    t_scores = (autograd.tensor(X) @ tW1 + tb1).relu() @ tW2 + tb2
    t_loss = -t_scores.log_softmax(dim=1)[np.arange(N), y].mean()
    t_loss.backward()
    assert t_loss.item() == pytest.approx(loss)
    for t, expected in zip(params, (dW1, db1, dW2, db2)):
        np.testing.assert_allclose(t.grad._data, expected, rtol=1e-10, atol=1e-12)


# LECTURE.md section 3: the multiply gate, written against torch.autograd.Function. The lecture
# says it runs after replacing `torch` by `autograd`; the test below does exactly that.
TORCH_STYLE = """
import torch
from torch.autograd import grad


class Multiply(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        return x * y

    @staticmethod
    def backward(ctx, grad_z):
        x, y = ctx.saved_tensors
        return y * grad_z, x * grad_z


x = torch.tensor(3.0, requires_grad=True)
y = torch.tensor(-4.0, requires_grad=True)
z = Multiply.apply(x, y)
z.backward()
layer = torch.nn.Linear(2, 1)
out = torch.nn.functional.relu(layer(torch.ones(1, 2)))
opt = torch.optim.SGD(layer.parameters(), lr=0.1)
(dz_dx,) = grad(Multiply.apply(x, y), x)
result = (z.item(), x.grad.item(), y.grad.item(), dz_dx.item(), tuple(out.shape))
"""


def test_section3_modular_function_ports_by_renaming_torch_to_autograd():
    """The lecture's promise, literally: the same text with ``torch`` replaced by ``autograd``."""
    ours = {}
    exec(TORCH_STYLE.replace("torch", "autograd"), ours)
    assert ours["result"] == (-12.0, -4.0, 3.0, -4.0, (1, 1))


def _run_lecture_code(torch, source):
    namespace = {}
    exec(source, namespace)  # the lecture's own `import torch`
    return namespace["result"]


def test_the_torch_original_gives_the_same_numbers(oracle):
    assert oracle(_run_lecture_code, TORCH_STYLE) == (-12.0, -4.0, 3.0, -4.0, (1, 1))


def test_section4_relu_implicit_jacobian():
    x = autograd.tensor([1.0, -2.0, 3.0, -1.0], requires_grad=True)
    y = x.relu()
    y.backward(autograd.tensor([4.0, -1.0, 5.0, 9.0]))
    np.testing.assert_array_equal(x.grad._data, [4.0, 0.0, 5.0, 0.0])
    # the explicit Jacobian is diagonal, which is why backward never forms it
    J = autograd.functional.jacobian(autograd.relu, autograd.tensor([1.0, -2.0, 3.0, -1.0]))
    np.testing.assert_array_equal(J._data, np.diag([1.0, 0.0, 1.0, 0.0]))


def test_section4_matmul_gradients_by_formula():
    rng = np.random.default_rng(1)
    x = autograd.tensor(rng.standard_normal((64, 32)), requires_grad=True)
    w = autograd.tensor(rng.standard_normal((32, 16)), requires_grad=True)
    y = x @ w
    dy = rng.standard_normal((64, 16))
    y.backward(autograd.tensor(dy))
    np.testing.assert_allclose(x.grad._data, dy @ w._data.T)  # dL/dx = dL/dy w^T  [N x D]
    np.testing.assert_allclose(w.grad._data, x._data.T @ dy)  # dL/dw = x^T dL/dy  [D x M]
    assert x.grad.shape == x.shape and w.grad.shape == w.shape


def test_section4_jacobian_size_of_a_large_matmul():
    N, D, M = 64, 4096, 4096
    entries = (N * D) * (N * M)  # dy/dx is [(N x D) x (N x M)]
    assert entries * 4 / 1e9 == pytest.approx(274.9, abs=0.1)  # bytes in float32: "about 256 GB" (GiB)
    assert entries * 4 / 2**30 == 256.0
    # ...while the VJP that backward computes has x's shape
    small = autograd.functional.jacobian(lambda x: x @ autograd.ones(3, 2), autograd.ones(4, 3))
    assert small.shape == (4, 2, 4, 3)
