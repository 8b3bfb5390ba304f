"""``autograd.backends.mps``: Apple's GPU backend, which dagrad does not have."""

__all__ = ["is_available", "is_built"]


def is_available() -> bool:
    """False: dagrad computes with numpy on the CPU."""
    return False


def is_built() -> bool:
    """False: dagrad is not built with the MPS backend."""
    return False
