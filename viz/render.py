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
import re
import textwrap
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

GRAPH_ATTRS = {"fontname": "Helvetica", "fontsize": "10"}
# Spacing by direction: the lecture's circuits (left to right, labels on every wire) are packed
# tight so that they fit a page; top-to-bottom graphs get a little more room between ranks.
LAYOUT_ATTRS = {
    "LR": {"nodesep": "0.2", "ranksep": "0.12"},
    "TB": {"nodesep": "0.2", "ranksep": "0.3"},
}
NODE_ATTRS = {"fontname": "Helvetica", "fontsize": "11", "margin": "0.06,0.03"}
EDGE_ATTRS = {"fontname": "Helvetica", "fontsize": "10", "color": "#4b5563", "arrowsize": "0.7"}
#: The widest a drawing gets, in inches (72 pt or 96 CSS px each): 8.8 in is 845 px, which fits
#: Jupyter's output area in a 1,000 px window and GitHub's 880 px README column without being
#: scaled. A wider layout is scaled down to fit (``size=`` sets another limit). Height is free:
#: a tall drawing scrolls, a wide one is clipped or shrunk.
MAX_WIDTH_IN = 8.8
MAX_HEIGHT_IN = 1000
#: The smallest text in a drawing (points; 9 pt is 12 px): the legend and muted lines.
SMALL_PT = 9
SQUARE, EMPTY_SQUARE = "\u25a0", "\u25a1"  # the legend's colour squares
#: Characters per line of a module box's label (10 pt); a longer one wraps at its arguments.
CLUSTER_LABEL_WIDTH = 48

