"""Drawings that fit where learners look at them, collapse rules as data, and the ConvNet plots.

- Rendered sizes: each drawing is rendered with Graphviz and its SVG measured: its width
  against Jupyter's output area and GitHub's README column (880 px), and its smallest text in
  CSS pixels as shown at 880 px (at least 11 px). Points are 4/3 px; dot writes the SVG's
  size in points and scales the drawing (``transform="scale(s s)"``) when ``size`` shrinks it.
- Collapse and folding: which modules are drawn as one box (``depth=``, ``collapse=``, the
  loss), and runs of identical blocks folded into one box marked "x N".
- Plots: colour bars with the right limits, the input image beside its activation maps.

Tests that render need Graphviz's ``dot`` and skip without it; the rest run anywhere.
"""

import html
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

import autograd
import nn
import viz
from autograd import Scalar
from viz.plots import plot_activations, plot_filters
from viz.render import MAX_WIDTH_IN

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's `dot` is not installed")

README_PX = 880  # GitHub shows a README image at most this wide (narrower ones at their own size)
JUPYTER_PX = 850  # JupyterLab's output area in a 1,000 px window (less the side bar, prompt, padding)
SMALLEST_PX = 11  # the smallest text a reader should have to read
PX_PER_PT = 4 / 3
ROOT = Path(__file__).resolve().parent.parent


# ---------------------------------------------------------------- measuring an SVG


class Svg:
    """What a reader sees of a rendered drawing: its size in CSS px and its smallest text."""

    def __init__(self, svg: str):
        self.text = svg
        width, height = re.search(r'<svg width="([\d.]+)pt" height="([\d.]+)pt"', svg).groups()
        self.width, self.height = float(width) * PX_PER_PT, float(height) * PX_PER_PT
        scale = re.search(r'class="graph" transform="scale\(([\d.]+) ', svg)
        self.scale = float(scale.group(1)) if scale else 1.0
        self.font_pts = [float(size) for size in re.findall(r'<text [^>]*font-size="([\d.]+)"', svg)]

    def smallest_text_px(self, shown_width: float | None = None) -> float:
        """The smallest font in px when the SVG is shown ``shown_width`` px wide (never enlarged;
        None: at its own size)."""
        shrink = 1.0 if shown_width is None else min(1.0, shown_width / self.width)
        return min(self.font_pts) * PX_PER_PT * self.scale * shrink

    def texts(self) -> list[str]:
        return [html.unescape(t) for t in re.findall(r"<text[^>]*>([^<]*)</text>", self.text)]


def rendered(drawing) -> Svg:
    return Svg(drawing.pipe(format="svg", encoding="utf-8"))


def assert_fits(svg: Svg, name: str) -> None:
    """The targets: fits Jupyter's output area at a 1,000 px window without being scaled down
    by the browser, and its smallest text is >= 11 px at its own size and in the README (880 px)."""
    assert svg.width <= JUPYTER_PX, f"{name}: {svg.width:.0f} px wide does not fit Jupyter's {JUPYTER_PX} px"
    for shown in (None, README_PX):
        px = svg.smallest_text_px(shown)
        assert px >= SMALLEST_PX, f"{name}: smallest text {px:.1f} px at {shown or 'its own'} px width"


# ---------------------------------------------------------------- the drawings


def lecture_circuit():
    """LECTURE.md section 1 after backward, as demo.py and the README draw it (local gradients)."""
    w0, x0, w1, x1, w2 = (Scalar(v, label=n) for v, n in zip((2, -1, -3, -2, -3), ("w0", "x0", "w1", "x1", "w2")))
    L = (w0 * x0 + w1 * x1 + w2).sigmoid()
    L.backward()
    return L


