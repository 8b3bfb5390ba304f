"""The core's structure, as the lecture explains it: the engine's node protocol, the tensor
entry points apart from the traversal, one table of Scalar gates, and the two ways a built-in
op's backward runs (numpy arrays in a first-order pass, Tensors under create_graph)."""

import inspect
import math

import numpy as np
import pytest

import autograd
from autograd import Scalar, backprop, engine
from autograd.engine import Node, OpNode, TensorNode, TensorOpNode, run_backward
from autograd.function import Function, Op
from autograd.scalar import GATES
from viz.flat import scalar_rule
from viz.graph import scalar_op
from viz.steps import backward_steps


class Double(Function):
    """A user's Function: its backward always works on Tensors."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * 2

    @staticmethod
    def backward(ctx, grad):
        return grad * 2


class Tell(Op):
    """A built-in-style op whose backward reports the type of what it is handed."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x._data * 2

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        raise ValueError(f"{type(grad).__name__} {type(x).__name__}")


# ---------------------------------------------------------------- the node protocol


def test_tensor_leaves_function_nodes_and_scalars_are_engine_nodes():
    w = autograd.tensor([1.0, 2.0], requires_grad=True)
    builtin = (w * w).grad_fn
    user = Double.apply(w).grad_fn
    assert isinstance(w, Node) and isinstance(w, TensorNode)
    assert not isinstance(w, OpNode)  # a leaf passes nothing on: the engine never calls its _backward
    for node in (builtin, user):
        assert isinstance(node, TensorOpNode) and isinstance(node, OpNode) and isinstance(node, TensorNode)
    a = Scalar(2.0)
    for node in (a, a * 3):
        assert isinstance(node, OpNode) and not isinstance(node, TensorNode)
    assert not isinstance(object(), Node)


def test_the_protocols_name_every_attribute_the_traversal_reads():
    source = inspect.getsource(run_backward)
    read = {"_parents", "_seq", "_receives", "_receive", "_backward", "_check_grads", "_out_shape", "_out_dtype"}
    read |= {"_fit", "_release"}
    declared = set()
    for protocol in (Node, OpNode, TensorNode, TensorOpNode):
        declared |= {name for name in vars(protocol) if name.startswith("_") and not name.startswith("__")}
        declared |= set(getattr(protocol, "__annotations__", {}))
    assert read <= declared
    assert all(f".{name}" in source for name in read)


def test_the_traversal_fits_on_one_screen_and_knows_no_tensors():
    assert len(inspect.getsource(run_backward).splitlines()) <= 80  # one screen, docstring included
    assert "autograd.tensor" not in inspect.getsource(engine)


# ---------------------------------------------------------------- the tensor entry points


def test_backward_and_grad_live_in_backprop():
    assert autograd.backward is backprop.backward and autograd.grad is backprop.grad
    assert autograd.autograd.grad is backprop.grad
    assert not hasattr(engine, "backward") and not hasattr(engine, "grad")  # the traversal knows no tensors


def test_backward_steps_checks_its_root_gradient_as_backward_does():
    y = autograd.tensor([1.0, 2.0, 3.0], requires_grad=True) * 2
    with pytest.raises(RuntimeError, match="only for one-element outputs, but the output has shape \\(3,\\)"):
        y.backward(retain_graph=True)
    with pytest.raises(RuntimeError, match="only for one-element outputs, but root 0 has shape \\(3,\\)"):
        backward_steps(y)
    with pytest.raises(RuntimeError, match="gradient for the output has shape \\(2,\\) but the output has shape \\(3,"):
        y.backward(np.ones(2), retain_graph=True)
    with pytest.raises(RuntimeError, match="gradient for root 0 has shape \\(2,\\) but the root has shape \\(3,\\)"):
        backward_steps(y, np.ones(2))
    with pytest.raises(RuntimeError, match="root 0 does not require grad"):
        backward_steps(autograd.tensor(1.0))
    seed = backprop.root_gradient(y, [1, 2, 3], "y")
    assert seed.dtype == y.dtype and seed.tolist() == [1.0, 2.0, 3.0]


# ---------------------------------------------------------------- one table of Scalar gates

X, Y, C, G = 0.7, -1.3, 2.5, 0.9


def _make(gate):
    """A node of this gate, made by its forward: two Scalars, a Scalar and a constant, or one Scalar."""
    x = Scalar(X)
    if len(gate.rule) == 2:
        return gate.forward(x, Scalar(Y))
    if len(inspect.signature(gate.forward).parameters) == 1:
        return gate.forward(x)
    return gate.forward(x, C)


def test_every_gate_is_made_by_its_forward_and_named_by_the_table():
    made = {back: _make(gate) for back, gate in GATES.items()}
    for back, node in made.items():
        gate = GATES[back]
        assert node._back is gate.backward is back, gate.name
        assert node.op == gate.op and node._backward_name() == gate.name
        assert gate.name.endswith("Backward") and len(gate.rule) == len(node._parents)
    # the operators of Scalar are the forwards in the table
    assert Scalar.__mul__ in [gate.forward for gate in GATES.values()]
    assert {type(Scalar(1.0) - 2.0), type(2.0 ** Scalar(1.0))} == {Scalar}


@pytest.mark.parametrize("back", list(GATES), ids=[f"{g.name}:{g.label}" for g in GATES.values()])
def test_each_gates_viz_rule_is_its_backward(back):
    """The formula viz shows for each input, evaluated, is what the gate's backward returns."""
    node = _make(GATES[back])
    values = {"g": G, "x": X, "y": Y, "z": node.data}
    expected = node._back(node, G)
    for k in range(len(node._parents)):
        text = scalar_rule(node, k).format(**{name: f"({v!r})" for name, v in values.items()})
        assert eval(text, {"log": math.log}) == pytest.approx(expected[k], rel=1e-12), text


def test_gate_labels_and_what_backward_keeps():
    x = Scalar(X)
    assert [scalar_op(n) for n in (x * 3, x - 2, 2 - x, 3 / x, x**2, 2**x, x.relu())] == [
        "* 3", "+ -2", "2 -", "3 /", "** 2", "2 **", "relu"
    ]  # fmt: skip
    for gate in GATES.values():  # a gate that saves nothing can run backward twice (PyTorch's rule)
        node = _make(gate)
        node.backward()
        if gate.saved:
            with pytest.raises(RuntimeError, match=f"second time.*in {gate.name}"):
                node.backward()
        else:
            node.backward()


# ---------------------------------------------------------------- Op._backward: arrays or Tensors


def test_a_builtin_backward_gets_arrays_first_order_and_tensors_under_create_graph():
    w = autograd.tensor([1.0, 2.0], requires_grad=True)
    y = Tell.apply(w).sum()
    with pytest.raises(ValueError, match="ndarray ndarray"):
        y.backward(retain_graph=True)
    assert y.grad_fn._parents[0]._arrays is False  # reset even though backward raised
    with pytest.raises(ValueError, match="Tensor Tensor"):
        autograd.grad(y, w, create_graph=True)


def test_a_users_function_gets_tensors_in_both_passes():
    w = autograd.tensor([1.0, 2.0], requires_grad=True)
    (g,) = autograd.grad(Double.apply(w).sum(), w, create_graph=True)
    assert g.tolist() == [2.0, 2.0] and g.requires_grad is False  # (2 is a constant: no graph to keep)
    Double.apply(w).sum().backward()
    assert w.grad.tolist() == [2.0, 2.0]
