# %% [markdown]
# # Custom Functions, gradcheck, hooks and anomaly detection
#
# Every op in dagrad is an `autograd.Function` with a `forward` and a `backward`, the same
# API as `torch.autograd.Function` (lecture section 3). This notebook covers:
#
# 1. writing your own Function: a sigmoid whose backward needs only its output;
# 2. the lecture's multiply gate, copied with `torch` replaced by `autograd`;
# 3. checking a backward against finite differences with `gradcheck` and `gradgradcheck`,
#    and what the error looks like when the backward is wrong;
# 4. looking at gradients in the middle of the graph with hooks and `retain_grad`;
# 5. finding where a NaN gradient comes from with `detect_anomaly`.

# %%
import os
import re
import sys

import numpy as np

import autograd
from autograd import Function, GradcheckError, gradcheck, gradgradcheck

# %% [markdown]
# ## 1. A sigmoid Function that saves its output
#
# sigma(x) = 1 / (1 + e^-x) has the local gradient sigma(x) (1 - sigma(x)), so backward
# needs only the output. `forward` passes its result to `ctx.save_for_backward` and
# `backward` gets it back from `ctx.saved_tensors`. It then multiplies the upstream gradient
# by the local one: **upstream x local**, the rule behind every backward.
#
# `forward` is not recorded in the graph; the `apply` call is recorded as one node, and
# that node's backward is the one we write.


# %%
class Sigmoid(Function):
    @staticmethod
    def forward(ctx, x):
        out = 1 / (1 + (-x).exp())
        ctx.save_for_backward(out)  # the output itself: backward needs nothing else
        return out

    @staticmethod
    def backward(ctx, grad_out):
        (out,) = ctx.saved_tensors
        return grad_out * out * (1 - out)


# %% [markdown]
# Here it is in the lecture's circuit, L = sigmoid(w0 x0 + w1 x1 + w2) with
# w0=2, x0=-1, w1=-3, x1=-2, w2=-3. The lecture's numbers are L = 0.73 and gradients
# w0: -0.20, x0: 0.39, w1: -0.39, x1: -0.59, w2: 0.20.

# %%
names = ["w0", "x0", "w1", "x1", "w2"]
values = [2.0, -1.0, -3.0, -2.0, -3.0]
w0, x0, w1, x1, w2 = (autograd.tensor(v, dtype=autograd.float64, requires_grad=True) for v in values)
L = Sigmoid.apply(w0 * x0 + w1 * x1 + w2)
L.backward()

print(f"L = {L.item():.2f}   grad_fn: {L.grad_fn}")
grads = {n: round(t.grad.item(), 2) for n, t in zip(names, (w0, x0, w1, x1, w2))}
print(grads)
assert round(L.item(), 2) == 0.73
assert grads == {"w0": -0.20, "x0": 0.39, "w1": -0.39, "x1": -0.59, "w2": 0.20}
print(f"local gradient of the sigmoid gate: (1 - L) * L = {(1 - L.item()) * L.item():.2f}")

# %% [markdown]
# ## 2. The lecture's multiply gate
#
# This is the code from the lecture, which was written for `torch.autograd.Function`. The
# only change is `torch` -> `autograd`. For z = x * y the gate "swaps" its inputs:
# dz/dx = y and dz/dy = x.


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


x = autograd.tensor(3.0, requires_grad=True)
y = autograd.tensor(-4.0, requires_grad=True)
z = Multiply.apply(x, y)
z.backward()
print(f"z = {z.item()}, dz/dx = {x.grad.item()}, dz/dy = {y.grad.item()}")
assert (z.item(), x.grad.item(), y.grad.item()) == (-12.0, -4.0, 3.0)

# %% [markdown]
# ## 3. gradcheck: is my backward right?
#
# `gradcheck(fn, inputs)` builds the Jacobian twice, once from your backward and once from
# central finite differences (f(x + eps) - f(x - eps)) / 2 eps, and compares them entry by
# entry. Use float64 inputs: with float32, rounding error swamps the finite differences.
#
# `gradgradcheck` does the same check on the backward pass itself, i.e. on second
# derivatives. It passes here because both backwards use Tensor operations, which the
# engine can differentiate again.

# %%
rng = np.random.default_rng(0)
a = autograd.tensor(rng.standard_normal(5), requires_grad=True)
b = autograd.tensor(rng.standard_normal(5), requires_grad=True)

assert gradcheck(Sigmoid.apply, (a,))
assert gradgradcheck(Sigmoid.apply, (a,))
assert gradcheck(Multiply.apply, (a, b))
assert gradgradcheck(Multiply.apply, (a, b))
print("Sigmoid and Multiply pass gradcheck and gradgradcheck")

# %% [markdown]
# Now a common bug: a multiply gate that forgets to swap, returning `x * grad_z` as the
# gradient of `x`. The forward pass is still right, so only a gradient check finds it.
# The error says which input and which element disagree, and gives both numbers.


# %%
class BadMultiply(Function):
    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        return x * y

    @staticmethod
    def backward(ctx, grad_z):
        x, y = ctx.saved_tensors
        return x * grad_z, y * grad_z  # wrong: the gates must swap their inputs


try:
    gradcheck(BadMultiply.apply, (a, b))
    raise AssertionError("gradcheck should have failed")
except GradcheckError as e:
    message = str(e)
print(message)
assert "with respect to input 0" in message and "input element (0,)" in message

