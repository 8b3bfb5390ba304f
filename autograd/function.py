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
import weakref
from typing import Any

import numpy as np

from autograd.engine import CHECK_EXACT, CHECK_KIND, next_sequence_nr
from autograd.grad_mode import _state
from autograd.tensor import Tensor, as_array, values_of

_FREED = (
    "Trying to backward through the graph a second time (or to read saved tensors after "
    "they were freed) in {name}. Saved intermediate values are freed after backward to save "
    "memory; pass retain_graph=True to the first backward() or autograd.grad() call if you "
    "need to backward through the graph again."
)


class AccumulateGrad:
    """The node that stores a leaf's gradient in ``.grad`` (what ``next_functions`` shows for a
    leaf; in dagrad the leaf tensor itself is that node in the engine)."""

    next_functions: tuple = ()

    def __init__(self, variable: Tensor) -> None:
        self.variable = variable

    @staticmethod
    def name() -> str:
        """PyTorch's name for this node."""
        return "torch::autograd::AccumulateGrad"

    def __repr__(self) -> str:
        return "<AccumulateGrad>"


class _SavedOutput:
    """Stands in ``saved`` for the op's own output: its values and version counter, not the
    Tensor itself (whose grad_fn is this node: keeping it would make a reference cycle)."""

    __slots__ = ("_data", "_vc")

    def __init__(self, out: Tensor) -> None:
        self._data, self._vc = out._data, out._vc


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
    _seq = 0  # creation order (engine: later nodes run first)
    _saved: tuple | None = ()
    _hooks: list | None = None
    _retained: Any = None
    _receives = False  # the engine skips _receive until a hook or retain_grad needs it
    _check_grads = CHECK_EXACT  # the engine checks the kind, shape and dtype of every gradient backward returns
    _trace: str | None = None
    _backward_ran = False  # set once backward() has accumulated through this node as a root
    _versions: list = []  # (version counter, version when saved) per saved tensor
    _saved_data: list | None = []  # the saved values as numpy arrays (first-order backward)
    _out_index: int | None = None  # which saved value is the op's own output
    #: Built-in ops (``Op``) write backward so it also runs on numpy arrays; a user's Function
    #: always receives and returns Tensors.
    array_backward = False
    #: True only while a built-in op's backward runs in a first-order pass. Such a backward is
    #: handed numpy arrays, not Tensors (nothing needs recording, and numpy is much faster), so
    #: ``saved_tensors`` must hand out the saved values as numpy arrays too. Under
    #: ``create_graph=True`` the same backward gets Tensors, and this stays False. (``Op._backward``.)
    _arrays = False

    def save_for_backward(self, *values: Any) -> None:
        """Keep tensors (or numpy arrays) for ``backward``.

        Saving the very object that ``forward`` returns gives ``backward`` the op's output as
        a Tensor attached to this node, so output-based derivatives (sigmoid, exp) stay
        correct under ``create_graph=True``. A tensor modified in place after it was saved
        makes backward raise an error instead of returning a wrong gradient.
        """
        self._saved = values  # apply() records their versions once the node is kept

    @property
    def saved_tensors(self) -> tuple:
        """The values given to ``save_for_backward``, checked to be unmodified."""
        saved = self._saved
        if saved is None:
            raise RuntimeError(_FREED.format(name=self.name()))
        for counter, version in self._versions:
            if counter[0] != version:
                raise self._modified(counter, version)
        if self._arrays:  # a built-in op's backward in a first-order pass: numpy in, numpy out
            return self._saved_data
        i = self._out_index
        if i is not None:
            saved = saved[:i] + (self._output_tensor(saved[i]._data),) + saved[i + 1 :]
        return saved

    def _modified(self, counter: list, version: int) -> RuntimeError:
        """The error for a saved value changed in place since forward."""
        found = [(i, v) for i, v in enumerate(self._saved) if getattr(v, "_vc", None) is counter]
        i, value = found[0] if found else (self._out_index, None)  # (not in _saved: an in-place op's output)
        if i == self._out_index:
            return RuntimeError(
                f"The output of {self.name()}, needed for its gradient, was modified by an "
                f"in-place operation (version {counter[0]}, expected {version}). "
                "Use an out-of-place op or clone() the output before changing it."
            )
        return RuntimeError(
            f"One of the tensors needed by {self.name()} for gradient computation was "
            f"modified by an in-place operation: saved tensor {i} of shape "
            f"{tuple(value.shape)} is at version {counter[0]}; expected version "
            f"{version}. Use an out-of-place op (x = x * 2 instead of "
            "x.mul_(2)) or clone() the tensor before changing it."
        )

    def _output_tensor(self, data: np.ndarray) -> Tensor:
        """The op's output as a Tensor whose grad_fn is this node (for double backward)."""
        if _state.grad_enabled:
            return Tensor._make(data, self)
        return Tensor._make(data)

    @classmethod
    def name(cls) -> str:
        """The node's display name, e.g. ``MulBackward``."""
        return cls.__name__ + "Backward"

    @property
    def next_functions(self) -> tuple:
        """``((node, 0), ...)``, one per input, as PyTorch: the op that made the input, an
        ``AccumulateGrad`` for a leaf that requires grad, ``None`` for an input needing no gradient."""
        return tuple((AccumulateGrad(p) if isinstance(p, Tensor) else p, 0) for p in self._parents)

    def __repr__(self) -> str:
        return f"<{self.name()}>"

    @classmethod
    def apply(cls, *args: Any, **kwargs: Any) -> Tensor:
        """Run ``forward`` on ``args`` and, when any input requires grad, record the node."""
        ctx = cls()
        state = _state
        if not state.grad_enabled:  # no_grad (and backward without create_graph): just compute
            ctx.needs_input_grad = (False,) * len(args)
            try:
                result = cls.forward(ctx, *args, **kwargs)
            except Exception as error:
                _failed(error, cls, args)
                raise
            out = Tensor._make(_array(result, cls), None, args[0]._vc if ctx.is_view else None)
            if ctx.is_view:
                _track_view(out, args[0], None)
            return out
        needs, parents = _inputs(args)
        ctx.needs_input_grad = needs
        try:
            if cls.array_backward:  # a built-in forward only computes with numpy: nothing to switch off
                result = cls.forward(ctx, *args, **kwargs)
            else:  # a user's forward may use Tensor ops: they must not be recorded
                state.grad_enabled = False
                try:
                    result = cls.forward(ctx, *args, **kwargs)
                finally:
                    state.grad_enabled = True
        except Exception as error:
            _failed(error, cls, args)
            raise
        out_data = result if type(result) is np.ndarray else _array(result, cls)
        view_of = args[0]._vc if ctx.is_view else None
        if True not in needs:  # no input requires grad: nothing to record
            out = Tensor._make(out_data, None, view_of)
            if view_of is not None:
                _track_view(out, args[0], (cls, args[1:]))
            return out
        dtype = out_data.dtype
        if dtype.kind != "f":
            raise TypeError(
                f"{cls.__name__} returned a {dtype} tensor from inputs that require "
                "grad; only real floating-point outputs can be differentiated."
            )
        out = Tensor._make(out_data, ctx, view_of)
        if view_of is not None:
            _track_view(out, args[0], (cls, args[1:]))
        ctx._seq = next_sequence_nr()
        ctx._parents = parents
        ctx._out_shape, ctx._out_dtype = out_data.shape, dtype
        if ctx._saved:
            ctx._remember_saved(result, out)
        if state.watched:  # detect_anomaly() or autograd.graph.record()
            ctx._debug(out)
        return out

    def _remember_saved(self, result: Any, out: Tensor) -> None:
        """Note the version of every saved tensor and the numpy values a first-order
        backward works on; the op's own output is kept as a ``_SavedOutput``."""
        saved = self._saved
        versions, data = [], []  # (lists, and no enumerate: this runs for most ops)
        for v in saved:
            if v is result:  # backward gets it back as a Tensor attached to this node
                i = len(data)
                self._saved = saved = saved[:i] + (_SavedOutput(out),) + saved[i + 1 :]
                self._out_index = i
                v = out
            if isinstance(v, Tensor):
                versions.append((v._vc, v._vc[0]))
                data.append(v._data)
            else:
                data.append(v)
        self._versions, self._saved_data = versions, data

    def _debug(self, out: Tensor) -> None:
        """What detect_anomaly() and autograd.graph.record() keep about a new node."""
        if _state.anomaly:
            self._trace = "".join(traceback.format_stack()[:-2])
        if _state.recording:  # keep what a drawing of the graph shows
            self.output, self.modules = out, _state.modules
            self._retained = weakref.ref(out)
            self._receives = True

    # ---- engine node protocol (see autograd/engine.py) ----

    def _receive(self, grad: Any, accumulate: bool) -> Any:
        if self._hooks:
            grad = run_hooks(self._hooks, grad)
        if accumulate and self._retained is not None:
            tensor = self._retained()
            if tensor is not None:
                tensor._accumulate(grad)
        return grad

    def _backward(self, grad: Any) -> tuple:
        """Engine protocol, for a user's Function: ``backward`` works on Tensors only.

        ``grad`` is a Tensor under ``create_graph=True`` and a numpy array otherwise (the engine
        passes whatever the pass works on): then it is wrapped in a Tensor, and the results are
        unwrapped again. Built-in ops take the faster road of ``Op._backward``.
        """
        if self._saved is None:
            raise RuntimeError(_FREED.format(name=self.name()))
        if isinstance(grad, Tensor):  # create_graph: Tensors in and out
            grads = _as_tuple(self._user_backward(grad))
        else:  # a first-order pass: wrap the gradient, unwrap the results
            grads = _as_tuple(self._user_backward(Tensor._make(np.asarray(grad))))
            grads = tuple([values_of(g) for g in grads])
        return self._checked(grads)

    def _checked(self, grads: tuple) -> tuple:
        """One gradient per input (None for those needing none)."""
        parents = self._parents
        if len(grads) != len(parents):
            raise RuntimeError(
                f"{type(self).__name__}.backward returned {len(grads)} gradient(s) but forward "
                f"took {len(parents)} input(s); return one per input (None for inputs "
                "that need no gradient)."
            )
        return grads

    def _user_backward(self, grad: Tensor) -> Any:
        """Call ``backward`` on Tensors; unpacking saved_tensors that were never saved gets a clear error."""
        try:
            return type(self).backward(self, grad)
        except ValueError as error:
            if self._saved or not str(error).startswith("not enough values to unpack"):
                raise
            raise ValueError(
                f"{error}: {type(self).__name__}.backward unpacked ctx.saved_tensors, but forward saved "
                "nothing; call ctx.save_for_backward(...) in forward with the tensors backward needs"
            ) from error

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError(
            f"{type(self).__name__}() is not called directly: use {type(self).__name__}.apply(...) "
            "(PyTorch's convention for autograd.Function; apply records the op in the graph)"
        )

    def _check_finite(self, grads: tuple) -> None:
        """detect_anomaly(): raise if a gradient holds NaN or Inf, showing where the op was made
        (``autograd.backprop`` calls it as each node runs, while anomaly detection is on)."""
        for i, g in enumerate(grads):
            if g is not None and not np.all(np.isfinite(values_of(g))):
                where = self._trace or "(created outside detect_anomaly)\n"
                raise RuntimeError(
                    f"{self.name()} returned NaN or Inf in its gradient for input {i}.\nThe op was created by:\n{where}"
                )

    def _fit(self, g: Any, parent: Any, grads: tuple, kind: type) -> Any:
        """The engine's slow path for a gradient that is not exactly right (see engine.py):
        convert a number (or the other kind of value) to ``parent``'s dtype, else raise."""
        arrays, given = not issubclass(kind, Tensor), g  # a first-order pass works on numpy arrays
        if type(g) is not (np.ndarray if arrays else Tensor):  # a number, or the other kind
            values = np.asarray(values_of(g), dtype=parent._out_dtype)
            g = values if arrays else Tensor._make(values)
        values = g if arrays else g._data
        if values.shape != parent._out_shape or values.dtype != parent._out_dtype:
            i = next(i for i, (h, p) in enumerate(zip(grads, self._parents)) if h is given and p is parent)
            raise RuntimeError(
                f"{type(self).__name__}.backward returned a gradient of shape "
                f"{tuple(values.shape)} and dtype {values.dtype} for input {i}, which has shape "
                f"{tuple(parent._out_shape)} and dtype {parent._out_dtype}: a gradient must match its "
                "input (sum broadcast dimensions away with autograd.unbroadcast, cast with .to(dtype))."
            )
        return g

    def _release(self) -> None:
        if self._saved:  # a node that saved nothing can run again (as in PyTorch)
            self._saved = self._saved_data = None

    @property
    def _freed(self) -> bool:
        """True once backward has freed what was saved (``retain_graph=False``)."""
        return self._saved is None


