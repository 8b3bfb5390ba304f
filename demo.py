"""dagrad's main job (``make demo``): the lecture's examples, computed by the engine.

1. The sigmoid circuit of LECTURE.md section 1 on ``Scalar`` nodes: every wire's value and
   gradient, drawn as the lecture draws it, and its backward pass step by step (HTML).
2. The same circuit as a custom ``Function`` on tensors, and a two-layer net's gradients.
3. The lecture's ConvNet, [(CONV-RELU)*N-POOL]*M-FC-SOFTMAX, trained on the 8x8 handwritten
   digits that ship with scikit-learn, watched by ``viz.monitor`` (activations, gradients and
   update sizes, the BatchNorm lecture's diagnostics); it writes a checkpoint, pictures, the
   monitor's PNGs and the model's graph (with one cluster per layer) to ``out/``.

``make demo`` writes only to ``out/``. ``make pictures`` (``python demo.py --pictures``) renders
the committed pictures instead: the circuit in ``docs/circuit.svg`` that the README shows.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from threadpoolctl import threadpool_limits
from tqdm import tqdm

import autograd
import nn
import viz
from autograd import Function, Scalar
from viz.plots import plot_activations, plot_filters, plot_history

OUT = Path("out")
DOCS = Path("docs")


def write_svg(graph, path: Path) -> bool:
    """Render a viz graph to ``path`` (SVG); without Graphviz's ``dot``, say how to get it."""
    try:
        path.write_bytes(graph.pipe(format="svg"))
        return True
    except Exception as error:  # noqa: BLE001 - GraphvizNotFoundError and its message
        path.with_suffix(".dot").write_text(graph.source)
        print(f"   (could not render {path.name}: {error}; wrote the DOT source instead)")
        return False


CIRCUIT_NAMES = ("w0", "x0", "w1", "x1", "w2")
CIRCUIT_VALUES = (2, -1, -3, -2, -3)


def circuit_drawing():
    """The lecture's circuit after backward, drawn with values, gradients and local gradients."""
    w0, x0, w1, x1, w2 = (Scalar(v, label=n) for v, n in zip(CIRCUIT_VALUES, CIRCUIT_NAMES))
    L = (w0 * x0 + w1 * x1 + w2).sigmoid()
    L.backward()
    return viz.draw_graph(L, local_grads=True)


def scalar_circuit() -> None:
    """f = sigmoid(w0*x0 + w1*x1 + w2), staged as in the lecture."""
    names = CIRCUIT_NAMES
    w0, x0, w1, x1, w2 = (Scalar(v, label=n) for v, n in zip(CIRCUIT_VALUES, names))
    s0 = w0 * x0
    s1 = w1 * x1
    s2 = s0 + s1
    s3 = s2 + w2
    L = s3.sigmoid()
    L.backward()
    print("1. The lecture's sigmoid circuit on Scalar nodes (value | gradient dL/dnode)")
    rows = [("w0", w0), ("x0", x0), ("w1", w1), ("x1", x1), ("w2", w2), ("s0 = w0*x0", s0), ("s1 = w1*x1", s1),
            ("s2 = s0+s1", s2), ("s3 = s2+w2", s3), ("L = sigmoid(s3)", L)]  # fmt: skip
    for name, node in rows:
        print(f"   {name:<16} {node.data:>7.2f} | {node.grad:>6.2f}")
    print(f"   sigmoid's local gradient from its output alone: (1 - L) * L = {(1 - L.data) * L.data:.2f}")
    OUT.mkdir(exist_ok=True)
    if write_svg(viz.draw_graph(L, local_grads=True), OUT / "circuit.svg"):
        print(f"   wrote {OUT}/circuit.svg (values above the wires, gradients in red below)")
    fresh = (Scalar(v, label=n) for v, n in zip(CIRCUIT_VALUES, names))
    w0, x0, w1, x1, w2 = fresh
    try:
        viz.save_steps_html((w0 * x0 + w1 * x1 + w2).sigmoid(), OUT / "backward_steps.html")
        print(f"   wrote {OUT}/backward_steps.html (open it in a browser: backward one node at a time)")
    except Exception as error:  # noqa: BLE001 - no Graphviz: explain and go on
        print(f"   (could not write the step-through page: {error})")


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

    print("\n   A two-layer net, softmax cross-entropy, one backward pass")
    autograd.manual_seed(0)
    X = autograd.randn(8, 4)
    labels = autograd.tensor([0, 1, 2, 0, 1, 2, 0, 1])
    W1, b1 = autograd.randn(4, 16, requires_grad=True), autograd.zeros(16, requires_grad=True)
    W2, b2 = autograd.randn(16, 3, requires_grad=True), autograd.zeros(3, requires_grad=True)
    scores = (X @ W1 + b1).relu() @ W2 + b2
    loss = nn.functional.cross_entropy(scores, labels)
    loss.backward()
    print(f"   loss = {loss.item():.4f}")
    for name, p in [("W1", W1), ("b1", b1), ("W2", W2), ("b2", b2)]:
        print(f"   d loss/d {name}: shape {p.grad.shape} (same as {name})")


