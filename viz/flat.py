"""The backward pass as the lecture's "flat" code, and the names a learner reads in it.

``flat_backprop(L)`` writes the backward pass of a recorded graph as straight-line Python, one
assignment per gradient, in the order the engine computes them, with the numbers as comments::

    grad_L = 1                      # 1.00
    grad_s3 = grad_L * (1 - L) * L  # 0.20
    grad_w2 = grad_s3               # 0.20
    ...

Each line is one gate's chain rule for one input: the upstream gradient ``grad_z`` times the
gate's local gradient (add gates copy, multiply gates swap their inputs, the sigmoid needs only
its output). A value used twice gets ``+=`` the second time: gradients add up where wires join.

``value_names(graph)`` gives every value of a ``viz.graph.Graph`` a readable name: the user's
(a Scalar's ``label``, a name from ``names=``, a parameter or module path), or else the op and a
number in forward order (``mul1``, ``relu2``, ``leaf1``) — never a bare ``*``. ``viz.steps``
uses the same names, so the step-through and the flat code agree.
"""

from __future__ import annotations

import keyword
import math
import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from autograd.scalar import GATES, Scalar
from autograd.tensor import Tensor, as_array
from viz.graph import TINY, Graph, as_roots, build_graph, engine_node
from viz.render import fmt_exact, fmt_number

# ---------------------------------------------------------------- names

_SCALAR_WORDS = {"+": "add", "-": "sub", "*": "mul", "/": "div", "**": "pow"}


def _op_word(obj: Any) -> str:
    """``mul``, ``sigmoid``, ``matmul``: what an unnamed op node is called (plus a number)."""
    if isinstance(obj, Scalar):
        return _SCALAR_WORDS.get(obj.op, obj.op) or "op"
    return type(obj).__name__.lower()


def value_names(graph: Graph) -> dict[str, str]:
    """A readable, unique name for every value node of ``graph`` (node id -> name).

    The user's names come first (Scalar labels, ``names=``, parameter names, module paths).
    An unnamed op made inside a module call is named after the module (``features.0``, or
    ``classifier.1.add`` when the module made several ops); any other unnamed op gets its op
    and a number counted in forward order (``mul1``, ``mul2``); unnamed leaves ``leaf1``, ...
    A name used twice gets ``_2``, ``_3``.
    """
    values = [n for n in graph.nodes if n.kind in ("leaf", "op", "module", "accumulate")]
    paths = {c.id: c.path for c in graph.clusters}
    ops_in = {}  # cluster id -> its unnamed op nodes
    for node in values:
        if node.kind == "op" and not node.name and node.cluster is not None:
            ops_in.setdefault(node.cluster, []).append(node)
    names: dict[str, str] = {}
    for node in values:
        if node.name:
            names[node.id] = node.name
        elif node.cluster is not None and node.kind == "op":
            path = paths[node.cluster]
            names[node.id] = path if len(ops_in[node.cluster]) == 1 else f"{path}.{_op_word(node.obj)}"
    seq = {n.id: getattr(n.obj, "_seq", 0) or 0 for n in values}
    first_use: dict[str, tuple] = {}  # a leaf counts from the first op that used it (then its input slot)
    for edge in graph.edges:
        if edge.dst in seq:
            use = (seq[edge.dst], edge.index)
            first_use[edge.src] = min(first_use.get(edge.src, (math.inf, 0)), use)
    counters: dict[str, int] = {}
    unnamed = [n for n in values if n.id not in names]
    unnamed.sort(key=lambda n: (seq[n.id], 0) if seq[n.id] else first_use.get(n.id, (math.inf, 0)))  # forward order
    for node in unnamed:
        word = "leaf" if node.kind in ("leaf", "accumulate") else _op_word(node.obj)
        counters[word] = counters.get(word, 0) + 1
        names[node.id] = f"{word}{counters[word]}"
    seen: dict[str, int] = {}
    for node in values:  # the same name twice: x, x_2
        name = names[node.id]
        seen[name] = seen.get(name, 0) + 1
        if seen[name] > 1:
            names[node.id] = f"{name}_{seen[name]}"
    return names


def identifier(name: str) -> str:
    """``name`` as a Python identifier: ``features.0`` -> ``features_0``, ``1x`` -> ``v_1x``."""
    text = re.sub(r"\W", "_", name)
    if not text or text[0].isdigit() or keyword.iskeyword(text):
        text = "v_" + text
    return text


def _identifiers(names: dict[str, str]) -> dict[str, str]:
    """Unique identifiers for the names (``a.b`` and ``a_b`` would collide: the second gets ``_2``)."""
    out, used = {}, set()
    for node_id, name in names.items():
        base = text = identifier(name)
        k = 1
        while text in used:
            k += 1
            text = f"{base}_{k}"
        used.add(text)
        out[node_id] = text
    return out


# ---------------------------------------------------------------- the chain rule of each gate

