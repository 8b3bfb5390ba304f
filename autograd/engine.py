"""The reverse-mode engine: one iterative traversal shared by ``Tensor`` and ``Scalar``.

The graph is made of *nodes*. For tensors the nodes are the ``Function`` instances in
``grad_fn`` plus the leaf tensors; for scalars every ``Scalar`` is its own node. What the
traversal asks of a node is written down below as four small protocols (``Node``, ``OpNode``,
``TensorNode``, ``TensorOpNode``); ``tests/test_structure.py`` checks that Tensor leaves,
``Function`` nodes and ``Scalar`` have them.

The order comes from creation numbers (no recursion, so a chain of 100,000 ops is fine): an
op's inputs always exist before the op, so every node that feeds a gradient into a node was
created after it. Running the waiting node with the largest number first therefore runs a
node only after all its consumers, when its gradient is complete; inputs used twice
(``a + a``) simply receive two contributions that add up. Leaves feed nothing, so they run
last. No pass over the graph is needed before the gradients start to flow.

Finding the largest waiting number is cheap because a graph's nodes are mostly made one after
the other: the next node to run is usually the one numbered just below the last, a single
dict lookup. Only when that number is not waiting (it belongs to another graph, or no edge
reached it) does the pass put the waiting numbers in a heap and ask it from then on.

The gradient summed so far at each node belongs to the pass, not to the node (a dict local to
:func:`run_backward`): passes in several threads through shared weights do not mix.

``Tensor.backward`` and ``autograd.grad`` (starting gradients, argument checks, grad mode)
live in ``autograd/backprop.py``; this module knows nothing about tensors.
"""

from __future__ import annotations

import heapq
import itertools
import os
from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

#: Every op node takes the next number when it is created (``Function.apply``, ``Scalar``).
#: An op's inputs always exist before it, so larger numbers come later in the graph.
next_sequence_nr = itertools.count(1).__next__


@runtime_checkable
class Node(Protocol):
    """Anything in the graph: a leaf (a tensor, a Scalar you made) or an op node."""

    #: One entry per input of the op that made the node: the node that should receive that
    #: input's gradient, or None when it needs none. Leaves have ``()``.
    _parents: tuple
    #: The creation number (``next_sequence_nr()``); 0 for a leaf, which runs after every op.
    _seq: int
    #: False lets the engine skip ``_receive`` on an op node (a ``Function`` without hooks or
    #: retain_grad; a ``Scalar``, which keeps its gradient in ``_backward``). Leaves are always called.
    _receives: bool

    def _receive(self, grad: Any, accumulate: bool) -> Any:
        """Take the *total* gradient that reached the node, once per pass: run hooks and, for a
        leaf, add it to ``.grad`` when ``accumulate``. Returns the (possibly hook-replaced) gradient."""


@runtime_checkable
class OpNode(Node, Protocol):
    """A node made by an op (``_seq > 0``): it passes its gradient on to its parents."""

    #: How the engine checks each gradient ``_backward`` returns: ``CHECK_NONE`` (Scalar),
    #: ``CHECK_KIND`` or ``CHECK_EXACT`` (tensor ops; see below). A gradient that fails the
    #: check goes through ``_fit``.
    _check_grads: int

    def _backward(self, grad: Any) -> tuple:
        """The vector-Jacobian product: one gradient per parent (None where none is needed)."""

    def _release(self) -> None:
        """Free what was saved for backward (called after ``_backward`` unless ``retain_graph``)."""


@runtime_checkable
class TensorNode(Node, Protocol):
    """A node whose gradient is an array: the shape and dtype that gradient must have."""

    _out_shape: tuple
    _out_dtype: Any


@runtime_checkable
class TensorOpNode(OpNode, TensorNode, Protocol):
    """A tensor op node (``_check_grads`` is ``CHECK_KIND`` or ``CHECK_EXACT``)."""

    def _fit(self, g: Any, parent: TensorNode, grads: tuple, kind: type) -> Any:
        """The slow path for a gradient that does not match ``parent`` exactly: convert a plain
        number (or the other kind of value) to ``parent``'s dtype, or raise an error naming the op."""


#: What the engine checks of a gradient an op node returns (``OpNode._check_grads``):
CHECK_NONE = 0  # nothing (Scalar: plain floats)
CHECK_KIND = 1  # it is the pass's kind of value, an array or a Tensor (built-in tensor ops)
CHECK_EXACT = 2  # that, and its parent's exact shape and dtype (a user's Function)

