"""Step through backward: the chain rule, one node at a time, as arithmetic on one fixed picture.

``backward_steps(loss)`` runs the real backward pass (afterwards the leaves hold their
``.grad`` exactly as after ``loss.backward()``), with the engine's observer hook: each time
the engine runs a node, a ``Frame`` notes the gradient the node received (its *upstream*
gradient), its *local* gradient for each input and the product it sent to each input.

``group_steps(frames)`` turns the frames into the ``Step`` s a learner reads. Each step is one
node (or one module, when modules are drawn as one node with ``depth=``), and the last step
stores the leaves' gradients, all at once, as the engine does. A step says what happens as
arithmetic::

    step 4 of 6: s1 = w1 * x1
    upstream: dL/ds1 = 0.20, from s2
    upstream 0.20 x local -2.00 = -0.39 -> w1   (local = x1)
    upstream 0.20 x local -3.00 = -0.59 -> x1   (local = w1)

and where a value is used several times, the sum of what it received (``0.20 + 0.39 = 0.59``).

``StepView`` draws all steps on one layout (rendered once with Graphviz) and restyles it per
step: the node running now is yellow, nodes done have a green border, nodes holding part of
their gradient a red one, the wires that just carried a gradient are red, and only the
gradients computed so far are written on the wires. Nothing moves between steps.
``save_steps_html`` writes it as one standalone page (play / pause, previous / next, a slider,
the arrow keys) and ``step_through`` as a Jupyter widget; both number the steps from 1.
"""

from __future__ import annotations

import copy
import html
import json
import re
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from autograd.backprop import observing, root_gradient
from autograd.engine import run_backward
from autograd.grad_mode import no_grad
from autograd.scalar import GATES, Scalar
from autograd.tensor import Tensor, values_of
from viz.flat import (
    TENSOR_RULES,
    _input_name,
    elementwise,
    known_names,
    local_formula,
    scalar_rule,
    value_names,
)
from viz.graph import TINY, Graph, as_roots, build_graph, engine_node, walk
from viz.render import (
    EDGE_ATTRS,
    GRAD_COLOR,
    MARK_STYLES,
    MARK_TEXT,
    dot_lines,
    fmt_exact,
    fmt_grad,
    fmt_number,
    make_digraph,
    to_svg,
)


@dataclass
class Send:
    """One gradient a node sent in its step: ``grad`` (= upstream x ``local`` when the local
    gradient is a number or an elementwise array, else None) to input ``index``, drawn as node
    ``to``, along edge number ``edge`` of the graph (None when both ends are inside one module)."""

    index: int
    to: str
    grad: Any
    local: Any = None
    edge: int | None = None
    parent: Any = field(default=None, repr=False)  # the engine node that received it


@dataclass
class Frame:
    """The engine ran node ``node_id`` (the drawn node: a module when ``depth=`` collapses it).

    ``grad`` is the total gradient the node received; ``emitted`` lists ``(edge number,
    gradient)`` for each wire it sent a gradient along (edge numbers index ``graph.edges``);
    ``sends`` says the same per input, with the local gradients. ``grads`` holds, for every
    drawn node reached so far, the gradient received so far (a running sum while a value used
    several times is still collecting), ``counts`` how many gradients each has received,
    ``shares`` the gradient sent along each wire so far, ``arrivals`` what each drawn node
    received and from which node, in order.
    """

    index: int
    graph: Graph = field(repr=False)  # the picture without highlights, shared by all frames
    order: list[str] = field(repr=False)  # drawn node ids in processing order, shared by all frames
    node_id: str
    grad: Any
    emitted: list[tuple[int, Any]] = field(repr=False)
    grads: dict[str, Any] = field(repr=False)
    counts: dict[str, int] = field(repr=False)
    shares: dict[int, Any] = field(repr=False)
    expected: dict[str, int] = field(repr=False)  # how many gradients each node receives in the whole pass
    sends: list[Send] = field(default_factory=list, repr=False)
    arrivals: dict[str, list[tuple[str, Any]]] = field(default_factory=dict, repr=False)
    obj: Any = field(default=None, repr=False)  # the engine node that ran
    constants: dict[int, str] = field(default_factory=dict, repr=False)  # input index -> a constant operand's text

    @property
    def is_leaf(self) -> bool:
        """True when the node that ran is a leaf (it only stores its gradient)."""
        return self.obj is not None and not self.obj._parents

    @property
    def caption(self) -> str:
        """One sentence saying what the engine did (``group_steps`` gives the arithmetic)."""
        node = self.graph.node(self.node_id)
        text = f"step {self.index + 1} of {len(self.order)}: {_describe(node)} received {_short(self.grad)}"
        if not self.emitted:
            return text + " (a leaf: this is its final .grad)" if node.kind in ("leaf", "accumulate") else text
        sent = [f"{_short(g)} to {_describe(self.graph.node(self.graph.edges[e].src))}" for e, g in self.emitted]
        return text + " and sends " + ", ".join(sent)

    def to_graph(self) -> Graph:
        """The graph of this frame: gradients known so far, with the highlights."""
        done = set(self.order[: self.index])
        emitted = {e for e, _ in self.emitted}
        nodes = []
        for node in self.graph.nodes:
            if node.kind == "output":
                nodes.append(replace(node, grad=self.grads.get(node.id)))
                continue
            mark = "current" if node.id == self.node_id else "done" if node.id in done else ""
            if not mark and node.id in self.grads:
                mark = "waiting"
            need, got = self.expected.get(node.id, 0), self.counts.get(node.id, 0)
            note = f"sum of {got} of {need} gradients" if need > 1 and got else ""
            nodes.append(replace(node, grad=self.grads.get(node.id), mark=mark, note=note))
        edges = [
            replace(edge, grad=self.shares.get(i), mark="emitted" if i in emitted else "")
            for i, edge in enumerate(self.graph.edges)
        ]
        return replace(self.graph, nodes=nodes, edges=edges)

    def source(self, **options: Any) -> str:
        """The DOT text of this frame (options as in ``viz.render.dot_lines``)."""
        return "digraph dagrad {\n" + "".join(dot_lines(self.to_graph(), **options)) + "}\n"

    def digraph(self, **options: Any) -> Any:
        """This frame as a ``graphviz.Digraph`` (shown inline by Jupyter)."""
        return make_digraph(dot_lines(self.to_graph(), **options))

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict:
        return self.digraph()._repr_mimebundle_(include, exclude)


