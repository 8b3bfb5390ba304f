"""One CNN training step, dagrad vs PyTorch CPU: step time at three batch sizes, and peak memory.

The step is forward, cross-entropy, backward and an SGD update (momentum 0.9) of

    conv(3->32, 3x3, p1) - relu - maxpool2 - conv(32->64, 3x3, p1) - relu - maxpool2 - linear(64*8*8 -> 10)

on a batch of 16, 64 and 256 CIFAR-shaped inputs (3x32x32), float32. Both libraries start from the
same weights and data (drawn with numpy), and the first two losses of each batch size must agree
(equal work); they are computed before the timing.

Timing (see ``harness.py``): each library runs in its own child processes, 3 per library, each
gated on an idle machine (rerun when other processes used over 3% of the CPUs); a case shows
``median [min-max]`` over the processes of each process's median step time. Both libraries use
their default threads (2 on the project's 2-core machine). Peak memory is the resident set size
high-water mark (VmHWM) of one fresh process per library that runs 3 steps at batch 64, minus its
resident size before the first step (so the libraries' import sizes cancel).

Targets (issue 18): step time <= 1.5x PyTorch at batch 16, 64 and 256; peak RSS within 1.5x.

Run: ``python benchmarks/bench_train.py`` (needs ``torch==2.13.0``: ``make oracle``); about a minute
on a quiet 2-core machine, longer when runs are loaded or slowed and repeated (up to 30 s of waiting
before each). ``--help`` lists the harness's flags (``--processes 1`` for a quick look).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import harness
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
BATCHES = (16, 64, 256)
MEMORY_BATCH = 64
TARGET_TIME = "<= 1.5"
TARGET_MEMORY = "<= 1.5"
LIBS = ("dagrad", "torch")


def import_library(lib: str) -> tuple[Any, Any, Any]:
    """(the tensor module, the nn module, the optim module) of ``lib``: the same code runs on both."""
    if lib == "torch":
        import torch
        from torch import nn

        return torch, nn, torch.optim
    sys.path.insert(0, str(ROOT))
    import autograd
    import nn

    assert Path(autograd.__file__).resolve().is_relative_to(ROOT / "autograd"), autograd.__file__
    return autograd, nn, nn.optim


def build(lib: str, batch: int) -> tuple[Any, ...]:
    """The model, loss, optimizer and a fixed batch in ``lib``, with weights drawn by numpy (seeded),
    so both libraries start from the same numbers."""
    torch, nn, optim = import_library(lib)
    model = nn.Sequential(
        nn.Conv2d(3, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(64 * 8 * 8, 10),
    )  # fmt: skip
    rng = np.random.default_rng(0)
    shapes = {name: tuple(value.shape) for name, value in model.state_dict().items()}
    weights = {}
    for name in sorted(shapes):  # PyTorch's default: uniform within 1/sqrt(fan_in) of the layer's weight
        bound = 1.0 / np.sqrt(np.prod(shapes[name.rsplit(".", 1)[0] + ".weight"][1:]))
        weights[name] = torch.tensor(rng.uniform(-bound, bound, shapes[name]).astype(np.float32))
    model.load_state_dict(weights)
    data = np.random.default_rng(batch)
    x = torch.tensor(data.standard_normal((batch, 3, 32, 32)).astype(np.float32))
    y = torch.tensor(data.integers(0, 10, batch))
    opt = optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    return model, nn.CrossEntropyLoss(), opt, x, y


def step(model: Any, loss_fn: Any, opt: Any, x: Any, y: Any) -> float:
    """One training step; returns the loss."""
    opt.zero_grad()
    loss = loss_fn(model(x), y)
    loss.backward()
    opt.step()
    return loss.item()


def child(lib: str) -> None:
    """Time ``lib``'s step at every batch size and print the report (the first losses are the check)."""
    losses, cases = {}, {}
    for batch in BATCHES:
        parts = build(lib, batch)
        losses[str(batch)] = [step(*parts) for _ in range(2)]  # before the timing: equal work
        cases[f"batch {batch}"] = lambda parts=parts: harness.time_case(
            lambda: step(*parts), budget_s=1.0, min_repeats=5, max_repeats=30
        )
    harness.child_report(lib, cases, check=losses)


def memory_child(lib: str) -> None:
    """In a fresh process: print the RSS growth of 3 steps at batch 64 (KiB) as JSON."""
    parts = build(lib, MEMORY_BATCH)
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
    out = subprocess.run([sys.executable, __file__, "--memory", lib], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])["rss_kib"]


def main(options: harness.Options) -> int:
    """Time both libraries in gated phases, compare losses and memory, print the table; 1 if a check fails."""
    runs = harness.run_phases(Path(__file__), LIBS, options)
    memory = {lib: peak_memory(lib) for lib in LIBS}

    print("\n".join(harness.machine_lines(runs)))
    print("one SGD step of conv-relu-pool-conv-relu-pool-linear on Nx3x32x32 (float32)")
    print(f"ms per step, median [min-max] over {options.processes} processes of each process's median\n")
    rows = []
    for batch in BATCHES:
        case = f"batch {batch}"
        ours, theirs = (harness.case_spread(runs[lib], case) for lib in LIBS)
        value = harness.ratio(ours, theirs)
        rows.append(
            [
                case,
                harness.format_spread(ours),
                harness.format_spread(theirs),
                harness.format_ratio(value),
                TARGET_TIME + "x",
                harness.verdict(value, TARGET_TIME),
            ]
        )
    mem_ratio = memory["dagrad"] / max(memory["torch"], 1)
    rows.append(
        [
            f"peak RSS MiB (batch {MEMORY_BATCH})",
            f"{memory['dagrad'] / 1024:.1f}",
            f"{memory['torch'] / 1024:.1f}",
            harness.format_ratio(mem_ratio),
            TARGET_MEMORY + "x",
            harness.verdict(mem_ratio, TARGET_MEMORY),
        ]
    )
    print(harness.format_table(["", "dagrad", "torch", "ratio", "target", "ok"], rows))

    # Equal work: every process's first losses agree with PyTorch's first process.
    reference = runs["torch"][0].report["check"]
    worst = 0.0
    for run in runs["dagrad"] + runs["torch"]:
        for batch, values in run.report["check"].items():
            for a, b in zip(values, reference[batch]):
                worst = max(worst, abs(a - b) / max(1.0, abs(b)))
    same = worst < 1e-3
    first = {lib: runs[lib][0].report["check"]["64"][0] for lib in LIBS}
    print(
        f"\nequal work: first losses at batch 64 {first['dagrad']:.6f} (dagrad) {first['torch']:.6f} (torch); "
        f"all losses agree to {worst:.1e} (limit 1e-3): {'yes' if same else 'NO'}"
    )
    print(harness.format_loads(runs, options.max_load, options.max_slowdown))
    return 0 if same else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    harness.add_options(parser)
    parser.add_argument("--memory", metavar="LIB", help=argparse.SUPPRESS)  # internal: the peak-RSS child
    args = parser.parse_args()
    if args.child:
        child(args.child)
    elif args.memory:
        memory_child(args.memory)
    else:
        sys.exit(main(harness.options_from(args)))
