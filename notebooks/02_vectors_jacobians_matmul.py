# %% [markdown]
# # Vectors, Jacobians and matrix multiply
#
# Lecture section 4. Once inputs are vectors and matrices, "the derivative" becomes one of three things:
#
# | function | derivative | its shape |
# |---|---|---|
# | scalar -> scalar | derivative | a number |
# | vector -> scalar | gradient | **the same shape as the input** |
# | vector -> vector | Jacobian | output shape x input shape |
#
# Backprop never builds a Jacobian. Each op's `backward` takes the upstream gradient
# `dL/dy` (shaped like the output `y`) and returns `dL/dx = (dL/dy)^T (dy/dx)`, shaped like
# the input `x`. This product is the **vector-Jacobian product** (VJP). This notebook
# checks that on small examples, then works out what building the Jacobian would cost.

# %%
import numpy as np

import autograd
from autograd.functional import jacobian, vjp

# %% [markdown]
# ## 1. A gradient has the shape of its variable
#
# The loss is a scalar, so its gradient with respect to any tensor is a tensor of the same
# shape: one number per entry, saying how the loss changes when that entry changes.

# %%
autograd.manual_seed(0)
W = autograd.randn(3, 4, requires_grad=True)
x = autograd.randn(4, requires_grad=True)
loss = (W @ x).tanh().sum()
loss.backward()
print("W", W.shape, "-> W.grad", W.grad.shape)
print("x", x.shape, "-> x.grad", x.grad.shape)
assert W.grad.shape == W.shape and x.grad.shape == x.shape

# %% [markdown]
# ## 2. The explicit Jacobian of a small vector function
#
# Take f: R^3 -> R^3, f(x) = [x0 * x1, x1^2 + x2, exp(x0)]. Row i of the Jacobian holds
# the partial derivatives of output i, so by hand
#
# ```
#       [ x1     x0    0 ]
#   J = [ 0      2 x1  1 ]
#       [ exp(x0) 0    0 ]
# ```
#
# `autograd.functional.jacobian` builds it by running one backward pass per output element.


# %%
def f(x):
    return autograd.stack([x[0] * x[1], x[1] ** 2 + x[2], x[0].exp()])


x = autograd.tensor([0.5, -2.0, 3.0], dtype=autograd.float64)
J = jacobian(f, x)
print(J)

x0, x1, _ = x.tolist()
J_by_hand = np.array([[x1, x0, 0.0], [0.0, 2 * x1, 1.0], [np.exp(x0), 0.0, 0.0]])
np.testing.assert_allclose(J.numpy(), J_by_hand)

# %% [markdown]
# ## 3. The same numbers, implicitly: the vector-Jacobian product
#
# Say `f` sits inside a bigger computation and the upstream gradient `dL/df` is `v`. There
# are three ways to get `dL/dx`, and they agree:
#
# 1. build `J` and multiply: `v @ J`;
# 2. `y.backward(v)`: the engine multiplies `v` through each op's local gradient;
# 3. `autograd.functional.vjp(f, x, v)`, which is the same call wrapped up.
#
# Only the first builds `J`.

# %%
v = autograd.tensor([1.0, -1.0, 2.0], dtype=autograd.float64)

explicit = (v @ J).numpy()  # 1. the Jacobian, then a product

x_leaf = x.detach().requires_grad_()
y = f(x_leaf)
y.backward(v)  # 2. backward with an upstream vector
implicit = x_leaf.grad.numpy()

_, vjp_result = vjp(f, x, v)  # 3. the same, as one function

print("v @ J        :", explicit)
print("y.backward(v):", implicit)
print("vjp(f, x, v) :", vjp_result.numpy())
np.testing.assert_allclose(implicit, explicit)
np.testing.assert_allclose(vjp_result.numpy(), explicit)

# %% [markdown]
# ## 4. ReLU: a diagonal Jacobian
#
# The lecture's example: `x = [1, -2, 3, -1]` with upstream gradient `[4, -1, 5, 9]`. ReLU
# passes the gradient through where its input was positive and blocks it elsewhere, so the
# downstream gradient is `[4, 0, 5, 0]`.

# %%
x = autograd.tensor([1.0, -2.0, 3.0, -1.0], requires_grad=True)
upstream = autograd.tensor([4.0, -1.0, 5.0, 9.0])
x.relu().backward(upstream)
print("downstream gradient:", x.grad)
assert x.grad.tolist() == [4.0, 0.0, 5.0, 0.0]

# %% [markdown]
# Output i of ReLU depends only on input i, so its Jacobian is diagonal, with 1 where
# `x > 0` and 0 elsewhere. Most of its entries are zero, which is why `ReluBackward` only
# multiplies elementwise and never builds the matrix.

