"""Walk an autograd graph into a plain model of the picture: nodes, edges and module clusters.

``build_graph(root)`` follows ``_parents`` from the root(s) breadth-first, with a loop and no
recursion (a chain of 100,000 ops is fine), and returns a ``Graph``:

- ``nodes``: ``Node`` objects with ids ``n0, n1, ...`` in a stable order (outputs first, then
  the walk order), so the same graph always gives the same ids and the same DOT text;
- ``edges``: one ``Edge`` per *use* of a value, so ``a + a`` has two wires into the ``+``;
- ``clusters``: the ``nn.Module`` calls the ops were made in (with ``model=``).

What is drawn as one box instead of its ops is data too: ``depth``, a ``collapse`` rule
(``collapse_rule``), and folding runs of identical blocks into one box marked "x N"
(``_Fold``); a module is either one box or a cluster of its contents, never both.

Nothing here knows about Graphviz: ``viz.render`` turns the model into DOT text, and tests (or
curious learners) can read the model directly.

Two views of the same graph:

- ``"forward"``: leaves and gates, wires in the direction values flow. Each wire carries the
  value and, after backward, the gradient that flowed back along it (its *share* when the
  value feeds several gates; the node's own gradient is the sum of its wires).
- ``"backward"``: what ``backward()`` runs: an ``XxxBackward`` node per op, an
  ``AccumulateGrad`` node per leaf, arrows in the direction gradients flow, and the values
  each op saved for its backward as small nodes.

Values and gradients of intermediate tensors exist only when the graph was built inside
``autograd.graph.record()`` (``node.output``); leaves and ``Scalar`` nodes always have theirs.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from autograd.grad_mode import no_grad
from autograd.scalar import GATES, Scalar
from autograd.tensor import Tensor, values_of

#: Tensors with at most this many elements are small enough to show every value.
TINY = 6
VIEWS = ("forward", "backward")
#: The box of the ops made outside every module after the model: a functional loss.
LOSS_PATH = "loss"


@dataclass
class Node:
    """One box of the picture.

    ``kind`` is one of ``leaf``, ``op``, ``output`` (a root's value), ``module`` (a collapsed
    module), ``accumulate`` (a leaf in the backward view), ``saved`` (a value an op saved for
    backward) or ``summary`` (what ``max_nodes`` left out). ``value`` and ``grad`` are a float
    (Scalar graphs), a numpy array (tensor graphs) or None when unknown.
    """

    id: str
    kind: str
    op: str = ""  # what the gate computes: "*", "Mul", "MulBackward", a module's repr
    name: str = ""  # the user's name: a Scalar label, a parameter name, a module path
    value: Any = None
    grad: Any = None
    shape: tuple | None = None
    dtype: str = ""
    cluster: str | None = None  # id of the innermost module cluster it is drawn in
    inputs: tuple = ()  # collapsed module: shapes going in
    outputs: tuple = ()  # collapsed module: shapes coming out
    params: tuple = ()  # collapsed module: names of the parameters drawn inside it
    note: str = ""  # one extra line of text (step-through: the running sum)
    mark: str = ""  # a highlight (step-through): "current", "done", "waiting"
    count: int = 1  # a module box: how many identical blocks in a row it stands for ("x 3")
    obj: Any = field(default=None, repr=False, compare=False)  # the engine node it shows


@dataclass
class Edge:
    """One wire: ``src`` feeds input ``index`` of ``dst`` (in the backward view ``src`` sends
    the gradient to ``dst``). ``grad`` is the gradient that flowed along this wire, ``local``
    the local gradient d(dst)/d(src) (with ``local_grads=True``)."""

    src: str
    dst: str
    index: int = 0
    value: Any = None
    grad: Any = None
    local: Any = None
    kind: str = "data"  # "data", "saved" (a saved value -> its op), "omitted" (to the summary)
    mark: str = ""  # a highlight (step-through): "emitted"


@dataclass
class Cluster:
    """A module call drawn as a box around its ops: ``path`` e.g. ``features.0``."""

    id: str
    path: str
    label: str
    parent: str | None = None


@dataclass
class Graph:
    """The whole picture as plain data (see the module docstring)."""

    nodes: list[Node]
    edges: list[Edge]
    clusters: list[Cluster] = field(default_factory=list)
    view: str = "forward"
    kind: str = "tensor"  # "scalar" or "tensor"
    circuit: bool = False  # every value is tiny: draw values and gradients on the wires
    notes: list[str] = field(default_factory=list)  # for the legend; "\n": where a line may end
    omitted_nodes: int = 0
    omitted_edges: int = 0

    def node(self, node_id: str) -> Node:
        """The node with this id."""
        for node in self.nodes:
            if node.id == node_id:
                return node
        raise KeyError(node_id)

    def find(self, obj: Any) -> Node | None:
        """The node drawing ``obj`` (a Tensor, a Scalar or an engine node), or None."""
        target = engine_node(obj)
        for node in self.nodes:
            if node.obj is target and node.kind not in ("output", "saved"):
                return node
        return None


# ---------------------------------------------------------------- small helpers


def engine_node(obj: Any) -> Any:
    """The graph node behind ``obj``: a tensor's ``grad_fn`` (itself for a leaf); a Scalar itself."""
    if isinstance(obj, Tensor):
        return obj.grad_fn if obj.grad_fn is not None else obj
    return obj


