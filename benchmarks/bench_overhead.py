"""Per-op overhead benchmark: dagrad tensors against PyTorch eager and HIPS autograd.

The workload is tiny on purpose, so the time is the framework's bookkeeping, not the
arithmetic: a chain of 100 ops on 8x8 float32 arrays,

    repeat 25 times:  h = h @ W;  h = h + b;  h = h.tanh();  h = h * s
    loss = h.sum();  backward

with ``W`` (8x8), ``b`` (8) and ``s`` (8x8) float32 tensors that require grad and ``h``
starting as a constant 8x8 input. One call is forward + backward (+ clearing the three
``.grad`` fields); the table reports microseconds per op, i.e. the call's time / 100.
For dagrad and PyTorch it also times the forward alone (the chain and the sum, recorded but
not differentiated); HIPS autograd traces and differentiates in one call, so it has no split.

* dagrad - ``import autograd`` from this repository;
* PyTorch eager - ``torch==2.13.0`` (CPU), its default threads (2 on the project's machine);
* HIPS autograd - the ``autograd`` package (pinned below). Its import name is the same as
  dagrad's, so it lives in its own venv, ``.venv-hips`` at the repository root (created on
  the first run, which needs the package index), which runs this script's HIPS child.

Each system is timed in its own child processes, 3 per system, each gated on an idle machine
(rerun when other processes used over 3% of the CPUs; see ``harness.py``); a process times
repeats of about 0.05 s and reports their median; the table shows ``median [min-max]`` over
the processes. dagrad's gradients are checked against PyTorch's and HIPS autograd's
(``rtol=1e-4``), so every system provably does the same work.

Targets: dagrad / torch <= 1.0 (no slower than PyTorch eager per op) and
HIPS / dagrad >= 2.5 (at least 2.5x faster than HIPS autograd).

Run: ``python benchmarks/bench_overhead.py`` (needs ``torch==2.13.0``); about 40 s on a quiet 2-core
machine, longer when runs are loaded or slowed and repeated (up to 30 s of waiting before each),
plus a one-time venv setup. ``--help`` lists the harness's flags (``--processes 1`` for a quick
look).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import venv
from collections.abc import Callable
from pathlib import Path
from typing import Any

import harness
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
HIPS_VENV = ROOT / ".venv-hips"
HIPS_AUTOGRAD_VERSION = "1.9.1"

N_BLOCKS = 25  # 4 ops per block -> 100 ops
N_OPS = 4 * N_BLOCKS
SIZE = 8
SEED = 0
TARGET_TORCH = "<= 1.0"  # dagrad / torch
TARGET_HIPS = ">= 2.5"  # hips / dagrad
LIBS = ("dagrad", "torch", "hips")


def make_inputs() -> dict[str, np.ndarray]:
    """The constant input ``x`` and the parameters ``W``, ``b``, ``s`` (float32, seeded)."""
    rng = np.random.default_rng(SEED)
    return {
        "x": rng.standard_normal((SIZE, SIZE)).astype(np.float32),
        "W": (rng.standard_normal((SIZE, SIZE)) / np.sqrt(SIZE)).astype(np.float32),
        "b": (0.1 * rng.standard_normal(SIZE)).astype(np.float32),
        "s": (1.0 + 0.1 * rng.standard_normal((SIZE, SIZE))).astype(np.float32),
    }


def timing(fn: Callable[[], Any]) -> Callable[[], dict[str, float]]:
    """The harness's timing of ``fn``: repeats of about 0.05 s for about 0.8 s."""
    return lambda: harness.time_case(fn, budget_s=0.8, repeat_s=0.05, min_repeats=9, max_repeats=30)


# ---------------------------------------------------------------- the children
def tensor_child(lib: str) -> None:
    """dagrad's or PyTorch's child: the same program on either library."""
    if lib == "torch":
        import torch
    else:
        sys.path.insert(0, str(ROOT))
        import autograd as torch  # noqa: ICN001 - the same code for both libraries

        assert Path(torch.__file__).resolve().is_relative_to(ROOT / "autograd"), torch.__file__
    arrays = make_inputs()
    x = torch.tensor(arrays["x"])
    W, b, s = (torch.tensor(arrays[k]).requires_grad_(True) for k in "Wbs")

    def forward() -> Any:
        h = x
        for _ in range(N_BLOCKS):
            h = h @ W
            h = h + b
            h = h.tanh()
            h = h * s
        return h.sum()

    def step() -> None:
        W.grad = b.grad = s.grad = None
        forward().backward()

    step()
    grads = [t.grad.numpy().tolist() for t in (W, b, s)]
    harness.child_report(lib, {"step": timing(step), "forward": timing(forward)}, check=grads)


