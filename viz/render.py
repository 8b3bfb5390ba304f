"""Turn a ``viz.graph.Graph`` into Graphviz DOT text, and ``draw_graph``: the one-call drawing.

DOT is plain text: ``n0 [label="x"]`` declares a node, ``n0 -> n1`` an edge, ``subgraph
cluster_0 { ... }`` a box around nodes. This module writes that text itself, line by line,
from the plain model of ``viz.graph``; every colour and shape is a plain dict below, so
changing the look means editing data, not code. ``dot`` (Graphviz) only runs when the result
is rendered (Jupyter display, ``.render()``, ``.pipe()``).

Two layouts, chosen from the data:

- *circuit* (Scalar graphs, or tensors of at most ``TINY`` elements): gates show their op, and
  each wire carries its value with, below it in red, the gradient that flowed back along it,
  as in the lecture's circuit diagrams;
- *boxes* (bigger tensors): each node shows shape, dtype, a summary of its values
  (mean/std/min/max) and the norm of its gradient.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from viz.graph import TINY, Cluster, Edge, Graph, Node, build_graph

VALUE_COLOR = "#111827"
GRAD_COLOR = "#d62728"  # gradients are red, as in the lecture
LOCAL_COLOR = "#1f77b4"  # local gradients are blue
MUTED_COLOR = "#6b7280"
NONFINITE_COLOR = "#c026d3"  # NaN and Inf: magenta, with a [NaN] / [Inf] marker

GRAPH_ATTRS = {"fontname": "Helvetica", "fontsize": "11", "nodesep": "0.25", "ranksep": "0.4"}
NODE_ATTRS = {"fontname": "Helvetica", "fontsize": "11"}
EDGE_ATTRS = {"fontname": "Helvetica", "fontsize": "10", "color": "#4b5563", "arrowsize": "0.7"}

NODE_STYLES = {
    "leaf": {"shape": "box", "style": "filled,rounded", "fillcolor": "#dbeafe", "color": "#1d4ed8"},
    "gate": {"shape": "ellipse", "style": "filled", "fillcolor": "#f3f4f6", "color": "#374151"},
    "op": {"shape": "box", "style": "filled", "fillcolor": "#f3f4f6", "color": "#374151"},
    "output": {"shape": "box", "style": "filled,bold", "fillcolor": "#dcfce7", "color": "#15803d"},
    "accumulate": {"shape": "box", "style": "filled,rounded", "fillcolor": "#dbeafe", "color": "#1d4ed8"},
    "saved": {"shape": "note", "style": "filled", "fillcolor": "#fef3c7", "color": "#b45309", "fontsize": "9"},
    "module": {"shape": "box3d", "style": "filled", "fillcolor": "#ede9fe", "color": "#6d28d9"},
    "summary": {"shape": "box", "style": "dashed", "color": MUTED_COLOR, "fontcolor": MUTED_COLOR},
}
EDGE_STYLES = {
    "data": {},
    "saved": {"style": "dashed", "arrowhead": "none", "color": "#b45309"},
    "omitted": {"style": "dotted", "color": MUTED_COLOR},
}
CLUSTER_STYLE = {
    "style": "rounded,filled",
    "fillcolor": "#f9fafb",
    "color": "#9ca3af",
    "fontsize": "10",
    "fontcolor": "#374151",
    "labeljust": "l",
}
LEGEND_STYLE = {"label": "legend", "style": "rounded", "color": "#9ca3af", "fontsize": "10"}
NONFINITE_STYLE = {"fillcolor": "#f5d0fe", "color": NONFINITE_COLOR, "penwidth": "3"}
NONFINITE_EDGE_STYLE = {"color": NONFINITE_COLOR, "penwidth": "2.5"}
MARK_STYLES = {  # highlights used by the step-through of backward (viz.steps)
    "current": {"fillcolor": "#fde047", "color": "#a16207", "penwidth": "3"},
    "done": {"color": "#15803d", "penwidth": "2"},
    "waiting": {"color": GRAD_COLOR, "penwidth": "2"},
    "emitted": {"color": GRAD_COLOR, "penwidth": "2.5"},
}
# color_by_grad=True: (upper bound of log10 of the gradient's RMS, fill colour, legend text)
GRAD_COLORS = (
    (-6.0, "#4575b4", "|grad| < 1e-6 (vanishing)"),
    (-3.0, "#91bfdb", "1e-6 to 1e-3"),
    (0.0, "#e0f3f8", "1e-3 to 1"),
    (1.0, "#fee090", "1 to 10"),
    (3.0, "#fc8d59", "10 to 1e3"),
    (math.inf, "#d73027", "|grad| > 1e3 (exploding)"),
)
NO_GRAD_COLOR = "#ffffff"
LEGEND_TEXT = {
    "leaf": "leaf: an input or a parameter",
    "gate": "gate: the op; wires carry values",
    "op": "op: its output's shape, values, gradient",
    "backward": "XxxBackward: gets dL/d(its op's output)",
    "output": "output (a root of the graph)",
    "accumulate": "AccumulateGrad: stores a leaf's .grad",
    "saved": "value saved for backward",
    "module": "a module drawn as one node (depth=)",
    "summary": "left out (max_nodes=)",
}
MARK_TEXT = {
    "current": "node being processed now",
    "done": "node already processed",
    "waiting": "node that has received gradient, not yet processed",
    "emitted": "gradient sent in this step",
}
RANKDIRS = ("LR", "RL", "TB", "BT")


@dataclass(frozen=True)
class _Options:
    show_values: bool = True
    show_grads: bool = True
    show_shapes: bool = True
    local_grads: bool = False
    color_by_grad: bool = False
    legend: bool = True
    rankdir: str = "LR"
    size: Any = None


# ---------------------------------------------------------------- formatting numbers


def fmt_number(x: Any) -> str:
    """A number with 2 decimals (``-0.20``), or in scientific notation when tiny or huge."""
    x = float(x)
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    if x == 0:
        return "0.00"
    return f"{x:.2f}" if 0.01 <= abs(x) < 1e5 else f"{x:.2e}"


def fmt_exact(value: Any) -> str:
    """Every element of a small value: ``0.73``, ``[1.00, -2.00]``, ``[[1.00], [2.00]]``."""
    a = np.asarray(value)
    if a.ndim == 0:
        return fmt_number(a)
    texts = np.array([fmt_number(v) for v in a.ravel().tolist()], dtype=object).reshape(a.shape)
    return str(texts.tolist()).replace("'", "")


def _is_small(value: Any) -> bool:
    return np.size(value) <= TINY


def fmt_summary(value: Any) -> list[str]:
    """Statistics of a bigger value: mean, std, min, max."""
    a = np.asarray(value)
    if a.size == 0:
        return ["empty"]
    a = a.astype(np.float64) if a.dtype.kind in "biuf" else np.abs(a)
    return [
        f"mean {fmt_number(a.mean())}  std {fmt_number(a.std())}",
        f"min {fmt_number(a.min())}  max {fmt_number(a.max())}",
    ]


def fmt_grad(grad: Any) -> str:
    """A gradient: exact when small, else its (L2) norm."""
    if _is_small(grad):
        return fmt_exact(grad)
    return "norm " + fmt_number(np.linalg.norm(np.asarray(grad, dtype=np.float64).ravel()))


def nonfinite(*values: Any) -> str:
    """``"NaN"``, ``"Inf"``, ``"NaN, Inf"`` or ``""``: what non-finite numbers the values hold."""
    found = []
    for v in values:
        if v is None:
            continue
        a = np.asarray(v)
        if a.dtype.kind not in "fc" or np.isfinite(a).all():
            continue
        if np.isnan(a).any() and "NaN" not in found:
            found.append("NaN")
        if np.isinf(a).any() and "Inf" not in found:
            found.append("Inf")
    return ", ".join(found)


def grad_color(grad: Any) -> str:
    """The ``color_by_grad`` fill for a gradient, from its RMS on a log scale (``GRAD_COLORS``)."""
    if grad is None:
        return NO_GRAD_COLOR
    a = np.abs(np.asarray(grad, dtype=np.float64))
    with np.errstate(over="ignore", invalid="ignore"):
        rms = math.sqrt(float(np.mean(a * a))) if a.size else 0.0
    if math.isnan(rms):
        return NONFINITE_COLOR
    level = math.log10(rms) if rms > 0 else -math.inf
    for upper, color, _ in GRAD_COLORS:
        if level < upper:
            return color
    return GRAD_COLORS[-1][1]


# ---------------------------------------------------------------- DOT text


def _text(s: str, color: str | None = None, size: int | None = None, bold: bool = False) -> str:
    """One piece of an HTML-like label (escaped), optionally coloured, sized or bold."""
    printable = "".join(c if c.isprintable() else " " for c in str(s))  # (tabs, NULs: not in DOT)
    out = html.escape(printable, quote=False)
    if bold:
        out = f"<B>{out}</B>"
    if color or size:
        attrs = (f' COLOR="{color}"' if color else "") + (f' POINT-SIZE="{size}"' if size else "")
        out = f"<FONT{attrs}>{out}</FONT>"
    return out


def _html(lines: list[str]) -> str:
    return "<" + "<BR/>".join(lines) + ">" if lines else '""'


def _quote(value: str) -> str:
    """A DOT attribute value: HTML-like labels ``<...>`` as they are, other text in quotes."""
    if value.startswith("<") and value.endswith(">"):
        return value
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _attrs(attrs: Mapping[str, Any]) -> str:
    return " ".join(f"{key}={_quote(str(value))}" for key, value in attrs.items())


def _shape_text(node: Node) -> str:
    shape = "()" if node.shape == () else str(node.shape)
    return f"{shape} {node.dtype}".strip()


def _value_lines(value: Any, circuit: bool) -> list[str]:
    if value is None:
        return []
    if circuit or _is_small(value):
        return [_text(fmt_exact(value))]
    return [_text(line) for line in fmt_summary(value)]


def _grad_lines(grad: Any, circuit: bool) -> list[str]:
    if grad is None:
        return []
    return [_text(fmt_exact(grad) if circuit else "grad " + fmt_grad(grad), GRAD_COLOR)]


def _is_gate(node: Node, graph: Graph) -> bool:
    """An op of a forward circuit: it shows only its op, its value and gradient are on the wires."""
    return node.kind == "op" and graph.circuit and graph.view == "forward"


def _title_lines(node: Node, graph: Graph, opts: _Options) -> list[str]:
    """The first lines of a label: what the node is."""
    if node.kind == "output" and graph.circuit and opts.show_values and node.value is not None:
        return [_text(f"{node.name} = {fmt_exact(node.value)}", bold=True)]  # "L = 0.73"
    if node.kind in ("leaf", "output"):
        return [_text(node.name or "leaf", bold=True)]
    if node.kind == "module":
        lines = [_text(node.name, bold=True), _text(node.op, MUTED_COLOR, 9)]
        if node.inputs:
            lines.append(_text("in " + ", ".join(str(s) for s in node.inputs)))
        lines.append(_text("out " + ", ".join(str(s) for s in node.outputs)))
        if node.params:
            lines.append(_text("params " + ", ".join(p.rsplit(".", 1)[-1] for p in node.params), MUTED_COLOR, 9))
        return lines
    lines = [_text(node.op, bold=True)]  # an op, or AccumulateGrad
    return lines + [_text(node.name, MUTED_COLOR, 9)] if node.name else lines


def _node_lines(node: Node, graph: Graph, opts: _Options) -> list[str]:
    """The lines of a node's label (see the module docstring for what each kind shows)."""
    if node.kind == "summary":
        return [_text(node.op)]
    if node.kind == "saved":
        body = fmt_exact(node.value) if _is_small(node.value) else _shape_text(node)
        return [_text(f"{node.op}: {body}")]
    lines = _title_lines(node, graph, opts)
    if not _is_gate(node, graph):
        if opts.show_shapes and node.shape is not None and node.kind != "module":
            lines.append(_text(_shape_text(node), MUTED_COLOR, 9))
        value_shown = node.kind == "module" or (node.kind == "output" and graph.circuit)
        if opts.show_values and graph.view == "forward" and not value_shown:
            lines += _value_lines(node.value, graph.circuit)
        if opts.show_grads:
            lines += _grad_lines(node.grad, graph.circuit)
    bad = nonfinite(node.value, node.grad)
    if bad:
        lines.append(_text(f"[{bad}]", NONFINITE_COLOR, bold=True))
    if node.note:
        lines.append(_text(node.note, GRAD_COLOR if node.mark else MUTED_COLOR, 9))
    return lines