class FailedOp:
    """Stands for an op whose forward raised, so ``viz.draw_graph(error)`` can draw the graph up
    to it: its inputs (with their history) feed one red node that names the op and the error."""

    _seq = 0
    _out_shape = None
    _out_dtype = ""

    def __init__(self, error: BaseException) -> None:
        self.op, self.error = error.dagrad_op, error
        self._parents = tuple(t.grad_fn if t.grad_fn is not None else t for t in error.dagrad_inputs)

    def message(self) -> str:
        """The error's first line, shortened to fit under the node's title."""
        message = str(self.error).splitlines()[0] if str(self.error) else type(self.error).__name__
        return message if len(message) <= 70 else message[:67] + "..."


def as_roots(root: Any) -> list[Any]:
    """``root`` as a list of Tensors or Scalars (one root or a list of roots); an exception
    raised by an op's forward stands for that op (see ``FailedOp``)."""
    if isinstance(root, BaseException):
        if getattr(root, "dagrad_inputs", None) is None:
            raise TypeError(
                f"this {type(root).__name__} was not raised by a dagrad op's forward, so there is no graph to draw"
            )
        return [FailedOp(root)]
    roots = list(root) if isinstance(root, (list, tuple)) else [root]
    if not roots:
        raise ValueError("draw_graph needs at least one root (a Tensor or a Scalar)")
    for r in roots:
        if not isinstance(r, (Tensor, Scalar)):
            raise TypeError(f"expected a Tensor or a Scalar as root, got {type(r).__name__}")
    return roots


def walk(roots: Sequence[Any]) -> tuple[list[Any], list[tuple[int, int, int]]]:
    """Visit every node reachable from ``roots`` once, breadth-first, without recursion.

    Returns the nodes in visiting order and one link ``(parent, consumer, input index)`` per
    use, as positions in that order; ``a + a`` gives two links.
    """
    position: dict[int, int] = {}
    order: list[Any] = []
    for node in roots:
        if id(node) not in position:
            position[id(node)] = len(order)
            order.append(node)
    links = []
    i = 0
    while i < len(order):  # order grows while we read it: a queue without pops
        for k, parent in enumerate(order[i]._parents):
            if parent is None:  # an input that needs no gradient (a constant, an int argument)
                continue
            pos = position.get(id(parent))
            if pos is None:
                pos = position[id(parent)] = len(order)
                order.append(parent)
            links.append((pos, i, k))
        i += 1
    return order, links


def module_label(module: Any) -> str:
    """A one-line description of a module, e.g. ``Conv2d(3, 16, kernel_size=(3, 3), ...)``."""
    extra = module.extra_repr()
    has_children = next(iter(module.children()), None) is not None
    text = type(module).__name__ if has_children and not extra else f"{type(module).__name__}({extra})"
    return text if len(text) <= 80 else text[:76] + "...)"


def box_label(module: Any) -> str:
    """A module drawn as one box: ``module_label``, and for a container with no settings of its
    own the classes inside it, e.g. ``Sequential(Conv2d, ReLU, MaxPool2d)``."""
    text = module_label(module)
    children = [type(child).__name__ for child in module.children()]
    if children and text == type(module).__name__:
        text = f"{text}({', '.join(children)})"
    return text if len(text) <= 80 else text[:76] + "...)"


def _numel(shape: tuple | None) -> int:
    return math.prod(shape) if shape is not None else 1


def _array(value: Any) -> Any:
    """A gradient or value as plain data: a Tensor becomes its numpy array."""
    return values_of(value)


# ---------------------------------------------------------------- Scalar gates
# What a gate shows and keeps comes from the gate table, autograd.scalar.GATES.


def scalar_op(node: Scalar) -> str:
    """The text of a Scalar gate: ``*``, ``sigmoid``, or with its constant ``* 3``."""
    return GATES[node._back].label.replace("{c}", f"{node._aux:.4g}")


