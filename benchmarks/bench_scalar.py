"""Scalar engine benchmark: dagrad's ``autograd.Scalar`` against micrograd's ``Value``.

The workload is the one of micrograd's demo notebook: an MLP 2-16-16-1 (ReLU hidden
layers, linear output) trained full-batch on 100 two-moons points (generated here with
numpy and a fixed seed). One *step* is

    forward over all 100 points -> SVM max-margin loss + 1e-4 * L2 regularisation
    -> zero the parameter gradients -> backward -> SGD update of every parameter

so each step builds and differentiates a graph of roughly 65,000 scalar nodes.

The same model is written twice: once with micrograd (``pip install micrograd==0.1.0``;
its own ``MLP``) and once with a tiny Neuron/Layer/MLP on ``autograd.Scalar`` defined
below. dagrad's model starts from a copy of micrograd's weights, and the first step's
losses must agree to 1e-9, so both sides provably do the same work.

Each engine is timed in blocks of steps (a warm-up step, then timed steps), the blocks of
the two engines alternating over several rounds so that a change in machine load hits
both; the table shows the median step time over all blocks. This is done twice:

* gc on  - the garbage collector enabled, as users run their code;
* gc off - ``gc.disable()`` (with ``gc.collect()`` before each timed step, outside the
  timed region), which isolates the raw per-node cost of each engine.

Targets: dagrad at least 10x faster than micrograd with gc on, at least 2x with gc off.

Run: ``python benchmarks/bench_scalar.py`` (about half a minute).
"""

from __future__ import annotations

import gc
import random
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import autograd  # noqa: E402
from autograd import Scalar  # noqa: E402

assert Path(autograd.__file__).resolve().is_relative_to(ROOT / "autograd"), autograd.__file__

try:
    from micrograd.engine import Value
    from micrograd.nn import MLP as MicroMLP
except ImportError:  # pragma: no cover - a message is better than a traceback
    sys.exit("micrograd is not installed: pip install micrograd==0.1.0")

SEED = 1337
N_POINTS = 100
HIDDEN = (16, 16)
ALPHA = 1e-4  # L2 regularisation strength (micrograd's demo)
LEARNING_RATE = 0.1
WARMUP_STEPS = 1  # per block, untimed: brings the collector to its steady state
TIMED_STEPS = 3  # per block
ROUNDS = 3  # blocks per engine and gc mode, alternating which engine goes first
TARGET_GC_ON = 10.0
TARGET_GC_OFF = 2.0


def make_moons(n: int, noise: float, seed: int) -> tuple[list[list[float]], list[float]]:
    """Two interleaving half circles (sklearn's ``make_moons``), labels in {-1, +1}."""
    rng = np.random.default_rng(seed)
    n_out = n // 2
    n_in = n - n_out
    t_out = np.linspace(0.0, np.pi, n_out)
    t_in = np.linspace(0.0, np.pi, n_in)
    x = np.concatenate([np.cos(t_out), 1.0 - np.cos(t_in)])
    y = np.concatenate([np.sin(t_out), 1.0 - np.sin(t_in) - 0.5])
    points = np.stack([x, y], axis=1) + rng.normal(scale=noise, size=(n, 2))
    labels = np.concatenate([-np.ones(n_out), np.ones(n_in)])
    return points.tolist(), labels.tolist()


# ---------------------------------------------------------------- dagrad's model on Scalar
class Neuron:
    """``act(w . x + b)`` on Scalars, summed in micrograd's order."""

    def __init__(self, w: Sequence[float], b: float, nonlin: bool) -> None:
        self.w = [Scalar(v) for v in w]
        self.b = Scalar(b)
        self.nonlin = nonlin

    def __call__(self, x: Sequence[Scalar]) -> Scalar:
        act = sum((wi * xi for wi, xi in zip(self.w, x)), self.b)
        return act.relu() if self.nonlin else act

    def parameters(self) -> list[Scalar]:
        return self.w + [self.b]


class Layer:
    """A list of neurons that all see the same input."""

    def __init__(self, neurons: list[Neuron]) -> None:
        self.neurons = neurons

    def __call__(self, x: Sequence[Scalar]) -> Any:
        out = [n(x) for n in self.neurons]
        return out[0] if len(out) == 1 else out

    def parameters(self) -> list[Scalar]:
        return [p for n in self.neurons for p in n.parameters()]


