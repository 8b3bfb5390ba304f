"""Convolution and max-pooling speed: dagrad vs PyTorch CPU, with numpy's GEMM as the floor.

Cases, float32, batch 64:

* conv2d stride 1 on three shapes, forward (under ``no_grad``) and forward+backward (the gradients
  of input, weight and bias from a given output gradient);
* the numpy GEMM floor of each convolution: the same matrix products on an im2col-shaped buffer,
  ``(C_out, K) @ (K, N*H*W)`` for forward and three such products for forward+backward (an im2col
  design cannot beat it on this machine);
* max_pool2d 2x2 stride 2 on two shapes, forward and forward+backward.

Each library (dagrad, torch, numpy) is timed in its own child processes, 3 per library, each gated
on an idle machine (rerun when other processes used over 3% of the CPUs; see ``harness.py``). The
tables show ``median [min-max]`` ms over the processes of each process's median time, the ratio of
the medians to PyTorch, and dagrad's ratio to the GEMM floor. dagrad's and PyTorch's outputs and
gradients are compared before the timing (equal work). Both libraries use their default threads
(2 on the project's 2-core machine).

Targets (issue 18): conv2d forward+backward <= 2.0x PyTorch on every shape; max_pool2d
forward+backward <= 1.0x PyTorch on both shapes. The forward rows are shown for reference (no
target: a training step always runs both).

Run: ``python benchmarks/bench_conv.py`` (needs ``torch==2.13.0``: ``make oracle``); about a minute
on a quiet 2-core machine, longer when runs are loaded or slowed and repeated (up to 30 s of waiting
before each). ``--help`` lists the harness's flags (``--processes 1`` for a quick look).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import harness
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
LIBS = ("dagrad", "torch", "numpy")
CONV_SHAPES = [  # (x shape, w shape, padding)
    ((64, 3, 32, 32), (32, 3, 3, 3), 1),
    ((64, 32, 16, 16), (64, 32, 3, 3), 1),
    ((64, 32, 16, 16), (64, 32, 1, 1), 0),
]
POOL_SHAPES = [(64, 32, 32, 32), (64, 64, 16, 16)]
TARGET_CONV = "<= 2.0"
TARGET_POOL = "<= 1.0"
RTOL = 2e-3  # float32 sums of up to 65,536 terms, in a different order


def timing(fn: Any) -> Any:
    """The harness's timing of ``fn`` with this script's budget (about 0.4 s a case)."""
    return lambda: harness.time_case(fn, budget_s=0.4, min_repeats=5, max_repeats=200)


def out_hw(xs: tuple, ws: tuple, padding: int) -> tuple[int, int]:
    """Height and width of a stride-1 convolution's output."""
    return xs[2] + 2 * padding - ws[2] + 1, xs[3] + 2 * padding - ws[3] + 1


