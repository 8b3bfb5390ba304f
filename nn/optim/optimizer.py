"""``Optimizer``: parameter groups, per-parameter state, ``zero_grad`` and checkpoints.

An optimizer holds ``param_groups``, a list of dicts, each with a ``'params'`` list and its
own hyperparameters (``lr``, ...; missing ones are filled from the constructor's defaults),
and ``state``, a dict from a parameter tensor to that parameter's buffers (momentum, moment
estimates, step count). Subclasses implement ``step()``; the layout of ``state_dict()`` is
PyTorch's, so a checkpoint records the same names and indices.
"""

from __future__ import annotations

import copy
import warnings
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from itertools import chain
from typing import Any

import numpy as np

from autograd.grad_mode import enable_grad
from autograd.tensor import Tensor
from nn.module import zero_grads

ParamsT = Iterable[Tensor] | Iterable[dict[str, Any]] | Iterable[tuple[str, Tensor]]
StateDict = dict[str, Any]


class _RequiredParameter:
    """Marker for a hyperparameter without a default: every param group must give it."""

    def __repr__(self) -> str:
        return "<required parameter>"


required = _RequiredParameter()


class Optimizer:
    """Base class of all optimizers.

    ``params`` is an iterable of tensors, of ``(name, tensor)`` pairs, or of dicts (param
    groups), each dict holding ``'params'`` and any hyperparameters that override
    ``defaults`` for that group::

        SGD([{"params": [w]}, {"params": [b], "lr": 0.01}], lr=0.1, momentum=0.9)

    Subclasses override ``step()`` and may override ``_check_hyperparameters`` to reject
    bad values (it sees the defaults and then every group).
    """

    #: The state entries a stepped parameter always has (``load_state_dict`` checks them).
    _state_keys: tuple[str, ...] = ()

    def __init__(self, params: ParamsT, defaults: dict[str, Any]) -> None:
        if isinstance(params, Tensor):
            raise TypeError(
                "params argument given to the optimizer should be an iterable of Tensors or dicts, "
                f"but got a single Tensor of shape {params.shape}; pass a list, e.g. [tensor]"
            )
        if isinstance(params, (set, frozenset)):
            raise TypeError(_SET_MESSAGE)
        self.defaults: dict[str, Any] = dict(defaults)
        given = {k: v for k, v in self.defaults.items() if v is not required}
        self._checked_hyperparameters(given, f"{type(self).__name__}()")
        self.state: defaultdict[Tensor, dict[str, Any]] = defaultdict(dict)
        self.param_groups: list[dict[str, Any]] = []

        groups = [params] if isinstance(params, dict) else list(params)
        if len(groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    # ------------------------------------------------------------------ groups
    def _check_hyperparameters(self, group: dict[str, Any]) -> None:
        """Raise ``ValueError`` for an invalid hyperparameter value (subclasses override)."""

    def _checked_hyperparameters(self, group: dict[str, Any], where: str) -> None:
        """``_check_hyperparameters`` with the group named in the error (a wrong type too)."""
        try:
            self._check_hyperparameters(group)
        except ValueError as err:
            raise ValueError(f"{where}: {err}") from None
        except TypeError as err:  # e.g. lr="0.1": comparing it with a number fails
            raise ValueError(f"{where}: a hyperparameter has the wrong type ({err}); they are numbers") from None

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group of parameters, with optional hyperparameter overrides, to ``param_groups``.

        Useful for fine-tuning: unfreeze layers and hand their parameters to the optimizer.
        The given dict is not modified; missing hyperparameters come from ``defaults``.
        """
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group).__name__}")
        if "params" not in param_group:
            raise ValueError(f"a parameter group needs a 'params' entry, got keys {sorted(param_group)}")
        group = dict(param_group)
        where = f"parameter group {len(self.param_groups)}"

        params = group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, (set, frozenset)):
            raise TypeError(_SET_MESSAGE)
        params = list(params)
        names = [p[0] for p in params if isinstance(p, tuple)]
        tensors = [p[1] if isinstance(p, tuple) else p for p in params]
        if names:
            if len(names) != len(tensors):
                raise ValueError("all optimizer params should be with/without names. Some param names are missing")
            group["param_names"] = names
        group["params"] = tensors

        for i, p in enumerate(tensors):
            if not isinstance(p, Tensor):
                raise TypeError(
                    f"optimizer can only optimize Tensors, but parameter {i} of {where} is a {type(p).__name__}"
                )
            if not (p.is_leaf or p.retains_grad):
                raise ValueError(
                    f"can't optimize a non-leaf Tensor: parameter {i} of {where} was produced by "
                    f"{p.grad_fn!r}; optimize the leaf it was computed from, or detach() it"
                )
            if p.dtype.kind != "f":
                raise TypeError(
                    f"optimizer can only optimize floating-point Tensors, but parameter {i} of {where} "
                    f"has dtype {p.dtype}"
                )

        for name, default in self.defaults.items():
            if default is required and name not in group:
                raise ValueError(f"{where} didn't specify a value of required optimization parameter {name}")
            group.setdefault(name, default)
        self._checked_hyperparameters(group, where)

        ids = [id(p) for p in tensors]
        if len(ids) != len(set(ids)):
            warnings.warn(
                f"optimizer contains a parameter group ({where}) with duplicate parameters; "
                "each copy is updated, so the parameter moves more than once per step",
                UserWarning,
                stacklevel=3,
            )
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if seen & set(ids):
            raise ValueError("some parameters appear in more than one parameter group")
        for other in self.param_groups:
            if ("param_names" in group) != ("param_names" in other):
                mine = "with names" if "param_names" in group else "without names"
                raise ValueError(f"all optimizer param groups should be with/without names; {where} is {mine}")

        self.param_groups.append(group)

    # ------------------------------------------------------------------ stepping
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset the gradients of all parameters (see ``nn.module.zero_grads``: None by default,
        else zeros in place)."""
        zero_grads((p for group in self.param_groups for p in group["params"]), set_to_none)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Update the parameters once from their ``.grad`` (implemented by each subclass).

        ``closure``, when given, recomputes the loss (with gradients enabled) and is returned.
        """
        raise TypeError(
            f"{type(self).__name__} does not implement step(); an Optimizer subclass must override "
            "step(self, closure=None) with its update rule"
        )

    @staticmethod
    def _evaluate(closure: Callable[[], Any] | None) -> Any:
        """Run the closure with gradients enabled (``step`` itself runs under ``no_grad``)."""
        if closure is None:
            return None
        with enable_grad():
            return closure()

    def _check_grads(self) -> None:
        """Before any parameter moves: every ``.grad`` is None or a Tensor of its parameter's
        shape and dtype (a wrong one would be broadcast, or fail half-way through the step,
        after earlier parameters moved and state was created)."""
        for g, group in enumerate(self.param_groups):
            for i, p in enumerate(group["params"]):
                grad = p.grad
                if grad is None:
                    continue
                if not isinstance(grad, Tensor):
                    raise TypeError(
                        f"parameter {i} of group {g} has a .grad of type {type(grad).__name__}; it must be a "
                        "Tensor or None"
                    )
                if grad.shape != p.shape:
                    raise RuntimeError(
                        f"parameter {i} of group {g} has shape {tuple(p.shape)} but its .grad has shape "
                        f"{tuple(grad.shape)}; nothing was updated"
                    )
                if grad.dtype != p.dtype:
                    raise RuntimeError(
                        f"parameter {i} of group {g} has dtype {p.dtype} but its .grad has dtype {grad.dtype}; "
                        "the gradient must match the parameter's dtype; nothing was updated"
                    )

    def _hyperparameters(self, *names: str) -> list[tuple[float, ...]]:
        """The named hyperparameters of every group as floats, read before any parameter moves
        (a group whose ``lr`` was set to something that is not a number fails here, not half-way)."""
        values = []
        for g, group in enumerate(self.param_groups):
            try:
                values.append(tuple(float(group[name]) for name in names))
            except (TypeError, ValueError, KeyError) as err:
                found = {name: group.get(name, "<missing>") for name in names}
                raise TypeError(
                    f"parameter group {g}: hyperparameters {found} must all be numbers ({err}); nothing was updated"
                ) from None
        return values

    @staticmethod
    def _with_grad(group: dict[str, Any]) -> Iterator[tuple[Tensor, np.ndarray]]:
        """The parameters of a group that have a gradient, each with that gradient's array."""
        for p in group["params"]:
            if p.grad is not None:
                yield p, p.grad._data

    # ------------------------------------------------------------------ checkpoints
    def state_dict(self) -> StateDict:
        """The optimizer's state as a dict, in PyTorch's layout.

        ``{'state': {index: {name: value}}, 'param_groups': [{...hyperparameters, 'params':
        [indices]}]}``: parameters are replaced by their position across all groups; tensors
        are copies, so the result does not change as training goes on.
        """
        index: dict[int, int] = {}
        start = 0
        groups = []
        for group in self.param_groups:
            packed = {k: copy.deepcopy(v) for k, v in group.items() if k != "params"}
            for i, p in enumerate(group["params"], start):
                index.setdefault(id(p), i)
            packed["params"] = [index[id(p)] for p in group["params"]]
            start += len(packed["params"])
            groups.append(packed)
        state = {
            index[id(p)]: {k: _copy_value(v) for k, v in s.items()} for p, s in self.state.items() if id(p) in index
        }
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: StateDict) -> None:
        """Restore a checkpoint made by ``state_dict()`` (tensors are copied, cast to each parameter's dtype).

        The number of groups and of parameters in each, and the shapes of the state tensors,
        must match this optimizer's; otherwise ``ValueError`` is raised and nothing changes.
        Hyperparameters (``lr``, ...) come from the checkpoint.
        """
        groups, saved_groups = self.param_groups, _checked_layout(state_dict)
        if len(groups) != len(saved_groups):
            raise ValueError(
                f"loaded state dict has a different number of parameter groups: {len(saved_groups)}, "
                f"but the optimizer has {len(groups)}"
            )
        for i, (group, saved) in enumerate(zip(groups, saved_groups)):
            if len(group["params"]) != len(saved["params"]):
                raise ValueError(
                    f"loaded state dict contains a parameter group that doesn't match the size of optimizer's "
                    f"group: group {i} has {len(saved['params'])} parameters in the state dict and "
                    f"{len(group['params'])} in the optimizer"
                )
        saved_ids = chain.from_iterable(g["params"] for g in saved_groups)
        id_map = dict(zip(saved_ids, chain.from_iterable(g["params"] for g in groups)))

        # Build everything first and assign at the end, so a bad entry changes nothing.
        state: defaultdict[Tensor, dict[str, Any]] = defaultdict(dict)
        for key, values in state_dict["state"].items():
            if key not in id_map:
                raise ValueError(
                    f"loaded state dict has state for parameter {key!r}, which none of its parameter groups lists"
                )
            if not isinstance(values, dict):
                raise ValueError(f"the state of parameter {key!r} must be a dict, got {type(values).__name__}")
            param = id_map[key]
            state[param] = {name: _load_value(name, value, param, key) for name, value in values.items()}
            missing = [name for name in self._state_keys if values and state[param].get(name) is None]
            if missing:  # (step() would fail on it, maybe after other parameters moved)
                raise ValueError(
                    f"loaded state for parameter {key!r} lacks {missing} (it has {sorted(values)}); "
                    f"{type(self).__name__} keeps {list(self._state_keys)} for every parameter it has stepped: "
                    "is the state dict from another optimizer?"
                )

        new_groups = []
        for i, (group, saved) in enumerate(zip(groups, saved_groups)):
            new = {k: copy.deepcopy(v) for k, v in saved.items() if k != "params"}
            for name, default in self.defaults.items():
                new.setdefault(name, default)
            self._checked_hyperparameters(new, f"loaded parameter group {i}")
            new["params"] = group["params"]
            if "param_names" in group and "param_names" not in saved:
                new["param_names"] = group["param_names"]
            new_groups.append(new)

        self.state = state
        self.param_groups = new_groups

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {k}: {group[k]}" for k in sorted(group) if k != "params"]
        return "\n".join(lines) + "\n)"


