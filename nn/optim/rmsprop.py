"""RMSprop: divide the gradient by a running root-mean-square of recent gradients."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from autograd.grad_mode import no_grad
from nn.optim.optimizer import Optimizer, ParamsT, _buffer, _increment_step, _lerp_, _new_step, _zeros_like


class RMSprop(Optimizer):
    """RMSprop (Hinton), PyTorch's ``torch.optim.RMSprop`` step for step.

    Per parameter, with gradient ``g`` (negated when ``maximize``)::

        g = g + weight_decay * p
        v = alpha * v + (1 - alpha) * g**2
        avg = sqrt(v) + eps                       (centered: sqrt(v - gbar**2) + eps,
                                                   gbar = alpha * gbar + (1 - alpha) * g)
        b = momentum * b + g / avg;  p = p - lr * b    (momentum > 0)
        p = p - lr * g / avg                           (otherwise)

    State: ``step``, ``square_avg``, ``momentum_buffer`` (momentum > 0) and ``grad_avg``
    (centered). ``eps`` is added outside the square root.
    """

    _state_keys = ("step", "square_avg")

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0,
        momentum: float = 0,
        centered: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        defaults = {
            "lr": lr,
            "momentum": momentum,
            "alpha": alpha,
            "eps": eps,
            "centered": centered,
            "weight_decay": weight_decay,
            "maximize": maximize,
        }
        super().__init__(params, defaults)

    def _check_hyperparameters(self, group: dict[str, Any]) -> None:
        """Reject negative ``lr``/``eps``/``momentum``/``weight_decay``/``alpha``."""
        for key, what in (
            ("lr", "learning rate"),
            ("eps", "epsilon value"),
            ("momentum", "momentum value"),
            ("weight_decay", "weight_decay value"),
            ("alpha", "alpha value"),
        ):
            if not 0.0 <= group[key]:
                raise ValueError(f"Invalid {what}: {group[key]} (it must be >= 0)")

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Update every parameter that has a gradient; returns ``closure()`` when one is given."""
        loss = self._evaluate(closure)
        self._check_grads()  # every check before anything moves
        settings = self._hyperparameters("lr", "alpha", "eps", "momentum", "weight_decay")
        with no_grad():
            for group, (lr, alpha, eps, momentum, weight_decay) in zip(self.param_groups, settings):
                for p, grad in self._with_grad(group):
                    if group["maximize"]:
                        grad = -grad  # ascend: g = -grad
                    state = self.state[p]
                    if not state:
                        state["step"] = _new_step()
                        state["square_avg"] = _zeros_like(p)
                        if momentum > 0:
                            state["momentum_buffer"] = _zeros_like(p)
                        if group["centered"]:
                            state["grad_avg"] = _zeros_like(p)
                    _increment_step(state)
                    if weight_decay != 0:
                        grad = grad + weight_decay * p._data  # g = g + wd * p

                    v = state["square_avg"]._data
                    v *= alpha
                    v += (1 - alpha) * grad * grad  # v = alpha * v + (1 - alpha) * g^2
                    if group["centered"]:
                        g_avg = _buffer(state, "grad_avg", p)
                        _lerp_(g_avg, grad, 1 - alpha)  # gbar = alpha * gbar + (1 - alpha) * g
                        avg = np.sqrt(v - g_avg * g_avg)  # sqrt(v - gbar^2)
                    else:
                        avg = np.sqrt(v)
                    avg += eps  # avg = sqrt(...) + eps

                    if momentum > 0:
                        buf = _buffer(state, "momentum_buffer", p)
                        buf *= momentum
                        buf += grad / avg  # b = mu * b + g / avg
                        p.add_(buf, alpha=-lr)  # p = p - lr * b
                    else:
                        p.add_((-lr * grad) / avg)  # p = p - lr * g / avg
        return loss