def lecture_convnet():
    """demo.py's ConvNet, [(CONV-RELU)*2-POOL]-[(CONV-RELU)-POOL]-FC, on 8 digits-sized images."""
    autograd.manual_seed(0)
    return nn.Sequential(
        nn.Conv2d(1, 16, kernel_size=3, padding=1), nn.ReLU(),
        nn.Conv2d(16, 16, kernel_size=3, padding=1), nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(16, 32, kernel_size=3, padding=1), nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(32 * 2 * 2, 10),
    )  # fmt: skip


def recorded_loss(model, loss_fn=None, shape=(8, 1, 8, 8), retain_graph=False):
    """``loss_fn(model(x), labels)`` recorded and backpropagated (default: F.cross_entropy)."""
    autograd.manual_seed(1)
    x = autograd.randn(*shape)
    labels = autograd.tensor([i % 10 for i in range(shape[0])])
    loss_fn = loss_fn or nn.functional.cross_entropy
    with autograd.graph.record():
        loss = loss_fn(model(x), labels)
    loss.backward(retain_graph=retain_graph)
    return loss


def repeated_blocks():
    """The lecture's [(CONV-RELU)*N-POOL]*M with identical blocks: a stem, then twice
    [Conv2d(8, 8), ReLU, Conv2d(8, 8), ReLU, MaxPool2d], then the classifier."""

    def block():
        return nn.Sequential(nn.Conv2d(8, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 8, 3, padding=1), nn.ReLU(),
                             nn.MaxPool2d(2))  # fmt: skip

    autograd.manual_seed(0)
    return nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), block(), block(), nn.Flatten(), nn.Linear(32, 10))


# ---------------------------------------------------------------- rendered sizes


@needs_dot
def test_the_lecture_circuit_fits_jupyter_and_the_readme_left_to_right():
    L = lecture_circuit()
    drawing = viz.draw_graph(L, local_grads=True)
    assert 'rankdir="LR"' in drawing.source  # the lecture's circuits run left to right
    svg = rendered(drawing)
    assert_fits(svg, "lecture circuit")
    assert svg.scale == 1.0  # fits by its layout, not by shrinking its text
    assert {"output = 0.73", "w0", "sigmoid", "local 0.20"} <= set(svg.texts())  # nothing cut off
    # the legend is a caption: no wider than the circuit, a few lines below it
    bare = rendered(viz.draw_graph(L, local_grads=True, legend=False))
    assert svg.width == pytest.approx(bare.width, abs=1)
    assert svg.height - bare.height <= 0.25 * bare.height


@needs_dot
def test_the_committed_readme_picture_meets_the_targets():
    svg = Svg((ROOT / "docs" / "circuit.svg").read_text())
    assert_fits(svg, "docs/circuit.svg")
    assert "upstream x local = downstream" in " ".join(svg.texts())


@needs_dot
@pytest.mark.parametrize("depth", [None, 0])
def test_the_convnet_graph_runs_top_to_bottom_and_fits(depth):
    model = lecture_convnet()
    loss = recorded_loss(model, nn.CrossEntropyLoss())
    drawing = viz.draw_graph(loss, model=model, depth=depth)
    assert 'rankdir="TB"' in drawing.source
    svg = rendered(drawing)
    assert_fits(svg, f"ConvNet depth={depth}")
    assert svg.height > svg.width  # a column, not a 5,000 px strip
    bare = rendered(viz.draw_graph(loss, model=model, depth=depth, legend=False))
    assert svg.width == pytest.approx(bare.width, abs=1)  # the legend never widens the drawing
    assert svg.height - bare.height < 0.1 * bare.height


@needs_dot
def test_the_backward_view_and_a_wide_graph_fit():
    model = repeated_blocks()
    loss = recorded_loss(model, retain_graph=False)
    assert_fits(rendered(viz.draw_graph(loss, model=model, view="backward")), "backward view")
    assert_fits(rendered(viz.draw_graph(loss, model=model)), "every op of the repeated blocks")
    # 40 values side by side: too wide for any layout, so it is scaled down to the page
    xs = [autograd.randn(3, 3, requires_grad=True) for _ in range(40)]
    total = xs[0] * 1.0
    for x in xs[1:]:
        total = total + x * 2.0
    svg = rendered(viz.draw_graph(total.sum()))
    assert svg.width <= MAX_WIDTH_IN * 96 + 1 and svg.scale < 1
    assert 'size="7,3"' in viz.draw_graph(total.sum(), size=(7, 3)).source  # the caller's limit wins


