"""``Tensor``: a numpy array that records the operations applied to it.

A tensor made by an op on inputs that require grad gets ``grad_fn``, the op's ``Function``
instance, which links to its inputs' nodes; that chain is the dynamic computation graph.
Leaves (tensors you create) have ``grad_fn=None`` and receive ``.grad`` after ``backward()``.

Methods below hand over to the functions in ``autograd/ops``, where the maths and the
vector-Jacobian products live, next to each other. The arithmetic operators also have a
shortcut: with nothing to record they are just their numpy expression.
"""

from __future__ import annotations

import threading
import warnings
import weakref
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

from autograd import workspace
from autograd.device import DEVICE_TYPES, device  # (Device names PyTorch knows; dagrad's is "cpu")
from autograd.grad_mode import _state

float16, float32, float64 = np.float16, np.float32, np.float64
int8, int16, int32, int64, uint8 = np.int8, np.int16, np.int32, np.int64, np.uint8
bool_ = np.bool_
_DTYPE_NAMES = {"float": float32, "double": float64, "long": int64, "int": int32, "bool": bool_, "half": float16}


_default_float = [np.dtype(np.float32)]  # the default dtype of factories and Python floats (a list: settable)


def get_default_dtype() -> np.dtype:
    """The dtype of floating-point factories (``zeros``, ``rand``...) and of Python floats: float32
    unless ``set_default_dtype`` changed it, as PyTorch."""
    return _default_float[0]


def set_default_dtype(d: Any) -> None:
    """Make ``d`` (a floating-point dtype: ``autograd.float64``...) the default float dtype."""
    dtype = as_dtype(d)
    if dtype.kind != "f":
        raise TypeError("only floating-point types are supported as the default type")
    _default_float[0] = dtype


def as_dtype(dtype: Any) -> np.dtype:
    """Accept ``autograd.float32``, ``np.float32``, ``'float32'`` or ``float`` as a dtype.

    Python's ``float`` means float64 and ``int`` int64, as in PyTorch (``dtype=float``)."""
    if dtype is bool:
        return np.dtype(np.bool_)
    if dtype is float:
        return np.dtype(np.float64)
    if dtype is int:
        return np.dtype(np.int64)
    if isinstance(dtype, str) and dtype in _DTYPE_NAMES:
        return np.dtype(_DTYPE_NAMES[dtype])
    result = np.dtype(dtype)
    if result.kind not in "biuf":
        raise TypeError(f"unsupported dtype {result}: tensors hold bools, integers or floats")
    return result


_CPU = device("cpu")


def is_device(value: Any) -> bool:
    """Whether ``value`` names a device (``'cpu'``, ``'cuda:0'``, ...) rather than a dtype."""
    return isinstance(value, device) or (isinstance(value, str) and value.split(":")[0] in DEVICE_TYPES)


def check_device(device: Any, call: str = ".to(device)") -> None:
    """Accept the CPU; any other device is an error that says what to do instead."""
    name = str(device)
    if name == "cpu" or name == "cpu:0":
        return
    if not is_device(name):
        raise RuntimeError(f"Expected one of {', '.join(DEVICE_TYPES)} device type at start of device string: {name}")
    raise RuntimeError(
        f"dagrad computes with numpy on the CPU only: there is no {name!r} device. Remove {call} or use 'cpu'"
    )


def parse_to(args: tuple, kwargs: dict, call: str) -> Any:
    """The dtype of a PyTorch-style ``.to(...)`` call (None: keep it); a device must be the CPU.

    Accepts ``to(dtype)``, ``to(device)``, ``to(device, dtype)``, ``to(tensor)`` and the
    keywords ``device``, ``dtype``, ``non_blocking``, ``copy``.
    """
    unknown = set(kwargs) - {"device", "dtype", "non_blocking", "copy", "memory_format"}
    if unknown:
        raise TypeError(f"{call} got an unexpected keyword argument {sorted(unknown)[0]!r}")
    dtype = kwargs.get("dtype")
    device = kwargs.get("device")
    for arg in args:
        if isinstance(arg, Tensor):
            dtype = arg.dtype
        elif is_device(arg):
            device = arg
        elif isinstance(arg, str) and arg not in _DTYPE_NAMES:
            try:
                dtype = np.dtype(arg)
            except TypeError:
                raise RuntimeError(
                    f"Expected one of {', '.join(DEVICE_TYPES)} device type at start of device string: {arg} "
                    "(nor is it a dtype such as 'float64')"
                ) from None
        elif arg is not None:
            dtype = arg
    if device is not None:
        check_device(device, call)
    return dtype


def _to_array(data: Any, dtype: Any = None) -> np.ndarray:
    """Convert user data to an array with PyTorch's dtype defaults (floats -> float32)."""
    if isinstance(data, Tensor):
        data = data._data
    if isinstance(data, (list, tuple)) and any(isinstance(d, Tensor) for d in _flat(data)):
        data = _nested(data)
    if dtype is not None:
        return np.array(data, dtype=as_dtype(dtype))
    if isinstance(data, (np.ndarray, np.generic)):  # numpy data keeps its dtype
        arr = np.array(data)
    else:
        arr = np.array(data)
        if arr.dtype == np.float64:  # Python floats: the default dtype (float32), as PyTorch
            arr = arr.astype(_default_float[0])
        elif arr.dtype.kind == "i":
            arr = arr.astype(np.int64)
    if arr.dtype.kind not in "biufc":
        raise TypeError(f"cannot make a tensor from data of dtype {arr.dtype} ({type(data).__name__})")
    return arr


def _flat(data: Any) -> Iterator[Any]:
    for d in data:
        if isinstance(d, (list, tuple)):
            yield from _flat(d)
        else:
            yield d


def _nested(data: Any) -> Any:
    if isinstance(data, (list, tuple)):
        return [_nested(d) for d in data]
    return values_of(data)


def lift(x: Any, y: Any) -> tuple[Tensor, Tensor]:
    """Make both operands Tensors; a Python number takes the other operand's dtype.

    Integer tensors combined with a Python float become float32, and with a float tensor
    take its dtype, as in PyTorch.
    """
    if isinstance(x, Tensor) and isinstance(y, Tensor):
        return (x, y) if x.dtype == y.dtype else _promote_pair(x, y)
    if isinstance(x, Tensor):
        return _promote_for(y, x), _constant(y, x.dtype)
    if isinstance(y, Tensor):
        return _constant(x, y.dtype), _promote_for(x, y)
    if any(isinstance(v, (float, np.floating)) for v in (x, y)):  # int and float numbers: the default
        floats = _default_float[0]
        return _constant(x, floats), _constant(y, floats)
    return _constant(x, None), _constant(y, None)


_CATEGORY = {"b": 0, "i": 1, "u": 1, "f": 2, "c": 3}  # bool < integer < floating < complex


def _promote_pair(x: Tensor, y: Tensor) -> tuple[Tensor, Tensor]:
    """Two tensors of different dtypes, PyTorch's rule: an integer/bool tensor meeting a float
    tensor takes the float dtype; within one category a 0-d tensor takes the dtype of a tensor
    with dimensions (``float32_matrix * tensor(2.0, dtype=float64)`` stays float32); otherwise
    the wider dtype wins (numpy's promotion)."""
    cx, cy = _CATEGORY[x.dtype.kind], _CATEGORY[y.dtype.kind]
    if cx == cy and (x.ndim == 0) != (y.ndim == 0):
        return (x.to(y.dtype), y) if x.ndim == 0 else (x, y.to(x.dtype))
    if cx < cy and cy >= 2:
        return x.to(y.dtype), y
    if cy < cx and cx >= 2:
        return x, y.to(x.dtype)
    return x, y


def _promote_for(number: Any, t: Tensor) -> Tensor:
    """An integer or bool tensor meeting a Python float becomes float32 (PyTorch's promotion)."""
    if isinstance(number, (float, np.floating)) and t.dtype.kind in "iub":
        return t.to(_default_float[0])
    return t


def _constant(value: Any, like: np.dtype | None) -> Tensor:
    if isinstance(value, np.ndarray):
        return Tensor._make(value)
    if isinstance(value, (bool, int, float, np.number, np.bool_)):
        if like is None:
            return Tensor._make(_to_array(value))
        if isinstance(value, (float, np.floating)) and like.kind not in "fc":
            return Tensor._make(np.array(value, dtype=_default_float[0]))
        if isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)) and like.kind == "b":
            return Tensor._make(np.array(value, dtype=np.int64))
        return Tensor._make(np.array(value, dtype=like))
    if isinstance(value, (list, tuple)):
        return Tensor._make(_to_array(value, like if like is not None and like.kind in "fc" else None))
    raise TypeError(f"unsupported operand of type {type(value).__name__} for a Tensor operation")


class _HookHandle:
    """Returned by ``register_hook``; ``remove()`` unregisters the hook."""

    def __init__(self, hooks: list, hook: Callable) -> None:
        self._hooks, self._hook = hooks, hook

    def remove(self) -> None:
        """Stop calling the hook."""
        if self._hook in self._hooks:
            self._hooks.remove(self._hook)


