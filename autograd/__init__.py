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
    empty,
    eye,
    float16,
    float32,
    float64,
    full,
    full_like,
    get_default_dtype,
    int8,
    int16,
    int32,
    int64,
    ones,
    linspace,
    logspace,
    ones_like,
    set_default_dtype,
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
from autograd.backprop import backward, grad
from autograd.grad_mode import (
    detect_anomaly,
    enable_grad,
    inference_mode,
    is_anomaly_enabled,
    is_grad_enabled,
    no_grad,
    set_grad_enabled,
)
from autograd.ops.activation import log_softmax, relu, sigmoid, softmax, tanh
from autograd.ops.arithmetic import add, div, mul, neg, pow, sub
from autograd.ops.conv import conv2d, conv_transpose2d
from autograd.ops.geometry import conv_arithmetic
from autograd.ops.indexing import gather, index, index_select, scatter_add
from autograd.ops.linalg import addmm, bmm, matmul, mm
from autograd.ops.pointwise import (
    abs,
    acos,
    asin,
    atan,
    atan2,
    ceil,
    clamp,
    cos,
    cosh,
    exp,
    exp2,
    expm1,
    floor,
    log,
    log1p,
    log2,
    log10,
    maximum,
    minimum,
    reciprocal,
    round,
    rsqrt,
    sign,
    sin,
    sinh,
    sqrt,
    square,
    tan,
    trunc,
    where,
)
from autograd.ops.pool import adaptive_avg_pool2d, avg_pool2d, max_pool2d
from autograd.ops.reduce import (
    all,
    allclose,
    any,
    argmax,
    argmin,
    argsort,
    count_nonzero,
    cumsum,
    equal,
    isclose,
    isfinite,
    isinf,
    isnan,
    max,
    mean,
    min,
    norm,
    prod,
    sort,
    std,
    sum,
    topk,
    unbroadcast,
    var,
)
from autograd.ops.shape import (
    cat,
    chunk,
    clone,
    expand,
    flatten,
    flip,
    narrow,
    pad,
    permute,
    repeat,
    reshape,
    roll,
    split,
    squeeze,
    stack,
    tile,
    transpose,
    tril,
    triu,
    unbind,
    unsqueeze,
    view,
)
from autograd.scalar import Scalar
from autograd.gradcheck import GradcheckError, gradcheck, gradgradcheck
from autograd import functional, graph, random, workspace
from autograd import autograd  # noqa: F401  (torch.autograd.Function in lecture code -> autograd.autograd.Function)
from autograd.ops.special import erf
from autograd.device import device  # (the class: it replaces the submodule's name here, as torch.device)
from autograd.serialization import load, save
from autograd import backends, cuda  # noqa: F401
from autograd import _modules

_modules.install()  # import autograd.nn as nn, import autograd.optim, from autograd.optim.lr_scheduler import StepLR

clip = clamp

# PyTorch's short dtype names (``torch.float`` is float32, ``torch.int`` int32). ``float``, ``int``
# and ``bool`` shadow the builtins in this module only, so they are not in ``__all__``: a star
# import keeps Python's own.
float = float32  # noqa: A001
double = float64
half = float16
long = int64
int = int32  # noqa: A001
bool = bool_  # noqa: A001

__all__ = [
    "abs",
    "backends",
    "cuda",
    "device",
    "erf",
    "inference_mode",
    "load",
    "save",
    "acos",
    "adaptive_avg_pool2d",
    "add",
    "addmm",
    "all",
    "allclose",
    "any",
    "arange",
    "argmax",
    "argmin",
    "argsort",
    "as_dtype",
    "asin",
    "atan",
    "atan2",
    "avg_pool2d",
    "backward",
    "bmm",
    "bool_",
    "cat",
    "ceil",
    "chunk",
    "clamp",
    "clip",
    "clone",
    "conv2d",
    "conv_arithmetic",
    "conv_transpose2d",
    "cos",
    "cosh",
    "count_nonzero",
    "cumsum",
    "default_generator",
    "detect_anomaly",
    "div",
    "double",
    "empty",
    "enable_grad",
    "equal",
    "exp",
    "exp2",
    "expand",
    "expm1",
    "eye",
    "flatten",
    "flip",
    "float16",
    "float32",
    "float64",
    "floor",
    "full",
    "full_like",
    "Function",
    "functional",
    "gather",
    "Generator",
    "get_default_dtype",
    "get_rng_state",
    "grad",
    "gradcheck",
    "GradcheckError",
    "gradgradcheck",
    "graph",
    "half",
    "index",
    "index_select",
    "initial_seed",
    "int16",
    "int32",
    "int64",
    "int8",
    "is_anomaly_enabled",
    "is_grad_enabled",
    "isclose",
    "isfinite",
    "isinf",
    "isnan",
    "linspace",
    "log",
    "log10",
    "log1p",
    "log2",
    "log_softmax",
    "logspace",
    "long",
    "manual_seed",
    "matmul",
    "max",
    "max_pool2d",
    "maximum",
    "mean",
    "min",
    "minimum",
    "mm",
    "mul",
    "multinomial",
    "narrow",
    "neg",
    "no_grad",
    "norm",
    "normal",
    "ones",
    "ones_like",
    "pad",
    "permute",
    "pow",
    "prod",
    "rand",
    "rand_like",
    "randint",
    "randn",
    "randn_like",
    "random",
    "randperm",
    "reciprocal",
    "relu",
    "repeat",
    "reshape",
    "roll",
    "round",
    "rsqrt",
    "Scalar",
    "scatter_add",
    "seed",
    "set_default_dtype",
    "set_grad_enabled",
    "set_rng_state",
    "sigmoid",
    "sign",
    "sin",
    "sinh",
    "softmax",
    "sort",
    "split",
    "sqrt",
    "square",
    "squeeze",
    "stack",
    "std",
    "sub",
    "sum",
    "tan",
    "tanh",
    "Tensor",
    "tensor",
    "tile",
    "topk",
    "transpose",
    "tril",
    "triu",
    "trunc",
    "uint8",
    "unbind",
    "unbroadcast",
    "unsqueeze",
    "var",
    "view",
    "where",
    "workspace",
    "zeros",
    "zeros_like",
]


def __getattr__(name: str) -> Any:
    """``autograd.nn``, ``autograd.optim``, ``autograd.utils`` and ``autograd.testing`` load on first use, so that
    ``torch.nn.Conv2d`` ports as ``autograd.nn.Conv2d`` (the same objects as the ``nn``
    package's); ``testing`` needs hypothesis, a development dependency."""
    if name in ("nn", "optim", "testing", "utils"):
        modules = {"nn": "nn", "optim": "nn.optim", "testing": "autograd.testing", "utils": "autograd.utils"}
        module = importlib.import_module(modules[name])
        globals()[name] = module
        return module
    raise AttributeError(f"module 'autograd' has no attribute {name!r}")
