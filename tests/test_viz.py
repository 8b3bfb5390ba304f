"""viz.draw_graph, viz.backward_steps and the step-through page: the DOT text, real SVGs, a real browser.

Tests that render need Graphviz's ``dot`` and skip without it; the browser test needs
Chromium, chromedriver and selenium and skips without them. Everything else runs anywhere.
"""

import html
import re
import shutil
import sys

import graphviz
import numpy as np
import pytest

import autograd
import nn
import viz
from autograd import Scalar
from autograd.engine import run_backward
from viz.digraph import GraphvizNotFoundError
from viz.render import GRAD_COLOR, GRAD_COLORS, LOCAL_COLOR, NONFINITE_COLOR

HAS_DOT = shutil.which("dot") is not None
needs_dot = pytest.mark.skipif(not HAS_DOT, reason="Graphviz's `dot` is not installed (apt-get install graphviz)")

W0, X0, W1, X1, W2 = 2.0, -1.0, -3.0, -2.0, -3.0
EXPECTED = {"w0": "-0.20", "x0": "0.39", "w1": "-0.39", "x1": "-0.59", "w2": "0.20"}


def lecture_circuit(backward=True):
    """LECTURE.md section 1: L = sigmoid(w0*x0 + w1*x1 + w2), with the lecture's labels."""
    leaves = {name: Scalar(v, label=name) for name, v in zip(EXPECTED, (W0, X0, W1, X1, W2))}
    s0 = leaves["w0"] * leaves["x0"]
    s1 = leaves["w1"] * leaves["x1"]
    s2 = s0 + s1
    s3 = s2 + leaves["w2"]
    L = s3.sigmoid()
    for node, label in ((s0, "s0"), (s1, "s1"), (s2, "s2"), (s3, "s3"), (L, "L")):
        node.label = label
    if backward:
        L.backward()
    return L, leaves


def edge_line(dot, src, dst):
    """The DOT lines of the edges src -> dst."""
    return [line for line in dot.splitlines() if re.match(rf"\s*{src} -> {dst}( |$)", line)]


def grad_text(value):
    return f'<FONT COLOR="{GRAD_COLOR}">{value}</FONT>'


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(3, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2))
        self.classifier = nn.Sequential(nn.Flatten(), nn.Linear(16 * 4 * 4, 10))

    def forward(self, x):
        return self.classifier(self.features(x))


def cnn_loss(record=True, retain_graph=False):
    autograd.manual_seed(0)
    model = Net()
    x = autograd.randn(2, 3, 8, 8)
    if record:
        with autograd.graph.record():
            loss = model(x).sum()
    else:
        loss = model(x).sum()
    loss.backward(retain_graph=retain_graph)
    return model, loss


# ---------------------------------------------------------------- the lecture circuit


def test_lecture_circuit_values_and_gradients_on_the_wires():
    L, leaves = lecture_circuit()
    graph = viz.build_graph(L)
    dot = viz.render_dot(graph)
    assert graph.circuit and graph.kind == "scalar"
    assert "L = 0.73" in dot  # the output node
    for name, expected in EXPECTED.items():
        leaf = graph.find(leaves[name])
        assert leaf.kind == "leaf" and leaf.name == name
        (edge,) = [e for e in graph.edges if e.src == leaf.id]
        (line,) = edge_line(dot, edge.src, edge.dst)
        value = f"{leaves[name].data:.2f}"
        # the wire carries the value, and below it the gradient in red
        assert f'label=<<FONT COLOR="#111827">{value}</FONT><BR/>{grad_text(expected)}>' in line
        # the leaf shows its name, value and gradient
        (node_line,) = [x for x in dot.splitlines() if x.strip().startswith(f"{leaf.id} [")]
        assert f"<B>{name}</B><BR/>{value}<BR/>{grad_text(expected)}" in node_line
    gates = [n.op for n in graph.nodes if n.kind == "op"]
    assert gates == ["sigmoid", "+", "+", "*", "*"]
    # add gates copy the gradient: every wire into and out of them carries (1 - L) L = 0.20
    assert dot.count(grad_text("0.20")) == 5 + 1  # 5 wires and the w2 leaf