class Tensor:
    """An n-dimensional array (numpy-backed) that can record operations for autograd.

    Make one with ``autograd.tensor(data, requires_grad=True)`` or a factory (``zeros``,
    ``randn``, ...). ``.grad`` is the gradient after ``backward()``; ``.numpy()`` (or
    ``np.asarray(t)``) the values as a numpy array. ``.data`` is, as in PyTorch, the same values
    as a Tensor outside the graph. Inside dagrad the numpy array is ``_data``.
    """

    __slots__ = ("_data", "_grad", "_requires_grad", "_grad_fn", "_vc", "_view", "_hooks", "__weakref__")
    __array_ufunc__ = None  # numpy defers to our reflected operators: ndarray * Tensor -> Tensor

    # A leaf tensor is itself an engine node (autograd/engine.py); it has no parents and keeps
    # its gradient, so the engine always hands it over (_receive).
    _parents: tuple = ()
    _receives = True
    _seq = 0  # a leaf: the engine runs it after every op node

    def __init__(self, data: Any, requires_grad: bool = False, dtype: Any = None) -> None:
        self._data = _to_array(data, dtype)
        self._grad: Tensor | None = None
        self._grad_fn = None
        self._vc = [0]
        self._view = None
        self._hooks: list | None = None
        self._requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    @classmethod
    def _make(cls, data: np.ndarray, grad_fn: Any = None, vc: list | None = None) -> Tensor:
        """Wrap an array without copying (internal fast path used by every op). ``vc`` is the
        version counter of the tensor whose memory ``data`` shares (a view), else a new one."""
        t = object.__new__(cls)
        t._data = data
        t._grad = None
        t._grad_fn = grad_fn
        t._requires_grad = grad_fn is not None
        t._vc = [0] if vc is None else vc
        t._view = None
        t._hooks = None
        return t

    # ---------------------------------------------------------------- attributes
    @property
    def data(self) -> Tensor:
        """The same values as a new Tensor that shares this one's memory, outside the graph.

        It has ``requires_grad=False`` and no ``grad_fn``, and in-place changes made through it
        are neither recorded nor versioned: PyTorch's escape hatch for updates such as
        ``W.data += -lr * W.grad``. ``t.data = other`` makes ``t`` hold ``other``'s values.
        """
        return Tensor._make(self._data)

    @data.setter
    def data(self, value: Tensor) -> None:
        if not isinstance(value, Tensor):
            raise TypeError(f"Variable data has to be a tensor, but got {type(value).__name__}")
        self._data = value._data

    @property
    def grad(self) -> Tensor | None:
        """dL/d(this tensor) after ``backward()`` (leaves, and tensors that ``retain_grad()``)."""
        return self._grad

    @grad.setter
    def grad(self, value: Tensor | None) -> None:
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(
                    f"assigned grad expected to be a Tensor or None but got grad of type {type(value).__name__}"
                )
            if value.shape != self.shape:
                raise RuntimeError(
                    f"attempting to assign a gradient of size '{list(value.shape)}' to a tensor of size "
                    f"'{list(self.shape)}'. Please ensure that the gradient and the tensor are the same size"
                )
            if value.dtype != self.dtype:
                raise RuntimeError(
                    f"attempting to assign a gradient with dtype '{value.dtype}' to a tensor with dtype "
                    f"'{self.dtype}'. The gradient must match the tensor's dtype"
                )
        self._grad = value

    @property
    def requires_grad(self) -> bool:
        """Whether operations on this tensor are recorded (so gradients can flow to it)."""
        view = self._view
        if view is not None and view[2] != self._vc[0]:  # (a view whose base changed: see grad_fn)
            self._refresh_view()
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        if self.grad_fn is not None and not value:
            raise RuntimeError(
                "you can only change requires_grad flags of leaf variables. If you want to use a computed "
                "variable in a subgraph that doesn't require differentiation use var_no_grad = var.detach()."
            )
        self.requires_grad_(value)

    @property
    def grad_fn(self) -> Any:
        """The op that made this tensor (its graph node), None for a leaf."""
        view = self._view
        if view is not None and view[2] != self._vc[0]:  # the memory changed in place since we looked
            self._refresh_view()
        return self._grad_fn

    @property
    def shape(self) -> tuple[int, ...]:
        """The dimensions, a tuple of ints (PyTorch's ``torch.Size``)."""
        return self._data.shape

    @property
    def ndim(self) -> int:
        """Number of dimensions."""
        return self._data.ndim

    @property
    def dtype(self) -> np.dtype:
        """The numpy dtype of the elements."""
        return self._data.dtype

    @property
    def device(self) -> device:
        """Where the values live: always ``device(type='cpu')`` (dagrad computes with numpy)."""
        return _CPU

    @property
    def is_cuda(self) -> bool:
        """False: dagrad has no GPU."""
        return False

    @property
    def is_leaf(self) -> bool:
        """True for tensors not produced by a recorded op (they keep ``.grad``)."""
        return self.grad_fn is None

    @property
    def is_view(self) -> bool:
        """True for a view: a tensor that shares another one's memory (``x[0]``, ``x.T``, ...)."""
        return self._view is not None

    # the shape and dtype a gradient for this tensor must have (engine check; Function has them too)
    @property
    def _out_shape(self) -> tuple[int, ...]:
        return self._data.shape

    @property
    def _out_dtype(self) -> np.dtype:
        return self._data.dtype

    @property
    def _version(self) -> int:
        """How many in-place changes this tensor (or a view sharing its memory) has had."""
        return self._vc[0]

    @property
    def T(self) -> Tensor:
        """Dimensions reversed (the transpose of a matrix)."""
        return self.permute(tuple(range(self.ndim - 1, -1, -1)))

    @property
    def mT(self) -> Tensor:
        """The last two dimensions swapped (a batch of transposed matrices)."""
        if self._data.ndim < 2:
            raise ValueError(f"mT needs at least 2 dimensions, got shape {self.shape}")
        if not _state.grad_enabled:  # nothing to record: a numpy view sharing our version counter
            return Tensor._make(np.swapaxes(self._data, -1, -2), None, self._vc)
        return ops_shape.Transpose.apply(self, self.ndim - 2, self.ndim - 1)

    def size(self, dim: int | None = None) -> tuple[int, ...] | int:
        """The shape, or the size of one dimension."""
        return self.shape if dim is None else self.shape[dim]

    def dim(self) -> int:
        """Number of dimensions."""
        return self.ndim

    def numel(self) -> int:
        """Number of elements."""
        return int(self._data.size)

    def item(self) -> float | int | bool:
        """The value of a one-element tensor as a Python number."""
        if self._data.size != 1:
            raise ValueError(f"item() needs a tensor with one element, got shape {self.shape}")
        return self._data.item()

    def tolist(self) -> Any:
        """The values as (nested) Python lists."""
        return self._data.tolist()

    def numpy(self) -> np.ndarray:
        """The underlying numpy array (shares memory)."""
        if self.requires_grad:
            raise RuntimeError("Can't call numpy() on a tensor that requires grad; use tensor.detach().numpy()")
        return self._data

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        if dtype is not None and np.dtype(dtype) != self.dtype:
            return self._data.astype(dtype)
        return self._data.copy() if copy else self._data

    def __len__(self) -> int:
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def __iter__(self) -> Iterator[Tensor]:
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self.shape[0]))

    def __bool__(self) -> bool:
        if self._data.size != 1:
            raise RuntimeError(
                f"Boolean value of a tensor with {self._data.size} elements is ambiguous; use .any() or .all()"
            )
        return bool(self._data)

    def __format__(self, spec: str) -> str:
        """A 0-d tensor formats as its number (``f"{loss:.4f}"``), as in PyTorch."""
        if self.ndim == 0:
            return self.item().__format__(spec)
        return object.__format__(self, spec)

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __index__(self) -> int:
        if self.dtype.kind not in "iu" or self._data.size != 1:
            raise TypeError("only integer tensors of a single element can be used as an index")
        return int(self._data)

    __hash__ = object.__hash__  # __eq__ is elementwise, identity stays the hash

    def __repr__(self) -> str:
        body = np.array2string(self._data, separator=", ", precision=4, prefix="tensor(")
        extra = []
        if self._data.size == 0:
            extra.append(f"size={self.shape}")
        if self.dtype not in (_default_float[0], np.int64, np.bool_):
            extra.append(f"dtype=autograd.{self.dtype}")
        if self.grad_fn is not None:
            extra.append(f"grad_fn={self.grad_fn!r}")
        elif self.requires_grad:
            extra.append("requires_grad=True")
        return "tensor(" + ", ".join([body] + extra) + ")"

    # ---------------------------------------------------------------- autograd
    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Start (or stop) recording operations on this leaf tensor, in place.

        On a tensor computed by an op (which requires grad already) ``requires_grad_()`` does
        nothing, as in PyTorch; switching it off there is an error.
        """
        if not self.is_leaf:
            if requires_grad:
                return self
            raise RuntimeError(
                "requires_grad_(False) can only change leaf tensors; this one was produced by "
                f"{self.grad_fn!r}. Use detach() to get a new leaf that does not require grad."
            )
        if requires_grad and self.dtype.kind != "f":
            raise TypeError(
                f"only floating-point tensors can require gradients, got dtype {self.dtype}; "
                "convert first, e.g. x.float() or autograd.tensor(data, dtype=autograd.float32)"
                + (" (dagrad differentiates real numbers only)" if self.dtype.kind == "c" else "")
            )
        self._requires_grad = bool(requires_grad)
        return self

    def detach(self) -> Tensor:
        """A new leaf sharing the same data, cut off from the graph."""
        return Tensor._make(self._data, None, self._vc)

    def retain_grad(self) -> None:
        """Keep ``.grad`` for this non-leaf tensor after backward (leaves always keep it)."""
        if not self.requires_grad:
            raise RuntimeError("can't retain_grad on a tensor that does not require grad")
        if self.grad_fn is not None:
            self.grad_fn._retained = weakref.ref(self)
            self.grad_fn._receives = True

    @property
    def retains_grad(self) -> bool:
        """True when ``retain_grad()`` was called on this non-leaf tensor."""
        return self.grad_fn is not None and self.grad_fn._retained is not None

    def register_hook(self, hook: Callable[[Tensor], Tensor | None]) -> _HookHandle:
        """Call ``hook(grad)`` when this tensor's gradient is computed; it may return a new one."""
        if not self.requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that does not require grad")
        if not callable(hook):
            raise TypeError(f"register_hook needs a function of the gradient, got {type(hook).__name__}")
        owner = self if self.grad_fn is None else self.grad_fn
        if owner._hooks is None:
            owner._hooks = []
            if owner is not self:  # an op's node: the engine must now hand it the gradient
                owner._receives = True
        owner._hooks.append(hook)
        return _HookHandle(owner._hooks, hook)

    def backward(
        self, gradient: Tensor | None = None, retain_graph: bool | None = None, create_graph: bool = False
    ) -> None:
        """Compute the gradient of this tensor with respect to every leaf that requires grad.

        ``gradient`` is dL/d(self) and may be omitted for a one-element tensor (it is 1).
        Leaves accumulate into ``.grad``; call ``zero_()`` or set ``.grad = None`` between steps.
        """
        from autograd.backprop import backward

        backward(self, gradient, retain_graph, create_graph)

    # engine node protocol for a leaf (see autograd/engine.py)
    def _receive(self, grad: Any, accumulate: bool) -> Any:
        if grad.shape != self._data.shape:  # (once a pass: the engine checks built-in ops' edges only on request)
            raise RuntimeError(
                f"the gradient that reached a leaf tensor of shape {tuple(self._data.shape)} has shape "
                f"{tuple(grad.shape)}: was the tensor's .data replaced by one of another shape after the "
                "forward pass? (set autograd.engine.check_every_gradient = True to name the op that made it)"
            )
        if self._hooks:
            from autograd.function import run_hooks

            grad = run_hooks(self._hooks, grad)
        if accumulate:
            self._accumulate(grad)
        return grad

    def _accumulate(self, grad: Any) -> None:
        """Add ``grad`` (a Tensor, or a numpy array from a first-order pass) into ``.grad``.

        One thread at a time: backward passes in several threads into one ``.grad`` lose no
        contribution (as PyTorch)."""
        with _ACCUMULATING:
            current = self._grad
            if _state.grad_enabled and isinstance(grad, Tensor) and grad.requires_grad:
                # create_graph=True: the gradient itself is differentiable, so it is kept as it is
                self._grad = grad if current is None else current + grad
                return
            values = values_of(grad)
            if current is None:  # our own copy: gradients are shared between inputs and read-only views
                self._grad = Tensor._make(workspace.contiguous(values.astype(self.dtype, copy=False)))
            elif current._grad_fn is not None or not current._data.flags.writeable:
                self._grad = Tensor._make(current._data + values)  # never write into a graph's tensor
            else:
                np.add(current._data, values, out=current._data)
                current._vc[0] += 1

    # ---------------------------------------------------------------- in place
    # In-place ops are recorded as PyTorch records them. With nothing to record (no_grad, or no
    # tensor involved requires grad) the new values are simply written into this tensor's memory.
    # Otherwise the op runs out of place on this tensor's history so far, its result is written
    # into the memory, and this tensor's grad_fn becomes the op; written through a view, the
    # base's history gains the write (CopySlices) and each view of the base takes its history
    # from the new base the next time its grad_fn is read. Each write counts in the version
    # counter shared by a base and its views, so a backward that needs the old values fails.

    def _write(self, values: Any) -> Tensor:
        """Store ``values`` into this tensor's memory (same shape, castable dtype); count a version."""
        values = np.asarray(values)
        if values.shape != self.shape:
            raise RuntimeError(
                f"output with shape {list(self.shape)} doesn't match the broadcast shape {list(values.shape)}"
            )
        if not np.can_cast(values.dtype, self.dtype, "same_kind"):
            raise RuntimeError(
                f"result type {values.dtype} can't be cast to the desired output type {self.dtype} "
                "(an in-place op keeps the tensor's dtype; convert first, e.g. x = x.float())"
            )
        data = self._data
        if data.size > 1 and 0 in data.strides and any(n > 1 for n, st in zip(data.shape, data.strides) if st == 0):
            raise RuntimeError(
                "unsupported operation: more than one element of the written-to tensor refers to a single "
                "memory location. Please clone() the tensor before performing the operation."
            )
        if values is not data:
            data[...] = values
        self._vc[0] += 1
        return self

    def _inplace(
        self,
        plain: Callable[[], Any],
        recorded: Callable[..., Tensor],
        others: tuple = (),
        keeps_input: bool = False,
        written: np.ndarray | None = None,
        keeps_output: bool = False,
    ) -> Tensor:
        """Run an in-place op: ``plain()`` gives the new values when nothing is recorded;
        ``recorded(old, *others)`` is the same op out of place on this tensor's history ``old``
        (a copy of the old values when ``keeps_input``, for ops whose backward needs them).
        ``written`` is the memory the op writes (default: all of this tensor's). With
        ``keeps_output`` the op's backward needs the values it wrote (relu_, as PyTorch's saves
        its result), so changing them in place later makes that backward fail."""
        written = self._data if written is None else written
        for o in others:  # reading and writing the same memory in two layouts: refused, as PyTorch
            if isinstance(o, Tensor) and o._data is not written and _partly_shared(o._data, written):
                raise RuntimeError(
                    "unsupported operation: some elements of the input tensor and the written-to tensor refer to a "
                    "single memory location. Please clone() the tensor before performing the operation."
                )
        if not _state.grad_enabled or not (
            self.requires_grad or any(isinstance(o, Tensor) and o.requires_grad for o in others)
        ):
            return self._write(plain())
        view = self._view
        if self.requires_grad and self.grad_fn is None:
            raise RuntimeError(_LEAF_INPLACE.format(what="a leaf Variable that requires grad"))
        if view is not None:
            if view[1] is None:
                raise RuntimeError(
                    "A view was created in no_grad mode and is being modified inplace with grad mode enabled. "
                    "Given that this use case is ambiguous and error-prone, it is forbidden. You can clarify your "
                    "code by moving both the view and the inplace either both inside the no_grad block (if you "
                    "don't want the inplace to be tracked) or both outside (if you want the inplace to be tracked)."
                )
            if view[0].requires_grad and view[0].grad_fn is None:
                raise RuntimeError(_LEAF_INPLACE.format(what="a view of a leaf Variable that requires grad"))
        old = Tensor._make(self._data.copy() if keeps_input else self._data, self.grad_fn)  # (a fresh version)
        old._requires_grad = self.requires_grad
        result = recorded(old, *others)  # (x.mul_(x) saves x itself, which the write then changes: as PyTorch)
        if result.dtype != self.dtype:
            if not np.can_cast(result.dtype, self.dtype, "same_kind"):
                self._write(result._data)  # raises the dtype error
            result = result.to(self.dtype)
        self._write(result._data)
        if keeps_output:
            node = result._grad_fn
            node._versions = [*node._versions, (self._vc, self._vc[0])]
        if view is None:
            self._take_history(result._grad_fn)
        else:  # the base's history gains the write through this view; the view reads the new base
            base = view[0]
            base_old = Tensor._make(base._data, base.grad_fn)
            base_old._requires_grad = base.requires_grad
            written = ops_inplace.CopySlices.apply(base_old, result, view[1])
            base._take_history(written._grad_fn)
            node = self._grad_fn
            self._refresh_view()
            _move_retained(node, self, self._grad_fn)
        return self

    def _take_history(self, node: Any) -> None:
        """Make ``node`` (the op just applied in place) this tensor's grad_fn."""
        _move_retained(self._grad_fn, self, node)
        self._grad_fn = node
        self._requires_grad = node is not None or self._requires_grad

    def _refresh_view(self) -> None:
        """A view's history from its base's current one (the base changed in place since)."""
        base, steps, _ = self._view
        if steps is not None and base.requires_grad:
            enabled, _state.grad_enabled = _state.grad_enabled, True
            try:
                t = base
                for op, args in steps:  # the same view ops again, now on the base's new history
                    t = op.apply(t, *args)
            finally:
                _state.grad_enabled = enabled
            self._grad_fn, self._requires_grad = t._grad_fn, t._requires_grad
        self._view = (base, steps, self._vc[0])

    def add_(self, other: Any, alpha: float = 1) -> Tensor:
        """In-place ``self += alpha * other``."""
        return self._inplace(
            lambda: self._data + alpha * values_of(other), lambda old, o: ops_arith.add(old, o, alpha), (other,)
        )

    def sub_(self, other: Any, alpha: float = 1) -> Tensor:
        """In-place ``self -= alpha * other``."""
        return self._inplace(
            lambda: self._data - alpha * values_of(other), lambda old, o: ops_arith.sub(old, o, alpha), (other,)
        )

    def mul_(self, other: Any) -> Tensor:
        """In-place ``self *= other``."""
        return self._inplace(
            lambda: self._data * values_of(other), lambda old, o: ops_arith.mul(old, o), (other,), keeps_input=True
        )

    def div_(self, other: Any) -> Tensor:
        """In-place ``self /= other``."""
        return self._inplace(
            lambda: self._data / values_of(other), lambda old, o: ops_arith.div(old, o), (other,), keeps_input=True
        )

    def clamp_(self, min: float | None = None, max: float | None = None) -> Tensor:
        """In-place ``clamp``."""
        return self._inplace(
            lambda: ops_pointwise.clamp(Tensor._make(self._data), min, max)._data,
            lambda old: ops_pointwise.clamp(old, min, max),
        )

    def relu_(self) -> Tensor:
        """In-place ``relu``."""
        return self._inplace(lambda: np.maximum(self._data, 0), lambda old: ops_act.relu(old), keeps_output=True)

    def zero_(self) -> Tensor:
        """Fill with zeros in place."""
        return self._inplace(lambda: np.zeros_like(self._data), ops_inplace.zero)

    def fill_(self, value: Any) -> Tensor:
        """Fill with ``value`` (a number or a 0-d tensor) in place."""
        return self._inplace(
            lambda: np.full_like(self._data, values_of(ops_inplace._number(self, value, "fill_"))),
            lambda old, v: ops_inplace.fill(old, v),
            (value,),
        )

    def uniform_(self, a: float = 0.0, b: float = 1.0, *, generator: Any = None) -> Tensor:
        """Fill with samples of U(a, b) in place: PyTorch's numbers for the same seed (``autograd.random``)."""
        return _random.uniform_(self, a, b, generator=generator)

    def normal_(self, mean: float = 0.0, std: float = 1.0, *, generator: Any = None) -> Tensor:
        """Fill with samples of N(mean, std**2) in place: PyTorch's numbers for the same seed."""
        return _random.normal_(self, mean, std, generator=generator)

    def bernoulli_(self, p: float = 0.5, *, generator: Any = None) -> Tensor:
        """Fill with 1 (probability ``p``) or 0 in place: PyTorch's numbers for the same seed."""
        return _random.bernoulli_(self, p, generator=generator)

    def masked_fill_(self, mask: Any, value: Any) -> Tensor:
        """Set the elements where the boolean ``mask`` is true to ``value``, in place."""
        ops_inplace.masked_fill(Tensor._make(self._data), mask, 0)  # (the checks, before anything changes)
        return self._inplace(
            lambda: np.where(values_of(mask), values_of(value), self._data),
            lambda old, v: ops_inplace.masked_fill(old, mask, v),
            (value,),
        )

    def masked_fill(self, mask: Any, value: Any) -> Tensor:
        """A copy with ``value`` where the boolean ``mask`` is true."""
        return ops_inplace.masked_fill(self, mask, value)

    def copy_(self, src: Any) -> Tensor:
        """Copy ``src`` (broadcast to this shape, cast to this dtype) into this tensor in place."""
        ops_inplace.copy(Tensor._make(self._data), src)  # (the checks, before anything changes)
        return self._inplace(
            lambda: np.broadcast_to(np.asarray(values_of(src)), self.shape).astype(self.dtype),
            lambda old, s: ops_inplace.copy(old, s),
            (src,),
        )

    def __setitem__(self, index: Any, value: Any) -> None:
        index = ops_index.normalize_index(index)
        recorded = _state.grad_enabled and (self.requires_grad or (isinstance(value, Tensor) and value.requires_grad))
        if recorded and ops_index.is_basic(index):  # a view: x[0] = v is x[0].copy_(v), as in PyTorch
            ops_index.index(self, index).copy_(value)
            return
        steps = ops_index.split_ints_first(index) if recorded else None
        if steps is not None:  # x[0, [1, 2]] = v: the integers select a view, the arrays write into it
            ops_index.index(self, steps[0])[steps[1]] = value
            return

        def plain() -> np.ndarray:
            steps = ops_index.split_ints_first(index)
            target, where = (self._data, index) if steps is None else (self._data[steps[0]], steps[1])  # (a view)
            target[where] = values_of(value)
            return self._data

        region = self._data[index] if ops_index.is_basic(index) else np.empty(0)  # (what x[index] = v overwrites)
        self._inplace(plain, lambda old, v: ops_inplace.index_put(old, index, v), (value,), written=region)

    def __iadd__(self, other: Any) -> Tensor:
        return self.add_(other)

    def __isub__(self, other: Any) -> Tensor:
        return self.sub_(other)

    def __imul__(self, other: Any) -> Tensor:
        return self.mul_(other)

    def __itruediv__(self, other: Any) -> Tensor:
        return self.div_(other)

    # ---------------------------------------------------------------- operators
    # With nothing to record (inside no_grad, and so inside every backward pass without
    # create_graph) an arithmetic op is just its numpy expression: ``_plain`` returns the
    # other operand as numpy data when that shortcut gives the same result as the op path.
    def _plain(self, other: Any) -> Any:
        if _state.grad_enabled or self._data.dtype.kind != "f":
            return None
        if isinstance(other, Tensor):  # (other dtypes go through lift's promotion rules)
            return other._data if other._data.dtype == self._data.dtype else None
        return other if type(other) in (float, int) else None

    def __add__(self, other: Any) -> Tensor:
        if type(other) is Tensor and other._data.dtype is self._data.dtype and _state.grad_enabled:
            return ops_arith.Add.apply(self, other)  # recorded, and no promotion needed
        o = self._plain(other)
        if o is not None:
            return _wrap(self._data + o)
        return ops_arith.add(self, other)

    def __radd__(self, other: Any) -> Tensor:
        o = self._plain(other)
        return ops_arith.add(other, self) if o is None else _wrap(o + self._data)

    def __sub__(self, other: Any) -> Tensor:
        if type(other) is Tensor and other._data.dtype is self._data.dtype and _state.grad_enabled:
            return ops_arith.Sub.apply(self, other)  # recorded, and no promotion needed
        o = self._plain(other)
        if o is not None:
            return _wrap(self._data - o)
        return ops_arith.sub(self, other)

    def __rsub__(self, other: Any) -> Tensor:
        o = self._plain(other)
        return ops_arith.sub(other, self) if o is None else _wrap(o - self._data)

    def __mul__(self, other: Any) -> Tensor:
        if type(other) is Tensor and other._data.dtype is self._data.dtype and _state.grad_enabled:
            return ops_arith.Mul.apply(self, other)  # recorded, and no promotion needed
        o = self._plain(other)
        if o is not None:
            return _wrap(self._data * o)
        return ops_arith.mul(self, other)

    def __rmul__(self, other: Any) -> Tensor:
        o = self._plain(other)
        return ops_arith.mul(other, self) if o is None else _wrap(o * self._data)

    def __truediv__(self, other: Any) -> Tensor:
        o = self._plain(other)
        return ops_arith.div(self, other) if o is None else _wrap(self._data / o)

    def __rtruediv__(self, other: Any) -> Tensor:
        o = self._plain(other)
        return ops_arith.div(other, self) if o is None else _wrap(o / self._data)

    def __pow__(self, other: Any) -> Tensor:
        return ops_arith.pow(self, other)

    def __rpow__(self, other: Any) -> Tensor:
        return ops_arith.pow(other, self)

    def __neg__(self) -> Tensor:
        return ops_arith.neg(self) if _state.grad_enabled else _wrap(-self._data)

    def __matmul__(self, other: Any) -> Tensor:
        return ops_linalg.MatMul.apply(self, other if isinstance(other, Tensor) else Tensor(other))

    def __rmatmul__(self, other: Any) -> Tensor:
        return ops_linalg.MatMul.apply(Tensor(other), self)

    def __getitem__(self, index: Any) -> Tensor:
        return ops_index.index(self, index)

    # comparisons: boolean tensors, never recorded
    def __eq__(self, other: Any) -> Tensor:  # type: ignore[override]
        return Tensor._make(np.asarray(self._data == values_of(other)))

    def __ne__(self, other: Any) -> Tensor:  # type: ignore[override]
        return Tensor._make(np.asarray(self._data != values_of(other)))

    def __lt__(self, other: Any) -> Tensor:
        return Tensor._make(np.asarray(self._data < values_of(other)))

    def __le__(self, other: Any) -> Tensor:
        return Tensor._make(np.asarray(self._data <= values_of(other)))

    def __gt__(self, other: Any) -> Tensor:
        return Tensor._make(np.asarray(self._data > values_of(other)))

    def __ge__(self, other: Any) -> Tensor:
        return Tensor._make(np.asarray(self._data >= values_of(other)))

    def __invert__(self) -> Tensor:
        if self.dtype != np.bool_:
            raise TypeError(f"~ needs a boolean tensor, got {self.dtype}")
        return Tensor._make(~self._data)

    def __and__(self, other: Any) -> Tensor:
        return Tensor._make(np.asarray(self._data & values_of(other)))

    def __or__(self, other: Any) -> Tensor:
        return Tensor._make(np.asarray(self._data | values_of(other)))

    # ---------------------------------------------------------------- methods
    def add(self, other: Any, alpha: float = 1) -> Tensor:
        """``self + alpha * other``."""
        return ops_arith.add(self, other, alpha)

    def sub(self, other: Any, alpha: float = 1) -> Tensor:
        """``self - alpha * other``."""
        return ops_arith.sub(self, other, alpha)

    def mul(self, other: Any) -> Tensor:
        """``self * other``."""
        return ops_arith.mul(self, other)

    def div(self, other: Any) -> Tensor:
        """``self / other``."""
        return ops_arith.div(self, other)

    def pow(self, exponent: Any) -> Tensor:
        """``self ** exponent``."""
        return ops_arith.pow(self, exponent)

    def neg(self) -> Tensor:
        """``-self``."""
        return ops_arith.neg(self)

    def matmul(self, other: Tensor) -> Tensor:
        """``self @ other``."""
        return self @ other

    def exp(self) -> Tensor:
        """Elementwise e^x."""
        return ops_pointwise.exp(self)

    def log(self) -> Tensor:
        """Elementwise natural logarithm."""
        return ops_pointwise.log(self)

    def sqrt(self) -> Tensor:
        """Elementwise square root."""
        return ops_pointwise.sqrt(self)

    def abs(self) -> Tensor:
        """Elementwise |x|."""
        return ops_pointwise.abs(self)

    __abs__ = abs  # the builtin abs(t)

    def clamp(self, min: float | None = None, max: float | None = None) -> Tensor:
        """Limit values to ``[min, max]``."""
        return ops_pointwise.clamp(self, min, max)

    clip = clamp

    def maximum(self, other: Any) -> Tensor:
        """Elementwise maximum."""
        return ops_pointwise.maximum(self, other)

    def minimum(self, other: Any) -> Tensor:
        """Elementwise minimum."""
        return ops_pointwise.minimum(self, other)

    def sigmoid(self) -> Tensor:
        """Logistic sigmoid."""
        return ops_act.Sigmoid.apply(self)

    def tanh(self) -> Tensor:
        """Hyperbolic tangent."""
        return ops_act.Tanh.apply(self)

    def relu(self) -> Tensor:
        """max(x, 0)."""
        return ops_act.ReLU.apply(self)

    def softmax(self, dim: int) -> Tensor:
        """Softmax along ``dim``."""
        return ops_act.softmax(self, dim)

    def log_softmax(self, dim: int) -> Tensor:
        """Log-softmax along ``dim``."""
        return ops_act.log_softmax(self, dim)

    def sum(self, dim: int | tuple[int, ...] | None = None, keepdim: bool = False, **aliases: Any) -> Tensor:
        """Sum over ``dim`` (all dimensions when None); ``axis=``/``keepdims=`` are accepted too."""
        if aliases:
            dim, keepdim = ops_reduce.reduce_args("sum", dim, keepdim, aliases)
        return ops_reduce.sum(self, dim, keepdim)

    def mean(self, dim: int | tuple[int, ...] | None = None, keepdim: bool = False, **aliases: Any) -> Tensor:
        """Mean over ``dim`` (all dimensions when None); ``axis=``/``keepdims=`` are accepted too."""
        if aliases:
            dim, keepdim = ops_reduce.reduce_args("mean", dim, keepdim, aliases)
        return ops_reduce.mean(self, dim, keepdim)

    def var(
        self,
        dim: int | tuple[int, ...] | None = None,
        unbiased: bool = True,
        keepdim: bool = False,
        *,
        correction: int | None = None,
        **aliases: Any,
    ) -> Tensor:
        """Variance over ``dim``, unbiased by default (``axis=``/``keepdims=`` accepted too)."""
        if aliases:
            dim, keepdim = ops_reduce.reduce_args("var", dim, keepdim, aliases)
        return ops_reduce.var(self, dim, unbiased, keepdim, correction=correction)

    def max(self, dim: int | None = None, keepdim: bool = False, **aliases: Any) -> Any:
        """Largest value, or ``(values, indices)`` along ``dim`` (``axis=``/``keepdims=`` accepted too)."""
        if aliases:
            dim, keepdim = ops_reduce.reduce_args("max", dim, keepdim, aliases)
        return ops_reduce.max(self, dim, keepdim)

    def min(self, dim: int | None = None, keepdim: bool = False, **aliases: Any) -> Any:
        """Smallest value, or ``(values, indices)`` along ``dim`` (``axis=``/``keepdims=`` accepted too)."""
        if aliases:
            dim, keepdim = ops_reduce.reduce_args("min", dim, keepdim, aliases)
        return ops_reduce.min(self, dim, keepdim)

    def argmax(self, dim: int | None = None, keepdim: bool = False, **aliases: Any) -> Tensor:
        """Index of the largest value (flattened when ``dim`` is None) (``axis=``/``keepdims=`` accepted too)."""
        if aliases:
            dim, keepdim = ops_reduce.reduce_args("argmax", dim, keepdim, aliases)
        return ops_reduce.argmax(self, dim, keepdim)

    def argmin(self, dim: int | None = None, keepdim: bool = False, **aliases: Any) -> Tensor:
        """Index of the smallest value (flattened when ``dim`` is None) (``axis=``/``keepdims=`` accepted too)."""
        if aliases:
            dim, keepdim = ops_reduce.reduce_args("argmin", dim, keepdim, aliases)
        return ops_reduce.argmin(self, dim, keepdim)

    def all(self, dim: int | tuple[int, ...] | None = None, keepdim: bool = False, **aliases: Any) -> Tensor:
        """True where every element (over ``dim``) is non-zero (``axis=``/``keepdims=`` accepted too)."""
        if aliases:
            dim, keepdim = ops_reduce.reduce_args("all", dim, keepdim, aliases)
        return ops_reduce.all(self, dim, keepdim)

    def any(self, dim: int | tuple[int, ...] | None = None, keepdim: bool = False, **aliases: Any) -> Tensor:
        """True where some element (over ``dim``) is non-zero (``axis=``/``keepdims=`` accepted too)."""
        if aliases:
            dim, keepdim = ops_reduce.reduce_args("any", dim, keepdim, aliases)
        return ops_reduce.any(self, dim, keepdim)

    def reshape(self, *shape: int) -> Tensor:
        """Same elements, new shape (-1 infers one dimension)."""
        return ops_shape.reshape(self, *shape)

    def view(self, *shape: int) -> Tensor:
        """Same memory, new shape."""
        return ops_shape.view(self, *shape)

    def view_as(self, other: Tensor) -> Tensor:
        """``view`` to another tensor's shape."""
        return ops_shape.view(self, other.shape)

    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> Tensor:
        """Merge dimensions start_dim..end_dim."""
        return ops_shape.flatten(self, start_dim, end_dim)

    def squeeze(self, dim: int | tuple[int, ...] | None = None) -> Tensor:
        """Drop size-1 dimensions."""
        return ops_shape.squeeze(self, dim)

    def unsqueeze(self, dim: int) -> Tensor:
        """Insert a size-1 dimension at ``dim``."""
        return ops_shape.unsqueeze(self, dim)

    def transpose(self, dim0: int, dim1: int) -> Tensor:
        """Swap two dimensions."""
        return ops_shape.transpose(self, dim0, dim1)

    def permute(self, *dims: int) -> Tensor:
        """Reorder all dimensions."""
        return ops_shape.permute(self, *dims)

    def expand(self, *sizes: int) -> Tensor:
        """Broadcast to a larger shape without copying."""
        return ops_shape.expand(self, *sizes)

    def expand_as(self, other: Tensor) -> Tensor:
        """``expand`` to another tensor's shape."""
        return ops_shape.expand(self, other.shape)

    def to(self, *args: Any, **kwargs: Any) -> Tensor:
        """Convert to a dtype (differentiable between float types): ``to(dtype)``, ``to(other)``,
        ``to(device, dtype)``; the device must be ``'cpu'`` (dagrad computes with numpy).
        ``copy=True`` returns a new tensor even when nothing changes."""
        dtype = parse_to(args, kwargs, ".to(...)")
        result = self if dtype is None else ops_shape.to_dtype(self, dtype)
        return result.clone() if kwargs.get("copy") and result is self else result

    def cpu(self) -> Tensor:
        """This tensor: dagrad's tensors always live on the CPU."""
        return self

    def cuda(self, *args: Any, **kwargs: Any) -> Tensor:
        """Refused: dagrad has no GPU device (the error says what to write instead)."""
        check_device("cuda", ".cuda()")
        return self

    def float(self) -> Tensor:
        """Convert to float32."""
        return self.to(np.float32)

    def double(self) -> Tensor:
        """Convert to float64."""
        return self.to(np.float64)

    def long(self) -> Tensor:
        """Convert to int64."""
        return self.to(np.int64)

    def type_as(self, other: Tensor) -> Tensor:
        """Convert to another tensor's dtype."""
        return self.to(other.dtype)

    def clone(self) -> Tensor:
        """A copy with its own memory that stays in the graph (gradient flows through)."""
        return ops_shape.clone(self)

    def contiguous(self) -> Tensor:
        """A tensor with row-major memory (this one, when it already is)."""
        return self if self._data.flags.c_contiguous else self.clone()

    # ------------------------------------------------------------ dtypes
    def half(self) -> Tensor:
        """Convert to float16."""
        return self.to(np.float16)

    def int(self) -> Tensor:
        """Convert to int32 (PyTorch's ``torch.int``)."""
        return self.to(np.int32)

    def bool(self) -> Tensor:
        """Convert to bool (non-zero is True)."""
        return self.to(np.bool_)

    def is_floating_point(self) -> bool:
        """True for float16/float32/float64 tensors."""
        return self.dtype.kind == "f"

    def type(self, dtype: Any = None) -> Any:
        """With no argument, PyTorch's type name (``'torch.FloatTensor'``); else convert to ``dtype``
        (a dtype or such a name)."""
        if dtype is None:
            return "torch." + _TYPE_NAMES[self.dtype.name]
        if isinstance(dtype, str) and dtype.split(".")[-1] in _TYPE_NAMES.values():
            name = dtype.split(".")[-1]
            dtype = next(d for d, n in _TYPE_NAMES.items() if n == name)
        return self.to(dtype)

    # ------------------------------------------------------------ more elementwise math
    def sin(self) -> Tensor:
        """Elementwise sine."""
        return ops_pointwise.sin(self)

    def cos(self) -> Tensor:
        """Elementwise cosine."""
        return ops_pointwise.cos(self)

    def tan(self) -> Tensor:
        """Elementwise tangent."""
        return ops_pointwise.tan(self)

    def asin(self) -> Tensor:
        """Elementwise arcsine."""
        return ops_pointwise.asin(self)

    def acos(self) -> Tensor:
        """Elementwise arccosine."""
        return ops_pointwise.acos(self)

    def atan(self) -> Tensor:
        """Elementwise arctangent."""
        return ops_pointwise.atan(self)

    def atan2(self, other: Any) -> Tensor:
        """Elementwise ``atan2(self, other)``."""
        return ops_pointwise.atan2(self, other)

    def sinh(self) -> Tensor:
        """Elementwise hyperbolic sine."""
        return ops_pointwise.sinh(self)

    def cosh(self) -> Tensor:
        """Elementwise hyperbolic cosine."""
        return ops_pointwise.cosh(self)

    def exp2(self) -> Tensor:
        """Elementwise 2^x."""
        return ops_pointwise.exp2(self)

    def expm1(self) -> Tensor:
        """Elementwise e^x - 1."""
        return ops_pointwise.expm1(self)

    def log2(self) -> Tensor:
        """Elementwise base-2 logarithm."""
        return ops_pointwise.log2(self)

    def log10(self) -> Tensor:
        """Elementwise base-10 logarithm."""
        return ops_pointwise.log10(self)

    def log1p(self) -> Tensor:
        """Elementwise ln(1 + x)."""
        return ops_pointwise.log1p(self)

    def floor(self) -> Tensor:
        """Round down."""
        return ops_pointwise.floor(self)

    def ceil(self) -> Tensor:
        """Round up."""
        return ops_pointwise.ceil(self)

    def round(self, *, decimals: int = 0) -> Tensor:
        """Round half to even, to ``decimals`` places."""
        return ops_pointwise.round(self, decimals=decimals)

    def trunc(self) -> Tensor:
        """Round toward zero."""
        return ops_pointwise.trunc(self)

    def sign(self) -> Tensor:
        """-1, 0 or 1 by sign."""
        return ops_pointwise.sign(self)

    def rsqrt(self) -> Tensor:
        """Elementwise 1 / sqrt(x)."""
        return ops_pointwise.rsqrt(self)

    def square(self) -> Tensor:
        """Elementwise x^2."""
        return ops_pointwise.square(self)

    def reciprocal(self) -> Tensor:
        """Elementwise 1 / x."""
        return ops_pointwise.reciprocal(self)

    def _unary_(self, fn: Callable[[Tensor], Tensor]) -> Tensor:
        """An elementwise op in place: the values of ``fn`` written into this tensor (recorded)."""
        return self._inplace(lambda: fn(Tensor._make(self._data))._data, fn, keeps_input=True)

    def sin_(self) -> Tensor:
        """In-place ``sin``."""
        return self._unary_(ops_pointwise.sin)

    def cos_(self) -> Tensor:
        """In-place ``cos``."""
        return self._unary_(ops_pointwise.cos)

    def exp_(self) -> Tensor:
        """In-place ``exp``."""
        return self._unary_(ops_pointwise.exp)

    def log_(self) -> Tensor:
        """In-place ``log``."""
        return self._unary_(ops_pointwise.log)

    def sqrt_(self) -> Tensor:
        """In-place ``sqrt``."""
        return self._unary_(ops_pointwise.sqrt)

    def abs_(self) -> Tensor:
        """In-place ``abs``."""
        return self._unary_(ops_pointwise.abs)

    def floor_(self) -> Tensor:
        """In-place ``floor``."""
        return self._unary_(ops_pointwise.floor)

    def ceil_(self) -> Tensor:
        """In-place ``ceil``."""
        return self._unary_(ops_pointwise.ceil)

    def round_(self) -> Tensor:
        """In-place ``round``."""
        return self._unary_(ops_pointwise.round)

    def trunc_(self) -> Tensor:
        """In-place ``trunc``."""
        return self._unary_(ops_pointwise.trunc)

    def sign_(self) -> Tensor:
        """In-place ``sign``."""
        return self._unary_(ops_pointwise.sign)

    def square_(self) -> Tensor:
        """In-place ``square``."""
        return self._unary_(ops_pointwise.square)

    def reciprocal_(self) -> Tensor:
        """In-place ``reciprocal``."""
        return self._unary_(ops_pointwise.reciprocal)

    def pow_(self, exponent: Any) -> Tensor:
        """In-place ``self **= exponent``."""
        return self._inplace(
            lambda: ops_arith.pow(Tensor._make(self._data), exponent)._data,
            lambda old, e: ops_arith.pow(old, e),
            (exponent,),
            keeps_input=True,
        )

    # ------------------------------------------------------------ more reductions
    def std(
        self,
        dim: int | tuple[int, ...] | None = None,
        unbiased: bool = True,
        keepdim: bool = False,
        *,
        correction: int | None = None,
        **aliases: Any,
    ) -> Tensor:
        """Standard deviation over ``dim``, unbiased by default (``axis=``/``keepdims=`` accepted too)."""
        if aliases:
            dim, keepdim = ops_reduce.reduce_args("std", dim, keepdim, aliases)
        return ops_reduce.std(self, dim, unbiased, keepdim, correction=correction)

    def prod(self, dim: int | None = None, keepdim: bool = False, *, dtype: Any = None, **aliases: Any) -> Tensor:
        """Product of all elements, or over ``dim`` (``axis=``/``keepdims=`` accepted too)."""
        if aliases:
            dim, keepdim = ops_reduce.reduce_args("prod", dim, keepdim, aliases)
        return ops_reduce.prod(self, dim, keepdim, dtype=dtype)

    def cumsum(self, dim: int, *, dtype: Any = None) -> Tensor:
        """Running sum along ``dim``."""
        return ops_reduce.cumsum(self, dim, dtype=dtype)

    def norm(self, p: float | str = "fro", dim: int | tuple[int, ...] | None = None, keepdim: bool = False) -> Tensor:
        """The vector p-norm over ``dim`` (2 by default)."""
        return ops_reduce.norm(self, p, dim, keepdim)

    def sort(self, dim: int = -1, descending: bool = False, stable: bool = False) -> Any:
        """``(values, indices)`` sorted along ``dim``."""
        return ops_reduce.sort(self, dim, descending, stable)

    def argsort(self, dim: int = -1, descending: bool = False, stable: bool = False) -> Tensor:
        """The indices that sort along ``dim``."""
        return ops_reduce.argsort(self, dim, descending, stable)

    def topk(self, k: int, dim: int = -1, largest: bool = True, sorted: bool = True) -> Any:
        """``(values, indices)`` of the k largest (or smallest) along ``dim``."""
        return ops_reduce.topk(self, k, dim, largest, sorted)

    def count_nonzero(self, dim: int | tuple[int, ...] | None = None) -> Tensor:
        """How many elements are non-zero."""
        return ops_reduce.count_nonzero(self, dim)

    def isnan(self) -> Tensor:
        """True where NaN."""
        return ops_reduce.isnan(self)

    def isinf(self) -> Tensor:
        """True where +-inf."""
        return ops_reduce.isinf(self)

    def isfinite(self) -> Tensor:
        """True where finite."""
        return ops_reduce.isfinite(self)

    def allclose(self, other: Tensor, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False) -> bool:
        """True when all elements are close to ``other``'s."""
        return ops_reduce.allclose(self, other, rtol, atol, equal_nan)

    def isclose(self, other: Tensor, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False) -> Tensor:
        """True where close to ``other``."""
        return ops_reduce.isclose(self, other, rtol, atol, equal_nan)

    def equal(self, other: Tensor) -> bool:
        """True when the same shape and values."""
        return ops_reduce.equal(self, other)

    # ------------------------------------------------------------ more shape ops
    def t(self) -> Tensor:
        """The transpose of a matrix (a vector or 0-d tensor as it is)."""
        if self.ndim > 2:
            raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {self.ndim}D")
        return ops_shape.transpose(self, 0, -1) if self.ndim == 2 else ops_shape.Reshape.apply(self, self.shape)

    def mm(self, other: Tensor) -> Tensor:
        """Matrix product of two matrices."""
        return ops_linalg.mm(self, other)

    def bmm(self, other: Tensor) -> Tensor:
        """Batched matrix product."""
        return ops_linalg.bmm(self, other)

    def nelement(self) -> int:
        """Number of elements (``numel``)."""
        return self.numel()

    def flip(self, *dims: Any) -> Tensor:
        """Reverse along ``dims``."""
        return ops_shape.flip(self, dims[0] if len(dims) == 1 else dims)

    def roll(self, shifts: Any, dims: Any = None) -> Tensor:
        """Shift with wrap-around along ``dims``."""
        return ops_shape.roll(self, shifts, dims)

    def tril(self, diagonal: int = 0) -> Tensor:
        """Lower triangle."""
        return ops_shape.tril(self, diagonal)

    def triu(self, diagonal: int = 0) -> Tensor:
        """Upper triangle."""
        return ops_shape.triu(self, diagonal)

    def gather(self, dim: int, index: Tensor) -> Tensor:
        """Pick along ``dim`` at ``index``."""
        return ops_index.gather(self, dim, index)

    def scatter_add(self, dim: int, index: Tensor, src: Tensor) -> Tensor:
        """A copy with ``src`` added at ``index`` along ``dim``."""
        return ops_index.scatter_add(self, dim, index, src)

    def index_select(self, dim: int, index: Tensor) -> Tensor:
        """The slices at ``index`` along ``dim``."""
        return ops_index.index_select(self, dim, index)

    def masked_select(self, mask: Tensor) -> Tensor:
        """The elements where the bool ``mask`` is True, as a vector."""
        return ops_index.masked_select(self, mask)

    def nonzero(self, *, as_tuple: bool = False) -> Any:
        """The positions of the non-zero elements (int64, a row each)."""
        return ops_index.nonzero(self, as_tuple=as_tuple)

    def amax(self, dim: int | tuple[int, ...] = (), keepdim: bool = False) -> Tensor:
        """Largest value over ``dim`` (all dimensions by default); values only."""
        return ops_reduce.amax(self, dim, keepdim)

    def amin(self, dim: int | tuple[int, ...] = (), keepdim: bool = False) -> Tensor:
        """Smallest value over ``dim`` (all dimensions by default); values only."""
        return ops_reduce.amin(self, dim, keepdim)

    def logsumexp(self, dim: int | tuple[int, ...], keepdim: bool = False) -> Tensor:
        """log(sum(exp(x))) over ``dim``, without overflow."""
        return ops_reduce.logsumexp(self, dim, keepdim)

    def outer(self, vec2: Tensor) -> Tensor:
        """The outer product with another vector."""
        return ops_linalg.outer(self, vec2)

    def dot(self, other: Tensor) -> Tensor:
        """The inner product with another vector."""
        return ops_linalg.dot(self, other)

    def diag(self, diagonal: int = 0) -> Tensor:
        """A matrix's diagonal as a vector, or a vector as a diagonal matrix."""
        return ops_shape.diag(self, diagonal)

    def broadcast_to(self, size: Sequence[int]) -> Tensor:
        """Broadcast to ``size`` without copying (as ``expand``)."""
        return ops_shape.broadcast_to(self, size)

    def repeat_interleave(self, repeats: int | Tensor, dim: int | None = None) -> Tensor:
        """Each element (or slice along ``dim``) repeated in place: [a, b] -> [a, a, b, b]."""
        return ops_shape.repeat_interleave(self, repeats, dim)

    def unique(
        self, sorted: bool = True, return_inverse: bool = False, return_counts: bool = False, dim: int | None = None
    ) -> Any:
        """The distinct elements in ascending order (and where each went, and how often)."""
        return ops_reduce.unique(self, sorted, return_inverse, return_counts, dim)

    def bincount(self, weights: Tensor | None = None, minlength: int = 0) -> Tensor:
        """How often each value 0..max occurs (or the sum of its weights)."""
        return ops_reduce.bincount(self, weights, minlength)

    def repeat(self, *sizes: int) -> Tensor:
        """Tile along every dimension."""
        return ops_shape.repeat(self, *sizes)

    def tile(self, *dims: Any) -> Tensor:
        """Tile (a shorter ``dims`` repeats the last dimensions)."""
        return ops_shape.tile(self, dims[0] if len(dims) == 1 and isinstance(dims[0], (tuple, list)) else dims)

    def chunk(self, chunks: int, dim: int = 0) -> tuple[Tensor, ...]:
        """Split into ``chunks`` pieces."""
        return ops_shape.chunk(self, chunks, dim)

    def split(self, split_size: Any, dim: int = 0) -> tuple[Tensor, ...]:
        """Split into pieces of ``split_size`` (or the listed sizes)."""
        return ops_shape.split(self, split_size, dim)

    def unbind(self, dim: int = 0) -> tuple[Tensor, ...]:
        """The slices along ``dim``."""
        return ops_shape.unbind(self, dim)

    def narrow(self, dim: int, start: int, length: int) -> Tensor:
        """The slice ``start:start+length`` along ``dim``."""
        return ops_shape.narrow(self, dim, start, length)