_SET_MESSAGE = (
    "optimizer parameters need to be organized in ordered collections, but the ordering of tensors in sets "
    "will change between runs. Please use a list instead."
)


def _checked_layout(state_dict: Any) -> list[dict[str, Any]]:
    """The param groups of a state dict, once its layout is checked: ``{'state': {index: {name:
    value}}, 'param_groups': [{'params': [index, ...], ...}, ...]}``."""
    if not isinstance(state_dict, dict) or "state" not in state_dict or "param_groups" not in state_dict:
        got = sorted(state_dict, key=str) if isinstance(state_dict, dict) else type(state_dict).__name__
        raise ValueError(f"an optimizer state dict needs 'state' and 'param_groups' entries, got {got}")
    if not isinstance(state_dict["state"], dict):
        raise ValueError(
            f"the 'state' of an optimizer state dict must be a dict {{parameter index: {{name: value}}}}, got "
            f"{type(state_dict['state']).__name__}"
        )
    groups = state_dict["param_groups"]
    if not isinstance(groups, (list, tuple)):
        raise ValueError(
            f"the 'param_groups' of an optimizer state dict must be a list of dicts, got {type(groups).__name__}"
        )
    for i, group in enumerate(groups):
        if not isinstance(group, dict) or "params" not in group:
            got = f"keys {sorted(group, key=str)}" if isinstance(group, dict) else f"a {type(group).__name__}"
            raise ValueError(
                f"parameter group {i} of the loaded state dict needs a 'params' entry (the indices of its "
                f"parameters, as state_dict() writes them), got {got}"
            )
        params = group["params"]
        if not isinstance(params, (list, tuple)):
            raise ValueError(
                f"parameter group {i} of the loaded state dict: 'params' must be a list of parameter indices, got "
                f"{type(params).__name__}"
            )
        for index in params:
            if not isinstance(index, (int, np.integer)) or isinstance(index, bool):
                raise ValueError(
                    f"parameter group {i} of the loaded state dict: 'params' must hold parameter indices (ints), "
                    f"got {index!r}"
                )
    return list(groups)


