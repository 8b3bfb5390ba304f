"""A forward that raises names the op, each operand's shape and the layer, and can be drawn."""

import shutil

import numpy as np
import pytest

import autograd
import nn
import viz

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's `dot` is not installed")


def failing_matmul():
    x = autograd.tensor(np.ones((4, 3), np.float32), requires_grad=True)
    W = autograd.tensor(np.ones((4, 3), np.float32), requires_grad=True)
    h = (x * 2).relu()
    with pytest.raises(ValueError, match="matmul shapes") as caught:
        h @ W
    return caught.value


def test_the_error_names_the_op_and_each_operands_shape():
    error = failing_matmul()
    assert error.dagrad_op == "MatMul" and [t.shape for t in error.dagrad_inputs] == [(4, 3), (4, 3)]
    assert error.__notes__ == [
        "while running MatMul (input 0: shape (4, 3) float32; input 1: shape (4, 3) float32); "
        "viz.draw_graph(error) draws the graph up to this op"
    ]


def test_the_error_names_the_innermost_layer():
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Sequential(nn.Linear(5, 2)))
    with pytest.raises(ValueError, match="has 4 features but the weight of shape") as caught:
        model(autograd.ones(2, 3))
    assert caught.value.__notes__ == ["in the layer Linear(in_features=5, out_features=2, bias=True) (input (2, 4))"]
    assert caught.value.dagrad_op == "Linear"  # refused before any op ran: the layer stands for it


@needs_dot
def test_draw_graph_of_the_error_shows_the_graph_up_to_the_failing_op():
    graph = viz.build_graph(failing_matmul())
    failed = [n for n in graph.nodes if n.kind == "failed"]
    assert len(failed) == 1 and failed[0].op == "MatMul failed" and "matmul shapes (4, 3)" in failed[0].name
    assert {n.op for n in graph.nodes} >= {"Mul", "ReLU", "MatMul failed"}
    assert not [n for n in graph.nodes if n.kind == "output"]  # the failed op made no output
    svg = viz.draw_graph(failing_matmul()).pipe(format="svg").decode()
    assert "MatMul failed" in svg


@needs_dot
def test_a_layer_refusing_its_input_is_drawn_inside_the_model():
    model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Conv2d(3, 2, 3))
    with autograd.graph.record(), pytest.raises(ValueError, match="expects 3 input channels") as caught:
        model(autograd.randn(1, 1, 8, 8))
    graph = viz.build_graph(caught.value, model=model)
    assert [n.op for n in graph.nodes if n.kind == "failed"] == ["Conv2d failed"]


def test_an_error_from_elsewhere_cannot_be_drawn():
    with pytest.raises(TypeError, match="not raised by a dagrad op's forward"):
        viz.draw_graph(ValueError("unrelated"))