def test_local_gradients_multiply_upstream_into_downstream():
    L, leaves = lecture_circuit()
    graph = viz.build_graph(L, local_grads=True)
    dot = viz.render_dot(graph, local_grads=True)
    for edge in graph.edges:
        if graph.node(edge.dst).kind == "output":
            continue
        upstream = graph.node(edge.dst).obj.grad
        assert edge.grad == pytest.approx(upstream * edge.local)
    # the sigmoid's local gradient (1 - L) L, and a multiply gate swaps its inputs: d(w0*x0)/dx0 = w0
    assert f'<FONT COLOR="{LOCAL_COLOR}">local 0.20</FONT>' in dot
    x0_edge = next(e for e in graph.edges if e.src == graph.find(leaves["x0"]).id)
    assert x0_edge.local == W0
    assert "upstream x local = downstream" in dot  # the legend explains it


@needs_dot
def test_lecture_circuit_renders_to_svg_with_values_and_gradients():
    L, _ = lecture_circuit()
    svg = viz.draw_graph(L).pipe(format="svg", encoding="utf-8")
    texts = [html.unescape(t) for t in re.findall(r"<text[^>]*>([^<]*)</text>", svg)]  # dot writes - as &#45;
    red = [html.unescape(t) for t in re.findall(rf'<text[^>]*fill="{GRAD_COLOR}"[^>]*>([^<]*)</text>', svg)]
    assert "L = 0.73" in texts and "0.73" in texts
    for expected in EXPECTED.values():
        assert expected in red
    for name in EXPECTED:
        assert name in texts


@needs_dot
def test_draw_graph_is_a_digraph_that_displays_and_renders(tmp_path):
    L, _ = lecture_circuit()
    g = viz.draw_graph(L)
    assert isinstance(g, graphviz.Digraph)
    bundle = g._repr_mimebundle_()  # what Jupyter calls to show it inline
    assert "<svg" in bundle["image/svg+xml"] and "0.73" in bundle["image/svg+xml"]
    for fmt in ("svg", "png", "pdf"):
        path = g.render(tmp_path / "circuit", format=fmt)
        assert path.endswith(fmt) and (tmp_path / f"circuit.{fmt}").stat().st_size > 500


# ---------------------------------------------------------------- structure of the model


def test_input_used_twice_is_drawn_as_two_wires():
    a = Scalar(3.0, label="a")
    b = a + a
    b.backward()
    graph = viz.build_graph(b)
    plus, leaf = graph.node("n1"), graph.find(a)
    wires = [e for e in graph.edges if e.src == leaf.id]
    assert [(e.dst, e.index) for e in wires] == [(plus.id, 0), (plus.id, 1)]
    assert [e.grad for e in wires] == [1.0, 1.0] and leaf.grad == 2.0  # the gradients add up
    assert len(edge_line(viz.render_dot(graph), leaf.id, plus.id)) == 2
    # tensors too, also when the wire's share must come from the op's backward (fan-out)
    x = autograd.tensor([1.0, 2.0], requires_grad=True)
    with autograd.graph.record():
        y = (x * x + x).sum()
    y.backward(retain_graph=True)
    graph = viz.build_graph(y, names={"x": x})
    wires = [e for e in graph.edges if e.src == graph.find(x).id]
    assert len(wires) == 3
    shares = sorted(e.grad.tolist() for e in wires)
    assert shares == [[1.0, 1.0], [1.0, 2.0], [1.0, 2.0]]
    np.testing.assert_allclose(graph.find(x).grad, [3.0, 5.0])


def test_ids_and_dot_are_deterministic():
    first = viz.draw_graph(lecture_circuit()[0]).source
    second = viz.draw_graph(lecture_circuit()[0]).source  # a new graph with the same structure
    assert first == second
    L, _ = lecture_circuit()
    assert viz.draw_graph(L).source == viz.draw_graph(L).source
    graph = viz.build_graph(L)
    assert [n.id for n in graph.nodes] == [f"n{i}" for i in range(len(graph.nodes))]
    model, loss = cnn_loss()
    assert viz.draw_graph(loss, model=model).source == viz.draw_graph(loss, model=model).source


