"""Convolution and max-pooling speed: dagrad vs PyTorch CPU, measured in the same run.

For each shape it prints forward and forward+backward times (best of several runs), the
GFLOP/s of the convolution, the ratio to PyTorch, and the ratio to a plain numpy GEMM of the
same im2col shape (forward: one GEMM; forward+backward: three), which is the floor for an
im2col design on this machine. float32 throughout; both libraries use the same threads.

Targets (issue: convolution and pooling): conv forward+backward <= 2.0x PyTorch on every shape
(<= 1.5x is the goal); max_pool2d forward+backward <= 1.0x PyTorch.

Run: ``python benchmarks/bench_conv.py`` (needs ``torch==2.13.0``: ``make oracle``).
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
import torch

import autograd

ROUNDS = 4
BLOCK = 5  # timed runs per turn
CONV_SHAPES = [  # (x shape, w shape, padding)
    ((64, 3, 32, 32), (32, 3, 3, 3), 1),
    ((64, 32, 16, 16), (64, 32, 3, 3), 1),
    ((64, 32, 16, 16), (64, 32, 1, 1), 0),
]
POOL_SHAPES = [(64, 32, 32, 32), (64, 64, 16, 16)]


def best_times(fns: dict[str, Callable[[], object]], rounds: int = ROUNDS) -> dict[str, float]:
    """Best wall time of each function in seconds. The functions take turns, a block of runs
    each after two warm-up runs, so a burst of load on a shared machine slows all of them alike."""
    best = dict.fromkeys(fns, float("inf"))
    for _ in range(rounds):
        for name, fn in fns.items():
            fn()  # warm-up runs: the allocator settles into this function's steady state
            fn()
            for _ in range(BLOCK):
                start = time.perf_counter()
                fn()
                best[name] = min(best[name], time.perf_counter() - start)
    return best


def conv_row(xs: tuple, ws: tuple, padding: int, rng: np.random.Generator) -> dict:
    """Time one convolution shape in dagrad, PyTorch and plain numpy GEMMs."""
    x = rng.standard_normal(xs).astype(np.float32)
    w = rng.standard_normal(ws).astype(np.float32)
    b = rng.standard_normal(ws[0]).astype(np.float32)
    ax, aw, ab = (autograd.tensor(a, requires_grad=True) for a in (x, w, b))
    tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    n, c, h, wd = xs
    out_hw = (h + 2 * padding - ws[2] + 1, wd + 2 * padding - ws[3] + 1)
    grad = np.ones((n, ws[0], *out_hw), np.float32)
    a_grad, t_grad = autograd.tensor(grad), torch.tensor(grad)

    def ours_fwd() -> None:
        with autograd.no_grad():
            autograd.conv2d(ax, aw, ab, padding=padding)

    def ours_step() -> None:
        ax.grad = aw.grad = ab.grad = None
        autograd.conv2d(ax, aw, ab, padding=padding).backward(a_grad)

    def torch_fwd() -> None:
        with torch.no_grad():
            torch.nn.functional.conv2d(tx, tw, tb, padding=padding)

    def torch_step() -> None:
        tx.grad = tw.grad = tb.grad = None
        torch.nn.functional.conv2d(tx, tw, tb, padding=padding).backward(t_grad)

    # the same work as plain GEMMs on an im2col buffer: (C_out, K) @ (K, N*H*W)
    k_dim, cols = c * ws[2] * ws[3], n * out_hw[0] * out_hw[1]
    w_mat = rng.standard_normal((ws[0], k_dim)).astype(np.float32)
    col_buf = rng.standard_normal((k_dim, cols)).astype(np.float32)
    g_mat = rng.standard_normal((ws[0], cols)).astype(np.float32)

    def gemm_fwd() -> None:
        w_mat @ col_buf

    def gemm_step() -> None:
        w_mat @ col_buf
        w_mat.T @ g_mat
        g_mat @ col_buf.T

    ours_step()
    torch_step()
    np.testing.assert_allclose(aw.grad.numpy(), tw.grad.numpy(), rtol=2e-3, atol=2e-2)  # equal work, same answer
    flops = 2 * ws[0] * k_dim * cols
    fns = {"ours_fwd": ours_fwd, "torch_fwd": torch_fwd, "gemm_fwd": gemm_fwd}
    fns |= {"ours_step": ours_step, "torch_step": torch_step, "gemm_step": gemm_step}
    return {"shape": f"x{xs} w{ws}", "flops": flops, **best_times(fns)}


def pool_row(xs: tuple, rng: np.random.Generator) -> dict:
    """Time max_pool2d 2x2 stride 2 forward and forward+backward."""
    x = rng.standard_normal(xs).astype(np.float32)
    ax, tx = autograd.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out = (xs[0], xs[1], xs[2] // 2, xs[3] // 2)
    a_grad, t_grad = autograd.ones(*out), torch.ones(out)

    def ours_fwd() -> None:
        with autograd.no_grad():
            autograd.max_pool2d(ax, 2, 2)

    def ours_step() -> None:
        ax.grad = None
        autograd.max_pool2d(ax, 2, 2).backward(a_grad)

    def torch_fwd() -> None:
        with torch.no_grad():
            torch.nn.functional.max_pool2d(tx, 2, 2)

    def torch_step() -> None:
        tx.grad = None
        torch.nn.functional.max_pool2d(tx, 2, 2).backward(t_grad)

    fns = {"ours_fwd": ours_fwd, "torch_fwd": torch_fwd, "ours_step": ours_step, "torch_step": torch_step}
    return {"shape": f"x{xs}", **best_times(fns)}


def main() -> None:
    """Run every shape and print the tables."""
    rng = np.random.default_rng(0)
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}; numpy {np.__version__}; times in ms\n")
    print("conv2d (stride 1)")
    head = f"{'shape':<36}{'fwd':>8}{'torch':>8}{'ratio':>7}{'gemm':>8}"
    head += f"{'f+b':>9}{'torch':>8}{'ratio':>7}{'gemm':>8}{'/gemm':>7}{'GFLOP/s':>9}"
    print(head)
    worst = 0.0
    for xs, ws, p in CONV_SHAPES:
        r = conv_row(xs, ws, p, rng)
        ratio = r["ours_step"] / r["torch_step"]
        worst = max(worst, ratio)
        fwd = f"{r['ours_fwd'] * 1e3:8.1f}{r['torch_fwd'] * 1e3:8.1f}{r['ours_fwd'] / r['torch_fwd']:7.2f}"
        step = f"{r['ours_step'] * 1e3:9.1f}{r['torch_step'] * 1e3:8.1f}{ratio:7.2f}{r['gemm_step'] * 1e3:8.1f}"
        rest = f"{r['ours_step'] / r['gemm_step']:7.2f}{3 * r['flops'] / r['ours_step'] / 1e9:9.1f}"
        print(f"{r['shape']:<36}{fwd}{r['gemm_fwd'] * 1e3:8.1f}{step}{rest}")
    print(f"worst conv forward+backward ratio vs PyTorch: {worst:.2f}x (target <= 2.0x, goal <= 1.5x)\n")
    print("max_pool2d 2x2 stride 2")
    print(f"{'shape':<36}{'fwd':>8}{'torch':>8}{'ratio':>7}{'f+b':>9}{'torch':>8}{'ratio':>7}")
    worst = 0.0
    for xs in POOL_SHAPES:
        r = pool_row(xs, rng)
        ratio = r["ours_step"] / r["torch_step"]
        worst = max(worst, ratio)
        fwd = f"{r['ours_fwd'] * 1e3:8.1f}{r['torch_fwd'] * 1e3:8.1f}{r['ours_fwd'] / r['torch_fwd']:7.2f}"
        print(f"{r['shape']:<36}{fwd}{r['ours_step'] * 1e3:9.1f}{r['torch_step'] * 1e3:8.1f}{ratio:7.2f}")
    print(f"worst max_pool2d forward+backward ratio vs PyTorch: {worst:.2f}x (target <= 1.0x)")


if __name__ == "__main__":
    main()
