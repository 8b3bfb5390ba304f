"""The tensor entry points of backpropagation: ``Tensor.backward`` and ``autograd.grad``.

They check what they are given, build the starting gradient of each output (dL/d output: 1
for a one-element loss) and hand the pairs (output's node, its gradient) to the engine's
traversal, :func:`autograd.engine.run_backward`, which knows nothing about tensors.

Grad mode is theirs to set: a first-order pass runs with recording off, so every op's backward
works on plain numpy arrays; ``create_graph=True`` keeps recording, so the gradients are
Tensors with a graph of their own (and can be differentiated again).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from autograd.engine import run_backward
from autograd.grad_mode import _state
from autograd.tensor import values_of


def root_gradient(t: Any, grad: Any, position: str, noun: str = "output") -> Any:
    """The starting gradient dL/d``t`` as a Tensor of ``t``'s shape and dtype, checked.

    ``grad`` may be None for a one-element ``t`` (it is 1), else a Tensor or anything
    ``np.asarray`` takes. ``position`` names ``t`` in errors ("the output", "output 1"),
    ``noun`` says what it is ("output"; "root" for ``viz.backward_steps``, which uses the
    same checks).
    """
    from autograd.tensor import Tensor

    if not isinstance(t, Tensor):
        raise TypeError(f"{position} must be a Tensor, got {type(t).__name__}")
    if not t.requires_grad:
        raise RuntimeError(
            f"{position} does not require grad and has no grad_fn, so there is nothing to "
            "differentiate: create the leaves with requires_grad=True (and not under no_grad())"
        )
    if grad is None:
        if t._data.size != 1:
            raise RuntimeError(
                f"grad can be implicitly created only for one-element outputs, but {position} has "
                f"shape {tuple(t.shape)}: pass gradient= (dL/d{position}, same shape), or reduce "
                "it first, e.g. y.sum().backward()"
            )
        return Tensor._make(np.ones(t.shape, dtype=t.dtype))
    grad = grad if isinstance(grad, Tensor) else Tensor._make(np.asarray(grad, dtype=t.dtype))
    if grad.shape != t.shape:
        raise RuntimeError(
            f"the gradient for {position} has shape {tuple(grad.shape)} but the {noun} has shape "
            f"{tuple(t.shape)}; they must match"
        )
    return grad if grad.dtype == t.dtype else grad.to(t.dtype)


def _seed(t: Any, grad: Any, position: str, create_graph: bool) -> Any:
    """The starting gradient in the pass's kind: a Tensor under create_graph, else its numpy array."""
    g = root_gradient(t, grad, position)
    return g if create_graph else g._data


def observing(observer: Any = None) -> Any:
    """The engine's observer for a pass: ``observer`` (or None), and under detect_anomaly()
    first a check of each op node's gradients for NaN and Inf as it runs, which names the op
    and where it was made."""
    if not _state.anomaly:
        return observer

    def check(node: Any, grad: Any, grads: tuple) -> None:
        if hasattr(node, "_check_finite"):  # (an op node; leaves pass nothing on)
            node._check_finite(grads)
        if observer is not None:
            observer(node, grad, grads)

    return check


def _node(t: Any) -> Any:
    """The engine node of a tensor: the op that made it, or the leaf itself."""
    return t.grad_fn if t.grad_fn is not None else t


def backward(
    tensors: Any, grad_tensors: Any = None, retain_graph: bool | None = None, create_graph: bool = False
) -> None:
    """Accumulate d(tensors)/d(leaf) into every leaf's ``.grad`` (see ``Tensor.backward``)."""
    from autograd.grad_mode import set_grad_enabled

    tensors = _as_list(tensors)
    grads = _as_list(grad_tensors, len(tensors))
    if retain_graph is None:
        retain_graph = create_graph
    with set_grad_enabled(create_graph):
        seeds = [_seed(t, g, "the output", create_graph) for t, g in zip(tensors, grads)]  # (checks t first)
        roots = [(_node(t), seed) for t, seed in zip(tensors, seeds)]
        run_backward(roots, retain_graph, accumulate=True, observer=observing())
    for t in tensors:  # so that viz.backward_steps knows the gradients are already in .grad
        if t.grad_fn is not None:
            t.grad_fn._backward_ran = True


def grad(
    outputs: Any,
    inputs: Any,
    grad_outputs: Any = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    allow_unused: bool = False,
) -> tuple:
    """Return d(outputs)/d(inputs) as a tuple, without touching any ``.grad``.

    With ``create_graph=True`` the returned gradients are part of a graph themselves, so they
    can be differentiated again (Hessian-vector products, gradient penalties).
    """
    from autograd.grad_mode import set_grad_enabled
    from autograd.tensor import Tensor

    outputs = _as_list(outputs)
    single = not isinstance(inputs, (list, tuple))
    inputs = _as_list(inputs)
    grad_outputs = _as_list(grad_outputs, len(outputs))
    if retain_graph is None:
        retain_graph = create_graph
    for i, t in enumerate(inputs):
        if not isinstance(t, Tensor):
            raise TypeError(f"input {i} of grad() must be a Tensor, got {type(t).__name__}")
        if not t.requires_grad:
            raise RuntimeError(f"input {i} of grad() does not require grad; create it with requires_grad=True")
    capture = {}  # engine node -> the first input it belongs to
    for i, t in enumerate(inputs):
        capture.setdefault(_node(t), i)
    with set_grad_enabled(create_graph):
        seeds = [_seed(t, g, f"output {i}", create_graph) for i, (t, g) in enumerate(zip(outputs, grad_outputs))]
        roots = [(_node(t), seed) for t, seed in zip(outputs, seeds)]
        found = run_backward(roots, retain_graph, accumulate=False, capture=capture, observer=observing())
    result = []
    for i, t in enumerate(inputs):
        g = found.get(capture[_node(t)])
        if g is None and not allow_unused:
            raise RuntimeError(
                f"input {i} (shape {tuple(t.shape)}) was not used to compute the outputs; pass "
                "allow_unused=True to get None for it"
            )
        if g is not None and not create_graph:  # a first-order pass computes numpy arrays
            g = Tensor._make(np.array(values_of(g), copy=True))
        result.append(g)
    return tuple(result) if not single else (result[0],)


def _as_list(value: Any, n: int | None = None) -> list:
    """One value or a list/tuple of them as a list (``n`` Nones for a missing list of gradients)."""
    if n is not None and value is None:
        return [None] * n
    items = list(value) if isinstance(value, (list, tuple)) else [value]
    if n is not None and len(items) != n:
        raise ValueError(f"got {len(items)} gradient(s) for {n} output(s)")
    return items
