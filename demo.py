"""dagrad's main job (``make demo``): the lecture's examples, computed by the engine.

1. The sigmoid circuit of LECTURE.md section 1 on ``Scalar`` nodes: every wire's value and
   gradient.
2. The same circuit as a custom ``Function`` on tensors, and a small tensor example: a
   two-layer net with a softmax cross-entropy loss, with the gradient shapes it produces.
"""

from __future__ import annotations

import autograd
from autograd import Function, Scalar


def scalar_circuit() -> None:
    """f = sigmoid(w0*x0 + w1*x1 + w2), staged as in the lecture."""
    w0, x0, w1, x1, w2 = (Scalar(v, label=n) for v, n in zip((2, -1, -3, -2, -3), ("w0", "x0", "w1", "x1", "w2")))
    s0 = w0 * x0
    s1 = w1 * x1
    s2 = s0 + s1
    s3 = s2 + w2
    L = s3.sigmoid()
    L.backward()
    print("1. The lecture's sigmoid circuit on Scalar nodes (value | gradient dL/dnode)")
    for name, node in [
        ("w0", w0),
        ("x0", x0),
        ("w1", w1),
        ("x1", x1),
        ("w2", w2),
        ("s0 = w0*x0", s0),
        ("s1 = w1*x1", s1),
        ("s2 = s0+s1", s2),
        ("s3 = s2+w2", s3),
        ("L = sigmoid(s3)", L),
    ]:
        print(f"   {name:<16} {node.data:>7.2f} | {node.grad:>6.2f}")
    print(f"   sigmoid's local gradient from its output alone: (1 - L) * L = {(1 - L.data) * L.data:.2f}")


class Multiply(Function):
    """The lecture's multiply gate (section 3), verbatim with torch -> autograd."""

    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        return x * y

    @staticmethod
    def backward(ctx, grad_z):
        x, y = ctx.saved_tensors
        return grad_z * y, grad_z * x


def tensor_examples() -> None:
    """The circuit as a vector function of x, and a two-layer net's gradients."""
    print("\n2. The circuit on tensors: gradient with respect to x = [x0, x1]")
    w = autograd.tensor([2.0, -3.0])
    x = autograd.tensor([-1.0, -2.0], requires_grad=True)
    L = (Multiply.apply(w, x).sum() - 3.0).sigmoid()
    L.backward()
    print(f"   L = {L.item():.2f}, dL/dx = {[round(v, 2) for v in x.grad.tolist()]}")

    print("\n3. A two-layer net, softmax cross-entropy, one backward pass")
    autograd.manual_seed(0)
    X = autograd.randn(8, 4)
    labels = [0, 1, 2, 0, 1, 2, 0, 1]
    W1 = autograd.randn(4, 16, requires_grad=True)
    b1 = autograd.zeros(16, requires_grad=True)
    W2 = autograd.randn(16, 3, requires_grad=True)
    b2 = autograd.zeros(3, requires_grad=True)
    h1 = (X @ W1 + b1).relu()
    scores = h1 @ W2 + b2
    loss = -scores.log_softmax(dim=1)[list(range(8)), labels].mean()
    loss.backward()
    print(f"   loss = {loss.item():.4f}")
    for name, p in [("W1", W1), ("b1", b1), ("W2", W2), ("b2", b2)]:
        print(f"   d loss/d {name}: shape {p.grad.shape} (same as {name}), norm {float((p.grad**2).sum().sqrt()):.4f}")


if __name__ == "__main__":
    scalar_circuit()
    tensor_examples()
