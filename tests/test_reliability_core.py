"""Reliability of the core: concurrent backward passes, non-finite values where PyTorch stays
finite, and dtypes that cannot be differentiated. Comparisons are with PyTorch 2.13."""

import sys
import threading

import numpy as np
import pytest

import autograd

THREADS = 8


def rng(seed):
    return np.random.default_rng(seed)


def losses_and_expected(seed=0):
    """Eight losses through one shared weight W, and each one's gradient computed alone."""
    r = rng(seed)
    W = autograd.tensor(r.standard_normal((6, 5)), requires_grad=True)
    inputs = [r.standard_normal((4, 6)) for _ in range(THREADS)]

    def loss(k):
        h = (autograd.tensor(inputs[k]) @ W).tanh()
        return (h * h).sum() * (k + 1) + (W * k).sum()

    expected = [autograd.grad(loss(k), W)[0].numpy() for k in range(THREADS)]
    return W, loss, expected


def run_threads(work):
    """Run ``work(k)`` in THREADS threads at once, switching between them as often as Python can."""
    errors, start = [], threading.Barrier(THREADS)

    def run(k):
        try:
            start.wait()
            work(k)
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        threads = [threading.Thread(target=run, args=(k,)) for k in range(THREADS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        sys.setswitchinterval(interval)
    assert not errors, errors


def test_concurrent_grad_through_a_shared_weight_gives_each_thread_its_own_gradient():
    W, loss, expected = losses_and_expected()
    for _ in range(5):
        graphs = [loss(k) for k in range(THREADS)]  # built first: the passes run at the same time
        got = [None] * THREADS

        def work(k, graphs=graphs, got=got):
            got[k] = autograd.grad(graphs[k], W)[0].numpy()

        run_threads(work)
        for k in range(THREADS):
            np.testing.assert_allclose(got[k], expected[k], rtol=1e-12, atol=1e-12, err_msg=f"thread {k}")
    assert W.grad is None


def test_concurrent_backward_into_a_shared_grad_loses_no_contribution():
    W, loss, expected = losses_and_expected(1)
    for _ in range(5):
        W.grad = None
        graphs = [loss(k) for k in range(THREADS)]
        run_threads(lambda k, graphs=graphs: graphs[k].backward())
        np.testing.assert_allclose(W.grad.numpy(), np.sum(expected, axis=0), rtol=1e-12, atol=1e-12)


def test_concurrent_training_steps_of_separate_models():
    def step(k):
        r = rng(k)
        w = autograd.tensor(r.standard_normal(3), requires_grad=True)
        for _ in range(20):
            loss = ((w - 1.0) ** 2).sum()
            loss.backward()
            with autograd.no_grad():
                w -= 0.1 * w.grad
            w.grad = None
        results[k] = w.detach().numpy()

    results = [None] * THREADS
    run_threads(step)
    for k in range(THREADS):
        start = rng(k).standard_normal(3)
        np.testing.assert_allclose(results[k], 1.0 + (start - 1.0) * 0.8**20, rtol=1e-12)


# ---------------------------------------------------------------- non-finite values as PyTorch


def arr(t):
    return np.array(t.detach().numpy())


def nonfinite(lib):
    inf, f64, f32 = float("inf"), lib.float64, lib.float32
    grad = lib.autograd.grad
    out = {}
    x = lib.tensor([0.0, 1.0, -2.0, 30.0], dtype=f64, requires_grad=True)
    out["tanh"] = arr(grad(x.tanh(), x, lib.tensor([inf, 1.0, -inf, inf], dtype=f64))[0])
    out["sigmoid"] = arr(grad(x.sigmoid(), x, lib.tensor([inf, 1.0, -inf, inf], dtype=f64))[0])
    upstream = lib.tensor([inf, inf, 1.0, -inf], dtype=f64)
    for e in (0, 0.0, 1, 2, 0.5, -1):
        out[f"x**{e!r}"] = arr(grad(x**e, x, upstream)[0])
    e = lib.tensor([0.0, 0.0, 2.0, 0.0], dtype=f64, requires_grad=True)
    out["x**e"] = [arr(g) for g in grad(x**e, (x, e), upstream)]
    a = lib.tensor([1e-25, 3e-30, 2.0], dtype=f32, requires_grad=True)
    b = lib.tensor([1e-25, 1e-30, 1e-20], dtype=f32, requires_grad=True)
    out["a/b"] = [arr(g) for g in grad(a / b, (a, b), lib.ones(3, dtype=f32))]
    return out


def test_non_finite_gradients_as_pytorch(oracle):
    ours, theirs = nonfinite(autograd), oracle(nonfinite)
    assert list(ours) == list(theirs)
    for key in theirs:
        for got, want in zip(np.atleast_1d(ours[key]), np.atleast_1d(theirs[key])):  # (a pair, or one array)
            np.testing.assert_allclose(got, want, rtol=1e-6, atol=0, err_msg=key)  # (nan and inf where PyTorch's)


def test_complex_tensors_cannot_require_grad():
    z = autograd.tensor(np.array([1 + 2j, 3 - 1j]))
    assert z.dtype == np.complex128
    with pytest.raises(TypeError, match="only floating-point tensors can require gradients, got dtype complex128"):
        z.requires_grad_()
    with pytest.raises(TypeError, match="complex"):
        autograd.tensor(np.array([1j]), requires_grad=True)
    with pytest.raises((TypeError, ValueError)):
        autograd.ones(2, requires_grad=True).to(np.complex64)  # no complex casts in a graph
    assert not z.requires_grad
