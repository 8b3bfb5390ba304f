"""``Module`` and ``Parameter``: layers that own their weights, as in ``torch.nn``.

Assigning a ``Parameter`` or a ``Module`` to an attribute registers it, so
``parameters()``, ``state_dict()`` and ``zero_grad()`` find every weight of a model without
bookkeeping. State-dict keys and weight layouts are PyTorch's, so weights move between the
two libraries through numpy.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, NamedTuple

import numpy as np

from autograd import Tensor, no_grad
from autograd.graph import is_recording, module_scope
from autograd.tensor import as_array, as_dtype, check_device, parse_to


def zero_grads(params: Iterable[Tensor], set_to_none: bool = True) -> None:
    """Reset gradients, the one rule ``Module.zero_grad`` and ``Optimizer.zero_grad`` share.

    ``set_to_none=True`` (the default) sets ``.grad = None``, so a parameter that gets no
    gradient in the next backward keeps None (and ``step()`` skips it); ``False`` fills each
    gradient with zeros in place, or replaces it with detached zeros when it is part of a graph
    (made with ``create_graph=True``) or read-only.
    """
    for p in params:
        grad = p.grad
        if grad is None:
            continue
        if set_to_none:
            p.grad = None
        elif grad.requires_grad or not grad._data.flags.writeable:
            p.grad = Tensor._make(np.zeros_like(grad._data))  # detached zeros
        else:
            with no_grad():
                grad.zero_()


class Parameter(Tensor):
    """A Tensor that is a learnable weight of a Module (``requires_grad=True`` by default).

    ``Parameter(t)`` shares memory with ``t`` (like PyTorch), so loading data into one
    changes the other.
    """

    __slots__ = ()

    def __init__(self, data: Any = None, requires_grad: bool = True) -> None:
        if isinstance(data, Tensor):
            array = data._data
        else:
            array = np.empty(0, np.float32) if data is None else np.asarray(data)
        if requires_grad and array.dtype.kind != "f":
            raise TypeError(f"only floating-point parameters can require gradients, got dtype {array.dtype}")
        self._data = array
        self._grad = None
        self._grad_fn = None
        self._vc = data._vc if isinstance(data, Tensor) else [0]
        self._view = None
        self._hooks = None
        self._requires_grad = bool(requires_grad)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()


def _name_the_layer(error: Exception, module: Module, args: tuple) -> None:
    """A forward that raised: name the innermost layer it ran in and its input shapes (and let
    ``viz.draw_graph(error)`` draw the graph up to it, see ``autograd.function._failed``)."""
    if getattr(error, "dagrad_module", None) is not None or not hasattr(error, "add_note"):
        return
    error.dagrad_module = module
    if getattr(error, "dagrad_op", None) is None:  # refused before any op ran: the layer is the op
        error.dagrad_op = type(module).__name__
        error.dagrad_inputs = tuple(a for a in args if isinstance(a, Tensor))
    shapes = ", ".join(str(tuple(a.shape)) for a in args if isinstance(a, Tensor)) or "no tensor"
    line = repr(module).splitlines()[0]
    error.add_note(f"in the layer {line if len(line) <= 100 else type(module).__name__ + '(...)'} (input {shapes})")


class _IncompatibleKeys(NamedTuple):
    """What ``load_state_dict(strict=False)`` could not match."""

    missing_keys: list[str]
    unexpected_keys: list[str]

    def __repr__(self) -> str:
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"  # (PyTorch's wording)
        return f"_IncompatibleKeys(missing_keys={self.missing_keys}, unexpected_keys={self.unexpected_keys})"


class _HookHandle:
    """Returned by ``register_forward_hook``; ``remove()`` unregisters the hook."""

    def __init__(self, hooks: dict, key: int) -> None:
        self._hooks, self._key = hooks, key

    def remove(self) -> None:
        """Stop calling the hook."""
        self._hooks.pop(self._key, None)


class Module:
    """Base class of every layer and model.

    Subclasses call ``super().__init__()``, assign parameters and submodules as attributes,
    and define ``forward``; calling the module runs ``forward``::

        class TwoLayer(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc1 = nn.Linear(4, 8)
                self.fc2 = nn.Linear(8, 2)

            def forward(self, x):
                return self.fc2(self.fc1(x).relu())
    """

    _hook_ids = 0
    training: bool
    #: Names of this module's own state_dict entries that ``load_state_dict`` may find missing.
    _optional_state: tuple[str, ...] = ()

    def __init__(self) -> None:
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_non_persistent", set())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "_forward_hooks", OrderedDict())
        object.__setattr__(self, "_forward_pre_hooks", OrderedDict())
        object.__setattr__(self, "training", True)

    # ---------------------------------------------------------------- registration
    def __setattr__(self, name: str, value: Any) -> None:
        if "_parameters" not in self.__dict__:
            raise AttributeError(f"call super().__init__() in {type(self).__name__}.__init__ before assigning {name!r}")
        params, modules, buffers = self._parameters, self._modules, self._buffers
        if isinstance(value, Parameter):
            self.__dict__.pop(name, None)
            modules.pop(name, None)
            buffers.pop(name, None)
            params[name] = value
        elif isinstance(value, Module):
            self.__dict__.pop(name, None)
            params.pop(name, None)
            buffers.pop(name, None)
            modules[name] = value
        elif name in params:
            if value is not None:
                raise TypeError(
                    f"cannot assign {type(value).__name__} as parameter {name!r} of {type(self).__name__} "
                    "(nn.Parameter or None expected); wrap it: nn.Parameter(tensor)"
                )
            params[name] = None
        elif name in modules:
            if value is not None:
                raise TypeError(
                    f"cannot assign {type(value).__name__} as child module {name!r} (Module or None expected)"
                )
            modules[name] = None
        elif name in buffers:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"cannot assign {type(value).__name__} as buffer {name!r} (Tensor or None expected)")
            buffers[name] = value
        else:
            object.__setattr__(self, name, value)

    def __getattr__(self, name: str) -> Any:
        # Only called when normal lookup fails: look in the registries, else a real error.
        d = self.__dict__
        for registry in ("_parameters", "_buffers", "_modules"):
            if registry in d and name in d[registry]:
                return d[registry][name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name: str) -> None:
        for registry in (self._parameters, self._buffers, self._modules):
            if name in registry:
                del registry[name]
                self._non_persistent.discard(name)
                return
        object.__delattr__(self, name)

    def _check_name(self, name: Any, registry: str, fn: str) -> None:
        """A new entry's name: a non-empty str without dots, not already another kind of attribute
        (it would shadow it, and state_dict keys would clash), as PyTorch checks."""
        if not isinstance(name, str):
            raise TypeError(f"{fn}: the name must be a str, got {type(name).__name__}")
        if not name or "." in name:
            raise KeyError(f"{fn}: the name {name!r} must be non-empty and contain no '.'")
        if hasattr(self, name) and name not in getattr(self, registry):
            raise KeyError(f"{fn}: attribute {name!r} already exists")

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Add a parameter (or a None placeholder, e.g. ``bias=False``) under ``name``."""
        self._check_name(name, "_parameters", "register_parameter")
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"register_parameter({name!r}) needs an nn.Parameter or None, got {type(param).__name__}")
        self._parameters[name] = param

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """Add state that is not a parameter (e.g. BatchNorm's ``running_mean``).

        Persistent buffers are part of ``state_dict()``.
        """
        self._check_name(name, "_buffers", "register_buffer")
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"register_buffer({name!r}) needs a Tensor or None, got {type(tensor).__name__}")
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent.discard(name)
        else:
            self._non_persistent.add(name)

    def add_module(self, name: str, module: Module | None) -> None:
        """Add a child module under ``name``."""
        self._check_name(name, "_modules", "add_module")
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"add_module({name!r}) needs a Module, got {type(module).__name__}")
        self._modules[name] = module

    register_module = add_module

    # ---------------------------------------------------------------- calling
    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        forward = getattr(type(self), "forward", None)
        if forward is None:
            raise TypeError(f"{type(self).__name__} has no forward(); define forward(self, ...) in the subclass")
        if self._forward_pre_hooks:  # (skipped when none: hooks cost nothing until registered)
            for hook in list(self._forward_pre_hooks.values()):
                new = hook(self, args)
                if new is not None:
                    args = new if isinstance(new, tuple) else (new,)
        try:
            if is_recording():  # autograd.graph.record(): tag the ops made inside this call
                with module_scope(self):
                    out = forward(self, *args, **kwargs)
            else:
                out = forward(self, *args, **kwargs)
        except Exception as error:
            _name_the_layer(error, self, args)
            raise
        if self._forward_hooks:
            for hook in list(self._forward_hooks.values()):
                new = hook(self, args, out)
                if new is not None:
                    out = new
        return out

    def register_forward_hook(self, hook: Callable[[Module, tuple, Any], Any]) -> _HookHandle:
        """Call ``hook(module, inputs, output)`` after every forward; it may return a new output."""
        Module._hook_ids += 1
        self._forward_hooks[Module._hook_ids] = hook
        return _HookHandle(self._forward_hooks, Module._hook_ids)

    def register_forward_pre_hook(self, hook: Callable[[Module, tuple], Any]) -> _HookHandle:
        """Call ``hook(module, inputs)`` before every forward; it may return new inputs."""
        Module._hook_ids += 1
        self._forward_pre_hooks[Module._hook_ids] = hook
        return _HookHandle(self._forward_pre_hooks, Module._hook_ids)

    # ---------------------------------------------------------------- traversal
    def named_modules(
        self, memo: set | None = None, prefix: str = "", remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Module]]:
        """(name, module) for this module and every descendant; names are dotted paths.

        A module reachable under several names comes once, under the first, unless
        ``remove_duplicate=False`` (then once per name, as ``state_dict`` needs).
        """
        memo = set() if memo is None else memo
        stack = [(prefix, self)]
        while stack:  # iterative pre-order, children in registration order
            name, module = stack.pop()
            if remove_duplicate:
                if id(module) in memo:
                    continue
                memo.add(id(module))
            yield name, module
            children = [(f"{name}.{n}" if name else n, m) for n, m in module._modules.items() if m is not None]
            stack.extend(reversed(children))

    def modules(self) -> Iterator[Module]:
        """This module and every descendant."""
        for _, m in self.named_modules():
            yield m

    def named_children(self) -> Iterator[tuple[str, Module]]:
        """(name, module) for the direct children (a child held under two names comes once)."""
        seen: set[int] = set()
        for name, m in self._modules.items():
            if m is not None and id(m) not in seen:
                seen.add(id(m))
                yield name, m

    def children(self) -> Iterator[Module]:
        """The direct child modules."""
        for _, m in self.named_children():
            yield m

    def _named_members(self, registry: str, prefix: str, recurse: bool) -> Iterator[tuple[str, Tensor]]:
        seen: set[int] = set()
        modules = self.named_modules(prefix=prefix) if recurse else [(prefix, self)]
        for mod_name, module in modules:
            for name, value in getattr(module, registry).items():
                if value is None or id(value) in seen:
                    continue
                seen.add(id(value))
                yield (f"{mod_name}.{name}" if mod_name else name), value

    def named_parameters(self, prefix: str = "", recurse: bool = True) -> Iterator[tuple[str, Parameter]]:
        """(dotted name, parameter) for every parameter, shared ones once."""
        return self._named_members("_parameters", prefix, recurse)

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        """Every parameter (what an optimizer updates)."""
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix: str = "", recurse: bool = True) -> Iterator[tuple[str, Tensor]]:
        """(dotted name, buffer) for every buffer."""
        return self._named_members("_buffers", prefix, recurse)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        """Every buffer (running statistics and the like)."""
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    def get_submodule(self, target: str) -> Module:
        """The submodule at dotted path ``target`` (``"encoder.layers.0"``); ``""`` is this module."""
        module = self
        for item in target.split(".") if target else ():
            if item not in module._modules:
                raise AttributeError(f"{type(module).__name__} has no attribute `{item}` (looking up {target!r})")
            module = module._modules[item]
            if not isinstance(module, Module):
                raise AttributeError(f"`{item}` is not an nn.Module")
        return module

    def apply(self, fn: Callable[[Module], None]) -> Module:
        """Call ``fn`` on every submodule and then on this module (post-order, PyTorch's order); returns self."""
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    # ---------------------------------------------------------------- training helpers
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset the gradient of every parameter (see ``zero_grads``)."""
        zero_grads(self.parameters(), set_to_none)

    def train(self, mode: bool = True) -> Module:
        """Set training mode (Dropout active, BatchNorm uses batch statistics) on this module
        and, through their own ``train``, on its children (so an override is respected)."""
        object.__setattr__(self, "training", bool(mode))
        for child in self.children():
            child.train(mode)
        return self

    def eval(self) -> Module:
        """Set evaluation mode (``train(False)``)."""
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        """Switch gradient recording for every parameter (e.g. to freeze a layer)."""
        named = list(self.named_parameters())
        for name, p in named if requires_grad else ():  # check all first: none may be left switched
            if p.dtype.kind != "f":
                raise TypeError(f"parameter {name} has dtype {p.dtype}: only floating-point tensors can require grad")
        for _, p in named:
            p.requires_grad_(requires_grad)
        return self

    def to(self, *args: Any, **kwargs: Any) -> Module:
        """Convert floating-point parameters and buffers to a dtype in place (objects are kept):
        ``to(dtype)``, ``to(device)``, ``to(device, dtype)``; the device must be ``'cpu'``."""
        dtype = parse_to(args, kwargs, ".to(...)")
        if dtype is None:
            return self
        dtype = as_dtype(dtype)
        if dtype.kind != "f":
            raise TypeError(
                f"Module.to only accepts floating-point dtypes, got {dtype} (parameters must stay differentiable)"
            )
        for t in list(self.parameters()) + list(self.buffers()):
            if t.dtype.kind == "f":
                t._data = t._data.astype(dtype)
                if t.grad is not None:
                    t.grad = Tensor(t.grad._data.astype(dtype))
        return self

    def cpu(self) -> Module:
        """This module: dagrad's parameters always live on the CPU."""
        return self

    def cuda(self, *args: Any, **kwargs: Any) -> Module:
        """Refused: dagrad has no GPU device (the error says what to write instead)."""
        check_device("cuda", ".cuda()")
        return self

    def double(self) -> Module:
        """Parameters and buffers to float64 (for gradcheck)."""
        return self.to(np.float64)

    def float(self) -> Module:
        """Parameters and buffers to float32."""
        return self.to(np.float32)

    # ---------------------------------------------------------------- state dict
    def state_dict(self, prefix: str = "", keep_vars: bool = False) -> OrderedDict[str, Tensor]:
        """Every parameter and persistent buffer by dotted name, PyTorch's keys and layouts.

        Values are detached tensors sharing memory with the model (``keep_vars=True`` gives
        the parameters themselves). A shared module or parameter appears under each of its
        names, as in PyTorch.
        """
        out: OrderedDict[str, Tensor] = OrderedDict()
        for mod_name, module in self.named_modules(prefix=prefix.rstrip("."), remove_duplicate=False):
            base = f"{mod_name}." if mod_name else ""
            for name, p in module._parameters.items():
                if p is not None:
                    out[base + name] = p if keep_vars else p.detach()
            for name, b in module._buffers.items():
                if b is not None and name not in module._non_persistent:
                    out[base + name] = b if keep_vars else b.detach()
        return out

    def load_state_dict(self, state_dict: dict[str, Any], strict: bool = True) -> _IncompatibleKeys:
        """Copy values from ``state_dict`` into this model's parameters and buffers.

        Every key and shape is checked first; with ``strict`` any missing or unexpected key,
        and always any shape mismatch, raises one error listing all problems, and nothing
        is changed. Values may be Tensors or numpy arrays (e.g. from a PyTorch model).
        """
        if not isinstance(state_dict, Mapping):
            raise TypeError(f"load_state_dict needs a dict of name -> tensor, got {type(state_dict).__name__}")
        own = self.state_dict(keep_vars=True)
        optional = {  # keys a module may do without (it keeps its current value)
            f"{name}.{key}" if name else key
            for name, module in self.named_modules(remove_duplicate=False)
            for key in module._optional_state
        }
        missing = [k for k in own if k not in state_dict and k not in optional]
        unexpected = [k for k in state_dict if k not in own]
        problems = []
        arrays = {}
        for key, target in own.items():
            if key not in state_dict:
                continue
            value = state_dict[key]
            array = as_array(value)
            if array.dtype.kind not in "biuf":
                problems.append(f"{key}: a value of dtype {array.dtype} cannot be loaded (numbers expected)")
            elif array.shape != target.shape:
                problems.append(
                    f"size mismatch for {key}: copying a value of shape {tuple(array.shape)}, "
                    f"the parameter in the current model has shape {tuple(target.shape)}"
                )
            else:  # converted now, so that nothing can fail once copying starts
                arrays[key] = array.astype(target.dtype, copy=False)
        if strict and missing:
            problems.append("Missing key(s) in state_dict: " + ", ".join(f'"{k}"' for k in missing))
        if strict and unexpected:
            problems.append("Unexpected key(s) in state_dict: " + ", ".join(f'"{k}"' for k in unexpected))
        if problems:
            raise RuntimeError(
                f"Error(s) in loading state_dict for {type(self).__name__} (nothing was changed):\n\t"
                + "\n\t".join(problems)
            )
        with no_grad():
            for key, array in arrays.items():
                own[key].copy_(array)
        return _IncompatibleKeys(missing, unexpected)

    # ---------------------------------------------------------------- repr
    def extra_repr(self) -> str:
        """The part inside the parentheses of this module's repr (override in layers)."""
        return ""

    def __repr__(self) -> str:
        lines = []
        for name, child in self._modules.items():
            body = repr(child).replace("\n", "\n  ")
            lines.append(f"({name}): {body}")
        extra = self.extra_repr()
        if not lines:
            return f"{type(self).__name__}({extra})"
        head = f"{type(self).__name__}(" + (f"\n  {extra}" if extra else "")
        return head + "\n  " + "\n  ".join(lines) + "\n)"

    def __dir__(self) -> list[str]:
        return sorted(set(super().__dir__()) | set(self._parameters) | set(self._buffers) | set(self._modules))