class Op(Function):
    """Base of the built-in ops: their backward runs on numpy arrays as well as on Tensors.

    Written with operators and the helpers of ``autograd.ops.either``, one backward serves both
    a fast first-order pass (arrays, nothing recorded) and ``create_graph=True`` (Tensors).
    """

    array_backward = True
    #: The engine checks only that gradients stay arrays (or Tensors): the test suite proves
    #: their shapes and dtypes, with ``autograd.engine.check_every_gradient`` on.
    _check_grads = CHECK_KIND

    def _backward(self, grad: Any) -> tuple:
        """Engine protocol, for a built-in op: one ``backward`` serves both kinds of pass.

        In a first-order pass (``grad`` a numpy array) backward runs on numpy arrays, saved
        values included (``_arrays``): the hot path of every ``loss.backward()``, so it skips
        the count check (built-in ops return one gradient per input). Under
        ``create_graph=True`` (``grad`` a Tensor) it runs on Tensors, and its operations are
        recorded so that the gradient can be differentiated again.
        """
        if self._saved is None:
            raise RuntimeError(_FREED.format(name=self.name()))
        if type(grad) is not np.ndarray:
            if isinstance(grad, Tensor):  # create_graph: Tensors in and out
                return self._checked(_as_tuple(self._user_backward(grad)))
            grad = np.asarray(grad)  # numpy turns 0-d sums into numpy scalars
        self._arrays = True  # saved_tensors hands out numpy arrays
        try:
            grads = self.backward(self, grad)  # (built-in backwards are staticmethods)
        finally:
            self._arrays = False
        return grads if type(grads) is tuple else (grads,)