class MLP:
    """Layers in sequence; built from micrograd's MLP so both start from equal weights."""

    def __init__(self, layers: list[Layer]) -> None:
        self.layers = layers

    @classmethod
    def copy_of(cls, micro: Any) -> MLP:
        return cls(
            [
                Layer([Neuron([w.data for w in n.w], n.b.data, n.nonlin) for n in layer.neurons])
                for layer in micro.layers
            ]
        )

    def __call__(self, x: Sequence[Scalar]) -> Any:
        for layer in self.layers:
            x = layer(x)
        return x

    def parameters(self) -> list[Scalar]:
        return [p for layer in self.layers for p in layer.parameters()]


# ---------------------------------------------------------------- one training step
def train_step(model: Any, node: type, xs: list[list[float]], ys: list[float], lr: float) -> float:
    """micrograd's demo step; ``node`` is ``Value`` or ``Scalar``. Returns the loss value."""
    inputs = [[node(v) for v in row] for row in xs]
    scores = [model(x) for x in inputs]
    losses = [(1 + -yi * si).relu() for yi, si in zip(ys, scores)]
    data_loss = sum(losses) * (1.0 / len(losses))
    reg_loss = ALPHA * sum(p * p for p in model.parameters())
    total = data_loss + reg_loss
    params = model.parameters()
    for p in params:
        p.grad = 0.0
    total.backward()
    for p in params:
        p.data -= lr * p.grad
    return total.data


def time_steps(step: Callable[[], float], gc_on: bool) -> list[float]:
    """Seconds of each timed step (after the warm-up), with the collector on or off."""
    was_enabled = gc.isenabled()
    gc.collect()
    if gc_on:
        gc.enable()
    else:
        gc.disable()
    try:
        for _ in range(WARMUP_STEPS):
            step()
        times = []
        for _ in range(TIMED_STEPS):
            if not gc_on:
                gc.collect()  # free the previous graphs (micrograd's are cycles) outside the timing
            t0 = time.perf_counter()
            step()
            times.append(time.perf_counter() - t0)
        return times
    finally:
        gc.collect()
        if was_enabled:
            gc.enable()


def time_phases(model: Any, node: type, xs: list[list[float]], ys: list[float]) -> tuple[float, float, float]:
    """Median seconds of (forward, backward, free) over several steps, collector off.

    *forward* builds the graph up to the loss, *backward* is ``loss.backward()``, *free* is
    dropping the last reference to the graph (for micrograd this frees little: its nodes form
    reference cycles through their closures, left to the collector outside the timing).
    """
    forward, backward, free = [], [], []
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        for _ in range(WARMUP_STEPS + ROUNDS * TIMED_STEPS):
            gc.collect()
            t0 = time.perf_counter()
            inputs = [[node(v) for v in row] for row in xs]
            losses = [(1 + -yi * model(x)).relu() for yi, x in zip(ys, inputs)]
            loss = sum(losses) * (1.0 / len(losses)) + ALPHA * sum(p * p for p in model.parameters())
            t1 = time.perf_counter()
            loss.backward()
            t2 = time.perf_counter()
            del inputs, losses, loss
            t3 = time.perf_counter()
            forward.append(t1 - t0)
            backward.append(t2 - t1)
            free.append(t3 - t2)
    finally:
        gc.collect()
        if was_enabled:
            gc.enable()
    return tuple(statistics.median(t[WARMUP_STEPS:]) for t in (forward, backward, free))


def count_nodes(root: Any) -> int:
    seen, stack = {id(root)}, [root]
    while stack:
        n = stack.pop()
        for p in getattr(n, "_prev", None) or getattr(n, "_parents", ()):
            if id(p) not in seen:
                seen.add(id(p))
                stack.append(p)
    return len(seen)