def _copy_value(value: Any) -> Any:
    """A copy of one state entry: tensors get their own memory, numbers stay numbers."""
    if isinstance(value, Tensor):
        return Tensor(value._data.copy())
    return copy.deepcopy(value)


def _load_value(name: str, value: Any, param: Tensor, key: Any) -> Any:
    """One loaded state entry: tensors are copied (to the parameter's dtype, except ``step``)."""
    if isinstance(value, np.ndarray):
        value = Tensor(value)
    if name == "step":
        # the step count stays a float32 scalar tensor whatever the parameter dtype, as in PyTorch
        if isinstance(value, Tensor) and value.numel() != 1 or not isinstance(value, (Tensor, int, float, np.number)):
            raise ValueError(f"loaded state for parameter {key!r}: 'step' must be one number, got {value!r}")
        return Tensor(np.array(float(value.item() if isinstance(value, Tensor) else value), np.float32))
    if value is None:  # (PyTorch keeps momentum_buffer None when there is no momentum)
        return None
    if not isinstance(value, Tensor) or value.dtype.kind not in "fiu":
        raise ValueError(
            f"loaded state for parameter {key!r}: {name!r} must be a tensor of the parameter's shape "
            f"{tuple(param.shape)}, got {type(value).__name__}"
        )
    if value.shape != param.shape:
        raise ValueError(
            f"loaded state for parameter {key!r}: {name!r} has shape {value.shape}, "
            f"but the parameter has shape {param.shape}"
        )
    return Tensor(value._data.astype(param.dtype, copy=True))