def _failed(error: Exception, op: type, args: tuple) -> None:
    """A forward that raised: say which op it was and the shape of each operand (and the module
    running, while recording), and keep the operands so ``viz.draw_graph(error)`` can draw the
    graph up to the failing op. The innermost op names itself; outer ops leave the note alone."""
    if getattr(error, "dagrad_op", None) is not None:
        return
    operands = []
    for i, a in enumerate(args):
        if isinstance(a, Tensor):
            operands.append(f"input {i}: shape {tuple(a.shape)} {a.dtype}")
    where = f" in {type(_state.modules[-1]).__name__}" if _state.modules else ""
    error.dagrad_op = op.__name__
    error.dagrad_inputs = tuple(a for a in args if isinstance(a, Tensor))
    if hasattr(error, "add_note"):  # (Python 3.11+: shown under the error's message)
        error.add_note(
            f"while running {op.__name__}{where} ({'; '.join(operands) or 'no tensor inputs'}); "
            "viz.draw_graph(error) draws the graph up to this op"
        )


def _track_view(out: Tensor, source: Tensor, step: tuple | None) -> None:
    """Remember that ``out`` is a view of ``source`` (and so of its base): the base, the view
    ops from the base (None for a view made under no_grad) and the version they were read at.
    An in-place change through the view rewrites the base's history (``Tensor._inplace``)."""
    view = source._view
    if view is None:
        out._view = (source, None if step is None else (step,), out._vc[0])
    else:
        steps = None if view[1] is None or step is None else view[1] + (step,)
        out._view = (view[0], steps, out._vc[0])