def two_root_circuit():
    a, b = Scalar(1.0, label="a"), Scalar(2.0, label="b")
    c, d = a * b, a + b
    (c + d).backward()
    return viz.draw_graph, [c, d], {}


def unrecorded_layer():
    autograd.manual_seed(0)
    x, w = autograd.randn(4, 3), autograd.randn(3, 2, requires_grad=True)
    b = autograd.zeros(2, requires_grad=True)
    loss = (x @ w + b).relu().mean()  # no record(): the legend carries a note
    loss.backward()
    return viz.draw_graph, loss, {"names": {"w": w, "b": b}}


def folded_blocks():
    model = repeated_blocks()
    return viz.draw_graph, recorded_loss(model), {"model": model, "depth": 0}


@needs_dot
@pytest.mark.parametrize("make", [two_root_circuit, unrecorded_layer, folded_blocks])
def test_the_legend_is_never_larger_than_the_graph(make):
    draw, root, options = make()
    svg, bare = rendered(draw(root, **options)), rendered(draw(root, legend=False, **options))
    assert svg.width == pytest.approx(bare.width, abs=1.5)  # the legend never widens the drawing
    assert svg.height - bare.height < bare.height  # nor is it taller than the graph
    assert_fits(svg, make.__name__)


# ---------------------------------------------------------------- layout defaults, the legend


def test_default_direction_legend_and_size_in_the_dot_text():
    L = lecture_circuit()
    circuit = viz.draw_graph(L).source
    assert 'rankdir="LR"' in circuit and f'size="{MAX_WIDTH_IN},' in circuit
    model = lecture_convnet()
    loss = recorded_loss(model)
    tensors = viz.draw_graph(loss, model=model).source
    assert 'rankdir="TB"' in tensors and 'rankdir="LR"' in viz.draw_graph(loss, model=model, rankdir="LR").source
    # the legend is the graph's caption, set last (no cluster inherits it), and only on request
    assert tensors.rstrip().endswith('labeljust="l"\n}') and "\tlabel=<<TABLE" in tensors
    assert "\tlabel=<<TABLE" not in viz.draw_graph(loss, model=model, legend=False).source
    full = viz.draw_graph(L, legend="full").source
    assert "its share when a value is used twice" in full and "its share" not in circuit
    with pytest.raises(ValueError, match="legend must be"):
        viz.draw_graph(L, legend="big")
    # a drawing of three nodes needs no key; without record() the note says what is missing
    x = autograd.tensor([1.0, 2.0], requires_grad=True)
    with autograd.graph.record():
        small = x.sum()
    assert "\tlabel=<<TABLE" not in viz.draw_graph(small).source
    assert "not recorded" in viz.draw_graph(x.sum()).source


def test_parameters_sit_beside_the_op_that_uses_them():
    model = lecture_convnet()
    graph = viz.build_graph(recorded_loss(model), model=model)
    dot = viz.render_dot(graph)
    conv = next(n for n in graph.nodes if n.op == "Conv2d" and n.cluster == graph.find(model[0].weight).cluster)
    weight, bias = graph.find(model[0].weight).id, graph.find(model[0].bias).id
    assert f"{{rank=same; {conv.id}; {weight}; {bias}}}" in dot or f"{{rank=same; {conv.id}; {bias}; {weight}}}" in dot
    # the second one is written head first (dir=back) so that it goes on the op's other side
    flipped = [line for line in dot.splitlines() if line.strip().startswith(f"{conv.id} -> ") and 'dir="back"' in line]
    assert len(flipped) == 1 and flipped[0].split("->")[1].split()[0] in (weight, bias)


