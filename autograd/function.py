"""``Function``: one differentiable operation, with its forward and backward side by side.

Write a new op by subclassing and giving two static methods, exactly as in PyTorch::

    class Multiply(Function):
        @staticmethod
        def forward(ctx, x, y):
            ctx.save_for_backward(x, y)
            return x * y

        @staticmethod
        def backward(ctx, grad_z):        # z = x * y
            x, y = ctx.saved_tensors
            return grad_z * y, grad_z * x  # upstream x local gradient

    z = Multiply.apply(x, y)

The instance passed as ``ctx`` is also the graph node: ``z.grad_fn`` is that object. Every
built-in op of dagrad is written this way (see ``autograd/ops``).

``forward`` runs with recording switched off and may return a Tensor or a numpy array.
``backward`` receives Tensors and must use Tensor operations, so that ``create_graph=True``
can differentiate the backward pass itself (higher-order gradients).
"""

from __future__ import annotations

import traceback
from typing import Any

import numpy as np

from autograd.grad_mode import _state
from autograd.tensor import Tensor

_FREED = (
    "Trying to backward through the graph a second time (or to read saved tensors after "
    "they were freed) in {name}. Saved intermediate values are freed after backward to save "
    "memory; pass retain_graph=True to the first backward() or autograd.grad() call if you "
    "need to backward through the graph again."
)


class _SavedOutput:
    """Marks the slot of ``saved`` that holds the op's own output (see ``saved_tensors``)."""

    __slots__ = ("data",)

    def __init__(self, data: np.ndarray) -> None:
        self.data = data


