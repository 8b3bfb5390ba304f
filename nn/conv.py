"""Convolution layers: ``Conv2d`` and ``ConvTranspose2d`` (PyTorch's signatures and layouts)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from autograd import Tensor, conv_arithmetic
from autograd.ops.geometry import check_kernel_size, check_output_padding, conv_geometry, is_int, transposed_output_size
from nn import functional as F
from nn import init
from nn.module import Module, Parameter

_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


class _ConvNd(Module):
    """Shared state of the convolution layers: geometry, weight, bias, repr."""

    def __init__(self, in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias, padding_mode,
                 transposed, output_padding=0, dtype: Any = np.float32) -> None:  # fmt: skip
        super().__init__()
        name = type(self).__name__
        for arg, value in (("in_channels", in_channels), ("out_channels", out_channels)):
            if not is_int(value):
                raise TypeError(f"{name}(): argument '{arg}' must be int, not {type(value).__name__}")
        # the checks of the functional form, in PyTorch's words, when the layer is built
        geo = conv_geometry(stride, 0 if isinstance(padding, str) else padding, dilation, groups, name)
        if in_channels < 1 or out_channels < 1:
            raise ValueError(
                f"{name}: in_channels and out_channels must be >= 1, got in_channels={in_channels}, "
                f"out_channels={out_channels}"
            )
        k = check_kernel_size(kernel_size, name)
        op = check_output_padding(output_padding, geo, name)
        if in_channels % groups or out_channels % groups:
            raise ValueError(
                f"in_channels ({in_channels}) and out_channels ({out_channels}) must be divisible by groups ({groups})"
            )
        if padding_mode not in _PADDING_MODES:
            raise ValueError(f"padding_mode must be one of {_PADDING_MODES}, got {padding_mode!r}")
        if isinstance(padding, str) and padding not in ("same", "valid"):
            raise ValueError(
                f"Invalid padding string {padding!r}, should be one of {{'valid', 'same'}} (or an int or a pair)"
            )
        if padding == "same" and geo.stride != (1, 1):
            raise ValueError(
                f"padding='same' is not supported for strided convolutions (got stride={geo.stride}): 'same' needs "
                "stride 1; pad explicitly instead"
            )
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size, self.stride, self.dilation = k, geo.stride, geo.dilation
        self.padding = padding if isinstance(padding, str) else geo.padding
        self.output_padding, self.groups, self.padding_mode = op, groups, padding_mode
        # (out, in/groups, kH, kW), or (in, out/groups, kH, kW) for the transposed convolution
        weight_shape = (in_channels, out_channels // groups) if transposed else (out_channels, in_channels // groups)
        self.weight = Parameter(np.empty(weight_shape + k, dtype))
        if bias:
            self.bias = Parameter(np.empty(out_channels, dtype))
        else:
            self.register_parameter("bias", None)
        init.default_layer_init_(self.weight, self.bias)

    def extra_repr(self) -> str:
        """The arguments shown inside this layer\'s repr, as in PyTorch."""
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0, 0):
            s += f", padding={self.padding}"
        if self.dilation != (1, 1):
            s += f", dilation={self.dilation}"
        if self.output_padding != (0, 0):
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s