def _inputs(args: tuple) -> tuple[tuple, tuple]:
    """needs_input_grad (which arguments are Tensors that require grad) and the engine node
    each one's gradient goes to: its grad_fn, or the leaf itself; None where none is needed.
    (One and two arguments are spelled out: this runs for every op. A view whose base changed
    in place reads its history through the properties; everything else through the slots.)"""
    if len(args) == 2:
        a, b = args
        pa = pb = None
        if isinstance(a, Tensor):
            if a._view is not None:
                pa = (a.grad_fn or a) if a.requires_grad else None
            elif a._requires_grad:
                pa = a._grad_fn or a
        if isinstance(b, Tensor):
            if b._view is not None:
                pb = (b.grad_fn or b) if b.requires_grad else None
            elif b._requires_grad:
                pb = b._grad_fn or b
        return (pa is not None, pb is not None), (pa, pb)
    if len(args) == 1:
        a = args[0]
        pa = None
        if isinstance(a, Tensor):
            if a._view is not None:
                pa = (a.grad_fn or a) if a.requires_grad else None
            elif a._requires_grad:
                pa = a._grad_fn or a
        return (pa is not None,), (pa,)
    parents = tuple([_parent(a) for a in args])
    return tuple([p is not None for p in parents]), parents


def _parent(a: Any) -> Any:
    """The engine node an argument's gradient goes to (None: it needs none)."""
    if not isinstance(a, Tensor):
        return None
    if a._view is None:
        return (a._grad_fn or a) if a._requires_grad else None
    return (a.grad_fn or a) if a.requires_grad else None


