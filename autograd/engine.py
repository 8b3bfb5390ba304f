"""The reverse-mode engine: one iterative traversal shared by ``Tensor`` and ``Scalar``.

The graph is made of *nodes*. A node is anything with this small protocol:

- ``_parents``: a tuple with one entry per input of the op that made the node; each entry is
  the parent node that should receive a gradient, or ``None`` when that input needs none.
  Leaves have ``()``.
- ``_receive(grad, accumulate)``: called once per pass with the *total* gradient that reached
  the node. It runs hooks and, for leaves (or every ``Scalar``), stores the gradient when
  ``accumulate`` is true. It returns the (possibly hook-replaced) gradient. Nodes whose
  ``_receives`` is false (an op with no hooks) are not called.
- ``_backward(grad)``: the vector-Jacobian product: a tuple of gradients, one per parent.
- ``_release()``: free what was saved for backward (called unless ``retain_graph``).
- ``_deps`` and ``_pending``: scratch space for one pass, 0 and None between passes (the
  number of consumers still to run, and the gradient summed so far).

For tensors the nodes are the ``Function`` instances in ``grad_fn`` plus the leaf tensors;
for scalars every ``Scalar`` is its own node. Both run through :func:`run_backward`.

The order is found with dependency counts (no recursion, so a chain of 100,000 ops is
fine): a node runs only after every node that feeds it a gradient has run, so its gradient
is complete; inputs used twice (``a + a``) simply receive two contributions that add up.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np


def _count_consumers(roots: Sequence[Any]) -> None:
    """Set every reachable node's ``_deps`` to the number of edges leading into it.

    A node is explored when its count first leaves 0; the roots start with one extra
    (virtual) count so that reaching a root again does not explore it twice, and lose it at
    the end.
    """
    for node in roots:
        node._deps += 1
    stack = list(roots)
    pop, push = stack.pop, stack.append
    while stack:
        for parent in pop()._parents:
            if parent is not None:
                count = parent._deps
                parent._deps = count + 1
                if not count:
                    push(parent)
    for node in roots:
        node._deps -= 1


def _reset(roots: Sequence[Any]) -> None:
    """Clear the pass scratch space of every node reachable from ``roots`` (after an error)."""
    stack, seen = list(roots), set()
    while stack:
        node = stack.pop()
        node._deps, node._pending = 0, None
        for parent in node._parents:
            if parent is not None and id(parent) not in seen:
                seen.add(id(parent))
                stack.append(parent)


def run_backward(
    roots: Sequence[tuple[Any, Any]],
    retain_graph: bool,
    accumulate: bool = True,
    capture: dict[Any, int] | None = None,
    observer: Any = None,
) -> dict[int, Any]:
    """Propagate gradients from ``roots`` (pairs of node and its gradient) to the leaves.

    With ``accumulate`` leaves keep their gradient in ``.grad``; ``capture`` maps nodes whose
    total gradient the caller wants (``autograd.grad``) to a position, and the result maps
    each position to that gradient. ``observer(node, grad, grads)``, if given, is called as
    each node runs (``viz`` steps through backward with it). Grad mode (``create_graph``) is
    the caller's business.
    """
    nodes = list(dict.fromkeys(node for node, _ in roots))
    _count_consumers(nodes)
    try:
        for node, grad in roots:
            node._pending = grad if node._pending is None else node._pending + grad
        captured: dict[int, Any] = {}
        ready = [node for node in nodes if not node._deps]
        pop, push = ready.pop, ready.append
        while ready:
            node = pop()
            parents = node._parents
            grad = node._pending
            node._pending = None
            if grad is None:  # nothing flowed here (every path to it was cut)
                grads = (None,) * len(parents)
            else:
                if node._receives:
                    grad = node._receive(grad, accumulate)
                if capture is not None and node in capture:
                    captured[capture[node]] = grad
                grads = node._backward(grad) if parents else ()
                if observer is not None:
                    observer(node, grad, grads)
            for parent, g in zip(parents, grads):
                if parent is None:
                    continue
                if g is not None:
                    pending = parent._pending
                    parent._pending = g if pending is None else pending + g
                count = parent._deps - 1
                parent._deps = count
                if not count:
                    push(parent)
            if parents and not retain_graph:
                node._release()
    except BaseException:
        _reset(nodes)
        raise
    return captured


# ---------------------------------------------------------------- the public entry points
# (Tensor-specific: building root gradients, checking arguments, grad mode for create_graph.)


def _root_grad(t: Any, grad: Any, position: str, create_graph: bool) -> Any:
    """The starting gradient: a Tensor under create_graph, else a numpy array (nothing recorded)."""
    g = _root_tensor(t, grad, position)
    return g if create_graph else g.data


def _root_tensor(t: Any, grad: Any, position: str) -> Any:
    from autograd.tensor import Tensor

    if not t.requires_grad:
        raise RuntimeError(
            f"{position} does not require grad and has no grad_fn, so there is nothing to "
            "differentiate: create the leaves with requires_grad=True (and not under no_grad())"
        )
    if grad is None:
        if t.data.size != 1:
            raise RuntimeError(
                f"grad can be implicitly created only for one-element outputs, but {position} has "
                f"shape {tuple(t.shape)}: pass gradient= (dL/d{position}, same shape), or reduce "
                "it first, e.g. y.sum().backward()"
            )
        return Tensor._make(np.ones(t.shape, dtype=t.dtype))
    grad = grad if isinstance(grad, Tensor) else Tensor._make(np.asarray(grad, dtype=t.dtype))
    if grad.shape != t.shape:
        raise RuntimeError(
            f"gradient for {position} has shape {tuple(grad.shape)} but {position} has shape "
            f"{tuple(t.shape)}; they must match"
        )
    return grad if grad.dtype == t.dtype else grad.to(t.dtype)


def _node(t: Any) -> Any:
    return t.grad_fn if t.grad_fn is not None else t


def backward(
    tensors: Any, grad_tensors: Any = None, retain_graph: bool | None = None, create_graph: bool = False
) -> None:
    """Accumulate d(tensors)/d(leaf) into every leaf's ``.grad`` (see ``Tensor.backward``)."""
    from autograd.grad_mode import set_grad_enabled

    tensors, grads = _as_list(tensors), _as_list(grad_tensors, len(_as_list(tensors)))
    if retain_graph is None:
        retain_graph = create_graph
    with set_grad_enabled(create_graph):
        roots = [(_node(t), _root_grad(t, g, "the output", create_graph)) for t, g in zip(tensors, grads)]
        run_backward(roots, retain_graph, accumulate=True)


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
        if not t.requires_grad:
            raise RuntimeError(f"input {i} of grad() does not require grad; create it with requires_grad=True")
    capture = {}
    for i, t in enumerate(inputs):
        capture.setdefault(_node(t), i)
    with set_grad_enabled(create_graph):
        roots = [
            (_node(t), _root_grad(t, g, f"output {i}", create_graph))
            for i, (t, g) in enumerate(zip(outputs, grad_outputs))
        ]
        found = run_backward(roots, retain_graph, accumulate=False, capture=capture)
    result = []
    for i, t in enumerate(inputs):
        g = found.get(capture[_node(t)])
        if g is None and not allow_unused:
            raise RuntimeError(
                f"input {i} (shape {tuple(t.shape)}) was not used to compute the outputs; pass "
                "allow_unused=True to get None for it"
            )
        if g is not None and not create_graph:  # a first-order pass computes numpy arrays
            g = Tensor._make(np.array(g.data if isinstance(g, Tensor) else g, copy=True))
        result.append(g)
    return tuple(result) if not single else (result[0],)


def _as_list(value: Any, n: int | None = None) -> list:
    if n is not None and value is None:
        return [None] * n
    items = list(value) if isinstance(value, (list, tuple)) else [value]
    if n is not None and len(items) != n:
        raise ValueError(f"got {len(items)} gradient(s) for {n} output(s)")
    return items
