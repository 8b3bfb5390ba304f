"""Gradient checking: compare the engine's gradients with central finite differences.

``gradcheck`` builds both Jacobians column by column and compares them element by element;
``fast_mode=True`` compares one random projection u^T J v instead (cheap for large inputs,
and good at catching transposed or mis-scaled gradients). ``gradgradcheck`` runs the same
check on the backward pass itself, i.e. on second derivatives.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from autograd.backprop import grad as autograd_grad
from autograd.tensor import Tensor


class GradcheckError(RuntimeError):
    """Raised when an analytic gradient disagrees with the numerical one."""


def _as_tuple(x: Any) -> tuple:
    return tuple(x) if isinstance(x, (list, tuple)) else (x,)


def _outputs(fn: Callable, inputs: tuple) -> tuple[Tensor, ...]:
    return tuple(o for o in _as_tuple(fn(*inputs)) if isinstance(o, Tensor))


def _differentiable(inputs: tuple) -> list[int]:
    return [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]


def _numeric_column(
    fn: Callable, inputs: tuple, x: Tensor, flat_index: int | None, direction: np.ndarray | None, eps: float
) -> list[np.ndarray]:
    """d(outputs)/d(x) along one element (or one direction), by central differences.

    x's array is perturbed in place (whatever its memory layout: a transposed view too);
    elements are numbered in row-major order, as the analytic rows are."""
    data = x._data
    step = np.zeros(data.shape, dtype=data.dtype)
    if direction is None:
        step.flat[flat_index] = eps
    else:
        step[...] = (direction * eps).reshape(data.shape)
    original = data.copy()
    try:  # grad mode stays on: fn may itself take gradients (gradgradcheck)
        data[...] = original + step
        plus = [o._data.astype(np.float64) for o in _outputs(fn, inputs)]
        data[...] = original - step
        minus = [o._data.astype(np.float64) for o in _outputs(fn, inputs)]
    finally:
        data[...] = original
    return [((p - m) / (2 * eps)).reshape(-1) for p, m in zip(plus, minus)]


def gradcheck(
    fn: Callable[..., Any],
    inputs: Any,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    fast_mode: bool = False,
    raise_exception: bool = True,
    seed: int = 0,
) -> bool:
    """Check the gradients of ``fn(*inputs)`` against finite differences.

    Every input Tensor with ``requires_grad=True`` is checked (use float64: lower precision
    warns). Returns True, or raises ``GradcheckError`` naming the input, the output and the
    element, with the numerical and analytic values (False instead when
    ``raise_exception=False``).
    """
    inputs = _as_tuple(inputs)
    checked = _differentiable(inputs)
    if not checked:
        raise ValueError("gradcheck needs at least one input tensor with requires_grad=True")
    for i in checked:
        if inputs[i].dtype != np.float64:
            warnings.warn(
                f"gradcheck input {i} is {inputs[i].dtype}, not float64: finite differences will "
                "be inaccurate; use x.double()",
                stacklevel=2,
            )
    try:
        if fast_mode:
            _check_fast(fn, inputs, checked, eps, atol, rtol, seed)
        else:
            _check_full(fn, inputs, checked, eps, atol, rtol)
    except GradcheckError:
        if raise_exception:
            raise
        return False
    return True


def _analytic_rows(fn: Callable, inputs: tuple, checked: list[int]) -> list[list[np.ndarray]]:
    """The Jacobian's rows per output, per checked input: rows[o][k] is (out_o.size, x_k.size)."""
    outs = _outputs(fn, inputs)
    result = []
    for out in outs:
        jac = [np.zeros((out.numel(), inputs[i].numel())) for i in checked]
        for r in range(out.numel() if out.requires_grad else 0):  # (outside the graph: all zero)
            onehot = np.zeros(out.numel())
            onehot[r] = 1
            for k, g in enumerate(_vjp(out, inputs, checked, onehot)):
                if g is not None:
                    jac[k][r] = g._data.reshape(-1)
        result.append(jac)
    return result


