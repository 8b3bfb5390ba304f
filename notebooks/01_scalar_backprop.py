# %% [markdown]
# # Backprop on a scalar circuit
#
# Lecture sections 1 to 3. We take one small function and compute its gradients in four
# ways, always getting the same numbers:
#
# 1. by hand, in plain Python ("flat" backprop): a forward pass, then a backward pass that
#    applies the chain rule one gate at a time;
# 2. with `autograd.Scalar`, which records the circuit as it runs and then does the backward
#    pass for us;
# 3. with tensors and our own `autograd.Function` gates (the lecture's multiply gate);
# 4. as a vector function of x = [x0, x1].
#
# Then we let dagrad write the backward pass as flat code, see why gradients *add up*
# (`+=`), draw the circuit with its values and gradients, and replay the backward pass one
# node at a time, as arithmetic.
#
# The function is a single neuron with a sigmoid:
#
# **f(w, x) = sigmoid(w0 x0 + w1 x1 + w2)**, with sigmoid(s) = 1 / (1 + e^-s)
#
# at w0 = 2, x0 = -1, w1 = -3, x1 = -2, w2 = -3.

# %%
import math

from IPython.display import HTML

import autograd
import viz
from autograd import Function, Scalar
from viz.flat import flat_backprop
from viz.steps import StepView, backward_steps, group_steps, step_through

LECTURE_GRADS = {"w0": -0.20, "x0": 0.39, "w1": -0.39, "x1": -0.59, "w2": 0.20}  # the lecture's numbers, two decimals

# %% [markdown]
# ## 1. Flat backprop, by hand
#
# The forward pass breaks f into small steps, one gate each, and keeps every intermediate
# value. Backward will need them.

# %%
w0, x0, w1, x1, w2 = 2.0, -1.0, -3.0, -2.0, -3.0

s0 = w0 * x0  # multiply gate
s1 = w1 * x1  # multiply gate
s2 = s0 + s1  # add gate
s3 = s2 + w2  # add gate
L = 1 / (1 + math.exp(-s3))  # sigmoid gate

print(f"s0 = {s0}, s1 = {s1}, s2 = {s2}, s3 = {s3}, L = {L:.4f}")
assert round(L, 2) == 0.73

# %% [markdown]
# The backward pass goes through the same steps in reverse order. Each gate gets the
# gradient of L with respect to its output (the *upstream* gradient) and multiplies it by
# its own *local* gradient to get the gradient of each of its inputs:
#
# * the start: dL/dL = 1;
# * the sigmoid gate: its local gradient is (1 - L) L, which needs only its output L;
# * an add gate *copies* the upstream gradient to both inputs (its local gradients are 1);
# * a multiply gate *swaps* its inputs: for z = x y, dL/dx = dL/dz * y and dL/dy = dL/dz * x.

# %%
grad_L = 1.0
grad_s3 = grad_L * (1 - L) * L  # sigmoid gate

grad_s2 = grad_s3  # add gate: copy
grad_w2 = grad_s3

grad_s0 = grad_s2  # add gate: copy
grad_s1 = grad_s2

grad_w1 = grad_s1 * x1  # multiply gate: swap
grad_x1 = grad_s1 * w1
grad_w0 = grad_s0 * x0
grad_x0 = grad_s0 * w0

hand = {"w0": grad_w0, "x0": grad_x0, "w1": grad_w1, "x1": grad_x1, "w2": grad_w2}
print({name: round(g, 2) for name, g in hand.items()})
assert round(grad_s3, 2) == 0.20
assert {name: round(g, 2) for name, g in hand.items()} == LECTURE_GRADS

# %% [markdown]
# These are the lecture's numbers: L = 0.73 and the gradients w0: -0.20, x0: 0.39,
# w1: -0.39, x1: -0.59, w2: 0.20. The positive gradient of x0 says that making x0 a bit
# larger makes L larger, by about 0.39 times the change. A quick check with a small nudge:


# %%
def f(w0, x0, w1, x1, w2):
    return 1 / (1 + math.exp(-(w0 * x0 + w1 * x1 + w2)))