def conv_inputs(xs: tuple, ws: tuple, padding: int, seed: int) -> tuple[np.ndarray, ...]:
    """x, w, b and the output gradient of a convolution case (seeded, the same in every child)."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(xs).astype(np.float32)
    w = rng.standard_normal(ws).astype(np.float32)
    b = rng.standard_normal(ws[0]).astype(np.float32)
    grad = rng.standard_normal((xs[0], ws[0], *out_hw(xs, ws, padding))).astype(np.float32)
    return x, w, b, grad


def tensor_child(lib: str) -> None:
    """dagrad's or PyTorch's cases; the check holds projections of every output and gradient."""
    if lib == "torch":
        import torch
        from torch.nn.functional import conv2d, max_pool2d

        no_grad = torch.no_grad
    else:
        sys.path.insert(0, str(ROOT))
        import autograd as torch  # noqa: ICN001 - the same code for both libraries
        from autograd import conv2d, max_pool2d, no_grad

        assert Path(torch.__file__).resolve().is_relative_to(ROOT / "autograd"), torch.__file__

    cases, check = {}, {}
    for i, (xs, ws, padding) in enumerate(CONV_SHAPES, 1):
        x, w, b, g = (torch.tensor(a) for a in conv_inputs(xs, ws, padding, seed=i))
        for t in (x, w, b):
            t.requires_grad_(True)

        def fwd(x=x, w=w, b=b, padding=padding) -> Any:
            with no_grad():
                return conv2d(x, w, b, padding=padding)

        def step(x=x, w=w, b=b, g=g, padding=padding) -> None:
            x.grad = w.grad = b.grad = None
            conv2d(x, w, b, padding=padding).backward(g)

        out = fwd()
        step()
        check[f"conv{i}"] = [harness.projection(a.detach().numpy()) for a in (out, x.grad, w.grad, b.grad)]
        cases[f"conv{i} fwd"], cases[f"conv{i} f+b"] = timing(fwd), timing(step)
    for j, xs in enumerate(POOL_SHAPES, 1):
        rng = np.random.default_rng(10 + j)
        x = torch.tensor(rng.standard_normal(xs).astype(np.float32)).requires_grad_(True)
        g = torch.tensor(rng.standard_normal((*xs[:2], xs[2] // 2, xs[3] // 2)).astype(np.float32))

        def fwd(x=x) -> Any:
            with no_grad():
                return max_pool2d(x, 2, 2)

        def step(x=x, g=g) -> None:
            x.grad = None
            max_pool2d(x, 2, 2).backward(g)

        out = fwd()
        step()
        check[f"pool{j}"] = [harness.projection(a.detach().numpy()) for a in (out, x.grad)]
        cases[f"pool{j} fwd"], cases[f"pool{j} f+b"] = timing(fwd), timing(step)
    harness.child_report(lib, cases, check=check)


def gemm_child() -> None:
    """The floor: numpy GEMMs of each convolution's im2col shape, as fast as numpy runs them here:
    results written into buffers made once (no fresh pages), and the long rows of the column
    matrices ``ROW_PAD`` elements further apart than their length (rows of a power-of-two length
    fall on the same cache sets, which slows the products 1.15-1.2x; dagrad's kernels do the same)."""
    sys.path.insert(0, str(ROOT))
    from autograd.kernels.conv import ROW_PAD  # dagrad's own padding (importing dagrad needs numpy only)

    cases = {}
    for i, (xs, ws, padding) in enumerate(CONV_SHAPES, 1):
        rng = np.random.default_rng(i)
        h, w = out_hw(xs, ws, padding)
        k_dim, cols = ws[1] * ws[2] * ws[3], xs[0] * h * w
        w_mat = rng.standard_normal((ws[0], k_dim)).astype(np.float32)
        col_buf, g_mat, y, dx = (padded_rows(rows, cols, ROW_PAD) for rows in (k_dim, ws[0], ws[0], k_dim))
        col_buf[...] = rng.standard_normal(col_buf.shape)
        g_mat[...] = rng.standard_normal(g_mat.shape)
        dw = np.empty((ws[0], k_dim), np.float32)

        def fwd(w_mat=w_mat, col_buf=col_buf, y=y) -> None:
            np.matmul(w_mat, col_buf, out=y)

        def step(w_mat=w_mat, col_buf=col_buf, g_mat=g_mat, y=y, dx=dx, dw=dw) -> None:
            np.matmul(w_mat, col_buf, out=y)
            np.matmul(w_mat.T, g_mat, out=dx)
            np.matmul(col_buf, g_mat.T, out=dw.T)  # (the orientation numpy runs faster here)

        cases[f"conv{i} fwd"], cases[f"conv{i} f+b"] = timing(fwd), timing(step)
    harness.child_report("numpy", cases)


def padded_rows(rows: int, length: int, pad: int) -> np.ndarray:
    """An empty float32 (rows, length) matrix whose rows lie ``pad`` elements further apart than their length."""
    return np.empty((rows, length + pad), np.float32)[:, :length]


def shape(dims: tuple) -> str:
    """``64x3x32x32``: a shape as the tables print it."""
    return "x".join(map(str, dims))


def flops(xs: tuple, ws: tuple, padding: int) -> float:
    """Multiply-adds x 2 of one forward convolution."""
    h, w = out_hw(xs, ws, padding)
    return 2.0 * ws[0] * ws[1] * ws[2] * ws[3] * xs[0] * h * w


def main(options: harness.Options) -> int:
    """Time the three libraries in gated phases, check equal work, print the tables; 1 if a check fails."""
    runs = harness.run_phases(Path(__file__), LIBS, options)
    print("\n".join(harness.machine_lines(runs)))
    print(f"ms per call, median [min-max] over {options.processes} processes of each process's median\n")

    rows = []
    for i, (xs, ws, padding) in enumerate(CONV_SHAPES, 1):
        for kind, passes in (("fwd", 1), ("f+b", 3)):
            case = f"conv{i} {kind}"
            ours, theirs, floor = (harness.case_spread(runs[lib], case) for lib in LIBS)
            value = harness.ratio(ours, theirs)
            rows.append(
                [
                    f"{shape(xs)} * {shape(ws)} p{padding} {kind}",
                    harness.format_spread(ours),
                    harness.format_spread(theirs),
                    harness.format_ratio(value),
                    TARGET_CONV + "x" if kind == "f+b" else "-",
                    harness.verdict(value, TARGET_CONV) if kind == "f+b" else "-",
                    harness.format_spread(floor),
                    harness.format_ratio(harness.ratio(ours, floor)),
                    f"{passes * flops(xs, ws, padding) / ours.median / 1e9:.1f}",
                ]
            )
    headers = ["conv2d, stride 1", "dagrad", "torch", "ratio", "target", "ok", "numpy GEMM", "/GEMM", "GFLOP/s"]
    print(harness.format_table(headers, rows))

    rows = []
    for j, xs in enumerate(POOL_SHAPES, 1):
        for kind in ("fwd", "f+b"):
            ours, theirs = (harness.case_spread(runs[lib], f"pool{j} {kind}") for lib in ("dagrad", "torch"))
            value = harness.ratio(ours, theirs)
            rows.append(
                [
                    f"{shape(xs)} {kind}",
                    harness.format_spread(ours),
                    harness.format_spread(theirs),
                    harness.format_ratio(value),
                    TARGET_POOL + "x" if kind == "f+b" else "-",
                    harness.verdict(value, TARGET_POOL) if kind == "f+b" else "-",
                ]
            )
    print()
    print(harness.format_table(["max_pool2d 2x2, stride 2", "dagrad", "torch", "ratio", "target", "ok"], rows))

    # Equal work: every dagrad process's outputs and gradients agree with PyTorch's first process.
    reference = runs["torch"][0].report["check"]
    differ = [
        f"{name} (value {k})"
        for run in runs["dagrad"]
        for name, projections in run.report["check"].items()
        for k, (ours, theirs) in enumerate(zip(projections, reference[name]))
        if not harness.projections_agree(ours, theirs, RTOL)
    ]
    print(
        "\nequal work: dagrad's outputs and gradients agree with PyTorch's "
        f"(random projections, rtol {RTOL:g}): {'yes' if not differ else 'NO: ' + ', '.join(sorted(set(differ)))}"
    )
    print(harness.format_loads(runs, options.max_load, options.max_slowdown))
    return 0 if not differ else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    harness.add_options(parser)
    args = parser.parse_args()
    if args.child == "numpy":
        gemm_child()
    elif args.child:
        tensor_child(args.child)
    else:
        sys.exit(main(harness.options_from(args)))
