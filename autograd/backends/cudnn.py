"""``autograd.backends.cudnn``: NVIDIA's cuDNN switches, which dagrad accepts and does not need.

PyTorch programs set ``cudnn.deterministic = True`` and ``cudnn.benchmark = False`` to make GPU
runs repeat; dagrad's numpy kernels always repeat, so these flags are stored and change nothing.
"""

from __future__ import annotations

__all__ = ["benchmark", "deterministic", "enabled", "is_available", "version"]

enabled = True  # PyTorch's default (cuDNN would be used if present)
deterministic = False  # PyTorch's default
benchmark = False  # PyTorch's default


def is_available() -> bool:
    """False: dagrad has no cuDNN."""
    return False


def version() -> None:
    """None: dagrad has no cuDNN."""
    return None