h = 1e-6
nudged = (f(w0, x0 + h, w1, x1, w2) - f(w0, x0 - h, w1, x1, w2)) / (2 * h)
print(f"(f(x0 + h) - f(x0 - h)) / 2h = {nudged:.6f}   backprop: {grad_x0:.6f}")
assert abs(nudged - grad_x0) < 1e-8

# %% [markdown]
# ## 2. The same circuit with `autograd.Scalar`
#
# A `Scalar` holds one number. Every operation on it makes a new `Scalar` that remembers
# its inputs and its op, so the code below records the circuit while computing it. Then
# `L.backward()` walks that record in reverse, doing what we did by hand. Every node, leaf
# or not, keeps its gradient in `.grad`. The `label`s are names for printing and drawing.


# %%
def circuit():
    """The lecture's circuit on Scalar nodes; returns (leaves, intermediate nodes)."""
    w0, x0, w1, x1, w2 = (Scalar(v, label=n) for v, n in zip((2, -1, -3, -2, -3), ("w0", "x0", "w1", "x1", "w2")))
    s0 = w0 * x0
    s1 = w1 * x1
    s2 = s0 + s1
    s3 = s2 + w2
    L = s3.sigmoid()
    for node, name in zip((s0, s1, s2, s3, L), ("s0", "s1", "s2", "s3", "L")):
        node.label = name
    return (w0, x0, w1, x1, w2), (s0, s1, s2, s3, L)


leaves, (s0, s1, s2, s3, L) = circuit()
L.backward()

for node in (*leaves, s0, s1, s2, s3, L):
    print(f"{node.label:>2} ({node.op or 'leaf':>7}): value {node.data:6.2f}   grad {node.grad:6.2f}")

grads = {node.label: round(node.grad, 2) for node in leaves}
assert round(L.data, 2) == 0.73
assert grads == LECTURE_GRADS
assert all(abs(node.grad - hand[node.label]) < 1e-12 for node in leaves)  # the same as by hand

# %% [markdown]
# `viz.flat_backprop(L)` writes what the engine just did as flat code: one line per gradient,
# in the engine's order, with the numbers as comments. It is our hand-written backward pass,
# line for line. (It replays the pass without touching any `.grad`.)

# %%
code = flat_backprop(L)
print(code)
assert code.code_lines == [
    "grad_L = 1", "grad_s3 = grad_L * (1 - L) * L",
    "grad_w2 = grad_s3", "grad_s2 = grad_s3", "grad_s0 = grad_s2", "grad_s1 = grad_s2",
    "grad_w1 = grad_s1 * x1", "grad_x1 = grad_s1 * w1", "grad_w0 = grad_s0 * x0", "grad_x0 = grad_s0 * w0",
]  # fmt: skip

# %% [markdown]
# ### When a value is used twice, its gradients add up: `+=`
#
# In our circuit every value feeds one gate. When a value feeds several gates, it influences
# L along several paths, and the chain rule adds the contributions. Take b = a x a + a at
# a = 3: a reaches b through both inputs of the multiply gate and through the add gate, so
# db/da = 3 + 3 + 1 = 7 (indeed d/da (a² + a) = 2a + 1 = 7). In flat code the first
# contribution is assigned and the others are added with `+=`:

# %%
a = Scalar(3.0, label="a")
b = a * a + a
b.label = "b"
b.backward()
print(flat_backprop(b))
assert a.grad == 7.0 and flat_backprop(b).code_lines[-1] == "grad_a += grad_mul1 * a"

# %% [markdown]
# The engine does the same: every node *adds* what it receives to `.grad`. That `+=` has a
# consequence that PyTorch shares. `.grad` keeps adding up across `backward()` calls too, so
# gradients are **not** reset for you:
#
# * a graph can be backpropagated through only once: a second `L.backward()` raises an error
#   (as in PyTorch), instead of silently doubling every gradient;
# * `L.backward(retain_graph=True)` keeps the graph for another pass, and the next
#   `backward()` then *adds* the same gradients again;
# * `zero_grad()` sets the gradients back to 0. A training loop calls it (or
#   `optimizer.zero_grad()`) before each `backward()`, so that each step sees only its own
#   gradients.

