"""Higher-level derivatives of functions: ``vjp``, ``jvp``, ``jacobian``, ``hessian``.

``jacobian`` builds the explicit matrix, one backward pass per output element, which is fine
for small problems and makes the lecture's point visible: the Jacobian of ``x @ w`` for
x of 64x4096 and w of 4096x4096 would have 64*4096 * 64*4096 entries, while backward
only ever needs the vector-Jacobian product.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from autograd.backprop import grad
from autograd.grad_mode import enable_grad
from autograd.tensor import Tensor


def _tuple(x: Any) -> tuple:
    return tuple(x) if isinstance(x, (list, tuple)) else (x,)


def _prepare(inputs: Any, create_graph: bool) -> tuple[Tensor, ...]:
    """Fresh leaves for the inputs (attached to the caller's graph only with create_graph)."""
    xs = []
    for x in _tuple(inputs):
        if not isinstance(x, Tensor):
            raise TypeError(f"inputs must be Tensors, got {type(x).__name__}")
        if create_graph and x.requires_grad:
            xs.append(x.view_as(x))
        else:
            xs.append(x.detach().requires_grad_(True))
    return tuple(xs)


def _grads_or_zeros(outputs: Any, inputs: tuple, grad_outputs: Any, create_graph: bool, strict: str = "") -> tuple:
    """The gradients of ``outputs`` (weighted by ``grad_outputs``) for each input, zeros where
    an input was not used; with ``strict`` (the caller's name) an unused input is an error."""
    outs = [o for o in _tuple(outputs) if o.requires_grad]
    gos = [g for o, g in zip(_tuple(outputs), _tuple(grad_outputs)) if o.requires_grad]
    gs = (None,) * len(inputs)
    if outs:
        gs = grad(outs, list(inputs), gos, create_graph=create_graph, retain_graph=True, allow_unused=True)
    unused = [i for i, g in enumerate(gs) if g is None]
    if strict and unused:
        raise RuntimeError(
            f"{strict}: the output does not depend on input {unused[0]} (strict=True); its derivative "
            "would be all zeros"
        )
    return tuple(Tensor._make(np.zeros(x.shape, x.dtype)) if g is None else g for g, x in zip(gs, inputs))


def _results(out: Any, fn: str) -> tuple[Tensor, ...]:
    """func's output as a tuple of Tensors, or a clear error."""
    outs = _tuple(out)
    for o in outs:
        if not isinstance(o, Tensor):
            raise TypeError(f"{fn}: func must return a Tensor or a tuple of Tensors, got {type(o).__name__}")
    return outs


def _check_vectors(vs: tuple, like: tuple, what: str, fn: str) -> None:
    """One v per output (vjp) or input (jvp), each a Tensor of that one's shape."""
    if len(vs) != len(like):
        raise ValueError(f"{fn}: got {len(vs)} v(s) for {len(like)} {what}(s); give one per {what}")
    for i, (v, t) in enumerate(zip(vs, like)):
        if not isinstance(v, Tensor):
            raise TypeError(f"{fn}: v must be Tensors, got {type(v).__name__} for {what} {i}")
        if v.shape != t.shape:
            raise ValueError(f"{fn}: v of shape {v.shape} does not match {what} {i} of shape {t.shape}")


def _unwrap(values: tuple, was_tuple: bool) -> Any:
    return values if was_tuple else values[0]


def vjp(
    func: Callable, inputs: Any, v: Any = None, create_graph: bool = False, strict: bool = False
) -> tuple[Any, Any]:
    """``(func(inputs), v^T J)``: the vector-Jacobian product that backward computes.

    ``v`` has the output's shape (it may be omitted for a one-element output). With
    ``strict`` an input the output does not depend on is an error instead of a zero result.
    """
    was_tuple = isinstance(inputs, (list, tuple))
    xs = _prepare(inputs, create_graph)
    with enable_grad():
        out = func(*xs)
    outs = _results(out, "vjp")
    if v is None:
        if any(o.numel() != 1 for o in outs):
            raise RuntimeError("vjp: v can be omitted only when the output has one element")
        v = tuple(Tensor._make(np.ones(o.shape, o.dtype)) for o in outs)
    _check_vectors(_tuple(v), outs, "output", "vjp")
    result = _grads_or_zeros(outs, xs, _tuple(v), create_graph, "vjp" if strict else "")
    if not create_graph:
        out = tuple(o.detach() for o in outs) if isinstance(out, (list, tuple)) else out.detach()
        result = tuple(r.detach() for r in result)
    return out, _unwrap(result, was_tuple)


def jvp(
    func: Callable, inputs: Any, v: Any = None, create_graph: bool = False, strict: bool = False
) -> tuple[Any, Any]:
    """``(func(inputs), J v)``: the Jacobian-vector product, by the double-backward trick.

    With u a dummy cotangent, g(u) = u^T J is linear in u, so the gradient of g . v with respect
    to u is J v: two reverse passes give a forward-mode derivative. ``v`` has one entry per
    input; ``strict`` as in ``vjp``.
    """
    xs = _prepare(inputs, create_graph)
    if v is None:
        if any(x.numel() != 1 for x in xs):
            raise RuntimeError("jvp: v can be omitted only when the input has one element")
        v = tuple(Tensor._make(np.ones(x.shape, x.dtype)) for x in xs)
    vs = _tuple(v)
    _check_vectors(vs, xs, "input", "jvp")
    with enable_grad():
        out = func(*xs)
        outs = _results(out, "jvp")
        us = tuple(Tensor(np.zeros(o.shape), dtype=o.dtype, requires_grad=True) for o in outs)
        gs = _grads_or_zeros(outs, xs, us, True, "jvp" if strict else "")
        pairs = [(g, vi) for g, vi in zip(gs, vs) if g.requires_grad]
        if pairs:
            total = sum(((g * vi).sum() for g, vi in pairs[1:]), (pairs[0][0] * pairs[0][1]).sum())
            jv = grad(total, list(us), create_graph=create_graph, allow_unused=True)
        else:
            jv = (None,) * len(us)
    result = tuple(Tensor._make(np.zeros(o.shape, o.dtype)) if j is None else j for j, o in zip(jv, outs))
    if not create_graph:
        result = tuple(r.detach() for r in result)
        out = tuple(o.detach() for o in outs) if isinstance(out, (list, tuple)) else out.detach()
    return out, _unwrap(result, isinstance(out, (list, tuple)))


def jacobian(func: Callable, inputs: Any, create_graph: bool = False, strict: bool = False) -> Any:
    """The explicit Jacobian: shape ``output.shape + input.shape`` (tuples for several).

    One backward pass per output element, so only for small problems. ``strict`` as in ``vjp``.
    """
    in_tuple = isinstance(inputs, (list, tuple))
    xs = _prepare(inputs, create_graph)
    with enable_grad():
        out = func(*xs)
    out_tuple = isinstance(out, (list, tuple))
    rows = []
    for o in _results(out, "jacobian"):
        per_input = []
        flat = [[] for _ in xs]
        for r in range(o.numel()):
            onehot = np.zeros(o.numel(), o.dtype)
            onehot[r] = 1
            gs = _grads_or_zeros((o,), xs, (Tensor._make(onehot.reshape(o.shape)),), create_graph,
                                 "jacobian" if strict else "")  # fmt: skip
            for k, g in enumerate(gs):
                flat[k].append(g)
        from autograd.ops.shape import stack

        for k, x in enumerate(xs):
            if flat[k]:
                jac = stack(flat[k]).reshape(o.shape + x.shape)
            else:
                jac = Tensor._make(np.zeros(o.shape + x.shape, x.dtype))
            per_input.append(jac if create_graph else jac.detach())
        rows.append(_unwrap(tuple(per_input), in_tuple))
    return _unwrap(tuple(rows), out_tuple)


def hessian(func: Callable, inputs: Any, create_graph: bool = False, strict: bool = False) -> Any:
    """The Hessian of a scalar function: shape ``input.shape + input.shape``.

    It is the Jacobian of the gradient, computed with ``create_graph=True`` underneath.
    ``strict`` as in ``vjp`` (here: a gradient that does not depend on an input).
    """
    in_tuple = isinstance(inputs, (list, tuple))

    def gradient(*xs: Tensor) -> Any:
        outs = _results(func(*xs), "hessian")
        if len(outs) != 1 or outs[0].numel() != 1:
            shapes = ", ".join(str(o.shape) for o in outs)
            raise RuntimeError(f"hessian needs a function with one output element, got shape(s) {shapes}")
        out = outs[0]
        gs = _grads_or_zeros((out,), xs, (Tensor._make(np.ones(out.shape, out.dtype)),), True)
        return gs if in_tuple else gs[0]

    return jacobian(gradient, inputs, create_graph=create_graph, strict=strict)
