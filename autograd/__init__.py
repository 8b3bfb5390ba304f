"""dagrad's autograd: tensors and scalars that record a dynamic graph, reverse-mode backward.

Names follow PyTorch, so ``import autograd`` replaces ``import torch`` in lecture code::

    import autograd
    x = autograd.tensor([1.0, -2.0, 3.0], requires_grad=True)
    y = (x * x).sum()
    y.backward()
    x.grad            # tensor([ 2., -4.,  6.])
"""

import importlib
from typing import Any

from autograd.tensor import (  # noqa: I001  (tensor must load before the ops and function)
    Tensor,
    arange,
    as_dtype,
    bool_,
    eye,
    float16,
    float32,
    float64,
    full,
    full_like,
    int8,
    int16,
    int32,
    int64,
    ones,
    ones_like,
    tensor,
    uint8,
    zeros,
    zeros_like,
)
from autograd.random import (
    Generator,
    default_generator,
    get_rng_state,
    initial_seed,
    manual_seed,
    multinomial,
    normal,
    rand,
    rand_like,
    randint,
    randn,
    randn_like,
    randperm,
    seed,
    set_rng_state,
)
from autograd.function import Function
from autograd.engine import backward, grad
from autograd.grad_mode import (
    detect_anomaly,
    enable_grad,
    is_anomaly_enabled,
    is_grad_enabled,
    no_grad,
    set_grad_enabled,
)
from autograd.ops.activation import log_softmax, relu, sigmoid, softmax, tanh
from autograd.ops.arithmetic import add, div, mul, neg, pow, sub
from autograd.ops.conv import conv2d, conv_arithmetic, conv_transpose2d
from autograd.ops.indexing import index
from autograd.ops.linalg import matmul
from autograd.ops.pointwise import abs, clamp, exp, log, maximum, minimum, sqrt, where
from autograd.ops.pool import adaptive_avg_pool2d, avg_pool2d, max_pool2d
from autograd.ops.reduce import max, mean, min, sum, unbroadcast, var
from autograd.ops.shape import (
    cat,
    clone,
    expand,
    flatten,
    pad,
    permute,
    reshape,
    squeeze,
    stack,
    transpose,
    unsqueeze,
    view,
)
from autograd.scalar import Scalar
from autograd.gradcheck import GradcheckError, gradcheck, gradgradcheck
from autograd import functional, graph, random, workspace
from autograd import autograd  # noqa: F401  (torch.autograd.Function in lecture code -> autograd.autograd.Function)

clip = clamp

__all__ = [
    "adaptive_avg_pool2d",
    "graph",
    "random",
    "workspace",
    "avg_pool2d",
    "conv2d",
    "conv_arithmetic",
    "conv_transpose2d",
    "max_pool2d",
    "Function",
    "Generator",
    "GradcheckError",
    "Scalar",
    "Tensor",
    "abs",
    "add",
    "arange",
    "as_dtype",
    "backward",
    "bool_",
    "cat",
    "clamp",
    "clip",
    "clone",
    "default_generator",
    "detect_anomaly",
    "div",
    "enable_grad",
    "exp",
    "expand",
    "eye",
    "flatten",
    "float16",
    "float32",
    "float64",
    "full",
    "full_like",
    "functional",
    "get_rng_state",
    "grad",
    "gradcheck",
    "gradgradcheck",
    "index",
    "initial_seed",
    "int8",
    "int16",
    "int32",
    "int64",
    "is_anomaly_enabled",
    "is_grad_enabled",
    "log",
    "log_softmax",
    "manual_seed",
    "matmul",
    "max",
    "maximum",
    "mean",
    "min",
    "minimum",
    "mul",
    "multinomial",
    "neg",
    "no_grad",
    "normal",
    "ones",
    "ones_like",
    "pad",
    "permute",
    "pow",
    "rand",
    "rand_like",
    "randint",
    "randn",
    "randn_like",
    "randperm",
    "relu",
    "reshape",
    "seed",
    "set_grad_enabled",
    "set_rng_state",
    "sigmoid",
    "softmax",
    "sqrt",
    "squeeze",
    "stack",
    "sub",
    "sum",
    "tanh",
    "tensor",
    "transpose",
    "uint8",
    "unbroadcast",
    "unsqueeze",
    "var",
    "view",
    "where",
    "zeros",
    "zeros_like",
]


def __getattr__(name: str) -> Any:
    """``autograd.nn``, ``autograd.optim`` and ``autograd.testing`` load on first use, so that
    ``torch.nn.Conv2d`` ports as ``autograd.nn.Conv2d`` (the same objects as the ``nn``
    package's); ``testing`` needs hypothesis, a development dependency."""
    if name in ("nn", "optim", "testing"):
        module = importlib.import_module({"nn": "nn", "optim": "nn.optim", "testing": "autograd.testing"}[name])
        globals()[name] = module
        return module
    raise AttributeError(f"module 'autograd' has no attribute {name!r}")