# ---------------------------------------------------------------- collapse as data


def boxes(graph):
    return {n.name: n for n in graph.nodes if n.kind == "module"}


def assert_box_or_contents(graph, model):
    """No module is drawn both as a box and as its contents (a cluster, an op or a leaf inside)."""
    inside = set()
    for box in boxes(graph).values():
        members = [m for m in (box.obj if isinstance(box.obj, tuple) else (box.obj,)) if m is not None]
        for name, module in model.named_modules():
            if any(module is m or any(module is sub for sub in m.modules()) for m in members):
                inside.add(name)
    cluster_paths = {c.path for c in graph.clusters}
    assert not inside & cluster_paths
    by_id = {c.id: c.path for c in graph.clusters}
    for node in graph.nodes:
        if node.kind != "module" and node.cluster is not None:
            assert by_id[node.cluster] not in inside
    params = {p for name, p in model.named_parameters() if name.rpartition(".")[0] in inside}
    assert not [n for n in graph.nodes if n.kind == "leaf" and any(n.obj is p for p in params)]


def test_identical_blocks_fold_into_one_box_marked_x_n():
    model = repeated_blocks()
    loss = recorded_loss(model)
    top = viz.build_graph(loss, model=model, depth=0)
    found = boxes(top)
    assert set(found) == {"0", "1", "2 to 3", "4", "5", "loss"}
    folded = found["2 to 3"]
    assert folded.count == 2 and folded.op == "Sequential(Conv2d, ReLU, Conv2d, ReLU, MaxPool2d)"
    assert folded.inputs == ((8, 8, 8, 8),) and folded.outputs == ((8, 8, 2, 2),)  # in of 2, out of 3
    assert folded.params == tuple(n for n, _ in model.named_parameters() if n[0] in "23")
    assert folded.value.shape == (8, 8, 2, 2) and folded.grad is not None
    dot = viz.render_dot(top)
    assert "<B>2 to 3  x 2</B>" in dot and "x N: N identical blocks in a row" in dot
    assert_box_or_contents(top, model)
    # one level down, inside each block: (CONV-RELU)*2 folds, the pool stays
    inner = viz.build_graph(loss, model=model, depth=1)
    found = boxes(inner)
    assert {"2.0 to 2.3", "2.4", "3.0 to 3.3", "3.4"} <= set(found)
    assert found["2.0 to 2.3"].count == 2 and found["2.0 to 2.3"].op.startswith("Conv2d(8, 8, kernel_size=(3, 3)")
    assert found["2.0 to 2.3"].op.endswith(" > ReLU()")
    assert {c.path for c in inner.clusters} >= {"2", "3"}  # the blocks are boxes around their folds
    assert_box_or_contents(inner, model)
    # fold=False draws every block
    assert all(n.count == 1 for n in viz.build_graph(loss, model=model, depth=0, fold=False).nodes)
    assert {"2", "3"} <= set(boxes(viz.build_graph(loss, model=model, depth=0, fold=False)))


def test_only_identical_chained_blocks_fold():
    # the lecture's ConvNet: Conv2d(1, 16) and Conv2d(16, 16) differ, so nothing folds
    model = lecture_convnet()
    graph = viz.build_graph(recorded_loss(model), model=model, depth=0)
    assert all(n.count == 1 for n in graph.nodes) and len(boxes(graph)) == 11  # 10 layers and the loss

    class TwoHeads(nn.Module):  # identical siblings side by side (both read x): not a chain
        def __init__(self):
            super().__init__()
            self.a, self.b = nn.Linear(4, 3), nn.Linear(4, 3)

        def forward(self, x):
            return self.a(x) + self.b(x)

    heads = TwoHeads()
    with autograd.graph.record():
        out = heads(autograd.randn(2, 4)).sum()
    out.backward()
    assert {n.name: n.count for n in viz.build_graph(out, model=heads, depth=0).nodes if n.kind == "module"} == {
        "a": 1, "b": 1, "loss": 1}  # fmt: skip
    # three identical layers in a row: one box x 3 (period 1)
    stack = nn.Sequential(nn.Linear(4, 4), nn.Linear(4, 4), nn.Linear(4, 4), nn.ReLU())
    with autograd.graph.record():
        out = stack(autograd.randn(2, 4)).sum()
    out.backward()
    found = boxes(viz.build_graph(out, model=stack, depth=0))
    assert found["0 to 2"].count == 3 and found["0 to 2"].params == tuple(n for n, _ in stack.named_parameters())