def make_convnet() -> nn.Sequential:
    """[(CONV-RELU)*2-POOL]-[(CONV-RELU)-POOL]-FC for 1x8x8 digits (10 classes)."""
    return nn.Sequential(
        nn.Conv2d(1, 16, kernel_size=3, padding=1), nn.ReLU(),
        nn.Conv2d(16, 16, kernel_size=3, padding=1), nn.ReLU(),
        nn.MaxPool2d(2),  # 8x8 -> 4x4
        nn.Conv2d(16, 32, kernel_size=3, padding=1), nn.ReLU(),
        nn.MaxPool2d(2),  # 4x4 -> 2x2
        nn.Flatten(),
        nn.Linear(32 * 2 * 2, 10),  # softmax lives in the loss
    )  # fmt: skip


def evaluate(model: nn.Module, loader: nn.data.DataLoader) -> float:
    """Accuracy of ``model`` on every batch of ``loader``."""
    model.eval()
    correct = total = 0
    with autograd.no_grad():
        for images, labels in loader:
            correct += int((model(images).argmax(dim=1) == labels).sum().item())
            total += len(labels)
    model.train()
    return correct / total


def train_convnet(epochs: int = 20) -> None:
    """Train the lecture's ConvNet on the digits; save a checkpoint and pictures to out/."""
    print("\n3. The lecture's ConvNet on the 8x8 digits (scikit-learn's 1,797 images)")
    autograd.manual_seed(0)
    train, test = nn.datasets.load_digits()
    train_loader = nn.data.DataLoader(train, batch_size=32, shuffle=True, seed=0)
    test_loader = nn.data.DataLoader(test, batch_size=256)
    model = make_convnet()
    table = nn.summary(model, (train_loader.batch_size, 1, 8, 8), verbose=False)
    print("   " + str(table).replace("\n", "\n   "))
    loss_fn = nn.CrossEntropyLoss()
    optimizer = nn.optim.Adam(model.parameters(), lr=5e-3)
    scheduler = nn.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)
    # Training health: statistics of the ReLUs' outputs and gradients, and of each weight's gradient
    # and update, taken every 10 steps (optimizer.step() tells the monitor); PNGs at the end.
    health = viz.monitor(model, optimizer, every=10)
    history = {"train loss": [], "train accuracy": [], "test accuracy": []}
    start = time.perf_counter()
    # One bar for the whole run (an epoch takes a fraction of a second): it counts batches and shows
    # the running loss and accuracy; each finished epoch prints a line above it.
    bar = tqdm(total=epochs * len(train_loader), desc="   training", unit="batch", ncols=100, mininterval=0.05)
    for epoch in range(1, epochs + 1):
        total_loss = correct = seen = 0
        for images, labels in train_loader:
            optimizer.zero_grad()
            logits = model(images)
            loss = loss_fn(logits, labels)
            loss.backward()
            optimizer.step()
            total_loss += loss.item() * len(labels)
            correct += int((logits.argmax(dim=1) == labels).sum().item())
            seen += len(labels)
            bar.set_postfix(epoch=epoch, loss=f"{total_loss / seen:.3f}", acc=f"{correct / seen:.3f}", refresh=False)
            bar.update()
        scheduler.step()
        test_acc = evaluate(model, test_loader)
        history["train loss"].append(total_loss / seen)
        history["train accuracy"].append(correct / seen)
        history["test accuracy"].append(test_acc)
        summary = f"loss {total_loss / seen:.4f}  train acc {correct / seen:.3f}  test acc {test_acc:.3f}"
        tqdm.write(f"   epoch {epoch:2d}: {summary}")
    bar.close()
    health.detach()
    print(f"   trained in {time.perf_counter() - start:.1f} s; test accuracy {history['test accuracy'][-1]:.1%}")
    health.save(OUT)

    OUT.mkdir(exist_ok=True)
    nn.save(model.state_dict(), OUT / "convnet.safetensors")
    restored = make_convnet()
    restored.load_state_dict(nn.load(OUT / "convnet.safetensors"))
    assert evaluate(restored, test_loader) == history["test accuracy"][-1]
    plot_history(history, "ConvNet on the digits").savefig(OUT / "training.png", dpi=120)
    plot_filters(model[0], title="first-layer 3x3 filters").savefig(OUT / "filters.png", dpi=120)
    image = test.tensors[0][0]
    plot_activations(model, image, layer=model[1]).savefig(OUT / "activations.png", dpi=120)
    with autograd.graph.record():  # keep values, gradients and layers for the drawing
        loss = loss_fn(model(test.tensors[0][:8]), test.tensors[1][:8])
    loss.backward()
    write_svg(viz.draw_graph(loss, model=model), OUT / "convnet_graph.svg")
    write_svg(viz.draw_graph(loss, model=model, depth=0), OUT / "convnet_layers.svg")
    print(f"   wrote {OUT}/convnet.safetensors, training.png, filters.png, activations.png,")
    print("   monitor.png (training health: activations, gradients, update:data ratios; one PNG per panel too),")
    print("   convnet_graph.svg (every op, grouped by layer) and convnet_layers.svg (one node per layer)")


def pictures() -> None:
    """Render the committed pictures (``make pictures``): docs/circuit.svg."""
    DOCS.mkdir(exist_ok=True)
    if write_svg(circuit_drawing(), DOCS / "circuit.svg"):
        print(f"wrote {DOCS}/circuit.svg")


if __name__ == "__main__":
    if sys.argv[1:] == ["--pictures"]:
        pictures()
        sys.exit(0)
    scalar_circuit()
    tensor_examples()
    # The digits are tiny (8x8): BLAS threads would cost more in coordination than they give.
    with threadpool_limits(limits=1):
        train_convnet()