def _scalar_saved(node: Scalar) -> list[tuple[str, float]]:
    """The values a gate's backward reads, by name: ``[("x", 2.0), ("y", -1.0)]``."""
    values = {"z": lambda: node.data, "c": lambda: node._aux}
    values["x"] = lambda: node._parents[0].data
    values["y"] = lambda: node._parents[1].data
    return [(name, values[name]()) for name in GATES[node._back].saved]


def _backward_name(node: Any) -> str:
    if isinstance(node, Scalar):
        return GATES[node._back].name
    return node.name()


# ---------------------------------------------------------------- collapsing modules


def collapse_rule(collapse: Any) -> Callable[[str, Any], bool] | None:
    """``collapse=`` as a function ``(module_path, module) -> bool``.

    It may already be one; or a module path (``"features.0"``), a module class (``nn.Conv2d``),
    or a list of them: those modules are drawn as one box each. ``module`` is None for
    ``"loss"``, the ops made outside every module after the model (``F.cross_entropy``).
    """
    if collapse is None:
        return None
    if callable(collapse) and not isinstance(collapse, type):
        return collapse
    items = [collapse] if isinstance(collapse, (str, type)) else collapse
    try:
        items = list(items)
    except TypeError:
        items = [collapse]
    wrong = [item for item in items if not isinstance(item, (str, type))]
    if wrong:
        raise TypeError(
            "collapse= takes a function (module_path, module) -> bool, or module paths (str) and module classes, "
            f"or a list of them; got {wrong[0]!r}"
        )
    paths = {item for item in items if isinstance(item, str)}
    classes = tuple(item for item in items if isinstance(item, type))

    def listed(path: str, module: Any) -> bool:
        return path in paths or (module is not None and isinstance(module, classes))

    return listed


def _signature(module: Any) -> tuple:
    """What makes two modules identical for folding: every submodule's class, settings
    (``extra_repr``) and parameter shapes, with its place in the module."""
    return tuple(
        (path, type(m).__name__, m.extra_repr(), tuple(tuple(p.shape) for _, p in m.named_parameters(recurse=False)))
        for path, m in module.named_modules()
    )


