"""Scalar engine benchmark: dagrad's ``autograd.Scalar`` against micrograd's ``Value``.

The workload is the one of micrograd's demo notebook: an MLP 2-16-16-1 (ReLU hidden
layers, linear output) trained full-batch on 100 two-moons points (generated here with
numpy and a fixed seed). One *step* is

    forward over all 100 points -> SVM max-margin loss + 1e-4 * L2 regularisation
    -> zero the parameter gradients -> backward -> SGD update of every parameter

so each step builds and differentiates a graph of roughly 65,000 scalar nodes.

The same model is written twice: with micrograd (``pip install micrograd==0.1.0``; its own
``MLP``) and with a tiny Neuron/Layer/MLP on ``autograd.Scalar`` defined below. Both start
from the same weights (drawn as micrograd draws them, seeded), and the losses of the first two
steps must agree to 1e-9 across the two engines, so both provably do the same work.

Each engine is timed in its own child processes, 3 per engine, each gated on an idle machine
(rerun when other processes used over 3% of the CPUs; see ``harness.py``); the tables show
``median [min-max]`` over the processes of each process's median step time. Two modes:

* gc on  - the garbage collector as the process starts with it, as users run their code
  (the benchmark never changes the collector's settings here);
* gc off - an explicit measurement mode: ``gc.disable()`` for the timing (with ``gc.collect()``
  before each timed step, outside the timing; the setting is restored afterwards), which
  isolates each engine's raw per-node cost.

A second table splits a gc-off step into building the graph (forward), backward, and freeing it.

Targets (issue 18): dagrad at least 10x faster than micrograd with gc on; with gc off the
goal is 2x.

Run: ``python benchmarks/bench_scalar.py`` (needs ``micrograd==0.1.0``: ``pip install -e
'.[bench]'``); about 1.5 minutes on a quiet 2-core machine, longer when runs are loaded or slowed
and repeated (up to 30 s of waiting before each). ``--help`` lists the harness's flags
(``--processes 1`` for a quick look).
"""

from __future__ import annotations

import argparse
import gc
import random
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import harness
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
LIBS = ("micrograd", "dagrad")
SEED = 1337
N_POINTS = 100
HIDDEN = (16, 16)
ALPHA = 1e-4  # L2 regularisation strength (micrograd's demo)
LEARNING_RATE = 0.1
TARGET_GC_ON = ">= 10"
TARGET_GC_OFF = ">= 2"


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


def initial_weights() -> list[list[tuple[list[float], float]]]:
    """Per layer, per neuron: (weights, bias), drawn as micrograd does (uniform in [-1, 1], bias 0)."""
    rng = random.Random(SEED)
    sizes = [2, *HIDDEN, 1]
    return [
        [([rng.uniform(-1, 1) for _ in range(n_in)], 0.0) for _ in range(n_out)]
        for n_in, n_out in zip(sizes[:-1], sizes[1:])
    ]


# ---------------------------------------------------------------- dagrad's model on Scalar
class Neuron:
    """``act(w . x + b)`` on Scalars, summed in micrograd's order."""

    def __init__(self, node: type, w: Sequence[float], b: float, nonlin: bool) -> None:
        self.w = [node(v) for v in w]
        self.b = node(b)
        self.nonlin = nonlin

    def __call__(self, x: Sequence[Any]) -> Any:
        act = sum((wi * xi for wi, xi in zip(self.w, x)), self.b)
        return act.relu() if self.nonlin else act

    def parameters(self) -> list[Any]:
        return self.w + [self.b]


class Layer:
    """A list of neurons that all see the same input."""

    def __init__(self, neurons: list[Neuron]) -> None:
        self.neurons = neurons

    def __call__(self, x: Sequence[Any]) -> Any:
        out = [n(x) for n in self.neurons]
        return out[0] if len(out) == 1 else out

    def parameters(self) -> list[Any]:
        return [p for n in self.neurons for p in n.parameters()]


