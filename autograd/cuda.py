"""``autograd.cuda``: what PyTorch's ``torch.cuda`` answers on a machine without a GPU.

dagrad computes with numpy on the CPU, so a ported program's usual checks take the CPU branch::

    device = "cuda" if autograd.cuda.is_available() else "cpu"   # -> "cpu"

Seeding functions do nothing (as PyTorch's do where there is no GPU); functions that need a GPU
raise the error ``.cuda()`` gives.
"""

from __future__ import annotations

from typing import NoReturn

from autograd.tensor import check_device

__all__ = [
    "current_device",
    "device_count",
    "empty_cache",
    "get_device_name",
    "is_available",
    "manual_seed",
    "manual_seed_all",
    "synchronize",
]


def is_available() -> bool:
    """False: dagrad has no GPU."""
    return False


def device_count() -> int:
    """0: dagrad has no GPU."""
    return 0


def manual_seed(seed: int) -> None:
    """Does nothing: there is no GPU generator to seed (PyTorch ignores it without a GPU too).
    Seed the CPU with ``autograd.manual_seed``."""


def manual_seed_all(seed: int) -> None:
    """Does nothing: there are no GPU generators to seed (PyTorch ignores it without a GPU too)."""


def empty_cache() -> None:
    """Does nothing: there is no GPU memory to release (PyTorch's also does nothing without a GPU)."""


def _no_gpu(call: str) -> NoReturn:
    check_device("cuda", call)  # raises: "dagrad computes with numpy on the CPU only ..."
    raise AssertionError("unreachable")  # pragma: no cover


def current_device() -> int:
    """Refused: there is no GPU (the error says what to write instead)."""
    _no_gpu("autograd.cuda.current_device()")


def get_device_name(device: object = None) -> str:
    """Refused: there is no GPU (the error says what to write instead)."""
    _no_gpu("autograd.cuda.get_device_name()")


def synchronize(device: object = None) -> None:
    """Refused: there is no GPU (the error says what to write instead)."""
    _no_gpu("autograd.cuda.synchronize()")