def _repeat_at(signatures: Sequence[Any], i: int) -> tuple[int, int]:
    """``(period, count)`` of the longest run of a block repeated from ``i`` on (count 1: none)."""
    best = (1, 1)
    for period in range(1, (len(signatures) - i) // 2 + 1):
        block = signatures[i : i + period]
        count = 1
        while signatures[i + count * period : i + (count + 1) * period] == block:
            count += 1
        if count > 1 and period * count > best[0] * best[1]:
            best = (period, count)
    return best


def _repeats(paths: list[str], signatures: list[Any]) -> list[_Fold]:
    """The runs of identical blocks in a chain of sibling modules, as folds."""
    folds = []
    i = 0
    while i < len(paths) - 1:
        period, count = _repeat_at(signatures, i)
        if count == 1:
            i += 1
            continue
        # [ReLU, Conv, ReLU, Conv, ReLU] reads [Conv, ReLU] x 2: shift while the run stays periodic
        while i + period * count < len(paths) and signatures[i + period * count] == signatures[i]:
            i += 1
        members = paths[i : i + period * count]
        folds.append(_Fold(f"{members[0]} to {members[-1]}", members, period, count))
        i += period * count
    return folds


# ---------------------------------------------------------------- the builder


@dataclass
class _Unit:
    """A future Node before ids are given: a graph node, a collapsed module, an output, a saved
    value or the summary. ``pos`` is a position in the walk order (the root for an output, the
    first member for a module), ``slot`` the root number or the saved value's number."""

    kind: str
    pos: int = -1
    path: str = ""
    slot: int = 0


@dataclass
class _Fold:
    """A run of identical blocks drawn as one box marked "x count": ``members`` are the module
    paths of the run in order, ``period`` modules make one block (``[Conv2d, ReLU]`` is 2)."""

    key: str
    members: list[str]
    period: int
    count: int


class _Builder:
    """Turns one walk of the engine graph into a ``Graph`` (see ``build_graph``)."""

    def __init__(
        self,
        roots: list[Any],
        names: Mapping[str, Any] | None,
        model: Any,
        view: str,
        depth: int | None,
        collapse: Any = None,
        fold: bool = True,
    ):
        self.roots = roots
        self.view = view
        self.depth = depth
        self.order, self.links = walk([engine_node(r) for r in roots])
        self.position = {id(node): pos for pos, node in enumerate(self.order)}
        self.root_positions = [self.position[id(engine_node(r))] for r in roots]
        self.uses: list[list[int]] = [[] for _ in self.order]  # consumers of each position
        for src, dst, _ in self.links:
            self.uses[src].append(dst)
        self.kind = "scalar" if any(isinstance(n, Scalar) for n in self.order) else "tensor"
        self.names, self.params = _names(names, model)
        self.paths: dict[int, str] = {}  # id(module) -> dotted path
        self.modules: dict[str, Any] = {}  # path -> module (None for the loss ops), in the model's order
        self.loss: set[int] = set()  # positions of the ops made outside every module, after the model
        self.loss_order: list[int] = []  # the same, parents first
        if model is not None:
            for path, module in model.named_modules():
                if path:  # the model itself would be one box around everything
                    self.paths[id(module)] = path
                    self.modules[path] = module
            self._add_outside_modules(model)
            self.loss = self._loss_ops()
        self.loss_path = LOSS_PATH if LOSS_PATH not in self.modules else LOSS_PATH + " (after the model)"
        if self.loss:
            self.modules[self.loss_path] = None
        self.collapse = collapse_rule(collapse)
        self.collapsed: dict[str, bool] = {}  # path -> drawn as one box (asked once per path)
        self.groups = self._groups()
        self.folds: dict[str, _Fold] = self._fold() if fold else {}
        self.fold_of = {path: key for key, f in self.folds.items() for path in f.members}
        self.shares: dict[int, Any] = {}  # consumer position -> gradient sent to each input
        self.clusters: list[Cluster] = []
        self.cluster_ids: dict[str, str] = {}  # path -> cluster id

    # ---- modules
    def _add_outside_modules(self, model: Any) -> None:
        """Modules that ran in the graph but are not part of ``model`` (a loss module such as
        ``nn.CrossEntropyLoss()``) get paths too: their class name, then their children's names."""
        for node in self.order:
            for module in getattr(node, "modules", ()):  # outermost first: a parent before its children
                if module is model or id(module) in self.paths or not hasattr(module, "named_modules"):
                    continue
                name, k = type(module).__name__, 2
                while name in self.modules:  # two losses of the same class
                    name, k = f"{type(module).__name__}_{k}", k + 1
                for path, sub in module.named_modules(prefix=name):
                    if id(sub) not in self.paths:
                        self.paths[id(sub)] = path
                        self.modules[path] = sub

    def _parents_first(self) -> list[int]:
        """Every position after the positions it was computed from (Kahn's algorithm, no recursion)."""
        waiting = [0] * len(self.order)  # parent links not yet placed
        for _, dst, _ in self.links:
            waiting[dst] += 1
        ready = [pos for pos in range(len(self.order)) if waiting[pos] == 0]
        order = []
        while ready:
            pos = ready.pop()
            order.append(pos)
            for user in self.uses[pos]:
                waiting[user] -= 1
                if waiting[user] == 0:
                    ready.append(user)
        return order

    def _loss_ops(self) -> set[int]:
        """The ops made outside every module call (``F.cross_entropy(model(x), y)``'s ops) that
        come after ops of the model and feed nothing but each other and the root(s)."""
        order = self._parents_first()
        free = [getattr(node, "modules", None) == () for node in self.order]  # recorded, in no module
        after_model = [False] * len(self.order)
        for pos in order:
            if getattr(self.order[pos], "modules", ()) or after_model[pos]:
                for user in self.uses[pos]:
                    after_model[user] = True
        loss: set[int] = set()
        for pos in reversed(order):  # consumers first
            if free[pos] and after_model[pos] and all(user in loss for user in self.uses[pos]):
                loss.add(pos)
        self.loss_order = [pos for pos in order if pos in loss]
        return loss

    def _chain(self, pos: int) -> list[str]:
        """The paths of the modules whose call made the op at ``pos``, outermost first."""
        if pos in self.loss:
            return [self.loss_path]
        return [self.paths[id(m)] for m in getattr(self.order[pos], "modules", ()) if id(m) in self.paths]

    def _is_collapsed(self, path: str) -> bool:
        """Is the module at ``path`` drawn as one box (``depth``, ``collapse``)?"""
        if path not in self.collapsed:
            deep = self.depth is not None and path.count(".") + 1 > self.depth
            asked = self.collapse is not None and bool(self.collapse(path, self.modules[path]))
            self.collapsed[path] = deep or asked
        return self.collapsed[path]

    def _groups(self) -> dict[int, str]:
        """Position -> path of the collapsed module that swallows it: the outermost one, so a
        module is never drawn both as a box and as what is inside it."""
        if not self.modules or (self.depth is None and self.collapse is None):
            return {}
        groups = {}
        for pos in range(len(self.order)):
            for path in self._chain(pos):
                if self._is_collapsed(path):
                    groups[pos] = path
                    break
        for pos, node in enumerate(self.order):  # a module's own parameters go inside it
            name = self.params.get(id(node))
            users = {groups.get(user) for user in self.uses[pos]}
            if name is not None and pos not in groups and len(users) == 1:
                (path,) = users
                if path is not None and name.startswith(path + "."):
                    groups[pos] = path
        return groups

    def _fold(self) -> dict[str, _Fold]:
        """Fold runs of identical boxes into one box marked "x N" (and update ``groups``).

        A run is made of sibling modules drawn as boxes, each feeding only the next one and
        fed only by the previous one; identical means the same classes, settings and parameter
        shapes (``_signature``). ``[Conv2d, ReLU, Conv2d, ReLU]`` becomes ``[Conv2d, ReLU] x 2``.
        """
        boxes = set(self.groups.values())
        if len(boxes) < 2:
            return {}
        feeds: dict[Any, set] = {}  # box or position -> the boxes and positions feeding it
        users: dict[Any, set] = {}
        for src, dst, _ in self.links:
            a, b = self.groups.get(src, src), self.groups.get(dst, dst)
            if a != b:
                users.setdefault(a, set()).add(b)
                feeds.setdefault(b, set()).add(a)
        roots = {self.groups.get(pos, pos) for pos in self.root_positions}
        siblings: dict[str, list[str]] = {}
        for path in self.modules:  # the model's order: children in the order they were registered
            if path in boxes and self.modules[path] is not None:
                siblings.setdefault(path.rpartition(".")[0], []).append(path)
        folds = {}
        for paths in siblings.values():
            chain = [paths[0]]
            for path in paths[1:] + [None]:
                prev = chain[-1]
                if path is not None and feeds.get(path) == {prev} and users.get(prev) == {path} and prev not in roots:
                    chain.append(path)
                    continue
                for fold in _repeats(chain, [_signature(self.modules[p]) for p in chain]):
                    folds[fold.key] = fold
                chain = [path]
        member_of = {path: key for key, f in folds.items() for path in f.members}
        for pos, path in self.groups.items():
            self.groups[pos] = member_of.get(path, path)
        return folds

    def _label(self, path: str, box: bool = False) -> str:
        """A module's description: ``Conv2d(3, 16, ...)`` (``box_label`` with ``box``); the loss
        ops: what they are."""
        module = self.modules[path]
        if module is not None:
            return box_label(module) if box else module_label(module)
        ops = dict.fromkeys(type(self.order[pos]).__name__ for pos in self.loss_order)
        text = " > ".join(ops)
        return "ops after the model: " + (text if len(text) <= 60 else text[:57] + "...")

    def _cluster(self, chain: list[str]) -> str | None:
        """The id of the innermost cluster of ``chain``, creating clusters as needed."""
        parent = None
        for path in chain:
            if path not in self.cluster_ids:
                cid = f"cluster_{len(self.clusters)}"
                label = self._label(path)
                label = label if label.startswith(path) else f"{path}: {label}"  # (CrossEntropyLoss())
                self.clusters.append(Cluster(cid, path, label, parent))
                self.cluster_ids[path] = cid
            parent = self.cluster_ids[path]
        return parent

    def _chain_above(self, path: str, pos: int) -> list[str]:
        """The modules around the box ``path`` (a module or a fold) that made the op at ``pos``."""
        chain = self._chain(pos)
        for i, p in enumerate(chain):
            if p == path or self.fold_of.get(p) == path:
                return chain[:i]
        return []

    def _unit_cluster(self, unit: _Unit) -> str | None:
        if unit.kind == "module":
            return self._cluster(self._chain_above(unit.path, unit.pos))
        if unit.kind not in ("node", "saved"):
            return None
        node = self.order[unit.pos]
        if isinstance(node, Tensor):  # a parameter: inside the cluster of the module owning it
            owner = self.params.get(id(node), "").rpartition(".")[0]
            return self.cluster_ids.get(owner)
        return self._cluster(self._chain(unit.pos))

    # ---- units and their edges
    def units(self) -> tuple[list[_Unit], list[int]]:
        """Every future node in order, and the unit of each walk position."""
        units = []
        if self.view == "forward":  # one output node per root, first
            units = [
                _Unit("output", pos, slot=i)
                for i, pos in enumerate(self.root_positions)
                if not isinstance(self.order[pos], FailedOp)  # (a failed op made no output)
            ]
        unit_of = [0] * len(self.order)
        module_unit: dict[str, int] = {}
        for pos, node in enumerate(self.order):
            path = self.groups.get(pos)
            if path is not None:
                if path not in module_unit:
                    module_unit[path] = len(units)
                    units.append(_Unit("module", pos, path))
                unit_of[pos] = module_unit[path]
                continue
            unit_of[pos] = len(units)
            units.append(_Unit("node", pos))
            if self.view == "backward":
                units.extend(_Unit("saved", pos, slot=j) for j in range(len(self._saved(node))))
        return units, unit_of

    def unit_edges(self, units: list[_Unit], unit_of: list[int]) -> list[tuple]:
        """``(kind, src unit, dst unit, link)`` for every wire to draw."""
        edges = []
        for i, unit in enumerate(units):
            if unit.kind == "output":
                edges.append(("data", unit_of[unit.pos], i, None))
        seen = set()
        for link in self.links:
            src, dst = unit_of[link[0]], unit_of[link[1]]
            if src == dst:  # inside one collapsed module
                continue
            if self.view == "backward":
                src, dst = dst, src
            if units[src].kind == "module" or units[dst].kind == "module":
                if (src, dst) in seen:  # a module's inputs and outputs are drawn once
                    continue
                seen.add((src, dst))
            edges.append(("data", src, dst, link))
        for i, unit in enumerate(units):
            if unit.kind == "saved":
                edges.append(("saved", i, unit_of[unit.pos], None))
        return edges

    # ---- values and gradients
    def value(self, pos: int) -> Any:
        """The forward value at ``pos``, or None when it was not recorded."""
        node = self.order[pos]
        if isinstance(node, (Scalar, Tensor)):
            return node._data if isinstance(node, Tensor) else node.data
        output = getattr(node, "output", None)
        return None if output is None else output._data

    def grad(self, pos: int) -> Any:
        """The gradient at ``pos`` (dL/d its value), or None when unknown."""
        node = self.order[pos]
        if isinstance(node, Scalar):
            return node.grad
        tensor = node if isinstance(node, Tensor) else getattr(node, "output", None)
        if tensor is None or tensor.grad is None:
            return None
        return tensor.grad._data

    def share(self, link: tuple[int, int, int]) -> Any:
        """The gradient that flowed back along one wire: the consumer's backward run again on
        its gradient; when that cannot run (nothing kept, or freed), the value's own gradient
        if this wire is its only use and no hook changed what arrived."""
        src, dst, k = link
        if dst not in self.shares:
            self.shares[dst] = self._backward_of(dst, self.grad(dst))
        grads = self.shares[dst]
        if grads is not None:
            return grads[k]
        value = self.order[src]
        hooked = getattr(value, "_hooks", None) or getattr(getattr(value, "grad_fn", None), "_hooks", None)
        if not isinstance(self.order[dst], Scalar) and len(self.uses[src]) == 1 and not hooked:
            return self.grad(src)
        return None

    def local(self, link: tuple[int, int, int]) -> Any:
        """The local gradient d(consumer)/d(input) of one wire, when it is a number or a
        gradient (a one-element output); None for bigger Jacobians."""
        src, dst, k = link
        node = self.order[dst]
        if isinstance(node, Scalar):
            grads = self._backward_of(dst, 1.0)
        elif _numel(getattr(node, "_out_shape", None)) == 1:
            grads = self._backward_of(dst, Tensor._make(np.ones(node._out_shape, node._out_dtype)))
        else:
            return None
        return None if grads is None else grads[k]

    def _backward_of(self, pos: int, grad: Any) -> tuple | None:
        """Run one node's backward on ``grad`` (nothing accumulates), or None if it cannot."""
        node = self.order[pos]
        if grad is None:
            return None
        if isinstance(node, Scalar):
            try:
                return node._back(node, grad)
            except ArithmeticError:
                return None
        if getattr(node, "_freed", True):  # saved tensors already freed by backward()
            return None
        try:
            with no_grad():
                grads = node._backward(grad if isinstance(grad, Tensor) else Tensor._make(grad))
        except Exception:  # a drawing must not fail: e.g. a saved tensor changed in place
            return None
        return tuple(_array(g) for g in grads)

    def _saved(self, node: Any) -> list[tuple[str, Any]]:
        """``(label, value)`` for each value an op keeps for its backward."""
        if isinstance(node, Scalar):
            return _scalar_saved(node) if node._parents else []
        saved = getattr(node, "_saved", ())
        if isinstance(node, Tensor) or saved is None:
            return []
        items = []
        for j, value in enumerate(saved):
            if type(value).__name__ == "_SavedOutput":
                items.append(("output", value._data))
            elif isinstance(value, (Tensor, np.ndarray)):
                items.append((f"saved[{j}]", _array(value)))
        return items

    # ---- describing units as Nodes
    def describe(self, unit: _Unit, node_id: str) -> Node:
        """The Node drawing one unit (values, gradients, names, cluster)."""
        cluster = self._unit_cluster(unit)
        if unit.kind == "node":
            return self._describe_node(unit.pos, node_id, cluster)
        if unit.kind == "output":
            return self._describe_output(unit, node_id)
        if unit.kind == "saved":
            label, value = self._saved(self.order[unit.pos])[unit.slot]
            shape, dtype = (np.shape(value), str(np.asarray(value).dtype)) if self.kind == "tensor" else (None, "")
            node = self.order[unit.pos]
            return Node(node_id, "saved", label, value=value, shape=shape, dtype=dtype, cluster=cluster, obj=node)
        return self._describe_module(unit, node_id, cluster)

    def _describe_node(self, pos: int, node_id: str, cluster: str | None) -> Node:
        node = self.order[pos]
        leaf = not node._parents if isinstance(node, Scalar) else isinstance(node, Tensor)
        name = self.names.get(id(node)) or (node.label if isinstance(node, Scalar) else "")
        if self.view == "backward":
            kind, op = ("accumulate", "AccumulateGrad") if leaf else ("op", _backward_name(node))
        else:
            kind = "leaf" if leaf else "op"
            op = "" if leaf else scalar_op(node) if isinstance(node, Scalar) else type(node).__name__
            if isinstance(node, FailedOp):
                kind, op, name = "failed", f"{node.op} failed", node.message()
        shape, dtype = _shape_dtype(node)
        return Node(node_id, kind, op, name, self.value(pos), self.grad(pos), shape, dtype, cluster, obj=node)

    def _describe_output(self, unit: _Unit, node_id: str) -> Node:
        root = self.roots[unit.slot]
        node = self.order[unit.pos]
        name = self.names.get(id(node)) or (root.label if isinstance(root, Scalar) else "")
        if not name:
            name = "output" if len(self.roots) == 1 else f"output {unit.slot}"
        shape, dtype = _shape_dtype(node)
        return Node(node_id, "output", "", name, self.value(unit.pos), self.grad(unit.pos), shape, dtype, obj=node)

    def _describe_module(self, unit: _Unit, node_id: str, cluster: str | None) -> Node:
        """A collapsed module: the shapes going in and coming out, its parameters, its output."""
        inside = {pos for pos, path in self.groups.items() if path == unit.path}
        sources = sorted({src for src, dst, _ in self.links if dst in inside and src not in inside})
        exits = {src for src, dst, _ in self.links if src in inside and dst not in inside}
        exits = sorted(exits | inside.intersection(self.root_positions)) or [unit.pos]
        shape, dtype = _shape_dtype(self.order[exits[0]])
        member_ids = {id(self.order[pos]) for pos in inside}
        fold = self.folds.get(unit.path)
        if fold is None:
            op, count, module = self._label(unit.path, box=True), 1, self.modules[unit.path]
        else:  # a run of identical blocks: the first block's modules
            block = [self.modules[path] for path in fold.members[: fold.period]]
            op, count = " > ".join(box_label(m) for m in block), fold.count
            module = tuple(self.modules[path] for path in fold.members)
        return Node(
            node_id,
            "module",
            op=op if len(op) <= 100 else op[:96] + "...)",
            name=unit.path,
            count=count,
            value=self.value(exits[0]),
            grad=self.grad(exits[0]),
            shape=shape,
            dtype=dtype,
            cluster=cluster,
            inputs=tuple(dict.fromkeys(_shape_dtype(self.order[pos])[0] for pos in sources)),
            outputs=tuple(_shape_dtype(self.order[pos])[0] for pos in exits),
            params=tuple(name for key, name in self.params.items() if key in member_ids),  # the model's order
            obj=module,
        )

    def notes(self, nodes: list[Node]) -> list[str]:
        """What the picture cannot show, said in the legend."""
        notes = []
        ops = [n for n in nodes if n.kind == "op" and self.kind == "tensor"]
        if any(not hasattr(n.obj, "output") for n in ops):
            notes.append(
                "intermediate values and gradients were not recorded;\n"
                "build the graph inside `with autograd.graph.record():` to see them"
            )
        if self.paths and not self.cluster_ids and not any(hasattr(n, "modules") for n in self.order):
            notes.append("module boxes need the forward pass\nto run inside `autograd.graph.record()`")
        if self.view == "backward" and any(getattr(n, "_freed", False) for n in self.order):
            notes.append("saved tensors were freed by backward();\ncall backward(retain_graph=True) to see them")
        return notes


def _shape_dtype(node: Any) -> tuple[tuple | None, str]:
    if isinstance(node, Scalar):
        return None, ""
    if isinstance(node, Tensor):
        return tuple(node.shape), str(node.dtype)
    shape = getattr(node, "_out_shape", None)
    return (tuple(shape) if shape is not None else None), str(getattr(node, "_out_dtype", ""))


def _names(names: Mapping[str, Any] | None, model: Any) -> tuple[dict[int, str], dict[int, str]]:
    """id(engine node) -> name, for every named value; and the same for the model's parameters."""
    params = {}
    if model is not None:
        params = {id(p): name for name, p in model.named_parameters()}
    found = dict(params)
    for name, obj in (names or {}).items():
        found[id(engine_node(obj))] = name
    return found, params


def _truncate(units: list[_Unit], edges: list[tuple], max_nodes: int | None) -> tuple[list, list, int, int]:
    """Keep the first ``max_nodes`` units; the rest become one summary node."""
    if max_nodes is None or len(units) <= max_nodes:
        return units, edges, 0, 0
    summary = max_nodes
    kept, dropped, seen = [], 0, set()
    for kind, src, dst, link in edges:
        if src < max_nodes and dst < max_nodes:
            kept.append((kind, src, dst, link))
            continue
        dropped += 1
        if src < max_nodes or dst < max_nodes:  # show where the drawing goes on
            pair = (src, summary) if src < max_nodes else (summary, dst)
            if pair not in seen:
                seen.add(pair)
                kept.append(("omitted", *pair, None))
    return units[:max_nodes] + [_Unit("summary")], kept, len(units) - max_nodes, dropped


def build_graph(
    root: Any,
    *,
    names: Mapping[str, Any] | None = None,
    model: Any = None,
    view: str = "forward",
    depth: int | None = None,
    collapse: Any = None,
    fold: bool = True,
    max_nodes: int | None = None,
    local_grads: bool = False,
) -> Graph:
    """Walk the graph behind ``root`` (a Tensor, a Scalar, or a list of them) into a ``Graph``.

    ``names`` maps a name to a tensor (``dict(model.named_parameters())``); ``model`` names its
    parameters and groups ops into one cluster per module call (modules outside the model, such
    as a loss module, by their class name; the ops after the model made outside any module,
    such as ``F.cross_entropy``'s, as ``"loss"``). Drawn as one box each: modules deeper than
    ``depth`` levels (``depth=0``: every top-level module), and those ``collapse`` picks (see
    ``collapse_rule``); with ``fold`` a run of identical boxes is one box marked "x N".
    ``max_nodes`` keeps the first nodes and one summary node; ``local_grads`` adds each wire's
    local gradient. See ``viz.draw_graph``.
    """
    if view not in VIEWS:
        raise ValueError(f"view must be 'forward' or 'backward', got {view!r}")
    whole = isinstance(max_nodes, (int, np.integer)) and type(max_nodes) is not bool
    if max_nodes is not None and (not whole or max_nodes < 1):
        raise ValueError(f"max_nodes must be an int of at least 1 (or None), got {max_nodes!r}")
    if depth is not None and (type(depth) is bool or not isinstance(depth, (int, np.integer)) or depth < 0):
        raise ValueError(f"depth must be an int of at least 0 (or None), got {depth!r}")
    builder = _Builder(as_roots(root), names, model, view, depth, collapse, fold)
    units, unit_of = builder.units()
    unit_edges = builder.unit_edges(units, unit_of)
    circuit = builder.kind == "scalar" or all(_numel(_shape_dtype(n)[0]) <= TINY for n in builder.order)
    units, unit_edges, omitted_nodes, omitted_edges = _truncate(units, unit_edges, max_nodes)
    nodes = []
    for i, unit in enumerate(units):
        if unit.kind == "summary":
            text = f"{omitted_nodes} more nodes and {omitted_edges} more edges not drawn (max_nodes={max_nodes})"
            nodes.append(Node(f"n{i}", "summary", op=text))
        else:
            nodes.append(builder.describe(unit, f"n{i}"))
    edges = [_edge(builder, nodes, e, local_grads) for e in unit_edges]
    notes = builder.notes(nodes)
    if local_grads and any(getattr(n, "_freed", False) for n in builder.order):
        notes.append("local gradients need the saved tensors;\ncall backward(retain_graph=True)")
    kinds = {n.kind for n in nodes}
    return Graph(
        nodes,
        edges,
        builder.clusters,
        view,
        builder.kind,
        circuit=circuit and "module" not in kinds,
        notes=notes,
        omitted_nodes=omitted_nodes,
        omitted_edges=omitted_edges,
    )


def _edge(builder: _Builder, nodes: list[Node], unit_edge: tuple, local_grads: bool) -> Edge:
    kind, src, dst, link = unit_edge
    edge = Edge(nodes[src].id, nodes[dst].id, kind=kind)
    if kind != "data":
        return edge
    if link is None:  # root -> its output node
        edge.value, edge.grad = nodes[src].value, nodes[src].grad
        return edge
    edge.index = link[2]
    edge.grad = builder.share(link)
    if builder.view == "forward":
        edge.value = nodes[src].value
        if local_grads:
            edge.local = builder.local(link)
    return edge