# %%
try:
    b.backward()  # the second time
except RuntimeError as error:
    print("RuntimeError:", str(error).split(". ")[0])
else:
    raise AssertionError("a second backward() must fail")

a = Scalar(3.0, label="a")
b = a * a + a
b.backward(retain_graph=True)
b.backward()  # allowed now, and it adds: 7 + 7
print(f"after two passes a.grad = {a.grad}")
assert a.grad == 14.0
b.zero_grad()  # back to 0 for the whole graph
print(f"after zero_grad() a.grad = {a.grad}")
assert a.grad == 0.0

# %% [markdown]
# ## 3. Gates as `autograd.Function`s on tensors
#
# Lecture section 3: each gate is a `Function` with a `forward` that saves what backward
# needs (`ctx.save_for_backward`) and a `backward` that multiplies the upstream gradient
# by the local one. Here is the lecture's multiply gate, written for
# `torch.autograd.Function`, with `torch` replaced by `autograd`:


# %%
class Multiply(autograd.Function):
    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        z = x * y
        return z

    @staticmethod
    def backward(ctx, grad_z):
        x, y = ctx.saved_tensors
        grad_x = y * grad_z
        grad_y = x * grad_z
        return grad_x, grad_y


# %% [markdown]
# And a sigmoid gate. Its local gradient is (1 - L) L, so it saves its *output* for
# backward, not its input.


# %%
class Sigmoid(Function):
    @staticmethod
    def forward(ctx, s):
        out = 1 / (1 + (-s).exp())
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad_out):
        (out,) = ctx.saved_tensors
        return grad_out * (1 - out) * out


# %% [markdown]
# Now the circuit again, on 0-d tensors. The additions use the built-in `+`.

# %%
names = ("w0", "x0", "w1", "x1", "w2")
tensors = [autograd.tensor(v, dtype=autograd.float64, requires_grad=True) for v in (2.0, -1.0, -3.0, -2.0, -3.0)]
tw0, tx0, tw1, tx1, tw2 = tensors

L = Sigmoid.apply(Multiply.apply(tw0, tx0) + Multiply.apply(tw1, tx1) + tw2)
L.backward()

print(f"L = {L.item():.2f}   L.grad_fn = {L.grad_fn}")
grads = {n: round(t.grad.item(), 2) for n, t in zip(names, tensors)}
print(grads)
assert round(L.item(), 2) == 0.73
assert grads == LECTURE_GRADS

# %% [markdown]
# ## 4. The gradient as a vector function of x
#
# Keep the weights fixed and look at f as a function of the vector x = [x0, x1]. Its
# gradient is a vector with the same shape as x: how L changes when each component of x
# moves. One `Multiply` on length-2 tensors and a `sum` replace the two multiply gates and
# the first add gate.

# %%
w = autograd.tensor([2.0, -3.0], dtype=autograd.float64)  # w0, w1 (no gradient needed)
b = autograd.tensor(-3.0, dtype=autograd.float64)  # w2
x = autograd.tensor([-1.0, -2.0], dtype=autograd.float64, requires_grad=True)

L = Sigmoid.apply(Multiply.apply(w, x).sum() + b)
L.backward()

print(f"L = {L.item():.2f}   dL/dx = {[round(g, 2) for g in x.grad.tolist()]}   shape {x.grad.shape}")
assert round(L.item(), 2) == 0.73
assert [round(g, 2) for g in x.grad.tolist()] == [0.39, -0.59]  # about [0.40, -0.60]
assert x.grad.shape == x.shape and w.grad is None

# %% [markdown]
# ## 5. The circuit, drawn
#
# `viz.draw_graph` draws a recorded circuit the way the lecture does: leaves on the left,
# one oval per gate, each wire labelled with its value (black, forward) and, after backward,
# its gradient (red). It returns a Graphviz graph, which Jupyter shows inline.

