"""PyTorch's ``torch.autograd`` namespace, so lecture code ports by renaming ``torch``.

``torch.autograd.Function`` becomes ``autograd.autograd.Function`` (the same class as
``autograd.Function``); ``from torch.autograd import grad`` becomes
``from autograd.autograd import grad``. Nothing here is new: it only re-exports.
"""

from autograd import functional
from autograd.backprop import backward, grad
from autograd.function import Function
from autograd.grad_mode import detect_anomaly, enable_grad, no_grad, set_grad_enabled
from autograd.gradcheck import GradcheckError, gradcheck, gradgradcheck

__all__ = [
    "Function",
    "GradcheckError",
    "backward",
    "detect_anomaly",
    "enable_grad",
    "functional",
    "grad",
    "gradcheck",
    "gradgradcheck",
    "no_grad",
    "set_grad_enabled",
]