# %%
J_relu = jacobian(autograd.relu, x.detach())
print(J_relu)
np.testing.assert_array_equal(J_relu.numpy(), np.diag([1.0, 0.0, 1.0, 0.0]))
np.testing.assert_array_equal((upstream @ J_relu).numpy(), x.grad.numpy())  # v @ J is the same vector

# %% [markdown]
# ## 5. Matrix multiply: gradients from the shapes
#
# `y = x @ w` with `x` of shape [N x D] and `w` of shape [D x M], so `y` is [N x M]. Given
# `dL/dy` [N x M], the gradients have to be shaped like `x` and `w`, and there is only one
# way to multiply the pieces so that the shapes match:
#
# * `dL/dx = (dL/dy) @ w^T`: [N x M] @ [M x D] = [N x D]
# * `dL/dw = x^T @ (dL/dy)`: [D x N] @ [N x M] = [D x M]
#
# Let's check these formulas against the engine.

# %%
rng = np.random.default_rng(0)
N, D, M = 4, 3, 2
x = autograd.tensor(rng.standard_normal((N, D)), requires_grad=True)
w = autograd.tensor(rng.standard_normal((D, M)), requires_grad=True)
y = x @ w
dy = rng.standard_normal((N, M))  # some upstream gradient dL/dy
y.backward(autograd.tensor(dy))

print("dL/dx", x.grad.shape, "  dL/dw", w.grad.shape)
np.testing.assert_allclose(x.grad.numpy(), dy @ w.detach().numpy().T)
np.testing.assert_allclose(w.grad.numpy(), x.detach().numpy().T @ dy)

# %% [markdown]
# With the explicit Jacobian, `dy/dx` is a 4-d array [(N x M) x (N x D)] here (output shape,
# then input shape). Contracting it with `dL/dy` gives the same `dL/dx`.

# %%
J_x = jacobian(lambda x: x @ w.detach(), x.detach())
print("dy/dx has shape", J_x.shape, "=", J_x.numel(), "entries, for", x.numel(), "gradient entries")
np.testing.assert_allclose(np.einsum("nm,nmkd->kd", dy, J_x.numpy()), x.grad.numpy())
assert J_x.shape == (N, M, N, D)

# %% [markdown]
# ## 6. How big would the Jacobian be?
#
# The lecture's layer: N = 64 examples, D = M = 4096. The Jacobian `dy/dx` would have
# `(N*D) x (N*M)` entries. We only compute its size; building it is out of the question.

# %%
N, D, M = 64, 4096, 4096
entries = (N * D) * (N * M)
jac_bytes = 4 * entries  # float32
print(f"dy/dx: {N * D:,} x {N * M:,} = {entries:,} entries")
print(f"       {jac_bytes:,} bytes = 2^{jac_bytes.bit_length() - 1} bytes = {jac_bytes / 2**30:.0f} GiB in float32")
assert jac_bytes == 2**38
assert jac_bytes / 2**30 == 256  # the lecture's "about 256 GB"

vjp_bytes = 4 * N * D  # dL/dx has x's shape
print(f"dL/dx: {N} x {D} = {N * D:,} entries = {vjp_bytes / 2**20:.0f} MiB")
print(f"the Jacobian is {jac_bytes // vjp_bytes:,} times bigger than the gradient it would produce")
assert vjp_bytes == 2**20 and jac_bytes // vjp_bytes == N * M

# %% [markdown]
# The implicit route at this size is just two matrix multiplies. Here is the real backward
# pass of that layer; it runs in well under a second and makes nothing larger than `w`.

# %%
autograd.manual_seed(0)
x = autograd.randn(N, D, requires_grad=True)
w = autograd.randn(D, M, requires_grad=True)
y = x @ w
y.backward(autograd.ones(N, M))
print("x.grad", x.grad.shape, x.grad.dtype, f"{x.grad.numpy().nbytes / 2**20:.0f} MiB")
print("w.grad", w.grad.shape, w.grad.dtype, f"{w.grad.numpy().nbytes / 2**20:.0f} MiB")
assert x.grad.shape == (N, D) and w.grad.shape == (D, M)
column_sums = x.detach().numpy().sum(0)  # x^T @ ones
np.testing.assert_allclose(w.grad.numpy()[:, 0], column_sums, rtol=1e-4, atol=1e-3)

# %% [markdown]
# **To remember:** a gradient always has the shape of its variable. Backward multiplies the
# upstream gradient by each op's local Jacobian *implicitly*: elementwise for ReLU, by a
# transposed matrix for matmul.
