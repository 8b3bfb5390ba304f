"""Adam and AdamW: adaptive moment estimation, with L2 or decoupled weight decay."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from autograd.grad_mode import no_grad
from nn.optim.optimizer import Optimizer, ParamsT, _buffer, _increment_step, _lerp_, _new_step, _zeros_like


class Adam(Optimizer):
    """Adam (Kingma & Ba), PyTorch's ``torch.optim.Adam`` step for step.

    Per parameter, at step ``t`` with gradient ``g`` (negated when ``maximize``)::

        g = g + weight_decay * p              (or p = p * (1 - lr * weight_decay) when decoupled)
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g**2
        v_max = max(v_max, v)                 (amsgrad; then v_max replaces v below)
        p = p - lr / (1 - beta1**t) * m / (sqrt(v) / sqrt(1 - beta2**t) + eps)

    Note ``eps`` is added after the bias correction of ``sqrt(v)``, as in PyTorch. State:
    ``step`` (a float32 scalar tensor), ``exp_avg``, ``exp_avg_sq`` and, with ``amsgrad``,
    ``max_exp_avg_sq``. ``decoupled_weight_decay=True`` is AdamW.
    """

    _state_keys = ("step", "exp_avg", "exp_avg_sq")

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
        decoupled_weight_decay: bool = False,
    ) -> None:
        defaults = {
            "lr": lr,
            "betas": tuple(betas) if isinstance(betas, (tuple, list)) else betas,  # (checked below)
            "eps": eps,
            "weight_decay": weight_decay,
            "amsgrad": amsgrad,
            "maximize": maximize,
            "decoupled_weight_decay": decoupled_weight_decay,
        }
        super().__init__(params, defaults)

    def _check_hyperparameters(self, group: dict[str, Any]) -> None:
        """Reject negative ``lr``/``eps``/``weight_decay`` and betas outside [0, 1)."""
        if not 0.0 <= group["lr"]:
            raise ValueError(f"Invalid learning rate: {group['lr']} (it must be >= 0)")
        if not 0.0 <= group["eps"]:
            raise ValueError(f"Invalid epsilon value: {group['eps']} (it must be >= 0)")
        betas = group["betas"]
        if len(betas) != 2:
            raise ValueError(f"betas must be a pair (beta1, beta2), got {betas!r}")
        for i, beta in enumerate(betas):
            if not 0.0 <= beta < 1.0:
                raise ValueError(f"Invalid beta parameter at index {i}: {beta} (it must be in [0, 1))")
        if not 0.0 <= group["weight_decay"]:
            raise ValueError(f"Invalid weight_decay value: {group['weight_decay']} (it must be >= 0)")

    @staticmethod
    def _betas(g: int, group: dict[str, Any]) -> tuple[float, float]:
        """A group's (beta1, beta2) as floats (read before any parameter moves)."""
        try:
            beta1, beta2 = (float(b) for b in group["betas"])
        except (TypeError, ValueError) as err:
            raise TypeError(
                f"parameter group {g}: betas must be a pair of numbers, got {group['betas']!r} ({err}); nothing was "
                "updated"
            ) from None
        return beta1, beta2

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Update every parameter that has a gradient; returns ``closure()`` when one is given."""
        loss = self._evaluate(closure)
        self._check_grads()  # every check before anything moves
        settings = self._hyperparameters("lr", "eps", "weight_decay")
        betas = [self._betas(g, group) for g, group in enumerate(self.param_groups)]
        with no_grad():
            for group, (lr, eps, weight_decay), (beta1, beta2) in zip(self.param_groups, settings, betas):
                for p, grad in self._with_grad(group):
                    if group["maximize"]:
                        grad = -grad  # ascend: g = -grad
                    state = self.state[p]
                    if not state:
                        state["step"] = _new_step()
                        state["exp_avg"] = _zeros_like(p)
                        state["exp_avg_sq"] = _zeros_like(p)
                        if group["amsgrad"]:
                            state["max_exp_avg_sq"] = _zeros_like(p)
                    t = _increment_step(state)

                    if weight_decay != 0:
                        if group["decoupled_weight_decay"]:
                            p.mul_(1 - lr * weight_decay)  # p = p * (1 - lr * wd)   (AdamW)
                        else:
                            grad = grad + weight_decay * p._data  # g = g + wd * p   (L2 penalty)

                    m, v = state["exp_avg"]._data, state["exp_avg_sq"]._data
                    _lerp_(m, grad, 1 - beta1)  # m = beta1 * m + (1 - beta1) * g
                    v *= beta2
                    v += (1 - beta2) * grad * grad  # v = beta2 * v + (1 - beta2) * g^2

                    bias_correction1 = 1 - beta1**t
                    bias_correction2 = 1 - beta2**t
                    step_size = lr / bias_correction1
                    if group["amsgrad"]:
                        v_max = _buffer(state, "max_exp_avg_sq", p)
                        np.maximum(v_max, v, out=v_max)  # v_max = max(v_max, v)
                        v = v_max
                    denom = np.sqrt(v) / bias_correction2**0.5 + eps  # sqrt(v) / sqrt(1 - beta2^t) + eps
                    p.add_((-step_size * m) / denom)  # p = p - lr / (1 - beta1^t) * m / denom
        return loss


class AdamW(Adam):
    """AdamW (Loshchilov & Hutter): Adam with weight decay applied to the weights, not the gradient.

    Before the Adam update each step does ``p = p * (1 - lr * weight_decay)``, so the decay
    bypasses the moment estimates. ``weight_decay`` defaults to ``1e-2``. Same state as ``Adam``.
    """

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize, decoupled_weight_decay=True)

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore a checkpoint (see ``Optimizer.load_state_dict``); the decay stays decoupled."""
        super().load_state_dict(state_dict)
        for group in self.param_groups:
            group["decoupled_weight_decay"] = True