def test_collapse_is_a_predicate_or_a_list_and_the_outermost_box_wins():
    model = repeated_blocks()
    loss = recorded_loss(model)
    asked = []

    def convs_and_the_loss(path, module):
        asked.append((path, module))
        return isinstance(module, nn.Conv2d) or path == "loss"

    graph = viz.build_graph(loss, model=model, collapse=convs_and_the_loss)
    found = boxes(graph)
    assert {"0", "2.0", "2.2", "3.0", "3.2", "loss"} == set(found) - {"2.0 to 2.3", "3.0 to 3.3"}
    assert ("loss", None) in asked and ("2", model[2]) in asked  # (module_path, module); None for the loss
    assert not [n for n in graph.nodes if n.op in ("Conv2d", "LogSoftmax")]  # inside their boxes
    assert [n for n in graph.nodes if n.op == "ReLU"]  # not collapsed: its ops are drawn
    assert_box_or_contents(graph, model)
    as_data = viz.build_graph(loss, model=model, collapse=[nn.Conv2d, "loss"])
    assert set(boxes(as_data)) == set(found)
    # a block and its first conv both asked for: the block is the box, nothing inside it is
    outer = viz.build_graph(loss, model=model, collapse=["2", "2.0"])
    assert "2" in boxes(outer) and "2.0" not in boxes(outer) and "2" not in {c.path for c in outer.clusters}
    assert_box_or_contents(outer, model)
    # depth and collapse together: deeper than 1, or asked
    both = viz.build_graph(loss, model=model, depth=1, collapse=["loss"])
    assert "loss" in boxes(both) and "2.4" in boxes(both)
    with pytest.raises(TypeError, match="collapse="):
        viz.build_graph(loss, model=model, collapse=[3])
    with pytest.raises(ValueError, match="depth must be"):
        viz.draw_graph(loss, model=model, depth=-1)


def test_a_loss_is_one_box_functional_or_module():
    model = lecture_convnet()
    # F.cross_entropy: its ops ran in no module; after the model they are "loss"
    loss = recorded_loss(model)
    full = viz.build_graph(loss, model=model)
    (cluster,) = [c for c in full.clusters if c.path == "loss"]
    assert cluster.label == "loss: ops after the model: LogSoftmax > Index > Neg > Sum > Div"
    box = boxes(viz.build_graph(loss, model=model, collapse=["loss"]))["loss"]
    assert box.inputs == ((8, 10),) and box.outputs == ((),) and float(box.value) == pytest.approx(loss.item())
    assert box.grad == 1.0
    # F.mse_loss too
    target = autograd.zeros(8, 10)
    mse = recorded_loss(model, lambda out, labels: nn.functional.mse_loss(out, target))
    box = boxes(viz.build_graph(mse, model=model, collapse=["loss"]))["loss"]
    assert box.op == "ops after the model: Sub > Pow > Mean" and box.inputs == ((8, 10),)
    # a loss module outside the model is named by its class, and is a module like the others
    loss = recorded_loss(model, nn.CrossEntropyLoss())
    graph = viz.build_graph(loss, model=model, collapse=[nn.CrossEntropyLoss])
    assert set(boxes(graph)) == {"CrossEntropyLoss"} and "loss" not in {c.path for c in graph.clusters}
    assert "CrossEntropyLoss" in {c.path for c in viz.build_graph(loss, model=model).clusters}
    dot = viz.render_dot(graph)
    assert "<B>CrossEntropyLoss</B>" in dot and "CrossEntropyLoss()" not in dot  # said once
    # depth=0 draws each layer and the loss as one box: 11 boxes in a chain to the output
    top = viz.build_graph(loss, model=model, depth=0)
    assert len(boxes(top)) == 11 and len(top.nodes) == 12 and len(top.edges) == 11


