"""Loss modules: ``CrossEntropyLoss``, ``NLLLoss``, ``MSELoss``, ``BCEWithLogitsLoss``, ``L1Loss``,
``SmoothL1Loss``, ``BCELoss``, ``KLDivLoss``."""

from __future__ import annotations

from autograd import Tensor
from nn import functional as F
from nn.module import Module


class CrossEntropyLoss(Module):
    """Softmax cross-entropy between logits (N, C) and class indices (N,), PyTorch's semantics."""

    def __init__(self, weight: Tensor | None = None, ignore_index: int = -100, reduction: str = "mean",
                 label_smoothing: float = 0.0) -> None:  # fmt: skip
        super().__init__()
        F._check_reduction(reduction)
        if not 0.0 <= label_smoothing <= 1.0:
            raise ValueError(f"label_smoothing must be in [0, 1], got {label_smoothing}")
        self.register_buffer("weight", weight)  # a buffer, as in PyTorch: in state_dict, moved by .to()
        self.ignore_index = ignore_index
        self.reduction, self.label_smoothing = reduction, label_smoothing

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        """The loss of logits ``input`` for class-index ``target``."""
        return F.cross_entropy(input, target, self.weight, self.ignore_index, self.reduction, self.label_smoothing)


class NLLLoss(Module):
    """Negative log likelihood of class indices given log-probabilities (after LogSoftmax)."""

    def __init__(self, weight: Tensor | None = None, ignore_index: int = -100, reduction: str = "mean") -> None:
        super().__init__()
        F._check_reduction(reduction)
        self.register_buffer("weight", weight)
        self.ignore_index, self.reduction = ignore_index, reduction

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        """The loss of log-probabilities ``input`` for class-index ``target``."""
        return F.nll_loss(input, target, self.weight, self.ignore_index, self.reduction)


class MSELoss(Module):
    """Mean squared error between same-shaped input and target."""

    def __init__(self, reduction: str = "mean") -> None:
        super().__init__()
        F._check_reduction(reduction)
        self.reduction = reduction

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        """The squared error of ``input`` against ``target``."""
        return F.mse_loss(input, target, self.reduction)


class BCEWithLogitsLoss(Module):
    """Sigmoid + binary cross-entropy, stable for large logits."""

    def __init__(self, weight: Tensor | None = None, reduction: str = "mean", pos_weight: Tensor | None = None) -> None:
        super().__init__()
        F._check_reduction(reduction)
        self.register_buffer("weight", weight)
        self.register_buffer("pos_weight", pos_weight)
        self.reduction = reduction

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        """The loss of logits ``input`` for 0/1 ``target``."""
        return F.binary_cross_entropy_with_logits(input, target, self.weight, self.reduction, self.pos_weight)


class L1Loss(Module):
    """Mean absolute error between same-shaped input and target."""

    def __init__(self, reduction: str = "mean") -> None:
        super().__init__()
        F._check_reduction(reduction)
        self.reduction = reduction

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        """The absolute error of ``input`` against ``target``."""
        return F.l1_loss(input, target, self.reduction)


class SmoothL1Loss(Module):
    """Squared error below ``beta``, absolute error above it (robust to outliers)."""

    def __init__(self, reduction: str = "mean", beta: float = 1.0) -> None:
        super().__init__()
        F._check_reduction(reduction)
        self.reduction, self.beta = reduction, beta

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        """The smooth L1 error of ``input`` against ``target``."""
        return F.smooth_l1_loss(input, target, self.reduction, self.beta)


class BCELoss(Module):
    """Binary cross-entropy of probabilities (after a sigmoid); logs clamped at -100."""

    def __init__(self, weight: Tensor | None = None, reduction: str = "mean") -> None:
        super().__init__()
        F._check_reduction(reduction)
        self.register_buffer("weight", weight)
        self.reduction = reduction

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        """The loss of probabilities ``input`` for 0/1 ``target``."""
        return F.binary_cross_entropy(input, target, self.weight, self.reduction)


class KLDivLoss(Module):
    """KL divergence of ``target`` from the distribution whose log-probabilities are ``input``
    (use ``reduction='batchmean'`` for the mathematical KL divergence)."""

    def __init__(self, reduction: str = "mean", log_target: bool = False) -> None:
        super().__init__()
        self.reduction, self.log_target = reduction, log_target

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        """The divergence for log-probabilities ``input``."""
        return F.kl_div(input, target, self.reduction, self.log_target)
