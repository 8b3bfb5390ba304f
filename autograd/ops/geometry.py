"""The window geometry of convolution and pooling, in one place: argument parsing, checks, output sizes.

A window of ``K`` taps, ``D`` apart (dilation), spans ``D*(K-1) + 1`` positions; sliding it by
``S`` (stride) over an input of ``N`` positions with ``P`` zeros on each side (padding) fits

    N_out = (N + 2P - D*(K-1) - 1) // S + 1      (``output_size``; pooling's ceil_mode rounds up)

times. The transposed convolution maps back: N = (N_out - 1)*S - 2P + D*(K-1) + 1 (+ output_padding).

Every op (``conv2d``, ``conv_transpose2d``, the poolings), every layer in ``nn`` and
``conv_arithmetic`` read their sizes and checks from here, so the formula and its error
messages (PyTorch's words) are written once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

IntPair = int | tuple[int, int]  # one value for both axes, or (height, width)


# ------------------------------------------------------------------ arguments


def is_int(value: Any) -> bool:
    """An int or a numpy integer, not a bool (PyTorch refuses True as a size)."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def int_pair(value: Any, name: str, fn: str, length_error: str | None = None) -> tuple[int, int]:
    """``value`` as a (height, width) pair: an int, or a tuple/list of one or two ints (PyTorch
    takes both). Floats, bools and strings raise TypeError, other lengths ValueError
    (``length_error`` or the convolutions' words), in PyTorch's words, naming the argument."""
    if is_int(value):
        return int(value), int(value)
    hint = f"; pass an int or a pair of ints, such as {name}=2 or {name}=(2, 1)"
    if not isinstance(value, (tuple, list)):
        raise TypeError(f"{fn}(): argument '{name}' must be tuple of ints, not {type(value).__name__}{hint}")
    for pos, v in enumerate(value):
        if not is_int(v):
            raise TypeError(
                f"{fn}(): argument '{name}' must be tuple of ints, but found element of type "
                f"{type(v).__name__} at pos {pos}{hint}"
            )
    if len(value) not in (1, 2):
        raise ValueError(
            length_error
            or f"{fn}: expected {name} to be a single integer value or a list of 2 values to match the "
            f"convolution dimensions, but got {name}={list(value)}"
        )
    return int(value[0]), int(value[-1])


# ------------------------------------------------------------------ sizes