def run_hooks(hooks: list, grad: Any) -> Any:
    """Call gradient hooks in order (they see Tensors); each may return a replacement, which
    must have the gradient's shape (and is cast to its dtype)."""
    arrays = not isinstance(grad, Tensor)
    value = Tensor._make(np.asarray(grad)) if arrays else grad
    for hook in hooks:
        new = hook(value)
        if new is not None:
            new = new if isinstance(new, Tensor) else Tensor._make(np.asarray(new, dtype=value.dtype))
            if new.shape != value.shape:
                name = getattr(hook, "__name__", repr(hook))
                raise RuntimeError(
                    f"hook {name} returned a gradient of shape {tuple(new.shape)} for a tensor of shape "
                    f"{tuple(value.shape)}; a hook may change the gradient's values, not its shape"
                )
            value = new if new.dtype == value.dtype else new.to(value.dtype)
    return value._data if arrays else value


def _as_tuple(value: Any) -> tuple:
    return value if type(value) is tuple else tuple(value) if type(value) is list else (value,)


def _array(result: Any, fn: type) -> np.ndarray:
    """forward's result as an ndarray (numpy returns scalars for 0-d results)."""
    if type(result) is np.ndarray:
        return result
    if isinstance(result, (tuple, list)):
        raise TypeError(
            f"{fn.__name__}.forward returned {len(result)} values; a dagrad Function has one output "
            "(several outputs are not supported): write one Function per output, or stack them"
        )
    return as_array(result)
