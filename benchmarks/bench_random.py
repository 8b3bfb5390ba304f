"""Random-number benchmark: ``autograd.rand``/``randn`` (PyTorch's numbers) against numpy's own.

dagrad reproduces PyTorch's CPU generator bit for bit: numpy's ``MT19937`` supplies the same
32-bit words (``random_raw``), and numpy operations turn them into PyTorch's numbers. This
measures what that costs against numpy's legacy ``RandomState``, which draws from the same
Mersenne Twister:

* ``rand`` (float32): one word per number, masked and scaled: about numpy's speed.
* ``randn`` (float32): PyTorch's AVX2 Box-Muller, its float32 log/sin/cos polynomials
  replayed with exact fused multiply-adds, in cache-sized chunks.
* float64 variants, ``randint`` and ``randperm`` for reference (``randn`` float64 asks the C
  library's log for every number, through long double, which costs most).

Each row is the best of several runs of 1e6 draws (1e5 for ``randperm``), the two sides
alternating. Target: ``rand`` and ``randn`` (float32) within 3x numpy's time.

Run: ``python benchmarks/bench_random.py`` (a few seconds).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import autograd  # noqa: E402

assert Path(autograd.__file__).resolve().is_relative_to(ROOT / "autograd"), autograd.__file__

N = 1_000_000
ROUNDS = 7
TARGET = 3.0  # rand and randn float32: at most this many times numpy's time


def best_time(fn: Callable[[], object], rounds: int = ROUNDS) -> float:
    """The fastest of ``rounds`` calls, in seconds."""
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def compare(ours: Callable[[], object], numpys: Callable[[], object]) -> tuple[float, float]:
    """Both timed, alternating rounds so that a change in machine load hits both."""
    t_ours, t_numpy = float("inf"), float("inf")
    for _ in range(ROUNDS):
        t_ours = min(t_ours, best_time(ours, 1))
        t_numpy = min(t_numpy, best_time(numpys, 1))
    return t_ours, t_numpy


def main() -> None:
    state = np.random.RandomState(0)
    autograd.manual_seed(0)
    f64 = autograd.float64
    rows = [
        ("rand float32", lambda: autograd.rand(N), lambda: state.random_sample(N).astype(np.float32), True),
        ("randn float32", lambda: autograd.randn(N), lambda: state.standard_normal(N).astype(np.float32), True),
        ("rand float64", lambda: autograd.rand(N, dtype=f64), lambda: state.random_sample(N), False),
        ("randn float64", lambda: autograd.randn(N, dtype=f64), lambda: state.standard_normal(N), False),
        ("randint [0, 1000)", lambda: autograd.randint(0, 1000, (N,)), lambda: state.randint(0, 1000, N), False),
        ("randperm 1e5", lambda: autograd.randperm(N // 10), lambda: state.permutation(N // 10), False),
    ]
    print(f"{'1e6 draws':<20}{'dagrad (ms)':>13}{'numpy (ms)':>13}{'ratio':>9}")
    failed = []
    for name, ours, numpys, targeted in rows:
        t_ours, t_numpy = compare(ours, numpys)
        ratio = t_ours / t_numpy
        mark = "" if not targeted else ("  ok" if ratio <= TARGET else f"  over {TARGET:g}x")
        print(f"{name:<20}{t_ours * 1e3:>13.1f}{t_numpy * 1e3:>13.1f}{ratio:>8.1f}x{mark}")
        if targeted and ratio > TARGET:
            failed.append(name)
    if failed:
        print(f"\nslower than {TARGET:g}x numpy: {', '.join(failed)} (a loaded machine can cause this; rerun)")


if __name__ == "__main__":
    main()