def test_draw_graph_source_equals_render_dot_and_checks_arguments():
    L, _ = lecture_circuit()
    assert viz.draw_graph(L, size=(6, 4)).source == viz.render_dot(viz.build_graph(L, max_nodes=500), size=(6, 4))
    assert 'size="6,4"' in viz.draw_graph(L, size=(6, 4)).source
    assert 'rankdir="TB"' in viz.draw_graph(L, rankdir="TB").source
    with pytest.raises(ValueError, match="view"):
        viz.draw_graph(L, view="sideways")
    with pytest.raises(ValueError, match="rankdir"):
        viz.draw_graph(L, rankdir="XY")
    with pytest.raises(TypeError, match="Tensor or a Scalar"):
        viz.draw_graph(3.0)


def test_show_flags_hide_values_gradients_and_legend():
    L, _ = lecture_circuit()
    dot = viz.draw_graph(L, show_values=False, show_grads=False, legend=False).source
    assert "-0.59" not in dot and GRAD_COLOR not in dot and "cluster_legend" not in dot
    assert "<B>x1</B>" in dot


def test_several_roots_get_one_output_node_each():
    a, b = Scalar(1.0, label="a"), Scalar(2.0, label="b")
    c, d = a * b, a + b
    dot = viz.draw_graph([c, d]).source
    graph = viz.build_graph([c, d])
    outputs = [n for n in graph.nodes if n.kind == "output"]
    assert [n.name for n in outputs] == ["output 0", "output 1"]
    assert len([n for n in graph.nodes if n.kind == "leaf"]) == 2 and "output 1 = 3.00" in dot


# ---------------------------------------------------------------- tensors


def test_tensors_show_shape_dtype_exact_values_or_a_summary():
    w = autograd.tensor([1.0, -2.0], requires_grad=True)
    big = autograd.tensor(np.arange(64, dtype=np.float32).reshape(8, 8) / 10, requires_grad=True)
    with autograd.graph.record():
        loss = (big * 2.0).sum() + (w * w).sum()
    loss.backward()
    dot = viz.draw_graph(loss, names={"w": w, "big": big}).source
    graph = viz.build_graph(loss, names={"w": w, "big": big})
    assert not graph.circuit  # a big tensor: one box per node with shapes and summaries
    assert "(2,) float32" in dot and "(8, 8) float32" in dot
    assert "[1.00, -2.00]" in dot and grad_text("grad [2.00, -4.00]") in dot  # tiny: exact
    assert "mean 3.15  std 1.85" in dot and "min 0.00  max 6.30" in dot  # bigger: a summary
    assert grad_text("grad norm 16.00") in dot  # |d/dbig| = sqrt(64 * 2^2)
    assert "<B>Mul</B>" in dot and "<B>big</B>" in dot and "not recorded" not in dot


def test_without_record_only_leaves_have_values_and_the_legend_says_so():
    w = autograd.tensor([1.0, -2.0, 3.0], requires_grad=True)
    loss = (w * w).sum()
    loss.backward()
    graph = viz.build_graph(loss, names={"w": w})
    dot = viz.render_dot(graph)
    mul = next(n for n in graph.nodes if n.op == "Mul")
    assert mul.value is None and mul.grad is None and mul.shape == (3,)
    np.testing.assert_allclose(graph.find(w).grad, [2.0, -4.0, 6.0])
    assert "not recorded" in dot and "autograd.graph.record()" in dot
    assert "[1.00, -2.00, 3.00]" in dot


def test_nan_and_inf_are_highlighted():
    p = autograd.tensor([1.0, 0.0], requires_grad=True)
    with autograd.graph.record(), np.errstate(all="ignore"):
        q = (p.log() * p).sum()
        q.backward()
    dot = viz.draw_graph(q, names={"p": p}).source
    log_line = next(line for line in dot.splitlines() if "<B>Log</B>" in line)
    assert "[Inf]" in log_line and f'color="{NONFINITE_COLOR}"' in log_line
    p_line = next(line for line in dot.splitlines() if "<B>p</B>" in line)
    assert "[NaN]" in p_line and "nan" in p_line  # the gradient 0 * (1/0) is NaN
    assert "holds NaN or Inf" in dot  # legend
    assert f'color="{NONFINITE_COLOR}" penwidth="2.5"' in dot  # wires carrying NaN