def _node_attrs(node: Node, graph: Graph, opts: _Options) -> dict[str, str]:
    kind = "gate" if _is_gate(node, graph) else node.kind
    attrs = {"label": _html(_node_lines(node, graph, opts))}
    attrs.update(NODE_STYLES[kind])
    if opts.color_by_grad and node.kind not in ("saved", "summary"):
        attrs.update({"style": "filled", "fillcolor": grad_color(node.grad)})
    if node.kind == "output":
        attrs["peripheries"] = "2"
    if nonfinite(node.value, node.grad):
        attrs.update(NONFINITE_STYLE)
    attrs.update(MARK_STYLES.get(node.mark, {}))
    return attrs


def _edge_attrs(edge: Edge, graph: Graph, opts: _Options) -> dict[str, str]:
    lines = []
    labelled = graph.circuit or edge.mark
    if labelled and edge.kind == "data":
        if opts.show_values and graph.view == "forward" and edge.value is not None:
            lines.append(_text(fmt_exact(edge.value) if graph.circuit else _shape_of(edge.value), VALUE_COLOR))
        if opts.show_grads and edge.grad is not None:
            lines.append(_text(fmt_exact(edge.grad) if graph.circuit else "grad " + fmt_grad(edge.grad), GRAD_COLOR))
        if opts.local_grads and edge.local is not None:
            lines.append(_text("local " + fmt_exact(edge.local), LOCAL_COLOR))
    attrs = {"label": _html(lines)} if lines else {}
    attrs.update(EDGE_STYLES[edge.kind])
    if nonfinite(edge.value, edge.grad):
        attrs.update(NONFINITE_EDGE_STYLE)
    attrs.update(MARK_STYLES.get(edge.mark, {}))
    return attrs


