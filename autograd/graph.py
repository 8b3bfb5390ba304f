"""Recording extra information about the graph, for drawing and stepping through it (``viz``).

Normally a graph keeps only what backward needs: an op's output value and the gradients of
intermediate tensors are dropped as soon as possible. Inside ``record()`` every op also
keeps its output tensor (``node.output``, which then keeps its ``.grad`` after backward)
and the stack of ``nn.Module`` calls it ran in (``node.modules``), so a picture can show the
value above each wire, the gradient below it, and which layer made each op::

    with autograd.graph.record():
        loss = model(x).sum()
    loss.backward()
    viz.draw_graph(loss)

It costs memory (every intermediate value stays alive while the graph does) and a little
time, so it is for exploring, not for training.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from autograd.grad_mode import _Mode, _state


class record(_Mode):
    """Keep each op's output, its gradient and its module scope while the block runs."""

    attr = "recording"

    def __init__(self, mode: bool = True) -> None:
        super().__init__(mode)


def is_recording() -> bool:
    """True inside ``record()``."""
    return _state.recording


@contextmanager
def module_scope(module: Any) -> Iterator[None]:
    """Mark ops created inside the block as belonging to ``module`` (used by ``nn.Module``)."""
    outer = _state.modules
    _state.modules = outer + (module,)
    try:
        yield
    finally:
        _state.modules = outer


def current_modules() -> tuple:
    """The module calls in progress, outermost first."""
    return _state.modules
