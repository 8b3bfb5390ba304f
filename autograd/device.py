"""``autograd.device``: PyTorch's device objects, for code that names where tensors live.

dagrad computes with numpy on the CPU, so ``device('cpu')`` is the only device tensors can be
on. Other devices can be named (``device('cuda')`` is a valid object, so a PyTorch program's
``device = torch.device('cuda' if torch.cuda.is_available() else 'cpu')`` runs), but moving a
tensor or a model to one raises an error that says to use the CPU.
"""

from __future__ import annotations

from typing import Any

__all__ = ["DEVICE_TYPES", "device"]

# The device types PyTorch knows, in the order its error message lists them.
DEVICE_TYPES = (
    "cpu", "cuda", "ipu", "xpu", "mkldnn", "opengl", "opencl", "ideep", "hip", "ve", "fpga", "maia", "xla",
    "lazy", "vulkan", "mps", "meta", "hpu", "mtia", "privateuseone",
)  # fmt: skip


def _parse(name: str) -> tuple[str, int | None]:
    """``'cuda:1'`` -> ``('cuda', 1)``, ``'cpu'`` -> ``('cpu', None)``, in PyTorch's error words."""
    kind, colon, number = name.partition(":")
    if kind not in DEVICE_TYPES:
        raise RuntimeError(f"Expected one of {', '.join(DEVICE_TYPES)} device type at start of device string: {name}")
    if not colon:
        return kind, None
    if not number.isdigit() or (len(number) > 1 and number[0] == "0"):
        raise RuntimeError(f"Invalid device string: '{name}'")
    return kind, int(number)


class device:  # noqa: N801  (PyTorch's name: torch.device)
    """A device: a ``type`` (``'cpu'``, ``'cuda'``, ...) and an optional ``index``.

    ``device('cpu')``, ``device('cuda:1')``, ``device('cuda', 1)`` or ``device(other_device)``.
    ``str()`` is PyTorch's (``'cpu'``, ``'cuda:1'``), and so is ``repr()``
    (``device(type='cuda', index=1)``). Two devices are equal when type and index are; a device
    never equals a string (as in PyTorch: compare ``d.type == 'cpu'``).

    >>> device('cpu')
    device(type='cpu')
    >>> str(device('cuda', 0))
    'cuda:0'
    """

    __slots__ = ("_type", "_index")

    def __init__(self, type: str | device, index: int | None = None) -> None:  # noqa: A002  (PyTorch's name)
        if isinstance(type, device):
            if index is not None:
                raise RuntimeError("device(): pass a device or a type and index, not a device and an index")
            self._type, self._index = type.type, type.index
            return
        if isinstance(type, int):  # (bools too)
            raise RuntimeError(
                "Cannot access accelerator device when none is available. "
                "(a bare number names a GPU; dagrad computes on the CPU: use device('cpu'))"
            )
        if not isinstance(type, str):
            raise TypeError(f"device() received an invalid combination of arguments: type is a {_name(type)}")
        kind, parsed = _parse(type)
        if index is not None:
            if parsed is not None:
                raise RuntimeError(
                    f"type (string) must not include an index because index was passed explicitly: {type}"
                )
            if isinstance(index, bool) or not isinstance(index, int):
                raise TypeError(f"device(): index must be an int, got {_name(index)}")
            if index < 0:
                raise RuntimeError("Device index must not be negative")
            parsed = index
        self._type, self._index = kind, parsed

    @property
    def type(self) -> str:
        """The device type: ``'cpu'``, ``'cuda'``, ``'mps'``, ..."""
        return self._type

    @property
    def index(self) -> int | None:
        """The device number, or None when none was given."""
        return self._index

    def __str__(self) -> str:
        return self._type if self._index is None else f"{self._type}:{self._index}"

    def __repr__(self) -> str:
        if self._index is None:
            return f"device(type='{self._type}')"
        return f"device(type='{self._type}', index={self._index})"

    def __eq__(self, other: Any) -> bool:
        if not isinstance(other, device):
            return NotImplemented
        return (self._type, self._index) == (other._type, other._index)

    def __hash__(self) -> int:
        return hash((self._type, self._index))

    def __reduce__(self) -> tuple:
        return (device, (str(self),))


def _name(value: Any) -> str:
    return type(value).__name__
