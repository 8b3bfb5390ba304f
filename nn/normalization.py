"""Normalization and dropout layers: BatchNorm and Dropout (which depend on train/eval mode), LayerNorm."""

from __future__ import annotations

from typing import Any

import numpy as np

from autograd import Tensor, tensor, zeros
from nn import functional as F
from nn.module import Module, Parameter


class _BatchNorm(Module):
    """Shared implementation of BatchNorm1d/2d: affine weight/bias and running statistics.

    ``bias=False`` (keyword only, as in PyTorch 2.13) keeps the affine weight but no bias.
    """

    expected_ndims: tuple[int, ...] = ()
    #: Older checkpoints and hand-made dicts lack the batch counter; PyTorch loads them too.
    _optional_state = ("num_batches_tracked",)

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1, affine: bool = True,
                 track_running_stats: bool = True, dtype: Any = np.float32, *, bias: bool = True) -> None:  # fmt: skip
        super().__init__()
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        if affine:
            self.weight = Parameter(np.ones(num_features, dtype))
            if bias:
                self.bias = Parameter(np.zeros(num_features, dtype))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", zeros(num_features, dtype=dtype))
            self.register_buffer("running_var", tensor(np.ones(num_features, dtype)))
            self.register_buffer("num_batches_tracked", tensor(0))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def forward(self, x: Tensor) -> Tensor:
        """Normalize with batch statistics (training) or the running ones (eval)."""
        if x.ndim not in self.expected_ndims or x.shape[1] != self.num_features:
            ndims = " or ".join(map(str, self.expected_ndims))
            raise ValueError(
                f"{type(self).__name__}({self.num_features}) expects input of {ndims} dimensions with "
                f"{self.num_features} channels in dim 1, got shape {x.shape}"
            )
        if x.dtype.kind != "f":
            raise TypeError(f"{type(self).__name__} needs a floating-point input, got {x.dtype}")
        use_batch_stats = self.training or not self.track_running_stats
        if use_batch_stats and x.numel() // x.shape[1] <= 1:  # checked before any state changes
            raise ValueError(
                f"{type(self).__name__}: expected more than 1 value per channel when training, got input of shape "
                f"{x.shape}; use a larger batch or eval()"
            )
        # training: batch statistics, and the running ones are updated; eval: the running ones
        stats = (self.running_mean, self.running_var) if self.track_running_stats else (None, None)
        F._check_batch_norm(x, *stats, self.weight, self.bias, use_batch_stats)  # all before any state changes
        momentum = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            self.num_batches_tracked._data[...] += 1
            self.num_batches_tracked._vc[0] += 1
            if self.momentum is None:  # cumulative moving average
                momentum = 1.0 / float(self.num_batches_tracked.item())
        return F.batch_norm(x, *stats, self.weight, self.bias, use_batch_stats, momentum, self.eps)

    def extra_repr(self) -> str:
        """The arguments shown inside this layer\'s repr, as in PyTorch."""
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
            f"bias={self.bias is not None}, track_running_stats={self.track_running_stats}"
        )


class BatchNorm1d(_BatchNorm):
    """Batch normalization over (N, C) or (N, C, L) inputs, per channel C."""

    expected_ndims = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Batch normalization over (N, C, H, W) inputs, per channel C."""

    expected_ndims = (4,)


class Dropout(Module):
    """Zero each element with probability ``p`` during training (scaling the rest by 1/(1-p))."""

    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        super().__init__()
        if not 0 <= p <= 1:
            raise ValueError(f"dropout probability has to be between 0 and 1, got {p}")
        self.p, self.inplace = p, inplace

    def forward(self, x: Tensor) -> Tensor:
        """Apply dropout in training mode, identity in eval mode."""
        return F.dropout(x, self.p, self.training)

    def extra_repr(self) -> str:
        """The arguments shown inside this layer\'s repr, as in PyTorch."""
        return f"p={self.p}, inplace={self.inplace}"


class Dropout2d(Module):
    """Zero whole channels with probability ``p`` during training (scaling the rest by 1/(1-p)).

    Shapes: (N, C, H, W) -> the same; one draw per (sample, channel).
    """

    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        super().__init__()
        if not 0 <= p <= 1:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p, self.inplace = p, inplace

    def forward(self, x: Tensor) -> Tensor:
        """Apply channel dropout in training mode, identity in eval mode."""
        return F.dropout2d(x, self.p, self.training, self.inplace)

    def extra_repr(self) -> str:
        """The arguments shown inside this layer\'s repr, as in PyTorch."""
        return f"p={self.p}, inplace={self.inplace}"


class LayerNorm(Module):
    """Normalize each sample over its last dimensions ``normalized_shape`` (no batch statistics,
    so train and eval behave alike): y = (x - mean) / sqrt(var + eps) * weight + bias.

    ``weight`` (ones) and ``bias`` (zeros) have shape ``normalized_shape``; nothing is drawn.
    """

    def __init__(self, normalized_shape: int | tuple[int, ...] | list[int], eps: float = 1e-5,
                 elementwise_affine: bool = True, bias: bool = True, dtype: Any = np.float32) -> None:  # fmt: skip
        super().__init__()
        shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
        self.normalized_shape, self.eps, self.elementwise_affine = shape, eps, elementwise_affine
        if elementwise_affine:
            self.weight = Parameter(np.ones(shape, dtype))
            if bias:
                self.bias = Parameter(np.zeros(shape, dtype))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)

    def forward(self, x: Tensor) -> Tensor:
        """Normalize the last ``len(normalized_shape)`` dimensions."""
        return F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        """The arguments shown inside this layer\'s repr, as in PyTorch."""
        return (
            f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}, "
            f"bias={self.bias is not None}"
        )