# %% [markdown]
# The numerical value is `b[0]` (the correct dz/dx) and the analytic value is `a[0]` (what
# the bug returned):

# %%
print(f"a[0] = {a[0].item():.6f}, b[0] = {b[0].item():.6f}")
numerical, analytic = (float(v) for v in re.findall(r"(?:numerical|analytic):\s+(\S+)", message))
np.testing.assert_allclose([numerical, analytic], [b[0].item(), a[0].item()], rtol=1e-6)

# %% [markdown]
# ## 4. Hooks and retain_grad: gradients in the middle of the graph
#
# After `backward()` only leaves (tensors you created) keep their `.grad`; intermediate
# results drop theirs to save memory. There are two ways to see them:
#
# * `t.retain_grad()` keeps `t.grad` for a non-leaf `t`;
# * `t.register_hook(fn)` calls `fn(grad)` when t's gradient has been computed. If `fn`
#   returns a tensor, that tensor replaces the gradient for everything upstream.
#
# We look at s3 = w0 x0 + w1 x1 + w2, the input of the sigmoid, in the lecture's circuit.
# Its gradient is the sigmoid's local gradient (1 - L) L = 0.20.


# %%
def circuit():
    w0, x0, w1, x1, w2 = (autograd.tensor(v, dtype=autograd.float64, requires_grad=True) for v in values)
    s3 = w0 * x0 + w1 * x1 + w2
    return (w0, x0, w1, x1, w2), s3


leaves, s3 = circuit()
L = s3.sigmoid()
L.backward()
print("without retain_grad: s3.grad =", s3.grad)
assert s3.grad is None

leaves, s3 = circuit()
s3.retain_grad()
seen = []
s3.register_hook(lambda grad: seen.append(grad.item()))  # returns None: the gradient is unchanged
L = s3.sigmoid()
L.backward()
print(f"with retain_grad:    s3.grad = {s3.grad.item():.4f}; the hook saw {seen[0]:.4f}")
assert round(s3.grad.item(), 2) == 0.20 and seen == [s3.grad.item()]

# %% [markdown]
# A hook that returns a tensor changes the gradient that flows on. Doubling the gradient
# at s3 doubles the gradient of every leaf behind it. (Gradient clipping and gradient
# reversal layers work the same way.)

# %%
leaves, s3 = circuit()
handle = s3.register_hook(lambda grad: grad * 2)
s3.sigmoid().backward()
doubled = [t.grad.item() for t in leaves]
handle.remove()  # a hook stays until removed

leaves, s3 = circuit()
s3.sigmoid().backward()
plain = [t.grad.item() for t in leaves]
print("plain:  ", [round(g, 2) for g in plain])
print("doubled:", [round(g, 2) for g in doubled])
np.testing.assert_allclose(doubled, 2 * np.array(plain))

# %% [markdown]
# ## 5. detect_anomaly: where did the NaN come from?
#
# The length of a vector, `sqrt(sum(v^2))`, has a well-known trap at v = 0. The forward
# value is fine (0), but the derivative of sqrt at 0 is infinite. The chain rule then
# multiplies that infinity by 2v = 0, which gives NaN. Nothing fails: the gradient is
# silently NaN, and in training the NaN spreads to every weight at the next step. (numpy's
# divide-by-zero warnings are switched off here, as they often are in real code.)


# %%
def norm(v):
    return (v**2).sum().sqrt()


v = autograd.tensor([0.0, 0.0], dtype=autograd.float64, requires_grad=True)
with np.errstate(divide="ignore", invalid="ignore"):
    norm(v).backward()
print("v.grad =", v.grad)
assert np.isnan(v.grad.numpy()).all()

# %% [markdown]
# Inside `autograd.detect_anomaly()` the engine records where each op was created. It
# then checks every gradient during backward, and the first op whose backward returns
# NaN or Inf raises a `RuntimeError`. The message names the op (`SqrtBackward`) and shows
# the stack of the forward pass that created it. That stack runs through Jupyter and
# autograd itself, so we print only the lines from this notebook.


# %%
def own_lines(trace):
    """The frames of a creation trace that are notebook code, not Python's, Jupyter's or autograd's."""
    library = (sys.prefix, sys.base_prefix, os.path.dirname(autograd.__file__))
    frames = re.findall(r'File "(.*)", line \d+, in (.*)\n\s*(.*)', trace)
    return [f"in {func}: {code}" for path, func, code in frames if not path.startswith((*library, "<frozen"))]


v = autograd.tensor([0.0, 0.0], dtype=autograd.float64, requires_grad=True)
try:
    with autograd.detect_anomaly(), np.errstate(divide="ignore", invalid="ignore"):
        norm(v).backward()
    raise AssertionError("detect_anomaly should have raised")
except RuntimeError as e:
    message = str(e)

first_line, trace = message.split("\n", 1)
print(first_line)
print("created by:", *own_lines(trace), sep="\n  ")
assert first_line == "SqrtBackward returned NaN or Inf in its gradient for input 0."
assert "in norm: return (v**2).sum().sqrt()" in own_lines(trace)

# %% [markdown]
# The fix depends on the model, for example `sqrt(sum(v^2) + 1e-12)`. Use `detect_anomaly`
# only while debugging, because recording a stack for every op is slow.
#
# **To remember:** a Function is a forward, a backward, and whatever the backward needs,
# saved with `ctx.save_for_backward`. Run `gradcheck` on every backward you write; hooks
# and `detect_anomaly` show what happens inside backward.