def _shape_of(value: Any) -> str:
    return str(tuple(np.shape(value)))


def _swatch_row(fill: str, text: str, border: str = "#374151") -> str:
    """A legend row: a small coloured box and its meaning."""
    swatch = f'<TD BGCOLOR="{fill}" COLOR="{border}" WIDTH="18"> </TD>'
    return f'<TR>{swatch}<TD ALIGN="LEFT" BORDER="0">{_text(text)}</TD></TR>'


def _text_row(label: str) -> str:
    """A legend row of text only (``label`` is already HTML)."""
    return f'<TR><TD BORDER="0"></TD><TD ALIGN="LEFT" BORDER="0">{label}</TD></TR>'


def _legend_rows(graph: Graph, opts: _Options) -> list[str]:
    """Rows of the legend table: only what this drawing uses, then the notes."""
    rows = []
    kinds = {n.kind for n in graph.nodes}
    wires = graph.circuit and graph.view == "forward"
    if "op" in kinds and (wires or graph.view == "backward"):
        kinds = (kinds - {"op"}) | {"gate" if wires else "backward"}
    for kind, text in LEGEND_TEXT.items():
        if kind in kinds:
            style = NODE_STYLES["op" if kind == "backward" else kind]
            rows.append(_swatch_row(style.get("fillcolor", "#ffffff"), text, style.get("color", "#374151")))
    if wires:
        value, gradient = _text("value", VALUE_COLOR), _text("gradient", GRAD_COLOR)
        rows.append(_text_row(f"wire: {value} above {gradient} (its share when a value is used twice)"))
    if opts.local_grads and any(e.local is not None for e in graph.edges):
        rows.append(_text_row(f"{_text('local', LOCAL_COLOR)}: local gradient; upstream x local = downstream"))
    if any(nonfinite(n.value, n.grad) for n in graph.nodes) or any(nonfinite(e.grad) for e in graph.edges):
        rows.append(_swatch_row(NONFINITE_STYLE["fillcolor"], "holds NaN or Inf", NONFINITE_COLOR))
    if graph.clusters:
        rows.append(_swatch_row(CLUSTER_STYLE["fillcolor"], "box: the module call that made these ops", "#9ca3af"))
    marks = {n.mark for n in graph.nodes} | {e.mark for e in graph.edges}
    for mark, text in MARK_TEXT.items():
        if mark in marks:
            style = MARK_STYLES[mark]
            rows.append(_swatch_row(style.get("fillcolor", "#ffffff"), text, style["color"]))
    if opts.color_by_grad:
        rows += [_swatch_row(color, f"gradient RMS {text}") for _, color, text in GRAD_COLORS]
        rows.append(_swatch_row(NO_GRAD_COLOR, "no gradient known"))
    rows += [_text_row(_text("note: " + note, MUTED_COLOR, 9)) for note in graph.notes]
    return rows