def _describe(node: Any) -> str:
    if node.name and node.op:
        return f"{node.name} ({node.op})"
    return node.name or node.op or node.kind


def _short(grad: Any) -> str:
    return fmt_exact(grad) if np.size(grad) <= 6 else "a gradient of " + fmt_grad(grad)


def _plain(value: Any) -> Any:
    return values_of(value)


def _add(total: Any, g: Any) -> Any:
    return g if total is None else total + g


# ---------------------------------------------------------------- recording the pass


def _unit_ids(graph: Graph, roots: list[Any], model: Any) -> dict[int, str]:
    """id(engine node) -> the id of the node that draws it: its own node, or the module node
    that ``depth=`` collapsed it into (a parameter: the module owning it)."""
    ids = {id(n.obj): n.id for n in graph.nodes if n.kind in ("leaf", "op", "accumulate")}
    modules = {id(n.obj): n.id for n in graph.nodes if n.kind == "module"}
    if not modules:
        return ids
    owners = {n.name: n.id for n in graph.nodes if n.kind == "module"}  # module path -> node id
    params = {id(p): name for name, p in model.named_parameters()} if model is not None else {}
    for node in walk([engine_node(r) for r in roots])[0]:
        if id(node) in ids:
            continue
        for module in getattr(node, "modules", ()):
            if id(module) in modules:
                ids[id(node)] = modules[id(module)]
                break
        else:
            path = params.get(id(node), "").rpartition(".")[0]
            while path and path not in owners:
                path = path.rpartition(".")[0]
            if path:
                ids[id(node)] = owners[path]
    return ids


def _local_grads(node: Any) -> tuple | None:
    """The local gradient d(node)/d(input) of each input, when it is a number (Scalars, and
    tensor ops with a one-element output) or an elementwise array (ops with a diagonal
    Jacobian); None for the others (their Jacobian is never formed)."""
    if isinstance(node, Scalar):
        try:
            return node._back(node, 1.0)
        except ArithmeticError:
            return None
    shape = getattr(node, "_out_shape", None)
    if shape is None or (int(np.prod(shape)) != 1 and not elementwise(node)):
        return None
    try:
        with no_grad():
            grads = node._backward(Tensor._make(np.ones(shape, node._out_dtype)))
    except Exception:  # a picture must not fail: e.g. a saved tensor changed in place
        return None
    grads = grads if isinstance(grads, tuple) else (grads,)
    return tuple(None if g is None else np.asarray(_plain(g)) for g in grads)


class _Recorder:
    """The observer given to the engine: turns each node it runs into a Frame."""

    def __init__(self, graph: Graph, nodes: list[Any], seeds: list[Any], unit_of: dict[int, str], known: dict):
        self.graph = graph
        self.unit_of = unit_of
        self.known = known  # id(tensor) -> name, for operands that are no node (constants)
        kinds = {n.id: n.kind for n in graph.nodes}
        self.own = {n.id for n in graph.nodes if n.kind in ("leaf", "op", "accumulate")}  # one engine node each
        self.edge_of: dict[tuple, int] = {}  # (src, dst, input index) and (src, dst) -> edge number
        self.grads: dict[str, Any] = {}
        self.counts: Counter = Counter()
        self.shares: dict[int, Any] = {}
        self.arrivals: dict[str, list[tuple[str, Any]]] = {}
        self.expected: Counter = Counter()
        for i, edge in enumerate(graph.edges):
            if kinds[edge.dst] == "output":  # the seed gradient dL/dL = 1 enters here
                self.shares[i] = self.grads[edge.dst] = _edge_seed(edge, nodes, seeds, unit_of)
            elif edge.kind == "data":
                self.edge_of.setdefault((edge.src, edge.dst, edge.index), i)
                self.edge_of.setdefault((edge.src, edge.dst), i)
        for parent, consumer, _ in _links(nodes):
            src, dst = unit_of.get(id(parent)), unit_of.get(id(consumer))
            if src != dst:
                self.expected[src] += 1
        for node, seed in zip(nodes, seeds):
            rid = unit_of[id(node)]
            self.grads[rid] = _add(self.grads.get(rid), seed)
            self.counts[rid] += 1
            self.expected[rid] += 1
            self.arrivals.setdefault(rid, []).append(("", seed))
        self.order: list[str] = []
        self.frames: list[Frame] = []

    def __call__(self, node: Any, grad: Any, grads: tuple) -> None:
        uid = self.unit_of.get(id(node))
        if uid is None:
            raise RuntimeError(f"backward_steps: the graph has no drawn node for {node!r}")
        if uid in self.own:
            self.grads[uid] = _plain(grad)  # the total, after any hooks
        local = _local_grads(node) if node._parents else None
        emitted, sends = [], []
        for k, (parent, g) in enumerate(zip(node._parents, grads)):
            if parent is None or g is None:
                continue
            g = _plain(g)
            pid = self.unit_of[id(parent)]
            edge = None
            if pid != uid:  # a wire of the picture (inside one module there is none)
                edge = self.edge_of.get((pid, uid, k), self.edge_of.get((pid, uid)))
                self.grads[pid] = _add(self.grads.get(pid), g)
                self.counts[pid] += 1
                self.arrivals.setdefault(pid, []).append((uid, g))
                if edge is not None:
                    self.shares[edge] = _add(self.shares.get(edge), g)
                    emitted.append((edge, g))
            sends.append(Send(k, pid, g, None if local is None else local[k], edge, parent))
        constants = {}  # operands that need no gradient (x * 3): read now, before backward frees them
        if type(node).__name__ in _SYMBOLS:
            for k, parent in enumerate(node._parents):
                if parent is None:
                    constants[k] = _input_name(node, k, {}, {}, self.known)
        self.order.append(uid)
        self.frames.append(
            Frame(
                len(self.frames),
                self.graph,
                self.order,
                uid,
                _plain(grad),
                emitted,
                dict(self.grads),
                dict(self.counts),
                dict(self.shares),
                dict(self.expected),
                sends,
                {k: list(v) for k, v in self.arrivals.items()},
                node,
                constants,
            )
        )