class MLP:
    """Layers in sequence: ReLU on every layer but the last, as micrograd's MLP."""

    def __init__(self, node: type, weights: list[list[tuple[list[float], float]]]) -> None:
        last = len(weights) - 1
        self.layers = [Layer([Neuron(node, w, b, i != last) for w, b in layer]) for i, layer in enumerate(weights)]

    def __call__(self, x: Sequence[Any]) -> Any:
        for layer in self.layers:
            x = layer(x)
        return x

    def parameters(self) -> list[Any]:
        return [p for layer in self.layers for p in layer.parameters()]


def build(lib: str) -> tuple[Any, type]:
    """(model, node type) of ``lib``, from :func:`initial_weights`."""
    weights = initial_weights()
    if lib == "micrograd":
        try:
            from micrograd.engine import Value
            from micrograd.nn import MLP as MicroMLP
        except ImportError:  # pragma: no cover - a message is better than a traceback
            sys.exit("micrograd is not installed: pip install micrograd==0.1.0")
        model = MicroMLP(2, [*HIDDEN, 1])
        values = [v for layer in weights for w, b in layer for v in (*w, b)]
        for p, v in zip(model.parameters(), values, strict=True):
            p.data = v
        return model, Value
    sys.path.insert(0, str(ROOT))
    import autograd

    assert Path(autograd.__file__).resolve().is_relative_to(ROOT / "autograd"), autograd.__file__
    return MLP(autograd.Scalar, weights), autograd.Scalar


# ---------------------------------------------------------------- one training step
def forward(model: Any, node: type, xs: list[list[float]], ys: list[float]) -> Any:
    """The loss of micrograd's demo: SVM max-margin loss + L2 regularisation."""
    inputs = [[node(v) for v in row] for row in xs]
    losses = [(1 + -yi * model(x)).relu() for yi, x in zip(ys, inputs)]
    data_loss = sum(losses) * (1.0 / len(losses))
    return data_loss + ALPHA * sum(p * p for p in model.parameters())


def train_step(model: Any, node: type, xs: list[list[float]], ys: list[float]) -> float:
    """micrograd's demo step; ``node`` is ``Value`` or ``Scalar``. Returns the loss value."""
    total = forward(model, node, xs, ys)
    params = model.parameters()
    for p in params:
        p.grad = 0.0
    total.backward()
    for p in params:
        p.data -= LEARNING_RATE * p.grad
    return total.data


def gc_off(timing: Callable[[], dict[str, float]]) -> Callable[[], dict[str, float]]:
    """``timing`` run with the collector disabled (the measurement mode), the setting restored after."""

    def run() -> dict[str, float]:
        was_enabled = gc.isenabled()
        gc.disable()
        try:
            return timing()
        finally:
            gc.collect()
            if was_enabled:
                gc.enable()

    return run


def phases(model: Any, node: type, xs: list[list[float]], ys: list[float], steps: int) -> dict[str, dict]:
    """Seconds of building the graph (forward), ``backward()`` and freeing the graph, collector off.

    For micrograd, freeing does little: its nodes form reference cycles through their closures,
    left to the collector (which runs outside the timing here).
    """
    times: dict[str, list[float]] = {"forward": [], "backward": [], "free": []}
    for _ in range(steps + 1):  # the first is a warm-up
        gc.collect()
        t0 = time.perf_counter()
        loss = forward(model, node, xs, ys)
        t1 = time.perf_counter()
        loss.backward()
        t2 = time.perf_counter()
        del loss
        t3 = time.perf_counter()
        for name, t in zip(times, (t1 - t0, t2 - t1, t3 - t2)):
            times[name].append(t)
    return {name: harness.stats(t[1:]) for name, t in times.items()}


