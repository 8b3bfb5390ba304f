"""``nn.functional`` (conventionally ``F``): layers and losses as plain functions.

The convolution, pooling and activation functions are autograd's own ops; the rest are
compositions of them, so their gradients (and higher derivatives) come from the engine.
"""

from __future__ import annotations

import math
import warnings
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
from autograd.function import Op
from autograd.ops import activation as ops_act
from autograd.ops import either
from autograd.ops.pointwise import expm1, log1p
from autograd.ops.special import erf
from autograd.tensor import as_array

__all__ = [
    "adaptive_avg_pool2d", "avg_pool2d", "batch_norm", "binary_cross_entropy", "binary_cross_entropy_with_logits",
    "conv2d", "conv_transpose2d", "cross_entropy", "dropout", "dropout2d", "elu", "embedding", "gelu", "hardtanh",
    "kl_div", "l1_loss", "layer_norm", "leaky_relu", "linear", "log_softmax", "max_pool2d", "mse_loss", "nll_loss",
    "normalize", "one_hot", "pad", "relu", "relu6", "sigmoid", "silu", "smooth_l1_loss", "softmax", "softplus", "tanh",
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
    t = as_array(target)
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
    return as_array(value)


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


# ---------------------------------------------------------------- more activations


def _maybe_inplace(input: Tensor, inplace: bool, fn: Any) -> Tensor:
    """``fn(input)``, or with ``inplace=True`` the same values written into ``input``'s memory
    (recorded for backward, as PyTorch's in-place activations are)."""
    if not inplace:
        return fn(input)
    return input._inplace(lambda: fn(input.detach())._data, fn, keeps_input=True)


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    """Gaussian error linear unit: x * Phi(x), Phi the standard normal CDF.

    ``approximate='none'``: 0.5 x (1 + erf(x / sqrt(2))); ``'tanh'``: 0.5 x (1 + tanh(sqrt(2/pi)
    (x + 0.044715 x^3))), the approximation of the original paper (GPT-2 uses it).
    """
    if approximate == "none":
        return input * 0.5 * (1 + erf(input * (1 / math.sqrt(2))))
    if approximate == "tanh":
        inner = (input + input * input * input * 0.044715) * math.sqrt(2 / math.pi)
        return input * 0.5 * (1 + tanh(inner))
    raise ValueError(f"gelu: approximate argument must be either none or tanh, got {approximate!r}")


def silu(input: Tensor, inplace: bool = False) -> Tensor:
    """x * sigmoid(x) (also called swish)."""
    return _maybe_inplace(input, inplace, lambda x: x * sigmoid(x))


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """log(1 + e^(beta x)) / beta, a smooth relu; where beta x > threshold, x itself (as PyTorch).

    The exponent is clamped at the threshold first, so the unused branch never overflows
    (an inf there would turn the gradient into NaN).
    """
    z = input * beta
    smooth = log1p(z.clamp(max=threshold).exp()) / beta
    return where(z._data > threshold, input, smooth)


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """x where x > 0, else alpha (e^x - 1) (e^x - 1 by expm1, exact near 0)."""

    def elu_of(x: Tensor) -> Tensor:
        negative = expm1(x.clamp(max=0)) * alpha  # (clamped: e^x of a large x would overflow, unused)
        return where(x._data > 0, x, negative)

    return _maybe_inplace(input, inplace, elu_of)


def hardtanh(input: Tensor, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False) -> Tensor:
    """Clamp to [min_val, max_val]; the gradient is 1 strictly inside, 0 elsewhere (as PyTorch)."""
    if max_val < min_val:
        raise ValueError(f"hardtanh: max_val ({max_val}) must not be below min_val ({min_val})")

    def hardtanh_of(x: Tensor) -> Tensor:
        inside = (x._data > min_val) & (x._data < max_val)
        return where(inside, x, x.detach().clamp(min_val, max_val))

    return _maybe_inplace(input, inplace, hardtanh_of)


def relu6(input: Tensor, inplace: bool = False) -> Tensor:
    """min(max(x, 0), 6): ``hardtanh(x, 0, 6)``."""
    return hardtanh(input, 0.0, 6.0, inplace)


def normalize(input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12) -> Tensor:
    """x / max(||x||_p, eps) along ``dim`` (each row a unit vector, by default).

    A zero vector stays zero, with a zero gradient (its norm's gradient is masked, not NaN).
    """
    total = (input.abs() ** p).sum(dim, keepdim=True)
    positive = total._data > 0
    norm = where(positive, where(positive, total, 1.0) ** (1.0 / p), 0.0)
    return input / norm.clamp(min=eps)


# ---------------------------------------------------------------- embeddings and layer norm


def _check_indices(input: Any, fn: str) -> np.ndarray:
    indices = _data_of(input)
    if indices.dtype.kind not in "iu":
        raise TypeError(
            f"{fn}: expected indices of an integer dtype (Long, Int), got {indices.dtype}; convert them with .long()"
        )
    return indices


def embedding(
    input: Tensor,
    weight: Tensor,
    padding_idx: int | None = None,
    max_norm: float | None = None,
    norm_type: float = 2.0,
    scale_grad_by_freq: bool = False,
    sparse: bool = False,
) -> Tensor:
    """Look up rows of ``weight`` (num_embeddings, embedding_dim) by the integer ``input`` (*),
    giving (*, embedding_dim).

    ``padding_idx``: that row gets no gradient. ``max_norm``: the rows looked up are first
    rescaled in place to norm at most ``max_norm`` (``norm_type``-norm), as PyTorch does.
    ``scale_grad_by_freq``: each row's gradient is divided by how often it occurs in ``input``.
    """
    indices = _check_indices(input, "embedding")
    if weight.ndim != 2:
        raise ValueError(f"embedding: weight must be 2-D (num_embeddings, embedding_dim), got shape {weight.shape}")
    rows = weight.shape[0]
    if indices.size and (indices.min() < -rows or indices.max() >= rows):
        bad = indices[(indices < -rows) | (indices >= rows)].flat[0]
        raise IndexError(f"index out of range in self: embedding index {int(bad)} with {rows} rows in the weight")
    if padding_idx is not None:
        if not -rows <= padding_idx < rows:
            raise ValueError(f"embedding: padding_idx must be within num_embeddings ({rows}), got {padding_idx}")
        padding_idx = padding_idx % rows
    if sparse:
        raise NotImplementedError("embedding: sparse gradients are not supported by dagrad; use sparse=False")
    if max_norm is not None:
        _embedding_renorm_(weight, indices, max_norm, norm_type)
    looked_up = weight[indices]
    if padding_idx is not None:  # the padding row's value, but no gradient to it
        looked_up = where((indices != padding_idx)[..., None], looked_up, looked_up.detach())
    if scale_grad_by_freq:
        counts = np.bincount((indices % rows).reshape(-1), minlength=rows)[indices % rows]
        scale = (1.0 / counts).astype(weight.dtype)[..., None]
        frozen = looked_up.detach()
        looked_up = frozen + (looked_up - frozen) * scale  # the same values; the gradient scaled
    return looked_up


def _embedding_renorm_(weight: Tensor, indices: np.ndarray, max_norm: float, norm_type: float) -> None:
    """Rescale (in place, unrecorded) each looked-up row whose norm exceeds ``max_norm``."""
    rows = np.unique(indices % weight.shape[0])
    with no_grad():
        values = weight._data[rows]
        norms = (np.abs(values) ** norm_type).sum(1) ** (1.0 / norm_type)
        scale = np.where(norms > max_norm, max_norm / (norms + 1e-7), 1.0).astype(weight.dtype)
        new = weight._data.copy()
        new[rows] = values * scale[:, None]
        weight.copy_(new)


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """Integer class indices (*) -> int64 one-hot vectors (*, num_classes); ``num_classes=-1``
    means max + 1."""
    indices = _data_of(tensor)
    if indices.dtype != np.int64:
        raise TypeError(
            f"one_hot is only applicable to index tensor of type LongTensor (int64), got {indices.dtype}; use .long()"
        )
    if num_classes == -1:
        if indices.size == 0:
            raise RuntimeError("one_hot: Can not infer total number of classes from empty tensor.")
        num_classes = int(indices.max()) + 1
    if indices.size and indices.min() < 0:
        raise RuntimeError("one_hot: Class values must be non-negative.")
    if indices.size and indices.max() >= num_classes:
        raise RuntimeError(
            f"one_hot: Class values must be smaller than num_classes (got {int(indices.max())} with "
            f"num_classes={num_classes})."
        )
    return Tensor(np.arange(num_classes) == indices[..., None]).long()


def layer_norm(
    input: Tensor,
    normalized_shape: int | tuple[int, ...] | list[int],
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    eps: float = 1e-5,
) -> Tensor:
    """Normalize over the last dimensions (``normalized_shape``) of each sample:
    y = (x - mean) / sqrt(var + eps) * weight + bias, var biased; weight and bias have shape
    ``normalized_shape``. Shapes: x (*, *normalized_shape) -> y, the same."""
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    if not shape or tuple(input.shape[input.ndim - len(shape) :]) != shape or input.ndim < len(shape):
        raise ValueError(
            f"layer_norm: Given normalized_shape={list(shape)}, expected input with shape [*, "
            f"{', '.join(map(str, shape))}], but got input of size {list(input.shape)}"
        )
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and tuple(t.shape) != shape:
            raise ValueError(f"layer_norm: {name} must have shape {shape} (normalized_shape), got {tuple(t.shape)}")
    dims = tuple(range(input.ndim - len(shape), input.ndim))
    mean = input.mean(dims, keepdim=True)
    centered = input - mean
    var = (centered * centered).mean(dims, keepdim=True)
    y = centered / (var + eps).sqrt()
    if weight is not None:
        y = y * weight
    if bias is not None:
        y = y + bias
    return y


# ---------------------------------------------------------------- channel dropout


def dropout2d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero whole channels: each (sample, channel) map of an (N, C, H, W) input with probability
    ``p``, scaling the rest by 1/(1-p) (training only).

    As PyTorch: a 3-D input is read as (N, C, L) (with PyTorch's warning), and the mask,
    shape (N, C, 1, 1), is drawn as PyTorch draws it (``bernoulli_(1 - p)``), so with the same
    seed the same channels drop (on the CPUs where ``F.dropout``'s masks agree too).
    """
    if not 0 <= p <= 1:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if input.ndim == 3:
        warnings.warn(
            "dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D dropout behavior is "
            "desired - input is interpreted as shape (N, C, L), where C is the channel dim. This behavior will "
            "change in a future release to interpret the input as one without a batch dimension, i.e. shape "
            "(C, H, W). To maintain the 1D channel-wise dropout behavior, please switch to using dropout1d instead.",
            stacklevel=2,
        )
    elif input.ndim != 4:
        raise ValueError(f"dropout2d: expected a 4-D (N, C, H, W) input, got shape {input.shape}")
    if not training or p == 0 or input.numel() == 0:
        return input
    if p == 1:
        scaled_noise = np.zeros((), input.dtype)
    else:
        noise = Tensor._make(np.empty(input.shape[:2] + (1,) * (input.ndim - 2), input.dtype))
        noise.bernoulli_(1 - p, generator=default_generator)
        scaled_noise = noise._data / np.asarray(1 - p, input.dtype)
    return _maybe_inplace(input, inplace, lambda x: x * Tensor._make(scaled_noise))


# ---------------------------------------------------------------- more losses


def _check_same_shape(input: Tensor, target: Tensor, fn: str) -> None:
    if input.shape != target.shape:
        raise ValueError(
            f"{fn}: input of shape {input.shape} and target of shape {target.shape} differ; "
            "reshape one of them (silent broadcasting would compute the wrong loss)"
        )


def l1_loss(input: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:
    """Mean absolute error |input - target|; the shapes must match."""
    _check_reduction(reduction)
    _check_same_shape(input, target, "l1_loss")
    return _reduce((input - target).abs(), reduction)


def smooth_l1_loss(input: Tensor, target: Tensor, reduction: str = "mean", beta: float = 1.0) -> Tensor:
    """Huber-like loss: 0.5 d^2 / beta where d = |input - target| < beta, else d - 0.5 beta."""
    _check_reduction(reduction)
    _check_same_shape(input, target, "smooth_l1_loss")
    if beta < 0:
        raise ValueError(f"smooth_l1_loss does not support negative values for beta, got {beta}")
    d = (input - target).abs()
    if beta == 0:
        return _reduce(d, reduction)
    return _reduce(where(d._data < beta, d * d * (0.5 / beta), d - 0.5 * beta), reduction)


def _clamp_min(x: Any, low: float) -> Any:
    """max(x, low) for a Tensor or a numpy array."""
    return x.clamp(min=low) if isinstance(x, Tensor) else np.maximum(x, low)


_BCE_EPSILON = float(np.float32(1e-12))  # PyTorch's bound is 1e-12 as a float32, 9.99999996e-13


class _BinaryCrossEntropy(Op):
    """loss = -(y log x + (1 - y) log(1 - x)), each log clamped at -100 (PyTorch's), elementwise.

    Shapes: x (*) probabilities, y (*) targets -> (*)."""

    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        with np.errstate(divide="ignore"):
            log_x = np.maximum(np.log(x._data), -100)
            log_1mx = np.maximum(np.log1p(-x._data), -100)
        return -(y._data * log_x + (1 - y._data) * log_1mx)

    @staticmethod
    def backward(ctx, grad):
        # d/dx = (x - y) / (x (1 - x)), the denominator kept >= 1e-12 (PyTorch's); d/dy = log(1 - x) - log(x)
        x, y = ctx.saved_tensors
        grad_x = grad * (x - y) / _clamp_min(x * (1 - x), _BCE_EPSILON)
        grad_y = None
        if ctx.needs_input_grad[1]:
            grad_y = grad * (_clamp_min(either.log(1 - x), -100) - _clamp_min(either.log(x), -100))
        return grad_x, grad_y


def binary_cross_entropy(
    input: Tensor, target: Tensor, weight: Tensor | None = None, reduction: str = "mean"
) -> Tensor:
    """Binary cross-entropy of probabilities ``input`` in [0, 1] against ``target`` (same shape).

    Each log is clamped at -100, as in PyTorch, so a probability of exactly 0 or 1 gives a
    finite loss. For logits use ``binary_cross_entropy_with_logits`` (stabler).
    """
    _check_reduction(reduction)
    if input.shape != target.shape:
        raise ValueError(
            f"Using a target size ({target.shape}) that is different to the input size ({input.shape}) is "
            "deprecated. Please ensure they have the same size."
        )
    if ((input._data < 0) | (input._data > 1)).any():
        raise RuntimeError("binary_cross_entropy: all elements of input should be between 0 and 1 (apply sigmoid)")
    target = target if target.dtype == input.dtype else target.to(input.dtype)
    loss = _BinaryCrossEntropy.apply(input, target)
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


def kl_div(input: Tensor, target: Tensor, reduction: str = "mean", log_target: bool = False) -> Tensor:
    """Kullback-Leibler divergence, pointwise target * (log target - input), ``input`` being
    log-probabilities (``log_target``: target is too, pointwise e^target (target - input)).

    ``reduction='batchmean'`` divides the sum by the batch size (the true KL divergence);
    ``'mean'`` divides by the number of elements (PyTorch warns about it, and so does this).
    """
    if reduction not in _REDUCTIONS + ("batchmean",):
        raise ValueError(
            f"kl_div: {reduction!r} is not a valid value for reduction ('mean', 'batchmean', 'sum', 'none')"
        )
    if reduction == "mean":
        warnings.warn(
            "reduction: 'mean' divides the total loss by both the batch size and the support size."
            "'batchmean' divides only by the batch size, and aligns with the KL div math definition."
            "'mean' will be changed to behave the same as 'batchmean' in the next major release.",
            stacklevel=2,
        )
    if log_target:
        pointwise = target.exp() * (target - input)
    else:
        positive = _data_of(target) > 0
        target_log_target = target * where(positive, target, 1.0).log()  # 0 where target is 0 (xlogy)
        pointwise = target_log_target - target * input
    if reduction == "batchmean":
        return pointwise.sum() / input.shape[0] if input.ndim else pointwise.sum()
    return _reduce(pointwise, reduction)
