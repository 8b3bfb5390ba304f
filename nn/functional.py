"""``nn.functional`` (conventionally ``F``): layers and losses as plain functions.

The convolution, pooling and activation functions are autograd's own ops; the rest are
compositions of them, so their gradients (and higher derivatives) come from the engine.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from autograd import (
    Tensor,
    adaptive_avg_pool2d,
    avg_pool2d,
    conv2d,
    conv_transpose2d,
    default_generator,
    log_softmax,
    max_pool2d,
    no_grad,
    pad,
    sigmoid,
    softmax,
    tanh,
    where,
)
from autograd.ops import activation as ops_act

__all__ = [
    "adaptive_avg_pool2d", "avg_pool2d", "batch_norm", "binary_cross_entropy_with_logits", "conv2d",
    "conv_transpose2d", "cross_entropy", "dropout", "leaky_relu", "linear", "log_softmax", "max_pool2d",
    "mse_loss", "nll_loss", "pad", "relu", "sigmoid", "softmax", "tanh",
]  # fmt: skip

_REDUCTIONS = ("mean", "sum", "none")


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """y = x W^T + b. Shapes: x (*, in), W (out, in), b (out,) -> y (*, out)."""
    if input.shape[-1:] != weight.shape[1:]:
        raise ValueError(
            f"linear: input of shape {input.shape} has {input.shape[-1] if input.ndim else 0} features "
            f"but the weight of shape {weight.shape} expects {weight.shape[1]}"
        )
    y = input @ weight.T
    return y if bias is None else y + bias


def relu(input: Tensor, inplace: bool = False) -> Tensor:
    """max(x, 0) elementwise; with ``inplace=True`` in ``input``'s own memory (recorded, as PyTorch)."""
    return input.relu_() if inplace else input.relu()


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """x where x > 0, else negative_slope * x; with ``inplace=True`` in ``input``'s own memory."""
    if inplace:
        return input._inplace(
            lambda: np.where(input._data > 0, input._data, input._data * negative_slope),
            lambda old: ops_act.leaky_relu(old, negative_slope),
            keeps_output=True,
        )
    return ops_act.leaky_relu(input, negative_slope)


def dropout(input: Tensor, p: float = 0.5, training: bool = True) -> Tensor:
    """Zero each element with probability ``p`` and scale the rest by 1/(1-p) (training only).

    As PyTorch: ``noise = bernoulli_(1 - p) / (1 - p)`` in the input's dtype, then ``input * noise``,
    so with the same seed the mask is PyTorch's where PyTorch uses its own bernoulli kernel (AMD
    CPUs, builds without MKL). On Intel CPUs PyTorch's MKL build draws the mask from an MKL stream
    seeded by one 32-bit word: there the masks (and the generator's state after) differ.
    """
    if not 0 <= p <= 1:
        raise ValueError(f"dropout probability has to be between 0 and 1, got {p}")
    if not training or p == 0 or input.numel() == 0:
        return input
    if p == 1:
        return input * 0
    noise = Tensor._make(np.empty(input.shape, input.dtype)).bernoulli_(1 - p, generator=default_generator)
    return input * (noise / (1 - p))