def test_color_by_grad_shows_vanishing_and_exploding_gradients():
    small = autograd.tensor([1.0, 2.0], requires_grad=True)
    large = autograd.tensor([1.0, 2.0], requires_grad=True)
    loss = (small * 1e-8).sum() + (large * 1e4).sum()
    loss.backward()
    graph = viz.build_graph(loss, names={"small": small, "large": large})
    dot = viz.render_dot(graph, color_by_grad=True)
    small_line = next(line for line in dot.splitlines() if "<B>small</B>" in line)
    large_line = next(line for line in dot.splitlines() if "<B>large</B>" in line)
    assert f'fillcolor="{GRAD_COLORS[0][1]}"' in small_line
    assert f'fillcolor="{GRAD_COLORS[-1][1]}"' in large_line
    assert "(vanishing)" in dot and "(exploding)" in dot


# ---------------------------------------------------------------- modules


def test_model_names_parameters_and_draws_nested_module_clusters():
    model, loss = cnn_loss()
    graph = viz.build_graph(loss, model=model)
    dot = viz.render_dot(graph)
    by_path = {c.path: c for c in graph.clusters}
    # (loss: the .sum() after the model, made in no module)
    assert set(by_path) == {"features", "features.0", "features.1", "features.2", "classifier", "classifier.0",
                            "classifier.1", "loss"}  # fmt: skip
    conv = by_path["features.0"]
    assert conv.label == "features.0: Conv2d(3, 16, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))"
    assert conv.parent == by_path["features"].id and by_path["features"].parent is None
    assert f"subgraph {conv.id} {{" in dot and 'label="features.0: Conv2d(3, 16, kernel_size=(3, 3)' in dot
    assert 'label="features: Sequential"' in dot
    # nested in the DOT text: the conv's block opens inside the features block
    assert dot.index(f"subgraph {by_path['features'].id} ") < dot.index(f"subgraph {conv.id} ")
    weight = graph.find(model.features[0].weight)
    assert weight.name == "features.0.weight" and weight.cluster == conv.id
    conv_op = next(n for n in graph.nodes if n.op == "Conv2d")
    assert conv_op.cluster == conv.id and conv_op.value.shape == (2, 16, 8, 8)
    # names= gives the same names without clusters
    plain = viz.build_graph(loss, names=dict(model.named_parameters()))
    assert plain.find(model.classifier[1].bias).name == "classifier.1.bias" and plain.clusters == []


def test_depth_collapses_deeper_modules_into_one_node_with_shapes():
    model, loss = cnn_loss()
    graph = viz.build_graph(loss, model=model, depth=1)
    modules = {n.name: n for n in graph.nodes if n.kind == "module"}
    assert set(modules) == {"features.0", "features.1", "features.2", "classifier.0", "classifier.1"}
    assert [c.path for c in graph.clusters] == ["loss", "classifier", "features"]  # (loss: the .sum())
    pool = modules["features.2"]
    assert pool.inputs == ((2, 16, 8, 8),) and pool.outputs == ((2, 16, 4, 4),)
    assert modules["classifier.1"].params == ("classifier.1.weight", "classifier.1.bias")
    assert not [n for n in graph.nodes if n.kind == "leaf"]  # the parameters are inside their module
    dot = viz.render_dot(graph)
    assert "in (2, 256)" in dot and "out (2, 10)" in dot and "Linear(in_features=256, out_features=10" in dot
    assert "drawn as one node" in dot  # legend note
    # each module is one node: one wire between consecutive layers
    ids = {name: n.id for name, n in modules.items()}
    assert len(edge_line(dot, ids["features.1"], ids["features.2"])) == 1
    top = viz.build_graph(loss, model=model, depth=0)
    assert [n.name for n in top.nodes if n.kind == "module"] == ["loss", "classifier", "features"]
    assert len(top.nodes) < 6 and top.clusters == []


def test_module_clusters_need_record():
    model, loss = cnn_loss(record=False)
    dot = viz.draw_graph(loss, model=model).source
    assert "subgraph cluster_0" not in dot and "module boxes need" in dot
    assert "features.0.weight" in dot  # the parameters are still named


# ---------------------------------------------------------------- the backward view