_TYPE_NAMES = {
    "float32": "FloatTensor",
    "float64": "DoubleTensor",
    "float16": "HalfTensor",
    "int64": "LongTensor",
    "int32": "IntTensor",
    "int16": "ShortTensor",
    "int8": "CharTensor",
    "uint8": "ByteTensor",
    "bool": "BoolTensor",
}


def _wrap(result: Any) -> Tensor:
    """A numpy result as a Tensor (numpy turns 0-d results into scalars; undo that)."""
    return Tensor._make(result if type(result) is np.ndarray else np.asarray(result))


_ACCUMULATING = threading.Lock()  # Tensor._accumulate: one .grad update at a time

_LEAF_INPLACE = (
    "{what} is being used in an in-place operation. Change it under `with autograd.no_grad():` "
    "(as an optimizer step does), through its .data, or work on a copy (x = x + y, x.clone())."
)


def _move_retained(old: Any, tensor: Tensor, new: Any) -> None:
    """retain_grad() follows a tensor to its new history when it is changed in place (as PyTorch)."""
    retained = getattr(old, "_retained", None)
    if new is None or old is new or retained is None or retained() is not tensor:
        return
    old._retained = None
    new._retained, new._receives = weakref.ref(tensor), True


def _partly_shared(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether two arrays overlap in memory other than as the same elements in the same layout."""
    if not np.may_share_memory(a, b):
        return False
    same = a.shape == b.shape and a.strides == b.strides
    same = same and a.__array_interface__["data"][0] == b.__array_interface__["data"][0]
    return not same and np.shares_memory(a, b, max_work=10**6)


def values_of(value: Any) -> Any:
    """A Tensor's numpy values (its own array, not a copy); anything else as it is (a Python
    number stays a number, so numpy's promotion treats it as PyTorch treats a scalar)."""
    return value._data if isinstance(value, Tensor) else value


def as_array(value: Any) -> np.ndarray:
    """A Tensor's numpy values (not a copy), or anything else through ``np.asarray``."""
    return value._data if isinstance(value, Tensor) else np.asarray(value)


# ------------------------------------------------------------------ factories
# (the random factories, rand, randn, randint, ..., live in autograd/random.py and are imported below)


def _on_cpu(device: Any) -> None:
    """A factory's ``device=``: the CPU (None, 'cpu', device('cpu')) or a clear error."""
    if device is not None:
        check_device(device, "device=")


def _factory(data: np.ndarray, dtype: Any, requires_grad: bool) -> Tensor:
    t = Tensor._make(data if dtype is None else data.astype(as_dtype(dtype), copy=False))
    return t.requires_grad_(True) if requires_grad else t


def tensor(data: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """Make a leaf tensor from (nested) lists, numbers or a numpy array (copied).

    Python floats become float32 (PyTorch's default), numpy float64 stays float64, ints int64.
    """
    _on_cpu(device)
    return Tensor(data, requires_grad=requires_grad, dtype=dtype)


def from_numpy(ndarray: np.ndarray) -> Tensor:
    """A tensor that shares ``ndarray``'s memory, and its dtype (float64 stays float64): writing
    into either shows in the other, as ``torch.from_numpy``. ``tensor(a)`` copies instead."""
    if not isinstance(ndarray, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {_type_name(ndarray)})")
    if ndarray.dtype.kind not in "biuf" or ndarray.dtype.itemsize > 8:
        raise TypeError(
            f"can't convert np.ndarray of type numpy.{ndarray.dtype.type.__name__}. The only supported types are: "
            "float64, float32, float16, int64, int32, int16, int8, uint64, uint32, uint16, uint8, and bool."
        )
    if not ndarray.dtype.isnative:
        raise ValueError(
            "given numpy array has byte order different from the native byte order. "
            "Conversion between byte orders is currently not supported."
        )
    if any(stride < 0 for stride in ndarray.strides):
        raise ValueError(
            "At least one stride in the given numpy array is negative, and tensors with negative strides are "
            "not currently supported. (You can probably work around this by making a copy of your array "
            "with array.copy().)"
        )
    if not ndarray.flags.writeable:
        warnings.warn(
            "The given NumPy array is not writable: the tensor shares its memory, so in-place operations on "
            "the tensor will fail. Copy the array (or make it writable) before converting it to a tensor.",
            UserWarning,
            stacklevel=2,
        )
    return Tensor._make(ndarray)


def as_tensor(data: Any, dtype: Any = None, device: Any = None) -> Tensor:
    """``data`` as a tensor, copying only when it must: a Tensor of the wanted dtype is returned
    as it is, and a numpy array of the wanted dtype shares its memory (``from_numpy``); anything
    else is converted as ``tensor(data, dtype)`` does (a Tensor through ``.to(dtype)``, so its
    graph is kept)."""
    _on_cpu(device)
    wanted = None if dtype is None else as_dtype(dtype)
    if isinstance(data, Tensor):
        return data if wanted is None or wanted == data.dtype else data.to(wanted)
    if isinstance(data, np.ndarray) and (wanted is None or wanted == data.dtype):
        return from_numpy(data)
    return Tensor(data, dtype=dtype)


def is_tensor(obj: Any) -> bool:
    """Whether ``obj`` is a Tensor."""
    return isinstance(obj, Tensor)


def numel(input: Tensor) -> int:
    """The number of elements of ``input``."""
    if not isinstance(input, Tensor):
        raise TypeError(f"numel(): argument 'input' (position 1) must be Tensor, not {_type_name(input)}")
    return input.numel()


def _type_name(value: Any) -> str:
    """A value's type as PyTorch's messages name it (``list``, ``numpy.float64``)."""
    kind = type(value)
    return f"numpy.{kind.__name__}" if kind.__module__ == "numpy" else kind.__name__


def zeros(*size: int, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor of zeros (float32 by default)."""
    _on_cpu(device)
    return _factory(np.zeros(_size(size), _default_float[0]), dtype, requires_grad)


def ones(*size: int, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor of ones (float32 by default)."""
    _on_cpu(device)
    return _factory(np.ones(_size(size), _default_float[0]), dtype, requires_grad)


def full(
    size: Sequence[int], fill_value: float, dtype: Any = None, device: Any = None, requires_grad: bool = False
) -> Tensor:
    """A tensor filled with ``fill_value`` (its dtype follows the value, as PyTorch)."""
    _on_cpu(device)
    value = _to_array(fill_value)
    if value.ndim != 0:
        raise ValueError(f"full() needs one number as fill_value, got shape {value.shape}")
    return _factory(np.full(_size((size,)), value), dtype, requires_grad)


def eye(n: int, m: int | None = None, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """The identity matrix, n x m."""
    _on_cpu(device)
    return _factory(np.eye(n, m, dtype=_default_float[0]), dtype, requires_grad)


def arange(
    start: float,
    end: float | None = None,
    step: float = 1,
    dtype: Any = None,
    device: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    """Values from ``start`` to ``end`` (exclusive) by ``step``; int64 for integer arguments."""
    _on_cpu(device)
    if end is None:
        start, end = 0, start
    data = np.arange(start, end, step)
    if data.dtype == np.float64:
        data = data.astype(_default_float[0])
    return _factory(data, dtype, requires_grad)


def linspace(
    start: float, end: float, steps: int, *, dtype: Any = None, device: Any = None, requires_grad: bool = False
) -> Tensor:
    """``steps`` evenly spaced values from ``start`` to ``end`` (both included)."""
    _on_cpu(device)
    if not isinstance(steps, (int, np.integer)) or steps < 0:
        raise RuntimeError(f"linspace(): number of steps must be non-negative, got {steps}")
    data = np.linspace(values_of(start), values_of(end), int(steps))
    return _factory(data.astype(_default_float[0]), dtype, requires_grad)


def logspace(
    start: float,
    end: float,
    steps: int,
    base: float = 10.0,
    *,
    dtype: Any = None,
    device: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    """``steps`` values from ``base**start`` to ``base**end``, evenly spaced in the exponent."""
    _on_cpu(device)
    if not isinstance(steps, (int, np.integer)) or steps < 0:
        raise RuntimeError(f"logspace(): number of steps must be non-negative, got {steps}")
    data = np.power(float(base), np.linspace(values_of(start), values_of(end), int(steps)))
    return _factory(data.astype(_default_float[0]), dtype, requires_grad)


def empty(*size: int, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor whose values are whatever the memory held (fill it before reading), as PyTorch."""
    _on_cpu(device)
    return _factory(np.empty(_size(size), _default_float[0]), dtype, requires_grad)


def zeros_like(t: Tensor, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """Zeros with ``t``'s shape and dtype."""
    _on_cpu(device)
    return zeros(t.shape, dtype=dtype or t.dtype, requires_grad=requires_grad)


def ones_like(t: Tensor, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """Ones with ``t``'s shape and dtype."""
    _on_cpu(device)
    return ones(t.shape, dtype=dtype or t.dtype, requires_grad=requires_grad)


def full_like(
    t: Tensor, fill_value: float, dtype: Any = None, device: Any = None, requires_grad: bool = False
) -> Tensor:
    """``fill_value`` everywhere, with ``t``'s shape and dtype."""
    _on_cpu(device)
    return full(t.shape, fill_value, dtype=dtype or t.dtype, requires_grad=requires_grad)


def _size(size: tuple) -> tuple[int, ...]:
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    if any(not isinstance(n, (int, np.integer)) or n < 0 for n in size):
        raise ValueError(f"sizes must be non-negative ints, got {size}")
    return tuple(int(n) for n in size)


# The op modules import Tensor from here, so they are imported after the class exists.
from autograd import random as _random  # noqa: E402
from autograd.ops import activation as ops_act  # noqa: E402
from autograd.ops import arithmetic as ops_arith  # noqa: E402
from autograd.ops import indexing as ops_index  # noqa: E402
from autograd.ops import inplace as ops_inplace  # noqa: E402
from autograd.ops import linalg as ops_linalg  # noqa: E402
from autograd.ops import pointwise as ops_pointwise  # noqa: E402
from autograd.ops import reduce as ops_reduce  # noqa: E402
from autograd.ops import shape as ops_shape  # noqa: E402
from autograd.random import (  # noqa: E402, F401  (the random factories, PyTorch's numbers for the same seed)
    Generator,
    default_generator,
    manual_seed,
    rand,
    rand_like,
    randint,
    randn,
    randn_like,
)