def main() -> None:
    xs, ys = make_moons(N_POINTS, noise=0.1, seed=SEED)

    # Equal work: dagrad's model is a copy of micrograd's initial weights; first losses must agree.
    random.seed(SEED)
    micro = MicroMLP(2, list(HIDDEN) + [1])
    dag = MLP.copy_of(micro)
    loss_micro = train_step(micro, Value, xs, ys, LEARNING_RATE)
    loss_dag = train_step(dag, Scalar, xs, ys, LEARNING_RATE)
    assert abs(loss_micro - loss_dag) <= 1e-9, (loss_micro, loss_dag)
    w_micro = [p.data for p in micro.parameters()]
    w_dag = [p.data for p in dag.parameters()]
    assert max(abs(a - b) for a, b in zip(w_micro, w_dag)) <= 1e-9, "updated weights differ"
    loss2_micro = train_step(micro, Value, xs, ys, LEARNING_RATE)
    loss2_dag = train_step(dag, Scalar, xs, ys, LEARNING_RATE)
    assert abs(loss2_micro - loss2_dag) <= 1e-9, (loss2_micro, loss2_dag)

    # Graph size (for the per-node column): rebuild one forward graph of each.
    def forward_graph(model: Any, node: type) -> Any:
        inputs = [[node(v) for v in row] for row in xs]
        losses = [(1 + -yi * model(x)).relu() for yi, x in zip(ys, inputs)]
        return sum(losses) * (1.0 / len(losses)) + ALPHA * sum(p * p for p in model.parameters())

    n_micro = count_nodes(forward_graph(micro, Value))
    n_dag = count_nodes(forward_graph(dag, Scalar))
    gc.collect()

    n_params = len(micro.parameters())
    print(f"Python {sys.version.split()[0]}, numpy {np.__version__}")
    print(f"MLP 2-{'-'.join(map(str, HIDDEN))}-1 ({n_params} parameters), {N_POINTS} two-moons points, full batch")
    print(f"first-step loss: micrograd {loss_micro:.12f}  dagrad {loss_dag:.12f}  (agree to 1e-9)")
    print(f"graph nodes per step: micrograd {n_micro:,}  dagrad {n_dag:,}")
    print(
        f"timing: median over {ROUNDS} alternating rounds x {TIMED_STEPS} steps "
        f"(each block after {WARMUP_STEPS} warm-up step)\n"
    )

    engines = [("micrograd", micro, Value), ("dagrad", dag, Scalar)]
    results: dict[tuple[str, bool], float] = {}
    for gc_on in (True, False):
        times: dict[str, list[float]] = {name: [] for name, _, _ in engines}
        for r in range(ROUNDS):
            for name, model, node in engines if r % 2 == 0 else engines[::-1]:
                times[name] += time_steps(lambda m=model, n=node: train_step(m, n, xs, ys, LEARNING_RATE), gc_on)
        for name, t in times.items():
            results[(name, gc_on)] = statistics.median(t)

    header = f"{'gc':<5}{'micrograd s/step':>18}{'dagrad s/step':>15}{'µs/node m':>11}{'µs/node d':>11}"
    header += f"{'speedup':>9}{'target':>8}  ok"
    print(header)
    print("-" * len(header))
    for gc_on, target in ((True, TARGET_GC_ON), (False, TARGET_GC_OFF)):
        m, d = results[("micrograd", gc_on)], results[("dagrad", gc_on)]
        speedup = m / d
        print(
            f"{'on' if gc_on else 'off':<5}{m:>18.4f}{d:>15.4f}{m / n_micro * 1e6:>11.2f}{d / n_dag * 1e6:>11.2f}"
            f"{speedup:>8.2f}x{'>=' + format(target, 'g') + 'x':>8}  {'yes' if speedup >= target else 'NO'}"
        )

    # Where a step's time goes (gc off): building the graph, backward, freeing it.
    print(f"\nphases, gc off (ms, median of {ROUNDS * TIMED_STEPS} steps; parameter updates not included)")
    print(f"{'engine':<11}{'forward':>9}{'backward':>10}{'free':>7}{'total':>8}")
    for name, model, node in engines:
        f, b, r = (1e3 * v for v in time_phases(model, node, xs, ys))
        print(f"{name:<11}{f:>9.1f}{b:>10.1f}{r:>7.1f}{f + b + r:>8.1f}")


if __name__ == "__main__":
    main()