class Sequential(Module):
    """Modules applied one after the other: ``Sequential(conv, relu, pool)``.

    Children are named ``'0'``, ``'1'``, ... (as PyTorch, so state_dict keys match); an
    ``OrderedDict`` gives them names instead. Supports indexing, slicing, ``len`` and iteration.
    """

    def __init__(self, *modules: Module | OrderedDict) -> None:
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], OrderedDict):
            for name, m in modules[0].items():
                self.add_module(name, m)
        else:
            for i, m in enumerate(modules):
                self.add_module(str(i), m)

    def forward(self, x: Any) -> Any:
        """Run every module in order."""
        for module in self._modules.values():
            x = module(x)
        return x

    def __getitem__(self, index: int | slice) -> Module:
        items = list(self._modules.items())
        if isinstance(index, slice):
            return Sequential(OrderedDict(items[index]))
        return items[index][1]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def append(self, module: Module) -> Sequential:
        """Add a module at the end."""
        self.add_module(str(len(self)), module)
        return self


class ModuleList(Module):
    """A list of modules whose parameters are registered (use it instead of a plain list)."""

    def __init__(self, modules: Iterable[Module] | None = None) -> None:
        super().__init__()
        for m in modules or ():
            self.append(m)

    def __getitem__(self, index: int | slice) -> Module | ModuleList:
        values = list(self._modules.values())
        return ModuleList(values[index]) if isinstance(index, slice) else values[index]

    def __setitem__(self, index: int, module: Module) -> None:
        key = list(self._modules)[index]
        self.add_module(key, module)

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def append(self, module: Module) -> ModuleList:
        """Add a module at the end."""
        self.add_module(str(len(self)), module)
        return self

    def extend(self, modules: Iterable[Module]) -> ModuleList:
        """Add several modules at the end."""
        for m in modules:
            self.append(m)
        return self

    def __repr__(self) -> str:
        # as PyTorch: a run of identical entries is one line, "(2-4): 3 x Linear(...)"
        if not self._modules:
            return "ModuleList()"
        runs: list[list] = []  # [first index, last index, repr]
        for i, child in enumerate(self._modules.values()):
            text = repr(child)
            if runs and runs[-1][2] == text:
                runs[-1][1] = i
            else:
                runs.append([i, i, text])
        lines = [
            (f"({a}): " if a == b else f"({a}-{b}): {b - a + 1} x ") + text.replace("\n", "\n  ") for a, b, text in runs
        ]
        return "ModuleList(\n  " + "\n  ".join(lines) + "\n)"


