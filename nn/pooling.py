"""Pooling layers: ``MaxPool2d``, ``AvgPool2d``, ``AdaptiveAvgPool2d`` (no parameters)."""

from __future__ import annotations

from autograd import Tensor
from autograd.ops.geometry import IntPair, adaptive_output_size, check_divisor, pool_sizes
from nn import functional as F
from nn.module import Module


class MaxPool2d(Module):
    """Max over kernel_size windows (stride defaults to kernel_size): (N, C, H, W) -> (N, C, H_out, W_out)."""

    def __init__(self, kernel_size: IntPair, stride: IntPair | None = None, padding: IntPair = 0, dilation: IntPair = 1,
                 return_indices: bool = False, ceil_mode: bool = False) -> None:  # fmt: skip
        super().__init__()
        pool_sizes(kernel_size, stride, padding, dilation, "MaxPool2d")  # the functional form's checks, now
        self.kernel_size, self.stride = kernel_size, kernel_size if stride is None else stride
        self.padding, self.dilation = padding, dilation
        self.return_indices, self.ceil_mode = return_indices, ceil_mode

    def forward(self, x: Tensor) -> Tensor | tuple[Tensor, Tensor]:
        """Pool ``x`` (and the flat indices of the maxima with ``return_indices``)."""
        return F.max_pool2d(
            x, self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode, self.return_indices
        )

    def extra_repr(self) -> str:
        """The arguments shown inside this layer\'s repr, as in PyTorch."""
        return (
            f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
            f"dilation={self.dilation}, ceil_mode={self.ceil_mode}"
        )


class AvgPool2d(Module):
    """Mean over kernel_size windows: (N, C, H, W) -> (N, C, H_out, W_out)."""

    def __init__(self, kernel_size: IntPair, stride: IntPair | None = None, padding: IntPair = 0,
                 ceil_mode: bool = False, count_include_pad: bool = True,
                 divisor_override: int | None = None) -> None:  # fmt: skip
        super().__init__()
        pool_sizes(kernel_size, stride, padding, 1, "AvgPool2d")  # the functional form's checks, now
        check_divisor(divisor_override, "AvgPool2d")
        self.kernel_size, self.stride = kernel_size, kernel_size if stride is None else stride
        self.padding, self.ceil_mode = padding, ceil_mode
        self.count_include_pad, self.divisor_override = count_include_pad, divisor_override

    def forward(self, x: Tensor) -> Tensor:
        """Pool ``x``."""
        return F.avg_pool2d(
            x,
            self.kernel_size,
            self.stride,
            self.padding,
            self.ceil_mode,
            self.count_include_pad,
            self.divisor_override,
        )

    def extra_repr(self) -> str:
        """The arguments shown inside this layer\'s repr, as in PyTorch."""
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AdaptiveAvgPool2d(Module):
    """Average into a fixed grid whatever the input size; ``output_size=1`` is global pooling."""

    def __init__(self, output_size: int | None | tuple[int | None, int | None]) -> None:
        super().__init__()
        adaptive_output_size(output_size, "AdaptiveAvgPool2d")  # the functional form's checks, now
        self.output_size = output_size

    def forward(self, x: Tensor) -> Tensor:
        """Pool ``x`` to ``output_size``."""
        return F.adaptive_avg_pool2d(x, self.output_size)

    def extra_repr(self) -> str:
        """The arguments shown inside this layer\'s repr, as in PyTorch."""
        return f"output_size={self.output_size}"