# %%
leaves, (s0, s1, s2, s3, L) = circuit()
L.backward()
viz.draw_graph(L)

# %% [markdown]
# With `local_grads=True` every wire also shows the local gradient of the gate it enters
# (blue). Along every wire, **upstream x local = downstream**. For example, the wire from
# x1 into the multiply gate s1: the gate's upstream gradient is 0.197 (0.20 rounded), its
# local gradient for x1 is w1 = -3, and 0.197 x -3 = -0.59.

# %%
viz.draw_graph(L, local_grads=True)

# %%
upstream, local = s1.grad, leaves[2].data  # dL/ds1, and ds1/dx1 = w1
print(f"upstream {upstream:.2f} x local {local:.2f} = {upstream * local:.2f} = dL/dx1 {leaves[3].grad:.2f}")
assert math.isclose(upstream * local, leaves[3].grad)

# %% [markdown]
# ## 6. Backward, one step at a time
#
# `backward_steps(L)` runs the backward pass and records one frame each time the engine
# runs a node: the gradient the node received, and what it sent to each of its inputs. (It
# *is* the backward pass, so we call it on a fresh circuit instead of `L.backward()`.)
# `group_steps` turns the frames into the steps we read: each says, as arithmetic, the node's
# **upstream** gradient, its **local** gradient for each input, and the product sent to
# that input. The leaves only store what they received, all in the last step.

# %%
leaves, (s0, s1, s2, s3, L) = circuit()
frames = backward_steps(L)
steps = group_steps(frames)
for step in steps:
    print(step.caption, end="\n\n")
assert steps[3].lines[1] == "upstream 0.20 x local -2.00 = -0.39 -> w1   (local = x1)"
assert len(steps) == 6 and steps[-1].title == "the leaves store their gradients in .grad"

# %% [markdown]
# The engine starts at the output L with dL/dL = 1 and ends at the leaves. A node is
# processed only after every node that uses it, because only then is its gradient
# complete. The engine gets that order from creation numbers: a gate's inputs always exist
# before the gate, so running the most recently created waiting gate first is always safe.
# The leaves use nothing, so they come last. The cell below checks that order and the
# final gradients.

# %%
order = [frame.graph.node(frame.node_id).name for frame in frames]
print(" -> ".join(order))
assert order[0] == "L" and steps[0].caption.startswith("step 1 of 6: L = sigmoid(s3)")
assert order[-1] in names and sorted(order) == sorted([*names, "s0", "s1", "s2", "s3", "L"])
for node in (s0, s1, s2, s3, L):  # each gate comes before the nodes it got its inputs from
    assert all(order.index(node.label) < order.index(parent.label) for parent in node._parents)
assert {leaf.label: round(leaf.grad, 2) for leaf in leaves} == LECTURE_GRADS

# %% [markdown]
# Each step is also a picture, always the same drawing (nothing moves from step to step), with
# only the gradients known so far written on it. Here is step 4: the multiply gate s1
# (yellow) has received 0.197 and sends 0.197 x x1 = -0.39 to w1 and 0.197 x w1 = -0.59 to
# x1 (red wires). Nodes with a green border are done; a red border means a node holds its
# gradient but has not run yet (s0, and the leaves, which store theirs in the last step).

# %%
view = StepView(frames)
print(steps[3].caption)
HTML(view.svg(4))

# %% [markdown]
# In Jupyter, `step_through` shows all the steps with play / pause, previous / next and a
# slider, numbered from 1 (with the slider focused, the arrow keys move it). It needs a
# running kernel; on a static page only the first step shows.
# `viz.save_steps_html(L, "steps.html")` writes the same as one page that works anywhere,
# with the arrow keys too, and with `model=net, depth=1` it steps through a network module by
# module.

# %%
step_through(frames)

# %% [markdown]
# **To remember:** backprop is the chain rule applied gate by gate, in reverse order. Each
# gate multiplies the upstream gradient by its local gradient: add gates copy it, multiply
# gates swap their inputs, and the sigmoid needs only its output, (1 - L) L.