def _vjp(out: Tensor, inputs: tuple, checked: list[int], cotangent: np.ndarray) -> tuple:
    """The gradients of sum(out * cotangent) for the checked inputs; None for an input the
    output does not depend on, and for every input when the output is outside the graph."""
    if not out.requires_grad:
        return (None,) * len(checked)
    seed = Tensor._make(cotangent.astype(out.dtype).reshape(out.shape))
    return autograd_grad(out, [inputs[i] for i in checked], seed, retain_graph=True, allow_unused=True)


def _check_full(fn: Callable, inputs: tuple, checked: list[int], eps: float, atol: float, rtol: float) -> None:
    analytic = _analytic_rows(fn, inputs, checked)
    for k, i in enumerate(checked):
        x = inputs[i]
        for e in range(x.numel()):
            numeric = _numeric_column(fn, inputs, x, e, None, eps)
            for o, column in enumerate(numeric):
                got = analytic[o][k][:, e]
                bad = ~np.isclose(got, column, rtol=rtol, atol=atol)
                if bad.any():
                    r = int(np.argmax(bad))
                    where = np.unravel_index(e, x.shape) if x.ndim else ()
                    raise GradcheckError(
                        f"Jacobian mismatch for output {o} with respect to input {i}, input element "
                        f"{tuple(int(v) for v in where)}, output element {r}:\n"
                        f"numerical: {float(column[r])!r}\nanalytic:  {float(got[r])!r}\n"
                        f"(atol={atol}, rtol={rtol}, eps={eps})"
                    )


def _check_fast(
    fn: Callable, inputs: tuple, checked: list[int], eps: float, atol: float, rtol: float, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    outs = _outputs(fn, inputs)
    for o, out in enumerate(outs):
        u = rng.standard_normal(out.shape)  # a random output cotangent
        grads = _vjp(out, inputs, checked, u)
        for k, i in enumerate(checked):
            x = inputs[i]
            v = rng.standard_normal(x.numel())  # a random input direction
            numeric = float(u.reshape(-1) @ _numeric_column(fn, inputs, x, None, v, eps)[o])
            analytic = 0.0 if grads[k] is None else float(grads[k]._data.reshape(-1) @ v)
            if not np.isclose(analytic, numeric, rtol=rtol, atol=atol):
                raise GradcheckError(
                    f"Jacobian mismatch for output {o} with respect to input {i} (fast mode: the "
                    f"projection u^T J v with random u, v):\nnumerical: {numeric!r}\n"
                    f"analytic:  {analytic!r}\n(atol={atol}, rtol={rtol}, eps={eps})"
                )


def gradgradcheck(
    fn: Callable[..., Any],
    inputs: Any,
    grad_outputs: Sequence[Tensor] | None = None,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    fast_mode: bool = False,
    raise_exception: bool = True,
    seed: int = 0,
) -> bool:
    """Check second derivatives: gradcheck the map (inputs, v) -> v^T J(inputs).

    ``grad_outputs`` (the v's) default to random float64 tensors that require grad, so the
    backward pass is checked with respect to both the inputs and the incoming gradient.
    """
    inputs = _as_tuple(inputs)
    checked = _differentiable(inputs)
    outs = _outputs(fn, inputs)
    if grad_outputs is None:
        rng = np.random.default_rng(seed)
        grad_outputs = tuple(
            Tensor(rng.standard_normal(o.shape), dtype=o.dtype, requires_grad=True) for o in outs if o.requires_grad
        )
    grad_outputs = _as_tuple(grad_outputs)
    n = len(inputs)

    def first_derivative(*args: Any) -> tuple:
        xs, vs = args[:n], args[n:]
        ys = [o for o in _outputs(fn, xs) if o.requires_grad]
        grads = autograd_grad(ys, [xs[i] for i in checked], list(vs), create_graph=True, allow_unused=True)
        return tuple(g for g in grads if g is not None)

    return gradcheck(
        first_derivative,
        inputs + tuple(grad_outputs),
        eps=eps,
        atol=atol,
        rtol=rtol,
        fast_mode=fast_mode,
        raise_exception=raise_exception,
        seed=seed,
    )