def count_nodes(root: Any) -> int:
    """Nodes of a graph (either engine's), found from its root."""
    seen, stack = {id(root)}, [root]
    while stack:
        n = stack.pop()
        for p in getattr(n, "_prev", None) or getattr(n, "_parents", ()):
            if id(p) not in seen:
                seen.add(id(p))
                stack.append(p)
    return len(seen)


def child(lib: str) -> None:
    """Time ``lib``'s step with the collector on and off, and the phases; the first losses are the check."""
    xs, ys = make_moons(N_POINTS, noise=0.1, seed=SEED)
    model, node = build(lib)
    losses = [train_step(model, node, xs, ys) for _ in range(2)]  # before the timing: equal work
    nodes = count_nodes(forward(model, node, xs, ys))

    def step() -> float:
        return train_step(model, node, xs, ys)

    cases = {
        "step gc on": lambda: harness.time_case(step, budget_s=3.0, min_repeats=3, max_repeats=40, warmup=1),
        "step gc off": gc_off(
            lambda: harness.time_case(
                step, budget_s=2.0, min_repeats=3, max_repeats=40, warmup=1, before_each=gc.collect
            )
        ),
        "phase": gc_off(lambda: phases(model, node, xs, ys, steps=5)),  # cases "phase forward", ...
    }
    info = {"micrograd": harness.package_version("micrograd")} if lib == "micrograd" else {}
    harness.child_report(lib, cases, check=losses, extra={"nodes": nodes}, info=info)


def main(options: harness.Options) -> int:
    """Time both engines in gated phases, check the losses agree, print the tables; 1 if they do not."""
    runs = harness.run_phases(Path(__file__), LIBS, options)
    nodes = {lib: runs[lib][0].report["extra"]["nodes"] for lib in LIBS}
    print("\n".join(harness.machine_lines(runs)))
    print(f"MLP 2-{'-'.join(map(str, HIDDEN))}-1, {N_POINTS} two-moons points, full batch")
    print(f"graph nodes per step: micrograd {nodes['micrograd']:,}  dagrad {nodes['dagrad']:,}")
    print(f"ms per step, median [min-max] over {options.processes} processes of each process's median\n")
    rows = []
    for mode, target in (("gc on", TARGET_GC_ON), ("gc off", TARGET_GC_OFF)):
        micro, ours = (harness.case_spread(runs[lib], f"step {mode}") for lib in LIBS)
        speedup = harness.ratio(micro, ours)
        rows.append(
            [
                mode,
                harness.format_spread(micro),
                harness.format_spread(ours),
                f"{micro.median / nodes['micrograd'] * 1e6:.2f}",
                f"{ours.median / nodes['dagrad'] * 1e6:.2f}",
                harness.format_ratio(speedup),
                target + "x",
                harness.verdict(speedup, target),
            ]
        )
    headers = ["", "micrograd", "dagrad", "µs/node m", "µs/node d", "speedup", "target", "ok"]
    print(harness.format_table(headers, rows))

    print("\nphases of a step, gc off (ms, median [min-max] over processes; parameter updates not included)")
    rows = []
    for lib in LIBS:
        cells = []
        for phase in ("forward", "backward", "free"):
            cells.append(harness.format_spread(harness.case_spread(runs[lib], f"phase {phase}")))
        rows.append([lib, *cells])
    print(harness.format_table(["engine", "forward", "backward", "free"], rows))

    reference = runs["micrograd"][0].report["check"]
    worst = max(abs(a - b) for run in runs["dagrad"] for a, b in zip(run.report["check"], reference))
    same = worst <= 1e-9
    print(
        f"\nequal work: first two losses micrograd {reference[0]:.12f} {reference[1]:.12f}; "
        f"dagrad's differ by at most {worst:.1e} (limit 1e-9): {'yes' if same else 'NO'}"
    )
    print(harness.format_loads(runs, options.max_load, options.max_slowdown))
    return 0 if same else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    harness.add_options(parser)
    args = parser.parse_args()
    if args.child:
        child(args.child)
    else:
        sys.exit(main(harness.options_from(args)))