class Identity(Module):
    """Returns its input unchanged (a placeholder layer)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__()

    def forward(self, x: Any) -> Any:
        """Return ``x``."""
        return x


class ModuleDict(Module):
    """A dict of modules whose parameters are registered (keys in insertion order)."""

    def __init__(self, modules: Mapping[str, Module] | Iterable[tuple[str, Module]] | None = None) -> None:
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key: str) -> Module:
        return self._modules[key]

    def __setitem__(self, key: str, module: Module) -> None:
        self.add_module(key, module)

    def __delitem__(self, key: str) -> None:
        del self._modules[key]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[str]:
        return iter(self._modules)

    def __contains__(self, key: str) -> bool:
        return key in self._modules

    def keys(self) -> Iterable[str]:
        """The names."""
        return self._modules.keys()

    def values(self) -> Iterable[Module]:
        """The modules."""
        return self._modules.values()

    def items(self) -> Iterable[tuple[str, Module]]:
        """(name, module) pairs."""
        return self._modules.items()

    def pop(self, key: str) -> Module:
        """Remove ``key`` and return its module."""
        module = self[key]
        del self[key]
        return module

    def clear(self) -> None:
        """Remove every module."""
        self._modules.clear()

    def update(self, modules: Mapping[str, Module] | Iterable[tuple[str, Module]]) -> None:
        """Add (or replace) modules from a mapping or from (name, module) pairs."""
        pairs = modules.items() if isinstance(modules, Mapping) else modules
        for pair in pairs:
            if not isinstance(pair, (tuple, list)) or len(pair) != 2:
                raise ValueError(f"ModuleDict.update needs (name, module) pairs, got {pair!r}")
            self[pair[0]] = pair[1]


class ParameterList(Module):
    """A list of parameters registered under ``'0'``, ``'1'``, ... (use it instead of a plain
    list, whose parameters the optimizer and ``state_dict`` would not see)."""

    def __init__(self, values: Iterable[Any] | None = None) -> None:
        super().__init__()
        for value in values or ():
            self.append(value)

    def __getitem__(self, index: int) -> Parameter:
        if isinstance(index, slice):
            return ParameterList(list(self._parameters.values())[index])
        return list(self._parameters.values())[index]

    def __setitem__(self, index: int, value: Any) -> None:
        key = list(self._parameters)[index]
        self._parameters[key] = value if isinstance(value, Parameter) else Parameter(value)

    def __len__(self) -> int:
        return len(self._parameters)

    def __iter__(self) -> Iterator[Parameter]:
        return iter(self._parameters.values())

    def append(self, value: Any) -> ParameterList:
        """Add a parameter at the end (a Tensor or array is wrapped in a Parameter)."""
        self.register_parameter(str(len(self)), value if isinstance(value, Parameter) else Parameter(value))
        return self

    def extend(self, values: Iterable[Any]) -> ParameterList:
        """Add several parameters at the end."""
        for value in values:
            self.append(value)
        return self

    def __repr__(self) -> str:
        # one line per parameter, its dtype and size, laid out as PyTorch's (autograd.float32 for torch.float32)
        lines = [
            f"    ({i}): Parameter containing: [autograd.{p.dtype} of size {'x'.join(map(str, p.shape))}]\n"
            for i, p in enumerate(self)
        ]
        return "ParameterList(\n" + "".join(lines) + ")"