def _links(nodes: list[Any]) -> list[tuple[Any, Any, int]]:
    """(parent, consumer, input index) for every use of a value, as engine nodes."""
    order, links = walk(nodes)
    return [(order[src], order[dst], k) for src, dst, k in links]


def _edge_seed(edge: Any, nodes: list[Any], seeds: list[Any], unit_of: dict[int, str]) -> Any:
    """The seed gradient on the wire from a root to its output node."""
    for node, seed in zip(nodes, seeds):
        if unit_of.get(id(node)) == edge.src:
            return seed
    return None


def _seeds(roots: list[Any], gradient: Any) -> list[Any]:
    """dL/d(root) for each root: 1 for one-element roots, else ``gradient`` is needed."""
    grads = [gradient] if len(roots) == 1 else list(gradient) if gradient is not None else [None] * len(roots)
    if len(grads) != len(roots):
        raise ValueError(f"backward_steps got {len(grads)} gradient(s) for {len(roots)} roots; give one per root")
    seeds = []
    for i, (root, grad) in enumerate(zip(roots, grads)):
        if isinstance(root, Scalar):
            seeds.append(1.0 if grad is None else float(grad))
        else:  # the checks of Tensor.backward (a one-element root, or a gradient of its shape)
            seeds.append(root_gradient(root, grad, f"root {i}", "root")._data)
    return seeds


def backward_steps(
    root: Any,
    gradient: Any = None,
    *,
    names: Any = None,
    model: Any = None,
    depth: int | None = None,
    local_grads: bool = False,
    retain_graph: bool = False,
    accumulate: bool | None = None,
) -> list[Frame]:
    """Run backward from ``root`` and return one ``Frame`` per node, in the engine's order.

    On a graph that has not been through backward yet this *is* the backward pass: leaves
    end with their ``.grad`` as after ``root.backward()`` (call it instead, not as well), and
    the graph is freed unless ``retain_graph=True``. When the gradients are already there (a
    tensor root's backward ran with ``retain_graph=True``; a Scalar root's ``.grad`` is not 0)
    the pass is replayed and nothing is accumulated a second time (a Scalar graph keeps its
    values, so it can always be replayed); ``accumulate=`` forces either behaviour.
    ``names``, ``model``, ``depth`` and ``local_grads`` are as in ``draw_graph``: with
    ``model`` and ``depth=1`` each module is one node (the graph must be built inside
    ``autograd.graph.record()``).
    """
    roots = as_roots(root)
    seeds = _seeds(roots, gradient)
    graph = build_graph(roots, names=names, model=model, depth=depth, local_grads=local_grads)
    nodes = [engine_node(r) for r in roots]
    unit_of = _unit_ids(graph, roots, model)
    recorder = _Recorder(graph, nodes, seeds, unit_of, known_names(names))
    keep = _first_backward(graph, roots) if accumulate is None else accumulate
    if graph.kind == "scalar":
        scalars = [n.obj for n in graph.nodes if isinstance(n.obj, Scalar)]
        before = [(s, s.grad, s._released) for s in scalars]
        for s in scalars:  # a Scalar graph keeps its values: a finished graph can be replayed
            s._released = False
        try:
            run_backward(list(zip(nodes, seeds)), retain_graph=True, accumulate=True, observer=observing(recorder))
        finally:
            for s, grad, released in before:
                s._released = released
                if not keep:  # a Scalar always adds to .grad: put the old values back
                    s.grad = grad
        if keep and not retain_graph:  # as after backward(): gates that kept values cannot run again
            for s in scalars:
                if s._parents:
                    s._release()
        return recorder.frames
    if any(getattr(n.obj, "_freed", False) for n in graph.nodes):
        raise RuntimeError(
            "backward_steps runs the real backward pass, but this graph's saved tensors were already freed "
            "by backward(): call viz.backward_steps(loss) instead of loss.backward() (it fills .grad the "
            "same way), or call loss.backward(retain_graph=True) first"
        )
    with no_grad():
        pairs = [(n, Tensor._make(s)) for n, s in zip(nodes, seeds)]
        run_backward(pairs, retain_graph=retain_graph, accumulate=keep, observer=observing(recorder))
    for r in roots:
        if keep and r.grad_fn is not None:
            r.grad_fn._backward_ran = True
    return recorder.frames


def _first_backward(graph: Any, roots: list[Any]) -> bool:
    """True when no backward has accumulated from these roots yet: a Scalar root's .grad is
    still 0; a tensor root's node was never the root of ``backward()``."""
    if graph.kind == "scalar":
        return all(r.grad == 0.0 for r in roots)
    return not any(getattr(engine_node(r), "_backward_ran", False) for r in roots)


# ---------------------------------------------------------------- steps: what a learner reads