def output_size(n: int, k: int, s: int = 1, p: int = 0, d: int = 1, ceil_mode: bool = False) -> int:
    """Windows along one axis: (N + 2P - D*(K-1) - 1) / S + 1, rounded down (up with ``ceil_mode``,
    where the last window must still start inside the input or its left padding, as PyTorch)."""
    room = n + 2 * p - d * (k - 1) - 1
    out = (-(-room // s) if ceil_mode else room // s) + 1
    if ceil_mode and (out - 1) * s >= n + p:
        out -= 1
    return out


def transposed_output_size(n: int, k: int, s: int = 1, p: int = 0, d: int = 1, output_padding: int = 0) -> int:
    """conv_transpose2d's output along one axis: (N - 1)*S - 2P + D*(K-1) + output_padding + 1."""
    return (n - 1) * s - 2 * p + d * (k - 1) + output_padding + 1


@dataclass(frozen=True)
class Geometry:
    """Stride, padding and dilation (each a (height, width) pair) and the number of groups."""

    stride: tuple[int, int]
    padding: tuple[int, int]
    dilation: tuple[int, int]
    groups: int


def conv_output_hw(in_hw: tuple[int, int], kernel: tuple[int, int], geo: Geometry) -> tuple[int, int]:
    """``output_size`` for height and width."""
    return tuple(
        output_size(n, k, s, p, d) for n, k, s, p, d in zip(in_hw, kernel, geo.stride, geo.padding, geo.dilation)
    )


def conv_transpose_output_hw(
    in_hw: tuple[int, int], kernel: tuple[int, int], geo: Geometry, output_padding: tuple[int, int]
) -> tuple[int, int]:
    """``transposed_output_size`` for height and width."""
    return tuple(
        transposed_output_size(n, k, s, p, d, o)
        for n, k, s, p, d, o in zip(in_hw, kernel, geo.stride, geo.padding, geo.dilation, output_padding)
    )


# ------------------------------------------------------------------ convolution checks


def conv_geometry(stride: IntPair, padding: IntPair, dilation: IntPair, groups: int, fn: str) -> Geometry:
    """The checked geometry of a convolution (``fn`` names it in errors, with PyTorch's words)."""
    s, p, d = int_pair(stride, "stride", fn), int_pair(padding, "padding", fn), int_pair(dilation, "dilation", fn)
    if not is_int(groups):
        raise TypeError(f"{fn}(): argument 'groups' must be int, not {type(groups).__name__}")
    if min(s) < 1:
        raise ValueError(
            f"{fn}: non-positive stride is not supported, got stride={s}; stride and dilation must be >= 1"
        )
    if min(p) < 0:
        raise ValueError(f"{fn}: negative padding is not supported, got padding={p}; use padding >= 0")
    if min(d) < 1:
        raise ValueError(
            f"{fn}: dilation should be greater than zero, but got dilation={d}; stride and dilation must be >= 1"
        )
    if groups < 1:
        raise ValueError(
            f"{fn}: non-positive groups is not supported, got groups={groups}; groups must be a positive integer"
        )
    return Geometry(s, p, d, int(groups))


def check_kernel_size(kernel_size: Any, fn: str) -> tuple[int, int]:
    """A convolution layer's kernel_size as a pair of ints >= 1."""
    k = int_pair(kernel_size, "kernel_size", fn)
    if min(k) < 1:
        raise ValueError(f"{fn}: kernel size should be greater than zero, but got kernel_size={k}")
    return k


def check_output_padding(output_padding: IntPair, geo: Geometry, fn: str) -> tuple[int, int]:
    """conv_transpose2d's output_padding: ints >= 0, each below its axis' stride or dilation."""
    op = int_pair(output_padding, "output_padding", fn)
    if min(op) < 0:
        raise ValueError(f"{fn}: negative output_padding is not supported, got output_padding={op}")
    if not all(o < max(s, d) for o, s, d in zip(op, geo.stride, geo.dilation)):
        raise ValueError(
            f"{fn}: output padding must be smaller than either stride or dilation, but got output_padding={op}, "
            f"stride={geo.stride}, dilation={geo.dilation}"
        )
    return op


def check_fits(in_hw: tuple[int, int], kernel: tuple[int, int], geo: Geometry, fn: str) -> tuple[int, int]:
    """The output size of a convolution, or a ValueError when the dilated kernel is larger than the padded input."""
    out = conv_output_hw(in_hw, kernel, geo)
    for axis, n, k, s, p, d, o in zip(("height", "width"), in_hw, kernel, geo.stride, geo.padding, geo.dilation, out):
        span = d * (k - 1) + 1
        if span > n + 2 * p or o < 1:
            raise ValueError(
                f"{fn}: the kernel does not fit the input along the {axis}: input {n} + 2*padding {p} = {n + 2 * p} "
                f"is smaller than the dilated kernel {d}*({k}-1)+1 = {span}. Output size "
                f"(N + 2P - D*(F-1) - 1)/S + 1 = ({n} + 2*{p} - {d}*({k}-1) - 1)/{s} + 1 = {o} < 1; "
                "use a smaller kernel or more padding."
            )
    return out


def check_transposed_fits(
    in_hw: tuple[int, int], kernel: tuple[int, int], geo: Geometry, op: tuple[int, int], fn: str
) -> tuple[int, int]:
    """The output size of a transposed convolution, or a ValueError when it is below 1."""
    out_hw = conv_transpose_output_hw(in_hw, kernel, geo, op)
    if min(out_hw) < 1:
        raise ValueError(
            f"{fn}: output size (H-1)*S - 2P + D*(K-1) + output_padding + 1 = {out_hw} is below 1 "
            f"for input {in_hw}, kernel {kernel}, stride {geo.stride}, padding {geo.padding}"
        )
    return out_hw


# ------------------------------------------------------------------ the lecture's arithmetic


@dataclass(frozen=True)
class ConvArithmetic:
    """The answer to the lecture's spatial-arithmetic question for one axis of a layer."""

    input_size: int
    kernel_size: int
    stride: int
    padding: int
    dilation: int
    output_size: int
    fits: bool
    leftover: int

    def __str__(self) -> str:
        n, f, s, p, d = self.input_size, self.kernel_size, self.stride, self.padding, self.dilation
        formula = f"(N + 2P - D*(F-1) - 1)/S + 1 = ({n} + 2*{p} - {d}*({f}-1) - 1)/{s} + 1"
        exact = (n + 2 * p - d * (f - 1) - 1) / s + 1
        if self.fits:
            return f"{formula} = {self.output_size}: the filter fits exactly"
        return (
            f"{formula} = {exact:.2f}: the filter does not fit exactly; {self.output_size} outputs and "
            f"{self.leftover} row(s)/column(s) of the padded input are left over"
        )


def conv_arithmetic(
    input_size: int, kernel_size: int, stride: int = 1, padding: int = 0, dilation: int = 1
) -> ConvArithmetic:
    """Output size of a conv/pool layer along one axis, and whether the filter fits exactly.

    >>> str(conv_arithmetic(7, 3, stride=3))
    '(N + 2P - D*(F-1) - 1)/S + 1 = (7 + 2*0 - 1*(3-1) - 1)/3 + 1 = 2.33: the filter does not fit ...'
    """
    span = dilation * (kernel_size - 1) + 1
    room = input_size + 2 * padding - span
    if room < 0:
        raise ValueError(
            f"a kernel spanning {span} does not fit an input of {input_size} with padding {padding} "
            f"({input_size} + 2*{padding} = {input_size + 2 * padding} < {span})"
        )
    return ConvArithmetic(
        input_size,
        kernel_size,
        stride,
        padding,
        dilation,
        output_size=output_size(input_size, kernel_size, stride, padding, dilation),
        fits=room % stride == 0,
        leftover=room % stride,
    )


# ------------------------------------------------------------------ pooling


@dataclass(frozen=True)
class PoolGeometry:
    """Kernel, stride, padding, dilation as (height, width) pairs; input and output sizes."""

    kernel: tuple[int, int]
    stride: tuple[int, int]
    padding: tuple[int, int]
    dilation: tuple[int, int]
    in_hw: tuple[int, int]
    out_hw: tuple[int, int]

    def offsets(self) -> list[tuple[int, int, int]]:
        """Each kernel offset (i, j) with its flat number i * kW + j."""
        kh, kw = self.kernel
        return [(i, j, i * kw + j) for i in range(kh) for j in range(kw)]

    def view(self, padded: np.ndarray, i: int, j: int) -> np.ndarray:
        """The strided view of ``padded`` seen by kernel offset (i, j): shape (N, C, H_out, W_out)."""
        (sh, sw), (dh, dw), (ho, wo) = self.stride, self.dilation, self.out_hw
        return padded[..., i * dh : i * dh + sh * (ho - 1) + 1 : sh, j * dw : j * dw + sw * (wo - 1) + 1 : sw]

    def inside(self, i: int, j: int) -> np.ndarray:
        """Which windows read a real input position (not padding) at kernel offset (i, j): (H_out, W_out)."""
        (sh, sw), (ph, pw), (dh, dw) = self.stride, self.padding, self.dilation
        rows = np.arange(self.out_hw[0]) * sh - ph + i * dh  # the input row each window reads at this offset
        cols = np.arange(self.out_hw[1]) * sw - pw + j * dw
        (h, w) = self.in_hw
        return ((rows >= 0) & (rows < h))[:, None] & ((cols >= 0) & (cols < w))

    def padded_hw(self) -> tuple[int, int]:
        """Size of the padded input buffer: the windows may reach past the right padding (ceil_mode)."""
        return tuple(
            max(n + 2 * p, (o - 1) * s + d * (k - 1) + 1)
            for n, p, o, s, d, k in zip(self.in_hw, self.padding, self.out_hw, self.stride, self.dilation, self.kernel)
        )


def pool_sizes(kernel_size, stride, padding, dilation, fn: str) -> tuple[tuple[int, int], ...]:
    """Checked kernel_size, stride (None or () for the kernel size), padding and dilation as
    (height, width) pairs; ``fn`` names the pooling in errors, which use PyTorch's words."""

    def pair(value, name):
        lengths = "either be omitted, a single int," if name == "stride" else "either be a single int,"
        return int_pair(value, name, fn, f"{fn}: {name} must {lengths} or a tuple of two ints, got {name}={value!r}")

    k = pair(kernel_size, "kernel_size")
    s = k if stride is None or (isinstance(stride, (tuple, list)) and not stride) else pair(stride, "stride")
    p, d = pair(padding, "padding"), pair(dilation, "dilation")
    if min(k) < 1:
        raise ValueError(f"{fn}: kernel size should be greater than zero, but got kernel_size={k}")
    if min(s) < 1:
        problem = "should not be zero, but got" if 0 in s else "should be greater than zero, but got"
        raise ValueError(f"{fn}: stride {problem} stride={s}")
    if min(p) < 0:
        raise ValueError(f"{fn}: pad must be non-negative, but got padding={p}")
    if min(d) < 1:
        raise ValueError(f"{fn}: dilation should be greater than zero, but got dilation={d}")
    if any(pi > ki // 2 for pi, ki in zip(p, k)):  # PyTorch's rule (on the kernel without dilation)
        raise ValueError(
            f"{fn}: pad should be at most half of kernel_size, but got padding={p} and kernel_size={k} "
            "(the kernel without dilation, rounded down)"
        )
    return k, s, p, d


def pool_geometry(x: Any, kernel_size, stride, padding, dilation, ceil_mode: bool, fn: str) -> PoolGeometry:
    """The checked geometry of a pooling of the (N, C, H, W) or (C, H, W) tensor ``x``."""
    if x.ndim not in (3, 4):
        raise ValueError(f"{fn}: expected input of shape (N, C, H, W) or (C, H, W), got shape {x.shape}")
    k, s, p, d = pool_sizes(kernel_size, stride, padding, dilation, fn)
    in_hw = x.shape[-2:]
    out = tuple(output_size(n, ki, si, pi, di, ceil_mode) for n, ki, si, pi, di in zip(in_hw, k, s, p, d))
    if min(out) < 1:
        raise ValueError(
            f"{fn}: output size (N + 2P - D*(F-1) - 1)/S + 1 is {out} for input {in_hw}, kernel {k}, stride {s}, "
            f"padding {p}, dilation {d}: it must be at least 1; use a smaller kernel or more padding"
        )
    return PoolGeometry(k, s, p, d, in_hw, out)


def adaptive_output_size(output_size, fn: str) -> tuple[int | None, int | None]:
    """Checked output_size of an adaptive pooling: an int, None (the input's size), or a pair of
    them; ``fn`` names the pooling in errors, which use PyTorch's words."""
    sizes = (output_size, output_size) if is_int(output_size) or output_size is None else output_size
    if not isinstance(sizes, (tuple, list)):
        raise TypeError(
            f"{fn}(): argument 'output_size' must be tuple of ints, not {type(output_size).__name__}; "
            "pass an int, None or a pair of them, such as output_size=(7, 7)"
        )
    for pos, v in enumerate(sizes):
        if not (v is None or is_int(v)):
            raise TypeError(
                f"{fn}(): argument 'output_size' must be tuple of ints, but found element of type "
                f"{type(v).__name__} at pos {pos}"
            )
    if len(sizes) != 2:
        raise ValueError(f"{fn}: output_size must be 2 values (an int or a pair), got output_size={output_size!r}")
    if any(v is not None and v < 1 for v in sizes):
        raise ValueError(f"{fn}: elements of output_size must be >= 1, got output_size={output_size!r}")
    return tuple(None if v is None else int(v) for v in sizes)


def adaptive_bins(n: int, out: int) -> list[tuple[int, int]]:
    """(start, end) of each adaptive bin along an axis: bin i covers floor(i*n/out) .. ceil((i+1)*n/out) - 1."""
    return [((i * n) // out, -(-((i + 1) * n) // out)) for i in range(out)]


def check_divisor(divisor_override, fn: str) -> None:
    """avg_pool2d's divisor_override: None or a nonzero int (a negative one flips the sign, as PyTorch's)."""
    if divisor_override is None:
        return
    if not is_int(divisor_override):
        raise TypeError(f"{fn}(): argument 'divisor_override' must be int, not {type(divisor_override).__name__}")
    if divisor_override == 0:
        raise ValueError(f"{fn}: divisor must be not zero (divisor_override=0); use None to divide by the window size")
