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

The module reads top to bottom: a few float helpers; the *gates*, each a forward function (it
computes the value and makes the node) directly followed by its backward function (it returns
upstream x local gradient for each parent); ``GATES``, the one table that says what each gate
is called, what it shows in a drawing and what its backward reads (``viz`` draws and explains
gates from it); and finally the ``Scalar`` class, whose operators are those forwards. A node
keeps its backward function, not a closure, and its parents in two fields, not a tuple, so an
operation adds one object to the graph, the node: Python's cyclic garbage collector, which looks
over every new container object that stays alive, has no other to look at, and a graph holds no
reference cycle (it is freed the moment its last reference goes, without the collector).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import NamedTuple

from autograd.engine import CHECK_NONE, next_sequence_nr, run_backward
from autograd.function import _FREED  # the text PyTorch gives for a second backward

Number = int | float


# ---------------------------------------------------------------- float arithmetic
# IEEE results where Python raises (as numpy and PyTorch compute): x / 0 is +-inf (nan for
# 0 / 0), a negative number to a fractional power is nan.


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


# ---------------------------------------------------------------- the gates
# A forward gets its operands and returns the new node: _node(value, parent a, parent b,
# backward function, constant). A number operand is no parent: it becomes the constant
# (``_aux``), and the gate gets a backward with one parent; the value computed with it is made
# a Python float (the number may be an int or a numpy scalar). Each backward gets the node n and
# the upstream gradient g and returns g x local gradient for each parent; ``n.data`` is the
# node's own output, its parents are ``n._a`` and ``n._b``, its constant ``n._aux``.


_new_object = object.__new__  # makes an instance without running its class's __init__


def _node(value: float, a: Scalar, b: Scalar | None, back: Callable, aux: Number = 0.0) -> Scalar:
    """A gate's output node: the Scalar ``value`` with its parents, backward function and constant.

    It sets every field ``Scalar.__init__`` sets for a leaf, without calling ``__init__``: a graph
    makes one node per operation, and calling the class (which runs ``__init__`` from C) costs
    more than these assignments. The node is the only object a gate adds to the graph (see the
    module's docstring).
    """
    node = _new_object(Scalar)  # a Scalar whose fields are all set below
    node.data = value
    node.grad = 0.0
    node._a = a
    node._b = b
    node._back = back
    node._aux = aux
    node.label = ""
    node._seq = next_sequence_nr()
    node._released = False
    return node


def _add(x: Scalar, y: Scalar | Number) -> Scalar:  # z = x + y  (also c + x)
    if type(y) is Scalar:
        return _node(x.data + y.data, x, y, _add_back)
    return _node(float(x.data + y), x, None, _pass_back, y)


def _add_back(n: Scalar, g: float) -> tuple:  # z = x + y: dz/dx = dz/dy = 1
    return g, g


def _pass_back(n: Scalar, g: float) -> tuple:  # z = x + c: dz/dx = 1
    return (g,)


def _sub(x: Scalar, y: Scalar | Number) -> Scalar:  # z = x - y
    if type(y) is Scalar:
        return _node(x.data - y.data, x, y, _sub_back)
    return _node(float(x.data - y), x, None, _pass_back, -y)  # x - c is the gate x + (-c)


def _sub_back(n: Scalar, g: float) -> tuple:  # z = x - y: dz/dx = 1, dz/dy = -1
    return g, -g


def _rsub(x: Scalar, c: Number) -> Scalar:  # z = c - x
    return _node(float(c - x.data), x, None, _rsub_back, c)


def _rsub_back(n: Scalar, g: float) -> tuple:  # z = c - x: dz/dx = -1
    return (-g,)


def _neg(x: Scalar) -> Scalar:  # z = -x
    return _node(-x.data, x, None, _neg_back)


def _neg_back(n: Scalar, g: float) -> tuple:  # z = -x: dz/dx = -1
    return (-g,)


def _mul(x: Scalar, y: Scalar | Number) -> Scalar:  # z = x * y  (also c * x)
    if type(y) is Scalar:
        return _node(x.data * y.data, x, y, _mul_back)
    return _node(float(x.data * y), x, None, _scale_back, y)


def _mul_back(n: Scalar, g: float) -> tuple:  # z = x * y: dz/dx = y, dz/dy = x
    x, y = n._a, n._b
    return g * y.data, g * x.data


def _scale_back(n: Scalar, g: float) -> tuple:  # z = c * x: dz/dx = c
    return (g * n._aux,)


def _div(x: Scalar, y: Scalar | Number) -> Scalar:  # z = x / y
    if type(y) is Scalar:
        return _node(_divide(x.data, y.data), x, y, _div_back)
    return _node(float(_divide(x.data, y)), x, None, _scale_back, _divide(1.0, y))  # x / c is the gate x * (1/c)


def _div_back(n: Scalar, g: float) -> tuple:  # z = x / y: dz/dx = 1/y, dz/dy = -z/y
    y = n._b
    return _divide(g, y.data), _divide(-g * n.data, y.data)


