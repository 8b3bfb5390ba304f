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

Each row is 1e6 draws (1e5 for ``randperm``). dagrad and numpy are each timed in their own child
processes, 3 each, gated on an idle machine (rerun when other processes used over 3% of the CPUs;
see ``harness.py``); the table shows ``median [min-max]`` ms over the processes of each process's
median. Target: ``rand`` and ``randn`` (float32) within 3x numpy's time.

Run: ``python benchmarks/bench_random.py``; about 20 s on a quiet 2-core machine, up to 2.5 minutes
when every run is loaded and repeated. ``--help`` lists the harness's flags.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

import harness
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
LIBS = ("dagrad", "numpy")
N = 1_000_000
TARGET = "<= 3"  # rand and randn float32: dagrad's time / numpy's
ROWS = ["rand float32", "randn float32", "rand float64", "randn float64", "randint [0, 1000)", "randperm 1e5"]
TARGETED = {"rand float32", "randn float32"}


def dagrad_draws() -> dict[str, Callable[[], object]]:
    """dagrad's draw of each row."""
    sys.path.insert(0, str(ROOT))
    import autograd

    assert Path(autograd.__file__).resolve().is_relative_to(ROOT / "autograd"), autograd.__file__
    autograd.manual_seed(0)
    f64 = autograd.float64
    return dict(
        zip(
            ROWS,
            [
                lambda: autograd.rand(N),
                lambda: autograd.randn(N),
                lambda: autograd.rand(N, dtype=f64),
                lambda: autograd.randn(N, dtype=f64),
                lambda: autograd.randint(0, 1000, (N,)),
                lambda: autograd.randperm(N // 10),
            ],
        )
    )


def numpy_draws() -> dict[str, Callable[[], object]]:
    """numpy's (legacy ``RandomState``) draw of each row."""
    state = np.random.RandomState(0)
    return dict(
        zip(
            ROWS,
            [
                lambda: state.random_sample(N).astype(np.float32),
                lambda: state.standard_normal(N).astype(np.float32),
                lambda: state.random_sample(N),
                lambda: state.standard_normal(N),
                lambda: state.randint(0, 1000, N),
                lambda: state.permutation(N // 10),
            ],
        )
    )


def child(lib: str) -> None:
    """Time every row of ``lib``."""
    draws = dagrad_draws() if lib == "dagrad" else numpy_draws()
    cases = {
        name: lambda fn=fn: harness.time_case(fn, budget_s=0.4, min_repeats=5, max_repeats=50)
        for name, fn in draws.items()
    }
    harness.child_report(lib, cases)


def main(options: harness.Options) -> int:
    """Time both in gated phases and print the table."""
    runs = harness.run_phases(Path(__file__), LIBS, options)
    print("\n".join(harness.machine_lines(runs)))
    print(f"ms per 1e6 draws, median [min-max] over {options.processes} processes of each process's median\n")
    rows = []
    for name in ROWS:
        ours, theirs = (harness.case_spread(runs[lib], name) for lib in LIBS)
        value = harness.ratio(ours, theirs)
        target = TARGET if name in TARGETED else ""
        ok = harness.verdict(value, target)
        row = [name, harness.format_spread(ours), harness.format_spread(theirs), harness.format_ratio(value, 1)]
        rows.append([*row, target + "x" if target else "-", ok])
    print(harness.format_table(["draws", "dagrad", "numpy", "ratio", "target", "ok"], rows))
    print(harness.format_loads(runs, options.max_load, options.max_slowdown))
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    harness.add_options(parser)
    args = parser.parse_args()
    if args.child:
        child(args.child)
    else:
        sys.exit(main(harness.options_from(args)))
