"""Step through backward one node at a time, in the engine's real order.

``backward_steps(loss)`` runs the real backward pass (afterwards the leaves hold their
``.grad`` exactly as after ``loss.backward()``), with the engine's observer hook: each time
the engine processes a node, the observer notes the gradient the node received and the
gradient it sent to each of its inputs. Each ``Frame`` is a picture of that moment:

- the node being processed is yellow, the nodes processed before it have a green border;
- the wires it just sent gradients along are red, labelled with those gradients;
- a value used several times receives one gradient per use; until all have arrived it has a
  red border and shows the running sum ("sum of 1 of 2 gradients").

``save_steps_html`` writes the frames into one standalone HTML page (inline SVG, previous /
next buttons and a slider; no server, no network) and ``step_through`` shows them in Jupyter
with an ipywidgets slider.
"""

from __future__ import annotations

import html
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from autograd.engine import run_backward
from autograd.grad_mode import no_grad
from autograd.scalar import Scalar
from autograd.tensor import Tensor
from viz.graph import Graph, as_roots, build_graph, engine_node
from viz.render import dot_lines, fmt_exact, fmt_grad, make_digraph, to_svg


@dataclass
class Frame:
    """One step of backward: the engine processed node ``node_id``.

    ``grad`` is the total gradient the node received; ``emitted`` lists ``(edge number,
    gradient)`` for each wire it sent a gradient along (edge numbers index ``graph.edges``).
    ``grads`` holds, for every node reached so far, the gradient received so far (a running
    sum while a value used several times is still collecting), ``counts`` how many gradients
    each has received, ``shares`` the gradient sent along each wire so far.
    """

    index: int
    graph: Graph = field(repr=False)  # the picture without highlights, shared by all frames
    order: list[str] = field(repr=False)  # node ids in processing order, shared by all frames
    node_id: str
    grad: Any
    emitted: list[tuple[int, Any]] = field(repr=False)
    grads: dict[str, Any] = field(repr=False)
    counts: dict[str, int] = field(repr=False)
    shares: dict[int, Any] = field(repr=False)
    expected: dict[str, int] = field(repr=False)  # how many gradients each node receives in the whole pass

    @property
    def caption(self) -> str:
        """One sentence saying what happens in this step."""
        node = self.graph.node(self.node_id)
        text = f"step {self.index + 1} of {len(self.order)}: {_describe(node)} received {_short(self.grad)}"
        if not self.emitted:
            return text + " (a leaf: this is its final .grad)" if node.kind in ("leaf", "accumulate") else text
        sent = [f"{_short(g)} to {_describe(self.graph.node(self.graph.edges[e].src))}" for e, g in self.emitted]
        return text + " and sends " + ", ".join(sent)

    def to_graph(self) -> Graph:
        """The graph of this step: gradients known so far, with the highlights."""
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
        """The DOT text of this step (options as in ``viz.render.dot_lines``)."""
        return "digraph dagrad {\n" + "".join(dot_lines(self.to_graph(), **options)) + "}\n"

    def digraph(self, **options: Any) -> Any:
        """This step as a ``graphviz.Digraph`` (shown inline by Jupyter)."""
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
    return value._data if isinstance(value, Tensor) else value


class _Recorder:
    """The observer given to the engine: turns each processed node into a Frame."""

    def __init__(self, graph: Graph, roots: list[Any], seeds: list[Any]):
        self.graph = graph
        kinds = {n.id: n.kind for n in graph.nodes}
        self.ids = {id(n.obj): n.id for n in graph.nodes if n.kind not in ("output", "saved")}
        self.edge_of = {}  # (consumer id, input index) -> edge number
        self.expected: Counter = Counter()
        self.grads: dict[str, Any] = {}
        self.counts: Counter = Counter()
        self.shares: dict[int, Any] = {}
        for i, edge in enumerate(graph.edges):
            if kinds[edge.dst] == "output":  # the seed gradient dL/dL = 1 enters here
                self.shares[i] = self.grads[edge.dst] = _edge_seed(edge, roots, seeds, self.ids)
            else:
                self.edge_of[(edge.dst, edge.index)] = i
                self.expected[edge.src] += 1
        for root, seed in zip(roots, seeds):
            rid = self.ids[id(root)]
            self.grads[rid] = seed if rid not in self.grads else self.grads[rid] + seed
            self.counts[rid] += 1
            self.expected[rid] += 1
        self.order: list[str] = []
        self.frames: list[Frame] = []

    def __call__(self, node: Any, grad: Any, grads: tuple) -> None:
        node_id = self.ids[id(node)]
        self.grads[node_id] = _plain(grad)  # the total, after any hooks
        emitted = []
        for k, (parent, g) in enumerate(zip(node._parents, grads)):
            if parent is None or g is None:
                continue
            g = _plain(g)
            edge, parent_id = self.edge_of[(node_id, k)], self.ids[id(parent)]
            self.grads[parent_id] = g if parent_id not in self.grads else self.grads[parent_id] + g
            self.counts[parent_id] += 1
            self.shares[edge] = g
            emitted.append((edge, g))
        self.order.append(node_id)
        snapshot = dict(self.grads), dict(self.counts), dict(self.shares), dict(self.expected)
        self.frames.append(Frame(len(self.frames), self.graph, self.order, node_id, _plain(grad), emitted, *snapshot))


