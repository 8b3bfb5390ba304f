"""Hypothesis strategies for property-based gradient tests of your own ops.

Needs the ``hypothesis`` package (``pip install dagrad[dev]``). Example::

    from hypothesis import given
    import autograd
    from autograd.testing import tensors

    @given(tensors())
    def test_my_op(x):
        assert autograd.gradcheck(my_op, (x,))
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from autograd.tensor import Tensor

__all__ = ["ConvCase", "broadcastable_pair", "conv_cases", "matmul_shapes", "shapes", "tensor_pair", "tensors"]


def shapes(
    min_dims: int = 0, max_dims: int = 3, min_side: int = 1, max_side: int = 4
) -> st.SearchStrategy[tuple[int, ...]]:
    """Array shapes, including 0-d ``()`` when ``min_dims`` is 0."""
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side)


def broadcastable_pair(
    max_dims: int = 3, max_side: int = 4
) -> st.SearchStrategy[tuple[tuple[int, ...], tuple[int, ...]]]:
    """Two shapes that broadcast together (size-1 and missing leading dimensions included)."""
    return hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=max_dims, max_side=max_side).map(
        lambda b: b.input_shapes
    )


@st.composite
def matmul_shapes(draw: Any, max_batch_dims: int = 2, max_side: int = 4) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Two shapes valid for ``matmul``: vectors, matrices and broadcast batches of matrices."""
    n, k, m = (draw(st.integers(1, max_side)) for _ in range(3))
    kind = draw(st.sampled_from(["vv", "vm", "mv", "mm", "batched"]))
    if kind == "vv":
        return (k,), (k,)
    if kind == "vm":
        return (k,), (k, m)
    if kind == "mv":
        return (n, k), (k,)
    if kind == "mm":
        return (n, k), (k, m)
    batch_a, batch_b = draw(broadcastable_pair(max_dims=max_batch_dims, max_side=3))
    return batch_a + (n, k), batch_b + (k, m)


def _values(shape: tuple[int, ...], low: float, high: float, away_from: float | None) -> st.SearchStrategy[np.ndarray]:
    elements = st.floats(low, high, allow_nan=False, allow_infinity=False)
    if away_from is not None:
        # values in [low, high] at least 0.1 from a kink (0 for abs/relu): finite differences stay valid
        sides = [(low, away_from - 0.1), (away_from + 0.1, high)]
        sides = [st.floats(a, b, allow_nan=False, allow_infinity=False) for a, b in sides if a <= b]
        if not sides:
            raise ValueError(f"tensors: no value in [{low}, {high}] is at least 0.1 away from {away_from}")
        elements = st.one_of(sides)
    return hnp.arrays(np.float64, shape, elements=elements)


@st.composite
def tensors(
    draw: Any,
    shape: tuple[int, ...] | st.SearchStrategy | None = None,
    low: float = -3.0,
    high: float = 3.0,
    requires_grad: bool = True,
    away_from: float | None = None,
) -> Tensor:
    """A float64 tensor with bounded elements (``shape`` fixed, drawn, or any small shape)."""
    if shape is None:
        shape = shapes()
    if isinstance(shape, st.SearchStrategy):
        shape = draw(shape)
    data = draw(_values(tuple(shape), low, high, away_from))
    return Tensor(data, requires_grad=requires_grad)


@st.composite
def tensor_pair(
    draw: Any, shapes_strategy: st.SearchStrategy | None = None, low: float = -3.0, high: float = 3.0
) -> tuple[Tensor, Tensor]:
    """Two float64 tensors whose shapes come from ``shapes_strategy`` (default: broadcastable)."""
    a_shape, b_shape = draw(shapes_strategy if shapes_strategy is not None else broadcastable_pair())
    return draw(tensors(a_shape, low, high)), draw(tensors(b_shape, low, high))


@dataclass(frozen=True)
class ConvCase:
    """One valid convolution geometry: pass ``**case.kwargs`` to ``conv2d``."""

    batch: int
    in_channels: int
    out_channels: int
    groups: int
    kernel: tuple[int, int]
    stride: tuple[int, int]
    padding: tuple[int, int]
    dilation: tuple[int, int]
    input_hw: tuple[int, int]

    @property
    def input_shape(self) -> tuple[int, int, int, int]:
        """(N, C_in, H, W)."""
        return (self.batch, self.in_channels, *self.input_hw)

    @property
    def weight_shape(self) -> tuple[int, int, int, int]:
        """conv2d's weight: (C_out, C_in / groups, kH, kW)."""
        return (self.out_channels, self.in_channels // self.groups, *self.kernel)

    @property
    def kwargs(self) -> dict:
        """stride, padding, dilation and groups as keyword arguments."""
        return dict(stride=self.stride, padding=self.padding, dilation=self.dilation, groups=self.groups)


@st.composite
def conv_cases(
    draw: Any, max_kernel: int = 3, max_stride: int = 2, max_dilation: int = 2, max_groups: int = 2
) -> ConvCase:
    """Valid conv2d geometries: batch, channels divisible by groups, kernel, stride, padding,
    dilation, and an input size at which the (dilated) kernel fits at least once."""
    groups = draw(st.integers(1, max_groups))
    kernel = (draw(st.integers(1, max_kernel)), draw(st.integers(1, max_kernel)))
    stride = (draw(st.integers(1, max_stride)), draw(st.integers(1, max_stride)))
    dilation = (draw(st.integers(1, max_dilation)), draw(st.integers(1, max_dilation)))
    padding = tuple(draw(st.integers(0, k // 2 + 1)) for k in kernel)
    input_hw = tuple(
        draw(st.integers(max(1, d * (k - 1) + 1 - 2 * p), d * (k - 1) + 1 - 2 * p + 4))
        for k, p, d in zip(kernel, padding, dilation)
    )
    return ConvCase(
        batch=draw(st.integers(1, 2)),
        in_channels=groups * draw(st.integers(1, 2)),
        out_channels=groups * draw(st.integers(1, 2)),
        groups=groups,
        kernel=kernel,
        stride=stride,
        padding=padding,
        dilation=dilation,
        input_hw=input_hw,
    )
