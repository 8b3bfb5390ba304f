"""Grad modes: ``no_grad``, ``enable_grad``, ``set_grad_enabled``, ``inference_mode`` and ``detect_anomaly``.

Each is a context manager and a decorator, and the state is thread-local, as in PyTorch:
turning gradients off in one thread does not affect another.
"""

from __future__ import annotations

import functools
import inspect
import threading
from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


class _State(threading.local):
    """Per-thread switches read by ``Function.apply`` on every op."""

    grad_enabled = True
    watched = False  # anomaly or recording: apply() reads this one switch, not both
    _anomaly = False
    _recording = False
    modules: tuple = ()  # the nn.Module calls in progress, outermost first (while recording)

    @property
    def anomaly(self) -> bool:
        """detect_anomaly(): remember where ops were made, check backward for NaN/Inf."""
        return self._anomaly

    @anomaly.setter
    def anomaly(self, on: bool) -> None:
        self._anomaly = on
        self.watched = on or self._recording

    @property
    def recording(self) -> bool:
        """autograd.graph.record(): keep outputs, gradients and module scopes."""
        return self._recording

    @recording.setter
    def recording(self, on: bool) -> None:
        self._recording = on
        self.watched = on or self._anomaly


_state = _State()


def is_grad_enabled() -> bool:
    """Return True when operations are being recorded for backward."""
    return _state.grad_enabled


def is_anomaly_enabled() -> bool:
    """Return True inside ``detect_anomaly()``."""
    return _state.anomaly


class _Mode:
    """A context manager (and decorator) that sets one thread-local switch and restores it."""

    attr = "grad_enabled"

    def __init__(self, mode: bool) -> None:
        self.mode = bool(mode)
        self.prev: list[bool] = []

    def __enter__(self) -> None:
        self.prev.append(getattr(_state, self.attr))
        setattr(_state, self.attr, self.mode)

    def __exit__(self, *exc: object) -> None:
        setattr(_state, self.attr, self.prev.pop())

    def __call__(self, fn: F) -> F:
        """Use the mode as a decorator: every call of ``fn`` runs inside it (for a generator
        function: every step of the generator, wherever it is resumed from)."""

        attr, mode = self.attr, self.mode

        def inside(call: Callable, *args: Any, **kwargs: Any) -> Any:
            prev = getattr(_state, attr)  # a local, so threads and recursion stay independent
            setattr(_state, attr, mode)
            try:
                return call(*args, **kwargs)
            finally:
                setattr(_state, attr, prev)

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            return inside(fn, *args, **kwargs)

        @functools.wraps(fn)
        def generator_wrapper(*args: Any, **kwargs: Any) -> Any:
            gen = fn(*args, **kwargs)
            resume, value = gen.send, None
            while True:
                try:
                    item = inside(resume, value)
                except StopIteration as stop:
                    return stop.value
                try:
                    resume, value = gen.send, (yield item)
                except GeneratorExit:
                    inside(gen.close)  # (its finally blocks run inside the mode too)
                    raise
                except BaseException as exc:  # thrown into us: pass it on, inside the mode
                    resume, value = gen.throw, exc

        return generator_wrapper if inspect.isgeneratorfunction(fn) else wrapper  # type: ignore[return-value]


class _PlainMode(_Mode):
    """A mode without arguments, usable bare as a decorator too (``@no_grad``), as in PyTorch."""

    def __new__(cls, func: Callable | None = None) -> Any:
        if func is None:
            return super().__new__(cls)
        return cls()(func)  # used as @no_grad without parentheses: decorate func


class set_grad_enabled(_Mode):
    """Turn recording on (``True``) or off (``False``).

    As in PyTorch it takes effect at once, so it works as a plain call, and as a context
    manager or decorator it restores the previous mode afterwards::

        with set_grad_enabled(False):
            y = x * 2          # y.requires_grad is False
    """

    def __init__(self, mode: bool) -> None:
        super().__init__(mode)
        self.before = _state.grad_enabled
        _state.grad_enabled = self.mode

    def __enter__(self) -> None:
        """The mode is already set (by the constructor)."""

    def __exit__(self, *exc: object) -> None:
        _state.grad_enabled = self.before

    def __call__(self, fn: F) -> F:
        """Use as a decorator: the mode applies inside ``fn`` only."""
        _state.grad_enabled = self.before  # undo the switch made by the constructor
        return super().__call__(fn)


class no_grad(_PlainMode):
    """Run the block without recording a graph (inference, optimizer updates).

    >>> with no_grad():
    ...     w -= lr * w.grad   # in-place update of a leaf
    """

    def __init__(self) -> None:
        super().__init__(False)


class enable_grad(_PlainMode):
    """Record a graph inside the block even when an outer ``no_grad`` is active."""

    def __init__(self) -> None:
        super().__init__(True)


class detect_anomaly(_Mode):
    """Debug mode: remember where each op was created and check backward for NaN/Inf.

    A NaN or Inf produced by an op's backward raises ``RuntimeError`` naming the op and
    showing the line of user code that created it in the forward pass. Slow: debugging only.
    """

    attr = "anomaly"

    def __init__(self, mode: bool = True) -> None:
        super().__init__(mode)


class inference_mode(_Mode):
    """Like ``no_grad``, for pure inference: nothing inside is recorded, and tensors made inside
    have ``requires_grad=False``. ``inference_mode(False)`` does nothing. A context manager and a
    decorator (``@inference_mode`` or ``@inference_mode()``), as in PyTorch.

    (PyTorch also marks those tensors as "inference tensors" that autograd later refuses; dagrad
    does not, so here it behaves exactly as ``no_grad``.)
    """

    def __new__(cls, mode: Any = True) -> Any:
        if callable(mode):  # used bare, @inference_mode: decorate the function
            return cls()(mode)
        return super().__new__(cls)

    def __init__(self, mode: bool = True) -> None:
        super().__init__(not mode)
        self.enabled = bool(mode)

    def __enter__(self) -> None:
        if self.enabled:  # inference_mode(False) leaves the current mode alone
            super().__enter__()

    def __exit__(self, *exc: object) -> None:
        if self.enabled:
            super().__exit__(*exc)

    def __call__(self, fn: F) -> F:
        """Use as a decorator (``inference_mode(False)`` leaves ``fn`` as it is)."""
        return super().__call__(fn) if self.enabled else fn