@dataclass
class Step:
    """One step of the step-through: ``number`` (from 1) of ``total``; ``node_ids`` the drawn
    nodes that run in it (one node, or every leaf in the last step); ``title`` and ``lines``
    say what happens, as arithmetic."""

    number: int
    total: int
    node_ids: list[str]
    title: str
    lines: list[str]
    frames: list[Frame] = field(repr=False)

    @property
    def heading(self) -> str:
        """``step 4 of 6: s1 = w1 * x1``."""
        return f"step {self.number} of {self.total}: {self.title}"

    @property
    def caption(self) -> str:
        """The heading and the arithmetic, one per line."""
        return "\n".join([self.heading, *self.lines])


def fmt_value(value: Any, kind: str = "grad") -> str:
    """A number or array for a caption: every element when small, else the shape and its norm
    (a gradient) or its mean (a local gradient)."""
    if np.size(value) <= TINY:
        return fmt_exact(value)
    a = np.asarray(value, dtype=np.float64)
    if kind == "local":
        return f"{tuple(a.shape)} mean {fmt_number(a.mean())}"
    return f"{tuple(a.shape)} norm {fmt_number(np.linalg.norm(a.ravel()))}"


class _Namer:
    """Readable names of drawn nodes and of leaves hidden inside a module node."""

    def __init__(self, graph: Graph, model: Any = None):
        self.graph = graph
        self.names = value_names(graph)
        self.params = {id(p): name for name, p in model.named_parameters()} if model is not None else {}
        roots = [n for n in graph.nodes if n.kind == "output"]
        self.loss = roots[0].name if len(roots) == 1 and roots[0].name != "output" else "L"

    def __call__(self, node_id: str) -> str:
        return self.names.get(node_id) or self.graph.node(node_id).name

    def of(self, obj: Any, unit: str) -> str:
        """The name of an engine node: its drawn node's, or its parameter name inside a module."""
        node = self.graph.node(unit)
        if node.kind != "module":
            return self(unit)
        return self.params.get(id(obj), self(unit))


def _formula(frame: Frame, namer: _Namer) -> str:
    """``s1 = w1 * x1``, ``mul1 = x * 3``, ``relu1 = ReLU(h)``, or a module: ``path: Conv2d(...)``."""
    node = frame.graph.node(frame.node_id)
    name = namer(frame.node_id)
    if node.kind == "module":
        return f"{name} = {node.op}"
    obj = frame.obj
    inputs = [_input_text(obj, k, frame, namer) for k in range(len(obj._parents))]
    if isinstance(obj, Scalar):
        op = obj.op
        if len(inputs) == 2:
            return f"{name} = {inputs[0]} {op} {inputs[1]}"
        if op == "neg":
            return f"{name} = -{inputs[0]}"
        if GATES[obj._back].label.startswith("{c}"):  # the constant comes first: 3 / x, 3 - x, 2 ** x
            return f"{name} = {node.op} {inputs[0]}"
        if node.op not in ("", op):
            return f"{name} = {inputs[0]} {node.op}"  # x * 3
        return f"{name} = {op}({inputs[0]})"
    op = type(obj).__name__
    inputs = [text for text in inputs if text]
    symbol = _SYMBOLS.get(op)
    if symbol and len(inputs) == 2:
        return f"{name} = {inputs[0]} {symbol} {inputs[1]}"
    if op == "Neg" and inputs:
        return f"{name} = -{inputs[0]}"
    return f"{name} = {op}({', '.join(inputs)})"


_SYMBOLS = {"Add": "+", "Sub": "-", "Mul": "*", "Div": "/", "MatMul": "@", "Pow": "**"}


def _input_text(obj: Any, k: int, frame: Frame, namer: _Namer) -> str:
    parent = obj._parents[k]
    if parent is None:  # a constant operand (x * 3), or an argument like a sum's dims (not shown)
        return frame.constants.get(k, "")
    for send in frame.sends:
        if send.parent is parent:
            return namer.of(parent, send.to)
    return "?"


def _upstream_line(frames: list[Frame], unit: str, namer: _Namer) -> tuple[str, Any]:
    """``upstream: dL/ds2 = 0.20 + 0.39 = 0.59, the sum over its 2 uses``, and that gradient."""
    came = frames[0].arrivals.get(unit, [])
    total = None
    for _, g in came:
        total = _add(total, g)
    name, loss = namer(unit), namer.loss
    total_after_hooks = frames[0].grad if len(frames) == 1 else total
    if came and came[0][0] == "" and len(came) == 1:
        text = f"upstream: d{loss}/d{name} = {fmt_value(total)}: backward starts here"
    elif len(came) > 1:
        parts = " + ".join(fmt_value(g) for _, g in came)
        text = f"upstream: d{loss}/d{name} = {parts} = {fmt_value(total)}, the sum over its {len(came)} uses"
    else:
        source = namer(came[0][0]) if came and came[0][0] else ""
        text = f"upstream: d{loss}/d{name} = {fmt_value(total)}" + (f", from {source}" if source else "")
    hooked = total is not None and total_after_hooks is not None
    if hooked and not np.allclose(total, total_after_hooks, equal_nan=True):
        text += f"; a hook changed it to {fmt_value(total_after_hooks)}"
        total = total_after_hooks
    return text, total


def _send_line(frame: Frame, send: Send, upstream: Any, namer: _Namer, module: bool) -> str:
    """``upstream 0.20 x local -2.00 = -0.39 -> w1   (local = x1)`` (or a module's send)."""
    to = namer.of(send.parent, send.to)
    if module:
        kept = " (its .grad is stored in the last step)" if send.to == frame.node_id else ""
        return f"sends {fmt_value(send.grad)} -> {to}{kept}"
    if send.local is not None and upstream is not None:
        local = send.local
        text = f"upstream {fmt_value(upstream)} x local {fmt_value(local, 'local')} = {fmt_value(send.grad)} -> {to}"
        formula = _local_formula_text(frame, send, namer)
        return text + (f"   (local = {formula})" if formula else "")
    name = frame.obj.name() if hasattr(frame.obj, "name") else "backward"
    return f"{name}(upstream {fmt_value(upstream)}) = {fmt_value(send.grad)} -> {to}"