def test_backward_view_has_backward_nodes_saved_values_and_accumulate_grad():
    x = autograd.tensor([1.0, -2.0], requires_grad=True)
    w = autograd.tensor([3.0, 4.0], requires_grad=True)
    with autograd.graph.record():
        loss = (x * w).sigmoid().sum()
    loss.backward(retain_graph=True)
    graph = viz.build_graph(loss, view="backward", names={"x": x, "w": w})
    dot = viz.render_dot(graph)
    ops = [n.op for n in graph.nodes if n.kind == "op"]
    assert ops == ["SumBackward", "SigmoidBackward", "MulBackward"]
    accumulate = [n for n in graph.nodes if n.kind == "accumulate"]
    assert [(n.op, n.name) for n in accumulate] == [("AccumulateGrad", "x"), ("AccumulateGrad", "w")]
    mul = next(n for n in graph.nodes if n.op == "MulBackward")
    saved = [e for e in graph.edges if e.kind == "saved" and e.dst == mul.id]
    assert [graph.node(e.src).op for e in saved] == ["saved[0]", "saved[1]"]  # x and w
    assert "saved[0]: [1.00, -2.00]" in dot and 'style="dashed" arrowhead="none"' in dot
    # gradients flow from MulBackward to the leaves, carrying dL/dx
    to_x = next(e for e in graph.edges if e.src == mul.id and e.dst == graph.find(x).id)
    np.testing.assert_allclose(to_x.grad, x.grad._data)
    sig = next(n for n in graph.nodes if n.op == "SigmoidBackward")
    assert [graph.node(e.src).op for e in graph.edges if e.kind == "saved" and e.dst == sig.id] == ["output"]


def test_backward_view_after_backward_says_saved_tensors_were_freed():
    model, loss = cnn_loss()
    dot = viz.draw_graph(loss, model=model, view="backward").source
    assert "Conv2dBackward" in dot and "AccumulateGrad" in dot and "saved tensors were freed" in dot
    L, _ = lecture_circuit()
    scalar_dot = viz.draw_graph(L, view="backward").source
    assert "SigmoidBackward" in scalar_dot and "MulBackward" in scalar_dot and "z: 0.73" in scalar_dot


# ---------------------------------------------------------------- big graphs


def scalar_chain(n):
    x = Scalar(1.0, label="x")
    y = x
    for _ in range(n):
        y = y * 1.0
    return y


def test_max_nodes_draws_the_first_nodes_and_a_summary():
    y = scalar_chain(50)
    graph = viz.build_graph(y, max_nodes=10)
    assert len(graph.nodes) == 11 and graph.nodes[-1].kind == "summary"
    assert graph.omitted_nodes == 52 - 10 and graph.omitted_edges == 51 - 9
    dot = viz.draw_graph(y, max_nodes=10).source
    assert "42 more nodes and 42 more edges not drawn (max_nodes=10)" in dot
    assert 'n10 -> n9 [style="dotted"' in dot  # where the drawing goes on
    assert "502 more nodes" in viz.draw_graph(scalar_chain(1000)).source  # draw_graph's default max_nodes=500


def test_walk_of_a_100000_node_chain_is_iterative():
    y = scalar_chain(100_000)
    limit = sys.getrecursionlimit()
    graph = viz.build_graph(y)  # the model only, no rendering
    assert sys.getrecursionlimit() == limit
    assert len(graph.nodes) == 100_002 and len(graph.edges) == 100_001
    assert graph.nodes[-1].name == "x" and graph.nodes[-1].kind == "leaf"


def test_dot_of_10000_nodes():
    # (how long it takes is a benchmark's business, not a unit test's: about a second here)
    x = Scalar(0.5, label="x")
    y = x
    for _ in range(5_000):
        y = y * 0.999 + x
    y.backward()
    dot = viz.draw_graph(y, max_nodes=None).source
    assert dot.count("[label=") >= 10_000


# ---------------------------------------------------------------- Graphviz missing


def test_missing_dot_gives_install_instructions(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))  # a PATH without Graphviz's `dot`
    L, _ = lecture_circuit()
    g = viz.draw_graph(L)  # building the model and the DOT text needs no `dot`
    assert "L = 0.73" in g.source
    for render in (lambda: g.pipe(format="svg"), lambda: g.render(tmp_path / "x"), g._repr_mimebundle_,
                   lambda: viz.save_steps_html(L, tmp_path / "steps.html")):  # fmt: skip
        with pytest.raises(GraphvizNotFoundError) as error:
            render()
        message = str(error.value)
        assert "apt-get install graphviz" in message and "brew install graphviz" in message
        assert "conda install" in message
        assert isinstance(error.value, graphviz.ExecutableNotFound)


