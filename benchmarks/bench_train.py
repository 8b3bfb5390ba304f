"""One CNN training step, dagrad vs PyTorch CPU: time and peak memory, in the same run.

The step is forward, cross-entropy, backward and an SGD update of

    conv(3->32, 3x3, p1) - relu - maxpool2 - conv(32->64, 3x3, p1) - relu - maxpool2 - linear(64*8*8 -> 10)

on a batch of 64 CIFAR-shaped inputs (3x32x32), float32, the same weights in both libraries
(copied through state_dict). Time is the best of several steps after a warm-up; peak memory is
the resident set size (VmHWM, the high-water mark) of a fresh process that builds the model and
runs 3 steps, minus its resident size before the first step (so the libraries' import sizes
cancel).

Targets (issue: nn): step time <= 2.0x PyTorch (<= 1.5x is the goal); peak RSS within 1.5x.

Run: ``python benchmarks/bench_train.py`` (needs ``torch==2.13.0``: ``make oracle``).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
STEPS = 7


def build(lib: str):
    """The model, loss, optimizer and a fixed batch in ``lib`` ('dagrad' or 'torch')."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 3, 32, 32)).astype(np.float32)
    y = rng.integers(0, 10, 64)
    if lib == "torch":
        import torch
        from torch import nn
    else:
        import autograd as torch  # noqa: ICN001 - the same code for both libraries
        import nn
    model = nn.Sequential(
        nn.Conv2d(3, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(64 * 8 * 8, 10),
    )  # fmt: skip
    weights = np.load(ROOT / "out" / "bench_train_weights.npz")
    model.load_state_dict({k: torch.tensor(weights[k]) for k in weights.files})
    opt = (torch.optim.SGD if lib == "torch" else nn.optim.SGD)(model.parameters(), lr=0.01, momentum=0.9)
    return model, nn.CrossEntropyLoss(), opt, torch.tensor(x), torch.tensor(y)


def step(model, loss_fn, opt, x, y) -> float:
    """One training step; returns the loss."""
    opt.zero_grad()
    loss = loss_fn(model(x), y)
    loss.backward()
    opt.step()
    return loss.item()


def child(lib: str) -> None:
    """Run in a fresh process: print the RSS growth of 3 steps (KiB) as JSON."""
    if lib == "torch":
        import torch

        torch.set_num_threads(2)
    parts = build(lib)
    before = _status_kib("VmRSS")
    for _ in range(3):
        step(*parts)
    print(json.dumps({"rss_kib": _status_kib("VmHWM") - before}))


def _status_kib(field: str) -> int:
    """A memory figure of this process from /proc/self/status, in KiB (ru_maxrss would include
    the parent's peak after fork/exec on Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"{field} not found in /proc/self/status")


def peak_memory(lib: str) -> int:
    """RSS growth of a training step in a fresh process, KiB."""
    out = subprocess.run([sys.executable, __file__, "--child", lib], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])["rss_kib"]


def main() -> None:
    """Time both libraries, compare losses, print ratios."""
    import torch

    import nn

    torch.set_num_threads(2)
    (ROOT / "out").mkdir(exist_ok=True)
    reference = nn.Sequential(
        nn.Conv2d(3, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(64 * 8 * 8, 10),
    )  # fmt: skip
    weights = {k: v.detach().numpy() for k, v in reference.state_dict().items()}
    np.savez(ROOT / "out" / "bench_train_weights.npz", **weights)
    ours, theirs = build("dagrad"), build("torch")
    losses = [(step(*ours), step(*theirs)) for _ in range(2)]
    for a, b in losses:  # the same weights and data give the same losses: equal work
        assert abs(a - b) < 1e-3 * max(1.0, abs(b)), losses
    times = {}
    for name, parts in (("dagrad", ours), ("torch", theirs)):
        best = float("inf")
        for _ in range(STEPS):
            start = time.perf_counter()
            step(*parts)
            best = min(best, time.perf_counter() - start)
        times[name] = best
    memory = {name: peak_memory(name) for name in ("dagrad", "torch")}
    print(f"torch {torch.__version__} ({torch.get_num_threads()} threads), numpy {np.__version__}")
    print("one SGD step of conv-relu-pool-conv-relu-pool-linear on 64x3x32x32 (float32)")
    print(f"first losses (dagrad, torch): {losses[0][0]:.6f} {losses[0][1]:.6f}")
    print(f"{'':10}{'step ms':>10}{'peak RSS MiB':>14}")
    for name in ("dagrad", "torch"):
        print(f"{name:10}{times[name] * 1e3:10.1f}{memory[name] / 1024:14.1f}")
    print(f"time ratio dagrad/torch:   {times['dagrad'] / times['torch']:.2f}x (target <= 2.0x, goal <= 1.5x)")
    print(f"memory ratio dagrad/torch: {memory['dagrad'] / max(memory['torch'], 1):.2f}x (target <= 1.5x)")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        child(sys.argv[2])
    else:
        main()
