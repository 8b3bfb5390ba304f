"""The reverse-mode engine: one iterative traversal shared by ``Tensor`` and ``Scalar``.

The graph is made of *nodes*. A node is anything with this small protocol:

- ``_parents``: a tuple with one entry per input of the op that made the node; each entry is
  the parent node that should receive a gradient, or ``None`` when that input needs none.
  Leaves have ``()``.
- ``_seq``: the node's creation number (``next_sequence_nr()``), 0 for a leaf.
- ``_receive(grad, accumulate)``: called once per pass with the *total* gradient that reached
  the node. It runs hooks and, for leaves, stores the gradient when ``accumulate`` is true.
  It returns the (possibly hook-replaced) gradient. Op nodes whose ``_receives`` is false
  are not called (a ``Function`` without hooks or retain_grad; a ``Scalar``, which keeps
  its gradient in ``_backward``).
- ``_backward(grad)``: the vector-Jacobian product: a tuple of gradients, one per parent.
- ``_check_grads``: true for tensor nodes: the engine checks each gradient the node returns
  against its parent's ``_out_shape`` and ``_out_dtype`` and calls ``_fit`` on a mismatch
  (which converts a plain number, or raises an error naming the op).
- ``_release()``: free what was saved for backward (called unless ``retain_graph``).

The gradient summed so far at each node belongs to the pass, not to the node (a dict local to
:func:`run_backward`): passes in several threads through shared weights do not mix.

For tensors the nodes are the ``Function`` instances in ``grad_fn`` plus the leaf tensors;
for scalars every ``Scalar`` is its own node. Both run through :func:`run_backward`.

The order comes from creation numbers (no recursion, so a chain of 100,000 ops is fine): an
op's inputs always exist before the op, so every node that feeds a gradient into a node was
created after it. Running the waiting node with the largest number first (a heap) therefore
runs a node only after all its consumers, when its gradient is complete; inputs used twice
(``a + a``) simply receive two contributions that add up. Leaves feed nothing, so they run
last. No pass over the graph is needed before the gradients start to flow.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Sequence
from typing import Any

import numpy as np

#: Every op node takes the next number when it is created (``Function.apply``, ``Scalar``).
#: An op's inputs always exist before it, so larger numbers come later in the graph.
next_sequence_nr = itertools.count(1).__next__

_NO_GRAD = object()  # a node queued by an edge that carried no gradient (None)


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
    waiting: list = []  # heap of -sequence_nr: the latest-created op node runs next
    by_nr: dict = {}  # sequence_nr -> the waiting node (plain numbers compare faster than pairs)
    leaves: list = []  # reached nodes without parents: nothing depends on them, they run last
    pending: dict = {}  # node -> the gradient summed so far in this pass
    captured: dict[int, Any] = {}
    for node, grad in roots:
        if node in pending:
            pending[node] = pending[node] + grad
        else:
            pending[node] = grad
            _queue(node, waiting, by_nr, leaves)
    pop, push, reached, take, have, drop = (
        heapq.heappop, heapq.heappush, leaves.append, by_nr.pop, pending.get, pending.pop
    )  # fmt: skip
    while waiting:
        node = take(-pop(waiting))
        parents = node._parents
        grad = drop(node)
        kind = None
        if grad is _NO_GRAD:  # nothing flowed here (every path to it was cut)
            grads = (None,) * len(parents)
        else:
            if node._receives:
                grad = node._receive(grad, accumulate)
            if capture is not None and node in capture:
                captured[capture[node]] = grad
            grads = node._backward(grad)
            if observer is not None:
                observer(node, grad, grads)
            if node._check_grads:  # tensors: every gradient must match its input exactly
                kind = type(grad)  # gradients come back as the same kind (array or Tensor)
        i = -1  # (a counter rather than zip(parents, grads): faster per edge in CPython)
        for parent in parents:
            i += 1
            if parent is not None:
                g = grads[i]
                if (
                    kind is not None
                    and g is not None
                    and (type(g) is not kind or g.shape != parent._out_shape or g.dtype is not parent._out_dtype)
                ):
                    g = node._fit(g, parent, grads, kind)  # a number to convert, or an error
                so_far = have(parent)
                if so_far is None:  # the first edge to reach it: queue it
                    pending[parent] = _NO_GRAD if g is None else g
                    seq = parent._seq
                    if seq:
                        push(waiting, -seq)
                        by_nr[seq] = parent
                    else:
                        reached(parent)
                elif g is not None:
                    pending[parent] = g if so_far is _NO_GRAD else so_far + g
        if not retain_graph:
            node._release()
    for node in leaves:
        grad = drop(node)
        if grad is not _NO_GRAD:
            grad = node._receive(grad, accumulate)
            if capture is not None and node in capture:
                captured[capture[node]] = grad
            if observer is not None:
                observer(node, grad, ())
    return captured


def _queue(node: Any, waiting: list, by_nr: dict, leaves: list) -> None:
    """Put a node that just got its first gradient in line (see run_backward)."""
    if node._seq:
        heapq.heappush(waiting, -node._seq)
        by_nr[node._seq] = node
    else:
        leaves.append(node)


# ---------------------------------------------------------------- the public entry points
# (Tensor-specific: building root gradients, checking arguments, grad mode for create_graph.)


def _root_grad(t: Any, grad: Any, position: str, create_graph: bool) -> Any:
    """The starting gradient: a Tensor under create_graph, else a numpy array (nothing recorded)."""
    g = _root_tensor(t, grad, position)
    return g if create_graph else g._data


def _root_tensor(t: Any, grad: Any, position: str) -> Any:
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
        seeds = [_root_grad(t, g, "the output", create_graph) for t, g in zip(tensors, grads)]  # (checks t first)
        roots = [(_node(t), seed) for t, seed in zip(tensors, seeds)]
        run_backward(roots, retain_graph, accumulate=True)
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
    capture = {}
    for i, t in enumerate(inputs):
        capture.setdefault(_node(t), i)
    with set_grad_enabled(create_graph):
        seeds = [_root_grad(t, g, f"output {i}", create_graph) for i, (t, g) in enumerate(zip(outputs, grad_outputs))]
        roots = [(_node(t), seed) for t, seed in zip(outputs, seeds)]
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
            g = Tensor._make(np.array(g._data if isinstance(g, Tensor) else g, copy=True))
        result.append(g)
    return tuple(result) if not single else (result[0],)


def _as_list(value: Any, n: int | None = None) -> list:
    if n is not None and value is None:
        return [None] * n
    items = list(value) if isinstance(value, (list, tuple)) else [value]
    if n is not None and len(items) != n:
        raise ValueError(f"got {len(items)} gradient(s) for {n} output(s)")
    return items