def hips_child() -> None:
    """Runs inside ``.venv-hips``: HIPS autograd's child."""
    import autograd.numpy as anp

    import autograd
    from autograd import grad

    assert not hasattr(autograd, "Scalar"), f"expected HIPS autograd, got {autograd.__file__}"
    arrays = make_inputs()
    x = arrays["x"]

    def loss(params: tuple) -> Any:
        W, b, s = params
        h = x
        for _ in range(N_BLOCKS):
            h = anp.matmul(h, W)
            h = h + b
            h = anp.tanh(h)
            h = h * s
        return anp.sum(h)

    loss_grad = grad(loss)
    params = (arrays["W"], arrays["b"], arrays["s"])
    grads = [np.asarray(g).tolist() for g in loss_grad(params)]
    version = getattr(autograd, "__version__", HIPS_AUTOGRAD_VERSION)
    harness.child_report(
        "hips", {"step": timing(lambda: loss_grad(params))}, check=grads, info={"HIPS autograd": version}
    )


# ---------------------------------------------------------------- the parent
def ensure_hips_venv() -> Path:
    """Create ``.venv-hips`` with HIPS autograd (and this venv's numpy version) if missing."""
    python = HIPS_VENV / "bin" / "python"
    stamp = HIPS_VENV / f"hips-autograd-{HIPS_AUTOGRAD_VERSION}-numpy-{np.__version__}"
    if python.exists() and stamp.exists():
        return python
    print(f"creating {HIPS_VENV.relative_to(ROOT)} (HIPS autograd {HIPS_AUTOGRAD_VERSION}) ...", flush=True)
    venv.EnvBuilder(with_pip=True, clear=True).create(HIPS_VENV)
    subprocess.run(
        [
            str(python),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            f"autograd=={HIPS_AUTOGRAD_VERSION}",
            f"numpy=={np.__version__}",
        ],
        check=True,
    )
    stamp.touch()
    return python


def main(options: harness.Options) -> int:
    """Time the three systems in gated phases, check their gradients agree, print the table; 1 if they do not."""
    libs: tuple[str, ...] = LIBS
    commands = {}
    with tempfile.TemporaryDirectory() as tmp:
        try:
            python = ensure_hips_venv()
        except (OSError, subprocess.CalledProcessError) as exc:  # no index to install from, ...
            print(f"HIPS autograd unavailable ({type(exc).__name__}: {exc}); timing dagrad and torch only")
            libs = LIBS[:2]
        else:
            # From a temporary folder and without PYTHONPATH, so `import autograd` is HIPS's.
            env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
            commands["hips"] = harness.ChildCommand(python=str(python), cwd=tmp, env=env)
        runs = harness.run_phases(Path(__file__), libs, options, commands=commands)

    print("\n".join(harness.machine_lines(runs)))
    print(
        f"chain of {N_OPS} ops on {SIZE}x{SIZE} float32 ({N_BLOCKS} x [@ W, + b, tanh, * s]) + sum + backward\n"
        f"µs per op (a call / {N_OPS}), median [min-max] over {options.processes} processes of each process's median\n"
    )
    rows = []
    step = {lib: harness.case_spread(runs[lib], "step") for lib in libs}
    for lib in libs:
        forward = harness.case_spread(runs[lib], "forward")
        backward = None if forward is None else step[lib].median - forward.median
        rows.append(
            [
                {"dagrad": "dagrad", "torch": "torch eager", "hips": "HIPS autograd"}[lib],
                harness.format_spread(step[lib], 1e6 / N_OPS, 2),
                harness.format_spread(forward, 1e6 / N_OPS, 2),
                "-" if backward is None else f"{backward * 1e6 / N_OPS:.2f}",
            ]
        )
    print(harness.format_table(["system", "forward+backward", "forward", "backward (difference)"], rows))

    print()
    rows = []
    r_torch = harness.ratio(step["dagrad"], step["torch"])
    rows.append(["dagrad / torch", harness.format_ratio(r_torch), TARGET_TORCH, harness.verdict(r_torch, TARGET_TORCH)])
    r_hips = harness.ratio(step.get("hips"), step["dagrad"])
    rows.append(["HIPS / dagrad", harness.format_ratio(r_hips), TARGET_HIPS, harness.verdict(r_hips, TARGET_HIPS)])
    print(harness.format_table(["ratio of medians", "value", "target", "ok"], rows))

    # Equal work: dagrad's gradients (every process) agree with the first torch and HIPS processes'.
    ours = [np.asarray(g) for run in runs["dagrad"] for g in run.report["check"]]
    same = True
    for lib in libs[1:]:
        theirs = [np.asarray(g) for g in runs[lib][0].report["check"]] * len(runs["dagrad"])
        same &= all(np.allclose(a, b, rtol=1e-4, atol=1e-6) for a, b in zip(ours, theirs))
    print(
        f"\nequal work: dagrad's gradients agree with {' and '.join(libs[1:])}'s (rtol 1e-4): {'yes' if same else 'NO'}"
    )
    print(harness.format_loads(runs, options.max_load, options.max_slowdown))
    return 0 if same else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    harness.add_options(parser)
    args = parser.parse_args()
    if args.child == "hips":
        hips_child()
    elif args.child:
        tensor_child(args.child)
    else:
        sys.exit(main(harness.options_from(args)))