# ---------------------------------------------------------------- stepping through backward


def engine_order(L):
    """Node ids in the order the engine processes them (observer of a plain run_backward)."""
    graph = viz.build_graph(L)
    ids = {id(n.obj): n.id for n in graph.nodes if n.kind != "output"}
    order = []
    run_backward([(L, 1.0)], retain_graph=True, observer=lambda node, grad, grads: order.append(ids[id(node)]))
    return order


def test_backward_steps_follow_the_engine_and_end_with_the_leaves_grads():
    expected_order = engine_order(lecture_circuit(backward=False)[0])
    L, leaves = lecture_circuit(backward=False)
    frames = viz.backward_steps(L)
    assert [f.node_id for f in frames] == expected_order and len(frames) == 10
    graph = frames[0].graph
    assert graph.node(frames[0].node_id).op == "sigmoid"
    for name, expected in EXPECTED.items():  # the real backward ran: leaves hold their .grad
        assert f"{leaves[name].grad:.2f}" == expected
        assert frames[-1].grads[graph.find(leaves[name]).id] == leaves[name].grad
    # each frame names what the engine did
    assert frames[0].caption == "step 1 of 10: L (sigmoid) received 1.00 and sends 0.20 to s3 (+)"
    last = frames[-1].source()
    for expected in EXPECTED.values():
        assert grad_text(expected) in last


def test_backward_steps_show_the_running_sum_of_a_value_used_several_times():
    a = Scalar(3.0, label="a")
    b = a * a + a  # a receives three gradients: 1 (from +), 3 and 3 (from *)
    b.label = "b"
    frames = viz.backward_steps(b)
    graph = frames[0].graph
    a_id = graph.find(a).id
    assert [graph.node(f.node_id).name or graph.node(f.node_id).op for f in frames] == ["b", "*", "a"]
    assert frames[0].grads[a_id] == 1.0 and frames[0].counts[a_id] == 1
    assert frames[1].grads[a_id] == 7.0 and frames[1].counts[a_id] == 3
    first = frames[0].to_graph()
    assert first.find(a).note == "sum of 1 of 3 gradients" and first.find(a).mark == "waiting"
    emitted = [first.edges[e] for e, _ in frames[0].emitted]
    assert all(e.mark == "emitted" for e in emitted) and len(emitted) == 2
    dot = frames[0].source()
    assert "sum of 1 of 3 gradients" in dot and 'fillcolor="#fde047"' in dot  # the current node
    assert frames[-1].grads[a_id] == a.grad == 7.0


def test_backward_steps_on_tensors_fill_grad_once():
    x = autograd.tensor([1.0, -2.0], requires_grad=True)
    twin = autograd.tensor([1.0, -2.0], requires_grad=True)
    (twin * twin + twin).sum().backward()
    with autograd.graph.record():
        y = (x * x + x).sum()
    frames = viz.backward_steps(y, names={"x": x})
    np.testing.assert_allclose(x.grad._data, twin.grad._data)  # exactly one backward ran
    np.testing.assert_allclose(frames[-1].grads[frames[-1].graph.find(x).id], x.grad._data)
    assert frames[-1].caption.endswith("(a leaf: this is its final .grad)")
    with pytest.raises(RuntimeError, match="already freed"):  # backward freed the saved tensors
        viz.backward_steps(y)
    np.testing.assert_allclose(x.grad._data, twin.grad._data)


def test_backward_steps_under_detect_anomaly_stop_at_the_op_that_made_an_inf():
    x = autograd.tensor([0.0, 1.0], requires_grad=True)
    with autograd.graph.record():
        y = x.sqrt().sum()  # d sqrt / dx at 0 is inf
    with autograd.detect_anomaly(), np.errstate(divide="ignore"):
        with pytest.raises(RuntimeError, match="SqrtBackward returned NaN or Inf"):
            viz.backward_steps(y, names={"x": x})
    with np.errstate(divide="ignore"):  # without anomaly detection the inf passes
        frames = viz.backward_steps(y, names={"x": x})
    assert np.isinf(frames[-1].grads[frames[-1].graph.find(x).id][0])