# One template per input: the gradient that input gets, written with the upstream gradient
# {g}, the inputs {x} and {y}, the gate's output {z} and its constant {c}. A Scalar gate's
# templates are its ``rule`` in the gate table (autograd.scalar.GATES); tensor ops' are here.
# Tensor ops, by class name (inputs that were broadcast get unbroadcast(..., shape)):
TENSOR_RULES = {
    "Add": ("{g}", "{g}"),
    "Sub": ("{g}", "-{g}"),
    "Mul": ("{g} * {y}", "{g} * {x}"),
    "Div": ("{g} / {y}", "-{g} * {z} / {y}"),
    "Neg": ("-{g}",),
    "Exp": ("{g} * {z}",),
    "Log": ("{g} / {x}",),
    "Tanh": ("{g} * (1 - {z} ** 2)",),
    "Sigmoid": ("{g} * (1 - {z}) * {z}",),
    "ReLU": ("{g} * ({z} > 0)",),
    "Reshape": ("{g}.reshape({x}.shape)",),
}
_ELEMENTWISE = frozenset(TENSOR_RULES) - {"Reshape"}


def local_formula(template: str) -> str:
    """The local gradient in a rule: ``{g} * {y}`` -> ``{y}``, ``-{g}`` -> ``-1``."""
    return template.replace("{g} * ", "").replace("{g} / ", "1 / ").replace("{g}", "1")


def _number(x: float) -> str:
    return f"{x:g}"


def scalar_rule(node: Scalar, k: int) -> str:
    """The template of ``node``'s gradient for input ``k`` with the constant filled in."""
    gate = GATES[node._back]
    template = gate.rule[k]
    c = node._aux
    if gate.forward is Scalar.__pow__:  # x ** c: the rule for c = 0, 1, 2 reads better spelled out
        if c == 0:
            return "0 * {g}"
        if c == 1:
            return "{g}"
        if c == 2:
            return "{g} * 2 * {x}"
        return template.replace("{c1}", _number(c - 1)).replace("{c}", _number(c))
    return template.replace("{c}", _number(c))


def tensor_rule(node: Any, k: int) -> str:
    """The template of a tensor op's gradient for input ``k`` (a named backward when no rule)."""
    name = type(node).__name__
    parents = node._parents
    inputs = [p for p in parents if p is not None]
    if name == "MatMul" and all(len(_shape(p) or ()) == 2 for p in inputs) and len(parents) == 2:
        return ("{g} @ {y}.T", "{x}.T @ {g}")[k]
    if name in ("Sum", "Mean") and (node.keepdim or len(node._out_shape) == 0):
        spread = "broadcast_to({g}, {x}.shape)"
        return spread if name == "Sum" else f"{spread} / {node.count}"
    rules = TENSOR_RULES.get(name)
    if rules is None or k >= len(rules):
        call = f"{node.name()}({{g}})"
        return call + (f"[{k}]" if len(inputs) > 1 else "")
    rule = rules[k]
    shape = _shape(parents[k])
    if shape is not None and tuple(shape) != tuple(node._out_shape) and name in ("Add", "Sub", "Mul", "Div"):
        return f"unbroadcast({rule}, {{x{k}}}.shape)"
    return rule


def _shape(node: Any) -> tuple | None:
    if isinstance(node, Tensor):
        return tuple(node.shape)
    shape = getattr(node, "_out_shape", None)
    return None if shape is None else tuple(shape)


def elementwise(node: Any) -> bool:
    """True for a tensor op whose Jacobian is diagonal (the output and every input of one shape):
    its local gradient is an array and upstream x local = downstream, element by element."""
    if type(node).__name__ not in _ELEMENTWISE:
        return False
    out = tuple(node._out_shape)
    return all(_shape(p) == out for p in node._parents if p is not None)


# ---------------------------------------------------------------- the listing


@dataclass
class _Line:
    target: str  # the node id whose gradient this line computes
    code: str
    value: Any  # the variable's value after the line (None when unknown)
    shape: tuple | None


class FlatCode(str):
    """The flat backward code: a ``str`` (print it, compare it) that Jupyter shows as code."""

    def __repr__(self) -> str:
        return str(self)

    def _repr_markdown_(self) -> str:
        return f"```python\n{self}\n```"

    @property
    def code_lines(self) -> list[str]:
        """The lines without their comments."""
        return [line.split("  #")[0].rstrip() for line in self.splitlines()]


def _comment(value: Any, shape: tuple | None, scalar: bool) -> str:
    if scalar:
        return "" if value is None else fmt_number(value)
    text = str(shape) if shape is not None else ""
    if value is not None and np.size(value) <= TINY:
        text += " " + fmt_exact(value)
    return text.strip()


