"""Stochastic gradient descent, with optional (Nesterov) momentum and L2 weight decay."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from autograd.grad_mode import no_grad
from autograd.tensor import Tensor
from nn.optim.optimizer import Optimizer, ParamsT


class SGD(Optimizer):
    """Stochastic gradient descent, PyTorch's ``torch.optim.SGD`` step for step.

    Per parameter, with gradient ``g`` (negated when ``maximize``)::

        g = g + weight_decay * p
        b = g                                   (first step)
        b = momentum * b + (1 - dampening) * g  (later steps)
        g = g + momentum * b  if nesterov  else  b
        p = p - lr * g

    The momentum buffer (``state[p]['momentum_buffer']``) exists only when ``momentum != 0``;
    on the first step it is a copy of the gradient, without dampening.
    """

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-3,
        momentum: float = 0,
        dampening: float = 0,
        weight_decay: float = 0,
        nesterov: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        defaults = {
            "lr": lr,
            "momentum": momentum,
            "dampening": dampening,
            "weight_decay": weight_decay,
            "nesterov": nesterov,
            "maximize": maximize,
        }
        super().__init__(params, defaults)

    def _check_hyperparameters(self, group: dict[str, Any]) -> None:
        """Reject negative ``lr``/``momentum``/``weight_decay`` and Nesterov without plain momentum."""
        if group["lr"] < 0.0:
            raise ValueError(f"Invalid learning rate: {group['lr']} (it must be >= 0)")
        if group["momentum"] < 0.0:
            raise ValueError(f"Invalid momentum value: {group['momentum']} (it must be >= 0)")
        if group["weight_decay"] < 0.0:
            raise ValueError(f"Invalid weight_decay value: {group['weight_decay']} (it must be >= 0)")
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError(
                "Nesterov momentum requires a momentum and zero dampening, "
                f"got momentum={group['momentum']} and dampening={group['dampening']}"
            )

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Update every parameter that has a gradient; returns ``closure()`` when one is given."""
        loss = self._evaluate(closure)
        self._check_grads()  # every check before anything moves
        settings = self._hyperparameters("lr", "momentum", "dampening", "weight_decay")
        with no_grad():
            for group, (lr, momentum, dampening, weight_decay) in zip(self.param_groups, settings):
                for p, grad in self._with_grad(group):
                    if group["maximize"]:
                        grad = -grad  # ascend: g = -grad
                    if weight_decay != 0:
                        grad = grad + weight_decay * p._data  # g = g + wd * p
                    if momentum != 0:
                        state = self.state[p]
                        buf = state.get("momentum_buffer")
                        if buf is None:
                            buf = state["momentum_buffer"] = Tensor(grad)  # b = g (a copy; no dampening)
                        else:
                            b = buf._data
                            b *= momentum
                            b += (1 - dampening) * grad  # b = mu * b + (1 - dampening) * g
                        grad = grad + momentum * buf._data if group["nesterov"] else buf._data  # g + mu*b, or b
                    p.add_(grad, alpha=-lr)  # p = p - lr * g
        return loss