def test_backward_steps_of_a_vector_root_need_its_gradient():
    x = autograd.tensor([1.0, -2.0], requires_grad=True)
    y = x * 3.0
    with pytest.raises(RuntimeError, match="gradient="):
        viz.backward_steps(y)
    frames = viz.backward_steps(y, [1.0, 0.5], names={"x": x})
    np.testing.assert_allclose(x.grad._data, [3.0, 1.5])
    assert [f.caption for f in frames] == [
        "step 1 of 2: Mul received [1.00, 0.50] and sends [3.00, 1.50] to x",
        "step 2 of 2: x received [3.00, 1.50] (a leaf: this is its final .grad)",
    ]


def test_backward_steps_do_not_accumulate_twice():
    L, leaves = lecture_circuit()  # backward already ran
    viz.backward_steps(L)
    viz.backward_steps(L)
    assert {k: f"{v.grad:.2f}" for k, v in leaves.items()} == EXPECTED
    x = autograd.tensor([1.0, -2.0], requires_grad=True)
    with autograd.graph.record():
        y = (x * x).sum()
    y.backward(retain_graph=True)
    frames = viz.backward_steps(y)
    np.testing.assert_allclose(x.grad._data, [2.0, -4.0])
    np.testing.assert_allclose(frames[-1].grads[frames[-1].graph.find(x).id], [2.0, -4.0])
    z = (x * x).sum()  # outside record(): the leaves' gradients say that backward already ran
    x.grad = None
    z.backward(retain_graph=True)
    viz.backward_steps(z, retain_graph=True)
    np.testing.assert_allclose(x.grad._data, [2.0, -4.0])
    viz.backward_steps(z, accumulate=True)
    np.testing.assert_allclose(x.grad._data, [4.0, -8.0])
    w = autograd.tensor([1.0, 2.0], requires_grad=True)
    (w * 3).sum().backward()  # gradients from another graph: a new graph still accumulates
    viz.backward_steps((w * w).sum())
    np.testing.assert_allclose(w.grad._data, [5.0, 7.0])


def test_backward_steps_check_their_gradients_like_backward():
    a = autograd.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(ValueError, match="1 gradient.* for 2 roots"):
        viz.backward_steps([a * 2, a * 3], [autograd.ones(2)])
    with pytest.raises(RuntimeError, match=r"root 0 has shape \(3,\) but the root has shape \(2,\)"):
        viz.backward_steps(a * 2, autograd.ones(3))
    assert a.grad is None  # nothing ran
    with pytest.raises(ValueError, match="empty list"):
        viz.save_steps_html([], "unused.html")
    with pytest.raises(ValueError, match="max_nodes must be an int"):
        viz.draw_graph(a * 2, max_nodes=2.5)


def test_a_wire_shows_what_flowed_along_it_not_a_hooked_or_shared_total():
    x = autograd.tensor([1.0, 2.0], requires_grad=True)
    with autograd.graph.record():
        y = x * 1
        y.register_hook(lambda g: g * 10)  # y's total becomes 10; along y -> sum flowed 1
        z = y.sum()
        h = x * 2
        other = (h * h).sum()  # h's other use, not in the drawing of z2
        z2 = h.sum()
    (z + z2 + other).backward()
    graph = viz.build_graph(z)
    y_to_sum = next(e for e in graph.edges if e.src == graph.find(y).id)
    np.testing.assert_array_equal(y_to_sum.grad, [1.0, 1.0])
    graph2 = viz.build_graph(z2)
    h_to_sum = next(e for e in graph2.edges if e.src == graph2.find(h).id)
    np.testing.assert_array_equal(h_to_sum.grad, [1.0, 1.0])  # not h's total [5, 9]


@needs_dot
def test_control_characters_in_labels_still_render():
    a = Scalar(2.0, label="tab\there\x00nul")
    svg = viz.draw_graph(a * 3).pipe(format="svg").decode()
    assert "tab here nul" in html.unescape(svg)


def test_step_through_without_ipywidgets_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "ipywidgets", None)  # makes `import ipywidgets` fail
    L, _ = lecture_circuit(backward=False)
    with pytest.raises(ImportError, match="pip install ipywidgets"):
        viz.step_through(L)


def test_plot_activations_of_a_layer_outside_the_model_is_an_error():
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU())
    with pytest.raises(ValueError, match="did not run in the model's forward pass"):
        viz.plot_activations(model, autograd.randn(1, 6, 6), layer=nn.ReLU())