class Function:
    """Base class of every differentiable op; an instance is the op's ``ctx`` and graph node.

    Subclasses define ``forward(ctx, *args)`` and ``backward(ctx, *grad_outputs)`` as static
    methods and are called through ``Fn.apply(*args)``.
    """

    #: True for ops whose output shares memory with input 0 (reshape, transpose, ...): the
    #: output then shares input 0's version counter, so in-place changes are seen by both.
    is_view = False

    # Engine-node defaults; apply() sets the real values on recorded nodes.
    _parents: tuple = ()
    _saved: tuple | None = ()
    _hooks: list | None = None
    _retained: Any = None
    _trace: str | None = None
    _freed = False

    def save_for_backward(self, *values: Any) -> None:
        """Keep tensors (or numpy arrays) for ``backward``.

        Saving the very object that ``forward`` returns gives ``backward`` the op's output as
        a Tensor attached to this node, so output-based derivatives (sigmoid, exp) stay
        correct under ``create_graph=True``. A tensor modified in place after it was saved
        makes backward raise an error instead of returning a wrong gradient.
        """
        self._saved = values
        self._versions = tuple(v._vc[0] if isinstance(v, Tensor) else 0 for v in values)

    @property
    def saved_tensors(self) -> tuple:
        """The values given to ``save_for_backward``, checked to be unmodified."""
        if self._freed:
            raise RuntimeError(_FREED.format(name=self.name()))
        out = []
        for i, v in enumerate(self._saved):
            if isinstance(v, _SavedOutput):
                v = self._output_tensor(v.data)
            elif isinstance(v, Tensor) and v._vc[0] != self._versions[i]:
                raise RuntimeError(
                    f"One of the tensors needed by {self.name()} for gradient computation was "
                    f"modified by an in-place operation: saved tensor {i} of shape "
                    f"{tuple(v.shape)} is at version {v._vc[0]}; expected version "
                    f"{self._versions[i]}. Use an out-of-place op (x = x * 2 instead of "
                    "x.mul_(2)) or clone() the tensor before changing it."
                )
            out.append(v)
        return tuple(out)

    def _output_tensor(self, data: np.ndarray) -> Tensor:
        """The op's output as a Tensor whose grad_fn is this node (for double backward)."""
        if self._out_vc[0] != self._out_version:
            raise RuntimeError(
                f"The output of {self.name()}, needed for its gradient, was modified by an "
                f"in-place operation (version {self._out_vc[0]}, expected {self._out_version}). "
                "Use an out-of-place op or clone() the output before changing it."
            )
        if _state.grad_enabled:
            return Tensor._make(data, self)
        return Tensor._make(data)

    @classmethod
    def name(cls) -> str:
        """The node's display name, e.g. ``MulBackward``."""
        return cls.__name__ + "Backward"

    def __repr__(self) -> str:
        return f"<{self.name()}>"

    @classmethod
    def apply(cls, *args: Any, **kwargs: Any) -> Tensor:
        """Run ``forward`` on ``args`` and, when any input requires grad, record the node."""
        ctx = cls()
        needs = tuple(isinstance(a, Tensor) and a.requires_grad for a in args)
        ctx.needs_input_grad = needs
        enabled = _state.grad_enabled
        record = enabled and True in needs
        _state.grad_enabled = False  # forward itself is never recorded
        try:
            result = cls.forward(ctx, *args, **kwargs)
        finally:
            _state.grad_enabled = enabled
        if isinstance(result, Tensor):
            out_data = result.data
        else:
            out_data = np.asarray(result)
        if cls.is_view and isinstance(args[0], Tensor):
            out = Tensor._make(out_data, None, args[0]._vc)
        else:
            out = Tensor._make(out_data)
        saved = ctx._saved
        if saved and any(v is result for v in saved):
            # The output was saved: keep its data, not the Tensor, to avoid a reference cycle.
            ctx._saved = tuple(_SavedOutput(out_data) if v is result else v for v in saved)
            ctx._out_vc, ctx._out_version = out._vc, out._vc[0]
        if record:
            if out_data.dtype.kind not in "fc":
                raise TypeError(
                    f"{cls.__name__} returned a {out_data.dtype} tensor from inputs that require "
                    "grad; only floating-point outputs can be differentiated."
                )
            ctx._parents = tuple(
                (a.grad_fn or a) if need else None for a, need in zip(args, needs)
            )
            ctx._meta = tuple((a.shape, a.dtype) if need else None for a, need in zip(args, needs))
            out.requires_grad = True
            out.grad_fn = ctx
            if _state.anomaly:
                ctx._trace = "".join(traceback.format_stack()[:-1])
        else:
            ctx._saved = None
        return out

    # ---- engine node protocol (see autograd/engine.py) ----

    def _receive(self, grad: Tensor, accumulate: bool) -> Tensor:
        if self._hooks:
            for hook in self._hooks:
                new = hook(grad)
                if new is not None:
                    grad = new
        if accumulate and self._retained is not None:
            tensor = self._retained()
            if tensor is not None:
                tensor._accumulate(grad)
        return grad

    def _backward(self, grad: Tensor) -> tuple:
        if self._freed:
            raise RuntimeError(_FREED.format(name=self.name()))
        grads = type(self).backward(self, grad)
        if not isinstance(grads, tuple):
            grads = (grads,)
        if len(grads) != len(self._parents):
            raise RuntimeError(
                f"{type(self).__name__}.backward returned {len(grads)} gradient(s) but forward "
                f"took {len(self._parents)} input(s); return one per input (None for inputs "
                "that need no gradient)."
            )
        out = []
        for i, (g, meta) in enumerate(zip(grads, self._meta)):
            if meta is None or g is None:
                out.append(None)
                continue
            if not isinstance(g, Tensor):
                g = Tensor._make(np.asarray(g, dtype=meta[1]))
            if g.shape != meta[0] or g.dtype != meta[1]:
                raise RuntimeError(
                    f"{type(self).__name__}.backward returned a gradient of shape "
                    f"{tuple(g.shape)} and dtype {g.dtype} for input {i}, which has shape "
                    f"{tuple(meta[0])} and dtype {meta[1]}: a gradient must match its input "
                    "(reduce broadcast dimensions with sum_to, cast with .to(dtype))."
                )
            if _state.anomaly and not np.all(np.isfinite(g.data)):
                where = self._trace or "(created outside detect_anomaly)\n"
                raise RuntimeError(
                    f"{self.name()} returned NaN or Inf in its gradient for input {i}.\n"
                    f"The op was created by:\n{where}"
                )
            out.append(g)
        return tuple(out)

    def _release(self) -> None:
        self._saved = None
        self._freed = True

