"""Fully connected layers: ``Linear``, and ``Flatten``/``Unflatten`` (between volumes and vectors)."""

from __future__ import annotations

from typing import Any

import numpy as np

from autograd import Tensor
from nn import functional as F
from nn import init
from nn.module import Module, Parameter


class Linear(Module):
    """y = x W^T + b, PyTorch's layout: weight (out_features, in_features), bias (out_features,).

    Shapes: (*, in_features) -> (*, out_features). Initialized as PyTorch does
    (kaiming_uniform_ with a = sqrt(5); bias U(-1/sqrt(in), 1/sqrt(in))).
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True, dtype: Any = np.float32) -> None:
        super().__init__()
        if in_features < 0 or out_features < 0:
            raise ValueError(
                f"Linear needs non-negative sizes, got in_features={in_features}, out_features={out_features}"
            )
        self.in_features, self.out_features = in_features, out_features
        self.weight = Parameter(np.empty((out_features, in_features), dtype))
        if bias:
            self.bias = Parameter(np.empty(out_features, dtype))
        else:
            self.register_parameter("bias", None)
        init.default_layer_init_(self.weight, self.bias)

    def forward(self, x: Tensor) -> Tensor:
        """Apply the affine map to the last dimension."""
        return F.linear(x, self.weight, self.bias)

    def extra_repr(self) -> str:
        """The arguments shown inside this layer\'s repr, as in PyTorch."""
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


class Flatten(Module):
    """Merge dimensions ``start_dim..end_dim`` (default: all but the batch dimension)."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x: Tensor) -> Tensor:
        """(N, C, H, W) -> (N, C*H*W) by default."""
        return x.flatten(self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        """The arguments shown inside this layer\'s repr, as in PyTorch."""
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Split dimension ``dim`` into ``unflattened_size`` (the inverse of ``Flatten``):
    ``Unflatten(1, (C, H, W))`` turns (N, C*H*W) into (N, C, H, W)."""

    def __init__(self, dim: int, unflattened_size: tuple[int, ...] | list[int]) -> None:
        super().__init__()
        if not isinstance(unflattened_size, (tuple, list)) or not all(isinstance(s, int) for s in unflattened_size):
            raise TypeError(
                f"unflattened_size must be a tuple of ints, but found type {type(unflattened_size).__name__}"
            )
        self.dim, self.unflattened_size = dim, unflattened_size

    def forward(self, x: Tensor) -> Tensor:
        """(..., prod(unflattened_size), ...) -> (..., *unflattened_size, ...)."""
        dim = self.dim + x.ndim if self.dim < 0 else self.dim
        if not 0 <= dim < x.ndim:
            raise IndexError(f"Unflatten: dim {self.dim} is out of range for an input of shape {x.shape}")
        return x.reshape(*x.shape[:dim], *self.unflattened_size, *x.shape[dim + 1 :])

    def extra_repr(self) -> str:
        """The arguments shown inside this layer\'s repr, as in PyTorch."""
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"