def _local_formula_text(frame: Frame, send: Send, namer: _Namer) -> str:
    """The local gradient as a formula of the gate's values (``x1``, ``(1 - L) * L``), or ''
    when it is a plain number (add gates: 1)."""
    obj = frame.obj
    if isinstance(obj, Scalar):
        if obj._back not in GATES:  # a leaf: no gate
            return ""
        formula = local_formula(scalar_rule(obj, send.index))
    else:
        rules = TENSOR_RULES.get(type(obj).__name__, ())
        if send.index >= len(rules) or "reshape" in rules[send.index]:
            return ""
        formula = local_formula(rules[send.index])
    values = {"z": namer(frame.node_id)}
    for k, letter in enumerate("xy"):
        if k < len(obj._parents):
            values[letter] = _input_text(obj, k, frame, namer)
    text = formula.format(**values)
    try:
        float(text)
        return ""  # 1, -1, 3: the number says it all
    except ValueError:
        return text


def group_steps(frames: Sequence[Frame], *, model: Any = None) -> list[Step]:
    """The steps a learner reads: one per node run (consecutive frames inside one module node
    make one step), then one step where every leaf stores its ``.grad``. ``model`` (as given
    to ``backward_steps``) names the parameters inside module nodes."""
    if not frames:
        return []
    graph = frames[0].graph
    namer = _Namer(graph, model)
    groups: list[list[Frame]] = []
    leaves = [f for f in frames if f.is_leaf]
    for frame in frames:
        if frame.is_leaf:
            continue
        if groups and groups[-1][-1].node_id == frame.node_id:
            groups[-1].append(frame)
        else:
            groups.append([frame])
    total = len(groups) + (1 if leaves else 0)
    steps = []
    for number, group in enumerate(groups, 1):
        unit = group[0].node_id
        module = graph.node(unit).kind == "module"
        upstream_text, upstream = _upstream_line(group, unit, namer)
        lines = [upstream_text]
        for frame in group:
            sends = sorted(frame.sends, key=lambda s: bool(s.parent._parents))  # leaves first, as the lecture
            if module:  # what leaves the module, and the gradients of its own parameters
                sends = [s for s in sends if s.to != unit or not s.parent._parents]
            lines += [_send_line(frame, s, upstream, namer, module) for s in sends]
        steps.append(Step(number, total, [unit], _formula(group[0], namer), lines, group))
    if leaves:
        last = leaves[-1]
        lines = []
        for frame in leaves:
            name = namer.of(frame.obj, frame.node_id)
            came = [g for _, g in _leaf_arrivals(frame, frames)]
            parts = " + ".join(fmt_value(g) for g in came)
            value = fmt_value(frame.grad)
            lines.append(f"{name}.grad = {parts} = {value}" if len(came) > 1 else f"{name}.grad = {value}")
        units = list(dict.fromkeys(f.node_id for f in leaves))
        title = "the leaves store their gradients in .grad"
        if len(leaves) == 1:
            title = f"{namer.of(last.obj, last.node_id)} stores its gradient in .grad"
        steps.append(Step(total, total, units, title, lines, leaves))
    return steps


def _leaf_arrivals(leaf: Frame, frames: Sequence[Frame]) -> list[tuple[str, Any]]:
    """What one leaf received, in order (sends to that very engine node)."""
    came = [(f.node_id, s.grad) for f in frames for s in f.sends if s.parent is leaf.obj]
    return came or [("", leaf.grad)]


# ---------------------------------------------------------------- one layout, restyled per step

_SVG = "http://www.w3.org/2000/svg"
_XLINK = "http://www.w3.org/1999/xlink"
_SHAPES = {f"{{{_SVG}}}{tag}" for tag in ("polygon", "ellipse", "path", "polyline")}
_TEXT = f"{{{_SVG}}}text"
_DEFAULTS = {"stroke-width": "1", "visibility": "visible"}  # for attributes Graphviz left out

# Helvetica's advance widths (1/1000 em), to keep a changed number centred where Graphviz put it
_WIDTHS = {" ": 278, ".": 278, ",": 278, "-": 333, "[": 278, "]": 278, "(": 333, ")": 333, "+": 584}
_WIDTHS.update({c: 556 for c in "0123456789aebdghnopqu"})
_WIDTHS.update({c: 222 for c in "ijl"})
_WIDTHS.update({"f": 278, "t": 278, "r": 333, "m": 833, "w": 722, "s": 500, "c": 500, "k": 500, "v": 500})


def _text_width(text: str, size: float) -> float:
    return sum(_WIDTHS.get(c, 556) for c in text) * size / 1000


def _mark_attrs(mark: str, shape: ET.Element, first_filled: bool) -> dict[str, str]:
    """SVG attributes that draw a highlight of ``viz.render.MARK_STYLES`` on one shape."""
    style = MARK_STYLES[mark]
    attrs = {"stroke": style["color"], "stroke-width": style.get("penwidth", "1")}
    if "fillcolor" in style and first_filled:
        attrs["fill"] = style["fillcolor"]
    if shape.tag.endswith("polygon") and mark == "emitted":  # an arrowhead
        attrs["fill"] = style["color"]
    return attrs