# ---------------------------------------------------------------- plots


def test_plot_filters_has_a_colour_bar_of_weight_values():
    conv = nn.Conv2d(1, 6, 3)
    conv.weight._data[:] = 0.0
    conv.weight._data[0, 0, 1, 1] = -0.5
    conv.weight._data[5, 0, 0, 0] = 0.25
    fig = plot_filters(conv, ncols=3)
    images = [ax.images[0] for ax in fig.axes if ax.images]
    assert len(images) == 6 and {im.get_clim() for im in images} == {(-0.5, 0.5)}  # one scale, 0 in the middle
    (bar,) = [ax for ax in fig.axes if ax.get_label() == "<colorbar>"]
    assert bar.get_ylabel() == "weight" and bar.get_ylim() == pytest.approx((-0.5, 0.5))
    np.testing.assert_allclose(images[0].get_array()[1, 1], -0.5)  # the values themselves, not rescaled
    assert fig.get_size_inches()[0] <= MAX_WIDTH_IN
    # 3 input channels: colour images on the same scale, 0 is mid-grey
    rgb = nn.Conv2d(3, 16, 5)
    rgb.weight._data[0] = 0.0
    fig = plot_filters(rgb)
    first = fig.axes[0].images[0].get_array()
    assert first.shape == (5, 5, 3) and np.allclose(first, 0.5)
    (bar,) = [ax for ax in fig.axes if ax.get_label() == "<colorbar>"]
    assert "each colour channel" in bar.get_ylabel() and fig.get_size_inches()[0] <= MAX_WIDTH_IN
    # many input channels: their mean
    fig = plot_filters(nn.Conv2d(16, 8, 3))
    assert "mean of 16 input channels" in [ax for ax in fig.axes if ax.get_label() == "<colorbar>"][0].get_ylabel()


def test_plot_activations_shows_the_input_beside_maps_on_one_scale():
    autograd.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 6, 3, padding=1), nn.ReLU())
    image = autograd.randn(1, 6, 6)
    fig = plot_activations(model, image, layer=model[0], ncols=3)
    axes = fig.axes
    assert axes[0].get_title() == "input (1x6x6)"
    np.testing.assert_allclose(axes[0].images[0].get_array(), image._data[0])
    maps = model[0](image.unsqueeze(0))._data[0]
    shown = [ax.images[0] for ax in axes[1:] if ax.images]
    assert len(shown) == 6
    for im, expected in zip(shown, maps):
        np.testing.assert_allclose(im.get_array(), expected, rtol=1e-6)
        assert im.get_clim() == pytest.approx((maps.min(), maps.max()))  # one scale for all maps
    (bar,) = [ax for ax in axes if ax.get_label() == "<colorbar>"]
    assert bar.get_ylabel() == "activation" and bar.get_ylim() == pytest.approx((maps.min(), maps.max()))
    assert fig.get_size_inches()[0] <= MAX_WIDTH_IN
    # without the input; a dead layer (all zeros) still gets a usable scale
    model[0].weight._data[:] = 0.0
    model[0].bias._data[:] = 0.0
    fig = plot_activations(model, image, layer=model[1], show_input=False)
    assert not [ax for ax in fig.axes if ax.get_title().startswith("input")]
    assert [ax for ax in fig.axes if ax.images][0].images[0].get_clim() == (0.0, 1.0)