def _edge_seed(edge: Any, roots: list[Any], seeds: list[Any], ids: dict[int, str]) -> Any:
    """The seed gradient on the wire from a root to its output node."""
    for root, seed in zip(roots, seeds):
        if ids[id(root)] == edge.src:
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
        elif grad is None:
            if root._data.size != 1:
                raise RuntimeError(
                    f"backward_steps needs gradient= for a root of shape {tuple(root.shape)} (dL/droot, same "
                    "shape), or reduce it first, e.g. y.sum()"
                )
            seeds.append(np.ones(root.shape, dtype=root.dtype))
        else:
            seed = np.asarray(_plain(grad), dtype=root.dtype)
            if seed.shape != root.shape:
                raise RuntimeError(
                    f"backward_steps: the gradient for root {i} has shape {seed.shape} but the root has shape "
                    f"{tuple(root.shape)}; they must match"
                )
            seeds.append(seed)
    return seeds


def backward_steps(
    root: Any,
    gradient: Any = None,
    *,
    names: Any = None,
    retain_graph: bool = False,
    accumulate: bool | None = None,
) -> list[Frame]:
    """Run backward from ``root`` and return one ``Frame`` per node, in the engine's order.

    On a graph that has not been through backward yet this *is* the backward pass: leaves
    end with their ``.grad`` as after ``root.backward()`` (call it instead, not as well). When
    the gradients are already there (the leaves hold a nonzero ``.grad`` after a backward with
    ``retain_graph=True``; a Scalar root's ``.grad`` is not 0) nothing is accumulated a
    second time; ``accumulate=`` forces either behaviour.
    ``names`` labels tensors as in ``draw_graph``.
    """
    roots = as_roots(root)
    seeds = _seeds(roots, gradient)
    graph = build_graph(roots, names=names)
    nodes = [engine_node(r) for r in roots]
    recorder = _Recorder(graph, nodes, seeds)
    keep = _first_backward(graph, roots) if accumulate is None else accumulate
    if graph.kind == "scalar":
        before = [(n.obj, n.obj.grad) for n in graph.nodes if isinstance(n.obj, Scalar)]
        run_backward(list(zip(nodes, seeds)), retain_graph=True, accumulate=True, observer=recorder)
        if not keep:  # a Scalar always adds to .grad: put the old values back
            for obj, grad in before:
                obj.grad = grad
        return recorder.frames
    if any(getattr(n.obj, "_freed", False) for n in graph.nodes):
        raise RuntimeError(
            "backward_steps runs the real backward pass, but this graph's saved tensors were already freed "
            "by backward(): call viz.backward_steps(loss) instead of loss.backward() (it fills .grad the "
            "same way), or call loss.backward(retain_graph=True) first"
        )
    with no_grad():
        pairs = [(n, Tensor._make(s)) for n, s in zip(nodes, seeds)]
        run_backward(pairs, retain_graph=retain_graph, accumulate=keep, observer=recorder)
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


def _frames(root_or_frames: Any) -> list[Frame]:
    if isinstance(root_or_frames, Sequence) and not root_or_frames:
        raise ValueError("no steps to show: got an empty list (pass a root, or the frames of backward_steps)")
    if isinstance(root_or_frames, Sequence) and isinstance(root_or_frames[0], Frame):
        return list(root_or_frames)
    return backward_steps(root_or_frames)