def _legend(graph: Graph, opts: _Options) -> list[str]:
    rows = _legend_rows(graph, opts)
    table = '<<TABLE BORDER="0" CELLBORDER="1" CELLSPACING="2" CELLPADDING="2">' + "".join(rows) + "</TABLE>>"
    lines = ["\tsubgraph cluster_legend {\n"]
    lines += [f"\t\t{key}={_quote(value)}\n" for key, value in LEGEND_STYLE.items()]
    lines.append(f"\t\tlegend [{_attrs({'shape': 'plaintext', 'label': table})}]\n")
    return lines + ["\t}\n"]


def _cluster_lines(graph: Graph, node_lines: dict[str | None, list[str]]) -> list[str]:
    """Nested ``subgraph cluster_*`` blocks, written with an explicit stack (no recursion)."""
    children: dict[str | None, list[Cluster]] = {}
    for cluster in graph.clusters:
        children.setdefault(cluster.parent, []).append(cluster)
    used = {cid for cid, lines in node_lines.items() if lines}
    for cluster in reversed(graph.clusters):  # children come after their parents in the list
        if cluster.id in used and cluster.parent is not None:
            used.add(cluster.parent)
    lines = []
    stack = [("open", c, 1) for c in reversed(children.get(None, []))]
    while stack:
        action, cluster, depth = stack.pop()
        tab = "\t" * depth
        if action == "close":
            lines.append(tab + "}\n")
            continue
        if cluster.id not in used:
            continue
        lines.append(f"{tab}subgraph {cluster.id} {{\n")
        for key, value in {"label": cluster.label, **CLUSTER_STYLE}.items():
            lines.append(f"{tab}\t{key}={_quote(value)}\n")
        lines += [tab + line for line in node_lines.get(cluster.id, [])]
        stack.append(("close", cluster, depth))
        stack.extend(("open", c, depth + 1) for c in reversed(children.get(cluster.id, [])))
    return lines