GATE_SIZE = {"width": "0.35", "height": "0.3", "margin": "0.03,0.02"}
NODE_STYLES = {
    "leaf": {"shape": "box", "style": "filled,rounded", "fillcolor": "#dbeafe", "color": "#1d4ed8"},
    # a gate is a small ellipse around its op (+, *): the circuit's width is in its wires
    "gate": {"shape": "ellipse", "style": "filled", "fillcolor": "#f3f4f6", "color": "#374151", **GATE_SIZE},
    "op": {"shape": "box", "style": "filled", "fillcolor": "#f3f4f6", "color": "#374151"},
    "output": {"shape": "box", "style": "filled,bold", "fillcolor": "#dcfce7", "color": "#15803d"},
    "accumulate": {"shape": "box", "style": "filled,rounded", "fillcolor": "#dbeafe", "color": "#1d4ed8"},
    "saved": {"shape": "note", "style": "filled", "fillcolor": "#fef3c7", "color": "#b45309", "fontsize": "9"},
    "module": {"shape": "box3d", "style": "filled", "fillcolor": "#ede9fe", "color": "#6d28d9", "margin": "0.12,0.08"},
    "summary": {"shape": "box", "style": "dashed", "color": MUTED_COLOR, "fontcolor": MUTED_COLOR},
    "failed": {"shape": "box", "style": "filled,bold", "fillcolor": "#fee2e2", "color": "#b91c1c"},
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
LEGEND_STYLE = {"labelloc": "b", "labeljust": "l"}  # the legend is the drawing's caption, below it
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
# The legend: (compact text, full text) of each kind of node; legend="full" explains more.
LEGEND_TEXT = {
    "leaf": ("leaf: input or parameter", "leaf: an input or a parameter"),
    "gate": ("gate: the op", "gate: the op; wires carry values"),
    "op": ("op", "op: its output's shape, values, gradient"),
    "backward": ("XxxBackward", "XxxBackward: gets dL/d(its op's output)"),
    "output": ("output", "output (a root of the graph)"),
    "accumulate": ("AccumulateGrad: sets .grad", "AccumulateGrad: stores a leaf's .grad"),
    "saved": ("saved for backward", "value saved for backward"),
    "module": ("module drawn as one node", "a module drawn as one node (depth=, collapse=)"),
    "summary": ("not drawn (max_nodes=)", "left out (max_nodes=)"),
    "failed": ("the op that raised", "the op whose forward raised (draw_graph(error))"),
}
MARK_TEXT = {
    "current": ("processing now", "node being processed now"),
    "done": ("done", "node already processed"),
    "waiting": ("has gradient, waiting", "node that has received gradient, not yet processed"),
    "emitted": ("gradient sent now", "gradient sent in this step"),
}
RANKDIRS = ("LR", "RL", "TB", "BT")
LEGENDS = (True, False, "compact", "full")


@dataclass(frozen=True)
class _Options:
    show_values: bool = True
    show_grads: bool = True
    show_shapes: bool = True
    local_grads: bool = False
    color_by_grad: bool = False
    legend: bool | str = True
    rankdir: str | None = None  # None: "LR" for circuits, "TB" for tensor and module graphs
    size: Any = None  # None: at most MAX_WIDTH_IN wide


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
        lines = [_text(node.name + (f"  x {node.count}" if node.count > 1 else ""), bold=True)]
        if node.op != f"{node.name}()":  # (a loss module's path is its class name)
            lines.append(_text(node.op, MUTED_COLOR, SMALL_PT))
        if node.inputs:
            lines.append(_text("in " + ", ".join(str(s) for s in node.inputs)))
        lines.append(_text("out " + ", ".join(str(s) for s in node.outputs)))
        if node.params:
            names = dict.fromkeys(p.rsplit(".", 1)[-1] for p in node.params)  # a fold: once each
            lines.append(_text("params " + ", ".join(names), MUTED_COLOR, SMALL_PT))
        return lines
    lines = [_text(node.op, bold=True)]  # an op, or AccumulateGrad
    return lines + [_text(node.name, MUTED_COLOR, SMALL_PT)] if node.name else lines


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
            lines.append(_text(_shape_text(node), MUTED_COLOR, SMALL_PT))
        value_shown = node.kind == "module" or (node.kind == "output" and graph.circuit)
        if opts.show_values and graph.view == "forward" and not value_shown:
            lines += _value_lines(node.value, graph.circuit)
        if opts.show_grads:
            lines += _grad_lines(node.grad, graph.circuit)
    bad = nonfinite(node.value, node.grad)
    if bad:
        lines.append(_text(f"[{bad}]", NONFINITE_COLOR, bold=True))
    if node.note:
        lines.append(_text(node.note, GRAD_COLOR if node.mark else MUTED_COLOR, SMALL_PT))
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


def _plain(label_line: str) -> str:
    """The text of a piece of an HTML-like label, without its tags."""
    return html.unescape(re.sub(r"<[^>]*>", "", label_line))


@dataclass
class _Entry:
    """One item of the legend: the colour of its square (None: no square) and its text (HTML)."""

    color: str | None
    text: str


def _legend_entries(graph: Graph, opts: _Options, full: bool) -> list[_Entry]:
    """What this drawing uses and a reader might not know, shortest first for ``full=False``."""
    pick = 1 if full else 0
    entries = []
    kinds = {n.kind for n in graph.nodes}
    wires = graph.circuit and graph.view == "forward"
    if "op" in kinds and (wires or graph.view == "backward"):
        kinds = (kinds - {"op"}) | {"gate" if wires else "backward"}
    for kind, texts in LEGEND_TEXT.items():
        if kind in kinds:
            style = NODE_STYLES["op" if kind == "backward" else kind]
            entries.append(_Entry(style.get("color", "#374151"), _text(texts[pick])))  # (the fills are pale)
    if any(n.count > 1 for n in graph.nodes):
        entries.append(_Entry(None, _text("x N: N identical blocks in a row")))
    if wires:
        value, gradient = _text("value", VALUE_COLOR), _text("gradient", GRAD_COLOR)
        share = " (its share when a value is used twice)" if full else ""
        entries.append(_Entry(None, f"wire: {value} above {gradient}{_text(share)}"))
    if opts.local_grads and any(e.local is not None for e in graph.edges):
        entries.append(_Entry(None, f"{_text('local', LOCAL_COLOR)}: {_text('upstream x local = downstream')}"))
    if any(nonfinite(n.value, n.grad) for n in graph.nodes) or any(nonfinite(e.grad) for e in graph.edges):
        entries.append(_Entry(NONFINITE_COLOR, _text("holds NaN or Inf")))
    if graph.clusters:
        text = "box: the module call that made these ops" if full else "box: module call"
        entries.append(_Entry("#9ca3af", _text(text)))
    marks = {n.mark for n in graph.nodes} | {e.mark for e in graph.edges}
    for mark, texts in MARK_TEXT.items():
        if mark in marks:
            style = MARK_STYLES[mark]
            entries.append(_Entry(style.get("fillcolor", style["color"]), _text(texts[pick])))
    if opts.color_by_grad:
        entries.append(_Entry(None, _text("fill: gradient RMS")))
        for _, color, text in GRAD_COLORS:
            entries.append(_Entry(color, _text(text)))
        entries.append(_Entry(None, _text(f"{EMPTY_SQUARE} no gradient known", MUTED_COLOR)))
    return entries


def _longest_chain(graph: Graph) -> int:
    """How many nodes the longest chain of wires passes through (the ranks of the layout)."""
    users: dict[str, list[str]] = {}
    waiting = {node.id: 0 for node in graph.nodes}
    for edge in graph.edges:
        users.setdefault(edge.src, []).append(edge.dst)
        waiting[edge.dst] += 1
    depth = dict.fromkeys(waiting, 1)
    ready = [node_id for node_id, n in waiting.items() if n == 0]
    while ready:  # parents first (Kahn's algorithm)
        node_id = ready.pop()
        for user in users.get(node_id, []):
            depth[user] = max(depth[user], depth[node_id] + 1)
            waiting[user] -= 1
            if waiting[user] == 0:
                ready.append(user)
    return max(depth.values(), default=1)


def _legend_width(graph: Graph, node_labels: list[str], lr: bool) -> int:
    """How many characters of legend text fit in one line without widening the drawing
    (estimated: dot lays it out later). Left to right, a drawing is about as wide as its
    longest chain (a node and a wire label per rank, some 16 legend characters); top to
    bottom, at least as wide as its widest node or module box label (at a bigger font)."""
    if lr:
        return max(30, min(100, 16 * _longest_chain(graph)))
    widest = [_line_size(line) for label in node_labels for line in label.split("<BR/>")]
    widest += [min(len(c.label), CLUSTER_LABEL_WIDTH) * 10 / SMALL_PT for c in graph.clusters]
    return max(30, int(0.9 * max(widest, default=0)))  # (0.9: legend text is not all narrow letters)


def _line_size(line: str) -> float:
    """The width of one line of a node's label, in characters of legend text (SMALL_PT)."""
    size = re.search(r'POINT-SIZE="([\d.]+)"', line)
    return len(_plain(line)) * (float(size.group(1)) if size else float(NODE_ATTRS["fontsize"])) / SMALL_PT


def _legend_label(graph: Graph, opts: _Options, node_labels: list[str], lr: bool) -> str | None:
    """The legend, the drawing's caption: a coloured square and a few words for each kind of
    node and wire this drawing uses, packed into lines no wider than the drawing (so it never
    widens it), then the notes on what the drawing cannot show."""
    full = opts.legend == "full"
    entries = _legend_entries(graph, opts, full)
    if len(graph.nodes) < 4 and not full:  # a few nodes need no key
        entries = []
    if not entries and not graph.notes:
        return None
    width = _legend_width(graph, node_labels, lr)
    lines: list[list[str]] = []
    used = width
    for entry in entries:
        size = len(_plain(entry.text)) + (2 if entry.color else 0)
        if full or used + 3 + size > width:
            lines.append([])
            used = -3
        square = _text(SQUARE, entry.color, SMALL_PT + 2) + " " if entry.color else ""
        lines[-1].append(square + entry.text)
        used += 3 + size
    rows = [_sized("   ".join(line)) for line in lines]
    for note in graph.notes:  # at its line breaks, and wrapped when longer than the drawing is wide
        for part in ("note: " + note).split("\n"):
            rows += [_text(piece, MUTED_COLOR, SMALL_PT) for piece in textwrap.wrap(part, max(width, 60))]
    cells = "".join(f'<TR><TD ALIGN="LEFT">{row}</TD></TR>' for row in rows)
    return f'<<TABLE BORDER="0" CELLSPACING="0" CELLPADDING="1">{cells}</TABLE>>'


def _sized(text: str) -> str:
    """Legend text at the legend's size (``_text`` pieces keep their colours)."""
    return f'<FONT POINT-SIZE="{SMALL_PT}">{text}</FONT>'


def _cluster_label(label: str) -> str:
    """A module box's label as a DOT string; a long one wraps before its keyword arguments,
    left-aligned (``\\l`` ends a left-aligned line), so that it does not widen the drawing."""
    pieces = re.split(r", (?=\w+=)", label)
    lines = [pieces[0]]
    for piece in pieces[1:]:
        if len(lines[-1]) + 2 + len(piece) <= CLUSTER_LABEL_WIDTH:
            lines[-1] += ", " + piece
        else:
            lines[-1] += ","
            lines.append("    " + piece)
    if len(lines) == 1:
        return _quote(label)
    return '"' + "".join(line.replace("\\", "\\\\").replace('"', '\\"') + "\\l" for line in lines) + '"'


def _beside(graph: Graph) -> dict[str, list[str]]:
    """Node id -> the leaves (and saved values, AccumulateGrad nodes) drawn on its rank: each
    one whose only wire joins it, in the same module box. A layer's weights then sit beside the
    op that uses them instead of a rank above it, and the drawing stays narrow and short."""
    wires: dict[str, list[str]] = {}
    for edge in graph.edges:
        wires.setdefault(edge.src, []).append(edge.dst)
        wires.setdefault(edge.dst, []).append(edge.src)
    by_id = {node.id: node for node in graph.nodes}
    beside: dict[str, list[str]] = {}
    for node in graph.nodes:
        ends = wires.get(node.id, [])
        if node.kind not in ("leaf", "saved", "accumulate") or len(ends) != 1:
            continue
        other = by_id[ends[0]]
        if other.kind in ("op", "module") and other.cluster == node.cluster:
            beside.setdefault(other.id, []).append(node.id)
    return beside


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
        lines.append(f"{tab}\tlabel={_cluster_label(cluster.label)}\n")
        for key, value in CLUSTER_STYLE.items():
            lines.append(f"{tab}\t{key}={_quote(value)}\n")
        lines += [tab + line for line in node_lines.get(cluster.id, [])]
        stack.append(("close", cluster, depth))
        stack.extend(("open", c, depth + 1) for c in reversed(children.get(cluster.id, [])))
    return lines


def layout_direction(graph: Graph, rankdir: str | None = None) -> str:
    """``rankdir`` or, when None, the default: the lecture's circuits run left to right,
    tensor and module graphs top to bottom (a deep model stays as wide as one layer)."""
    if rankdir is None:
        return "LR" if graph.circuit else "TB"
    if rankdir not in RANKDIRS:
        raise ValueError(f"rankdir must be one of {RANKDIRS} (or None for the default), got {rankdir!r}")
    return rankdir


def dot_lines(graph: Graph, **options: Any) -> list[str]:
    """The body of the DOT text, one statement per line (what ``graphviz.Digraph(body=)`` takes).

    Options: ``show_values``, ``show_grads``, ``show_shapes``, ``local_grads``,
    ``color_by_grad``, ``legend``, ``rankdir`` and ``size`` (see ``draw_graph``).
    """
    opts = _Options(**options)
    rankdir = layout_direction(graph, opts.rankdir)
    if opts.legend not in LEGENDS:
        raise ValueError(f"legend must be True, False, 'compact' or 'full', got {opts.legend!r}")
    lr = rankdir in ("LR", "RL")
    graph_attrs = {"rankdir": rankdir, **GRAPH_ATTRS, **LAYOUT_ATTRS["LR" if lr else "TB"]}
    size = opts.size if opts.size is not None else (MAX_WIDTH_IN, MAX_HEIGHT_IN)
    graph_attrs["size"] = size if isinstance(size, str) else ",".join(str(s) for s in size)
    lines = [
        f"\tgraph [{_attrs(graph_attrs)}]\n",
        f"\tnode [{_attrs(NODE_ATTRS)}]\n",
        f"\tedge [{_attrs(EDGE_ATTRS)}]\n",
    ]
    node_lines: dict[str | None, list[str]] = {}
    labels = []
    for node in graph.nodes:
        attrs = _node_attrs(node, graph, opts)
        labels.append(attrs["label"])
        node_lines.setdefault(node.cluster, []).append(f"\t{node.id} [{_attrs(attrs)}]\n")
    flipped = set()  # wires written head first, so that dot puts their leaf on the other side
    if not graph.circuit:  # (a circuit keeps its leaves on the left, as in the lecture)
        clusters = {node.id: node.cluster for node in graph.nodes}
        for node_id, leaves in _beside(graph).items():
            node_lines[clusters[node_id]].append(f"\t{{rank=same; {'; '.join([node_id, *leaves])}}}\n")
            if len(leaves) > 1:  # a flat wire runs left to right: the second leaf goes to the op's other side
                flipped |= {(leaves[1], node_id), (node_id, leaves[1])}
    lines += node_lines.get(None, [])
    lines += _cluster_lines(graph, node_lines)
    for edge in graph.edges:
        attrs = _edge_attrs(edge, graph, opts)
        src, dst = edge.src, edge.dst
        if (src, dst) in flipped:
            src, dst, attrs = dst, src, {**attrs, "dir": "back"}
        lines.append(f"\t{src} -> {dst}" + (f" [{_attrs(attrs)}]" if attrs else "") + "\n")
    legend = _legend_label(graph, opts, labels, lr) if opts.legend else None
    if legend is not None:  # last, so that no cluster inherits it as its label
        lines += [f"\t{key}={_quote(value)}\n" for key, value in {"label": legend, **LEGEND_STYLE}.items()]
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
    rankdir: str | None = None,
    size: str | tuple[float, float] | None = None,
    max_nodes: int | None = 500,
    view: str = "forward",
    depth: int | None = None,
    collapse: Any = None,
    fold: bool = True,
    local_grads: bool = False,
    color_by_grad: bool = False,
    legend: bool | str = True,
) -> Any:
    """Draw the graph behind ``root`` (a Tensor, a Scalar, or a list of them) with Graphviz.

    Returns a ``graphviz.Digraph``: Jupyter shows it inline, ``.render("graph", format="png")``
    writes a file, ``.source`` is the DOT text (no Graphviz install needed for that).

    - ``view="forward"``: values flow along the arrows; wires carry values and, after
      backward, gradients. ``view="backward"``: the ``XxxBackward`` nodes backward() runs, the
      values they saved, and ``AccumulateGrad`` for each leaf.
    - ``rankdir``: ``"LR"`` (left to right), ``"TB"`` (top to bottom), ``"RL"``, ``"BT"``; by
      default circuits (Scalars, tiny tensors) run left to right like the lecture's, tensor
      and module graphs top to bottom. ``size``: the largest drawing in inches, ``(w, h)``;
      by default at most 8.8 in (845 px) wide, so it fits Jupyter and a README unscaled.
    - ``names``: ``{name: tensor}``, e.g. ``dict(model.named_parameters())``. ``model``: names
      the parameters and draws a box per module call (needs ``autograd.graph.record()``).
      Modules outside the model (a loss module) are named by their class; the ops after the
      model made outside any module (``F.cross_entropy``, ``F.mse_loss``) are ``"loss"``.
    - What is drawn as one node, with its input and output shapes and its parameters:
      ``depth=k``: every module deeper than ``k`` (``depth=0``: each top-level module and the
      loss); ``collapse``: a function ``(module_path, module) -> bool`` (``module`` is None for
      ``"loss"``), or module paths and classes, e.g. ``collapse=["loss", nn.Conv2d]``; the
      outermost wins, so a module is never drawn both as one node and as its contents. With
      ``fold=True`` a run of identical nodes (same classes, settings, parameter shapes), each
      feeding the next, is one node marked "x N": ``[Conv2d, ReLU] x 3``.
    - ``local_grads``: each wire also shows its local gradient (upstream x local = downstream).
    - ``color_by_grad``: colour nodes by gradient size (log scale) to spot vanishing or
      exploding gradients. NaN and Inf are always highlighted.
    - ``legend``: ``True`` (a compact key below the drawing: only what it uses, and notes on
      what it cannot show), ``"full"`` (longer explanations) or ``False``.
    - ``max_nodes``: draw at most this many nodes plus one that says what was left out.

    Intermediate values and gradients of tensors are known only when the graph was built
    inside ``with autograd.graph.record():``; otherwise the legend says so.

    >>> with autograd.graph.record():
    ...     loss = model(x).sum()
    >>> loss.backward()
    >>> viz.draw_graph(loss, model=model, depth=1)
    >>> viz.draw_graph(loss, model=model, collapse=lambda path, module: isinstance(module, nn.Sequential))
    """
    graph = build_graph(
        root,
        names=names,
        model=model,
        view=view,
        depth=depth,
        collapse=collapse,
        fold=fold,
        max_nodes=max_nodes,
        local_grads=local_grads,
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