def _lerp_(start: np.ndarray, end: np.ndarray, weight: float) -> None:
    """``start += weight * (end - start)`` in place, with PyTorch's two-sided formula.

    The weight is rounded to the array's dtype first, and for ``weight >= 0.5`` the result is
    computed from ``end``, as ``torch.lerp`` does, so the roundings agree with PyTorch.
    """
    w = start.dtype.type(weight)
    if abs(w) < 0.5:
        start += w * (end - start)
    else:
        start[...] = end - (end - start) * (1 - w)


def _zeros_like(p: Tensor) -> Tensor:
    """A state buffer: zeros with the parameter's shape and dtype."""
    return Tensor(np.zeros_like(p._data))


def _buffer(state: dict[str, Any], name: str, p: Tensor) -> np.ndarray:
    """The array of ``state[name]``, created as zeros like ``p`` where it is missing or None
    (a flag switched on after the first step, or a loaded state that holds None)."""
    buf = state.get(name)
    if buf is None:
        buf = state[name] = _zeros_like(p)
    return buf._data


def _new_step() -> Tensor:
    """A fresh step counter: a float32 scalar tensor holding 0, as PyTorch keeps it."""
    return Tensor(np.zeros((), np.float32))


def _increment_step(state: dict[str, Any]) -> float:
    """Add one to ``state['step']`` (a float32 scalar tensor, as in PyTorch) and return it."""
    step = state["step"]
    step._data += 1  # in place, like PyTorch's step_t += 1
    return float(step._data)