def dot_lines(graph: Graph, **options: Any) -> list[str]:
    """The body of the DOT text, one statement per line (what ``graphviz.Digraph(body=)`` takes).

    Options: ``show_values``, ``show_grads``, ``show_shapes``, ``local_grads``,
    ``color_by_grad``, ``legend``, ``rankdir`` and ``size`` (see ``draw_graph``).
    """
    opts = _Options(**options)
    if opts.rankdir not in RANKDIRS:
        raise ValueError(f"rankdir must be one of {RANKDIRS}, got {opts.rankdir!r}")
    graph_attrs = {"rankdir": opts.rankdir, **GRAPH_ATTRS}
    if opts.size is not None:
        size = opts.size
        graph_attrs["size"] = size if isinstance(size, str) else ",".join(str(s) for s in size)
    lines = [
        f"\tgraph [{_attrs(graph_attrs)}]\n",
        f"\tnode [{_attrs(NODE_ATTRS)}]\n",
        f"\tedge [{_attrs(EDGE_ATTRS)}]\n",
    ]
    node_lines: dict[str | None, list[str]] = {}
    for node in graph.nodes:
        node_lines.setdefault(node.cluster, []).append(f"\t{node.id} [{_attrs(_node_attrs(node, graph, opts))}]\n")
    lines += node_lines.get(None, [])
    lines += _cluster_lines(graph, node_lines)
    for edge in graph.edges:
        attrs = _edge_attrs(edge, graph, opts)
        lines.append(f"\t{edge.src} -> {edge.dst}" + (f" [{_attrs(attrs)}]" if attrs else "") + "\n")
    if opts.legend:
        lines += _legend(graph, opts)
    return lines