def _rdiv(x: Scalar, c: Number) -> Scalar:  # z = c / x
    return _node(float(_divide(c, x.data)), x, None, _rdiv_back, c)


def _rdiv_back(n: Scalar, g: float) -> tuple:  # z = c / x: dz/dx = -c / x^2
    x = n._a
    return (_divide(-g * n._aux, x.data * x.data),)


def _pow(x: Scalar, p: Number) -> Scalar:  # z = x^p
    if isinstance(p, Scalar):
        raise TypeError("Scalar ** Scalar is not supported; use exp(b * log(a)) for a variable exponent")
    return _node(_power(x.data, p), x, None, _pow_back, p)


def _pow_back(n: Scalar, g: float) -> tuple:  # z = x^p: dz/dx = p x^(p-1)
    x = n._a
    p = n._aux
    return (g * p * _power(x.data, p - 1) if p != 0 else 0.0,)


def _rpow(x: Scalar, c: Number) -> Scalar:  # z = c^x
    return _node(_power(c, x.data), x, None, _rpow_back, c)


def _rpow_back(n: Scalar, g: float) -> tuple:  # z = c^x: dz/dx = c^x ln c
    if n._aux == 0 and n._a.data >= 0:  # 0^x is flat (0, or 1 at x = 0): 0, as PyTorch
        return (0.0,)
    return (g * n.data * _ln(n._aux),)


def _exp(x: Scalar) -> Scalar:
    """e^x (inf when it overflows, as in PyTorch)."""
    try:
        value = math.exp(x.data)
    except OverflowError:
        value = math.inf
    return _node(value, x, None, _exp_back)


def _exp_back(n: Scalar, g: float) -> tuple:  # z = e^x: dz/dx = z
    return (g * n.data,)


def _log(x: Scalar) -> Scalar:
    """Natural logarithm (-inf at 0, nan below, as in PyTorch)."""
    v = x.data
    return _node(math.log(v) if v > 0 else _ln(v), x, None, _log_back)


def _log_back(n: Scalar, g: float) -> tuple:  # z = ln x: dz/dx = 1/x
    return (_divide(g, n._a.data),)


def _tanh(x: Scalar) -> Scalar:
    """Hyperbolic tangent."""
    return _node(math.tanh(x.data), x, None, _tanh_back)


def _tanh_back(n: Scalar, g: float) -> tuple:  # z = tanh x: dz/dx = 1 - z^2
    return (g * (1.0 - n.data * n.data),)


def _sigmoid(x: Scalar) -> Scalar:
    """Logistic sigmoid, stable for large |x|."""
    v = x.data
    if v >= 0:
        s = 1.0 / (1.0 + math.exp(-v))
    else:
        e = math.exp(v)
        s = e / (1.0 + e)
    return _node(s, x, None, _sigmoid_back)


def _sigmoid_back(n: Scalar, g: float) -> tuple:  # z = sigmoid x: dz/dx = z (1 - z)
    return (g * n.data * (1.0 - n.data),)


def _relu(x: Scalar) -> Scalar:
    """max(x, 0) (NaN stays NaN and passes its gradient, as in PyTorch)."""
    return _node(0.0 if x.data <= 0 else x.data, x, None, _relu_back)


def _relu_back(n: Scalar, g: float) -> tuple:  # z = max(x, 0): dz/dx = 1 if x > 0
    return (0.0 if n.data <= 0 else g,)


# ---------------------------------------------------------------- the gate table


class Gate(NamedTuple):
    """What one kind of gate is, besides its arithmetic: its names, its drawing and its rule.

    In the texts "x" and "y" are the gate's inputs, "z" its output, "c" its constant and "g"
    the upstream gradient (``{x}`` where a value goes).
    """

    op: str  #: ``Scalar.op``: "+", "*", "exp"
    name: str  #: the backward node's name in errors and drawings, as PyTorch's: "MulBackward"
    forward: Callable  #: the function that makes this gate (the operator method of Scalar)
    backward: Callable  #: upstream x local gradient, one per parent
    label: str  #: the text in the gate's box; "{c}" is its constant, which is no wire ("* {c}")
    saved: tuple[str, ...]  #: what backward reads ("x", "y", "z", "c"), shown in the backward view
    rule: tuple[str, ...]  #: per input, the gradient it gets: "{g} * {y}"