class Conv2d(_ConvNd):
    """2-d convolution over (N, C_in, H, W) -> (N, C_out, H_out, W_out).

    weight (out_channels, in_channels/groups, kH, kW), bias (out_channels,), initialized as
    PyTorch. H_out = (H + 2P - D*(K-1) - 1) // S + 1; ``padding`` may be 'same' or 'valid';
    ``padding_mode`` 'zeros' (default), 'reflect', 'replicate' or 'circular'.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | tuple[int, int],
        stride: int | tuple[int, int] = 1,
        padding: int | tuple[int, int] | str = 0,
        dilation: int | tuple[int, int] = 1,
        groups: int = 1,
        bias: bool = True,
        padding_mode: str = "zeros",
        dtype: Any = np.float32,
    ) -> None:
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias, padding_mode,
                         transposed=False, dtype=dtype)  # fmt: skip

    def forward(self, x: Tensor) -> Tensor:
        """Convolve ``x`` with the layer's filters."""
        if self.padding_mode == "zeros" or self.padding in ("valid", (0, 0)):
            return F.conv2d(x, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups)
        if self.padding == "same":
            totals = [d * (k - 1) for d, k in zip(self.dilation, self.kernel_size)]
            widths = (totals[1] // 2, totals[1] - totals[1] // 2, totals[0] // 2, totals[0] - totals[0] // 2)
        else:
            widths = (self.padding[1], self.padding[1], self.padding[0], self.padding[0])
        x = F.pad(x, widths, mode=self.padding_mode)
        return F.conv2d(x, self.weight, self.bias, self.stride, 0, self.dilation, self.groups)

    def output_shape(self, height: int, width: int) -> tuple[int, int, int]:
        """(C_out, H_out, W_out) for an input of ``height`` x ``width`` (the lecture's arithmetic)."""
        if isinstance(self.padding, str):
            pads = (0, 0) if self.padding == "valid" else None
            if pads is None:
                return self.out_channels, height, width
        else:
            pads = self.padding
        h, w = (
            conv_arithmetic(n, k, s, p, d).output_size
            for n, k, s, p, d in zip((height, width), self.kernel_size, self.stride, pads, self.dilation)
        )
        return self.out_channels, h, w


class ConvTranspose2d(_ConvNd):
    """Transposed 2-d convolution (the gradient of Conv2d in its input), used to upsample.

    weight (in_channels, out_channels/groups, kH, kW), bias (out_channels,).
    H_out = (H - 1)*S - 2P + D*(K-1) + output_padding + 1.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | tuple[int, int],
        stride: int | tuple[int, int] = 1,
        padding: int | tuple[int, int] = 0,
        output_padding: int | tuple[int, int] = 0,
        groups: int = 1,
        bias: bool = True,
        dilation: int | tuple[int, int] = 1,
        padding_mode: str = "zeros",
        dtype: Any = np.float32,
    ) -> None:
        if padding_mode != "zeros":
            raise ValueError(f"ConvTranspose2d only supports padding_mode='zeros', got {padding_mode!r}")
        if isinstance(padding, str):
            raise ValueError(f"ConvTranspose2d needs an int or a pair as padding, got {padding!r}")
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias, padding_mode,
                         True, output_padding, dtype)  # fmt: skip

    def forward(self, x: Tensor, output_size: Sequence[int] | None = None) -> Tensor:
        """Transposed convolution of ``x``. A stride > 1 makes several output sizes map back to
        the same input size; ``output_size`` ((H, W), or the whole shape) picks one, as PyTorch."""
        op = self.output_padding if output_size is None else self._output_padding(x, output_size)
        return F.conv_transpose2d(x, self.weight, self.bias, self.stride, self.padding, op, self.groups, self.dilation)

    def _output_padding(self, x: Tensor, output_size: Sequence[int]) -> tuple[int, int]:
        size = tuple(int(n) for n in output_size)[-2:]
        geometry = zip(x.shape[-2:], self.kernel_size, self.stride, self.padding, self.dilation)
        smallest = [transposed_output_size(n, k, s, p, d) for n, k, s, p, d in geometry]  # output_padding 0
        largest = [low + s - 1 for low, s in zip(smallest, self.stride)]
        if len(size) != 2 or not all(low <= n <= high for n, low, high in zip(size, smallest, largest)):
            raise ValueError(
                f"ConvTranspose2d: requested an output size of {size}, but valid sizes range from "
                f"{tuple(smallest)} to {tuple(largest)} for an input of size {tuple(x.shape[-2:])} "
                "((H-1)*S - 2P + D*(K-1) + 1 + output_padding, with output_padding < stride)"
            )
        return size[0] - smallest[0], size[1] - smallest[1]