def flat_backprop(root: Any, gradient: Any = None, *, names: Any = None) -> FlatCode:
    """The backward pass of ``root``'s graph as the lecture's flat code, numbers as comments.

    ``root`` is a Scalar or a Tensor (or a list of them); ``names`` names tensors as in
    ``viz.draw_graph``. Lines come in the engine's order, one per gradient sent along a wire,
    each gate's leaves first: ``grad_x = grad_z * y``. A value used twice gets ``+=``.
    Scalar graphs show every number; tensor graphs show shapes (and the values when tiny).
    Nothing accumulates into ``.grad``: the pass is replayed (tensors need their saved values:
    before ``backward()``, or after ``backward(retain_graph=True)``; otherwise only shapes).

    >>> print(viz.flat_backprop(L))  # doctest: +SKIP
    grad_L = 1                      # 1.00
    grad_s3 = grad_L * (1 - L) * L  # 0.20
    """
    from viz.steps import backward_steps  # (steps uses the names above)

    roots = as_roots(root)
    graph = build_graph(roots, names=names)
    scalar = graph.kind == "scalar"
    ids = {id(n.obj): n.id for n in graph.nodes if n.kind in ("leaf", "op")}
    idents = _identifiers(value_names(graph))
    known = known_names(names)
    frames = None
    if scalar or not any(getattr(n.obj, "_freed", False) for n in graph.nodes):
        frames = backward_steps(roots, gradient, names=names, retain_graph=True, accumulate=False)
    totals = {f.node_id: f.grad for f in frames} if frames else {}
    sent = {}  # (consumer id, input index) -> gradient along that wire
    for frame in frames or ():
        for send in frame.sends:
            sent[(frame.node_id, send.index)] = send.grad
    lines = []
    running: dict[str, Any] = {}
    for k, r in enumerate(roots):
        rid = ids[id(engine_node(r))]
        seed = _seed_text(r, gradient, k, len(roots))
        running[rid] = totals.get(rid) if frames else None
        lines.append(_Line(rid, f"grad_{idents[rid]} = {seed}", running[rid], _shape(engine_node(r))))
    for node in _engine_order([engine_node(r) for r in roots]):
        zid = ids[id(node)]
        parents = [(k, p) for k, p in enumerate(node._parents) if p is not None]
        parents.sort(key=lambda kp: bool(kp[1]._parents))  # each gate's leaves first (as the lecture)
        for k, parent in parents:
            if frames and (zid, k) not in sent:
                continue  # nothing flowed along this wire
            pid = ids[id(parent)]
            rule = scalar_rule(node, k) if scalar else tensor_rule(node, k)
            code = _fill(rule, node, k, zid, idents, ids, known)
            g = sent.get((zid, k))
            first = pid not in running
            if frames:
                running[pid] = g if first else running[pid] + g
            op = "=" if first else "+="
            running.setdefault(pid, None)
            lines.append(_Line(pid, f"grad_{idents[pid]} {op} {code}", running[pid], _shape(parent)))
    width = max(len(line.code) for line in lines)
    text = []
    for line in lines:
        comment = _comment(line.value, line.shape, scalar)
        text.append(f"{line.code:<{width}}  # {comment}" if comment else line.code)
    return FlatCode("\n".join(text))


def _seed_text(root: Any, gradient: Any, k: int, count: int) -> str:
    if gradient is None:
        return "1"
    value = gradient if count == 1 else list(gradient)[k]
    if np.size(value) == 1:
        return _number(float(as_array(value).ravel()[0]))
    return "gradient" if count == 1 else f"gradient[{k}]"


def _fill(rule: str, node: Any, k: int, zid: str, idents: dict, ids: dict, known: dict) -> str:
    """Put the names into a rule: {g} is the gate's upstream gradient, {x} {y} its inputs."""
    parents = node._parents
    values = {"g": f"grad_{idents[zid]}", "z": idents[zid]}
    for j, letter in enumerate("xy"):
        if j < len(parents):
            values[letter] = _input_name(node, j, idents, ids, known)
    for j in range(len(parents)):
        values[f"x{j}"] = _input_name(node, j, idents, ids, known)
    return rule.format(**values)


def _input_name(node: Any, j: int, idents: dict, ids: dict, known: dict | None = None) -> str:
    """An input's name; for an operand that needs no gradient (a constant: no wire) its name in
    ``known`` (id(tensor) -> name), its value when it is one number, else ``c``."""
    parent = node._parents[j]
    if parent is not None:
        return idents[ids[id(parent)]]
    saved = getattr(node, "_saved", None) or ()
    if j < len(saved) and isinstance(saved[j], (Tensor, np.ndarray)):
        if known and id(saved[j]) in known:
            return known[id(saved[j])]
        value = as_array(saved[j])
        if value.size == 1:
            return _number(float(value.ravel()[0]))
    return "c"


def known_names(names: Any) -> dict[int, str]:
    """id(tensor) -> name, from a ``names=`` mapping (to name constants, which have no node)."""
    return {id(t): identifier(n) for n, t in (names or {}).items()}


def _engine_order(roots: list[Any]) -> list[Any]:
    """The op nodes in the order the engine runs them: latest created first (``_seq``)."""
    seen, stack, ops = {id(r) for r in roots}, list(roots), []
    while stack:
        node = stack.pop()
        if node._parents:
            ops.append(node)
        for parent in node._parents:
            if parent is not None and id(parent) not in seen:
                seen.add(id(parent))
                stack.append(parent)
    ops.sort(key=lambda n: -n._seq)
    return ops


__all__ = ["FlatCode", "flat_backprop", "identifier", "local_formula", "value_names"]