# One row per backward function: a node's ``_back`` finds its gate here.
GATES: dict[Callable, Gate] = {
    gate.backward: gate
    for gate in [
        Gate("+", "AddBackward", _add, _add_back, "+", (), ("{g}", "{g}")),  # add gates copy
        Gate("+", "AddBackward", _add, _pass_back, "+ {c}", (), ("{g}",)),
        Gate("-", "SubBackward", _sub, _sub_back, "-", (), ("{g}", "-{g}")),
        Gate("-", "SubBackward", _rsub, _rsub_back, "{c} -", (), ("-{g}",)),
        Gate("neg", "NegBackward", _neg, _neg_back, "neg", (), ("-{g}",)),
        Gate("*", "MulBackward", _mul, _mul_back, "*", ("x", "y"), ("{g} * {y}", "{g} * {x}")),  # multiply gates swap
        Gate("*", "MulBackward", _mul, _scale_back, "* {c}", ("c",), ("{g} * {c}",)),
        Gate("/", "DivBackward", _div, _div_back, "/", ("y", "z"), ("{g} / {y}", "-{g} * {z} / {y}")),
        Gate("/", "DivBackward", _rdiv, _rdiv_back, "{c} /", ("x", "c"), ("-{g} * {c} / {x} ** 2",)),
        Gate("**", "PowBackward", _pow, _pow_back, "** {c}", ("x", "c"), ("{g} * {c} * {x} ** {c1}",)),
        Gate("**", "PowBackward", _rpow, _rpow_back, "{c} **", ("z", "c"), ("{g} * {z} * log({c})",)),
        Gate("exp", "ExpBackward", _exp, _exp_back, "exp", ("z",), ("{g} * {z}",)),
        Gate("log", "LogBackward", _log, _log_back, "log", ("x",), ("{g} / {x}",)),
        Gate("tanh", "TanhBackward", _tanh, _tanh_back, "tanh", ("z",), ("{g} * (1 - {z} ** 2)",)),
        Gate("sigmoid", "SigmoidBackward", _sigmoid, _sigmoid_back, "sigmoid", ("z",), ("{g} * (1 - {z}) * {z}",)),
        Gate("relu", "ReluBackward", _relu, _relu_back, "relu", ("z",), ("{g} * ({z} > 0)",)),
    ]
}

# Gates whose backward reads no value (only the upstream gradient): they can run again after a
# backward without retain_graph, as PyTorch's AddBackward, SubBackward and NegBackward can.
_KEEPS_NOTHING = frozenset(back for back, gate in GATES.items() if not gate.saved)


# ---------------------------------------------------------------- the node


class Scalar:
    """A float node: ``.data`` (value), ``.grad`` (dL/d this), ``.backward()``.

    >>> w, x = Scalar(2.0), Scalar(-1.0)
    >>> L = (w * x + 1).sigmoid()
    >>> L.backward(); w.grad
    """

    __slots__ = ("data", "grad", "_a", "_b", "_back", "_aux", "label", "_seq", "_released")
    _check_grads = CHECK_NONE  # engine protocol: gradients are floats, nothing to check
    _receives = False  # engine protocol: an op node keeps its gradient in _backward (leaves in _receive)

    def __init__(self, data: Number, label: str = "") -> None:
        """A leaf: a value you make (a gate makes its output with ``_node``)."""
        self.data = float(data)
        self.grad = 0.0
        self._a = None  # the parents, in two slots rather than a tuple: one object per node
        self._b = None  # (the second parent; None for a gate with one input)
        self._back = None  # the gate's backward function (GATES[_back] is the gate)
        self._aux = 0.0  # the constant of ops like x * 3 or x ** 2
        self.label = label
        self._seq = 0  # creation order, the engine's (0 for a leaf; an op takes the next number)
        self._released = False  # True once a backward without retain_graph went through this node

    @property
    def _parents(self) -> tuple:
        """The nodes this one was computed from (the engine protocol's parents).

        Made when asked: a tuple kept on every node would be a second object per operation for
        the garbage collector to look over, costing more than making it once in backward."""
        a, b = self._a, self._b
        return () if a is None else (a,) if b is None else (a, b)

    @property
    def op(self) -> str:
        """The name of the operation that produced this node ('' for a leaf)."""
        gate = GATES.get(self._back)
        return gate.op if gate is not None else ""

    @property
    def is_leaf(self) -> bool:
        """True for a value you created (not the result of an op)."""
        return self._a is None

    def __repr__(self) -> str:
        name = f"{self.label}=" if self.label else ""
        return f"Scalar({name}{self.data:.4g}, grad={self.grad:.4g})"

    # ---- the operators and functions: the gates' forwards (above)
    __add__ = __radd__ = _add
    __sub__ = _sub
    __rsub__ = _rsub
    __neg__ = _neg
    __mul__ = __rmul__ = _mul
    __truediv__ = _div
    __rtruediv__ = _rdiv
    __pow__ = _pow
    __rpow__ = _rpow
    exp = _exp
    log = _log
    tanh = _tanh
    sigmoid = _sigmoid
    relu = _relu

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
        if self._released and self._back not in _KEEPS_NOTHING:
            raise RuntimeError(_FREED.format(name=self._backward_name()))
        self.grad += grad
        return self._back(self, grad)

    def _release(self) -> None:
        """After a backward without retain_graph: a gate whose backward reads values it kept
        cannot run again (PyTorch frees them; a Scalar only marks the node, and ``_backward``
        lets gates that keep nothing run anyway)."""
        self._released = True

    def _backward_name(self) -> str:
        """``MulBackward (s0)``: the gate's name in errors, as a tensor op's."""
        name = GATES[self._back].name
        return f"{name} ({self.label})" if self.label else name