class StepView:
    """The steps of one backward pass drawn on one layout (``dot`` runs once).

    ``steps`` are the ``Step`` s; ``svg(n)`` is the picture of step ``n`` (from 1), the same
    picture restyled: highlights, and only the gradients known so far on the wires. Options
    are those of ``draw_graph`` (``local_grads``, ``rankdir``, ``size``, ``legend``, ...).
    """

    def __init__(self, frames: Sequence[Frame], *, model: Any = None, **options: Any):
        if not frames:
            raise ValueError("no steps to show: the graph has no node that received a gradient")
        self.frames = list(frames)
        self.steps = group_steps(self.frames, model=model)
        self.graph = self.frames[0].graph
        self.options = options
        self._layout = self._layout_graph(model)
        source = "digraph dagrad {\n" + "".join(self._dot_lines()) + "}\n"
        self._tree = ET.fromstring(_strip_prolog(to_svg(source)))
        self._elements = {el.get("id"): el for el in self._tree.iter() if el.get("id")}
        self._prepare()
        self.patches = [self._patch(step) for step in self.steps]
        touched = {(eid, attr) for patch in self.patches for eid, attrs in patch.items() for attr in attrs}
        self.base = {}  # the value of every patched attribute in the picture as rendered
        for eid, attr in sorted(touched):
            element = self._elements[eid]
            value = (element.text or "") if attr == "text" else element.get(attr, _DEFAULTS.get(attr, ""))
            self.base.setdefault(eid, {})[attr] = value
        self._svgs: dict[int, str] = {}

    # ---- the layout
    def _layout_graph(self, model: Any) -> Graph:
        """The picture with every gradient of the whole pass on it (so there is room for each)
        and readable names on the gates; steps then hide what is not known yet."""
        final = self.frames[-1]
        names = _Namer(self.graph, model).names
        circuit = self.graph.circuit
        nodes = []
        for node in self.graph.nodes:
            grad = final.grads.get(node.id) if node.kind != "saved" else None
            name = names.get(node.id, node.name)
            nodes.append(replace(node, grad=grad, name=name, mark="", note=""))
        edges = []
        for i, edge in enumerate(self.graph.edges):
            share = final.shares.get(i)
            labelled = edge.kind == "data" and share is not None and not circuit
            edges.append(replace(edge, grad=share, mark="emitted" if labelled else ""))  # (a label on each wire)
        return replace(self.graph, nodes=nodes, edges=edges)

    def _dot_lines(self) -> list[str]:
        """The DOT lines with an ``id`` on every node and wire, to find them in the SVG."""
        lines, k = [], 0
        node_ids = {n.id for n in self._layout.nodes}
        for line in dot_lines(self._layout, **self.options):
            edge = re.match(r"^\t+n\d+ -> n\d+", line)
            head = re.match(r"^\t+(n\d+) \[", line)
            if edge:
                line = line.rstrip("\n") + f' [id="edge-{k}"]\n'
                k += 1
            elif head and head.group(1) in node_ids:
                line = line.rstrip("\n") + f' [id="node-{head.group(1)}"]\n'
            lines.append(line)
        return lines

    def _prepare(self) -> None:
        """Name the shapes and the gradient texts of every node and wire; put wires back in
        their plain colour (the layout marked them to get labels); centre each gradient text."""
        for key in [k for k in self._elements if k.startswith(("node-", "edge-"))]:
            group = self._elements[key]
            shapes = [child for child in group if child.tag in _SHAPES]
            for j, shape in enumerate(shapes):
                shape.set("id", f"{key}-s{j}")
                self._elements[f"{key}-s{j}"] = shape
                if key.startswith("edge-") and self._layout.edges[int(key[5:])].mark:
                    shape.set("stroke", EDGE_ATTRS["color"])
                    shape.attrib.pop("stroke-width", None)
                    if shape.tag.endswith("polygon"):
                        shape.set("fill", EDGE_ATTRS["color"])
            for text in group.iter(_TEXT):
                if text.get("fill") == GRAD_COLOR:
                    text.set("id", f"{key}-grad")
                    self._elements[f"{key}-grad"] = text
                    if text.get("text-anchor") == "start":
                        size = float(text.get("font-size", "10"))
                        x = float(text.get("x", "0")) + _text_width(text.text or "", size) / 2
                        text.set("x", f"{x:.2f}")
                        text.set("text-anchor", "middle")
                    break

    # ---- one step's restyle
    def _patch(self, step: Step) -> dict[str, dict[str, str]]:
        """The attributes to change in the rendered picture to show ``step``."""
        last = step.frames[-1]
        done = {nid for s in self.steps[: step.number - 1] for nid in s.node_ids}
        current = set(step.node_ids)
        emitted = {s.edge for f in step.frames for s in f.sends if s.edge is not None}
        patch: dict[str, dict[str, str]] = {}
        for node in self._layout.nodes:
            key = f"node-{node.id}"
            if key not in self._elements:
                continue
            mark = ""
            if node.kind != "output":
                mark = "current" if node.id in current else "done" if node.id in done else ""
                if not mark and node.id in last.grads:
                    mark = "waiting"
            if mark:
                filled = [s for s in self._shapes(key) if s.get("fill") not in (None, "none")]
                for shape in self._shapes(key):
                    first = bool(filled) and shape is filled[0]
                    patch[shape.get("id")] = _mark_attrs(mark, shape, first)
            if f"{key}-grad" in self._elements:
                patch[f"{key}-grad"] = self._grad_text(last.grads.get(node.id), node=True)
        for i in range(len(self._layout.edges)):
            key = f"edge-{i}"
            if key not in self._elements:
                continue
            if i in emitted:
                for shape in self._shapes(key):
                    patch[shape.get("id")] = _mark_attrs("emitted", shape, False)
            if f"{key}-grad" in self._elements:
                patch[f"{key}-grad"] = self._grad_text(last.shares.get(i), node=False)
        return patch

    def _shapes(self, key: str) -> list[ET.Element]:
        shapes, j = [], 0
        while f"{key}-s{j}" in self._elements:
            shapes.append(self._elements[f"{key}-s{j}"])
            j += 1
        return shapes

    def _grad_text(self, grad: Any, node: bool) -> dict[str, str]:
        if grad is None:
            return {"visibility": "hidden"}
        circuit = self._layout.circuit
        text = fmt_exact(grad) if circuit else "grad " + fmt_grad(grad)
        return {"text": text, "visibility": "visible"}

    # ---- output
    def svg(self, number: int) -> str:
        """The inline SVG of step ``number`` (from 1)."""
        if not 1 <= number <= len(self.steps):
            raise IndexError(f"step {number} does not exist: the steps are 1 to {len(self.steps)}")
        if number not in self._svgs:
            tree = copy.deepcopy(self._tree)
            elements = {el.get("id"): el for el in tree.iter() if el.get("id")}
            for patch in (self.base, self.patches[number - 1]):
                for eid, attrs in patch.items():
                    for attr, value in attrs.items():
                        if attr == "text":
                            elements[eid].text = value
                        else:
                            elements[eid].set(attr, value)
            self._svgs[number] = _to_string(tree)
        return self._svgs[number]

    def caption_html(self, number: int) -> str:
        """Step ``number``'s heading and arithmetic as HTML."""
        step = self.steps[number - 1]
        lines = "\n".join(html.escape(line) for line in step.lines)
        return f'<p class="heading"><b>{html.escape(step.heading)}</b></p><pre class="lines">{lines}</pre>'

    def html(self, title: str = "backward, step by step") -> str:
        """One standalone HTML page: the picture, the arithmetic, play / pause, previous /
        next, a slider and the arrow keys (no server, no network)."""
        n = len(self.steps)
        data = {
            "base": self.base,
            "patches": self.patches,
            "headings": [s.heading for s in self.steps],
            "lines": [s.lines for s in self.steps],
        }
        payload = json.dumps(data).replace("</", "<\\/")
        policy = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:"
        return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{policy}">