def batch_norm(
    input: Tensor,
    running_mean: Tensor | None,
    running_var: Tensor | None,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    training: bool = False,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    """Normalize each channel (dim 1) by its batch statistics (training) or running ones (eval).

    y = (x - mean) / sqrt(var + eps) * weight + bias. In training the running statistics are
    updated in place: running = (1 - momentum) * running + momentum * batch (unbiased var).
    """
    _check_batch_norm(input, running_mean, running_var, weight, bias, training)
    dims = (0,) + tuple(range(2, input.ndim))
    shape = (1, input.shape[1]) + (1,) * (input.ndim - 2)
    if training:
        count = input.numel() // input.shape[1]
        mean = input.mean(dims, keepdim=True)
        var = ((input - mean) ** 2).mean(dims, keepdim=True)
        if running_mean is not None and running_var is not None:
            with no_grad():
                running_mean.mul_(1 - momentum).add_(mean._data.reshape(-1) * momentum)
                running_var.mul_(1 - momentum).add_(var._data.reshape(-1) * (momentum * count / (count - 1)))
    else:
        mean, var = running_mean.reshape(shape), running_var.reshape(shape)
    y = (input - mean) / (var + eps).sqrt()
    if weight is not None:
        y = y * weight.reshape(shape)
    if bias is not None:
        y = y + bias.reshape(shape)
    return y


def _check_batch_norm(
    input: Tensor,
    running_mean: Tensor | None,
    running_var: Tensor | None,
    weight: Tensor | None,
    bias: Tensor | None,
    training: bool,
) -> None:
    """Every check of ``batch_norm``, made before any state changes (the running statistics,
    and BatchNorm's ``num_batches_tracked``): a call that fails leaves them as they were."""
    if input.ndim < 2:
        raise ValueError(f"batch_norm expects input of shape (N, C, ...), got {input.shape}")
    if input.dtype.kind != "f":
        raise TypeError(f"batch_norm needs a floating-point input, got {input.dtype}")
    channels = (input.shape[1],)
    for name, t in (("running_mean", running_mean), ("running_var", running_var), ("weight", weight), ("bias", bias)):
        if t is not None and tuple(t.shape) != channels:
            raise ValueError(f"batch_norm: {name} must have shape {channels} (one value per channel), got {t.shape}")
        if t is not None and t.dtype.kind != "f":
            raise TypeError(f"batch_norm: {name} must be floating-point, got {t.dtype}; convert it, e.g. with .float()")
    if training and input.numel() // input.shape[1] <= 1:
        raise ValueError(
            f"batch_norm: expected more than 1 value per channel when training, got input of shape {input.shape}"
        )
    if not training and (running_mean is None or running_var is None):
        raise ValueError("batch_norm in eval mode needs running_mean and running_var")


# ---------------------------------------------------------------- losses


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    return loss.mean()


def _weighted_mean(total: Tensor, weight_sum: float) -> Tensor:
    """total / weight_sum. When every sample is ignored (weight_sum 0) the loss is NaN, as in
    PyTorch, but its gradient is 0, not NaN: one such batch must not poison the weights."""
    if weight_sum == 0:
        return total * 0.0 + float("nan")
    return total / weight_sum


def _check_reduction(reduction: str) -> None:
    if reduction not in _REDUCTIONS:
        raise ValueError(f"reduction must be one of {_REDUCTIONS}, got {reduction!r}")


def _class_last(input: Tensor) -> Tensor:
    """(N, C, d1, ...) -> (N * d1 * ..., C); (N, C) and (C,) pass through."""
    if input.ndim <= 2:
        return input
    moved = input.permute(0, *range(2, input.ndim), 1)
    return moved.reshape(-1, input.shape[1])


def _check_targets(input: Tensor, target: Tensor, ignore_index: int, fn: str) -> np.ndarray:
    t = target._data if isinstance(target, Tensor) else np.asarray(target)
    if t.dtype.kind not in "iu":
        raise TypeError(f"{fn}: class-index targets must be integers, got dtype {t.dtype} (use target.long())")
    expected = input.shape[:1] + input.shape[2:] if input.ndim >= 2 else ()
    if t.shape != expected:
        raise ValueError(
            f"{fn}: target of shape {t.shape} does not match input of shape {input.shape}; expected target "
            f"shape {expected} (one class index per sample)"
        )
    classes = input.shape[1] if input.ndim >= 2 else input.shape[0]
    bad = (t != ignore_index) & ((t < 0) | (t >= classes))
    if bad.any():
        raise IndexError(
            f"{fn}: target {int(t[bad][0])} is out of bounds for {classes} classes (valid: 0..{classes - 1})"
        )
    return t.reshape(-1)


def _broadcasts_to(shape: tuple[int, ...], target: tuple[int, ...]) -> bool:
    try:
        return np.broadcast_shapes(shape, target) == tuple(target)
    except ValueError:
        return False


def _check_class_weight(input: Tensor, weight: Tensor | None, fn: str) -> None:
    classes = input.shape[1] if input.ndim >= 2 else input.shape[0]
    if weight is not None and tuple(weight.shape) != (classes,):
        raise ValueError(f"{fn}: weight must hold one value per class, shape ({classes},), got {tuple(weight.shape)}")


def nll_loss(
    input: Tensor, target: Tensor, weight: Tensor | None = None, ignore_index: int = -100, reduction: str = "mean"
) -> Tensor:
    """Negative log likelihood of class-index targets given log-probabilities.

    Shapes: input (N, C) or (N, C, d1, ...) or (C,); target (N,) / (N, d1, ...) / () of ints.
    """
    _check_reduction(reduction)
    t = _check_targets(input, target, ignore_index, "nll_loss")
    _check_class_weight(input, weight, "nll_loss")
    logp = input.unsqueeze(0) if input.ndim == 1 else _class_last(input)
    valid = t != ignore_index
    safe = np.where(valid, t, 0)
    loss = -logp[np.arange(len(safe)), safe]  # -log p[target] per sample
    w = None if weight is None else weight._data.astype(logp.dtype)[safe]
    if w is not None:
        loss = loss * Tensor(w)  # w[target] * -log p[target] (a zero class weight multiplies, as PyTorch)
    loss = _mask_ignored(loss, valid)
    if reduction == "none":
        return loss.reshape(target.shape if isinstance(target, Tensor) else np.shape(target))
    if reduction == "sum":
        return loss.sum()
    return _weighted_mean(loss.sum(), float(valid.sum() if w is None else w[valid].sum()))


def _mask_ignored(loss: Tensor, valid: np.ndarray) -> Tensor:
    """``loss`` with exact zeros at the ignored samples, in value and in gradient.

    Selected, never multiplied by 0: an ignored sample's loss may be infinite (-inf * 0 is
    NaN), and so may the gradient that reaches it. Shapes: loss (N,), valid (N,) bool.
    """
    return loss if valid.all() else where(valid, loss, 0.0)


def cross_entropy(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    ignore_index: int = -100,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
) -> Tensor:
    """Softmax cross-entropy (log_softmax then nll_loss), PyTorch's ``F.cross_entropy``.

    Shapes: input (N, C), (N, C, d1, ...) or (C,); target the class indices (N,) / (N, d1, ...)
    / () as integers, or class probabilities of the input's shape as floats. With
    ``label_smoothing`` = e the target distribution is (1 - e) * target + e / C.
    """
    _check_reduction(reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"label_smoothing must be in [0, 1], got {label_smoothing}")
    if input.ndim == 0:
        raise ValueError("cross_entropy needs input of shape (N, C) or (C,), got a 0-d tensor")
    _check_class_weight(input, weight, "cross_entropy")
    logp = log_softmax(input, dim=1 if input.ndim >= 2 else 0)
    if _data_of(target).dtype.kind == "f":
        return _soft_cross_entropy(logp, target, weight, ignore_index, reduction, label_smoothing)
    loss = nll_loss(logp, target, weight, ignore_index, "none" if label_smoothing else reduction)
    if not label_smoothing:
        return loss
    # the smoothing term: -sum_c w_c * log p_c * e / C, for every non-ignored sample
    t = _check_targets(input, target, ignore_index, "cross_entropy")
    flat = _class_last(logp) if input.ndim >= 2 else logp.unsqueeze(0)
    classes = flat.shape[1]
    w = None if weight is None else weight._data.astype(flat.dtype)
    smooth = -(flat if w is None else flat * Tensor(w)).sum(1) / classes
    valid = t != ignore_index
    per_sample = _mask_ignored(loss.reshape(-1) * (1 - label_smoothing) + smooth * label_smoothing, valid)
    if reduction == "none":
        return per_sample.reshape(loss.shape)
    if reduction == "sum":
        return per_sample.sum()
    denominator = valid.sum() if w is None else w[np.where(valid, t, 0)][valid].sum()
    return _weighted_mean(per_sample.sum(), float(denominator))


def _soft_cross_entropy(
    logp: Tensor, target: Any, weight: Tensor | None, ignore_index: int, reduction: str, label_smoothing: float
) -> Tensor:
    """Cross-entropy against class probabilities: -sum_c w_c t_c log p_c per sample (mixup,
    distillation); the mean is over samples. Shapes: logp and target alike, classes in dim 1."""
    if ignore_index >= 0:  # (a negative one can match no class, so PyTorch lets it pass)
        raise ValueError(
            f"cross_entropy: ignore_index is not supported for floating point target (got ignore_index="
            f"{ignore_index}); it applies to class-index targets only"
        )
    target = target if isinstance(target, Tensor) else Tensor(np.asarray(target))
    if target.shape != logp.shape:
        raise ValueError(
            f"cross_entropy: a class-probability (float) target must have the input's shape {logp.shape}, got "
            f"{target.shape}; for class indices pass integers (target.long())"
        )
    class_dim = 1 if logp.ndim >= 2 else 0
    classes = logp.shape[class_dim]
    target = target.to(logp.dtype) if target.dtype != logp.dtype else target
    if label_smoothing:
        target = target * (1 - label_smoothing) + label_smoothing / classes
    products = target * logp
    if weight is not None:  # one weight per class, along the class dimension
        products = products * weight.to(logp.dtype).reshape(classes, *[1] * (logp.ndim - class_dim - 1))
    return _reduce(-products.sum(class_dim), reduction)


def _data_of(value: Any) -> np.ndarray:
    return value._data if isinstance(value, Tensor) else np.asarray(value)


def mse_loss(input: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:
    """Mean squared error; input and target must have the same shape (nothing is broadcast)."""
    _check_reduction(reduction)
    if input.shape != target.shape:
        raise ValueError(
            f"mse_loss: input of shape {input.shape} and target of shape {target.shape} differ; "
            "reshape one of them (silent broadcasting would compute the wrong loss)"
        )
    return _reduce((input - target) ** 2, reduction)


def binary_cross_entropy_with_logits(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    reduction: str = "mean",
    pos_weight: Tensor | None = None,
) -> Tensor:
    """Sigmoid + binary cross-entropy in one stable formula (never overflows).

    loss = (1 - y) x + (1 + (pw - 1) y) * softplus(-x), with softplus(-x) = log(1 + e^-x)
    computed as m + log(e^-m + e^-n), m = max(-x, 0), n = max(x, 0) = x + m: both exponents
    are <= 0, and n is never inf - inf, so the gradient, (1 + (pw - 1) y) sigmoid(x) - pw y, is
    finite at x = +-inf too. It is exact at x = 0 as well, where that of m cancels out: n's
    gradient must be that of x + m there, 1 (clamp's), as relu's is 0.
    """
    _check_reduction(reduction)
    if input.shape != target.shape:
        raise ValueError(f"binary_cross_entropy_with_logits: input {input.shape} and target {target.shape} differ")
    for name, w in (("weight", weight), ("pos_weight", pos_weight)):
        if w is not None and not _broadcasts_to(w.shape, input.shape):
            raise ValueError(
                f"binary_cross_entropy_with_logits: {name} of shape {w.shape} must broadcast to the input's "
                f"shape {input.shape} (pos_weight: one value per class, the last dimension)"
            )
    m, n = relu(-input), input.clamp(min=0)  # max(-x, 0), and max(x, 0) with gradient 1 at x = 0
    softplus_neg = m + ((-m).exp() + (-n).exp()).log()  # log(1 + e^-x), stably
    if pos_weight is None:
        loss = (1 - target) * input + softplus_neg
    else:
        loss = (1 - target) * input + (1 + (pos_weight - 1) * target) * softplus_neg
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)
