"""Lecture-style programs written for PyTorch run with ``torch`` renamed to ``autograd``.

Each program is PyTorch code as a learner writes it (a manual SGD loop through ``.data``, a
BatchNorm that adds its bias in place with ``retain_grad``, a manual backward pass that writes
into index ranges, rows written into a preallocated tensor). It runs once as written (live, with
torch installed; its numbers are frozen otherwise) and once with the text ``torch`` replaced by
``autograd``; the printed numbers must agree.
"""

import numpy as np

MANUAL_SGD = """
import torch
X = torch.tensor(X_np)
Y = torch.tensor(Y_np)
W = torch.tensor(W_np, requires_grad=True)
b = torch.zeros(W_np.shape[1], dtype=torch.float64, requires_grad=True)
for step in range(20):
    out = X @ W + b
    loss = ((out - Y) ** 2).mean()
    for p in [W, b]:
        p.grad = None
    loss.backward()
    for p in [W, b]:
        p.data += -0.05 * p.grad
    losses.append(loss.item())
with torch.no_grad():
    W -= 0.05 * W  # a no_grad update, as an optimizer makes
result = [losses, W.detach().numpy().copy(), b.detach().numpy().copy(), W._version, b._version]
"""

BATCHNORM = """
import torch
x = torch.tensor(x_np, requires_grad=True)
gamma = torch.ones(x_np.shape[1], dtype=torch.float64, requires_grad=True)
beta = torch.zeros(x_np.shape[1], dtype=torch.float64, requires_grad=True)
mean = x.mean(0, keepdim=True)
var = x.var(0, keepdim=True, unbiased=False)
xhat = (x - mean) / torch.sqrt(var + 1e-5)
out = gamma * xhat
out.retain_grad()
out += beta
h = torch.tanh(out)
h.retain_grad()
loss = (h * h).sum() / x_np.shape[0]
loss.backward()
result = [loss.item(), x.grad.numpy().copy(), gamma.grad.numpy().copy(), beta.grad.numpy().copy(),
          out.grad.numpy().copy(), h.grad.numpy().copy()]
"""

MANUAL_BACKWARD = """
import torch
C = torch.tensor(C_np, requires_grad=True)
Xb = torch.tensor(Xb_np)
Yb = torch.tensor(Yb_np)
emb = C[Xb]                                   # (n, 2, dim)
embcat = emb.view(emb.shape[0], -1)
logits = embcat @ torch.tensor(W_np)
logits.retain_grad()
emb.retain_grad()
probs = logits.softmax(1)
n = Xb_np.shape[0]
loss = -probs.log()[range(n), Yb].mean()
loss.backward()
dlogits = probs.detach().clone()
dlogits[range(n), Yb] -= 1
dlogits /= n
dembcat = dlogits @ torch.tensor(W_np).T
demb = dembcat.view(emb.shape)
dC = torch.zeros_like(C)
for k in range(Xb.shape[0]):
    for j in range(Xb.shape[1]):
        ix = Xb[k, j]
        dC[ix] += demb[k, j]
result = [loss.item(), dlogits.numpy(), logits.grad.numpy(), dC.detach().numpy(), C.grad.numpy()]
"""

ROWS = """
import torch
W = torch.tensor(W_np, requires_grad=True)
logits = torch.zeros(4, 3, dtype=torch.float64)
for i in range(4):
    logits[i] = torch.tensor(x_np[i]) @ W
loss = logits.exp().sum(1).log().mean()
loss.backward()
result = [loss.item(), logits.detach().numpy().copy(), W.grad.numpy().copy(), logits.is_leaf,
          logits.requires_grad]
"""


def run(source: str, lib: str, **arrays) -> list:
    """Execute ``source`` (written for torch) as it is, or with ``torch`` renamed to ``lib``."""
    scope = {k: v.copy() for k, v in arrays.items()}
    scope["losses"] = []
    exec(source.replace("torch", lib), scope)  # noqa: S102 - the test's own program text
    return scope["result"]


def same(ours: list, theirs: list) -> None:
    assert len(ours) == len(theirs)
    for i, (a, b) in enumerate(zip(ours, theirs)):
        if isinstance(b, (list, np.ndarray)) or isinstance(a, np.ndarray):
            np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-10, atol=1e-12, err_msg=f"item {i}")
        elif isinstance(b, float):
            assert abs(a - b) <= 1e-10 * max(1.0, abs(b)), (i, a, b)
        else:
            assert a == b, (i, a, b)


def check(oracle, source, **arrays):
    ours = run(source, "autograd", **arrays)
    theirs = oracle(lambda torch, src, arrays: run(src, "torch", **arrays), source, arrays)
    same(ours, theirs)


def test_manual_sgd_through_data(oracle):
    r = np.random.default_rng(0)
    check(oracle, MANUAL_SGD, X_np=r.standard_normal((16, 3)), Y_np=r.standard_normal((16, 2)),
          W_np=r.standard_normal((3, 2)))  # fmt: skip


def test_batchnorm_with_an_in_place_bias(oracle):
    check(oracle, BATCHNORM, x_np=np.random.default_rng(1).standard_normal((8, 4)))


def test_manual_backward_into_index_ranges(oracle):
    r = np.random.default_rng(2)
    check(oracle, MANUAL_BACKWARD, C_np=r.standard_normal((5, 3)), Xb_np=np.array([[1, 3], [1, 0], [4, 1], [1, 1]]),
          Yb_np=np.array([0, 2, 1, 0]), W_np=r.standard_normal((6, 3)))  # fmt: skip


def test_rows_written_into_a_preallocated_tensor(oracle):
    r = np.random.default_rng(3)
    check(oracle, ROWS, W_np=r.standard_normal((2, 3)), x_np=r.standard_normal((4, 2)))