<title>{html.escape(title)}</title>
<style>{_PAGE_STYLE}</style>
</head>
<body>
<h1>{html.escape(title)}</h1>
<div class="controls">
<button id="play" type="button" aria-label="play">&#9654; play</button>
<button id="prev" type="button">&larr; previous</button>
<input id="slider" type="range" min="1" max="{n}" value="1" step="1" aria-label="step">
<button id="next" type="button">next &rarr;</button>
<span id="counter">step 1 of {n}</span>
<span class="hint">(keys: &larr; &rarr;)</span>
</div>
<div id="caption">{self.caption_html(1)}</div>
<div class="marks">{_marks_legend()}</div>
<div id="picture">{self.svg(1)}</div>
<script type="application/json" id="steps-data">{payload}</script>
<script>{_PAGE_SCRIPT}</script>
</body>
</html>
"""


def _strip_prolog(svg: str) -> str:
    return svg[svg.index("<svg") :]  # drop the XML prolog and doctype: the SVG goes inline


def _to_string(tree: ET.Element) -> str:
    ET.register_namespace("", _SVG)
    ET.register_namespace("xlink", _XLINK)
    return ET.tostring(tree, encoding="unicode")


def _marks_legend() -> str:
    """What the highlights mean, as small HTML swatches."""
    items = []
    for mark, texts in MARK_TEXT.items():
        text = texts if isinstance(texts, str) else texts[-1]  # (short, full) texts: the full one
        style = MARK_STYLES[mark]
        fill = style.get("fillcolor", "#ffffff")
        if mark == "emitted":
            swatch = f'<span class="wire" style="background:{style["color"]}"></span>'
        else:
            swatch = f'<span class="swatch" style="background:{fill};border-color:{style["color"]}"></span>'
        items.append(f"<span>{swatch} {html.escape(text)}</span>")
    return " ".join(items)


_PAGE_STYLE = """
body { font-family: Helvetica, Arial, sans-serif; margin: 1.2em; color: #111827; }
h1 { font-size: 1.3em; margin: 0 0 0.5em 0; }
.controls { display: flex; gap: 0.6em; align-items: center; margin-bottom: 0.4em; flex-wrap: wrap; }
#slider { width: 18em; }
#play { min-width: 6em; }
.hint { color: #6b7280; font-size: 0.85em; }
#caption { box-sizing: border-box; overflow: hidden; border-left: 4px solid #fde047; padding: 0.1em 0.8em;
  background: #fefce8; }
#caption .heading { margin: 0.3em 0; }
#caption .lines { margin: 0.2em 0 0.4em 0; font-size: 0.95em; white-space: pre-wrap; }
.marks { font-size: 0.85em; color: #374151; margin: 0.5em 0; }
.marks span { margin-right: 1.2em; white-space: nowrap; }
.marks .swatch { display: inline-block; width: 1.1em; height: 0.8em; border: 2px solid; vertical-align: middle; }
.marks .wire { display: inline-block; width: 1.6em; height: 3px; vertical-align: middle; }
#picture svg { max-width: 100%; height: auto; }
"""

_PAGE_SCRIPT = """
(function () {
  var data = JSON.parse(document.getElementById("steps-data").textContent);
  var n = data.patches.length;
  var slider = document.getElementById("slider");
  var prev = document.getElementById("prev");
  var next = document.getElementById("next");
  var play = document.getElementById("play");
  var current = 1, timer = null;
  function apply(patch) {
    Object.keys(patch).forEach(function (id) {
      var el = document.getElementById(id);
      var attrs = patch[id];
      Object.keys(attrs).forEach(function (attr) {
        if (attr === "text") { el.textContent = attrs[attr]; } else { el.setAttribute(attr, attrs[attr]); }
      });
    });
  }
  function caption(i) {
    var box = document.getElementById("caption");
    box.innerHTML = "";
    var p = document.createElement("p"), b = document.createElement("b"), pre = document.createElement("pre");
    p.className = "heading"; pre.className = "lines";
    b.textContent = data.headings[i - 1]; p.appendChild(b);
    pre.textContent = data.lines[i - 1].join("\\n");
    box.appendChild(p); box.appendChild(pre);
  }
  function fixCaptionHeight() {  // the tallest caption's height for all: the picture never moves
    var box = document.getElementById("caption"), tallest = 0;
    box.style.height = "auto";
    for (var i = 1; i <= n; i++) { caption(i); tallest = Math.max(tallest, box.offsetHeight); }
    box.style.height = tallest + "px";
    caption(current);
  }
  function show(i) {
    current = Math.max(1, Math.min(n, i));
    apply(data.base);
    apply(data.patches[current - 1]);
    caption(current);
    slider.value = current;
    document.getElementById("counter").textContent = "step " + current + " of " + n;
    prev.disabled = current === 1;
    next.disabled = current === n;
  }
  function stop() {
    if (timer !== null) { clearInterval(timer); timer = null; }
    play.innerHTML = "&#9654; play"; play.setAttribute("aria-label", "play");
  }
  function start() {
    if (current === n) { show(1); }
    play.innerHTML = "&#10074;&#10074; pause"; play.setAttribute("aria-label", "pause");
    timer = setInterval(function () {
      if (current >= n) { stop(); } else { show(current + 1); if (current === n) { stop(); } }
    }, 1500);
  }
  play.addEventListener("click", function () { if (timer === null) { start(); } else { stop(); } });
  prev.addEventListener("click", function () { stop(); show(current - 1); });
  next.addEventListener("click", function () { stop(); show(current + 1); });
  slider.addEventListener("input", function () { stop(); show(parseInt(slider.value, 10)); });
  document.addEventListener("keydown", function (event) {
    if (event.target === slider) { return; }  // the slider moves itself with the arrow keys
    var moves = {ArrowRight: current + 1, ArrowLeft: current - 1, Home: 1, End: n};
    if (event.key in moves) { event.preventDefault(); stop(); show(moves[event.key]); }
  });
  fixCaptionHeight();
  window.addEventListener("resize", fixCaptionHeight);
  show(1);
})();
"""


# ---------------------------------------------------------------- the page and the widget


def _frames(root_or_frames: Any, **kwargs: Any) -> list[Frame]:
    if isinstance(root_or_frames, Sequence) and not root_or_frames:
        raise ValueError("no steps to show: got an empty list (pass a root, or the frames of backward_steps)")
    if isinstance(root_or_frames, Sequence) and isinstance(root_or_frames[0], Frame):
        return list(root_or_frames)
    return backward_steps(root_or_frames, **kwargs)


def _view(root_or_frames: Any, names: Any, model: Any, depth: int | None, options: dict) -> StepView:
    local = options.get("local_grads", False)
    frames = _frames(root_or_frames, names=names, model=model, depth=depth, local_grads=local)
    if not frames:
        raise ValueError("no steps to show: the graph has no node that received a gradient")
    return StepView(frames, model=model, **options)


def steps_html(frames: list[Frame], title: str = "backward, step by step", **options: Any) -> str:
    """One standalone HTML page showing the steps of ``frames`` (see ``StepView.html``)."""
    return StepView(frames, **options).html(title)


def save_steps_html(
    root_or_frames: Any,
    path: str | Path,
    *,
    title: str = "backward, step by step",
    names: Any = None,
    model: Any = None,
    depth: int | None = None,
    **options: Any,
) -> Path:
    """Write the steps of backward (a root, or frames from ``backward_steps``) to one HTML file.

    The page is standalone (one inline SVG rendered now with Graphviz's ``dot``, restyled per
    step by a small script; no server, loads nothing): play / pause, previous / next, a
    slider and the arrow keys. ``model=`` and ``depth=1`` show a network module by module.
    Options as in ``draw_graph`` (``local_grads=True``, ``rankdir``, ``size``, ...).
    """
    view = _view(root_or_frames, names, model, depth, options)
    path = Path(path)
    path.write_text(view.html(title), encoding="utf-8")
    return path


def _ipywidgets() -> Any:
    try:
        import ipywidgets
    except ImportError as error:
        raise ImportError(
            "viz.step_through needs ipywidgets for its slider: pip install ipywidgets "
            "(or write a standalone page with viz.save_steps_html(loss, 'steps.html'))"
        ) from error
    return ipywidgets


def step_through(
    root_or_frames: Any, *, names: Any = None, model: Any = None, depth: int | None = None, **options: Any
) -> Any:
    """In Jupyter: the steps of backward with play / pause, previous / next and a slider.

    ``root_or_frames`` is a root (backward runs now, as in ``backward_steps``) or the frames
    it returned. Steps are numbered from 1; with the slider focused, the arrow keys move it.
    Returns an ipywidgets box: ``(play, previous, slider, next)``, the arithmetic, the picture.
    """
    widgets = _ipywidgets()
    view = _view(root_or_frames, names, model, depth, options)
    n = len(view.steps)
    play = widgets.Play(value=1, min=1, max=n, step=1, interval=1500, description="play")
    slider = widgets.IntSlider(value=1, min=1, max=n, step=1, description="step")
    widgets.link((play, "value"), (slider, "value"))
    prev, next_ = widgets.Button(description="previous"), widgets.Button(description="next")
    caption, picture = widgets.HTML(), widgets.HTML()

    def show(_: Any = None) -> None:
        picture.value, caption.value = view.svg(slider.value), view.caption_html(slider.value)
        prev.disabled, next_.disabled = slider.value == 1, slider.value == n

    slider.observe(show, names="value")
    prev.on_click(lambda _: setattr(slider, "value", max(1, slider.value - 1)))
    next_.on_click(lambda _: setattr(slider, "value", min(n, slider.value + 1)))
    show()
    return widgets.VBox([widgets.HBox([play, prev, slider, next_]), caption, picture])
