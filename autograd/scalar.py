"""``Scalar``: one Python float that records the operations applied to it (micrograd-like).

It exists for the lecture's scalar circuits: pure-Python floats are far cheaper than 0-d
numpy arrays. Every ``Scalar`` is a graph node of its own and runs through the same engine
traversal as tensors (``autograd/engine.py``). After ``backward()`` every node, leaf or not,
holds its gradient in ``.grad``, so the whole circuit can be read (or drawn) with values
above the wires and gradients below.

``backward()`` keeps PyTorch's rules: ``.grad`` *adds up* (``+=``) across calls, as it does
inside one pass where a value is used twice; a graph can be backpropagated through only once,
unless the first call passes ``retain_graph=True`` (the second call then adds the same
gradients again: call ``zero_grad()`` in between to start from 0). Gates that keep nothing
for their backward (``+``, ``-``, negation) can run again, as in PyTorch.

Each op below is a forward one-liner plus a small module-level backward function that
returns (upstream x local gradient) for each parent — no closures, so building a graph
allocates only the node and its parents tuple.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from autograd.engine import next_sequence_nr, run_backward
from autograd.function import _FREED  # the text PyTorch gives for a second backward

Number = int | float


class Scalar:
    """A float node: ``.data`` (value), ``.grad`` (dL/d this), ``.backward()``.

    >>> w, x = Scalar(2.0), Scalar(-1.0)
    >>> L = (w * x + 1).sigmoid()
    >>> L.backward(); w.grad
    """

    __slots__ = ("data", "grad", "_a", "_b", "_back", "_aux", "label", "_seq", "_released")
    _check_grads = False  # engine protocol: gradients are floats, nothing to check
    _receives = False  # engine protocol: an op node keeps its gradient in _backward (leaves in _receive)

    def __init__(
        self,
        data: Number,
        _a: Scalar | None = None,
        _b: Scalar | None = None,
        _back: Callable | None = None,
        _aux: float = 0.0,
        label: str = "",
    ) -> None:
        self.data = float(data)
        self.grad = 0.0
        self._a = _a  # the parents, in two slots rather than a tuple: one object per node
        self._b = _b
        self._back = _back
        self._aux = _aux  # the constant of ops like x * 3 or x ** 2
        self.label = label
        self._seq = 0 if _a is None else next_sequence_nr()  # creation order (engine)
        self._released = False  # True once a backward without retain_graph went through this gate

    @property
    def _parents(self) -> tuple:
        """The nodes this one was computed from (the engine protocol's parents)."""
        a, b = self._a, self._b
        return () if a is None else (a,) if b is None else (a, b)

    @property
    def op(self) -> str:
        """The name of the operation that produced this node ('' for a leaf)."""
        return _OP_NAMES.get(self._back, "")

    @property
    def is_leaf(self) -> bool:
        """True for a value you created (not the result of an op)."""
        return self._a is None

    def __repr__(self) -> str:
        name = f"{self.label}=" if self.label else ""
        return f"Scalar({name}{self.data:.4g}, grad={self.grad:.4g})"

    # ---- arithmetic: a Scalar operand becomes a parent, a number becomes _aux
    def __add__(self, other: Scalar | Number) -> Scalar:
        if type(other) is Scalar:
            return Scalar(self.data + other.data, self, other, _add_back)
        return Scalar(self.data + other, self, None, _pass_back)

    __radd__ = __add__

    def __mul__(self, other: Scalar | Number) -> Scalar:
        if type(other) is Scalar:
            return Scalar(self.data * other.data, self, other, _mul_back)
        return Scalar(self.data * other, self, None, _scale_back, other)

    __rmul__ = __mul__

    def __neg__(self) -> Scalar:
        return Scalar(-self.data, self, None, _neg_back)

    def __sub__(self, other: Scalar | Number) -> Scalar:
        if type(other) is Scalar:
            return Scalar(self.data - other.data, self, other, _sub_back)
        return Scalar(self.data - other, self, None, _pass_back)

    def __rsub__(self, other: Number) -> Scalar:
        return Scalar(other - self.data, self, None, _rsub_back, other)

    def __truediv__(self, other: Scalar | Number) -> Scalar:
        if type(other) is Scalar:
            return Scalar(_divide(self.data, other.data), self, other, _div_back)
        return Scalar(_divide(self.data, other), self, None, _scale_back, _divide(1.0, other))

    def __rtruediv__(self, other: Number) -> Scalar:
        return Scalar(_divide(other, self.data), self, None, _rdiv_back, other)

    def __pow__(self, exponent: Number) -> Scalar:
        if isinstance(exponent, Scalar):
            raise TypeError("Scalar ** Scalar is not supported; use exp(b * log(a)) for a variable exponent")
        return Scalar(_power(self.data, exponent), self, None, _pow_back, exponent)

    def __rpow__(self, base: Number) -> Scalar:
        return Scalar(_power(base, self.data), self, None, _rpow_back, base)

    # ---- functions
    def exp(self) -> Scalar:
        """e^x (inf when it overflows, as in PyTorch)."""
        try:
            value = math.exp(self.data)
        except OverflowError:
            value = math.inf
        return Scalar(value, self, None, _exp_back)

    def log(self) -> Scalar:
        """Natural logarithm (-inf at 0, nan below, as in PyTorch)."""
        x = self.data
        return Scalar(math.log(x) if x > 0 else _ln(x), self, None, _log_back)

    def tanh(self) -> Scalar:
        """Hyperbolic tangent."""
        return Scalar(math.tanh(self.data), self, None, _tanh_back)

    def sigmoid(self) -> Scalar:
        """Logistic sigmoid, stable for large |x|."""
        x = self.data
        if x >= 0:
            s = 1.0 / (1.0 + math.exp(-x))
        else:
            e = math.exp(x)
            s = e / (1.0 + e)
        return Scalar(s, self, None, _sigmoid_back)

    def relu(self) -> Scalar:
        """max(x, 0) (NaN stays NaN and passes its gradient, as in PyTorch)."""
        return Scalar(0.0 if self.data <= 0 else self.data, self, None, _relu_back)

    # ---- backward
    def backward(self, gradient: Number | None = None, retain_graph: bool | None = None) -> None:
        """Compute dself/dnode for every node of the graph; each node *adds* it to ``.grad``.

        ``gradient`` is dL/dself (1 by default: self is the loss). As in PyTorch, a graph can
        be backpropagated through once: a second call raises, unless the first passed
        ``retain_graph=True``; then the second call adds the same gradients again (call
        ``zero_grad()`` first to get them once).
        """
        seed = 1.0 if gradient is None else float(gradient)
        run_backward([(self, seed)], retain_graph=bool(retain_graph), accumulate=True)

    def zero_grad(self) -> None:
        """Set ``.grad`` to 0 on this node and every node it depends on."""
        stack, seen = [self], {id(self)}
        while stack:
            node = stack.pop()
            node.grad = 0.0
            for p in node._parents:
                if id(p) not in seen:
                    seen.add(id(p))
                    stack.append(p)

    # engine node protocol (autograd/engine.py)
    def _receive(self, grad: float, accumulate: bool) -> float:
        self.grad += grad
        return grad

    def _backward(self, grad: float) -> tuple:
        if self._released:
            raise RuntimeError(_FREED.format(name=self._backward_name()))
        self.grad += grad
        return self._back(self, grad)

    def _release(self) -> None:
        """After a backward without retain_graph: this gate cannot run again if its backward
        reads values it kept (PyTorch frees them; a Scalar only marks the gate)."""
        if self._back not in _KEEPS_NOTHING:
            self._released = True

    def _backward_name(self) -> str:
        """``MulBackward (s0)``: the gate's name in errors, as a tensor op's."""
        name = _BACKWARD_NAMES.get(self.op, self.op.capitalize()) + "Backward"
        return f"{name} ({self.label})" if self.label else name


# Float arithmetic with IEEE results where Python raises (as numpy and PyTorch compute):
# x / 0 is +-inf (nan for 0 / 0), a negative number to a fractional power is nan.


def _divide(a: float, b: float) -> float:
    if b:
        return a / b
    if a == 0 or a != a:  # 0 / 0, nan / 0
        return math.nan
    return math.copysign(math.inf, a) * math.copysign(1.0, b)


def _power(x: float, p: float) -> float:
    try:
        result = x**p
    except ZeroDivisionError:  # 0 ** negative
        return math.inf
    except OverflowError:
        return math.inf if x > 0 or float(p).is_integer() and p % 2 == 0 else -math.inf
    return math.nan if type(result) is complex else float(result)


def _ln(x: float) -> float:
    return math.log(x) if x > 0 else -math.inf if x == 0 else math.nan


# Each backward gets the node and the upstream gradient g and returns g * local gradient
# for each parent. ``n.data`` is the node's own output; parents are n._a and n._b.


def _add_back(n: Scalar, g: float) -> tuple:  # z = x + y: dz/dx = dz/dy = 1
    return g, g


def _pass_back(n: Scalar, g: float) -> tuple:  # z = x + c: dz/dx = 1
    return (g,)


def _sub_back(n: Scalar, g: float) -> tuple:  # z = x - y: dz/dx = 1, dz/dy = -1
    return g, -g


def _mul_back(n: Scalar, g: float) -> tuple:  # z = x * y: dz/dx = y, dz/dy = x
    x, y = n._a, n._b
    return g * y.data, g * x.data


def _rsub_back(n: Scalar, g: float) -> tuple:  # z = c - x: dz/dx = -1
    return (-g,)


def _scale_back(n: Scalar, g: float) -> tuple:  # z = c * x: dz/dx = c
    return (g * n._aux,)


def _neg_back(n: Scalar, g: float) -> tuple:  # z = -x: dz/dx = -1
    return (-g,)


def _div_back(n: Scalar, g: float) -> tuple:  # z = x / y: dz/dx = 1/y, dz/dy = -z/y
    y = n._b
    return _divide(g, y.data), _divide(-g * n.data, y.data)


def _rdiv_back(n: Scalar, g: float) -> tuple:  # z = c / x: dz/dx = -c / x^2
    x = n._a
    return (_divide(-g * n._aux, x.data * x.data),)


def _pow_back(n: Scalar, g: float) -> tuple:  # z = x^p: dz/dx = p x^(p-1)
    x = n._a
    p = n._aux
    return (g * p * _power(x.data, p - 1) if p != 0 else 0.0,)


def _rpow_back(n: Scalar, g: float) -> tuple:  # z = c^x: dz/dx = c^x ln c
    if n._aux == 0 and n._a.data >= 0:  # 0^x is flat (0, or 1 at x = 0): 0, as PyTorch
        return (0.0,)
    return (g * n.data * _ln(n._aux),)


def _exp_back(n: Scalar, g: float) -> tuple:  # z = e^x: dz/dx = z
    return (g * n.data,)


def _log_back(n: Scalar, g: float) -> tuple:  # z = ln x: dz/dx = 1/x
    return (_divide(g, n._a.data),)


def _tanh_back(n: Scalar, g: float) -> tuple:  # z = tanh x: dz/dx = 1 - z^2
    return (g * (1.0 - n.data * n.data),)


def _sigmoid_back(n: Scalar, g: float) -> tuple:  # z = sigmoid x: dz/dx = z (1 - z)
    return (g * n.data * (1.0 - n.data),)


def _relu_back(n: Scalar, g: float) -> tuple:  # z = max(x, 0): dz/dx = 1 if x > 0
    return (0.0 if n.data <= 0 else g,)


_OP_NAMES = {
    _add_back: "+",
    _pass_back: "+",
    _sub_back: "-",
    _rsub_back: "-",
    _mul_back: "*",
    _scale_back: "*",
    _neg_back: "neg",
    _div_back: "/",
    _rdiv_back: "/",
    _pow_back: "**",
    _rpow_back: "**",
    _exp_back: "exp",
    _log_back: "log",
    _tanh_back: "tanh",
    _sigmoid_back: "sigmoid",
    _relu_back: "relu",
}

_BACKWARD_NAMES = {"+": "Add", "-": "Sub", "*": "Mul", "/": "Div", "**": "Pow", "neg": "Neg"}

# Gates whose backward reads no value (only the upstream gradient): they can run again after a
# backward without retain_graph, as PyTorch's AddBackward, SubBackward and NegBackward can.
_KEEPS_NOTHING = frozenset({_add_back, _pass_back, _sub_back, _rsub_back, _neg_back})
