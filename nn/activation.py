"""Activation layers: ``ReLU``, ``LeakyReLU``, ``Sigmoid``, ``Tanh``, ``Softmax``, ``LogSoftmax``, ``GELU``,
``SiLU``, ``Softplus``, ``ELU``, ``Hardtanh``, ``ReLU6``."""

from __future__ import annotations

from autograd import Tensor
from nn import functional as F
from nn.module import Module


class ReLU(Module):
    """max(x, 0) elementwise; ``inplace=True`` writes the result into the input's memory (as
    PyTorch, recorded for backward)."""

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def forward(self, x: Tensor) -> Tensor:
        """Apply ReLU."""
        return F.relu(x, inplace=self.inplace)

    def extra_repr(self) -> str:
        """The arguments shown inside this layer\'s repr, as in PyTorch."""
        return "inplace=True" if self.inplace else ""


class LeakyReLU(Module):
    """x if x > 0 else negative_slope * x (``inplace`` as in ``ReLU``)."""

    def __init__(self, negative_slope: float = 0.01, inplace: bool = False) -> None:
        super().__init__()
        self.negative_slope, self.inplace = negative_slope, inplace

    def forward(self, x: Tensor) -> Tensor:
        """Apply LeakyReLU."""
        return F.leaky_relu(x, self.negative_slope, inplace=self.inplace)

    def extra_repr(self) -> str:
        """The arguments shown inside this layer\'s repr, as in PyTorch."""
        return f"negative_slope={self.negative_slope}" + (", inplace=True" if self.inplace else "")


class Sigmoid(Module):
    """1 / (1 + e^-x) elementwise."""

    def forward(self, x: Tensor) -> Tensor:
        """Apply the sigmoid."""
        return F.sigmoid(x)


class Tanh(Module):
    """tanh(x) elementwise."""

    def forward(self, x: Tensor) -> Tensor:
        """Apply tanh."""
        return F.tanh(x)


class Softmax(Module):
    """Softmax along ``dim`` (the values along it sum to one)."""

    def __init__(self, dim: int | None = None) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, x: Tensor) -> Tensor:
        """Apply softmax."""
        return F.softmax(x, self.dim)

    def extra_repr(self) -> str:
        """The arguments shown inside this layer\'s repr, as in PyTorch."""
        return f"dim={self.dim}"


class LogSoftmax(Module):
    """log(softmax(x)) along ``dim``, computed stably."""

    def __init__(self, dim: int | None = None) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, x: Tensor) -> Tensor:
        """Apply log-softmax."""
        return F.log_softmax(x, self.dim)

    def extra_repr(self) -> str:
        """The arguments shown inside this layer\'s repr, as in PyTorch."""
        return f"dim={self.dim}"


class GELU(Module):
    """x * Phi(x), Phi the normal CDF (``approximate='tanh'``: the tanh approximation)."""

    def __init__(self, approximate: str = "none") -> None:
        super().__init__()
        self.approximate = approximate

    def forward(self, x: Tensor) -> Tensor:
        """Apply GELU."""
        return F.gelu(x, approximate=self.approximate)

    def extra_repr(self) -> str:
        """The arguments shown inside this layer\'s repr, as in PyTorch."""
        return f"approximate={self.approximate!r}"


class SiLU(Module):
    """x * sigmoid(x) elementwise (swish)."""

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def forward(self, x: Tensor) -> Tensor:
        """Apply SiLU."""
        return F.silu(x, inplace=self.inplace)

    def extra_repr(self) -> str:
        """The arguments shown inside this layer\'s repr, as in PyTorch."""
        return "inplace=True" if self.inplace else ""


class Softplus(Module):
    """log(1 + e^(beta x)) / beta, linear where beta x > threshold."""

    def __init__(self, beta: float = 1.0, threshold: float = 20.0) -> None:
        super().__init__()
        self.beta, self.threshold = beta, threshold

    def forward(self, x: Tensor) -> Tensor:
        """Apply softplus."""
        return F.softplus(x, self.beta, self.threshold)

    def extra_repr(self) -> str:
        """The arguments shown inside this layer\'s repr, as in PyTorch."""
        return f"beta={self.beta}, threshold={self.threshold}"


class ELU(Module):
    """x where x > 0, else alpha (e^x - 1)."""

    def __init__(self, alpha: float = 1.0, inplace: bool = False) -> None:
        super().__init__()
        self.alpha, self.inplace = alpha, inplace

    def forward(self, x: Tensor) -> Tensor:
        """Apply ELU."""
        return F.elu(x, self.alpha, self.inplace)

    def extra_repr(self) -> str:
        """The arguments shown inside this layer\'s repr, as in PyTorch."""
        return f"alpha={self.alpha}" + (", inplace=True" if self.inplace else "")


class Hardtanh(Module):
    """Clamp to [min_val, max_val] (gradient 1 strictly inside, else 0)."""

    def __init__(self, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False) -> None:
        super().__init__()
        if max_val <= min_val:
            raise ValueError(f"Hardtanh: max_val ({max_val}) must be greater than min_val ({min_val})")
        self.min_val, self.max_val, self.inplace = min_val, max_val, inplace

    def forward(self, x: Tensor) -> Tensor:
        """Apply hardtanh."""
        return F.hardtanh(x, self.min_val, self.max_val, self.inplace)

    def extra_repr(self) -> str:
        """The arguments shown inside this layer\'s repr, as in PyTorch."""
        return f"min_val={self.min_val}, max_val={self.max_val}" + (", inplace=True" if self.inplace else "")


class ReLU6(Hardtanh):
    """min(max(x, 0), 6) elementwise."""

    def __init__(self, inplace: bool = False) -> None:
        super().__init__(0.0, 6.0, inplace)

    def extra_repr(self) -> str:
        """The arguments shown inside this layer\'s repr, as in PyTorch."""
        return "inplace=True" if self.inplace else ""