def _svg(frame: Frame, options: dict) -> str:
    svg = to_svg(frame.source(**options))
    return svg[svg.index("<svg") :]  # drop the XML prolog and doctype: the SVG goes inline


_PAGE_STYLE = """
body { font-family: Helvetica, Arial, sans-serif; margin: 1.5em; color: #111827; }
.controls { display: flex; gap: 0.6em; align-items: center; margin-bottom: 0.5em; }
#slider { width: 22em; }
#caption { min-height: 1.4em; font-size: 0.95em; }
.frame svg { max-width: 100%; height: auto; }
"""

_PAGE_SCRIPT = """
(function () {
  var frames = document.querySelectorAll(".frame");
  var slider = document.getElementById("slider");
  var prev = document.getElementById("prev");
  var next = document.getElementById("next");
  var current = 0;
  function show(i) {
    current = Math.max(0, Math.min(frames.length - 1, i));
    for (var k = 0; k < frames.length; k++) {
      frames[k].style.display = k === current ? "block" : "none";
    }
    slider.value = current;
    document.getElementById("counter").textContent = "step " + (current + 1) + " of " + frames.length;
    document.getElementById("caption").textContent = frames[current].getAttribute("data-caption");
    prev.disabled = current === 0;
    next.disabled = current === frames.length - 1;
  }
  prev.addEventListener("click", function () { show(current - 1); });
  next.addEventListener("click", function () { show(current + 1); });
  slider.addEventListener("input", function () { show(parseInt(slider.value, 10)); });
  show(0);
})();
"""


def steps_html(frames: list[Frame], title: str = "backward, step by step", **options: Any) -> str:
    """One standalone HTML page showing the frames (inline SVG rendered by ``dot``)."""
    parts = []
    for i, frame in enumerate(frames):
        hidden = "" if i == 0 else ' style="display:none"'
        caption = html.escape(frame.caption, quote=True)
        opening = f'<div class="frame" id="frame-{i}" data-caption="{caption}"{hidden}>'
        parts.append(f"{opening}\n{_svg(frame, options)}</div>")
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
<button id="prev" type="button">&larr; previous</button>
<input id="slider" type="range" min="0" max="{len(frames) - 1}" value="0" step="1" aria-label="step">
<button id="next" type="button">next &rarr;</button>
<span id="counter">step 1 of {len(frames)}</span>
</div>
<p id="caption">{html.escape(frames[0].caption)}</p>
{chr(10).join(parts)}
<script>{_PAGE_SCRIPT}</script>
</body>
</html>
"""


def save_steps_html(
    root_or_frames: Any, path: str | Path, *, title: str = "backward, step by step", **options: Any
) -> Path:
    """Write the steps of backward (a root, or frames from ``backward_steps``) to one HTML file.

    The page is standalone: the frames are inline SVG (rendered now with Graphviz's ``dot``),
    with previous / next buttons and a slider; it needs no server and loads nothing.
    """
    frames = _frames(root_or_frames)
    if not frames:
        raise ValueError("no steps to show: the graph has no node that received a gradient")
    path = Path(path)
    path.write_text(steps_html(frames, title, **options), encoding="utf-8")
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


def step_through(root_or_frames: Any, **options: Any) -> Any:
    """In Jupyter: a slider with previous / next buttons over the steps of backward.

    ``root_or_frames`` is a root (backward runs now, as in ``backward_steps``) or the frames
    it returned. Returns an ipywidgets box; each step is rendered with ``dot`` when shown.
    """
    widgets = _ipywidgets()
    frames = _frames(root_or_frames)
    if not frames:
        raise ValueError("no steps to show: the graph has no node that received a gradient")
    svgs: dict[int, str] = {}
    slider = widgets.IntSlider(value=0, min=0, max=len(frames) - 1, description="step")
    prev, next_ = widgets.Button(description="previous"), widgets.Button(description="next")
    caption, picture = widgets.Label(), widgets.HTML()

    def show(_: Any = None) -> None:
        i = slider.value
        if i not in svgs:
            svgs[i] = _svg(frames[i], options)
        picture.value, caption.value = svgs[i], frames[i].caption

    slider.observe(show, names="value")
    prev.on_click(lambda _: setattr(slider, "value", max(0, slider.value - 1)))
    next_.on_click(lambda _: setattr(slider, "value", min(len(frames) - 1, slider.value + 1)))
    show()
    return widgets.VBox([widgets.HBox([prev, slider, next_]), caption, picture])
