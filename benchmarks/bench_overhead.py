"""Per-op overhead benchmark: dagrad tensors against PyTorch eager and HIPS autograd.

The workload is tiny on purpose, so the time is the framework's bookkeeping, not the
arithmetic: a chain of 100 ops on 8x8 float32 arrays,

    repeat 25 times:  h = h @ W;  h = h + b;  h = h.tanh();  h = h * s
    loss = h.sum();  backward

with ``W`` (8x8), ``b`` (8) and ``s`` (8x8) float32 tensors that require grad and ``h``
starting as a constant 8x8 input. One call is forward + backward (+ clearing the three
``.grad`` fields); the table reports microseconds per op, i.e. the call's time / 100.
For dagrad and PyTorch it also splits that into forward (the chain and the sum, recorded
but not differentiated; min) and backward (the difference); HIPS autograd traces and
differentiates in one call, so it has no split.

Each system runs ``REPEATS`` repeats of as many calls as fill about ``REPEAT_SECONDS``;
the per-call time of a repeat is its mean, and the table shows the min (used for the
ratios, as ``timeit`` advises) and the median over the repeats.

* dagrad - ``import autograd`` from this repository;
* PyTorch eager - ``torch==2.13.0`` (CPU), with its default thread count and with
  ``torch.set_num_threads(1)``; the ratio uses whichever is faster;
* HIPS autograd - the ``autograd`` package (pinned below). Its import name is the same as
  dagrad's, so it lives in its own venv, ``.venv-hips`` at the repository root (created on
  the first run, which needs the package index), and runs as a subprocess of this script
  that prints its timing (and gradients) as JSON.

dagrad's gradients are checked against PyTorch's and HIPS autograd's (``rtol=1e-4``), so
every system provably does the same work.

Targets: dagrad / torch <= 1.0 (no slower than PyTorch eager per op) and
hips / dagrad >= 2.5 (at least 2.5x faster than HIPS autograd).

Run: ``python benchmarks/bench_overhead.py`` (about 30 s, plus a one-time venv setup).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import venv
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
HIPS_VENV = ROOT / ".venv-hips"
HIPS_AUTOGRAD_VERSION = "1.9.1"

N_BLOCKS = 25  # 4 ops per block -> 100 ops
N_OPS = 4 * N_BLOCKS
SIZE = 8
SEED = 0
REPEATS = 15
REPEAT_SECONDS = 0.2
TARGET_TORCH = 1.0  # dagrad / torch must be <= this
TARGET_HIPS = 2.5  # hips / dagrad must be >= this


def make_inputs() -> dict[str, np.ndarray]:
    """The constant input ``x`` and the parameters ``W``, ``b``, ``s`` (float32, seeded)."""
    rng = np.random.default_rng(SEED)
    return {
        "x": rng.standard_normal((SIZE, SIZE)).astype(np.float32),
        "W": (rng.standard_normal((SIZE, SIZE)) / np.sqrt(SIZE)).astype(np.float32),
        "b": (0.1 * rng.standard_normal(SIZE)).astype(np.float32),
        "s": (1.0 + 0.1 * rng.standard_normal((SIZE, SIZE))).astype(np.float32),
    }


def measure(fn: Callable[[], Any]) -> dict[str, float]:
    """Seconds per call of ``fn``: min and median over ``REPEATS`` timed repeats."""
    fn()  # warm-up
    t0 = time.perf_counter()
    fn()
    once = max(time.perf_counter() - t0, 1e-7)
    number = max(1, int(REPEAT_SECONDS / once))
    per_call = []
    for _ in range(REPEATS):
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        per_call.append((time.perf_counter() - t0) / number)
    return {"min": min(per_call), "median": statistics.median(per_call), "number": number}


# ---------------------------------------------------------------- the three systems
def bench_dagrad(arrays: dict[str, np.ndarray]) -> tuple[dict[str, float], list[np.ndarray]]:
    sys.path.insert(0, str(ROOT))
    import autograd

    assert Path(autograd.__file__).resolve().is_relative_to(ROOT / "autograd"), autograd.__file__
    x = autograd.tensor(arrays["x"])
    W, b, s = (autograd.tensor(arrays[k], requires_grad=True) for k in "Wbs")

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
    grads = [t.grad.numpy().copy() for t in (W, b, s)]
    return {**measure(step), "forward": measure(forward)["min"]}, grads


def bench_torch(arrays: dict[str, np.ndarray], threads: int | None) -> tuple[dict[str, float], list[np.ndarray]]:
    import torch

    default_threads = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(threads)
    try:
        x = torch.from_numpy(arrays["x"].copy())
        W, b, s = (torch.from_numpy(arrays[k].copy()).requires_grad_() for k in "Wbs")

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
        grads = [t.grad.numpy().copy() for t in (W, b, s)]
        return {**measure(step), "forward": measure(forward)["min"]}, grads
    finally:
        torch.set_num_threads(default_threads)


def hips_main(npz: str) -> None:
    """Runs inside ``.venv-hips``: time HIPS autograd and print the result as JSON."""
    import autograd.numpy as anp

    import autograd
    from autograd import grad

    assert not hasattr(autograd, "Scalar"), f"expected HIPS autograd, got {autograd.__file__}"
    arrays = dict(np.load(npz))
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

    def step() -> None:
        loss_grad(params)

    grads = loss_grad(params)
    print(
        json.dumps(
            {
                "timing": measure(step),
                "grads": [np.asarray(g).tolist() for g in grads],
                "grad_dtypes": [str(np.asarray(g).dtype) for g in grads],
                "version": getattr(autograd, "__version__", HIPS_AUTOGRAD_VERSION),
                "numpy": np.__version__,
            }
        )
    )


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


def bench_hips(arrays: dict[str, np.ndarray]) -> tuple[dict[str, float], list[np.ndarray], str]:
    python = ensure_hips_venv()
    with tempfile.TemporaryDirectory() as tmp:
        npz = os.path.join(tmp, "inputs.npz")
        np.savez(npz, **arrays)
        # Run from a temporary folder and without PYTHONPATH, so `import autograd` is HIPS's.
        env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        proc = subprocess.run(
            [str(python), str(Path(__file__).resolve()), "--hips", npz],
            cwd=tmp,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
    if proc.returncode != 0:
        raise RuntimeError(f"HIPS autograd subprocess failed:\n{proc.stderr}")
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    grads = [np.asarray(g, dtype=d) for g, d in zip(out["grads"], out["grad_dtypes"])]
    return out["timing"], grads, f"autograd {out['version']}, numpy {out['numpy']}"


# ---------------------------------------------------------------- report
def main() -> None:
    arrays = make_inputs()
    import torch

    results: dict[str, dict[str, float]] = {}
    dag_timing, dag_grads = bench_dagrad(arrays)
    results["dagrad"] = dag_timing
    default_threads = torch.get_num_threads()
    for label, threads in ((f"torch eager ({default_threads} threads)", None), ("torch eager (1 thread)", 1)):
        timing, torch_grads = bench_torch(arrays, threads)
        results[label] = timing
        for name, g_dag, g_ref in zip("Wbs", dag_grads, torch_grads):
            np.testing.assert_allclose(g_dag, g_ref, rtol=1e-4, atol=1e-6, err_msg=f"dagrad vs torch: d/d{name}")
    try:
        hips_timing, hips_grads, hips_version = bench_hips(arrays)
    except (OSError, RuntimeError, subprocess.CalledProcessError) as exc:  # no index to install from, ...
        hips_version = f"unavailable ({type(exc).__name__}: {str(exc).strip().splitlines()[-1][:200]})"
    else:
        results["HIPS autograd"] = hips_timing
        for name, g_dag, g_ref in zip("Wbs", dag_grads, hips_grads):
            np.testing.assert_allclose(g_dag, g_ref, rtol=1e-4, atol=1e-6, err_msg=f"dagrad vs HIPS: d/d{name}")

    print(f"Python {sys.version.split()[0]}, numpy {np.__version__}, torch {torch.__version__}, HIPS {hips_version}")
    print(
        f"chain of {N_OPS} ops on {SIZE}x{SIZE} float32 ({N_BLOCKS} x [@ W, + b, tanh, * s]) + sum + backward; "
        "gradients of dagrad, torch and HIPS agree (rtol 1e-4)"
    )
    print(f"per call: min and median over {REPEATS} repeats of ~{REPEAT_SECONDS}s each\n")
    header = f"{'system':<28}{'µs/call min':>13}{'µs/op min':>11}{'µs/op median':>14}{'fwd µs/op':>11}{'bwd µs/op':>11}"
    print(header)
    print("-" * len(header))
    for name, t in results.items():
        fwd = t.get("forward")
        split = f"{fwd * 1e6 / N_OPS:>11.2f}{(t['min'] - fwd) * 1e6 / N_OPS:>11.2f}" if fwd else f"{'-':>11}{'-':>11}"
        per_op = f"{t['min'] * 1e6 / N_OPS:>11.2f}{t['median'] * 1e6 / N_OPS:>14.2f}"
        print(f"{name:<28}{t['min'] * 1e6:>13.1f}{per_op}{split}")

    dag = results["dagrad"]["min"]
    torch_name = min((k for k in results if k.startswith("torch")), key=lambda k: results[k]["min"])
    torch_best = results[torch_name]["min"]
    print()
    print(f"{'ratio (min)':<36}{'value':>8}{'target':>9}  ok")
    r_torch = dag / torch_best
    print(
        f"{'dagrad / ' + torch_name:<36}{r_torch:>8.2f}{'<= ' + format(TARGET_TORCH, 'g'):>9}  "
        f"{'yes' if r_torch <= TARGET_TORCH else 'NO'}"
    )
    if "HIPS autograd" in results:
        r_hips = results["HIPS autograd"]["min"] / dag
        print(
            f"{'HIPS autograd / dagrad':<36}{r_hips:>8.2f}{'>= ' + format(TARGET_HIPS, 'g'):>9}  "
            f"{'yes' if r_hips >= TARGET_HIPS else 'NO'}"
        )
    else:
        print(f"{'HIPS autograd / dagrad':<36}{'n/a':>8}{'>= ' + format(TARGET_HIPS, 'g'):>9}  -")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hips", metavar="NPZ", help=argparse.SUPPRESS)  # internal: the HIPS subprocess
    args = parser.parse_args()
    if args.hips:
        hips_main(args.hips)
    else:
        main()