def render_dot(graph: Graph, **options: Any) -> str:
    """The DOT text of a ``Graph`` (no Graphviz needed); options as in ``dot_lines``."""
    return "digraph dagrad {\n" + "".join(dot_lines(graph, **options)) + "}\n"


def draw_graph(
    root: Any,
    *,
    show_values: bool = True,
    show_grads: bool = True,
    show_shapes: bool = True,
    names: Mapping[str, Any] | None = None,
    model: Any = None,
    rankdir: str = "LR",
    size: str | tuple[float, float] | None = None,
    max_nodes: int | None = 500,
    view: str = "forward",
    depth: int | None = None,
    local_grads: bool = False,
    color_by_grad: bool = False,
    legend: bool = True,
) -> Any:
    """Draw the graph behind ``root`` (a Tensor, a Scalar, or a list of them) with Graphviz.

    Returns a ``graphviz.Digraph``: Jupyter shows it inline, ``.render("graph", format="png")``
    writes a file, ``.source`` is the DOT text (no Graphviz install needed for that).

    - ``view="forward"``: values flow left to right; wires carry values and, after backward,
      gradients. ``view="backward"``: the ``XxxBackward`` nodes backward() runs, the values
      they saved, and ``AccumulateGrad`` for each leaf.
    - ``names``: ``{name: tensor}``, e.g. ``dict(model.named_parameters())``. ``model``: names
      the parameters and draws a box per module call (needs ``autograd.graph.record()``);
      ``depth=k`` draws each module deeper than ``k`` as one node with its shapes.
    - ``local_grads``: each wire also shows its local gradient (upstream x local = downstream).
    - ``color_by_grad``: colour nodes by gradient size (log scale) to spot vanishing or
      exploding gradients. NaN and Inf are always highlighted.
    - ``max_nodes``: draw at most this many nodes plus one that says what was left out.

    Intermediate values and gradients of tensors are known only when the graph was built
    inside ``with autograd.graph.record():``; otherwise the legend says so.

    >>> with autograd.graph.record():
    ...     loss = model(x).sum()
    >>> loss.backward()
    >>> viz.draw_graph(loss, model=model, depth=1)
    """
    graph = build_graph(
        root, names=names, model=model, view=view, depth=depth, max_nodes=max_nodes, local_grads=local_grads
    )
    lines = dot_lines(
        graph,
        show_values=show_values,
        show_grads=show_grads,
        show_shapes=show_shapes,
        local_grads=local_grads,
        color_by_grad=color_by_grad,
        legend=legend,
        rankdir=rankdir,
        size=size,
    )
    return make_digraph(lines)


def _graphviz_module() -> Any:
    """``viz.digraph`` (which imports the graphviz package), or a clear ImportError."""
    try:
        from viz import digraph
    except ImportError as error:
        raise ImportError(
            "drawing needs the graphviz Python package: pip install graphviz (and Graphviz's `dot` program "
            "to render, e.g. apt-get install graphviz); viz.render_dot(viz.build_graph(root)) gives the DOT "
            "text without it"
        ) from error
    return digraph


def make_digraph(lines: list[str]) -> Any:
    """A ``graphviz.Digraph`` made of DOT lines from ``dot_lines`` (SVG when rendered)."""
    return _graphviz_module().Digraph(name="dagrad", body=lines, format="svg")


def to_svg(source: str) -> str:
    """Render DOT text with ``dot`` into an SVG document (a string)."""
    return _graphviz_module().render_svg(source)