#: True: built-in ops' gradients are checked as exactly as a user's Function's. They are off
#: the check in ordinary use because the test suite proves every built-in op returns exact
#: gradients, running with this switched on (``tests/conftest.py``); it costs about 5% of a
#: small op's time. Set it (or the environment variable DAGRAD_CHECK_GRADS=1) to find a
#: wrong gradient while developing an op.
check_every_gradient = os.environ.get("DAGRAD_CHECK_GRADS") == "1"

_NO_GRAD = object()  # a node queued by an edge that carried no gradient (None)


def run_backward(
    roots: Sequence[tuple[Node, Any]],
    retain_graph: bool,
    accumulate: bool = True,
    capture: dict[Node, int] | None = None,
    observer: Any = None,
) -> dict[int, Any]:
    """Propagate gradients from ``roots`` (pairs of node and its gradient) to the leaves.

    With ``accumulate`` leaves keep their gradient in ``.grad``; ``capture`` maps nodes whose
    total gradient the caller wants (``autograd.grad``) to a position, and the result maps
    each position to that gradient. ``observer(node, grad, grads)``, if given, is called as each
    node runs (``viz`` steps through it). Grad mode (``create_graph``) is the caller's business.
    """
    pending: dict = {}  # node -> the gradient summed so far in this pass
    waiting: dict = {}  # _seq -> op node, for the op nodes reached that have not run yet
    leaves: list = []  # reached nodes without parents: nothing depends on them, they run last
    captured: dict[int, Any] = {}
    for node, grad in roots:
        if node in pending:
            pending[node] = pending[node] + grad
        else:
            pending[node] = grad
            _queue(node, waiting, leaves)
    later = None  # a heap of the waiting numbers, once the next one is not just below the last
    take, drop, so_far_at, push = waiting.pop, pending.pop, pending.get, heapq.heappush  # (fast local names)
    seq = max(waiting, default=0) + 1  # the number of the node that ran last
    while waiting:  # the latest-created waiting node runs next
        seq -= 1
        node = take(seq, None)  # most often the node made just before the last one that ran
        if node is None:  # no waiting node has this number: ask a heap of the waiting numbers
            seq, later = _largest_waiting(waiting, later)
            node = take(seq)
        grad = drop(node)
        parents = node._parents
        kind = None  # the type every gradient must have when the node's are checked
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
            check = node._check_grads
            if check:  # tensors: gradients come back as the same kind (array or Tensor)
                kind, exact = type(grad), check == CHECK_EXACT or check_every_gradient  # (exact: and fit)
        i = -1  # (a counter, not zip(parents, grads): zip measured ~8% slower on Scalar graphs)
        for parent in parents:
            i += 1
            if parent is None:  # this input needs no gradient
                continue
            g = grads[i]
            if kind is not None and g is not None:  # a tensor gradient: its kind (and shape and dtype)
                if type(g) is not kind or exact and (g.shape != parent._out_shape or g.dtype is not parent._out_dtype):
                    g = node._fit(g, parent, grads, kind)  # a number to convert, or an error
            so_far = so_far_at(parent)
            if so_far is None:  # the first edge to reach it: queue it
                pending[parent] = _NO_GRAD if g is None else g
                if parent._seq:
                    waiting[parent._seq] = parent
                    if later is not None:
                        push(later, -parent._seq)
                else:
                    leaves.append(parent)
            elif g is not None:
                pending[parent] = g if so_far is _NO_GRAD else so_far + g
        if not retain_graph:
            node._release()
    for node in leaves:
        grad = pending.pop(node)
        if grad is not _NO_GRAD:
            grad = node._receive(grad, accumulate)
            if capture is not None and node in capture:
                captured[capture[node]] = grad
            if observer is not None:
                observer(node, grad, ())
    return captured


def _queue(node: Node, waiting: dict, leaves: list) -> None:
    """Put a root in line (run_backward does the same inline for every edge)."""
    if node._seq:
        waiting[node._seq] = node
    else:
        leaves.append(node)


def _largest_waiting(waiting: dict, later: list | None) -> tuple[int, list]:
    """The largest number in ``waiting``, from the heap ``later`` of negated waiting numbers
    (made here on first use; run_backward then pushes each newly waiting number onto it).
    Numbers of nodes that ran since they were pushed are dropped on the way."""
    if later is None:
        later = [-seq for seq in waiting]
        heapq.heapify(later)
    while -later[0] not in waiting:
        heapq.heappop(later)
    return -heapq.heappop(later), later
